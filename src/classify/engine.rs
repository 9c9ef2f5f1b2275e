//! Evaluating rules against items: compiled patterns, per-condition checks with the text
//! `explain` shows, reason templates, and merging matches into one per competency.
//!
//! There are two ways through a rule, built on the same matching helpers: [`Compiled::matches`],
//! the fast one `classify` uses (stops at the first failing condition, builds no text), and
//! [`Compiled::evaluate`], which words every condition for `explain`. Both render the reason
//! with [`Compiled::render`], so a rule fires with the same reason either way.

use std::cell::OnceCell;
use std::fmt::Write as _;

use crate::model::{CompetencyMatch, Item, ItemKind, Role};

use super::matchers::{
    label_bit, normalise_label_into, tokenise, Glob, LabelList, PathView, PhraseList, PlaceView,
    ProjectPattern, Words,
};
use super::{Rule, RuleSet, When};

/// A rule with its patterns parsed. Built even from a rule that does not validate: a bad
/// pattern becomes a check that always fails and says why, so `explain` never panics.
pub(crate) struct Compiled<'r> {
    pub(crate) rule: &'r Rule,
    labels_any: LabelList,
    not_labels_any: LabelList,
    words_any: PhraseList,
    title_words_any: PhraseList,
    not_words_any: PhraseList,
    not_title_words_any: PhraseList,
    project_any: Vec<Result<ProjectPattern, String>>,
    not_project_any: Vec<Result<ProjectPattern, String>>,
    paths_any: Vec<Result<Glob, String>>,
    paths_all: Vec<Result<Glob, String>>,
    /// The reason template, parsed; `None` when it does not parse (it is then shown as written).
    template: Option<Vec<Piece<'r>>>,
    /// A condition that must match has a bad pattern, so the rule can never fire.
    broken: bool,
}

impl<'r> Compiled<'r> {
    pub(crate) fn new(rule: &'r Rule) -> Self {
        let w = &rule.when;
        let mut compiled = Compiled {
            rule,
            labels_any: LabelList::parse(&w.labels_any),
            not_labels_any: LabelList::parse(&w.not_labels_any),
            words_any: PhraseList::parse(&w.words_any),
            title_words_any: PhraseList::parse(&w.title_words_any),
            not_words_any: PhraseList::parse(&w.not_words_any),
            not_title_words_any: PhraseList::parse(&w.not_title_words_any),
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
            template: parse_template(&rule.reason).ok(),
            broken: false,
        };
        // `evaluate` fails these conditions outright on a bad pattern (the `not_` lists just
        // skip bad patterns), so `matches` can reject the rule up front.
        compiled.broken = first_error(&compiled.labels_any.patterns).is_some()
            || first_error(&compiled.words_any.phrases).is_some()
            || first_error(&compiled.title_words_any.phrases).is_some()
            || first_error(&compiled.project_any).is_some()
            || first_error(&compiled.paths_any).is_some()
            || first_error(&compiled.paths_all).is_some();
        compiled
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
        errs("labels_any", &self.labels_any.patterns, &mut out);
        errs("not_labels_any", &self.not_labels_any.patterns, &mut out);
        errs("words_any", &self.words_any.phrases, &mut out);
        errs("title_words_any", &self.title_words_any.phrases, &mut out);
        errs("not_words_any", &self.not_words_any.phrases, &mut out);
        errs(
            "not_title_words_any",
            &self.not_title_words_any.phrases,
            &mut out,
        );
        errs("project_any", &self.project_any, &mut out);
        errs("not_project_any", &self.not_project_any, &mut out);
        errs("paths_any", &self.paths_any, &mut out);
        errs("paths_all", &self.paths_all, &mut out);
        out
    }
}

/// A whole rule set compiled once for `classify`, with the rules that can apply to each kind
/// and role of item listed in advance (in rule-file order), so an item is only checked
/// against those.
pub(crate) struct CompiledSet<'r> {
    rules: Vec<Compiled<'r>>,
    /// One entry per [`ItemKind::ALL`].
    by_kind: Vec<KindRules>,
    /// Every rule, for a kind missing from [`ItemKind::ALL`] (`matches` checks kind and role
    /// itself, so the index only ever saves work).
    all: Candidates,
}

struct KindRules {
    /// For each role some rule names.
    by_role: Vec<(Role, Candidates)>,
    /// For any other role: only rules without a `role` condition can apply.
    other_roles: Candidates,
}

/// Indices into [`CompiledSet::rules`].
#[derive(Default)]
struct Candidates {
    skips: Vec<usize>,
    gives: Vec<usize>,
}

impl<'r> CompiledSet<'r> {
    pub(crate) fn new(rules: &'r RuleSet) -> Self {
        let rules: Vec<Compiled> = rules.rules.iter().map(Compiled::new).collect();
        let mut roles: Vec<Role> = Vec::new();
        for role in rules.iter().flat_map(|c| &c.rule.when.role) {
            if !roles.contains(role) {
                roles.push(*role);
            }
        }
        // `None` for kind or role: any.
        let candidates = |kind: Option<ItemKind>, role: Option<Option<Role>>| {
            let mut found = Candidates::default();
            for (index, c) in rules.iter().enumerate() {
                let w = &c.rule.when;
                let kind_ok = kind.is_none_or(|k| w.kind.is_empty() || w.kind.contains(&k));
                let role_ok = match role {
                    None => true,
                    Some(Some(role)) => w.role.is_empty() || w.role.contains(&role),
                    // A role no rule names.
                    Some(None) => w.role.is_empty(),
                };
                if c.broken || !kind_ok || !role_ok {
                    continue;
                }
                if c.rule.skip {
                    found.skips.push(index);
                } else {
                    found.gives.push(index);
                }
            }
            found
        };
        let by_kind = ItemKind::ALL
            .iter()
            .map(|&kind| KindRules {
                by_role: roles
                    .iter()
                    .map(|&role| (role, candidates(Some(kind), Some(Some(role)))))
                    .collect(),
                other_roles: candidates(Some(kind), Some(None)),
            })
            .collect();
        let all = candidates(None, None);
        CompiledSet {
            rules,
            by_kind,
            all,
        }
    }

    /// The item's competencies: nothing when a skip rule fires, else every firing rule's
    /// competencies merged.
    pub(crate) fn classify(&self, item: &Item) -> Vec<CompetencyMatch> {
        let candidates = match ItemKind::ALL.iter().position(|k| *k == item.kind) {
            Some(slot) => {
                let kind = &self.by_kind[slot];
                kind.by_role
                    .iter()
                    .find(|(role, _)| *role == item.role)
                    .map_or(&kind.other_roles, |(_, c)| c)
            }
            None => &self.all,
        };
        let view = ItemView::new(item);
        let fires = |&i: &usize| self.rules[i].matches(&view).is_some();
        if candidates.skips.iter().any(fires) {
            return Vec::new();
        }
        let fired: Vec<(&Rule, String)> = candidates
            .gives
            .iter()
            .filter_map(|&i| {
                let c = &self.rules[i];
                c.matches(&view).map(|b| (c.rule, c.render(&b, &view)))
            })
            .collect();
        merge(&fired)
    }
}

/// What an item offers to matching, computed once per item rather than once per rule. The
/// parts only some rules need are built on first use.
pub(crate) struct ItemView<'a> {
    item: &'a Item,
    /// The labels, normalised one after another.
    normalised: String,
    /// Each label as written, and the span of its normalised form in `normalised`.
    labels: Vec<(&'a str, usize, usize)>,
    /// The [`label_bit`]s of the normalised labels.
    label_bits: u64,
    severity: Option<u8>,
    title: OnceCell<Words<'a>>,
    description: OnceCell<Words<'a>>,
    /// The project, then the group (as written, prepared).
    places: OnceCell<Vec<(&'a str, PlaceView)>>,
    /// One per changed path, in order.
    paths: OnceCell<Vec<PathView>>,
}

impl<'a> ItemView<'a> {
    pub(crate) fn new(item: &'a Item) -> Self {
        // Normalising never lengthens an ASCII label, so this is usually the only allocation.
        let mut normalised = String::with_capacity(item.labels.iter().map(String::len).sum());
        let mut label_bits = 0;
        let labels: Vec<(&str, usize, usize)> = item
            .labels
            .iter()
            .map(|l| {
                let start = normalised.len();
                normalise_label_into(l, &mut normalised);
                label_bits |= label_bit(&normalised[start..]);
                (l.as_str(), start, normalised.len())
            })
            .collect();
        // Harvest fills `severity` for incidents; other items carry it only as a label.
        let severity = item.severity.or_else(|| {
            labels
                .iter()
                .filter_map(|&(_, start, end)| {
                    normalised[start..end]
                        .strip_prefix("severity::")?
                        .trim_start_matches('s')
                        .parse()
                        .ok()
                })
                .min()
        });
        ItemView {
            item,
            normalised,
            labels,
            label_bits,
            severity,
            title: OnceCell::new(),
            description: OnceCell::new(),
            places: OnceCell::new(),
            paths: OnceCell::new(),
        }
    }

    fn title(&self) -> &Words<'a> {
        self.title.get_or_init(|| tokenise(&self.item.title))
    }

    fn description(&self) -> &Words<'a> {
        self.description
            .get_or_init(|| tokenise(self.item.description.as_deref().unwrap_or("")))
    }

    fn places(&self) -> &[(&'a str, PlaceView)] {
        self.places.get_or_init(|| {
            let item = self.item;
            item.project
                .as_deref()
                .into_iter()
                .chain(item.group.as_deref())
                .map(|place| (place, PlaceView::new(place)))
                .collect()
        })
    }

    fn paths(&self) -> &[PathView] {
        self.paths.get_or_init(|| {
            self.item
                .changed_paths
                .iter()
                .map(|p| PathView::new(p))
                .collect()
        })
    }

    /// The first label (as written) that one of `patterns` matches; bad patterns are skipped.
    fn label_hit(&self, list: &LabelList) -> Option<&'a str> {
        // Usually the item has none of the labels, and the summaries alone show it.
        if !list.may_match(self.label_bits) {
            return None;
        }
        let patterns = &list.patterns;
        self.labels
            .iter()
            .find(|&&(_, start, end)| {
                let label = &self.normalised[start..end];
                patterns.iter().flatten().any(|p| p.matches(label))
            })
            .map(|(written, _, _)| *written)
    }

    /// The first place (project, then group) that one of `patterns` matches.
    fn place_hit(&self, patterns: &[Result<ProjectPattern, String>]) -> Option<&'a str> {
        self.places()
            .iter()
            .find(|(_, place)| patterns.iter().flatten().any(|p| p.matches_view(place)))
            .map(|(written, _)| *written)
    }

    /// The text the first matching phrase matched, in the title and then (when
    /// `description`) the description, as written.
    fn words_hit(&self, list: &PhraseList, description: bool) -> Option<&'a str> {
        let item = self.item;
        // Usually no phrase of the list can occur in a text, and its summary shows it.
        let in_title = list.may_occur(self.title());
        let in_description = description && list.may_occur(self.description());
        if !in_title && !in_description {
            return None;
        }
        for phrase in list.phrases.iter().flatten() {
            if in_title {
                if let Some((s, e)) = phrase.find(self.title()) {
                    return Some(&item.title[s..e]);
                }
            }
            if in_description {
                if let Some((s, e)) = phrase.find(self.description()) {
                    return Some(&item.description.as_deref().unwrap_or("")[s..e]);
                }
            }
        }
        None
    }
}

/// Whether one of `globs` matches the path; bad globs are skipped.
fn any_glob(globs: &[Result<Glob, String>], path: &PathView) -> bool {
    globs.iter().flatten().any(|g| g.matches_view(path))
}

/// The concrete signals a rule matched, for its reason template; all borrowed from the item.
#[derive(Default)]
pub(crate) struct Bindings<'a> {
    label: Option<&'a str>,
    word: Option<&'a str>,
    project: Option<&'a str>,
    path: Option<&'a str>,
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

impl Compiled<'_> {
    /// Whether the rule fires, and on what: the same verdict as [`Compiled::evaluate`], for
    /// `classify`. The cheap conditions go first and the first failure ends it; the order of
    /// the checks cannot change the verdict, as every condition must hold.
    pub(crate) fn matches<'a>(&self, view: &ItemView<'a>) -> Option<Bindings<'a>> {
        let item = view.item;
        let w: &When = &self.rule.when;
        let ok = |holds: bool| holds.then_some(());
        ok(!self.broken)?;
        ok(w.kind.is_empty() || w.kind.contains(&item.kind))?;
        ok(w.role.is_empty() || w.role.contains(&item.role))?;
        if !w.state_any.is_empty() {
            let state = item.state.as_deref().unwrap_or("");
            ok(w.state_any.iter().any(|s| s.eq_ignore_ascii_case(state)))?;
        }
        if let Some(min) = w.min_comments {
            ok(item.comments.is_some_and(|c| c >= min))?;
        }
        if let Some(want) = w.approved {
            ok(item.approved == Some(want))?;
        }
        if let Some(min) = w.min_additions {
            ok(item.additions.is_some_and(|a| a >= min))?;
        }
        if let Some(min) = w.min_child_count {
            ok(item.child_count.is_some_and(|c| c >= min))?;
        }
        if let Some(min) = w.min_severity {
            ok(view.severity.is_some_and(|s| s <= min))?;
        }
        if let Some(max) = w.max_severity {
            ok(view.severity.is_some_and(|s| s >= max))?;
        }
        if let Some(min) = w.min_duration_hours {
            ok(item.duration_hours.is_some_and(|h| h >= min))?;
        }
        if let Some(min) = w.min_timeline_events {
            ok(item.timeline_events.is_some_and(|n| n >= min))?;
        }

        let mut b = Bindings::default();
        if !w.labels_any.is_empty() {
            b.label = Some(view.label_hit(&self.labels_any)?);
        }
        if !w.not_labels_any.is_empty() {
            ok(view.label_hit(&self.not_labels_any).is_none())?;
        }
        if !w.project_any.is_empty() {
            b.project = Some(view.place_hit(&self.project_any)?);
        }
        if !w.not_project_any.is_empty() {
            ok(view.place_hit(&self.not_project_any).is_none())?;
        }
        if !w.paths_any.is_empty() {
            let mut matching = item
                .changed_paths
                .iter()
                .zip(view.paths())
                .filter(|(_, p)| any_glob(&self.paths_any, p));
            b.path = Some(matching.next()?.0.as_str());
            b.paths = 1 + matching.count();
        }
        if !w.paths_all.is_empty() {
            ok(!item.changed_paths.is_empty())?;
            ok(view.paths().iter().all(|p| any_glob(&self.paths_all, p)))?;
            if b.path.is_none() {
                b.path = item.changed_paths.first().map(String::as_str);
                b.paths = item.changed_paths.len();
            }
        }
        // Words last: they need the text split into words, the dearest part of an item.
        if !w.title_words_any.is_empty() {
            b.word = Some(view.words_hit(&self.title_words_any, false)?);
        }
        if !w.not_title_words_any.is_empty() {
            ok(view.words_hit(&self.not_title_words_any, false).is_none())?;
        }
        if !w.words_any.is_empty() {
            // `words_any` is usually the more specific signal, so it wins the {word} slot.
            b.word = Some(view.words_hit(&self.words_any, true)?);
        }
        if !w.not_words_any.is_empty() {
            ok(view.words_hit(&self.not_words_any, true).is_none())?;
        }
        Some(b)
    }

    /// Checks every condition; with `stop_early` it returns at the first failure. Passed and
    /// failed texts are phrased for a person reading `explain`.
    pub(crate) fn evaluate(&self, view: &ItemView, stop_early: bool) -> Evaluation {
        let item = view.item;
        let w: &When = &self.rule.when;
        let mut passed = Vec::new();
        let mut failed = Vec::new();
        let mut b = Bindings::default();

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
            let hit = view.place_hit(&self.project_any);
            let shown = view.places().first().map_or("unknown", |(p, _)| p);
            match first_error(&self.project_any) {
                Some(e) => check!(false, String::new(), format!("invalid `project_any`: {e}")),
                None => check!(
                    hit.is_some(),
                    format!("project {} matches", hit.unwrap_or_default()),
                    format!("project {shown} is not under {}", list(&w.project_any))
                ),
            }
            b.project = hit;
        }
        if !w.not_project_any.is_empty() {
            let hit = view.place_hit(&self.not_project_any);
            check!(
                hit.is_none(),
                format!("project is not under {}", list(&w.not_project_any)),
                format!("project {} is excluded", hit.unwrap_or_default())
            );
        }
        if !w.labels_any.is_empty() {
            let hit = view.label_hit(&self.labels_any);
            let has = if item.labels.is_empty() {
                "the item has no labels".to_string()
            } else {
                format!("the item has {}", list(&item.labels))
            };
            match first_error(&self.labels_any.patterns) {
                Some(e) => check!(false, String::new(), format!("invalid `labels_any`: {e}")),
                None => check!(
                    hit.is_some(),
                    format!("has label `{}`", hit.unwrap_or_default()),
                    format!("none of the labels {} ({has})", list(&w.labels_any))
                ),
            }
            b.label = hit;
        }
        if !w.not_labels_any.is_empty() {
            let hit = view.label_hit(&self.not_labels_any);
            check!(
                hit.is_none(),
                format!("none of the excluded labels {}", list(&w.not_labels_any)),
                format!("has excluded label `{}`", hit.unwrap_or_default())
            );
        }
        if !w.title_words_any.is_empty() {
            let hit = view.words_hit(&self.title_words_any, false);
            match first_error(&self.title_words_any.phrases) {
                Some(e) => check!(
                    false,
                    String::new(),
                    format!("invalid `title_words_any`: {e}")
                ),
                None => check!(
                    hit.is_some(),
                    format!("title says “{}”", hit.unwrap_or_default()),
                    format!("title has none of {}", quoted(&w.title_words_any))
                ),
            }
            b.word = hit;
        }
        if !w.not_title_words_any.is_empty() {
            let hit = view.words_hit(&self.not_title_words_any, false);
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
            let hit = view.words_hit(&self.words_any, true);
            match first_error(&self.words_any.phrases) {
                Some(e) => check!(false, String::new(), format!("invalid `words_any`: {e}")),
                None => check!(
                    hit.is_some(),
                    format!("mentions “{}”", hit.unwrap_or_default()),
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
            let hit = view.words_hit(&self.not_words_any, true);
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
                .zip(view.paths())
                .filter(|(_, p)| any_glob(&self.paths_any, p))
                .map(|(path, _)| path)
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
            b.path = matching.first().map(|p| p.as_str());
            b.paths = matching.len();
        }
        if !w.paths_all.is_empty() {
            let stray = item
                .changed_paths
                .iter()
                .zip(view.paths())
                .find(|(_, p)| !any_glob(&self.paths_all, p))
                .map(|(path, _)| path);
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
                b.path = item.changed_paths.first().map(String::as_str);
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
        if let Some(min) = w.min_timeline_events {
            check!(
                item.timeline_events.is_some_and(|n| n >= min),
                format!(
                    "{} timeline events written (at least {min})",
                    item.timeline_events.unwrap_or_default()
                ),
                match item.timeline_events {
                    Some(n) => format!("{n} timeline events written, rule needs at least {min}"),
                    None => format!("no timeline events written, rule needs at least {min}"),
                }
            );
        }

        let reason = failed.is_empty().then(|| self.render(&b, view));
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
    ("timeline_events", &["min_timeline_events"]),
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

impl Compiled<'_> {
    /// The rule's reason for an item it fired on, placeholders filled from `b` and the item.
    pub(crate) fn render(&self, b: &Bindings, view: &ItemView) -> String {
        let item = view.item;
        // A template that does not parse was reported by validation; show it as written.
        let Some(pieces) = &self.template else {
            return self.rule.reason.clone();
        };
        let mut out = String::with_capacity(self.rule.reason.len() + 64);
        for piece in pieces {
            let name = match piece {
                Piece::Text(text) => {
                    out.push_str(text);
                    continue;
                }
                Piece::Placeholder(name) => *name,
            };
            match name {
                "label" => out.push_str(or_unknown(b.label)),
                "word" => out.push_str(or_unknown(b.word)),
                "path" => out.push_str(or_unknown(b.path)),
                "paths" => push_number(&mut out, Some(b.paths)),
                "comments" => push_number(&mut out, item.comments),
                "additions" => push_number(&mut out, item.additions),
                "child_count" => push_number(&mut out, item.child_count),
                "severity" => push_number(&mut out, view.severity),
                "timeline_events" => push_number(&mut out, item.timeline_events),
                "duration_hours" => out.push_str(
                    item.duration_hours
                        .map(hours)
                        .as_deref()
                        .unwrap_or("unknown"),
                ),
                "state" => out.push_str(or_unknown(item.state.as_deref())),
                "project" => out.push_str(or_unknown(
                    b.project
                        .or(item.project.as_deref())
                        .or(item.group.as_deref()),
                )),
                "kind" => out.push_str(kind_singular(item.kind)),
                "role" => out.push_str(item.role.as_str()),
                "title" => out.push_str(&item.title),
                _ => out.push_str("unknown"),
            }
        }
        out
    }
}

fn or_unknown(value: Option<&str>) -> &str {
    value.unwrap_or("unknown")
}

fn push_number(out: &mut String, value: Option<impl std::fmt::Display>) {
    match value {
        // Writing to a String cannot fail.
        Some(value) => {
            let _ = write!(out, "{value}");
        }
        None => out.push_str("unknown"),
    }
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
    // An item has a handful of competencies, so a list beats a map; the final sort fixes the
    // order whatever order they were found in (ids are unique).
    let mut matches: Vec<CompetencyMatch> = Vec::new();
    for index in order {
        let (rule, reason) = &fired[index];
        for id in &rule.competencies {
            let at = match matches.iter().position(|m| m.id == *id) {
                Some(at) => at,
                None => {
                    matches.push(CompetencyMatch {
                        id: id.clone(),
                        score: rule.weight,
                        rule: rule.id.clone(),
                        reasons: Vec::new(),
                    });
                    matches.len() - 1
                }
            };
            let entry = &mut matches[at];
            if !entry.reasons.contains(reason) {
                entry.reasons.push(reason.clone());
            }
        }
    }
    matches.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    matches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Snapshot;

    /// `classify` takes the fast path and `explain` the wordy one: on real items, every rule
    /// must fire on both or neither, with the same reason.
    #[test]
    fn the_fast_path_agrees_with_explain() {
        let rules = RuleSet::builtin();
        let compiled: Vec<Compiled> = rules.rules.iter().map(Compiled::new).collect();
        for (text, origin) in [
            (include_str!("../../data/demo/snapshot.json"), "demo"),
            (include_str!("../../tests/eval/labelled.json"), "labelled"),
        ] {
            let snapshot = Snapshot::from_json(text, origin).unwrap();
            for item in &snapshot.items {
                let view = ItemView::new(item);
                for c in &compiled {
                    let fast = c.matches(&view).map(|b| c.render(&b, &view));
                    let slow = c.evaluate(&view, false).reason;
                    assert_eq!(fast, slow, "rule {} on item {}", c.rule.id, item.id);
                }
            }
        }
    }
}
