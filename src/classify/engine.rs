//! Evaluating rules against items: compiled patterns, per-condition checks with the text
//! `explain` shows, reason templates, and merging matches into one per competency.

use std::collections::BTreeMap;

use crate::model::{CompetencyMatch, Item, ItemKind};

use super::matchers::{
    normalise_label, tokenise, Glob, LabelPattern, Phrase, ProjectPattern, Token,
};
use super::{Rule, When};

/// A rule with its patterns parsed. Built even from a rule that does not validate: a bad
/// pattern becomes a check that always fails and says why, so `explain` never panics.
pub(crate) struct Compiled<'r> {
    pub(crate) rule: &'r Rule,
    labels_any: Vec<Result<LabelPattern, String>>,
    not_labels_any: Vec<Result<LabelPattern, String>>,
    words_any: Vec<Result<Phrase, String>>,
    title_words_any: Vec<Result<Phrase, String>>,
    not_words_any: Vec<Result<Phrase, String>>,
    not_title_words_any: Vec<Result<Phrase, String>>,
    project_any: Vec<Result<ProjectPattern, String>>,
    not_project_any: Vec<Result<ProjectPattern, String>>,
    paths_any: Vec<Result<Glob, String>>,
    paths_all: Vec<Result<Glob, String>>,
}

impl<'r> Compiled<'r> {
    pub(crate) fn new(rule: &'r Rule) -> Self {
        let w = &rule.when;
        Compiled {
            rule,
            labels_any: w
                .labels_any
                .iter()
                .map(|p| LabelPattern::parse(p))
                .collect(),
            not_labels_any: w
                .not_labels_any
                .iter()
                .map(|p| LabelPattern::parse(p))
                .collect(),
            words_any: w.words_any.iter().map(|p| Phrase::parse(p)).collect(),
            title_words_any: w.title_words_any.iter().map(|p| Phrase::parse(p)).collect(),
            not_words_any: w.not_words_any.iter().map(|p| Phrase::parse(p)).collect(),
            not_title_words_any: w
                .not_title_words_any
                .iter()
                .map(|p| Phrase::parse(p))
                .collect(),
            project_any: w
                .project_any
                .iter()
                .map(|p| ProjectPattern::parse(p))
                .collect(),
            not_project_any: w
                .not_project_any
                .iter()
                .map(|p| ProjectPattern::parse(p))
                .collect(),
            paths_any: w.paths_any.iter().map(|p| Glob::parse(p)).collect(),
            paths_all: w.paths_all.iter().map(|p| Glob::parse(p)).collect(),
        }
    }

    /// Every pattern error, for validation.
    pub(crate) fn pattern_errors(&self) -> Vec<String> {
        fn errs<T>(key: &str, list: &[Result<T, String>], out: &mut Vec<String>) {
            out.extend(
                list.iter()
                    .filter_map(|r| r.as_ref().err())
                    .map(|e| format!("`{key}`: {e}")),
            );
        }
        let mut out = Vec::new();
        errs("labels_any", &self.labels_any, &mut out);
        errs("not_labels_any", &self.not_labels_any, &mut out);
        errs("words_any", &self.words_any, &mut out);
        errs("title_words_any", &self.title_words_any, &mut out);
        errs("not_words_any", &self.not_words_any, &mut out);
        errs("not_title_words_any", &self.not_title_words_any, &mut out);
        errs("project_any", &self.project_any, &mut out);
        errs("not_project_any", &self.not_project_any, &mut out);
        errs("paths_any", &self.paths_any, &mut out);
        errs("paths_all", &self.paths_all, &mut out);
        out
    }
}

/// What an item offers to matching, computed once per item rather than once per rule.
pub(crate) struct ItemView<'a> {
    item: &'a Item,
    /// (as written, normalised)
    labels: Vec<(&'a str, String)>,
    title: Vec<Token>,
    description: Vec<Token>,
    severity: Option<u8>,
}

impl<'a> ItemView<'a> {
    pub(crate) fn new(item: &'a Item) -> Self {
        let labels: Vec<(&str, String)> = item
            .labels
            .iter()
            .map(|l| (l.as_str(), normalise_label(l)))
            .collect();
        // Harvest fills `severity` for incidents; other items carry it only as a label.
        let severity = item.severity.or_else(|| {
            labels
                .iter()
                .filter_map(|(_, n)| {
                    n.strip_prefix("severity::")?
                        .trim_start_matches('s')
                        .parse()
                        .ok()
                })
                .min()
        });
        ItemView {
            item,
            labels,
            title: tokenise(&item.title),
            description: tokenise(item.description.as_deref().unwrap_or("")),
            severity,
        }
    }

    fn places(&self) -> impl Iterator<Item = &'a str> {
        self.item
            .project
            .as_deref()
            .into_iter()
            .chain(self.item.group.as_deref())
    }
}

/// The concrete signals a rule matched, for its reason template.
#[derive(Default)]
struct Bindings {
    label: Option<String>,
    word: Option<String>,
    project: Option<String>,
    path: Option<String>,
    paths: usize,
}

/// One rule against one item.
pub(crate) struct Evaluation {
    pub(crate) passed: Vec<String>,
    pub(crate) failed: Vec<String>,
    /// The rendered reason, when every condition held.
    pub(crate) reason: Option<String>,
}

impl Evaluation {
    pub(crate) fn fired(&self) -> bool {
        self.reason.is_some()
    }
}

fn list<T: std::fmt::Display>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn quoted(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("“{v}”"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn first_error<T>(patterns: &[Result<T, String>]) -> Option<&String> {
    patterns.iter().find_map(|p| p.as_ref().err())
}

/// The text a phrase matched first, in the title and then the description.
fn find_words(
    phrases: &[Result<Phrase, String>],
    title: &[Token],
    title_text: &str,
    description: Option<(&[Token], &str)>,
) -> Option<String> {
    for phrase in phrases.iter().flatten() {
        if let Some((s, e)) = phrase.find(title) {
            return Some(title_text[s..e].to_string());
        }
        if let Some((tokens, text)) = description {
            if let Some((s, e)) = phrase.find(tokens) {
                return Some(text[s..e].to_string());
            }
        }
    }
    None
}

impl Compiled<'_> {
    /// Checks every condition; with `stop_early` it returns at the first failure, which is all
    /// `classify` needs. Passed and failed texts are phrased for a person reading `explain`.
    pub(crate) fn evaluate(&self, view: &ItemView, stop_early: bool) -> Evaluation {
        let item = view.item;
        let w: &When = &self.rule.when;
        let mut passed = Vec::new();
        let mut failed = Vec::new();
        let mut b = Bindings::default();
        let description = item.description.as_deref().unwrap_or("");
        let desc = Some((view.description.as_slice(), description));

        macro_rules! check {
            ($ok:expr, $pass:expr, $fail:expr) => {
                if $ok {
                    passed.push($pass);
                } else {
                    failed.push($fail);
                    if stop_early {
                        return Evaluation {
                            passed,
                            failed,
                            reason: None,
                        };
                    }
                }
            };
        }

        if !w.kind.is_empty() {
            check!(
                w.kind.contains(&item.kind),
                format!("kind is {}", item.kind),
                format!("kind is {}, rule needs {}", item.kind, list(&w.kind))
            );
        }
        if !w.role.is_empty() {
            check!(
                w.role.contains(&item.role),
                format!("role is {}", item.role),
                format!("role is {}, rule needs {}", item.role, list(&w.role))
            );
        }
        if !w.state_any.is_empty() {
            let state = item.state.as_deref().unwrap_or("");
            check!(
                w.state_any.iter().any(|s| s.eq_ignore_ascii_case(state)),
                format!("state is {state}"),
                format!(
                    "state is {}, rule needs {}",
                    if state.is_empty() { "unknown" } else { state },
                    list(&w.state_any)
                )
            );
        }
        if !w.project_any.is_empty() {
            let hit = view
                .places()
                .find(|place| self.project_any.iter().flatten().any(|p| p.matches(place)));
            let shown = view.places().next().unwrap_or("unknown");
            match first_error(&self.project_any) {
                Some(e) => check!(false, String::new(), format!("invalid `project_any`: {e}")),
                None => check!(
                    hit.is_some(),
                    format!("project {} matches", hit.unwrap_or_default()),
                    format!("project {shown} is not under {}", list(&w.project_any))
                ),
            }
            b.project = hit.map(str::to_string);
        }
        if !w.not_project_any.is_empty() {
            let hit = view.places().find(|place| {
                self.not_project_any
                    .iter()
                    .flatten()
                    .any(|p| p.matches(place))
            });
            check!(
                hit.is_none(),
                format!("project is not under {}", list(&w.not_project_any)),
                format!("project {} is excluded", hit.unwrap_or_default())
            );
        }
        if !w.labels_any.is_empty() {
            let hit = view
                .labels
                .iter()
                .find(|(_, n)| self.labels_any.iter().flatten().any(|p| p.matches(n)));
            let has = if item.labels.is_empty() {
                "the item has no labels".to_string()
            } else {
                format!("the item has {}", list(&item.labels))
            };
            match first_error(&self.labels_any) {
                Some(e) => check!(false, String::new(), format!("invalid `labels_any`: {e}")),
                None => check!(
                    hit.is_some(),
                    format!("has label `{}`", hit.map(|h| h.0).unwrap_or_default()),
                    format!("none of the labels {} ({has})", list(&w.labels_any))
                ),
            }
            b.label = hit.map(|h| h.0.to_string());
        }
        if !w.not_labels_any.is_empty() {
            let hit = view
                .labels
                .iter()
                .find(|(_, n)| self.not_labels_any.iter().flatten().any(|p| p.matches(n)));
            check!(
                hit.is_none(),
                format!("none of the excluded labels {}", list(&w.not_labels_any)),
                format!(
                    "has excluded label `{}`",
                    hit.map(|h| h.0).unwrap_or_default()
                )
            );
        }
        if !w.title_words_any.is_empty() {
            let hit = find_words(&self.title_words_any, &view.title, &item.title, None);
            match first_error(&self.title_words_any) {
                Some(e) => check!(
                    false,
                    String::new(),
                    format!("invalid `title_words_any`: {e}")
                ),
                None => check!(
                    hit.is_some(),
                    format!("title says “{}”", hit.clone().unwrap_or_default()),
                    format!("title has none of {}", quoted(&w.title_words_any))
                ),
            }
            b.word = hit;
        }
        if !w.not_title_words_any.is_empty() {
            let hit = find_words(&self.not_title_words_any, &view.title, &item.title, None);
            check!(
                hit.is_none(),
                format!(
                    "title has none of the excluded {}",
                    quoted(&w.not_title_words_any)
                ),
                format!("title says excluded “{}”", hit.unwrap_or_default())
            );
        }
        if !w.words_any.is_empty() {
            let hit = find_words(&self.words_any, &view.title, &item.title, desc);
            match first_error(&self.words_any) {
                Some(e) => check!(false, String::new(), format!("invalid `words_any`: {e}")),
                None => check!(
                    hit.is_some(),
                    format!("mentions “{}”", hit.clone().unwrap_or_default()),
                    format!(
                        "title and description mention none of {}",
                        quoted(&w.words_any)
                    )
                ),
            }
            // `words_any` is usually the more specific signal, so it wins the {word} slot.
            if hit.is_some() {
                b.word = hit;
            }
        }
        if !w.not_words_any.is_empty() {
            let hit = find_words(&self.not_words_any, &view.title, &item.title, desc);
            check!(
                hit.is_none(),
                format!("mentions none of the excluded {}", quoted(&w.not_words_any)),
                format!("mentions excluded “{}”", hit.unwrap_or_default())
            );
        }
        if !w.paths_any.is_empty() {
            let matching: Vec<&String> = item
                .changed_paths
                .iter()
                .filter(|path| self.paths_any.iter().flatten().any(|g| g.matches(path)))
                .collect();
            match first_error(&self.paths_any) {
                Some(e) => check!(false, String::new(), format!("invalid `paths_any`: {e}")),
                None => check!(
                    !matching.is_empty(),
                    format!(
                        "changes {}",
                        matching.first().map(|p| p.as_str()).unwrap_or_default()
                    ),
                    if item.changed_paths.is_empty() {
                        format!(
                            "changed paths unknown, rule needs one matching {}",
                            list(&w.paths_any)
                        )
                    } else {
                        format!("no changed path matches {}", list(&w.paths_any))
                    }
                ),
            }
            b.path = matching.first().map(|p| p.to_string());
            b.paths = matching.len();
        }
        if !w.paths_all.is_empty() {
            let stray = item
                .changed_paths
                .iter()
                .find(|path| !self.paths_all.iter().flatten().any(|g| g.matches(path)));
            match first_error(&self.paths_all) {
                Some(e) => check!(false, String::new(), format!("invalid `paths_all`: {e}")),
                None => check!(
                    !item.changed_paths.is_empty() && stray.is_none(),
                    format!("every changed path matches {}", list(&w.paths_all)),
                    match stray {
                        Some(path) =>
                            format!("changed path {path} does not match {}", list(&w.paths_all)),
                        None => format!(
                            "changed paths unknown, rule needs all to match {}",
                            list(&w.paths_all)
                        ),
                    }
                ),
            }
            if b.path.is_none() {
                b.path = item.changed_paths.first().cloned();
                b.paths = item.changed_paths.len();
            }
        }
        if let Some(min) = w.min_comments {
            check!(
                item.comments.is_some_and(|c| c >= min),
                format!(
                    "{} comments (at least {min})",
                    item.comments.unwrap_or_default()
                ),
                match item.comments {
                    Some(c) => format!("{c} comments, rule needs at least {min}"),
                    None => format!("comment count unknown, rule needs at least {min}"),
                }
            );
        }
        if let Some(want) = w.approved {
            check!(
                item.approved == Some(want),
                if want {
                    "approved".to_string()
                } else {
                    "not approved".to_string()
                },
                match (item.approved, want) {
                    (None, _) => "approval unknown".to_string(),
                    (_, true) => "not approved, rule needs an approval".to_string(),
                    (_, false) => "approved, rule needs no approval".to_string(),
                }
            );
        }
        if let Some(min) = w.min_additions {
            check!(
                item.additions.is_some_and(|a| a >= min),
                format!(
                    "{} lines added (at least {min})",
                    item.additions.unwrap_or_default()
                ),
                match item.additions {
                    Some(a) => format!("{a} lines added, rule needs at least {min}"),
                    None => format!("lines added unknown, rule needs at least {min}"),
                }
            );
        }
        if let Some(min) = w.min_child_count {
            check!(
                item.child_count.is_some_and(|c| c >= min),
                format!(
                    "{} child items (at least {min})",
                    item.child_count.unwrap_or_default()
                ),
                match item.child_count {
                    Some(c) => format!("{c} child items, rule needs at least {min}"),
                    None => format!("child count unknown, rule needs at least {min}"),
                }
            );
        }
        // Severity 1 is the most severe: `min_severity = 2` asks for severity 2 or worse (1, 2).
        if let Some(min) = w.min_severity {
            check!(
                view.severity.is_some_and(|s| s <= min),
                format!(
                    "severity {} (at least as severe as {min})",
                    view.severity.unwrap_or_default()
                ),
                match view.severity {
                    Some(s) => format!("severity {s} is milder than the minimum, severity {min}"),
                    None => format!("severity unknown, rule needs severity {min} or worse"),
                }
            );
        }
        if let Some(max) = w.max_severity {
            check!(
                view.severity.is_some_and(|s| s >= max),
                format!(
                    "severity {} (no more severe than {max})",
                    view.severity.unwrap_or_default()
                ),
                match view.severity {
                    Some(s) =>
                        format!("severity {s} is more severe than the maximum, severity {max}"),
                    None => format!("severity unknown, rule needs severity {max} or milder"),
                }
            );
        }
        if let Some(min) = w.min_duration_hours {
            check!(
                item.duration_hours.is_some_and(|h| h >= min),
                format!(
                    "{} hours (at least {})",
                    hours(item.duration_hours.unwrap_or_default()),
                    hours(min)
                ),
                match item.duration_hours {
                    Some(h) => format!("{} hours, rule needs at least {}", hours(h), hours(min)),
                    None => format!("duration unknown, rule needs at least {} hours", hours(min)),
                }
            );
        }

        let reason = failed
            .is_empty()
            .then(|| render(&self.rule.reason, &b, view));
        Evaluation {
            passed,
            failed,
            reason,
        }
    }
}

fn hours(h: f64) -> String {
    let text = format!("{h:.1}");
    text.strip_suffix(".0").map(str::to_string).unwrap_or(text)
}

fn kind_singular(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::MergeRequest => "merge request",
        ItemKind::Review => "review",
        ItemKind::Issue => "issue",
        ItemKind::Epic => "epic",
        ItemKind::Incident => "incident",
        ItemKind::OncallShift => "on-call shift",
        ItemKind::Interview => "interview",
    }
}

/// Placeholders a reason may use, and the condition that guarantees a value for each (so a
/// reason never says "unknown" about the very signal it cites).
pub(crate) const PLACEHOLDERS: &[(&str, &[&str])] = &[
    ("label", &["labels_any"]),
    ("word", &["words_any", "title_words_any"]),
    ("path", &["paths_any", "paths_all"]),
    ("paths", &["paths_any", "paths_all"]),
    ("comments", &["min_comments"]),
    ("additions", &["min_additions"]),
    ("child_count", &["min_child_count"]),
    ("severity", &["min_severity", "max_severity"]),
    ("duration_hours", &["min_duration_hours"]),
    ("state", &["state_any"]),
    ("project", &[]),
    ("kind", &[]),
    ("role", &[]),
    ("title", &[]),
];

/// Splits a template into literal text and placeholder names; `{{` and `}}` are literal braces.
pub(crate) fn parse_template(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    let mut literal = String::new();
    while let Some(i) = rest.find(['{', '}']) {
        literal.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{").or_else(|| tail.strip_prefix("}}")) {
            literal.push(tail.as_bytes()[0] as char);
            rest = after;
        } else if tail.starts_with('}') {
            return Err("has a `}` without a `{` (write `}}` for a literal brace)".to_string());
        } else {
            let end = tail
                .find('}')
                .ok_or("has a `{` without a closing `}` (write `{{` for a literal brace)")?;
            let name = &tail[1..end];
            if !PLACEHOLDERS.iter().any(|(known, _)| *known == name) {
                return Err(format!(
                    "uses unknown placeholder `{{{name}}}`; known: {}",
                    PLACEHOLDERS
                        .iter()
                        .map(|(n, _)| format!("{{{n}}}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Placeholder(name));
            rest = &tail[end + 1..];
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

pub(crate) enum Piece<'t> {
    Text(String),
    Placeholder(&'t str),
}

fn render(template: &str, b: &Bindings, view: &ItemView) -> String {
    let item = view.item;
    // A template that does not parse was reported by validation; show it as written.
    let Ok(pieces) = parse_template(template) else {
        return template.to_string();
    };
    let unknown = || "unknown".to_string();
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(&text),
            Piece::Placeholder(name) => out.push_str(&match name {
                "label" => b.label.clone().unwrap_or_else(unknown),
                "word" => b.word.clone().unwrap_or_else(unknown),
                "path" => b.path.clone().unwrap_or_else(unknown),
                "paths" => b.paths.to_string(),
                "comments" => item.comments.map_or_else(unknown, |c| c.to_string()),
                "additions" => item.additions.map_or_else(unknown, |a| a.to_string()),
                "child_count" => item.child_count.map_or_else(unknown, |c| c.to_string()),
                "severity" => view.severity.map_or_else(unknown, |s| s.to_string()),
                "duration_hours" => item.duration_hours.map_or_else(unknown, hours),
                "state" => item.state.clone().unwrap_or_else(unknown),
                "project" => b
                    .project
                    .clone()
                    .or_else(|| view.places().next().map(str::to_string))
                    .unwrap_or_else(unknown),
                "kind" => kind_singular(item.kind).to_string(),
                "role" => item.role.to_string(),
                "title" => item.title.clone(),
                _ => unknown(),
            }),
        }
    }
    out
}

/// One match per competency: the highest score wins (the earlier rule on a tie) and names
/// the rule; every distinct reason that gave the competency is kept, strongest first.
pub(crate) fn merge(fired: &[(&Rule, String)]) -> Vec<CompetencyMatch> {
    let mut order: Vec<usize> = (0..fired.len()).collect();
    order.sort_by(|&a, &b| {
        fired[b]
            .0
            .weight
            .total_cmp(&fired[a].0.weight)
            .then(a.cmp(&b))
    });
    let mut by_id: BTreeMap<&str, CompetencyMatch> = BTreeMap::new();
    for index in order {
        let (rule, reason) = &fired[index];
        for id in &rule.competencies {
            let entry = by_id.entry(id.as_str()).or_insert_with(|| CompetencyMatch {
                id: id.clone(),
                score: rule.weight,
                rule: rule.id.clone(),
                reasons: Vec::new(),
            });
            if !entry.reasons.contains(reason) {
                entry.reasons.push(reason.clone());
            }
        }
    }
    let mut matches: Vec<CompetencyMatch> = by_id.into_values().collect();
    matches.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    matches
}
