//! The mapping's quality bar: the built-in rules on the labelled evaluation set
//! (tests/eval/labelled.json, labelled from the framework text, independently of the rules).

use std::collections::BTreeSet;

use gl_evidence::classify::{classify, evaluate, RuleSet};
use gl_evidence::framework::Framework;
use gl_evidence::model::Snapshot;

/// Issue 4's target for both precision and recall.
const BAR: f64 = 0.85;

fn labelled() -> Snapshot {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/eval/labelled.json");
    Snapshot::read(&path).expect("the labelled set parses")
}

#[test]
fn built_in_rules_meet_the_precision_and_recall_bar() {
    let framework = Framework::builtin();
    let mut snapshot = labelled();
    assert!(
        snapshot.items.len() >= 100,
        "the set has at least 100 items"
    );
    classify(&mut snapshot, &framework, &RuleSet::builtin()).unwrap();
    let result = evaluate::evaluate(&snapshot, &framework).unwrap();
    let report = evaluate::render(&result, &framework, true);
    println!("{report}");
    assert!(
        result.overall.precision() >= BAR,
        "precision {:.2} is below {BAR}:\n{report}",
        result.overall.precision()
    );
    assert!(
        result.overall.recall() >= BAR,
        "recall {:.2} is below {BAR}:\n{report}",
        result.overall.recall()
    );
}

#[test]
fn every_competency_has_a_rule_and_a_labelled_example() {
    let framework = Framework::builtin();
    let rules = RuleSet::builtin();
    let covered: BTreeSet<&str> = rules
        .rules
        .iter()
        .flat_map(|r| r.competencies.iter().map(String::as_str))
        .collect();
    let snapshot = labelled();
    let labelled: BTreeSet<String> = snapshot
        .items
        .iter()
        .filter_map(|i| i.extra.get("expect"))
        .filter_map(|e| e.get("must"))
        .filter_map(|m| m.as_array())
        .flatten()
        .filter_map(|id| id.as_str().map(str::to_string))
        .collect();
    for competency in &framework.competencies {
        assert!(
            covered.contains(competency.id.as_str()),
            "no built-in rule gives {} ({})",
            competency.id,
            competency.title
        );
        assert!(
            labelled.contains(&competency.id),
            "no labelled item must evidence {}",
            competency.id
        );
    }
}
