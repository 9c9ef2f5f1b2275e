//! Rules and their conditions. The input is a rules file (TOML), then a line holding only `%%`,
//! then a JSON array of items. The rules file is read or rejected with a message; every item
//! is judged by the rules read (or the built-in rules) through `classify`'s fast path and
//! `explain`'s evaluation, which must agree.
#![no_main]

use gl_evidence::classify::RuleSet;
use gl_evidence::model::Item;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let (rules_text, items_text) = text.split_once("\n%%\n").unwrap_or((text, "[]"));
    let rules = gl_evidence::fuzzing::rules_text(rules_text).unwrap_or_else(RuleSet::builtin);
    let Ok(items) = serde_json::from_str::<Vec<Item>>(items_text) else {
        return;
    };
    for item in &items {
        gl_evidence::fuzzing::rules_agree(&rules, item);
    }
});
