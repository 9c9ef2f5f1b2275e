//! Rule-engine tests: conditions, merging, explanations, loading, and the default rules.

use chrono::{TimeZone, Utc};

use super::*;
use crate::model::{CompetencyMatch, Period};

fn item(kind: ItemKind, role: Role, title: &str) -> Item {
    Item::new(
        kind,
        role,
        "alice",
        format!("gid://gitlab/Thing/{}", title.len()),
        "https://gitlab.example.com/x".to_string(),
        title.to_string(),
    )
}

fn mr(title: &str) -> Item {
    item(ItemKind::MergeRequest, Role::Author, title)
}

fn rules(text: &str) -> RuleSet {
    RuleSet::from_toml_str(&format!("name = \"test\"\n{text}"), "test.toml")
        .unwrap_or_else(|e| panic!("{e}"))
}

fn snapshot(items: Vec<Item>) -> Snapshot {
    let period = Period::from_dates("2026-07-01", "2026-09-30").unwrap();
    let mut snapshot = Snapshot::new(
        "https://gitlab.example.com".to_string(),
        period,
        Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap(),
    );
    snapshot.items = items;
    snapshot
}

/// Classifies items with the given rules against the built-in framework.
fn run(rule_set: &RuleSet, items: Vec<Item>) -> Vec<Item> {
    let mut snap = snapshot(items);
    classify(&mut snap, &Framework::builtin(), rule_set).unwrap_or_else(|e| panic!("{e}"));
    snap.items
}

fn ids(item: &Item) -> Vec<&str> {
    item.competencies.iter().map(|c| c.id.as_str()).collect()
}

fn fires(rule_set: &RuleSet, item: &Item) -> bool {
    explain(item, rule_set).iter().any(|o| o.fired)
}

#[test]
fn labels_match_whatever_the_gitlab_spelling() {
    let set = rules(
        "[[rules]]\nid = \"ca\"\ncompetencies = [\"accountability-1\"]\nweight = 0.8\nreason = \"label `{label}`\"\n\
         [rules.when]\nlabels_any = [\"corrective action\"]\n",
    );
    for label in [
        "Corrective Action",
        "corrective-action",
        "corrective_action",
        "CORRECTIVE ACTION",
    ] {
        let mut it = mr("Fix it");
        it.labels = vec!["backend".into(), label.into()];
        let out = explain(&it, &set);
        assert_eq!(
            out[0].reason.as_deref(),
            Some(format!("label `{label}`").as_str()),
            "{label}"
        );
    }
    let mut other = mr("Fix it");
    other.labels = vec!["corrective actions needed".into()];
    assert!(!fires(&set, &other));
}

#[test]
fn scoped_wildcard_matches_any_value_and_binds_the_label() {
    let set = rules(
        "[[rules]]\nid = \"sev\"\ncompetencies = [\"accountability-5\"]\nweight = 0.5\nreason = \"{label}\"\n\
         [rules.when]\nlabels_any = [\"severity::*\"]\n",
    );
    let mut it = mr("x");
    it.labels = vec!["team::scalability".into(), "Severity::2".into()];
    assert_eq!(explain(&it, &set)[0].reason.as_deref(), Some("Severity::2"));
    it.labels = vec!["severity".into()];
    assert!(!fires(&set, &it));
}

#[test]
fn words_are_whole_words_and_phrases() {
    let set = rules(
        "[[rules]]\nid = \"rfc\"\ncompetencies = [\"autonomy-5\"]\nweight = 0.5\nreason = \"says {word}\"\n\
         [rules.when]\nwords_any = [\"rfc\", \"pros and cons\"]\n",
    );
    assert!(fires(&set, &mr("RFC: sharded Redis")));
    assert!(
        !fires(&set, &mr("Index of RFCs")),
        "rfc must not match rfcs"
    );
    assert!(!fires(&set, &mr("Surfcing")), "no substrings");
    let mut it = mr("Sharded Redis");
    it.description = Some("## Pros and\ncons\n...".into());
    assert_eq!(
        explain(&it, &set)[0].reason.as_deref(),
        Some("says Pros and\ncons")
    );
}

#[test]
fn title_words_ignore_the_description() {
    let set = rules(
        "[[rules]]\nid = \"t\"\ncompetencies = [\"autonomy-5\"]\nweight = 0.5\nreason = \"r\"\n\
         [rules.when]\ntitle_words_any = [\"proposal\"]\n",
    );
    let mut it = mr("Shard Redis");
    it.description = Some("## Proposal\nDo it".into());
    assert!(!fires(&set, &it));
    assert!(fires(&set, &mr("Proposal: shard Redis")));
}

#[test]
fn globs_on_paths_and_projects() {
    let set = rules(
        "[[rules]]\nid = \"p\"\ncompetencies = [\"credibility-2\"]\nweight = 0.5\nreason = \"{path} of {paths} in {project}\"\n\
         [rules.when]\nproject_any = [\"*/runbooks\"]\npaths_any = [\"docs/**/*.md\"]\n",
    );
    let mut it = mr("Runbook");
    it.project = Some("gitlab-com/runbooks".into());
    it.changed_paths = vec![
        "lib/x.rb".into(),
        "docs/redis/failover.md".into(),
        "docs/a.md".into(),
    ];
    assert_eq!(
        explain(&it, &set)[0].reason.as_deref(),
        Some("docs/redis/failover.md of 2 in gitlab-com/runbooks")
    );
    it.project = Some("gitlab-com/sub/runbooks".into());
    assert!(!fires(&set, &it), "`*` stays within one segment");
    it.project = Some("gitlab-com/runbooks".into());
    it.changed_paths = vec!["docs/redis/failover.txt".into()];
    assert!(!fires(&set, &it));
}

#[test]
fn paths_all_needs_every_changed_path_to_match() {
    let set = rules(
        "[[rules]]\nid = \"docs\"\ncompetencies = [\"credibility-2\"]\nweight = 0.5\nreason = \"{paths} files\"\n\
         [rules.when]\npaths_all = [\"**/*.md\"]\n",
    );
    let mut it = mr("Docs");
    it.changed_paths = vec!["README.md".into(), "doc/a.md".into()];
    assert_eq!(explain(&it, &set)[0].reason.as_deref(), Some("2 files"));
    it.changed_paths.push("src/main.rs".into());
    let out = explain(&it, &set);
    assert!(!out[0].fired);
    assert_eq!(
        out[0].failed,
        ["changed path src/main.rs does not match **/*.md"]
    );
    it.changed_paths.clear();
    assert!(!fires(&set, &it), "unknown paths cannot prove anything");
}

#[test]
fn exclusions_stop_a_rule() {
    let set = rules(
        "[[rules]]\nid = \"x\"\ncompetencies = [\"autonomy-5\"]\nweight = 0.5\nreason = \"r\"\n\
         [rules.when]\nkind = [\"merge_request\"]\nnot_labels_any = [\"type::*\"]\nnot_words_any = [\"wip\"]\n",
    );
    assert!(fires(&set, &mr("Real work")));
    let mut labelled = mr("Real work");
    labelled.labels = vec!["Type::Maintenance".into()];
    let out = explain(&labelled, &set);
    assert_eq!(out[0].failed, ["has excluded label `Type::Maintenance`"]);
    let mut worded = mr("Real work");
    worded.description = Some("still WIP".into());
    assert_eq!(
        explain(&worded, &set)[0].failed,
        ["mentions excluded “WIP”"]
    );
}

#[test]
fn counts_severity_and_approval_conditions() {
    let set = rules(
        "[[rules]]\nid = \"rv\"\ncompetencies = [\"credibility-3\"]\nweight = 0.6\nreason = \"reviewed with {comments} comments\"\n\
         [rules.when]\nkind = [\"review\"]\nmin_comments = 5\napproved = true\n\
         [[rules]]\nid = \"sev\"\ncompetencies = [\"accountability-5\"]\nweight = 0.8\nreason = \"severity {severity}\"\n\
         [rules.when]\nkind = [\"incident\"]\nmin_severity = 2\n",
    );
    let mut review = item(ItemKind::Review, Role::Reviewer, "Add sharding");
    review.comments = Some(7);
    review.approved = Some(true);
    assert_eq!(
        explain(&review, &set)[0].reason.as_deref(),
        Some("reviewed with 7 comments")
    );
    review.comments = Some(4);
    assert_eq!(
        explain(&review, &set)[0].failed,
        ["4 comments, rule needs at least 5"]
    );
    review.comments = None;
    review.approved = Some(false);
    assert_eq!(
        explain(&review, &set)[0].failed,
        [
            "comment count unknown, rule needs at least 5",
            "not approved, rule needs an approval"
        ]
    );

    let mut incident = item(ItemKind::Incident, Role::Assignee, "Redis down");
    for (severity, fired) in [(1, true), (2, true), (3, false), (4, false)] {
        incident.severity = Some(severity);
        assert_eq!(
            explain(&incident, &set)[1].fired,
            fired,
            "severity {severity}"
        );
    }
    incident.severity = None;
    incident.labels = vec!["severity::1".into()];
    assert_eq!(
        explain(&incident, &set)[1].reason.as_deref(),
        Some("severity 1"),
        "falls back to the label"
    );
}

#[test]
fn several_rules_for_one_competency_merge_into_the_best_match() {
    let set = rules(
        "[[rules]]\nid = \"weak\"\ncompetencies = [\"accountability-1\", \"technical-5\"]\nweight = 0.4\nreason = \"weak {label}\"\n\
         [rules.when]\nlabels_any = [\"incident\"]\n\
         [[rules]]\nid = \"strong\"\ncompetencies = [\"accountability-1\"]\nweight = 0.9\nreason = \"strong\"\n\
         [rules.when]\nlabels_any = [\"corrective action\"]\n\
         [[rules]]\nid = \"strong-again\"\ncompetencies = [\"accountability-1\"]\nweight = 0.9\nreason = \"strong\"\n\
         [rules.when]\nkind = [\"merge_request\"]\n",
    );
    let mut it = mr("Fix");
    it.labels = vec!["incident".into(), "corrective action".into()];
    let out = run(&set, vec![it]);
    let matches = &out[0].competencies;
    assert_eq!(
        ids(&out[0]),
        ["accountability-1", "technical-5"],
        "score desc, then id"
    );
    assert_eq!(matches[0].score, 0.9);
    assert_eq!(matches[0].rule, "strong", "the earlier rule wins a tie");
    assert_eq!(
        matches[0].reasons,
        ["strong", "weak incident"],
        "deduplicated, strongest first"
    );
    assert_eq!(matches[1].score, 0.4);
    assert_eq!(matches[1].rule, "weak");
}

#[test]
fn skip_rules_leave_items_empty_and_explain_says_so() {
    let set = rules(
        "[[rules]]\nid = \"bump\"\nskip = true\nreason = \"routine ({word})\"\n\
         [rules.when]\ntitle_words_any = [\"bump\"]\n\
         [[rules]]\nid = \"any-mr\"\ncompetencies = [\"technical-1\"]\nweight = 0.3\nreason = \"r\"\n\
         [rules.when]\nkind = [\"merge_request\"]\n",
    );
    let out = run(&set, vec![mr("Bump foo"), mr("Add foo")]);
    assert!(out[0].competencies.is_empty());
    assert_eq!(ids(&out[1]), ["technical-1"]);
    let outcomes = explain(&mr("Bump foo"), &set);
    assert!(outcomes[0].fired && outcomes[0].skip);
    assert_eq!(outcomes[1].suppressed_by.as_deref(), Some("bump"));
    assert!(
        outcomes[1]
            .to_string()
            .contains("discarded: skip rule `bump` fired"),
        "{}",
        outcomes[1]
    );
}

#[test]
fn explain_lists_every_failed_condition() {
    let set = rules(
        "[[rules]]\nid = \"ca\"\ncompetencies = [\"accountability-1\"]\nweight = 0.8\nreason = \"r\"\n\
         [rules.when]\nkind = [\"merge_request\"]\nrole = [\"author\"]\nlabels_any = [\"corrective action\"]\n",
    );
    let mut review = item(ItemKind::Review, Role::Approver, "Fix");
    review.labels = vec!["bug".into()];
    let outcome = &explain(&review, &set)[0];
    assert!(!outcome.fired && outcome.reason.is_none());
    assert_eq!(
        outcome.failed,
        [
            "kind is review, rule needs merge_request",
            "role is approver, rule needs author",
            "none of the labels corrective action (the item has bug)",
        ]
    );
    assert!(outcome
        .to_string()
        .starts_with("✗ ca → accountability-1 @ 0.8: kind is review"));
    let fired = &explain(
        &{
            let mut m = mr("Fix");
            m.labels = vec!["Corrective Action".into()];
            m
        },
        &set,
    )[0];
    assert_eq!(
        fired.passed,
        [
            "kind is merge_request",
            "role is author",
            "has label `Corrective Action`"
        ]
    );
}

#[test]
fn classify_replaces_earlier_results_and_records_the_rules() {
    let set = rules(
        "[[rules]]\nid = \"ca\"\ncompetencies = [\"accountability-1\"]\nweight = 0.8\nreason = \"r\"\n\
         [rules.when]\nlabels_any = [\"corrective action\"]\n",
    );
    let mut stale = mr("Unrelated");
    stale.competencies = vec![CompetencyMatch {
        id: "technical-1".into(),
        score: 1.0,
        rule: "old".into(),
        reasons: vec![],
    }];
    let mut snap = snapshot(vec![stale]);
    classify(&mut snap, &Framework::builtin(), &set).unwrap();
    assert!(snap.items[0].competencies.is_empty());
    let c = snap.classification.unwrap();
    assert_eq!(
        (c.framework.as_str(), c.rules.as_str()),
        ("staff-infrastructure", "test")
    );
    assert!(c.extra.is_empty());
}

#[test]
fn validate_reports_every_problem() {
    let set = RuleSet {
        name: "mine".into(),
        rules: vec![
            Rule {
                id: "a".into(),
                competencies: vec!["accountability-99".into()],
                weight: 1.5,
                reason: "{label} {nope}".into(),
                skip: false,
                when: When {
                    paths_any: vec!["doc/a**".into()],
                    ..When::default()
                },
            },
            Rule {
                id: "a".into(),
                competencies: vec!["technical-1".into()],
                weight: 0.5,
                reason: "{label}".into(),
                skip: false,
                when: When::default(),
            },
        ],
    };
    let err = set.validate(&Framework::builtin()).unwrap_err().to_string();
    assert!(
        err.starts_with("rule set `mine` is not a usable rule set:"),
        "{err}"
    );
    for needle in [
        "rule `a`: unknown competency `accountability-99`",
        "rule `a`: `weight` must be above 0 and at most 1, got 1.5",
        "rule `a`: `reason` uses unknown placeholder `{nope}`",
        "rule `a`: `paths_any`: glob \"doc/a**\": `**` must be a whole segment",
        "rule `a`: the id is used by an earlier rule too",
        "rule `a`: `when` has no conditions",
        "rule `a`: `reason` uses `{label}`, which needs a `labels_any` condition",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
}

#[test]
fn load_errors_name_the_file_the_rule_and_the_key() {
    let text = "name = \"x\"\n[[rules]]\nid = \"fine\"\ncompetencies = [\"technical-1\"]\nweight = 0.5\nreason = \"r\"\n\
                [rules.when]\nkind = [\"merge_request\"]\n\
                [[rules]]\nid = \"broken\"\ncompetencies = [\"technical-1\"]\nweight = 0.5\nreason = \"r\"\n\
                [rules.when]\nlables_any = [\"x\"]\n";
    let err = RuleSet::from_toml_str(text, "mine.toml").unwrap_err();
    let shown = err.to_string();
    assert!(
        matches!(&err, ClassifyError::Rule { rule, key, .. } if rule == "`broken`" && key.as_deref() == Some("when")),
        "{err:?}"
    );
    assert!(
        shown.starts_with("mine.toml: rule `broken`, key `when`:"),
        "{shown}"
    );
    assert!(shown.contains("unknown field `lables_any`"), "{shown}");

    let wrong_type = text.replace("lables_any = [\"x\"]", "kind = \"merge_request\"");
    let err = RuleSet::from_toml_str(&wrong_type, "mine.toml").unwrap_err();
    assert!(
        matches!(&err, ClassifyError::Rule { key, .. } if key.as_deref() == Some("when.kind")),
        "{err:?}"
    );

    let bad_kind = text.replace("lables_any = [\"x\"]", "kind = [\"pull_request\"]");
    let shown = RuleSet::from_toml_str(&bad_kind, "mine.toml")
        .unwrap_err()
        .to_string();
    assert!(
        shown.contains("rule `broken`") && shown.contains("unknown variant `pull_request`"),
        "{shown}"
    );

    let shown = RuleSet::from_toml_str("name = \"x\"\nrules = 3\n", "mine.toml")
        .unwrap_err()
        .to_string();
    assert!(
        shown.starts_with("mine.toml is not a valid rules file:"),
        "{shown}"
    );
    let shown = RuleSet::from_toml_str("name = \"x\"\n[[rules]\n", "mine.toml")
        .unwrap_err()
        .to_string();
    assert!(
        shown.starts_with("mine.toml is not a valid rules file:"),
        "{shown}"
    );

    let missing = std::env::temp_dir().join("gl-evidence-no-such-rules.toml");
    let shown = RuleSet::load(&missing).unwrap_err().to_string();
    assert!(shown.contains("gl-evidence-no-such-rules.toml"), "{shown}");
}

#[test]
fn builtin_rules_validate_against_the_builtin_framework() {
    let set = RuleSet::builtin();
    set.validate(&Framework::builtin())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.name, "default");
    assert!(set.rules.len() >= 40, "{} rules", set.rules.len());
}

#[test]
fn builtin_rules_ignore_trivial_work() {
    let set = RuleSet::builtin();
    let mut bump = mr("Bump version to 1.2.3");
    bump.changed_paths = vec![".gitlab-ci.yml".into(), "VERSION".into()];
    bump.additions = Some(2);
    let mut deps = mr("chore(deps): update dependency rails to v7.2");
    deps.labels = vec!["documentation".into()];
    let typo = mr("Fix typo in the Redis runbook");
    let mut access = item(ItemKind::Issue, Role::Author, "Access request for Grafana");
    access.labels = vec!["tech debt".into()];
    let out = run(&set, vec![bump, deps, typo, access]);
    for it in &out {
        assert!(
            it.competencies.is_empty(),
            "{:?} got {:?}",
            it.title,
            it.competencies
        );
    }
}

#[test]
fn builtin_rules_credit_a_corrective_action() {
    let mut it = mr("Add a connection pool limit for Patroni");
    it.labels = vec!["Corrective Action".into(), "team::Database".into()];
    let out = run(&RuleSet::builtin(), vec![it]);
    let m = out[0]
        .competencies
        .iter()
        .find(|c| c.id == "accountability-1")
        .expect("accountability-1");
    assert!(m.score >= 0.8);
    assert!(
        m.reasons.iter().any(|r| r.contains("`Corrective Action`")),
        "{:?}",
        m.reasons
    );

    // A real fix keeps its credit even when the title sounds routine.
    let mut bump = mr("Bump Patroni pool size to stop saturation");
    bump.labels = vec!["corrective-action".into()];
    assert!(ids(&run(&RuleSet::builtin(), vec![bump])[0]).contains(&"accountability-1"));
}

#[test]
fn builtin_rules_on_typical_items() {
    let fw = Framework::builtin();
    let set = RuleSet::builtin();
    let mut review = item(
        ItemKind::Review,
        Role::Reviewer,
        "Add sharding to the registry",
    );
    review.comments = Some(7);
    review.approved = Some(true);
    let mut blueprint = mr("Proposal: Cells routing");
    blueprint.changed_paths = vec!["doc/architecture/blueprints/cells/routing.md".into()];
    blueprint.description = Some("## Alternatives considered\n...".into());
    let mut incident = item(
        ItemKind::Incident,
        Role::Assignee,
        "Elevated error rates on web",
    );
    incident.severity = Some(2);
    let mut epic = item(ItemKind::Epic, Role::Author, "Move CI runners to new fleet");
    epic.child_count = Some(8);
    epic.description =
        Some("Broken down into small deliverables, one runner shard each. DRI: @alice, weekly status updates here.".into());
    let mut bare_epic = item(ItemKind::Epic, Role::Author, "Runner fleet");
    bare_epic.child_count = Some(8);
    let shift = item(ItemKind::OncallShift, Role::Oncall, "EOC shift");
    let interview = item(ItemKind::Interview, Role::Interviewer, "Interview: SRE");
    let out = run(
        &set,
        vec![
            review, blueprint, incident, epic, shift, interview, bare_epic,
        ],
    );

    let review = &out[0];
    let standards = review
        .competencies
        .iter()
        .find(|c| c.id == "credibility-3")
        .unwrap();
    assert!(standards
        .reasons
        .contains(&"reviewed with 7 comments: sets review standards".to_string()));
    // Approving is not unblocking: an approval alone credits nothing beyond review standards.
    assert!(!ids(review).contains(&"leadership-7"), "{:?}", ids(review));

    let blueprint = ids(&out[1]);
    for want in ["leadership-8", "technical-7", "autonomy-5", "leadership-3"] {
        assert!(
            blueprint.contains(&want),
            "blueprint MR lacks {want}: {blueprint:?}"
        );
    }
    let incident = out[2]
        .competencies
        .iter()
        .find(|c| c.id == "accountability-5")
        .unwrap();
    assert_eq!(incident.score, 0.8);
    assert!(
        incident.reasons[0].contains("severity 2 incident"),
        "{incident:?}"
    );
    assert!(
        ids(&out[3]).contains(&"technical-6") && ids(&out[3]).contains(&"autonomy-2"),
        "an epic broken into deliverables with a DRI: {:?}",
        ids(&out[3])
    );
    assert_eq!(ids(&out[4]), ["accountability-1"]);
    assert_eq!(ids(&out[5]), ["team-building-7"]);
    // Owning an epic with children is not evidence by itself: the words must show the planning.
    assert!(ids(&out[6]).is_empty(), "{:?}", ids(&out[6]));

    // Every reason of every match names a competency the framework knows.
    for it in &out {
        for m in &it.competencies {
            assert!(fw.competency(&m.id).is_some());
            assert!(
                !m.reasons.is_empty() && m.reasons.iter().all(|r| !r.contains('{')),
                "{m:?}"
            );
        }
    }
}

#[test]
fn helping_a_first_contribution_counts_even_for_a_typo() {
    let mut review = item(
        ItemKind::Review,
        Role::Approver,
        "Fix command typos in the Redis runbook",
    );
    review.labels = vec!["Community contribution".into(), "documentation".into()];
    review.approved = Some(true);
    let out = run(&RuleSet::builtin(), vec![review]);
    let m = &out[0].competencies[0];
    assert_eq!(m.id, "team-building-4");
    assert!(ids(&out[0]).contains(&"team-building-8"));
    assert!(m.reasons[0].contains("`Community contribution`"), "{m:?}");
}

#[test]
fn review_words_are_not_the_reviewers_words() {
    let mut review = item(ItemKind::Review, Role::Reviewer, "Proposal: new cache");
    review.description = Some("We weighed the trade-offs".into());
    assert!(run(&RuleSet::builtin(), vec![review])[0]
        .competencies
        .is_empty());
}

#[test]
fn config_can_add_disable_and_reweight_rules() {
    let framework = Framework::builtin();
    let mut rules = RuleSet::builtin();
    let before = rules.rules.len();
    let extra = RuleSet::from_toml_str(
        r#"
name = "team"
[[rules]]
id = "team-chatops"
competencies = ["autonomy-6"]
weight = 0.5
reason = "merge request labelled `{label}`: automates the team's chores"
[rules.when]
kind = ["merge_request"]
labels_any = ["chatops"]
"#,
        "team.toml",
    )
    .unwrap();
    let disable = vec!["tech-debt".to_string()];
    let weights = BTreeMap::from([("okr".to_string(), 0.95)]);
    rules
        .customise(vec![extra], &disable, &weights, "config")
        .unwrap();
    rules.validate(&framework).unwrap();
    assert_eq!(rules.rules.len(), before, "one added, one disabled");
    assert!(rules.rules.iter().all(|r| r.id != "tech-debt"));
    assert_eq!(
        rules.rules.iter().find(|r| r.id == "okr").unwrap().weight,
        0.95
    );
    assert!(
        rules.name.contains("team") && rules.name.contains("customised"),
        "{}",
        rules.name
    );
}

#[test]
fn config_naming_unknown_rules_or_bad_weights_is_an_error() {
    let mut rules = RuleSet::builtin();
    let disable = vec!["no-such-rule".to_string()];
    let weights = BTreeMap::from([("okr".to_string(), 1.5), ("nope".to_string(), 0.5)]);
    let err = rules
        .customise(Vec::new(), &disable, &weights, "config.toml [classify]")
        .unwrap_err()
        .to_string();
    assert!(err.contains("config.toml [classify]"), "{err}");
    assert!(err.contains("`no-such-rule`"), "{err}");
    assert!(err.contains("weights.okr"), "{err}");
    assert!(err.contains("`nope`"), "{err}");
}
