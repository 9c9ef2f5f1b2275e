//! Measuring the mapping against a labelled set: items that carry, beside the usual fields, an
//! `expect` field `{must: [ids], acceptable: [ids]}` written by a person. Precision counts a
//! predicted competency as right when it is in `must` or `acceptable`; recall counts the `must`
//! competencies that were predicted. Both are micro-averaged over items, and per competency.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Deserialize;

use crate::framework::Framework;
use crate::model::Snapshot;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    #[serde(default)]
    pub must: BTreeSet<String>,
    #[serde(default)]
    pub acceptable: BTreeSet<String>,
    #[serde(default)]
    pub why: Option<String>,
}

/// Counts behind precision and recall.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Competencies the rules gave.
    pub predicted: usize,
    /// Of those, the ones in `must` or `acceptable`.
    pub predicted_right: usize,
    /// Competencies a person said must be credited.
    pub must: usize,
    /// Of those, the ones the rules gave.
    pub must_found: usize,
}

impl Counts {
    /// 1.0 when nothing was predicted: no claim, no wrong claim.
    pub fn precision(&self) -> f64 {
        ratio(self.predicted_right, self.predicted)
    }

    /// 1.0 when nothing was required.
    pub fn recall(&self) -> f64 {
        ratio(self.must_found, self.must)
    }

    fn add(&mut self, other: Counts) {
        self.predicted += other.predicted;
        self.predicted_right += other.predicted_right;
        self.must += other.must;
        self.must_found += other.must_found;
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// One item the rules got wrong, for the report.
#[derive(Debug, Clone)]
pub struct Miss {
    pub title: String,
    pub web_url: String,
    /// `must` competencies not predicted.
    pub missing: Vec<String>,
    /// Predicted competencies outside `must` and `acceptable`.
    pub wrong: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub items: usize,
    pub overall: Counts,
    pub per_competency: BTreeMap<String, Counts>,
    pub misses: Vec<Miss>,
}

#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    #[error("item {index} ({title:?}) has no `expect` field: every item of an evaluation set needs `\"expect\": {{\"must\": [...], \"acceptable\": [...]}}`")]
    MissingExpectation { index: usize, title: String },
    #[error("item {index} ({title:?}) has an invalid `expect` field: {detail}")]
    BadExpectation {
        index: usize,
        title: String,
        detail: String,
    },
    #[error("item {index} ({title:?}) expects {id:?}, which the framework does not have")]
    UnknownCompetency {
        index: usize,
        title: String,
        id: String,
    },
}

/// Compares a classified snapshot's competencies with each item's `expect`.
pub fn evaluate(snapshot: &Snapshot, framework: &Framework) -> Result<Evaluation, EvaluateError> {
    let mut evaluation = Evaluation {
        items: snapshot.items.len(),
        ..Evaluation::default()
    };
    for (index, item) in snapshot.items.iter().enumerate() {
        let raw = item
            .extra
            .get("expect")
            .ok_or_else(|| EvaluateError::MissingExpectation {
                index,
                title: item.title.clone(),
            })?;
        let expect: Expectation =
            serde_json::from_value(raw.clone()).map_err(|e| EvaluateError::BadExpectation {
                index,
                title: item.title.clone(),
                detail: e.to_string(),
            })?;
        if let Some(id) = expect
            .must
            .iter()
            .chain(&expect.acceptable)
            .find(|id| framework.competency(id).is_none())
        {
            return Err(EvaluateError::UnknownCompetency {
                index,
                title: item.title.clone(),
                id: id.clone(),
            });
        }
        let predicted: BTreeSet<&str> = item.competencies.iter().map(|c| c.id.as_str()).collect();
        let mut miss = Miss {
            title: item.title.clone(),
            web_url: item.web_url.clone(),
            missing: Vec::new(),
            wrong: Vec::new(),
        };
        for id in &predicted {
            let right = expect.must.contains(*id) || expect.acceptable.contains(*id);
            let counts = Counts {
                predicted: 1,
                predicted_right: usize::from(right),
                ..Counts::default()
            };
            evaluation.overall.add(counts);
            evaluation
                .per_competency
                .entry(id.to_string())
                .or_default()
                .add(counts);
            if !right {
                miss.wrong.push(id.to_string());
            }
        }
        for id in &expect.must {
            let found = predicted.contains(id.as_str());
            let counts = Counts {
                must: 1,
                must_found: usize::from(found),
                ..Counts::default()
            };
            evaluation.overall.add(counts);
            evaluation
                .per_competency
                .entry(id.clone())
                .or_default()
                .add(counts);
            if !found {
                miss.missing.push(id.clone());
            }
        }
        if !miss.missing.is_empty() || !miss.wrong.is_empty() {
            evaluation.misses.push(miss);
        }
    }
    Ok(evaluation)
}

/// A plain-text report: overall figures, a line per competency of the framework, then the
/// items the rules got wrong.
pub fn render(evaluation: &Evaluation, framework: &Framework, show_misses: bool) -> String {
    let mut out = String::new();
    let o = evaluation.overall;
    let _ = writeln!(
        out,
        "{} items; precision {:.2} ({} of {} predicted competencies right), recall {:.2} ({} of {} required competencies found)\n",
        evaluation.items,
        o.precision(),
        o.predicted_right,
        o.predicted,
        o.recall(),
        o.must_found,
        o.must
    );
    let _ = writeln!(
        out,
        "{:<18} {:>9} {:>9} {:>6} {:>6}  title",
        "competency", "precision", "recall", "given", "must"
    );
    for competency in &framework.competencies {
        let c = evaluation
            .per_competency
            .get(&competency.id)
            .copied()
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<18} {:>9} {:>9} {:>6} {:>6}  {}",
            competency.id,
            if c.predicted == 0 {
                "-".to_string()
            } else {
                format!("{:.2}", c.precision())
            },
            if c.must == 0 {
                "-".to_string()
            } else {
                format!("{:.2}", c.recall())
            },
            c.predicted,
            c.must,
            competency.title
        );
    }
    if show_misses && !evaluation.misses.is_empty() {
        let _ = writeln!(
            out,
            "\nItems the rules got wrong ({}):",
            evaluation.misses.len()
        );
        for miss in &evaluation.misses {
            let _ = writeln!(out, "- {} <{}>", miss.title, miss.web_url);
            if !miss.missing.is_empty() {
                let _ = writeln!(out, "    missing: {}", miss.missing.join(", "));
            }
            if !miss.wrong.is_empty() {
                let _ = writeln!(out, "    wrong:   {}", miss.wrong.join(", "));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CompetencyMatch, Item, ItemKind, Period, Role};

    fn item(predicted: &[&str], must: &[&str], acceptable: &[&str]) -> Item {
        let mut i = Item::new(
            ItemKind::MergeRequest,
            Role::Author,
            "a",
            "id".into(),
            "https://x".into(),
            "t".into(),
        );
        i.competencies = predicted
            .iter()
            .map(|id| CompetencyMatch {
                id: id.to_string(),
                score: 0.5,
                rule: "r".into(),
                reasons: vec![],
            })
            .collect();
        i.extra.insert(
            "expect".into(),
            serde_json::json!({"must": must, "acceptable": acceptable}),
        );
        i
    }

    fn snapshot(items: Vec<Item>) -> Snapshot {
        let mut s = Snapshot::new(
            "https://x".into(),
            Period::parse_quarter("2026Q3", 2).unwrap(),
            "2026-10-01T00:00:00Z".parse().unwrap(),
        );
        s.items = items;
        s
    }

    #[test]
    fn precision_counts_acceptable_and_recall_counts_must() {
        let framework = Framework::builtin();
        let s = snapshot(vec![
            item(
                &["accountability-1", "technical-1"],
                &["accountability-1"],
                &["technical-1"],
            ),
            item(&["credibility-3"], &["credibility-3", "autonomy-5"], &[]),
            item(&["leadership-1"], &[], &[]),
            item(&[], &[], &[]),
        ]);
        let e = evaluate(&s, &framework).unwrap();
        assert_eq!(
            e.overall,
            Counts {
                predicted: 4,
                predicted_right: 3,
                must: 3,
                must_found: 2
            }
        );
        assert!((e.overall.precision() - 0.75).abs() < 1e-9);
        assert!((e.overall.recall() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(e.per_competency["autonomy-5"].recall(), 0.0);
        assert_eq!(e.per_competency["leadership-1"].precision(), 0.0);
        assert_eq!(e.misses.len(), 2);
        let text = render(&e, &framework, true);
        assert!(text.contains("precision 0.75"), "{text}");
        assert!(text.contains("missing: autonomy-5"), "{text}");
        assert!(text.contains("wrong:   leadership-1"), "{text}");
    }

    #[test]
    fn items_without_expectations_or_with_unknown_ids_are_errors() {
        let framework = Framework::builtin();
        let mut bare = item(&[], &[], &[]);
        bare.extra.clear();
        assert!(matches!(
            evaluate(&snapshot(vec![bare]), &framework),
            Err(EvaluateError::MissingExpectation { .. })
        ));
        let unknown = item(&[], &["accountability-99"], &[]);
        assert!(matches!(
            evaluate(&snapshot(vec![unknown]), &framework),
            Err(EvaluateError::UnknownCompetency { .. })
        ));
    }
}
