//! View models: the snapshot grouped, sorted and summarised in Rust, so templates only lay out.
//! This file holds the brag view and what every report shares; `team_view` builds on it.
//!
//! Every field is always present (absent values serialise as `null`), which lets the registry run
//! in strict mode: a typo in a user's template is an error, not a silently empty report.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::classify::Strength;
use crate::framework::Framework;
use crate::model::{
    CompetencyMatch, Item, ItemKind, Role, Snapshot, Source, SourceStatus, CURATED_RULE,
};

/// Data for `brag.md`: one section per subject.
#[derive(Debug, Serialize)]
pub struct BragView {
    #[serde(flatten)]
    pub header: Header,
    pub subjects: Vec<SubjectBrag>,
}

/// What every report starts with.
#[derive(Debug, Serialize)]
pub struct Header {
    pub tool: &'static str,
    pub version: &'static str,
    pub gitlab_url: String,
    /// RFC 3339, from the snapshot (never the clock, so reports are reproducible).
    pub generated_at: String,
    /// `YYYY-MM-DD` of `generated_at`.
    pub generated_on: String,
    pub period: PeriodView,
    pub framework: FrameworkView,
    /// False when no item carries competencies and `classify` has not run: every item is then
    /// "unmatched", and the templates say why.
    pub classified: bool,
    /// Every source that did not complete, for all subjects.
    pub warnings: Vec<Warning>,
    /// Every source skipped or completed with a note, for all subjects.
    pub notices: Vec<Warning>,
    pub multiple_subjects: bool,
    /// False when confidential items are left out for this report's audience.
    pub include_confidential: bool,
    /// Confidential items left out, for all subjects (0 when they are included).
    pub hidden_confidential: usize,
    /// Items hidden in the curation file, for all subjects.
    pub hidden_curated: usize,
}

#[derive(Debug, Serialize)]
pub struct PeriodView {
    pub from: String,
    pub to: String,
    /// `2026Q3` for a calendar quarter, else `from – to`.
    pub label: String,
}

#[derive(Debug, Serialize)]
pub struct FrameworkView {
    pub id: String,
    pub name: String,
    pub competencies: usize,
}

/// A source that was partial or failed.
#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub source: String,
    pub subject: String,
    pub status: SourceStatus,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KindCount {
    pub kind: ItemKind,
    pub count: usize,
    /// Fits the count: "1 merge request authored", "2 merge requests authored" (without the number).
    pub label: &'static str,
    /// Always plural, for column headers: "merge requests authored".
    pub label_plural: &'static str,
    /// A narrow column header: "MRs authored", "Issues".
    pub label_short: &'static str,
}

impl KindCount {
    pub(super) fn new(kind: ItemKind, count: usize) -> Self {
        let (singular, plural) = kind_total_labels(kind);
        KindCount {
            kind,
            count,
            label: if count == 1 { singular } else { plural },
            label_plural: plural,
            label_short: match kind {
                ItemKind::MergeRequest => "MRs authored",
                ItemKind::Review => "MRs reviewed",
                ItemKind::Issue => "Issues",
                ItemKind::Epic => "Epics",
                ItemKind::Incident => "Incidents",
                ItemKind::OncallShift => "On-call shifts",
                ItemKind::Interview => "Interviews",
            },
        }
    }
}

/// One person's brag section.
#[derive(Debug, Serialize)]
pub struct SubjectBrag {
    #[serde(flatten)]
    pub person: PersonHeader,
    /// Competencies with evidence, grouped by area in framework order; ids the framework does not
    /// know come last, under an extra area.
    pub areas: Vec<AreaEvidence>,
    /// Framework competencies without evidence, by area; areas with full coverage are left out.
    pub no_evidence: Vec<AreaGap>,
    /// Items that evidence no competency, by date.
    pub unmatched: Vec<ItemView>,
}

/// Who, how much, and what went wrong harvesting it.
#[derive(Debug, Serialize)]
pub struct PersonHeader {
    pub username: String,
    pub name: Option<String>,
    /// The name, or the username when GitLab gave none.
    pub display_name: String,
    /// Only the kinds present, in a fixed order.
    pub totals: Vec<KindCount>,
    pub total: usize,
    /// Items that evidence at least one competency.
    pub matched: usize,
    /// Framework competencies with at least one item.
    pub competencies_evidenced: usize,
    /// This person's partial/failed sources (and those not tied to any subject).
    pub warnings: Vec<Warning>,
    /// This person's sources that were skipped (a feature the instance lacks, nothing
    /// configured) or completed with a note (e.g. events older than GitLab keeps).
    pub notices: Vec<Warning>,
    /// This person's confidential items left out of the report (0 when they are included).
    pub hidden_confidential: usize,
    /// This person's items hidden in the curation file.
    pub hidden_curated: usize,
    /// This person's items highlighted in the curation file, by date.
    pub highlights: Vec<ItemView>,
}

#[derive(Debug, Serialize)]
pub struct AreaEvidence {
    pub id: String,
    pub title: String,
    pub competencies: Vec<CompetencyEvidence>,
}

#[derive(Debug, Serialize)]
pub struct CompetencyEvidence {
    pub id: String,
    pub title: String,
    pub statement: String,
    /// none / weak / moderate / strong, from the items' scores.
    pub strength: Strength,
    /// By score (highest first), then date (oldest first).
    pub items: Vec<Evidence>,
}

#[derive(Debug, Serialize)]
pub struct AreaGap {
    pub id: String,
    pub title: String,
    pub competencies: Vec<CompetencyRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompetencyRef {
    pub id: String,
    pub title: String,
}

/// An item as shown in a list.
#[derive(Debug, Clone, Serialize)]
pub struct ItemView {
    pub id: String,
    pub kind: ItemKind,
    /// Singular: "merge request", "review", "on-call shift".
    pub kind_label: &'static str,
    pub role: Role,
    pub title: String,
    /// The raw `web_url`; the `link` helper decides whether it may become a link.
    pub url: String,
    /// `YYYY-MM-DD` of merged, else closed, else created, else shift start.
    pub date: Option<String>,
    /// Project path, or group path for epics.
    pub project: Option<String>,
    pub labels: Vec<String>,
    pub state: Option<String>,
    pub confidential: bool,
    /// Reviews only: "approved, 7 comments".
    pub role_detail: Option<String>,
    /// Highlighted in the curation file: leads its lists.
    pub highlight: bool,
    /// The curation file's note on the item, on one line.
    pub note: Option<String>,
    /// The kind and what matters about it: "review: approved, 7 comments",
    /// "merge request: +120/-14", "incident: severity 2".
    pub detail: String,
}

/// An item under a competency, with why it is there.
#[derive(Debug, Serialize)]
pub struct Evidence {
    #[serde(flatten)]
    pub item: ItemView,
    /// 0–1, rounded to two decimals.
    pub score: f64,
    pub rule: String,
    pub reasons: Vec<String>,
    /// The reasons joined with "; ".
    pub why: String,
    /// Set by a person in the curation file, not by a rule.
    pub curated: bool,
}

/// Totals labels for a kind: (singular, plural).
pub(super) fn kind_total_labels(kind: ItemKind) -> (&'static str, &'static str) {
    match kind {
        ItemKind::MergeRequest => ("merge request authored", "merge requests authored"),
        ItemKind::Review => ("merge request reviewed", "merge requests reviewed"),
        other => (kind_singular(other), other.label()),
    }
}

pub(super) fn kind_singular(kind: ItemKind) -> &'static str {
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

/// The area used for competency ids the framework does not know (e.g. classified with another
/// framework): shown rather than dropped.
pub(super) const UNKNOWN_AREA: &str = "other";

pub(super) fn brag(scope: &Scope<'_>, framework: &Framework) -> BragView {
    let index = FrameworkIndex::new(framework);
    let subjects = subjects(scope.snapshot)
        .into_iter()
        .map(|(username, name)| {
            let items = scope.items_of(&username);
            let person = person_header(scope, &index, &username, name, items);
            let areas = evidence_by_area(&index, items);
            let evidenced: BTreeSet<&str> = areas
                .iter()
                .flat_map(|a| a.competencies.iter().map(|c| c.id.as_str()))
                .collect();
            let no_evidence = gaps(&index, &evidenced);
            let mut unmatched: Vec<ItemView> = items
                .iter()
                .filter(|i| i.competencies.is_empty())
                .map(|i| item_view(i))
                .collect();
            unmatched.sort_by(|a, b| b.highlight.cmp(&a.highlight).then_with(|| by_date(a, b)));
            SubjectBrag {
                person,
                areas,
                no_evidence,
                unmatched,
            }
        })
        .collect();
    BragView {
        header: header(scope, framework),
        subjects,
    }
}

/// What a report may show: the snapshot's items, less the confidential ones when the audience
/// may not see them and those hidden in the curation file, grouped by subject once so that
/// every view reads them cheaply.
pub(super) struct Scope<'s> {
    pub snapshot: &'s Snapshot,
    pub include_confidential: bool,
    /// Shown items per subject, in snapshot order.
    by_subject: HashMap<&'s str, Vec<&'s Item>>,
    /// Confidential items left out, per subject.
    hidden: HashMap<&'s str, usize>,
    /// Items hidden in the curation file (and not already left out as confidential), per subject.
    hidden_curated: HashMap<&'s str, usize>,
}

/// Hidden in the curation file.
fn curated_hidden(item: &Item) -> bool {
    item.curation.as_ref().is_some_and(|c| c.hidden)
}

impl<'s> Scope<'s> {
    pub fn new(snapshot: &'s Snapshot, include_confidential: bool) -> Self {
        let mut by_subject: HashMap<&str, Vec<&Item>> = HashMap::new();
        let mut hidden: HashMap<&str, usize> = HashMap::new();
        let mut hidden_curated: HashMap<&str, usize> = HashMap::new();
        for item in &snapshot.items {
            if item.confidential && !include_confidential {
                *hidden.entry(item.subject.as_str()).or_default() += 1;
            } else if curated_hidden(item) {
                *hidden_curated.entry(item.subject.as_str()).or_default() += 1;
            } else {
                by_subject
                    .entry(item.subject.as_str())
                    .or_default()
                    .push(item);
            }
        }
        Scope {
            snapshot,
            include_confidential,
            by_subject,
            hidden,
            hidden_curated,
        }
    }

    /// The items shown for one subject.
    pub fn items_of(&self, username: &str) -> &[&'s Item] {
        self.by_subject.get(username).map_or(&[], Vec::as_slice)
    }

    /// Every item shown, in snapshot order.
    pub fn items(&self) -> impl Iterator<Item = &'s Item> + '_ {
        self.snapshot
            .items
            .iter()
            .filter(|i| (self.include_confidential || !i.confidential) && !curated_hidden(i))
    }

    pub fn hidden_of(&self, username: &str) -> usize {
        self.hidden.get(username).copied().unwrap_or(0)
    }

    pub fn hidden_total(&self) -> usize {
        self.hidden.values().sum()
    }

    pub fn hidden_curated_of(&self, username: &str) -> usize {
        self.hidden_curated.get(username).copied().unwrap_or(0)
    }

    pub fn hidden_curated_total(&self) -> usize {
        self.hidden_curated.values().sum()
    }
}

pub(super) fn header(scope: &Scope<'_>, framework: &Framework) -> Header {
    let snapshot = scope.snapshot;
    let classified = snapshot.classification.is_some()
        || snapshot.items.iter().any(|i| !i.competencies.is_empty());
    Header {
        tool: "gl-evidence",
        version: env!("CARGO_PKG_VERSION"),
        gitlab_url: snapshot.gitlab_url.clone(),
        generated_at: snapshot
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        generated_on: snapshot.generated_at.format("%Y-%m-%d").to_string(),
        period: period_view(&snapshot.period),
        framework: FrameworkView {
            id: framework.id.clone(),
            name: framework.name.clone(),
            competencies: framework.competencies.len(),
        },
        classified,
        warnings: snapshot.sources.iter().filter_map(warning).collect(),
        notices: snapshot.sources.iter().filter_map(notice).collect(),
        multiple_subjects: subjects(snapshot).len() > 1,
        include_confidential: scope.include_confidential,
        hidden_confidential: scope.hidden_total(),
        hidden_curated: scope.hidden_curated_total(),
    }
}

pub(super) fn period_view(period: &crate::model::Period) -> PeriodView {
    PeriodView {
        from: period.from.to_string(),
        to: period.to.to_string(),
        label: period.label(),
    }
}

/// The snapshot's subjects in order, then anyone who has items but is not listed (a hand-edited
/// or merged snapshot), so no evidence disappears.
pub(super) fn subjects(snapshot: &Snapshot) -> Vec<(String, Option<String>)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for s in &snapshot.subjects {
        if seen.insert(s.username.as_str()) {
            out.push((s.username.clone(), s.name.clone()));
        }
    }
    for item in &snapshot.items {
        if seen.insert(item.subject.as_str()) {
            out.push((item.subject.clone(), None));
        }
    }
    out
}

/// The name, or the username when GitLab gave none.
pub(super) fn display_name(username: &str, name: Option<&str>) -> String {
    name.filter(|n| !n.trim().is_empty())
        .unwrap_or(username)
        .to_string()
}

pub(super) fn notice(source: &Source) -> Option<Warning> {
    let noteworthy = match source.status {
        SourceStatus::Skipped => true,
        SourceStatus::Ok => source.detail.is_some(),
        SourceStatus::Partial | SourceStatus::Failed => false,
    };
    noteworthy.then(|| Warning {
        source: source.name.clone(),
        subject: source.subject.clone(),
        status: source.status,
        detail: source.detail.clone(),
    })
}

pub(super) fn warning(source: &Source) -> Option<Warning> {
    matches!(source.status, SourceStatus::Partial | SourceStatus::Failed).then(|| Warning {
        source: source.name.clone(),
        subject: source.subject.clone(),
        status: source.status,
        detail: source.detail.clone(),
    })
}

pub(super) fn person_header(
    scope: &Scope<'_>,
    index: &FrameworkIndex<'_>,
    username: &str,
    name: Option<String>,
    items: &[&Item],
) -> PersonHeader {
    let snapshot = scope.snapshot;
    let totals = ItemKind::ALL
        .into_iter()
        .map(|kind| KindCount::new(kind, items.iter().filter(|i| i.kind == kind).count()))
        .filter(|k| k.count > 0)
        .collect();
    let known: BTreeSet<&str> = snapshot
        .subjects
        .iter()
        .map(|s| s.username.as_str())
        .collect();
    let own_sources = || {
        snapshot
            .sources
            .iter()
            .filter(|s| s.subject == username || !known.contains(s.subject.as_str()))
    };
    let warnings = own_sources().filter_map(warning).collect();
    let notices = own_sources().filter_map(notice).collect();
    let evidenced: BTreeSet<&str> = items
        .iter()
        .flat_map(|i| i.competencies.iter().map(|m| m.id.as_str()))
        .filter(|id| index.position.contains_key(id))
        .collect();
    let mut highlights: Vec<ItemView> = items
        .iter()
        .filter(|i| i.curation.as_ref().is_some_and(|c| c.highlight))
        .map(|i| item_view(i))
        .collect();
    highlights.sort_by(by_date);
    PersonHeader {
        username: username.to_string(),
        display_name: display_name(username, name.as_deref()),
        name,
        totals,
        total: items.len(),
        matched: items.iter().filter(|i| !i.competencies.is_empty()).count(),
        competencies_evidenced: evidenced.len(),
        warnings,
        notices,
        hidden_confidential: scope.hidden_of(username),
        hidden_curated: scope.hidden_curated_of(username),
        highlights,
    }
}

/// Framework order, precomputed once per report.
pub(super) struct FrameworkIndex<'f> {
    pub framework: &'f Framework,
    /// Competency id → position in the framework.
    pub position: HashMap<&'f str, usize>,
    /// Areas in framework order, then any area that competencies name but the framework does not
    /// list (shown under its id rather than lost).
    pub areas: Vec<(String, String)>,
}

impl<'f> FrameworkIndex<'f> {
    pub fn new(framework: &'f Framework) -> Self {
        let position = framework
            .competencies
            .iter()
            .enumerate()
            .map(|(n, c)| (c.id.as_str(), n))
            .collect();
        let mut areas: Vec<(String, String)> = framework
            .areas
            .iter()
            .map(|a| (a.id.clone(), a.title.clone()))
            .collect();
        for c in &framework.competencies {
            if !areas.iter().any(|(id, _)| *id == c.area) {
                areas.push((c.area.clone(), c.area.clone()));
            }
        }
        FrameworkIndex {
            framework,
            position,
            areas,
        }
    }
}

/// Each competency with its evidence, grouped by area in framework order.
pub(super) fn evidence_by_area(index: &FrameworkIndex<'_>, items: &[&Item]) -> Vec<AreaEvidence> {
    // Best match per (competency, item): two rules may point one item at the same competency.
    let mut by_competency: BTreeMap<&str, BTreeMap<&str, (&Item, &CompetencyMatch)>> =
        BTreeMap::new();
    for item in items {
        for m in &item.competencies {
            let slot = by_competency.entry(m.id.as_str()).or_default();
            match slot.get(item.id.as_str()) {
                Some((_, best)) if best.score >= m.score => {}
                _ => {
                    slot.insert(item.id.as_str(), (item, m));
                }
            }
        }
    }

    let evidence = |id: &str,
                    title: &str,
                    statement: &str,
                    matches: &BTreeMap<&str, (&Item, &CompetencyMatch)>| {
        let mut items: Vec<Evidence> = matches
            .values()
            .map(|(item, m)| evidence_view(item, m))
            .collect();
        // Highlights lead, then the strongest evidence.
        items.sort_by(|a, b| {
            b.item
                .highlight
                .cmp(&a.item.highlight)
                .then_with(|| b.score.partial_cmp(&a.score).unwrap_or(Ordering::Equal))
                .then_with(|| by_date(&a.item, &b.item))
        });
        CompetencyEvidence {
            id: id.to_string(),
            title: title.to_string(),
            statement: statement.to_string(),
            strength: Strength::from_scores(items.iter().map(|e| e.score)),
            items,
        }
    };

    let mut areas = Vec::new();
    for (area_id, area_title) in &index.areas {
        let competencies: Vec<CompetencyEvidence> = index
            .framework
            .competencies
            .iter()
            .filter(|c| c.area == *area_id)
            .filter_map(|c| {
                by_competency
                    .get(c.id.as_str())
                    .map(|m| evidence(&c.id, &c.title, &c.statement, m))
            })
            .collect();
        if !competencies.is_empty() {
            areas.push(AreaEvidence {
                id: area_id.clone(),
                title: area_title.clone(),
                competencies,
            });
        }
    }
    let unknown: Vec<CompetencyEvidence> = by_competency
        .iter()
        .filter(|(id, _)| !index.position.contains_key(*id))
        .map(|(id, m)| evidence(id, id, "", m))
        .collect();
    if !unknown.is_empty() {
        areas.push(AreaEvidence {
            id: UNKNOWN_AREA.to_string(),
            title: format!("Not in the {} framework", index.framework.name),
            competencies: unknown,
        });
    }
    areas
}

pub(super) fn gaps(index: &FrameworkIndex<'_>, evidenced: &BTreeSet<&str>) -> Vec<AreaGap> {
    index
        .areas
        .iter()
        .filter_map(|(area_id, area_title)| {
            let competencies: Vec<CompetencyRef> = index
                .framework
                .competencies
                .iter()
                .filter(|c| c.area == *area_id && !evidenced.contains(c.id.as_str()))
                .map(|c| CompetencyRef {
                    id: c.id.clone(),
                    title: c.title.clone(),
                })
                .collect();
            (!competencies.is_empty()).then(|| AreaGap {
                id: area_id.clone(),
                title: area_title.clone(),
                competencies,
            })
        })
        .collect()
}

/// Oldest first; undated items last; then title and id so equal dates stay in a stable order.
pub(super) fn by_date(a: &ItemView, b: &ItemView) -> Ordering {
    match (&a.date, &b.date) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then_with(|| a.title.cmp(&b.title))
    .then_with(|| a.id.cmp(&b.id))
}

pub(super) fn evidence_view(item: &Item, m: &CompetencyMatch) -> Evidence {
    Evidence {
        item: item_view(item),
        score: (m.score * 100.0).round() / 100.0,
        rule: m.rule.clone(),
        reasons: m.reasons.clone(),
        why: m.reasons.join("; "),
        curated: m.rule == CURATED_RULE,
    }
}

pub(super) fn item_view(item: &Item) -> ItemView {
    let role_detail = review_detail(item);
    let mut facts = Vec::new();
    match item.kind {
        ItemKind::MergeRequest => {
            if let (Some(add), Some(del)) = (item.additions, item.deletions) {
                facts.push(format!("+{add}/-{del}"));
            }
            if item.merged_at.is_none() {
                if let Some(state) = item.state.as_deref().filter(|s| *s != "merged") {
                    facts.push(if state == "opened" {
                        "open".to_string()
                    } else {
                        state.to_string()
                    });
                }
            }
        }
        ItemKind::Review => facts.extend(role_detail.clone()),
        ItemKind::Epic => {
            if let Some(n) = item.child_count {
                facts.push(format!(
                    "{n} child {}",
                    if n == 1 { "item" } else { "items" }
                ));
            }
        }
        ItemKind::Incident => {
            if let Some(severity) = item.severity {
                facts.push(format!("severity {severity}"));
            }
            if let Some(n) = item.timeline_events {
                facts.push(format!(
                    "{n} timeline {}",
                    if n == 1 { "event" } else { "events" }
                ));
            }
        }
        ItemKind::OncallShift => {
            if let Some(hours) = item.duration_hours {
                facts.push(format!("{} h", trim_number(hours)));
            }
        }
        ItemKind::Issue | ItemKind::Interview => {}
    }
    let kind_label = kind_singular(item.kind);
    let detail = if facts.is_empty() {
        kind_label.to_string()
    } else {
        format!("{kind_label}: {}", facts.join(", "))
    };
    ItemView {
        id: item.id.clone(),
        kind: item.kind,
        kind_label,
        role: item.role,
        title: shorten(&item.title, MAX_TITLE_CHARS),
        url: item.web_url.clone(),
        date: item.date().map(|d| d.format("%Y-%m-%d").to_string()),
        project: item.project.clone().or_else(|| item.group.clone()),
        labels: item.labels.clone(),
        state: item.state.clone(),
        confidential: item.confidential,
        role_detail,
        highlight: item.curation.as_ref().is_some_and(|c| c.highlight),
        note: item
            .curation
            .as_ref()
            .and_then(|c| c.note.as_deref())
            .map(|n| n.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|n| !n.is_empty()),
        detail,
    }
}

/// Longest title a report shows (GitLab itself allows 255 characters); a longer one from a
/// misbehaving server is cut with an ellipsis so the report stays readable. JSON and CSV keep
/// the whole title: they are data.
const MAX_TITLE_CHARS: usize = 500;

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
        None => text.to_string(),
    }
}

/// "approved, 7 comments" — what the subject did on a merge request they reviewed.
fn review_detail(item: &Item) -> Option<String> {
    if item.kind != ItemKind::Review {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    match (item.approved, item.role) {
        (Some(true), _) => parts.push("approved".into()),
        (Some(false), Role::Approver) => parts.push("not approved".into()),
        // Otherwise the comment count says what they did; the role only when nothing else is known.
        (_, role) if item.comments.is_none() => parts.push(role.as_str().into()),
        _ => {}
    }
    if let Some(n) = item.comments {
        parts.push(format!(
            "{n} {}",
            if n == 1 { "comment" } else { "comments" }
        ));
    }
    Some(parts.join(", "))
}

fn trim_number(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}
