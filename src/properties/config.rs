//! The config file: any text is read or rejected with a message naming the file (and the key,
//! for a bad value); what is read writes back and reads the same.

use proptest::prelude::*;

use super::{cases, tricky_string};
use crate::config::{parse_gitlab_url, Config};
use crate::fuzzing::{config_text, ORIGIN};

const SECTIONS: &[&str] = &[
    "",
    "harvest",
    "network",
    "interview",
    "team",
    "periods",
    "classify",
    "classify.weights",
    "report",
    "email",
    "curation",
    "nope",
    "harvest.more",
    "email.extra",
];

const KEYS: &[&str] = &[
    "gitlab_url",
    "token_command",
    "concurrency",
    "page_size",
    "epic_groups",
    "oncall_projects",
    "incident_projects",
    "labels",
    "projects",
    "timeout_secs",
    "max_retries",
    "retry_base_ms",
    "max_retry_wait_secs",
    "ca_cert",
    "exclude",
    "fiscal_year_start_month",
    "framework",
    "rules",
    "extra_rules",
    "disable",
    "weights",
    "templates_dir",
    "host",
    "port",
    "security",
    "username",
    "from",
    "subject",
    "attach",
    "ca_file",
    "file",
    "unknown",
    "\"quoted key\"",
    "a.b",
];

/// A TOML string literal holding `text`, escaped as TOML wants.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// A TOML value, or something that nearly is one.
fn value() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-2i64..200).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        Just("nan".to_string()),
        Just("-inf".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        tricky_string(16).prop_map(|s| quoted(&s)),
        prop::sample::select(vec![
            "\"https://gitlab.example.com\"",
            "\"http://127.0.0.1:1/x\"",
            "\"gitlab-com/gl-infra\"",
            "\"starttls\"",
            "\"smtp.example.com\"",
            "1979-05-27T07:32:00Z",
            "1979-05-27",
        ])
        .prop_map(str::to_string),
        "'[^'\n]{0,12}'",
        "\"[^\"\n]{0,12}",
    ];
    let scalar = scalar.boxed();
    prop_oneof![
        6 => scalar.clone(),
        2 => prop::collection::vec(scalar.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
        1 => prop::collection::vec(("[a-z_]{1,8}", scalar), 0..3).prop_map(|kv| {
            let inner: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k} = {v}")).collect();
            format!("{{ {} }}", inner.join(", "))
        }),
        1 => "[^\n]{0,10}",
    ]
}

/// One line of a config file.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => prop::sample::select(SECTIONS).prop_map(|s| format!("[{s}]")),
        1 => prop::sample::select(SECTIONS).prop_map(|s| format!("[[{s}]]")),
        8 => (prop::sample::select(KEYS), value()).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => "#[^\n]{0,10}",
        1 => "[^\n]{0,16}",
        1 => Just(String::new()),
    ]
}

fn toml_ish() -> impl Strategy<Value = String> {
    prop::collection::vec(line(), 0..14).prop_map(|lines| lines.join("\n"))
}

/// A namespace path, valid or not.
fn full_path() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9._-]{0,6}(/[a-z0-9._-]{1,6}){0,2}",
        1 => tricky_string(10),
        1 => Just("https://gitlab.com/a/b".to_string()),
        1 => Just("/a".to_string()),
    ]
}

prop_compose! {
    /// A config as the structs hold it, its values in and out of range.
    fn structured()(
        gitlab_url in prop_oneof![
            Just("https://gitlab.example.com".to_string()),
            Just("http://localhost:8080/gitlab".to_string()),
            Just("ftp://x".to_string()),
            Just("https://user:pw@x".to_string()),
            Just("https://x/?q=1".to_string()),
            tricky_string(12),
        ],
        token_command in prop::option::of(prop_oneof![Just(" ".to_string()), tricky_string(8)]),
        concurrency in 0usize..80,
        page_size in 0u32..130,
        epic_groups in prop::collection::vec(full_path(), 0..3),
        oncall_projects in prop::collection::vec(full_path(), 0..2),
        interview_projects in prop::collection::vec(full_path(), 0..2),
        timeout_secs in 0u64..4,
        max_retries in any::<u32>(),
        fiscal_year_start_month in 0u32..15,
        disable in prop::collection::vec(tricky_string(6), 0..2),
        weights in prop::collection::btree_map(tricky_string(6), -1.0f64..2.0, 0..3),
    ) -> Config {
        let mut c = Config {
            gitlab_url,
            token_command,
            ..Config::default()
        };
        c.harvest.concurrency = concurrency;
        c.harvest.page_size = page_size;
        c.harvest.epic_groups = epic_groups;
        c.harvest.oncall_projects = oncall_projects;
        c.interview.projects = interview_projects;
        c.network.timeout_secs = timeout_secs;
        c.network.max_retries = max_retries;
        c.periods.fiscal_year_start_month = fiscal_year_start_month;
        c.classify.disable = disable;
        c.classify.weights = weights;
        c
    }
}

/// The key validation must name, in the order it checks them; `None` for a valid config.
fn first_bad_key(c: &Config) -> Option<&'static str> {
    let path_ok = |p: &String| {
        !p.is_empty()
            && p.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
            })
    };
    if parse_gitlab_url(&c.gitlab_url).is_err() {
        Some("gitlab_url")
    } else if !(1..=64).contains(&c.harvest.concurrency) {
        Some("harvest.concurrency")
    } else if !(1..=100).contains(&c.harvest.page_size) {
        Some("harvest.page_size")
    } else if !c.harvest.epic_groups.iter().all(path_ok) {
        Some("harvest.epic_groups")
    } else if !c.harvest.oncall_projects.iter().all(path_ok) {
        Some("harvest.oncall_projects")
    } else if !c.interview.projects.iter().all(path_ok) {
        Some("interview.projects")
    } else if c.network.timeout_secs == 0 {
        Some("network.timeout_secs")
    } else if !(1..=12).contains(&c.periods.fiscal_year_start_month) {
        Some("periods.fiscal_year_start_month")
    } else if c
        .token_command
        .as_deref()
        .is_some_and(|t| t.trim().is_empty())
    {
        Some("token_command")
    } else {
        None
    }
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn toml_ish_text_is_read_or_explained(text in toml_ish()) {
        config_text(&text);
    }

    #[test]
    fn any_text_is_read_or_explained(text in any::<String>()) {
        config_text(&text);
    }

    #[test]
    fn any_bytes_are_read_or_explained(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        config_text(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn structured_configs_are_accepted_or_the_bad_key_is_named(config in structured()) {
        let text = toml::to_string(&config).unwrap();
        match (Config::parse(&text, ORIGIN), first_bad_key(&config)) {
            (Ok(read), None) => prop_assert_eq!(
                toml::to_string(&read).unwrap(),
                text,
                "read back differently"
            ),
            (Err(e), Some(key)) => {
                let message = e.to_string();
                prop_assert!(message.contains(&format!("`{key}`")), "expected {} named: {}", key, message);
                prop_assert!(message.contains(ORIGIN), "{}", message);
            }
            (Ok(_), Some(key)) => prop_assert!(false, "accepted a bad {}:\n{}", key, text),
            (Err(e), None) => prop_assert!(false, "rejected a valid config: {}\n{}", e, text),
        }
    }
}
