//! The rest of the pipeline: `classify` and `report` offline on a harvested snapshot, the
//! one-shot `brag`, the bundled `demo`, `framework`, `init` and `--help`.

use serde_json::Value;

use crate::fake_gitlab::{FakeGitlab, Faults};
use crate::scenario::{self, *};
use crate::support::*;

/// Every competency id of the default framework, in DESIGN.md's numbering.
fn all_competency_ids() -> Vec<String> {
    [
        ("accountability", 6),
        ("credibility", 6),
        ("autonomy", 6),
        ("team-building", 8),
        ("leadership", 8),
        ("technical", 7),
    ]
    .iter()
    .flat_map(|(area, n)| (1..=*n).map(move |i| format!("{area}-{i}")))
    .collect()
}

/// Any object anywhere in `value` with a non-empty `competencies` array.
fn has_competencies(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            map.get("competencies")
                .and_then(Value::as_array)
                .is_some_and(|c| !c.is_empty())
                || map.values().any(has_competencies)
        }
        Value::Array(items) => items.iter().any(has_competencies),
        _ => false,
    }
}

#[test]
fn classify_and_report_work_offline() {
    let env = TestEnv::new();
    let snapshot = env.path("snapshot.json");
    let web_url;
    {
        let fake = FakeGitlab::start(scenario::team(), Faults::default());
        run(env
            .gl(&fake)
            .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
            .arg(&snapshot))
        .success();
        web_url = format!("{}/acme/platform/-/merge_requests/11", fake.url);
    } // The fake is gone: nothing below may need the network.

    let classified = env.path("classified.json");
    run(env
        .command()
        .arg("classify")
        .arg(&snapshot)
        .arg("--out")
        .arg(&classified))
    .success();
    let value = read_snapshot(&classified);
    assert_eq!(
        item_keys(&value),
        item_keys(&read_snapshot(&snapshot)),
        "classify keeps every item"
    );
    assert!(
        items(&value)
            .iter()
            .any(|i| i["competencies"].as_array().is_some_and(|c| !c.is_empty())),
        "classify maps some items to competencies"
    );
    let ids = all_competency_ids();
    for item in items(&value) {
        for m in item["competencies"].as_array().into_iter().flatten() {
            let id = m["id"].as_str().unwrap_or("");
            assert!(
                ids.iter().any(|known| known == id),
                "unknown competency id {id:?} in {m:#}"
            );
            let score = m["score"].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&score), "score {score} in {m:#}");
            assert!(m["rule"].as_str().is_some_and(|r| !r.is_empty()), "{m:#}");
        }
    }

    let brag = env.path("brag.md");
    run(env
        .command()
        .arg("report")
        .arg(&classified)
        .args(["--kind", "brag", "--out"])
        .arg(&brag))
    .success();
    let markdown = read_text(&brag);
    assert!(
        markdown.contains("alice"),
        "the brag names its subject:\n{markdown}"
    );
    assert!(
        markdown.contains(&format!("[{RETRY_BUDGET}]({web_url})")),
        "the brag links the MR title to GitLab:\n{markdown}"
    );
    assert!(
        !markdown.contains(UPGRADE_LOGGING),
        "out-of-period MR in the brag:\n{markdown}"
    );

    let json_report = run(env
        .command()
        .arg("report")
        .arg(&classified)
        .args(["--kind", "brag", "--format", "json"]));
    json_report.success();
    let report = json_report.stdout_json();
    assert!(
        has_competencies(&report),
        "the JSON report carries competencies: {report:#}"
    );
}

#[test]
fn brag_one_shot_writes_the_report() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let out = env.path("brag.md");
    run(env
        .gl(&fake)
        .args(["brag", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(&out))
    .success();
    let markdown = read_text(&out);
    assert!(
        markdown.contains("alice") || markdown.contains("Alice Liddell"),
        "{markdown}"
    );
    for title in [RETRY_BUDGET, SLO_DASHBOARDS] {
        assert!(
            markdown.contains(title),
            "{title} missing from the brag:\n{markdown}"
        );
    }
    assert!(!markdown.contains(crate::fake_gitlab::TOKEN));
}

#[test]
fn demo_runs_without_gitlab() {
    let env = TestEnv::new();
    let dir = env.path("demo");
    run(env.command().arg("demo").arg("--out-dir").arg(&dir)).success();
    let brag = read_text(&dir.join("brag.md"));
    assert!(
        brag.contains("Sam Rivera"),
        "the demo brag is about Sam Rivera:\n{brag}"
    );
    let snapshot = read_snapshot(&dir.join("snapshot.json"));
    assert!(!items(&snapshot).is_empty());
    assert!(
        items(&snapshot)
            .iter()
            .any(|i| i["competencies"].as_array().is_some_and(|c| !c.is_empty())),
        "the demo snapshot is classified"
    );
}

#[test]
fn framework_lists_competency_ids() {
    let env = TestEnv::new();
    let md = run(env.command().arg("framework"));
    md.success()
        .stdout_has("accountability-1")
        .stdout_has("technical-7");

    let json = run(env.command().args(["framework", "--format", "json"]));
    json.success();
    let value = json.stdout_json();
    let text = value.to_string();
    for id in all_competency_ids() {
        assert!(
            text.contains(&format!("\"{id}\"")),
            "{id} missing from framework --format json"
        );
    }
    assert!(
        !text.contains("\"technical-8\""),
        "there are seven technical competencies"
    );
}

#[test]
fn init_writes_a_config_the_cli_accepts() {
    let env = TestEnv::new();
    let config = env.path("gl-evidence.toml");
    run(env.command().arg("init").arg("--path").arg(&config)).success();
    let written = read_text(&config);
    assert!(!written.trim().is_empty());
    assert!(!written.contains(crate::fake_gitlab::TOKEN));

    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    run(env
        .command()
        .env("GITLAB_URL", &fake.url)
        .env("GITLAB_TOKEN", crate::fake_gitlab::TOKEN)
        .arg("--config")
        .arg(&config)
        .args([
            "--no-progress",
            "harvest",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--out",
        ])
        .arg(env.path("snapshot.json")))
    .success();
    read_snapshot(&env.path("snapshot.json"));

    // An existing file is kept unless --force.
    std::fs::write(&config, "# mine\n").unwrap();
    let again = run(env.command().arg("init").arg("--path").arg(&config));
    assert_ne!(
        again.code,
        Some(0),
        "init overwrote an existing file:\n{}",
        again.stderr
    );
    again.stderr_has(&config.display().to_string());
    assert_eq!(read_text(&config), "# mine\n");
    run(env
        .command()
        .args(["init", "--force", "--path"])
        .arg(&config))
    .success();
    assert_eq!(read_text(&config), written);
}

#[test]
fn help_mentions_the_commands() {
    let env = TestEnv::new();
    let help = run(env.command().arg("--help"));
    help.success();
    for command in [
        "harvest",
        "classify",
        "report",
        "brag",
        "demo",
        "framework",
        "init",
    ] {
        help.stdout_has(command);
    }
}

#[test]
fn classify_keeps_fields_it_does_not_know() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let snapshot = env.path("snapshot.json");
    run(env
        .gl(&fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(&snapshot))
    .success();
    // A newer gl-evidence may add fields; an older one must carry them through.
    let mut value = read_snapshot(&snapshot);
    value["harvest_note"] = serde_json::json!({"by": "a newer version"});
    value["items"][0]["reactions"] = serde_json::json!(3);
    let edited = env.write("edited.json", &value.to_string());
    let classified = env.path("classified.json");
    run(env
        .command()
        .arg("classify")
        .arg(&edited)
        .arg("--out")
        .arg(&classified))
    .success();
    let out = read_snapshot(&classified);
    assert_eq!(out["harvest_note"]["by"], "a newer version");
    assert!(
        items(&out).iter().any(|i| i["reactions"] == 3),
        "an unknown item field was dropped"
    );
}

#[test]
fn classify_rejects_a_file_that_is_not_a_snapshot() {
    let env = TestEnv::new();
    let other = env.write(
        "other.json",
        r#"{"format": "something-else", "version": 1}"#,
    );
    run(env.command().arg("classify").arg(&other))
        .code(2)
        .stderr_has(&other.display().to_string())
        .stderr_has("gl-evidence/snapshot");
}

#[test]
fn quiet_leaves_only_errors_on_stderr() {
    let env = TestEnv::new();
    let loud = run(env
        .command()
        .args(["demo", "--out-dir"])
        .arg(env.path("loud")));
    loud.success().stderr_has("brag document");
    let quiet = run(env
        .command()
        .args(["--quiet", "demo", "--out-dir"])
        .arg(env.path("quiet")));
    quiet.success();
    assert_eq!(quiet.stderr, "", "nothing but errors with --quiet");
    assert!(env.path("quiet/brag.md").exists());
    let failed = run(env.command().args(["-q", "report", "missing.json"]));
    failed.code(2).stderr_has("missing.json");
}
