//! `gl-evidence merge`: read the snapshots, merge them, say what merging found, write the result.

use std::path::{Path, PathBuf};

use super::Outcome;
use crate::deliver::write_output;
use crate::error::Result;
use crate::merge::{self, MergeInput, Merged};
use crate::model::Snapshot;

/// How many names a note lists before it says "and N more".
const LISTED: usize = 10;

pub(super) fn run(inputs: &[PathBuf], out: Option<&Path>) -> Result<Outcome> {
    let mut snapshots = Vec::with_capacity(inputs.len());
    for path in inputs {
        // Snapshot errors name the file: unreadable, not JSON, not a snapshot, wrong version.
        snapshots.push(MergeInput {
            origin: path.display().to_string(),
            snapshot: Snapshot::read(path)?,
        });
    }
    let merged = merge::merge(snapshots)?;
    write_output(out, &merged.snapshot.to_json())?;
    Ok(report(&merged))
}

/// Says on stderr what the merge did and found; partial when a source did not complete.
fn report(merged: &Merged) -> Outcome {
    let snapshot = &merged.snapshot;
    crate::say!(
        "merged {} snapshot{}: {} {}, {} items ({} duplicate{} dropped)",
        merged.inputs,
        plural(merged.inputs),
        snapshot.subjects.len(),
        if snapshot.subjects.len() == 1 {
            "person"
        } else {
            "people"
        },
        snapshot.items.len(),
        merged.duplicates_dropped,
        plural(merged.duplicates_dropped),
    );
    if merged.classification_dropped {
        crate::say!(
            "note: classification dropped (inputs may have been classified differently): `report` classifies the merged snapshot, or run `gl-evidence classify`"
        );
    }
    for (username, origins) in merged.overlapping_subjects.iter().take(LISTED) {
        crate::say!(
            "note: {username} is in {}: each item kept once",
            origins.join(" and ")
        );
    }
    if merged.overlapping_subjects.len() > LISTED {
        crate::say!(
            "note: … and {} more people in several inputs",
            merged.overlapping_subjects.len() - LISTED
        );
    }
    if !merged.missing_members.is_empty() {
        crate::say!(
            "warning: the shards' member lists name {} nobody harvested ({}): the group changed while the shards ran; run the harvest again to include them",
            listing(&merged.missing_members),
            plural_people(merged.missing_members.len()),
        );
    }
    for (source, origin) in &merged.incomplete_sources {
        crate::say!(
            "warning: source `{}` for {} is {} (from {origin}): {}",
            source.name,
            source.subject,
            source.status,
            source.detail.as_deref().unwrap_or("no detail")
        );
    }
    if snapshot.is_partial() {
        crate::say!(
            "warning: the merged snapshot is partial: {} source{} did not complete (exit code 3); reports from it say so",
            merged.incomplete_sources.len(),
            plural(merged.incomplete_sources.len())
        );
        Outcome::Partial
    } else {
        Outcome::Complete
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn plural_people(n: usize) -> String {
    format!("{n} {}", if n == 1 { "person" } else { "people" })
}

fn listing(names: &[String]) -> String {
    let shown = names
        .iter()
        .take(LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LISTED {
        format!("{shown} and {} more", names.len() - LISTED)
    } else {
        shown
    }
}
