//! What must hold for any input to the four parsers that take text from users and from files
//! anyone can hand over: the config file, snapshots, rules (with the items they judge) and
//! periods. Each check panics when a property fails, so the cargo-fuzz targets in `fuzz/` (with
//! the `fuzzing` feature) and the property tests (`src/properties/`) share one definition of
//! "works": no panic, a rejection that says what is wrong and where, and what is accepted
//! reads back the same.

use crate::classify::engine::{merge, Compiled, CompiledSet, ItemView};
use crate::classify::{self, explain, Rule, RuleSet};
use crate::config::Config;
use crate::framework::Framework;
use crate::model::{Item, Period, PeriodError, Snapshot};
use crate::report::{Format, Renderer, ReportKind};

/// The name inputs are given in error messages, which must show it.
pub const ORIGIN: &str = "fuzz-input";

/// Reads `text` as a config file: a rejection names the input and says more than that; a
/// config that is read writes back as TOML that reads the same (compared as text, so that a
/// NaN weight equals itself).
pub fn config_text(text: &str) -> Option<Config> {
    match Config::parse(text, ORIGIN) {
        Ok(config) => {
            let written = toml::to_string(&config)
                .unwrap_or_else(|e| panic!("cannot write back {config:?}: {e}"));
            let again = Config::parse(&written, ORIGIN)
                .unwrap_or_else(|e| panic!("{written}\ndoes not read back: {e}"));
            assert_eq!(
                toml::to_string(&again).unwrap(),
                written,
                "read back differently"
            );
            Some(config)
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains(ORIGIN), "{message}");
            assert!(message.len() > ORIGIN.len() + 20, "{message}");
            None
        }
    }
}

/// Reads `text` as a snapshot: a rejection names the input; what is read writes back as JSON
/// that reads the same.
pub fn snapshot_text(text: &str) -> Option<Snapshot> {
    match Snapshot::from_json(text, ORIGIN) {
        Ok(snapshot) => {
            let written = snapshot.to_json();
            let again = Snapshot::from_json(&written, ORIGIN)
                .unwrap_or_else(|e| panic!("does not read back: {e}\n{written}"));
            assert_eq!(again, snapshot, "read back differently");
            assert_eq!(again.to_json(), written);
            Some(snapshot)
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains(ORIGIN), "{message}");
            None
        }
    }
}

/// What `report` does with a snapshot it read: classify it with the built-in rules and render
/// every kind in every format. An error is an answer; only a panic fails.
pub fn classify_and_render(mut snapshot: Snapshot) {
    thread_local! {
        // Set up once per thread: the fuzzer calls this many thousand times a minute.
        static SETUP: (Framework, RuleSet, Renderer) = (
            Framework::builtin(),
            RuleSet::builtin(),
            Renderer::new(None, None).expect("the built-in templates load"),
        );
    }
    SETUP.with(|(framework, rules, renderer)| {
        classify::classify(&mut snapshot, framework, rules).expect("the built-in rules validate");
        for kind in [ReportKind::Brag, ReportKind::Team] {
            for format in [Format::Markdown, Format::Html, Format::Json, Format::Csv] {
                let _ = renderer.render(kind, format, &snapshot, framework);
            }
        }
    });
}

/// Reads `text` as a rules file, then checks it against the built-in framework: rejections name
/// the input.
pub fn rules_text(text: &str) -> Option<RuleSet> {
    match RuleSet::from_toml_str(text, ORIGIN) {
        Ok(rules) => {
            if let Err(e) = rules.validate(&Framework::builtin()) {
                assert!(!e.to_string().is_empty());
            }
            Some(rules)
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains(ORIGIN), "{message}");
            None
        }
    }
}

/// Every rule on `item`, valid or not: `classify`'s fast path and `explain`'s evaluation agree
/// on whether it fires and why, stopping at the first failed condition changes only the
/// wording, and the whole set classifies the item as `explain`'s outcomes merge.
pub fn rules_agree(rules: &RuleSet, item: &Item) {
    let view = ItemView::new(item);
    for rule in &rules.rules {
        let compiled = Compiled::new(rule);
        let fast = compiled.matches(&view).map(|b| compiled.render(&b, &view));
        let slow = compiled.evaluate(&view, false);
        assert_eq!(fast, slow.reason, "rule {rule:?} on {item:?}");
        assert_eq!(compiled.evaluate(&view, true).fired(), slow.fired());
        assert!(
            slow.fired() || !slow.failed.is_empty(),
            "failed without a reason"
        );
    }
    let outcomes = explain(item, rules);
    let expected = if outcomes.iter().any(|o| o.skip && o.fired) {
        Vec::new()
    } else {
        let fired: Vec<(&Rule, String)> = rules
            .rules
            .iter()
            .zip(&outcomes)
            .filter(|(rule, o)| !rule.skip && o.fired)
            .map(|(rule, o)| {
                (
                    rule,
                    o.reason.clone().expect("a rule that fired has a reason"),
                )
            })
            .collect();
        merge(&fired)
    };
    // Compared as text: an invalid rule's NaN weight makes a NaN score, which `==` never equals.
    assert_eq!(
        format!("{:?}", CompiledSet::new(rules).classify(item)),
        format!("{expected:?}"),
        "{item:?}"
    );
}

/// `--quarter` text with a fiscal start month: parsed into a period the harvest can use, or
/// rejected with the text in the message.
pub fn quarter(text: &str, fiscal_start_month: u32) -> Option<Period> {
    match Period::parse_quarter(text, fiscal_start_month) {
        Ok(period) => {
            usable(&period);
            // A calendar quarter's label is the quarter, and reads back the same.
            let label = period.label();
            if label.contains('Q') {
                assert_eq!(Period::parse_quarter(&label, 1), Ok(period));
            }
            Some(period)
        }
        Err(PeriodError::BadQuarter { value }) => {
            assert_eq!(value, text);
            None
        }
        Err(PeriodError::BadFiscalStart(month)) => {
            assert!(!(1..=12).contains(&month));
            None
        }
        Err(other) => panic!("unexpected error for {text:?}: {other}"),
    }
}

/// `--from` and `--to` text: parsed into a period that reads back from its printed dates, or
/// rejected with a message saying what to type.
pub fn dates(from: &str, to: &str) -> Option<Period> {
    match Period::from_dates(from, to) {
        Ok(period) => {
            usable(&period);
            assert_eq!(
                Period::from_dates(&period.from.to_string(), &period.to.to_string()),
                Ok(period)
            );
            Some(period)
        }
        Err(e) => {
            let message = e.to_string();
            assert!(
                message.contains("YYYY-MM-DD") || message.contains("swap --from and --to"),
                "{message}"
            );
            None
        }
    }
}

/// What the harvest does with a period (`harvest/events.rs` asks for the day before and the
/// day after; `harvest/oncall.rs` steps through it in windows): an accepted period survives it.
fn usable(period: &Period) {
    assert!(period.from <= period.to, "{period:?} is reversed");
    assert!(period.start() < period.end_exclusive(), "{period:?}");
    assert!(period.days() >= 1);
    assert!(period.contains(period.start()));
    assert!(!period.label().is_empty());
    assert!(
        period.from.pred_opt().is_some() && period.to.succ_opt().is_some(),
        "{period:?} is at the end of the calendar"
    );
    let _ = period.start() - chrono::Duration::days(366);
    let _ = period.end_exclusive() + chrono::Duration::days(366);
}
