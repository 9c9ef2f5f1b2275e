//! The rule engine: maps each evidence item to framework competencies, every match carrying the
//! rule that made it and a reason a manager can read. Rules are data (TOML); the default set is
//! built in from `data/rules/default.toml` and users can load their own with `--rules`.
//!
//! A rule fires when all of its `when` conditions hold. A `skip = true` rule marks trivial
//! items (version bumps, typo fixes, access requests): when one fires, the item gets no
//! competencies at all, whatever else matched — precision over volume.
//!
//! Matching semantics (documented in the rule file too):
//! - labels: case-insensitive; `-`, `_` and spaces are equal (`Corrective Action` =
//!   `corrective-action`); `*` is a wildcard, so `type::*` matches any value of that scope.
//! - words: whole words and phrases in the title (`title_words_any`) or title and description
//!   (`words_any`), case-insensitive; punctuation between words is ignored (`trade-off` =
//!   `trade off`); `rfc` does not match `rfcs` unless written `rfc*` (prefix); `#` is any number.
//! - projects: a path prefix ending at a `/` (`gitlab-com/gl-infra`), or a glob (`*/handbook`).
//! - paths: globs on changed paths; `*` stays within a segment, `**` spans segments.
//! - severity: 1 is the most severe; `min_severity = 2` means "severity 2 or worse" (1 or 2),
//!   `max_severity = 3` means "severity 3 or milder" (3 or 4).

pub(crate) mod engine;
pub mod evaluate;
mod matchers;
mod strength;

pub use strength::Strength;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::framework::Framework;
use crate::model::{Classification, Item, ItemKind, Role, Snapshot};

use engine::{parse_template, Compiled, CompiledSet, ItemView, Piece, PLACEHOLDERS};

/// The built-in rules file, as shipped; a starting point for users' own rules.
pub const BUILTIN_SOURCE: &str = include_str!("../../data/rules/default.toml");
const BUILTIN_ORIGIN: &str = "built-in rules (data/rules/default.toml)";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// One rule: when every condition in `when` holds for an item, the item evidences each of
/// `competencies` with score `weight`, for the reason `reason` (a template).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub competencies: Vec<String>,
    /// The score, 0 < weight ≤ 1. Skip rules leave it out.
    #[serde(default)]
    pub weight: f64,
    /// Why, in a manager's words, with placeholders for the signal: `{label}`, `{word}`,
    /// `{project}`, `{path}`, `{paths}`, `{comments}`, `{additions}`, `{child_count}`,
    /// `{severity}`, `{duration_hours}`, `{state}`, `{kind}`, `{role}`, `{title}`.
    pub reason: String,
    /// A skip rule gives nothing and stops every other rule from giving anything to the item.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip: bool,
    #[serde(default)]
    pub when: When,
}

/// The conditions of a rule; all that are given must hold. Lists are "any of".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kind: Vec<ItemKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role: Vec<Role>,
    /// Item states as GitLab names them: `merged`, `opened`, `closed`, …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub state_any: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels_any: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_labels_any: Vec<String>,
    /// Words or phrases in the title or the description.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words_any: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_words_any: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub title_words_any: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_title_words_any: Vec<String>,
    /// The item's project path (or group path, for epics).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub project_any: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_project_any: Vec<String>,
    /// At least one changed path matches one of these globs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths_any: Vec<String>,
    /// Every changed path matches one of these globs (e.g. a documentation-only change).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths_all: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_comments: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_additions: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_child_count: Option<u32>,
    /// Severity `min_severity` or worse (1 is the most severe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<u8>,
    /// Severity `max_severity` or milder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_severity: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_duration_hours: Option<f64>,
    /// Incidents: timeline events the subject wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_timeline_events: Option<u32>,
}

impl When {
    /// The condition keys that are set, for validation messages.
    fn keys(&self) -> Vec<&'static str> {
        let lists: [(&'static str, bool); 15] = [
            ("kind", !self.kind.is_empty()),
            ("role", !self.role.is_empty()),
            ("state_any", !self.state_any.is_empty()),
            ("labels_any", !self.labels_any.is_empty()),
            ("not_labels_any", !self.not_labels_any.is_empty()),
            ("words_any", !self.words_any.is_empty()),
            ("not_words_any", !self.not_words_any.is_empty()),
            ("title_words_any", !self.title_words_any.is_empty()),
            ("not_title_words_any", !self.not_title_words_any.is_empty()),
            ("project_any", !self.project_any.is_empty()),
            ("not_project_any", !self.not_project_any.is_empty()),
            ("paths_any", !self.paths_any.is_empty()),
            ("paths_all", !self.paths_all.is_empty()),
            ("min_comments", self.min_comments.is_some()),
            ("approved", self.approved.is_some()),
        ];
        let scalars: [(&'static str, bool); 6] = [
            ("min_additions", self.min_additions.is_some()),
            ("min_child_count", self.min_child_count.is_some()),
            ("min_severity", self.min_severity.is_some()),
            ("max_severity", self.max_severity.is_some()),
            ("min_duration_hours", self.min_duration_hours.is_some()),
            ("min_timeline_events", self.min_timeline_events.is_some()),
        ];
        lists
            .into_iter()
            .chain(scalars)
            .filter(|(_, set)| *set)
            .map(|(key, _)| key)
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error("cannot read rules file {path}: {source}\n  hint: check the path given to --rules")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid rules file: {detail}\n  hint: a rules file has `name = \"…\"` and `[[rules]]` tables; data/rules/default.toml in the gl-evidence sources is a complete example")]
    Parse { path: String, detail: String },
    #[error("{path}: rule {rule}{}: {detail}\n  hint: a rule has the keys id, competencies, weight, reason, skip and when; the keys of `when` are listed at the top of data/rules/default.toml", key_part(.key))]
    Rule {
        path: String,
        /// The rule's id in backticks, or its position (`#3`) when it has none.
        rule: String,
        /// The offending key, such as `when.kind`, when it is known.
        key: Option<String>,
        detail: String,
    },
    #[error("{origin} is not a usable rule set:{}", bullets(.problems))]
    Invalid {
        origin: String,
        problems: Vec<String>,
    },
}

fn key_part(key: &Option<String>) -> String {
    key.as_ref()
        .map(|k| format!(", key `{k}`"))
        .unwrap_or_default()
}

fn bullets(problems: &[String]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

impl RuleSet {
    /// The default rules, parsed from the embedded file (once per process).
    pub fn builtin() -> RuleSet {
        static BUILTIN: OnceLock<RuleSet> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                RuleSet::from_toml_str(BUILTIN_SOURCE, BUILTIN_ORIGIN)
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .clone()
    }

    /// Reads a user rules file and checks everything that does not need a framework; call
    /// [`RuleSet::validate`] to check competency ids too (`classify` does).
    pub fn load(path: &Path) -> Result<RuleSet, ClassifyError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ClassifyError::Read {
            path: shown.clone(),
            source,
        })?;
        RuleSet::from_toml_str(&text, &shown)
    }

    /// Parses rules TOML; `origin` names the input in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<RuleSet, ClassifyError> {
        let rules: RuleSet = toml::from_str(text).map_err(|err| locate(text, origin, err))?;
        let problems = rules.problems(None);
        if problems.is_empty() {
            Ok(rules)
        } else {
            Err(ClassifyError::Invalid {
                origin: origin.to_string(),
                problems,
            })
        }
    }

    /// Applies the user's adjustments from config: rules added from other files, default rules
    /// switched off by id, weights changed by id. Unknown ids are errors, so a typo never
    /// silently leaves a rule on.
    pub fn customise(
        &mut self,
        extra: Vec<RuleSet>,
        disable: &[String],
        weights: &BTreeMap<String, f64>,
        origin: &str,
    ) -> Result<(), ClassifyError> {
        for more in extra {
            self.name = format!("{} + {}", self.name, more.name);
            self.rules.extend(more.rules);
        }
        let mut problems = Vec::new();
        for id in disable {
            if !self.rules.iter().any(|r| &r.id == id) {
                problems.push(format!("`disable` names rule `{id}`, which does not exist"));
            }
        }
        self.rules.retain(|r| !disable.contains(&r.id));
        for (id, weight) in weights {
            match self.rules.iter_mut().find(|r| &r.id == id) {
                Some(rule) if rule.skip => problems.push(format!(
                    "`weights` names skip rule `{id}`, which gives no score"
                )),
                Some(rule) if *weight > 0.0 && *weight <= 1.0 => rule.weight = *weight,
                Some(_) => problems.push(format!(
                    "`weights.{id}` is {weight}: use a number above 0 and at most 1, or `disable` the rule"
                )),
                None => problems.push(format!("`weights` names rule `{id}`, which does not exist")),
            }
        }
        if !disable.is_empty() || !weights.is_empty() {
            self.name = format!("{} (customised)", self.name);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ClassifyError::Invalid {
                origin: origin.to_string(),
                problems,
            })
        }
    }

    /// Checks the rules against a framework: competency ids exist, rule ids are unique, weights
    /// are in range, patterns and reason templates are well formed. Reports every problem.
    pub fn validate(&self, framework: &Framework) -> Result<(), ClassifyError> {
        let problems = self.problems(Some(framework));
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ClassifyError::Invalid {
                origin: format!("rule set `{}`", self.name),
                problems,
            })
        }
    }

    fn problems(&self, framework: Option<&Framework>) -> Vec<String> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems
                .push("`name` is empty: name the rule set, e.g. name = \"my-team\"".to_string());
        }
        if self.rules.is_empty() {
            problems.push("there are no `[[rules]]`".to_string());
        }
        let mut seen = HashSet::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let at = if rule.id.is_empty() {
                format!("rule #{}", index + 1)
            } else {
                format!("rule `{}`", rule.id)
            };
            let mut say = |problem: String| problems.push(format!("{at}: {problem}"));
            if rule.id.trim().is_empty() {
                say("has an empty `id`".to_string());
            } else if rule.id == crate::model::CURATED_RULE {
                say("the id `curated` is reserved for the competencies a person sets in a curation file: rename the rule".to_string());
            } else if !seen.insert(rule.id.as_str()) {
                say("the id is used by an earlier rule too: rule ids must be unique".to_string());
            }
            if rule.skip {
                if !rule.competencies.is_empty() {
                    say(
                        "a skip rule gives no competencies: remove `competencies` or `skip`"
                            .to_string(),
                    );
                }
            } else {
                if rule.competencies.is_empty() {
                    say(
                        "`competencies` is empty: list the competency ids it evidences".to_string(),
                    );
                }
                if !(rule.weight > 0.0 && rule.weight <= 1.0) {
                    say(format!(
                        "`weight` must be above 0 and at most 1, got {} (is it missing?)",
                        rule.weight
                    ));
                }
            }
            if let Some(framework) = framework {
                for id in &rule.competencies {
                    if framework.competency(id).is_none() {
                        say(format!(
                            "unknown competency `{id}` in framework `{}` (run `gl-evidence framework` to list the ids)",
                            framework.id
                        ));
                    }
                }
            }
            let keys = rule.when.keys();
            if keys.is_empty() {
                say("`when` has no conditions, so it would match every item".to_string());
            }
            if rule.reason.trim().is_empty() {
                say(
                    "`reason` is empty: say why the item is evidence, in a manager's words"
                        .to_string(),
                );
            }
            match parse_template(&rule.reason) {
                Err(e) => say(format!("`reason` {e}")),
                Ok(pieces) => {
                    for piece in pieces {
                        let Piece::Placeholder(name) = piece else {
                            continue;
                        };
                        let needs = PLACEHOLDERS
                            .iter()
                            .find(|(n, _)| *n == name)
                            .map(|(_, needs)| *needs)
                            .unwrap_or_default();
                        if !needs.is_empty() && !needs.iter().any(|k| keys.contains(k)) {
                            say(format!(
                                "`reason` uses `{{{name}}}`, which needs a `{}` condition to have a value",
                                needs.join("` or `")
                            ));
                        }
                    }
                }
            }
            for error in Compiled::new(rule).pattern_errors() {
                say(error);
            }
            let w = &rule.when;
            for (key, value) in [
                ("min_severity", w.min_severity),
                ("max_severity", w.max_severity),
            ] {
                if let Some(v) = value {
                    if !(1..=4).contains(&v) {
                        say(format!(
                            "`{key}` must be 1-4 (1 is the most severe), got {v}"
                        ));
                    }
                }
            }
            if let (Some(min), Some(max)) = (w.min_severity, w.max_severity) {
                if max > min {
                    say(format!(
                        "no severity is both {min} or worse (`min_severity`) and {max} or milder (`max_severity`)"
                    ));
                }
            }
            if let Some(h) = w.min_duration_hours {
                if !(h.is_finite() && h >= 0.0) {
                    say(format!(
                        "`min_duration_hours` must be a number of hours ≥ 0, got {h}"
                    ));
                }
            }
        }
        problems
    }
}

/// Turns a serde error into one that names the rule (by id) and the key when it can.
fn locate(text: &str, origin: &str, err: toml::de::Error) -> ClassifyError {
    #[derive(Deserialize)]
    struct Headers {
        #[serde(default)]
        rules: Vec<toml::Spanned<toml::Value>>,
    }
    let detail = err.to_string().trim_end().to_string();
    let parse = || ClassifyError::Parse {
        path: origin.to_string(),
        detail: detail.clone(),
    };
    let (Some(span), Ok(headers)) = (err.span(), toml::from_str::<Headers>(text)) else {
        return parse();
    };
    // A `[[rules]]` table's span is its header, so the error is in the last rule that starts
    // before it. Re-deserialising that rule alone confirms it and yields the key path.
    let Some((index, spanned)) = headers
        .rules
        .iter()
        .enumerate()
        .rev()
        .find(|(_, r)| r.span().start <= span.start)
    else {
        return parse();
    };
    let value = spanned.get_ref();
    let Err(rule_err) = value.clone().try_into::<Rule>() else {
        return parse();
    };
    let rule = match value.get("id").and_then(toml::Value::as_str) {
        Some(id) => format!("`{id}`"),
        None => format!("#{}", index + 1),
    };
    let key = rule_err.to_string().lines().rev().find_map(|line| {
        line.strip_prefix("in `")?
            .strip_suffix('`')
            .map(str::to_string)
    });
    ClassifyError::Rule {
        path: origin.to_string(),
        rule,
        key,
        detail,
    }
}

/// Sets every item's competencies (replacing any earlier classification) and records which
/// framework and rules did it. Fails only when the rules do not validate against the framework.
pub fn classify(
    snapshot: &mut Snapshot,
    framework: &Framework,
    rules: &RuleSet,
) -> Result<(), ClassifyError> {
    rules.validate(framework)?;
    let compiled = CompiledSet::new(rules);
    for item in &mut snapshot.items {
        item.competencies = compiled.classify(item);
        // The rules' answer only: a curation file is applied on top (`crate::curation::apply`).
        item.curation = None;
    }
    snapshot.classification = Some(Classification {
        framework: framework.id.clone(),
        rules: rules.name.clone(),
        extra: BTreeMap::new(),
    });
    Ok(())
}

/// What one rule made of one item, for `explain`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleOutcome {
    pub rule: String,
    pub skip: bool,
    pub competencies: Vec<String>,
    pub weight: f64,
    /// Every condition held.
    pub fired: bool,
    /// The rendered reason, when it fired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The conditions that held, in words.
    pub passed: Vec<String>,
    /// The conditions that failed, in words.
    pub failed: Vec<String>,
    /// The skip rule that discarded this rule's match, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed_by: Option<String>,
}

impl fmt::Display for RuleOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gives = if self.skip {
            "skip".to_string()
        } else {
            format!("{} @ {}", self.competencies.join(", "), self.weight)
        };
        match (&self.reason, &self.suppressed_by) {
            (Some(reason), None) => write!(f, "✓ {} → {gives}: {reason}", self.rule),
            (Some(reason), Some(by)) => {
                write!(
                    f,
                    "– {} → {gives}: {reason} (discarded: skip rule `{by}` fired)",
                    self.rule
                )
            }
            (None, _) => write!(f, "✗ {} → {gives}: {}", self.rule, self.failed.join("; ")),
        }
    }
}

/// Every rule's outcome for one item, in rule-file order: fired (with its reason) or the
/// conditions that failed. Does not validate the rules; a bad pattern shows as a failed check.
pub fn explain(item: &Item, rules: &RuleSet) -> Vec<RuleOutcome> {
    let view = ItemView::new(item);
    let mut outcomes: Vec<RuleOutcome> = rules
        .rules
        .iter()
        .map(|rule| {
            let evaluation = Compiled::new(rule).evaluate(&view, false);
            RuleOutcome {
                rule: rule.id.clone(),
                skip: rule.skip,
                competencies: rule.competencies.clone(),
                weight: rule.weight,
                fired: evaluation.fired(),
                reason: evaluation.reason,
                passed: evaluation.passed,
                failed: evaluation.failed,
                suppressed_by: None,
            }
        })
        .collect();
    if let Some(skip) = outcomes
        .iter()
        .find(|o| o.skip && o.fired)
        .map(|o| o.rule.clone())
    {
        for outcome in outcomes.iter_mut().filter(|o| !o.skip && o.fired) {
            outcome.suppressed_by = Some(skip.clone());
        }
    }
    outcomes
}

#[cfg(test)]
mod tests;
