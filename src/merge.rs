//! Merging snapshots (`gl-evidence merge`), typically the shards of one team's harvest, into one.
//!
//! Only snapshots of one instance and one period merge. Items harvested twice (same subject,
//! kind and id, or URL for an item without id) are kept once; subjects and sources are united, a source harvested twice
//! keeping its best run. Classification is dropped: competencies computed by different runs,
//! perhaps with different rules, must not be mixed, and `report` classifies an unclassified
//! snapshot anyway. The result does not depend on the order of the inputs (ties aside, broken
//! by file name), so the same shards always merge to the same bytes.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::model::{Item, ItemKind, Snapshot, Source, SourceStatus, Subject};
use crate::shard::{ShardRecord, SHARD_KEY};

/// The snapshot key (`extra`) naming the group a snapshot is the team of.
pub const GROUP_KEY: &str = "group";

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: name at least one snapshot")]
    Empty,
    #[error("cannot merge {first} and {second}: they come from different GitLab instances ({first_url} and {second_url})\n  hint: merge only snapshots harvested from one instance")]
    DifferentInstance {
        first: String,
        first_url: String,
        second: String,
        second_url: String,
    },
    #[error("cannot merge {first} and {second}: they cover different periods ({first_period} and {second_period})\n  hint: harvest every shard with the same --quarter or --from/--to")]
    DifferentPeriod {
        first: String,
        first_period: String,
        second: String,
        second_period: String,
    },
    #[error("{origin}: unreadable shard record (`{SHARD_KEY}`): {detail}")]
    BadShardRecord { origin: String, detail: String },
    #[error("cannot merge shards of different splits: {first} is shard {first_shard}, {second} is shard {second_shard}\n  hint: harvest every shard of one run with the same M in --shard N/M")]
    DifferentSplits {
        first: String,
        first_shard: String,
        second: String,
        second_shard: String,
    },
    #[error("shard{} {} of {total} missing: only {present} given\n  hint: pass every shard's snapshot (a failed shard job leaves none: re-run it)", if .missing.len() > 1 { "s" } else { "" }, list_numbers(.missing))]
    MissingShards {
        total: u32,
        missing: Vec<u32>,
        present: String,
    },
}

fn list_numbers(numbers: &[u32]) -> String {
    numbers
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One snapshot to merge and where it came from (a file name, for messages).
#[derive(Debug, Clone)]
pub struct MergeInput {
    pub origin: String,
    pub snapshot: Snapshot,
}

/// The merged snapshot and what merging it found.
#[derive(Debug, Clone)]
pub struct Merged {
    pub snapshot: Snapshot,
    pub inputs: usize,
    /// Items dropped because another input had them too.
    pub duplicates_dropped: usize,
    /// Whether any input was classified (its competencies were dropped).
    pub classification_dropped: bool,
    /// Subjects found in more than one input, with those inputs.
    pub overlapping_subjects: Vec<(String, Vec<String>)>,
    /// People a shard's member list names whom no shard harvested (the list changed between
    /// shard jobs, or a shard is missing).
    pub missing_members: Vec<String>,
    /// Sources of the merged snapshot that did not complete, with the input each came from.
    pub incomplete_sources: Vec<(Source, String)>,
}

/// Merges `inputs` (at least one) into one snapshot.
pub fn merge(inputs: Vec<MergeInput>) -> Result<Merged, MergeError> {
    let first = inputs.first().ok_or(MergeError::Empty)?;
    let base_url = normalise_url(&first.snapshot.gitlab_url);
    for input in &inputs[1..] {
        if normalise_url(&input.snapshot.gitlab_url) != base_url {
            return Err(MergeError::DifferentInstance {
                first: first.origin.clone(),
                first_url: first.snapshot.gitlab_url.clone(),
                second: input.origin.clone(),
                second_url: input.snapshot.gitlab_url.clone(),
            });
        }
        if input.snapshot.period != first.snapshot.period {
            return Err(MergeError::DifferentPeriod {
                first: first.origin.clone(),
                first_period: period_text(&first.snapshot),
                second: input.origin.clone(),
                second_period: period_text(&input.snapshot),
            });
        }
    }
    let shards = check_shards(&inputs)?;

    // Later harvests first: where two inputs disagree, the newer one wins.
    let mut inputs = inputs;
    inputs.sort_by(|a, b| {
        b.snapshot
            .generated_at
            .cmp(&a.snapshot.generated_at)
            .then_with(|| a.origin.cmp(&b.origin))
    });
    let newest = &inputs[0].snapshot;
    let mut merged = Snapshot::new(
        newest.gitlab_url.clone(),
        newest.period,
        newest.generated_at,
    );
    merged.extra = merge_extra(&inputs);
    let classification_dropped = inputs
        .iter()
        .any(|i| i.snapshot.classification.is_some() || has_competencies(&i.snapshot));

    let (subjects, overlapping_subjects) = merge_subjects(&inputs);
    merged.subjects = subjects;
    let (sources, origins) = merge_sources(&inputs);
    merged.sources = sources;
    let (items, duplicates_dropped) = merge_items(&inputs);
    merged.items = items;

    let harvested: BTreeSet<String> = merged
        .subjects
        .iter()
        .map(|s| s.username.to_ascii_lowercase())
        .collect();
    let mut missing_members: Vec<String> = shards
        .iter()
        .flat_map(|record| record.members.iter())
        .filter(|m| !harvested.contains(&m.to_ascii_lowercase()))
        .cloned()
        .collect();
    missing_members.sort_by_key(|m| m.to_ascii_lowercase());
    missing_members.dedup_by(|a, b| a.eq_ignore_ascii_case(b));

    let incomplete_sources = merged
        .sources
        .iter()
        .zip(origins)
        .filter(|(s, _)| matches!(s.status, SourceStatus::Partial | SourceStatus::Failed))
        .map(|(s, origin)| (s.clone(), origin))
        .collect();
    Ok(Merged {
        snapshot: merged,
        inputs: inputs.len(),
        duplicates_dropped,
        classification_dropped,
        overlapping_subjects,
        missing_members,
        incomplete_sources,
    })
}

/// `https://GitLab.example.com:443/gitlab/` and `https://gitlab.example.com/gitlab` are one
/// instance.
pub fn normalise_url(text: &str) -> String {
    match url::Url::parse(text.trim()) {
        Ok(url) => {
            let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!(
                "{}://{}{}{}",
                url.scheme(),
                url.host_str().unwrap_or(""),
                port,
                url.path().trim_end_matches('/')
            )
        }
        Err(_) => text.trim().trim_end_matches('/').to_ascii_lowercase(),
    }
}

fn period_text(snapshot: &Snapshot) -> String {
    format!("{}..{}", snapshot.period.from, snapshot.period.to)
}

fn has_competencies(snapshot: &Snapshot) -> bool {
    snapshot.items.iter().any(|i| !i.competencies.is_empty())
}

/// The shard records of the inputs, checked: one split, and every shard of it present.
fn check_shards(inputs: &[MergeInput]) -> Result<Vec<ShardRecord>, MergeError> {
    let mut records: Vec<(&str, ShardRecord)> = Vec::new();
    for input in inputs {
        let Some(value) = input.snapshot.extra.get(SHARD_KEY) else {
            continue;
        };
        let record: ShardRecord =
            serde_json::from_value(value.clone()).map_err(|e| MergeError::BadShardRecord {
                origin: input.origin.clone(),
                detail: e.to_string(),
            })?;
        records.push((&input.origin, record));
    }
    let Some((first_origin, first)) = records.first() else {
        return Ok(Vec::new());
    };
    if let Some((origin, other)) = records.iter().find(|(_, r)| r.total != first.total) {
        return Err(MergeError::DifferentSplits {
            first: first_origin.to_string(),
            first_shard: format!("{}/{}", first.index, first.total),
            second: origin.to_string(),
            second_shard: format!("{}/{}", other.index, other.total),
        });
    }
    let present: BTreeSet<u32> = records.iter().map(|(_, r)| r.index).collect();
    let missing: Vec<u32> = (1..=first.total).filter(|i| !present.contains(i)).collect();
    if !missing.is_empty() {
        return Err(MergeError::MissingShards {
            total: first.total,
            missing,
            present: present
                .iter()
                .map(|i| format!("{i}/{}", first.total))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(records.into_iter().map(|(_, r)| r).collect())
}

/// Unknown top-level fields, the newest input's value winning; the shard record goes (the
/// result is whole), and `group` stays only when every input is of the same group.
fn merge_extra(newest_first: &[MergeInput]) -> BTreeMap<String, Value> {
    let mut extra = BTreeMap::new();
    for input in newest_first.iter().rev() {
        for (key, value) in &input.snapshot.extra {
            extra.insert(key.clone(), value.clone());
        }
    }
    extra.remove(SHARD_KEY);
    let first_group = newest_first[0].snapshot.extra.get(GROUP_KEY);
    if newest_first
        .iter()
        .any(|i| i.snapshot.extra.get(GROUP_KEY) != first_group)
    {
        extra.remove(GROUP_KEY);
    }
    extra
}

/// Subjects by username (without case), sorted; name and id from the newest input that has
/// them.
fn merge_subjects(newest_first: &[MergeInput]) -> (Vec<Subject>, Vec<(String, Vec<String>)>) {
    let mut subjects: BTreeMap<String, (Subject, Vec<String>)> = BTreeMap::new();
    for input in newest_first {
        for subject in &input.snapshot.subjects {
            let key = subject.username.to_ascii_lowercase();
            let (kept, origins) = subjects
                .entry(key)
                .or_insert_with(|| (subject.clone(), Vec::new()));
            kept.name = kept.name.take().or_else(|| subject.name.clone());
            kept.id = kept.id.or(subject.id);
            if !origins.contains(&input.origin) {
                origins.push(input.origin.clone());
            }
        }
    }
    let mut overlapping = Vec::new();
    let mut list = Vec::new();
    for (subject, mut origins) in subjects.into_values() {
        if origins.len() > 1 {
            origins.sort();
            overlapping.push((subject.username.clone(), origins));
        }
        list.push(subject);
    }
    (list, overlapping)
}

/// How well a source went: a complete run beats a skipped one, which beats an incomplete one.
fn status_rank(status: SourceStatus) -> u8 {
    match status {
        SourceStatus::Ok => 0,
        SourceStatus::Skipped => 1,
        SourceStatus::Partial => 2,
        SourceStatus::Failed => 3,
    }
}

/// One entry per subject and source, sorted by both: the best run (the newest among equals).
/// Returns, beside each, the input it came from.
fn merge_sources(newest_first: &[MergeInput]) -> (Vec<Source>, Vec<String>) {
    let mut best: BTreeMap<(String, String), (Source, String)> = BTreeMap::new();
    for input in newest_first {
        for source in &input.snapshot.sources {
            let key = (source.subject.to_ascii_lowercase(), source.name.clone());
            match best.get(&key) {
                Some((kept, _)) if status_rank(kept.status) <= status_rank(source.status) => {}
                _ => {
                    best.insert(key, (source.clone(), input.origin.clone()));
                }
            }
        }
    }
    best.into_values().unzip()
}

/// Every item once (one per subject, kind and id, or URL when there is no id), competencies
/// dropped, in the harvest's order. Returns how many duplicates were dropped.
fn merge_items(newest_first: &[MergeInput]) -> (Vec<Item>, usize) {
    let mut kept: Vec<(Item, usize)> = Vec::new();
    let mut slots: HashMap<(String, ItemKind, String), usize> = HashMap::new();
    let mut dropped = 0;
    for (rank, input) in newest_first.iter().enumerate() {
        for item in &input.snapshot.items {
            let mut item = item.clone();
            item.competencies.clear();
            // The id says which item it is; the URL only when there is no id (on-call shifts,
            // for one, share their schedule's URL).
            let identity = if item.id.trim().is_empty() {
                item.web_url.trim().trim_end_matches('/').to_string()
            } else {
                item.id.clone()
            };
            if identity.is_empty() {
                kept.push((item, rank));
                continue;
            }
            let key = (item.subject.to_ascii_lowercase(), item.kind, identity);
            match slots.get(&key) {
                Some(&slot) => {
                    dropped += 1;
                    if prefer(&item, rank, &kept[slot].0, kept[slot].1) == Ordering::Greater {
                        kept[slot] = (item, rank);
                    }
                }
                None => {
                    slots.insert(key, kept.len());
                    kept.push((item, rank));
                }
            }
        }
    }
    let mut items: Vec<Item> = kept.into_iter().map(|(item, _)| item).collect();
    items.sort_by(|a, b| {
        (&a.subject, a.kind, a.date(), &a.id, a.role, &a.web_url).cmp(&(
            &b.subject,
            b.kind,
            b.date(),
            &b.id,
            b.role,
            &b.web_url,
        ))
    });
    (items, dropped)
}

/// Which of two copies of an item to keep (`Greater`: the first): the one GitLab updated last,
/// else the one from the newer harvest (lower rank), else the one with more fields, else the
/// one whose JSON sorts last, so the choice never depends on the order of the inputs.
fn prefer(a: &Item, a_rank: usize, b: &Item, b_rank: usize) -> Ordering {
    a.updated_at
        .cmp(&b.updated_at)
        .then_with(|| b_rank.cmp(&a_rank))
        .then_with(|| richness(a).cmp(&richness(b)))
        .then_with(|| canonical(a).cmp(&canonical(b)))
}

/// How much an item says: its fields set, and the length of its text.
fn richness(item: &Item) -> (usize, usize) {
    let fields = match serde_json::to_value(item) {
        Ok(Value::Object(map)) => map.values().filter(|v| !v.is_null()).count(),
        _ => 0,
    };
    let text = item.description.as_deref().map_or(0, str::len) + item.changed_paths.len();
    (fields, text)
}

fn canonical(item: &Item) -> String {
    serde_json::to_string(item).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, Utc};
    use serde_json::json;

    use super::*;
    use crate::model::{Classification, CompetencyMatch, ItemKind, Period, Role, SNAPSHOT_FORMAT};

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn q3() -> Period {
        Period::new(
            NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 9, 30).unwrap(),
        )
        .unwrap()
    }

    fn snapshot(url: &str, generated: &str, subjects: &[&str]) -> Snapshot {
        let mut s = Snapshot::new(url.to_string(), q3(), at(generated));
        for (n, name) in subjects.iter().enumerate() {
            s.subjects.push(Subject {
                username: name.to_string(),
                name: Some(name.to_uppercase()),
                id: Some(n as u64 + 1),
            });
            s.sources
                .push(source(name, "merge_requests", SourceStatus::Ok));
        }
        s
    }

    fn source(subject: &str, name: &str, status: SourceStatus) -> Source {
        Source {
            name: name.to_string(),
            subject: subject.to_string(),
            status,
            detail: (status != SourceStatus::Ok).then(|| format!("{name} went {status}")),
            items: 1,
            requests: 2,
        }
    }

    fn mr(subject: &str, n: u64, updated: &str) -> Item {
        let mut item = Item::new(
            ItemKind::MergeRequest,
            Role::Author,
            subject,
            format!("gid://gitlab/MergeRequest/{n}"),
            format!("https://gitlab.example.com/g/p/-/merge_requests/{n}"),
            format!("MR {n}"),
        );
        item.created_at = Some(at("2026-07-02T10:00:00Z"));
        item.updated_at = Some(at(updated));
        item
    }

    fn input(origin: &str, snapshot: Snapshot) -> MergeInput {
        MergeInput {
            origin: origin.to_string(),
            snapshot,
        }
    }

    #[test]
    fn shards_unite_subjects_sources_and_items_in_a_stable_order() {
        let mut a = snapshot(
            "https://gitlab.example.com",
            "2026-10-01T06:00:00Z",
            &["bob"],
        );
        a.items.push(mr("bob", 2, "2026-07-05T00:00:00Z"));
        let mut b = snapshot(
            "https://GitLab.example.com/",
            "2026-10-01T06:01:00Z",
            &["alice"],
        );
        b.items.push(mr("alice", 1, "2026-07-04T00:00:00Z"));
        let ab = merge(vec![input("a.json", a.clone()), input("b.json", b.clone())]).unwrap();
        let ba = merge(vec![input("b.json", b), input("a.json", a)]).unwrap();
        assert_eq!(
            ab.snapshot.to_json(),
            ba.snapshot.to_json(),
            "order of inputs"
        );
        let s = &ab.snapshot;
        assert_eq!(s.format, SNAPSHOT_FORMAT);
        let names: Vec<&str> = s.subjects.iter().map(|s| s.username.as_str()).collect();
        assert_eq!(names, ["alice", "bob"]);
        let sources: Vec<&str> = s.sources.iter().map(|s| s.subject.as_str()).collect();
        assert_eq!(sources, ["alice", "bob"]);
        let titles: Vec<&str> = s.items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["MR 1", "MR 2"]);
        assert_eq!(
            s.generated_at,
            at("2026-10-01T06:01:00Z"),
            "the newest input's"
        );
        assert_eq!(ab.duplicates_dropped, 0);
        assert!(ab.overlapping_subjects.is_empty());
        assert!(!s.is_partial());
    }

    #[test]
    fn duplicates_keep_the_latest_copy_whatever_the_order() {
        let mut old = snapshot(
            "https://gitlab.example.com",
            "2026-10-01T06:00:00Z",
            &["alice"],
        );
        let mut stale = mr("alice", 1, "2026-07-04T00:00:00Z");
        stale.state = Some("opened".into());
        old.items.push(stale);
        let mut new = snapshot(
            "https://gitlab.example.com",
            "2026-10-01T05:00:00Z",
            &["alice"],
        );
        let mut fresh = mr("alice", 1, "2026-08-01T00:00:00Z");
        fresh.state = Some("merged".into());
        new.items.push(fresh);
        for inputs in [
            vec![
                input("old.json", old.clone()),
                input("new.json", new.clone()),
            ],
            vec![
                input("new.json", new.clone()),
                input("old.json", old.clone()),
            ],
        ] {
            let merged = merge(inputs).unwrap();
            assert_eq!(merged.duplicates_dropped, 1);
            assert_eq!(merged.snapshot.items.len(), 1);
            assert_eq!(merged.snapshot.items[0].state.as_deref(), Some("merged"));
            assert_eq!(
                merged.overlapping_subjects,
                vec![(
                    "alice".to_string(),
                    vec!["new.json".to_string(), "old.json".to_string()]
                )]
            );
        }
    }

    #[test]
    fn equal_copies_prefer_the_newer_harvest_then_the_richer_item() {
        let mut a = snapshot(
            "https://gitlab.example.com",
            "2026-10-01T06:00:00Z",
            &["alice"],
        );
        let mut b = snapshot(
            "https://gitlab.example.com",
            "2026-10-02T06:00:00Z",
            &["alice"],
        );
        let mut rich = mr("alice", 1, "2026-07-04T00:00:00Z");
        rich.description = Some("the whole story".into());
        a.items.push(rich);
        b.items.push(mr("alice", 1, "2026-07-04T00:00:00Z"));
        let merged = merge(vec![input("a", a.clone()), input("b", b.clone())]).unwrap();
        assert_eq!(merged.snapshot.items[0].description, None, "newer harvest");
        b.generated_at = a.generated_at;
        let merged = merge(vec![input("b", b), input("a", a)]).unwrap();
        assert_eq!(
            merged.snapshot.items[0].description.as_deref(),
            Some("the whole story"),
            "same harvest time: the richer copy"
        );
    }

    #[test]
    fn items_are_one_by_id_and_by_url_only_without_an_id() {
        let mut a = snapshot(
            "https://gitlab.example.com",
            "2026-10-01T06:00:00Z",
            &["alice"],
        );
        let mut b = a.clone();
        a.items.push(mr("alice", 1, "2026-07-04T00:00:00Z"));
        b.items.push(mr("alice", 1, "2026-07-04T00:00:00Z"));
        // Same URL, another id: another item (on-call shifts share their schedule's URL).
        let mut shift = mr("alice", 1, "2026-07-04T00:00:00Z");
        shift.id = "gid://gitlab/IncidentManagement::OncallRotation/1/2026-07-05".into();
        b.items.push(shift);
        // Without an id, the URL decides.
        let mut no_id = mr("alice", 2, "2026-07-04T00:00:00Z");
        no_id.id = String::new();
        a.items.push(no_id.clone());
        b.items.push(no_id);
        // A review of the same MR is another item; so is bob's copy.
        let mut review = mr("alice", 1, "2026-07-04T00:00:00Z");
        review.kind = ItemKind::Review;
        review.role = Role::Reviewer;
        b.items.push(review);
        b.items.push(mr("bob", 1, "2026-07-04T00:00:00Z"));
        let merged = merge(vec![input("a", a), input("b", b)]).unwrap();
        assert_eq!(merged.duplicates_dropped, 2);
        assert_eq!(merged.snapshot.items.len(), 5);
    }

    #[test]
    fn a_snapshot_merged_with_itself_is_itself() {
        let team = Snapshot::from_json(
            include_str!("../data/demo/team-snapshot.json"),
            "team-snapshot.json",
        )
        .unwrap();
        let merged = merge(vec![input("one", team.clone()), input("two", team.clone())]).unwrap();
        assert_eq!(merged.duplicates_dropped, team.items.len());
        let mut items = team.items.clone();
        for item in &mut items {
            item.competencies.clear();
        }
        let key = |i: &Item| (i.subject.clone(), i.kind, i.id.clone());
        items.sort_by_key(key);
        let mut got = merged.snapshot.items.clone();
        got.sort_by_key(key);
        assert_eq!(got, items);
        assert_eq!(merged.snapshot.subjects.len(), team.subjects.len());
        assert_eq!(merged.snapshot.sources.len(), team.sources.len());
    }

    #[test]
    fn different_instances_or_periods_are_refused_naming_both_files() {
        let a = snapshot("https://gitlab.example.com", "2026-10-01T06:00:00Z", &["a"]);
        let b = snapshot("https://gitlab.com", "2026-10-01T06:00:00Z", &["b"]);
        let err = merge(vec![input("a.json", a.clone()), input("b.json", b)])
            .unwrap_err()
            .to_string();
        for part in [
            "a.json",
            "b.json",
            "https://gitlab.example.com",
            "https://gitlab.com",
            "different GitLab instances",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        let mut c = a.clone();
        c.period = Period::new(
            NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        )
        .unwrap();
        let err = merge(vec![input("a.json", a), input("c.json", c)])
            .unwrap_err()
            .to_string();
        for part in [
            "a.json",
            "c.json",
            "2026-07-01..2026-09-30",
            "2026-04-01..2026-06-30",
            "different periods",
        ] {
            assert!(err.contains(part), "{part}: {err}");
        }
        assert!(matches!(merge(Vec::new()), Err(MergeError::Empty)));
    }

    #[test]
    fn urls_are_compared_normalised() {
        assert_eq!(
            normalise_url("HTTPS://GitLab.Example.com:443/gitlab/"),
            normalise_url("https://gitlab.example.com/gitlab")
        );
        assert_ne!(
            normalise_url("https://gitlab.example.com/gitlab"),
            normalise_url("https://gitlab.example.com")
        );
        assert_ne!(
            normalise_url("http://gitlab.example.com"),
            normalise_url("https://gitlab.example.com")
        );
    }

    #[test]
    fn a_source_keeps_its_best_run_and_a_partial_one_keeps_the_merge_partial() {
        let mut a = snapshot(
            "https://gitlab.example.com",
            "2026-10-01T06:00:00Z",
            &["alice"],
        );
        a.sources
            .push(source("alice", "reviews", SourceStatus::Failed));
        let mut b = snapshot(
            "https://gitlab.example.com",
            "2026-10-01T07:00:00Z",
            &["alice"],
        );
        b.sources.push(source("alice", "reviews", SourceStatus::Ok));
        let merged = merge(vec![input("a", a.clone()), input("b", b)]).unwrap();
        let reviews = merged
            .snapshot
            .sources
            .iter()
            .find(|s| s.name == "reviews")
            .unwrap();
        assert_eq!(reviews.status, SourceStatus::Ok, "the rerun succeeded");
        assert!(!merged.snapshot.is_partial());

        let mut c = snapshot(
            "https://gitlab.example.com",
            "2026-10-01T07:00:00Z",
            &["bob"],
        );
        c.sources
            .push(source("bob", "issues", SourceStatus::Partial));
        let merged = merge(vec![input("a", a), input("c", c)]).unwrap();
        assert!(merged.snapshot.is_partial());
        let incomplete: Vec<(&str, &str, &str)> = merged
            .incomplete_sources
            .iter()
            .map(|(s, origin)| (s.subject.as_str(), s.name.as_str(), origin.as_str()))
            .collect();
        assert_eq!(
            incomplete,
            [("alice", "reviews", "a"), ("bob", "issues", "c")]
        );
    }

    #[test]
    fn classification_is_dropped() {
        let mut a = snapshot(
            "https://gitlab.example.com",
            "2026-10-01T06:00:00Z",
            &["alice"],
        );
        let mut item = mr("alice", 1, "2026-07-04T00:00:00Z");
        item.competencies.push(CompetencyMatch {
            id: "technical-1".into(),
            score: 0.8,
            rule: "old-rule".into(),
            reasons: vec!["stale".into()],
        });
        a.items.push(item);
        a.classification = Some(Classification {
            framework: "f".into(),
            rules: "r".into(),
            extra: BTreeMap::new(),
        });
        let b = snapshot(
            "https://gitlab.example.com",
            "2026-10-01T06:00:00Z",
            &["bob"],
        );
        let merged = merge(vec![input("a", a), input("b", b.clone())]).unwrap();
        assert!(merged.classification_dropped);
        assert!(merged.snapshot.classification.is_none());
        assert!(merged.snapshot.items[0].competencies.is_empty());
        let plain = merge(vec![input("b", b)]).unwrap();
        assert!(!plain.classification_dropped);
    }

    fn shard(mut s: Snapshot, index: u32, total: u32, members: &[&str]) -> Snapshot {
        s.extra.insert(
            SHARD_KEY.into(),
            json!({"index": index, "total": total, "members": members}),
        );
        s.extra.insert(GROUP_KEY.into(), json!("acme/sre"));
        s
    }

    #[test]
    fn every_shard_must_be_there_and_of_one_split() {
        let url = "https://gitlab.example.com";
        let all = ["alice", "bob", "carol"];
        let one = shard(
            snapshot(url, "2026-10-01T06:00:00Z", &["alice", "carol"]),
            1,
            2,
            &all,
        );
        let two = shard(snapshot(url, "2026-10-01T06:00:00Z", &["bob"]), 2, 2, &all);
        let merged = merge(vec![
            input("s1.json", one.clone()),
            input("s2.json", two.clone()),
        ])
        .unwrap();
        assert!(merged.missing_members.is_empty());
        assert!(
            !merged.snapshot.extra.contains_key(SHARD_KEY),
            "the merge is whole"
        );
        assert_eq!(
            merged.snapshot.extra.get(GROUP_KEY),
            Some(&json!("acme/sre"))
        );

        let err = merge(vec![input("s1.json", one.clone())])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("shard 2 of 2 missing: only 1/2 given"),
            "{err}"
        );

        let other = shard(snapshot(url, "2026-10-01T06:00:00Z", &["bob"]), 2, 3, &all);
        let err = merge(vec![input("s1.json", one.clone()), input("x.json", other)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("s1.json is shard 1/2") && err.contains("x.json is shard 2/3"),
            "{err}"
        );

        // The list changed between the shard jobs: dave joined after shard 1 was cut.
        let later = ["alice", "bob", "carol", "dave"];
        let two = shard(
            snapshot(url, "2026-10-01T06:00:00Z", &["bob", "dave"]),
            2,
            2,
            &later,
        );
        let merged = merge(vec![input("s1.json", one.clone()), input("s2.json", two)]).unwrap();
        assert!(merged.missing_members.is_empty(), "dave was harvested");
        let three = shard(
            snapshot(url, "2026-10-01T06:00:00Z", &["bob"]),
            2,
            2,
            &later,
        );
        let merged = merge(vec![input("s1.json", one), input("s2.json", three)]).unwrap();
        assert_eq!(merged.missing_members, ["dave"]);
    }

    #[test]
    fn a_group_is_kept_only_when_every_input_shares_it() {
        let url = "https://gitlab.example.com";
        let mut a = snapshot(url, "2026-10-01T06:00:00Z", &["alice"]);
        a.extra.insert(GROUP_KEY.into(), json!("acme/sre"));
        let b = snapshot(url, "2026-10-01T06:00:00Z", &["bob"]);
        let merged = merge(vec![input("a", a), input("b", b)]).unwrap();
        assert!(!merged.snapshot.extra.contains_key(GROUP_KEY));
    }
}
