//! The team view: everyone side by side — summary, heatmap of people × competencies, each
//! person's best evidence, team-wide gaps and, given the previous period's snapshot, what changed.
//!
//! One view model feeds every team format (Markdown, HTML, JSON, CSV), so they always agree; the
//! JSON and CSV outputs are projections of it (`TeamOverview`, `csv`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::view::{
    evidence_by_area, gaps, header, period_view, person_header, subjects, AreaEvidence, AreaGap,
    CompetencyRef, FrameworkIndex, FrameworkView, Header, ItemView, KindCount, PeriodView,
    PersonHeader, Scope, Warning, UNKNOWN_AREA,
};
use crate::classify::Strength;
use crate::framework::Framework;
use crate::model::ItemKind;

/// How many items each area shows in a person's "top evidence".
const TOP_PER_AREA: usize = 3;
/// How many areas a person's summary names as their strongest.
const STRONGEST_AREAS: usize = 2;

/// Data for `team.md` and `team.html`.
#[derive(Debug, Serialize)]
pub struct TeamView {
    #[serde(flatten)]
    pub header: Header,
    /// The kinds present anywhere in the report, in a fixed order: the summary table's columns.
    pub kinds: Vec<KindCount>,
    pub people: Vec<PersonTeam>,
    /// The heatmap's column groups: the framework's areas with their competencies.
    pub areas: Vec<AreaColumns>,
    /// Framework competencies in the heatmap (the columns), for `colspan`s.
    pub columns: usize,
    /// Strongest first, for the heatmap legend.
    pub legend: Vec<LegendEntry>,
    /// Framework competencies nobody evidenced, by area.
    pub gaps: Vec<AreaGap>,
    pub gap_count: usize,
    /// Framework competencies at least one person evidenced.
    pub evidenced_by_anyone: usize,
    /// Items shown, for everyone.
    pub total_items: usize,
    /// Present when a previous snapshot was given.
    pub compare: Option<TeamCompare>,
}

/// One area of the heatmap: a column group.
#[derive(Debug, Serialize)]
pub struct AreaColumns {
    pub id: String,
    pub title: String,
    pub competencies: Vec<Column>,
}

#[derive(Debug, Serialize)]
pub struct Column {
    pub id: String,
    pub title: String,
    pub statement: String,
    /// What a narrow column header shows: the number in the id (`3` for `technical-3`).
    pub short: String,
    /// The first column of its area (drawn with a separator).
    pub first_in_area: bool,
}

#[derive(Debug, Serialize)]
pub struct LegendEntry {
    pub strength: Strength,
    pub label: &'static str,
    pub description: &'static str,
}

/// One person's row and section in the team report.
#[derive(Debug, Serialize)]
pub struct PersonTeam {
    #[serde(flatten)]
    pub person: PersonHeader,
    /// Counts aligned with the team's `kinds`, zeros included, for table rows.
    pub counts: Vec<usize>,
    /// Competencies with evidence, in framework order (unknown ids last).
    pub competencies: Vec<CompetencyCount>,
    /// The heatmap row: one cell per framework competency, aligned with `areas`' columns.
    pub cells: Vec<HeatCell>,
    /// One entry per framework area, in order.
    pub areas: Vec<AreaSummary>,
    /// Up to two areas with the most strong, then moderate, competencies.
    pub strongest_areas: Vec<AreaBrief>,
    /// Competencies with strong evidence.
    pub strengths: Vec<CompetencyRef>,
    /// Competencies at moderate or strong.
    pub moderate_plus: usize,
    /// Framework competencies without evidence, by area.
    pub no_evidence: Vec<AreaGap>,
    pub no_evidence_count: usize,
    /// Present when comparing.
    pub change: Option<PersonChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CompetencyCount {
    pub id: String,
    pub title: String,
    pub area: String,
    pub area_title: String,
    pub strength: Strength,
    /// Items evidencing it.
    pub count: usize,
    /// Sum of the items' scores, two decimals.
    pub score_total: f64,
}

#[derive(Debug, Serialize)]
pub struct HeatCell {
    pub id: String,
    pub title: String,
    pub area: String,
    pub strength: Strength,
    pub count: usize,
    pub score_total: f64,
    /// "Sam Rivera · technical-7 Architecture design: strong, 4 items (was weak)".
    pub tooltip: String,
    pub first_in_area: bool,
    /// When comparing: the strength in the previous snapshot.
    pub previous_strength: Option<Strength>,
    /// When comparing and the strength changed: `up` or `down`.
    pub trend: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct AreaSummary {
    pub id: String,
    pub title: String,
    /// Framework competencies in the area.
    pub competencies: usize,
    pub evidenced: usize,
    pub strong: usize,
    pub moderate: usize,
    pub weak: usize,
    /// "2 strong, 1 moderate" (empty without evidence).
    pub summary: String,
    /// A text heatmap of the area, one letter per competency in order: `SM·W··`.
    pub letters: String,
    /// The best items in the area (score, then date), with why they count.
    pub top: Vec<TopEvidence>,
}

#[derive(Debug, Serialize)]
pub struct AreaBrief {
    pub id: String,
    pub title: String,
    pub summary: String,
}

/// An item among a person's best in an area.
#[derive(Debug, Serialize)]
pub struct TopEvidence {
    #[serde(flatten)]
    pub item: ItemView,
    /// Its best score in the area.
    pub score: f64,
    /// The area's competencies it evidences, best first.
    pub competencies: Vec<String>,
    /// Why, for its best competency in the area.
    pub why: String,
}

/// The change since the previous snapshot, for the whole team.
#[derive(Debug, Serialize)]
pub struct TeamCompare {
    pub previous_period: PeriodView,
    pub previous_generated_on: String,
    /// Everyone in either snapshot: the current people in order, then those who left.
    pub people: Vec<PersonChange>,
    pub joined: Vec<PersonRef>,
    pub left: Vec<PersonRef>,
    /// Per area, team-wide: competencies someone has at moderate+, and that anyone evidenced.
    pub areas: Vec<AreaChange>,
    /// Framework competencies anyone evidenced.
    pub evidenced: Delta,
    /// Framework competencies nobody evidenced.
    pub gaps: Delta,
    /// Confidential items left out of the previous snapshot.
    pub hidden_confidential_then: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PersonRef {
    pub username: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceChange {
    /// In both snapshots.
    Continuing,
    /// Only in the current one.
    New,
    /// Only in the previous one.
    Left,
}

/// One person's change since the previous snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct PersonChange {
    pub username: String,
    pub display_name: String,
    pub status: PresenceChange,
    pub is_new: bool,
    pub has_left: bool,
    pub items: Delta,
    /// Framework competencies with any evidence.
    pub evidenced: Delta,
    /// Framework competencies at moderate or strong.
    pub moderate_plus: Delta,
    /// Per framework area: competencies at moderate+ and evidenced.
    pub areas: Vec<AreaChange>,
    /// Strong now, not strong before.
    pub new_strengths: Vec<CompetencyRef>,
    /// Strong before, not strong now.
    pub lost_strengths: Vec<CompetencyRef>,
    /// Competencies whose strength rose, or fell.
    pub stronger: usize,
    pub weaker: usize,
    /// The previous strengths by competency id, for the CSV rows of people who left.
    #[serde(skip)]
    pub(super) previous: HashMap<String, Stat>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AreaChange {
    pub id: String,
    pub title: String,
    pub moderate_plus: Delta,
    pub evidenced: Delta,
}

/// A number now and in the previous snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct Delta {
    pub now: usize,
    pub then: usize,
    pub change: i64,
    /// "+2", "−1", "±0".
    pub label: String,
    /// `up`, `down` or `same`, for styling.
    pub direction: &'static str,
}

impl Delta {
    fn new(now: usize, then: usize) -> Delta {
        let change = now as i64 - then as i64;
        let (label, direction) = match change.cmp(&0) {
            Ordering::Greater => (format!("+{change}"), "up"),
            Ordering::Less => (format!("\u{2212}{}", -change), "down"),
            Ordering::Equal => ("\u{b1}0".to_string(), "same"),
        };
        Delta {
            now,
            then,
            change,
            label,
            direction,
        }
    }
}

/// What a person's evidence adds up to for one competency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Stat {
    pub strength: Strength,
    pub count: usize,
    pub score_total: f64,
}

impl Default for Stat {
    fn default() -> Self {
        Stat {
            strength: Strength::None,
            count: 0,
            score_total: 0.0,
        }
    }
}

/// Strength wording for legends and documentation.
const LEGEND: [(Strength, &str, &str); 4] = [
    (
        Strength::Strong,
        "Strong",
        "total score 2.5+ with a solid item",
    ),
    (
        Strength::Moderate,
        "Moderate",
        "a solid item (0.7+) or total 1.2+",
    ),
    (Strength::Weak, "Weak", "some evidence"),
    (Strength::None, "None", "no evidence"),
];

/// The team view of `scope`, compared with `previous` (scoped the same way) when given.
pub(super) fn team(
    scope: &Scope<'_>,
    framework: &Framework,
    previous: Option<&Scope<'_>>,
) -> TeamView {
    let index = FrameworkIndex::new(framework);
    let present: BTreeSet<ItemKind> = scope.items().map(|i| i.kind).collect();
    let kinds: Vec<KindCount> = ItemKind::ALL
        .into_iter()
        .filter(|k| present.contains(k))
        .map(|kind| KindCount::new(kind, scope.items().filter(|i| i.kind == kind).count()))
        .collect();
    let areas = area_columns(&index);

    let then = previous.map(|p| people_stats(p, &index));
    let mut people: Vec<PersonTeam> = subjects(scope.snapshot)
        .into_iter()
        .map(|(username, name)| {
            let items = scope.items_of(&username);
            let person = person_header(scope, &index, &username, name, items);
            let evidence = evidence_by_area(&index, items);
            let previous = then
                .as_ref()
                .map(|t| t.get(&username).map(|(_, stats)| stats));
            person_team(&index, &kinds, person, items, &evidence, previous)
        })
        .collect();

    let evidenced: BTreeSet<&str> = people
        .iter()
        .flat_map(|p| p.competencies.iter().map(|c| c.id.as_str()))
        .collect();
    let team_gaps = gaps(&index, &evidenced);
    let gap_count = team_gaps.iter().map(|a| a.competencies.len()).sum();
    let evidenced_by_anyone = framework.competencies.len() - gap_count;

    let compare = match (previous, then) {
        (Some(previous), Some(then)) => Some(team_compare(
            &index,
            &mut people,
            previous,
            &then,
            evidenced_by_anyone,
        )),
        _ => None,
    };

    TeamView {
        header: header(scope, framework),
        kinds,
        columns: areas.iter().map(|a| a.competencies.len()).sum(),
        areas,
        legend: LEGEND
            .iter()
            .map(|&(strength, label, description)| LegendEntry {
                strength,
                label,
                description,
            })
            .collect(),
        gaps: team_gaps,
        gap_count,
        evidenced_by_anyone,
        total_items: scope.items().count(),
        people,
        compare,
    }
}

/// The framework's areas with their competencies, in order; areas without any are left out.
fn area_columns(index: &FrameworkIndex<'_>) -> Vec<AreaColumns> {
    index
        .areas
        .iter()
        .filter_map(|(id, title)| {
            let competencies: Vec<Column> = index
                .framework
                .competencies_in(id)
                .enumerate()
                .map(|(n, c)| Column {
                    id: c.id.clone(),
                    title: c.title.clone(),
                    statement: c.statement.clone(),
                    short: c
                        .id
                        .rsplit_once('-')
                        .map_or_else(|| c.id.clone(), |(_, n)| n.to_string()),
                    first_in_area: n == 0,
                })
                .collect();
            (!competencies.is_empty()).then(|| AreaColumns {
                id: id.clone(),
                title: title.clone(),
                competencies,
            })
        })
        .collect()
}

/// Per competency id: strength, items and total score, from a person's evidence.
fn stats_of(evidence: &[AreaEvidence]) -> HashMap<String, Stat> {
    evidence
        .iter()
        .flat_map(|a| &a.competencies)
        .map(|c| {
            let total: f64 = c.items.iter().map(|e| e.score).sum();
            (
                c.id.clone(),
                Stat {
                    strength: c.strength,
                    count: c.items.len(),
                    score_total: round2(total),
                },
            )
        })
        .collect()
}

/// Everyone in a snapshot: username → (display name, what they had).
fn people_stats(scope: &Scope<'_>, index: &FrameworkIndex<'_>) -> BTreeMap<String, PersonStats> {
    subjects(scope.snapshot)
        .into_iter()
        .map(|(username, name)| {
            let items = scope.items_of(&username);
            let stats = stats_of(&evidence_by_area(index, items));
            let display = super::view::display_name(&username, name.as_deref());
            (
                username,
                (
                    display,
                    PersonThen {
                        items: items.len(),
                        stats,
                    },
                ),
            )
        })
        .collect()
}

/// A person in the previous snapshot.
#[derive(Debug)]
struct PersonThen {
    items: usize,
    stats: HashMap<String, Stat>,
}

/// A display name and what that person had.
type PersonStats = (String, PersonThen);

fn person_team(
    index: &FrameworkIndex<'_>,
    kinds: &[KindCount],
    person: PersonHeader,
    items: &[&crate::model::Item],
    evidence: &[AreaEvidence],
    previous: Option<Option<&PersonThen>>,
) -> PersonTeam {
    let stats = stats_of(evidence);
    let counts = kinds
        .iter()
        .map(|k| items.iter().filter(|i| i.kind == k.kind).count())
        .collect();
    let competencies: Vec<CompetencyCount> = evidence
        .iter()
        .flat_map(|area| {
            area.competencies.iter().map(|c| CompetencyCount {
                id: c.id.clone(),
                title: c.title.clone(),
                area: area.id.clone(),
                area_title: area.title.clone(),
                strength: c.strength,
                count: c.items.len(),
                score_total: stats[&c.id].score_total,
            })
        })
        .collect();

    let empty = HashMap::new();
    let previous_stats = previous.map(|p| p.map_or(&empty, |p| &p.stats));
    let mut cells = Vec::with_capacity(index.framework.competencies.len());
    let mut areas = Vec::new();
    for (area_id, area_title) in &index.areas {
        let mut summary = AreaSummary {
            id: area_id.clone(),
            title: area_title.clone(),
            competencies: 0,
            evidenced: 0,
            strong: 0,
            moderate: 0,
            weak: 0,
            summary: String::new(),
            letters: String::new(),
            top: top_evidence(evidence.iter().find(|a| a.id == *area_id)),
        };
        for (n, c) in index.framework.competencies_in(area_id).enumerate() {
            let stat = stats.get(&c.id).copied().unwrap_or_default();
            summary.competencies += 1;
            match stat.strength {
                Strength::Strong => summary.strong += 1,
                Strength::Moderate => summary.moderate += 1,
                Strength::Weak => summary.weak += 1,
                Strength::None => {}
            }
            summary.letters.push(strength_letter(stat.strength));
            let previous_strength =
                previous_stats.map(|p| p.get(&c.id).map_or(Strength::None, |s| s.strength));
            cells.push(HeatCell {
                tooltip: tooltip(
                    &person.display_name,
                    &c.id,
                    &c.title,
                    stat,
                    previous_strength,
                ),
                id: c.id.clone(),
                title: c.title.clone(),
                area: area_id.clone(),
                strength: stat.strength,
                count: stat.count,
                score_total: stat.score_total,
                first_in_area: n == 0,
                trend: previous_strength.and_then(|then| match stat.strength.cmp(&then) {
                    Ordering::Greater => Some("up"),
                    Ordering::Less => Some("down"),
                    Ordering::Equal => None,
                }),
                previous_strength,
            });
        }
        if summary.competencies == 0 {
            continue;
        }
        summary.evidenced = summary.strong + summary.moderate + summary.weak;
        summary.summary = [
            (summary.strong, "strong"),
            (summary.moderate, "moderate"),
            (summary.weak, "weak"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, word)| format!("{n} {word}"))
        .collect::<Vec<_>>()
        .join(", ");
        areas.push(summary);
    }

    let mut ranked: Vec<&AreaSummary> =
        areas.iter().filter(|a| a.strong + a.moderate > 0).collect();
    // Stable sort: ties keep framework order.
    ranked.sort_by(|a, b| {
        (b.strong, b.moderate, b.evidenced).cmp(&(a.strong, a.moderate, a.evidenced))
    });
    let strongest_areas = ranked
        .into_iter()
        .take(STRONGEST_AREAS)
        .map(|a| AreaBrief {
            id: a.id.clone(),
            title: a.title.clone(),
            summary: a.summary.clone(),
        })
        .collect();

    let strengths = competencies
        .iter()
        .filter(|c| c.strength == Strength::Strong)
        .map(|c| CompetencyRef {
            id: c.id.clone(),
            title: c.title.clone(),
        })
        .collect();
    let moderate_plus = competencies
        .iter()
        .filter(|c| c.strength >= Strength::Moderate && c.area != UNKNOWN_AREA)
        .count();
    let evidenced: BTreeSet<&str> = competencies.iter().map(|c| c.id.as_str()).collect();
    let no_evidence = gaps(index, &evidenced);
    let no_evidence_count = no_evidence.iter().map(|a| a.competencies.len()).sum();

    PersonTeam {
        person,
        counts,
        competencies,
        cells,
        areas,
        strongest_areas,
        strengths,
        moderate_plus,
        no_evidence,
        no_evidence_count,
        change: None,
    }
}

/// The best items of one area: each item once, under its best score in the area.
fn top_evidence(area: Option<&AreaEvidence>) -> Vec<TopEvidence> {
    let Some(area) = area else {
        return Vec::new();
    };
    let mut by_item: BTreeMap<&str, TopEvidence> = BTreeMap::new();
    // Competencies hold their items best first, so the first sighting of an item in a
    // competency is its best there.
    for competency in &area.competencies {
        for evidence in &competency.items {
            match by_item.get_mut(evidence.item.id.as_str()) {
                Some(top) => {
                    if !top.competencies.contains(&competency.id) {
                        top.competencies.push(competency.id.clone());
                    }
                    if evidence.score > top.score {
                        top.score = evidence.score;
                        top.why = evidence.why.clone();
                        // Keep the best competency first.
                        top.competencies.retain(|c| *c != competency.id);
                        top.competencies.insert(0, competency.id.clone());
                    }
                }
                None => {
                    by_item.insert(
                        evidence.item.id.as_str(),
                        TopEvidence {
                            item: evidence.item.clone(),
                            score: evidence.score,
                            competencies: vec![competency.id.clone()],
                            why: evidence.why.clone(),
                        },
                    );
                }
            }
        }
    }
    let mut top: Vec<TopEvidence> = by_item.into_values().collect();
    // Highlights lead, then the strongest evidence.
    top.sort_by(|a, b| {
        b.item
            .highlight
            .cmp(&a.item.highlight)
            .then_with(|| b.score.partial_cmp(&a.score).unwrap_or(Ordering::Equal))
            .then_with(|| super::view::by_date(&a.item, &b.item))
    });
    top.truncate(TOP_PER_AREA);
    top
}

fn tooltip(person: &str, id: &str, title: &str, stat: Stat, previous: Option<Strength>) -> String {
    let evidence = match stat.count {
        0 => "no evidence".to_string(),
        1 => format!("{}, 1 item", stat.strength),
        n => format!("{}, {n} items", stat.strength),
    };
    let was = match previous {
        Some(then) if then != stat.strength => format!(" (was {then})"),
        Some(_) => " (unchanged)".to_string(),
        None => String::new(),
    };
    format!("{person} \u{b7} {id} {title}: {evidence}{was}")
}

/// The letter a heatmap cell shows, so strength never relies on colour alone.
pub(super) fn strength_letter(strength: Strength) -> char {
    match strength {
        Strength::Strong => 'S',
        Strength::Moderate => 'M',
        Strength::Weak => 'W',
        Strength::None => '\u{b7}',
    }
}

fn team_compare(
    index: &FrameworkIndex<'_>,
    people: &mut [PersonTeam],
    previous: &Scope<'_>,
    then: &BTreeMap<String, PersonStats>,
    evidenced_now: usize,
) -> TeamCompare {
    let empty = HashMap::new();
    let mut changes = Vec::new();
    let mut joined = Vec::new();
    let now_people: BTreeSet<String> = people.iter().map(|p| p.person.username.clone()).collect();
    for person in people.iter_mut() {
        let was = then.get(&person.person.username).map(|(_, t)| t);
        let now_stats: HashMap<String, Stat> = person
            .cells
            .iter()
            .map(|c| {
                (
                    c.id.clone(),
                    Stat {
                        strength: c.strength,
                        count: c.count,
                        score_total: c.score_total,
                    },
                )
            })
            .collect();
        let status = if was.is_some() {
            PresenceChange::Continuing
        } else {
            joined.push(PersonRef {
                username: person.person.username.clone(),
                display_name: person.person.display_name.clone(),
            });
            PresenceChange::New
        };
        let change = person_change(
            index,
            &person.person.username,
            &person.person.display_name,
            status,
            (person.person.total, &now_stats),
            was.map_or((0, &empty), |w| (w.items, &w.stats)),
        );
        person.change = Some(change.clone());
        changes.push(change);
    }
    let mut left = Vec::new();
    for (username, (display_name, was)) in then {
        if now_people.contains(username) {
            continue;
        }
        left.push(PersonRef {
            username: username.clone(),
            display_name: display_name.clone(),
        });
        changes.push(person_change(
            index,
            username,
            display_name,
            PresenceChange::Left,
            (0, &empty),
            (was.items, &was.stats),
        ));
    }
    // `then` is keyed by username; list the people who left in the previous snapshot's order.
    let order: HashMap<String, usize> = subjects(previous.snapshot)
        .into_iter()
        .enumerate()
        .map(|(n, (u, _))| (u, n))
        .collect();
    let current = changes.len() - left.len();
    changes[current..].sort_by_key(|c| order.get(&c.username).copied());
    left.sort_by_key(|p| order.get(&p.username).copied());

    // Team-wide: a competency counts when anyone has it.
    let best = |stats: &mut dyn Iterator<Item = &HashMap<String, Stat>>| {
        let mut best: HashMap<String, Strength> = HashMap::new();
        for person in stats {
            for (id, stat) in person {
                let slot = best.entry(id.clone()).or_insert(Strength::None);
                *slot = (*slot).max(stat.strength);
            }
        }
        best
    };
    let now_best = {
        let now: Vec<HashMap<String, Stat>> = people
            .iter()
            .map(|p| {
                p.cells
                    .iter()
                    .map(|c| {
                        (
                            c.id.clone(),
                            Stat {
                                strength: c.strength,
                                count: c.count,
                                score_total: c.score_total,
                            },
                        )
                    })
                    .collect()
            })
            .collect();
        best(&mut now.iter())
    };
    let then_best = best(&mut then.values().map(|(_, t)| &t.stats));
    let areas = area_changes(index, &now_best, &then_best);
    let framework_ids = || index.framework.competencies.iter().map(|c| c.id.as_str());
    let evidenced_then = framework_ids()
        .filter(|id| then_best.get(*id).is_some_and(|s| *s > Strength::None))
        .count();
    let total = index.framework.competencies.len();

    TeamCompare {
        previous_period: period_view(&previous.snapshot.period),
        previous_generated_on: previous
            .snapshot
            .generated_at
            .format("%Y-%m-%d")
            .to_string(),
        people: changes,
        joined,
        left,
        areas,
        evidenced: Delta::new(evidenced_now, evidenced_then),
        gaps: Delta::new(total - evidenced_now, total - evidenced_then),
        hidden_confidential_then: previous.hidden_total(),
    }
}

/// Per framework area: competencies at moderate+ and evidenced, now and then.
fn area_changes(
    index: &FrameworkIndex<'_>,
    now: &HashMap<String, Strength>,
    then: &HashMap<String, Strength>,
) -> Vec<AreaChange> {
    let count = |map: &HashMap<String, Strength>, area: &str, min: Strength| {
        index
            .framework
            .competencies_in(area)
            .filter(|c| map.get(&c.id).is_some_and(|s| *s >= min))
            .count()
    };
    index
        .areas
        .iter()
        .filter(|(id, _)| index.framework.competencies_in(id).next().is_some())
        .map(|(id, title)| AreaChange {
            id: id.clone(),
            title: title.clone(),
            moderate_plus: Delta::new(
                count(now, id, Strength::Moderate),
                count(then, id, Strength::Moderate),
            ),
            evidenced: Delta::new(
                count(now, id, Strength::Weak),
                count(then, id, Strength::Weak),
            ),
        })
        .collect()
}

fn person_change(
    index: &FrameworkIndex<'_>,
    username: &str,
    display_name: &str,
    status: PresenceChange,
    (items_now, now): (usize, &HashMap<String, Stat>),
    (items_then, then): (usize, &HashMap<String, Stat>),
) -> PersonChange {
    let strength =
        |map: &HashMap<String, Stat>, id: &str| map.get(id).map_or(Strength::None, |s| s.strength);
    let strengths = |map: &HashMap<String, Stat>| -> HashMap<String, Strength> {
        map.iter().map(|(id, s)| (id.clone(), s.strength)).collect()
    };
    let framework = &index.framework.competencies;
    let count = |map: &HashMap<String, Stat>, min: Strength| {
        framework
            .iter()
            .filter(|c| strength(map, &c.id) >= min)
            .count()
    };
    let reference = |c: &crate::framework::Competency| CompetencyRef {
        id: c.id.clone(),
        title: c.title.clone(),
    };
    PersonChange {
        username: username.to_string(),
        display_name: display_name.to_string(),
        status,
        is_new: status == PresenceChange::New,
        has_left: status == PresenceChange::Left,
        items: Delta::new(items_now, items_then),
        evidenced: Delta::new(count(now, Strength::Weak), count(then, Strength::Weak)),
        moderate_plus: Delta::new(
            count(now, Strength::Moderate),
            count(then, Strength::Moderate),
        ),
        areas: area_changes(index, &strengths(now), &strengths(then)),
        new_strengths: framework
            .iter()
            .filter(|c| {
                strength(now, &c.id) == Strength::Strong
                    && strength(then, &c.id) != Strength::Strong
            })
            .map(reference)
            .collect(),
        lost_strengths: framework
            .iter()
            .filter(|c| {
                strength(then, &c.id) == Strength::Strong
                    && strength(now, &c.id) != Strength::Strong
            })
            .map(reference)
            .collect(),
        stronger: framework
            .iter()
            .filter(|c| strength(now, &c.id) > strength(then, &c.id))
            .count(),
        weaker: framework
            .iter()
            .filter(|c| strength(now, &c.id) < strength(then, &c.id))
            .count(),
        previous: then.clone(),
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

// ---- team JSON ----

/// The team JSON output (`format: "gl-evidence/team-overview"`): what a spreadsheet or a script
/// needs from the team view, without its layout helpers. Documented in the README.
#[derive(Debug, Serialize)]
pub struct TeamOverview<'v> {
    pub format: &'static str,
    pub version: u32,
    pub generated_at: &'v str,
    pub gitlab_url: &'v str,
    pub period: &'v PeriodView,
    pub framework: &'v FrameworkView,
    pub classified: bool,
    pub include_confidential: bool,
    pub hidden_confidential: usize,
    /// Items hidden in the curation file given with `--curation`.
    pub hidden_curated: usize,
    pub totals: OverviewTotals,
    pub people: Vec<PersonOverview<'v>>,
    /// Framework competencies nobody evidenced.
    pub gaps: Vec<OverviewGap<'v>>,
    pub warnings: &'v [Warning],
    pub notices: &'v [Warning],
    pub compare: Option<&'v TeamCompare>,
}

#[derive(Debug, Serialize)]
pub struct OverviewTotals {
    pub people: usize,
    pub items: usize,
    /// Items by kind (only kinds present).
    pub by_kind: BTreeMap<ItemKind, usize>,
    pub competencies: usize,
    pub competencies_evidenced: usize,
    pub gaps: usize,
}

#[derive(Debug, Serialize)]
pub struct PersonOverview<'v> {
    pub username: &'v str,
    pub name: Option<&'v str>,
    pub items: usize,
    pub by_kind: BTreeMap<ItemKind, usize>,
    pub hidden_confidential: usize,
    pub hidden_curated: usize,
    /// Items highlighted in the curation file, with their notes.
    pub highlights: Vec<HighlightOverview<'v>>,
    pub competencies_evidenced: usize,
    pub moderate_plus: usize,
    /// Area ids, strongest first.
    pub strongest_areas: Vec<&'v str>,
    /// Every framework competency (then any unknown id with evidence), in framework order.
    pub competencies: Vec<CompetencyOverview<'v>>,
    pub warnings: &'v [Warning],
    pub notices: &'v [Warning],
    pub change: Option<&'v PersonChange>,
}

#[derive(Debug, Serialize)]
pub struct HighlightOverview<'v> {
    pub title: &'v str,
    pub url: &'v str,
    pub note: Option<&'v str>,
}

#[derive(Debug, Serialize)]
pub struct CompetencyOverview<'v> {
    pub id: &'v str,
    pub area: &'v str,
    pub title: &'v str,
    pub strength: Strength,
    pub items: usize,
    pub score_total: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_strength: Option<Strength>,
}

#[derive(Debug, Serialize)]
pub struct OverviewGap<'v> {
    pub id: &'v str,
    pub area: &'v str,
    pub title: &'v str,
}

pub const TEAM_OVERVIEW_FORMAT: &str = "gl-evidence/team-overview";

impl TeamView {
    pub fn overview(&self) -> TeamOverview<'_> {
        let h = &self.header;
        TeamOverview {
            format: TEAM_OVERVIEW_FORMAT,
            version: 1,
            generated_at: &h.generated_at,
            gitlab_url: &h.gitlab_url,
            period: &h.period,
            framework: &h.framework,
            classified: h.classified,
            include_confidential: h.include_confidential,
            hidden_confidential: h.hidden_confidential,
            hidden_curated: h.hidden_curated,
            totals: OverviewTotals {
                people: self.people.len(),
                items: self.total_items,
                by_kind: self.kinds.iter().map(|k| (k.kind, k.count)).collect(),
                competencies: h.framework.competencies,
                competencies_evidenced: self.evidenced_by_anyone,
                gaps: self.gap_count,
            },
            people: self.people.iter().map(PersonTeam::overview).collect(),
            gaps: self
                .gaps
                .iter()
                .flat_map(|area| {
                    area.competencies.iter().map(|c| OverviewGap {
                        id: &c.id,
                        area: &area.id,
                        title: &c.title,
                    })
                })
                .collect(),
            warnings: &h.warnings,
            notices: &h.notices,
            compare: self.compare.as_ref(),
        }
    }
}

impl PersonTeam {
    fn overview(&self) -> PersonOverview<'_> {
        let p = &self.person;
        let framework = self.cells.iter().map(|c| CompetencyOverview {
            id: &c.id,
            area: &c.area,
            title: &c.title,
            strength: c.strength,
            items: c.count,
            score_total: c.score_total,
            previous_strength: c.previous_strength,
        });
        let unknown = self
            .competencies
            .iter()
            .filter(|c| c.area == UNKNOWN_AREA)
            .map(|c| CompetencyOverview {
                id: &c.id,
                area: &c.area,
                title: &c.title,
                strength: c.strength,
                items: c.count,
                score_total: c.score_total,
                previous_strength: None,
            });
        PersonOverview {
            username: &p.username,
            name: p.name.as_deref(),
            items: p.total,
            by_kind: p.totals.iter().map(|k| (k.kind, k.count)).collect(),
            hidden_confidential: p.hidden_confidential,
            hidden_curated: p.hidden_curated,
            highlights: p
                .highlights
                .iter()
                .map(|i| HighlightOverview {
                    title: &i.title,
                    url: &i.url,
                    note: i.note.as_deref(),
                })
                .collect(),
            competencies_evidenced: p.competencies_evidenced,
            moderate_plus: self.moderate_plus,
            strongest_areas: self.strongest_areas.iter().map(|a| a.id.as_str()).collect(),
            competencies: framework.chain(unknown).collect(),
            warnings: &p.warnings,
            notices: &p.notices,
            change: self.change.as_ref(),
        }
    }
}
