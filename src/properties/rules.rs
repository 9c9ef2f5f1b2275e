//! Rules and their conditions: any rules file is read or explained, any rules and items are
//! validated, classified and explained without a panic, and `classify`'s fast path gives
//! exactly what `explain` works out condition by condition.

use proptest::prelude::*;

use super::{cases, tricky_string};
use crate::classify::{explain, Rule, RuleSet, When};
use crate::framework::Framework;
use crate::fuzzing::{rules_agree, rules_text, ORIGIN};
use crate::model::{Item, ItemKind, Role};

/// Words items and patterns share, so that patterns often match: ASCII, digits, and letters
/// whose lower case is longer, context-dependent or not a single character.
const WORDS: &[&str] = &[
    "fix",
    "Fix",
    "RFC",
    "rfcs",
    "trade",
    "off",
    "trade-off",
    "docs",
    "mentor",
    "mentoring",
    "42",
    "v1",
    "İstanbul",
    "ΣΑΣ",
    "ΟΔΟΣ",
    "ΟΔΟΣΑ",
    "Straße",
    "STRASSE",
    "\u{212a}elvin",
    "ǅemal",
    "naïve",
    "naı\u{308}ve",
    "東京",
    "x",
];

const LABELS: &[&str] = &[
    "type::bug",
    "type::feature",
    "severity::1",
    "severity::S2",
    "Severity::3",
    "Corrective Action",
    "corrective-action",
    "~\"corrective_action\"",
    "a::b::c",
    "::",
    "İnterview",
    "ΣΑΣ",
    "-",
];

const PATHS: &[&str] = &[
    "doc/a.md",
    "doc/sub/b.md",
    "README.md",
    "src/x.rs",
    "/src/y.rs",
    "a//b",
    "Dir/File.MD",
    "δ/Σ.md",
    "",
    "*",
    "**",
];

const PLACES: &[&str] = &[
    "gitlab-com/gl-infra",
    "gitlab-com/gl-infra/production",
    "gitlab-org/gitlab",
    "GitLab-Com/Handbook",
    "a",
    "/a/b/",
    "Σ/x",
];

/// A text made of [`WORDS`] and odd characters.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(WORDS).prop_map(str::to_string),
            1 => tricky_string(6),
        ],
        0..7,
    )
    .prop_map(|words| words.join(" "))
}

/// A string for a pattern list: mostly shaped like the real thing, sometimes anything.
fn pattern(shapes: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(shapes).prop_map(str::to_string),
        2 => (prop::sample::select(shapes), prop::sample::select(vec!["*", "?", "#", "**", "/", " ", "::", "{", "}"]))
            .prop_map(|(s, extra)| format!("{s}{extra}")),
        1 => tricky_string(8),
    ]
}

fn word_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => pattern(WORDS),
        1 => prop::collection::vec(pattern(WORDS), 1..3).prop_map(|w| w.join(" ")),
        1 => Just("# of #".to_string()),
    ]
}

fn list<S: Strategy<Value = String>>(s: S) -> impl Strategy<Value = Vec<String>> {
    prop_oneof![2 => Just(Vec::new()), 1 => prop::collection::vec(s, 1..3)]
}

fn kinds() -> impl Strategy<Value = Vec<ItemKind>> {
    prop::collection::vec(prop::sample::select(ItemKind::ALL.to_vec()), 0..3)
}

fn roles() -> impl Strategy<Value = Vec<Role>> {
    prop::collection::vec(
        prop::sample::select(vec![
            Role::Author,
            Role::Reviewer,
            Role::Approver,
            Role::Oncall,
        ]),
        0..2,
    )
}

prop_compose! {
    fn when()(
        first in (
            kinds(), roles(),
            list(prop::sample::select(vec!["merged", "opened", "closed", "MERGED", ""]).prop_map(str::to_string)),
            list(pattern(LABELS)), list(pattern(LABELS)),
            list(word_pattern()), list(word_pattern()),
        ),
        second in (
            list(word_pattern()), list(word_pattern()),
            list(pattern(PLACES)), list(pattern(PLACES)),
            list(pattern(PATHS)), list(pattern(PATHS)),
        ),
        numbers in (
            prop::option::of(0u32..5), prop::option::of(any::<bool>()), prop::option::of(0u64..50),
            prop::option::of(0u32..4), prop::option::of(0u8..6), prop::option::of(0u8..6),
            prop::option::of(prop_oneof![-1.0f64..30.0, Just(f64::NAN)]), prop::option::of(0u32..3),
        ),
    ) -> When {
        let (kind, role, state_any, labels_any, not_labels_any, words_any, not_words_any) = first;
        let (title_words_any, not_title_words_any, project_any, not_project_any, paths_any,
            paths_all) = second;
        let (min_comments, approved, min_additions, min_child_count, min_severity,
            max_severity, min_duration_hours, min_timeline_events) = numbers;
        When {
            kind, role, state_any, labels_any, not_labels_any, words_any, not_words_any,
            title_words_any, not_title_words_any, project_any, not_project_any, paths_any,
            paths_all, min_comments, approved, min_additions, min_child_count, min_severity,
            max_severity, min_duration_hours, min_timeline_events,
        }
    }
}

/// Reason templates: good ones, ones with placeholders their conditions do not give, and
/// broken ones.
fn reason() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "label `{label}`", "says “{word}”", "changes {path} ({paths} files)", "{comments} comments",
            "{additions} lines", "{child_count} children", "severity {severity}",
            "{duration_hours} h", "{timeline_events} events", "{state} {kind} as {role} in {project}: {title}",
            "literal {{braces}}", "plain", "", "{nope}", "{", "}", "{{{word}}}", "{word",
        ])
        .prop_map(str::to_string),
        1 => tricky_string(10),
    ]
}

prop_compose! {
    fn rule()(
        id in prop::sample::select(vec!["a", "b", "c", "d", "", " ", "curated"]),
        competencies in prop::collection::vec(
            prop::sample::select(vec!["technical-1", "leadership-3", "autonomy-2", "nope-9"]),
            0..3,
        ),
        weight in prop::sample::select(vec![0.3, 0.6, 0.6, 1.0, 0.0, -1.0, 1.5, f64::NAN]),
        reason in reason(),
        skip in prop::bool::weighted(0.2),
        when in when(),
    ) -> Rule {
        Rule {
            id: id.to_string(),
            competencies: competencies.into_iter().map(str::to_string).collect(),
            weight,
            reason,
            skip,
            when,
        }
    }
}

fn rule_set() -> impl Strategy<Value = RuleSet> {
    (
        prop::sample::select(vec!["fuzz", "", "x y"]),
        prop::collection::vec(rule(), 0..6),
    )
        .prop_map(|(name, rules)| RuleSet {
            name: name.to_string(),
            rules,
        })
}

fn item() -> impl Strategy<Value = Item> {
    (
        (
            prop::sample::select(ItemKind::ALL.to_vec()),
            prop::sample::select(vec![
                Role::Author,
                Role::Reviewer,
                Role::Approver,
                Role::Commenter,
            ]),
            text(),
            prop::option::of(text()),
            prop::collection::vec(pattern(LABELS), 0..4),
            prop::option::of(pattern(PLACES)),
            prop::option::of(pattern(PLACES)),
            prop::collection::vec(pattern(PATHS), 0..4),
        ),
        (
            prop::option::of(prop::sample::select(vec!["merged", "opened", "Closed", ""])),
            prop::option::of(0u32..6),
            prop::option::of(any::<bool>()),
            prop::option::of(0u64..60),
            prop::option::of(0u32..4),
            prop::option::of(0u8..6),
            prop::option::of(prop_oneof![
                0.0f64..40.0,
                Just(f64::NAN),
                Just(f64::INFINITY)
            ]),
            prop::option::of(0u32..3),
        ),
    )
        .prop_map(|(text_part, numbers)| {
            let (kind, role, title, description, labels, project, group, changed_paths) = text_part;
            let (state, comments, approved, additions, child_count, severity, duration, events) =
                numbers;
            let mut item = Item::new(
                kind,
                role,
                "alice",
                "gid://gitlab/MergeRequest/1".into(),
                "https://gitlab.example.com/x".into(),
                title,
            );
            item.description = description;
            item.labels = labels;
            item.project = project;
            item.group = group;
            item.changed_paths = changed_paths;
            item.state = state.map(str::to_string);
            item.comments = comments;
            item.approved = approved;
            item.additions = additions;
            item.child_count = child_count;
            item.severity = severity;
            item.duration_hours = duration;
            item.timeline_events = events;
            item
        })
}

/// A line of a rules file.
fn rules_line() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "name",
        "id",
        "competencies",
        "weight",
        "reason",
        "skip",
        "when",
        "kind",
        "role",
        "labels_any",
        "words_any",
        "title_words_any",
        "project_any",
        "paths_any",
        "paths_all",
        "min_severity",
        "max_severity",
        "min_duration_hours",
        "nope",
    ]);
    let value = prop_oneof![
        tricky_string(10).prop_map(|s| toml::Value::String(s).to_string()),
        pattern(WORDS).prop_map(|s| toml::Value::String(s).to_string()),
        prop::collection::vec(pattern(LABELS), 0..3).prop_map(|v| toml::Value::Array(
            v.into_iter().map(toml::Value::String).collect()
        )
        .to_string()),
        Just("[\"merge_request\", \"nope\"]".to_string()),
        Just("[\"technical-1\"]".to_string()),
        (-2.0f64..2.0).prop_map(|f| f.to_string()),
        (-1i64..300).prop_map(|n| n.to_string()),
        Just("nan".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        "[^\n]{0,8}",
    ];
    prop_oneof![
        2 => prop::sample::select(vec!["[[rules]]", "[rules.when]", "[rules]", "[[rules.when]]", "[x]"]).prop_map(str::to_string),
        6 => (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
        1 => "[^\n]{0,12}",
    ]
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn rules_text_is_read_or_explained(lines in prop::collection::vec(rules_line(), 0..16)) {
        rules_text(&lines.join("\n"));
    }

    #[test]
    fn any_rules_load_validate_and_classify_like_explain(rules in rule_set(), items in prop::collection::vec(item(), 1..6)) {
        // Whatever the rules, reading them back from TOML either works or says what is wrong.
        if let Ok(text) = toml::to_string(&rules) {
            match RuleSet::from_toml_str(&text, ORIGIN) {
                Ok(read) => prop_assert_eq!(read.rules.len(), rules.rules.len()),
                Err(e) => prop_assert!(e.to_string().contains(ORIGIN)),
            }
        }
        let _ = rules.validate(&Framework::builtin());
        for item in &items {
            rules_agree(&rules, item);
        }
    }

    #[test]
    fn an_items_own_label_matches_it(label in pattern(LABELS), other in pattern(LABELS)) {
        let rules = RuleSet {
            name: "own".into(),
            rules: vec![Rule {
                id: "own".into(),
                competencies: vec!["technical-1".into()],
                weight: 1.0,
                reason: "{label}".into(),
                skip: false,
                when: When { labels_any: vec![label.clone()], ..When::default() },
            }],
        };
        // A pattern that normalises to nothing is rejected, not matched.
        if rules.validate(&Framework::builtin()).is_err() {
            return Ok(());
        }
        let mut item = Item::new(ItemKind::Issue, Role::Author, "alice", "1".into(), "u".into(), "t".into());
        item.labels = vec![other, label.clone()];
        let outcome = &explain(&item, &rules)[0];
        prop_assert!(outcome.fired, "label {:?} does not match itself: {:?}", label, outcome.failed);
        rules_agree(&rules, &item);
    }

    #[test]
    fn a_word_of_the_title_and_its_beginnings_match_it(
        // At least one word in every title.
        title in (text(), prop::sample::select(WORDS)).prop_map(|(t, w)| format!("{t} {w}")),
        pick in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let words: Vec<&str> = title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let word = words[pick.index(words.len())];
        let chars: Vec<char> = word.chars().collect();
        let prefix: String = chars[..=cut.index(chars.len())].iter().collect();
        for pattern in [word.to_string(), format!("{prefix}*")] {
            let rules = RuleSet {
                name: "own".into(),
                rules: vec![Rule {
                    id: "own".into(),
                    competencies: vec!["technical-1".into()],
                    weight: 1.0,
                    reason: "{word}".into(),
                    skip: false,
                    when: When { title_words_any: vec![pattern.clone()], ..When::default() },
                }],
            };
            rules.validate(&Framework::builtin()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let item = Item::new(ItemKind::Issue, Role::Author, "alice", "1".into(), "u".into(), title.clone());
            let outcome = &explain(&item, &rules)[0];
            prop_assert!(outcome.fired, "{:?} does not match title {:?}: {:?}", pattern, title, outcome.failed);
            rules_agree(&rules, &item);
        }
    }

    #[test]
    fn a_changed_path_matches_itself_as_a_glob(path in pattern(PATHS), other in pattern(PATHS)) {
        // GitLab's paths have no surrounding spaces and no `./`, which a glob drops.
        if path != path.trim() || path.starts_with("./") {
            return Ok(());
        }
        for key in ["paths_any", "paths_all"] {
            let when = if key == "paths_any" {
                When { paths_any: vec![path.clone()], ..When::default() }
            } else {
                When { paths_all: vec![path.clone(), other.clone()], ..When::default() }
            };
            let rules = RuleSet {
                name: "own".into(),
                rules: vec![Rule {
                    id: "own".into(),
                    competencies: vec!["technical-1".into()],
                    weight: 1.0,
                    reason: "{path}".into(),
                    skip: false,
                    when,
                }],
            };
            // A path that is not a valid glob (`//`, `[`) is rejected, not matched.
            if rules.validate(&Framework::builtin()).is_err() {
                continue;
            }
            let mut item = Item::new(ItemKind::MergeRequest, Role::Author, "alice", "1".into(), "u".into(), "t".into());
            item.changed_paths = if key == "paths_any" { vec![other.clone(), path.clone()] } else { vec![path.clone()] };
            let outcome = &explain(&item, &rules)[0];
            prop_assert!(outcome.fired, "{} {:?} does not match itself: {:?}", key, path, outcome.failed);
            rules_agree(&rules, &item);
        }
    }
}
