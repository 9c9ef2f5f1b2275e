//! Curation: a person's edits to the draft — items hidden or highlighted, notes, competencies
//! added or removed — kept in a TOML file keyed by item URL, so that they survive every
//! re-harvest and re-classification.
//!
//! The file is the source of truth. [`apply`] lays it over a classified snapshot (undoing
//! whatever curation the snapshot already carried first, so applying is repeatable); the
//! reports then read each item's [`ItemCuration`]. Entries whose item is not in the snapshot
//! are reported and kept, never dropped: one file can serve many periods.
//!
//! - `file`: reading and writing the TOML, keeping comments and a stable, sorted order;
//! - `edit`: the `curate` command (edits from flags, and the listing);
//! - `review`: the interactive `review` command.

mod edit;
mod file;
mod review;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::framework::Framework;
use crate::model::{CompetencyMatch, Item, ItemCuration, Snapshot, CURATED_RULE};

pub use edit::{curate, listing, CurateRequest, Edits};
pub use file::CurationFile;
pub use review::{review, ReviewRequest};

/// The reason recorded on a competency a person added.
pub const ADDED_REASON: &str = "added by you";
/// The score of a competency a person added: they know best.
pub const ADDED_SCORE: f64 = 1.0;

#[derive(Debug, thiserror::Error)]
pub enum CurationError {
    #[error("cannot read curation file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("curation file {path} does not exist\n  hint: check the path, or start it with `gl-evidence curate SNAPSHOT --curation {path} --highlight URL`")]
    Missing { path: String },
    #[error("{path}{}: {message}\n  hint: the file has one table per item, keyed by its URL, with the keys hide, highlight, note, add and remove (see \"Curating the draft\" in the README)", line_part(.line))]
    Invalid {
        path: String,
        line: Option<usize>,
        message: String,
    },
    #[error("{path} names competencies the {framework} framework does not have:{}\n  hint: `gl-evidence framework` lists the ids", bullets(.problems))]
    UnknownCompetencies {
        path: String,
        framework: String,
        problems: Vec<String>,
    },
    #[error("{0}")]
    Usage(String),
    #[error("`gl-evidence review` is interactive and needs a terminal: {what} is not one\n  hint: run it in a terminal, or edit from a script with `gl-evidence curate SNAPSHOT --hide URL --note URL TEXT …`")]
    NotATerminal { what: &'static str },
    #[error("terminal error: {0}")]
    Terminal(std::io::Error),
}

impl CurationError {
    /// 2 for what the user can fix (the file, the flags, where they run it); 1 for I/O failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            CurationError::Read { .. } | CurationError::Terminal(_) => 1,
            _ => 2,
        }
    }
}

fn line_part(line: &Option<usize>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

fn bullets(problems: &[String]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

/// One item's edits, as written in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub hide: bool,
    pub highlight: bool,
    /// Trimmed; never empty.
    pub note: Option<String>,
    /// Competency ids the item evidences, whatever the rules say.
    pub add: BTreeSet<String>,
    /// Competency ids the item does not evidence, whatever the rules say.
    pub remove: BTreeSet<String>,
}

impl Entry {
    /// Nothing to keep: the entry is dropped from the file.
    pub fn is_empty(&self) -> bool {
        !self.hide
            && !self.highlight
            && self.note.is_none()
            && self.add.is_empty()
            && self.remove.is_empty()
    }
}

impl fmt::Display for Entry {
    /// `hidden · highlighted · note: … · +credibility-3 · −accountability-1`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if self.hide {
            parts.push("hidden".into());
        }
        if self.highlight {
            parts.push("highlighted".into());
        }
        if let Some(note) = &self.note {
            parts.push(format!("note: {}", one_line(note)));
        }
        parts.extend(self.add.iter().map(|id| format!("+{id}")));
        parts.extend(self.remove.iter().map(|id| format!("\u{2212}{id}")));
        f.write_str(&parts.join(" \u{b7} "))
    }
}

/// All entries, by item URL (normalised with [`url_key`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Curation {
    pub entries: BTreeMap<String, Entry>,
}

impl Curation {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry filed under `key` (a URL or an item id).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.get(&url_key(key))
    }

    /// The entry that applies to `item`: one filed under its id, else under its URL.
    pub fn entry_for(&self, item: &Item) -> Option<&Entry> {
        self.entry(&item.id).or_else(|| self.entry(&item.web_url))
    }

    /// Applies `change` to the entry for `url`, creating it if needed and dropping it when
    /// nothing is left in it.
    fn edit(&mut self, url: &str, change: impl FnOnce(&mut Entry)) {
        let key = url_key(url);
        let entry = self.entries.entry(key.clone()).or_default();
        change(entry);
        if entry.is_empty() {
            self.entries.remove(&key);
        }
    }

    pub fn set_hidden(&mut self, url: &str, hidden: bool) {
        self.edit(url, |e| e.hide = hidden);
    }

    pub fn set_highlight(&mut self, url: &str, highlight: bool) {
        self.edit(url, |e| e.highlight = highlight);
    }

    /// A blank note removes it.
    pub fn set_note(&mut self, url: &str, note: Option<&str>) {
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        self.edit(url, |e| e.note = note.map(str::to_string));
    }

    /// The item evidences `id`, whatever the rules say.
    pub fn add_competency(&mut self, url: &str, id: &str) {
        self.edit(url, |e| {
            e.remove.remove(id);
            e.add.insert(id.to_string());
        });
    }

    /// The item does not evidence `id`, whatever the rules say.
    pub fn remove_competency(&mut self, url: &str, id: &str) {
        self.edit(url, |e| {
            e.add.remove(id);
            e.remove.insert(id.to_string());
        });
    }

    /// The rules decide about `id` again.
    pub fn reset_competency(&mut self, url: &str, id: &str) {
        self.edit(url, |e| {
            e.add.remove(id);
            e.remove.remove(id);
        });
    }

    /// Drops every edit of the item.
    pub fn clear(&mut self, url: &str) {
        self.entries.remove(&url_key(url));
    }

    /// Every competency id the entries name that `framework` does not have, with a suggestion.
    pub fn check_competencies(
        &self,
        framework: &Framework,
        path: &Path,
    ) -> Result<(), CurationError> {
        let mut problems = Vec::new();
        for (url, entry) in &self.entries {
            for (key, ids) in [("add", &entry.add), ("remove", &entry.remove)] {
                for id in ids {
                    if framework.competency(id).is_none() {
                        problems.push(format!(
                            "{id:?} in `{key}` of {url}{}",
                            suggestion(framework, id)
                        ));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(CurationError::UnknownCompetencies {
                path: path.display().to_string(),
                framework: framework.name.clone(),
                problems,
            })
        }
    }

    /// The entries that match no item of the snapshots, by key.
    pub fn unmatched<'c>(&'c self, snapshots: &[&Snapshot]) -> Vec<&'c str> {
        let present: BTreeSet<String> = snapshots
            .iter()
            .flat_map(|s| s.items.iter())
            .flat_map(|i| [url_key(&i.web_url), url_key(&i.id)])
            .collect();
        self.entries
            .keys()
            .filter(|url| !present.contains(*url))
            .map(String::as_str)
            .collect()
    }
}

/// `: did you mean "credibility-3"?` for a near miss among the framework's ids, else nothing.
pub(crate) fn suggestion(framework: &Framework, id: &str) -> String {
    let ids: Vec<&str> = framework
        .competencies
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    suggestion_among(&ids, id)
}

/// `: did you mean "x"?` for the closest of `known` within two edits of `word`, else nothing.
pub(crate) fn suggestion_among(known: &[&str], word: &str) -> String {
    known
        .iter()
        .map(|k| (edit_distance(k, word), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, best)| format!(": did you mean {best:?}?"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

/// The key an item URL (or id) is filed under: trimmed, without a trailing slash.
pub fn url_key(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

/// The key each item of the snapshot is filed under when curated: its URL, or its id when
/// another item of the same person has the same URL (on-call shifts all link to their
/// schedule), so that one edit never changes several of a person's items at once. An entry
/// keyed by URL applies to everyone's item with that URL (in a team snapshot, an author's merge
/// request and a colleague's review of it).
pub fn item_keys(snapshot: &Snapshot) -> Vec<String> {
    let mut count: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for item in &snapshot.items {
        *count
            .entry((item.subject.as_str(), url_key(&item.web_url)))
            .or_default() += 1;
    }
    snapshot
        .items
        .iter()
        .map(|item| {
            let url = url_key(&item.web_url);
            if count[&(item.subject.as_str(), url.clone())] > 1 {
                url_key(&item.id)
            } else {
                url
            }
        })
        .collect()
}

/// Notes on one line, for terminals and one-line listings.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "merge request (author)", "review (reviewer)": what an item is, for terminals.
pub(crate) fn view_kind(item: &Item) -> String {
    format!("{} ({})", item.kind.as_str().replace('_', " "), item.role)
}

/// `alice.json` → `alice.curation.toml`, in the same folder.
pub fn default_path(snapshot: &Path) -> PathBuf {
    let name = snapshot
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".json").unwrap_or(&name);
    let stem = if stem.is_empty() { "evidence" } else { stem };
    snapshot.with_file_name(format!("{stem}.curation.toml"))
}

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Items changed by an entry.
    pub items: usize,
    pub hidden: usize,
}

/// Lays `curation` over the snapshot: first undoes the curation it already carries (see
/// [`strip`]), then for each item with an entry removes the competencies the person removed,
/// adds theirs (rule `curated`, score 1, replacing a rule's match for the same id) and records
/// hide, highlight and note. Applying the same file twice gives the same snapshot.
pub fn apply(snapshot: &mut Snapshot, curation: &Curation) -> Applied {
    strip(snapshot);
    let mut applied = Applied::default();
    if curation.is_empty() {
        return applied;
    }
    for item in &mut snapshot.items {
        if let Some(entry) = curation.entry_for(item) {
            apply_entry(item, entry);
            applied.items += 1;
            applied.hidden += usize::from(entry.hide);
        }
    }
    applied
}

fn apply_entry(item: &mut Item, entry: &Entry) {
    let mut record = ItemCuration {
        hidden: entry.hide,
        highlight: entry.highlight,
        note: entry.note.clone(),
        overridden: Vec::new(),
    };
    let (overridden, kept): (Vec<CompetencyMatch>, Vec<CompetencyMatch>) =
        std::mem::take(&mut item.competencies)
            .into_iter()
            .partition(|m| entry.remove.contains(&m.id) || entry.add.contains(&m.id));
    record.overridden = overridden;
    item.competencies = kept;
    item.competencies
        .extend(entry.add.iter().map(|id| CompetencyMatch {
            id: id.clone(),
            score: ADDED_SCORE,
            rule: CURATED_RULE.to_string(),
            reasons: vec![ADDED_REASON.to_string()],
        }));
    item.curation = Some(record);
}

/// Undoes the curation a snapshot carries: the person's competencies go, the rules' matches
/// they had removed come back. The snapshot is then as the rules classified it.
pub fn strip(snapshot: &mut Snapshot) {
    for item in &mut snapshot.items {
        strip_item(item);
    }
}

fn strip_item(item: &mut Item) {
    if let Some(record) = item.curation.take() {
        item.competencies.retain(|m| m.rule != CURATED_RULE);
        item.competencies.extend(record.overridden);
    }
}

/// Lays the item's entry (if any) over it again, after an edit.
pub(crate) fn refresh_item(item: &mut Item, curation: &Curation) {
    strip_item(item);
    if let Some(entry) = curation.entry_for(item) {
        apply_entry(item, entry);
    }
}

/// Whether any item of the snapshot carries curation.
pub fn is_curated(snapshot: &Snapshot) -> bool {
    snapshot.items.iter().any(|i| i.curation.is_some())
}

/// Who a report is for, which decides the curation files it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A brag document, or a classified snapshot: the person's own file is used — from
    /// `--curation`, else the config's `curation.file`, else the one beside the snapshot.
    Owner,
    /// A team report: only the file passed with `--curation`, so an engineer's private notes
    /// never reach it unless passed on purpose.
    Team,
}

/// Where a command looks for its curation file.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    /// `--curation FILE`.
    pub flag: Option<PathBuf>,
    /// The config's `curation.file`.
    pub config: Option<PathBuf>,
    /// The snapshot read or written, whose `<stem>.curation.toml` is the default.
    pub snapshot: Option<PathBuf>,
}

/// Where a curation file came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag,
    Config,
    BesideSnapshot,
}

impl Lookup {
    /// The file to read and write for this lookup: `--curation`, else the config's, else the
    /// snapshot's default.
    pub fn locate(&self) -> Option<(PathBuf, Origin)> {
        if let Some(path) = &self.flag {
            return Some((path.clone(), Origin::Flag));
        }
        if let Some(path) = &self.config {
            return Some((path.clone(), Origin::Config));
        }
        self.snapshot
            .as_deref()
            .map(|s| (default_path(s), Origin::BesideSnapshot))
    }

    /// The curation file a report for `audience` uses, read and checked; `None` when there is
    /// none. A file named with `--curation` must exist; the config's and the default may not
    /// (yet).
    pub fn load(&self, audience: Audience) -> Result<Option<CurationFile>, CurationError> {
        let located = match audience {
            Audience::Owner => self.locate(),
            Audience::Team => self.flag.clone().map(|p| (p, Origin::Flag)),
        };
        let Some((path, origin)) = located else {
            return Ok(None);
        };
        match CurationFile::read(&path)? {
            Some(file) => Ok(Some(file)),
            None if origin == Origin::Flag => Err(CurationError::Missing {
                path: path.display().to_string(),
            }),
            None => {
                if origin == Origin::Config {
                    crate::say!(
                        "note: curation file {} (the config's curation.file) does not exist yet: nothing is curated",
                        path.display()
                    );
                }
                Ok(None)
            }
        }
    }

    /// [`Lookup::load`], and the file's competency ids checked against `framework`.
    pub fn load_checked(
        &self,
        audience: Audience,
        framework: &Framework,
    ) -> Result<Option<CurationFile>, CurationError> {
        let file = self.load(audience)?;
        if let Some(file) = &file {
            file.curation.check_competencies(framework, &file.path)?;
        }
        Ok(file)
    }

    /// The owner's files a team report leaves out, if any exist: worth a note, since the user
    /// may have expected them to apply.
    fn unused_for_team(&self) -> Vec<PathBuf> {
        let mut unused = Vec::new();
        if let Some(path) = &self.config {
            unused.push(path.clone());
        }
        if let Some(snapshot) = &self.snapshot {
            unused.push(default_path(snapshot));
        }
        unused.retain(|p| p.is_file());
        unused.dedup();
        unused
    }
}

/// Loads the curation a report for `audience` uses and applies it: see [`apply_loaded`].
pub fn apply_for_report(
    lookup: &Lookup,
    audience: Audience,
    framework: &Framework,
    snapshot: &mut Snapshot,
    previous: Option<&mut Snapshot>,
) -> Result<(), CurationError> {
    let file = lookup.load_checked(audience, framework)?;
    apply_loaded(file.as_ref(), lookup, audience, snapshot, previous);
    Ok(())
}

/// Applies `file` (found by `lookup` for `audience`, checked) to `snapshot` and to `previous`, a
/// comparison period, and says on stderr what matched nothing.
///
/// Without a file, a brag document keeps the curation the snapshot already carries (applied by
/// `classify`); a team report drops it, as it uses only what `--curation` names.
pub fn apply_loaded(
    file: Option<&CurationFile>,
    lookup: &Lookup,
    audience: Audience,
    snapshot: &mut Snapshot,
    previous: Option<&mut Snapshot>,
) {
    let Some(file) = file else {
        if audience == Audience::Team {
            if is_curated(snapshot) {
                crate::say!("note: the snapshot's own curation is not used: team reports use only the file given with --curation");
            }
            strip(snapshot);
            if let Some(previous) = previous {
                strip(previous);
            }
            for path in lookup.unused_for_team() {
                crate::say!(
                    "note: {} not applied: team reports use only the file given with --curation",
                    path.display()
                );
            }
        }
        return;
    };
    let applied = apply(snapshot, &file.curation);
    tracing::info!(
        "curation {}: {} entries, {} items edited, {} hidden",
        file.path.display(),
        file.curation.entries.len(),
        applied.items,
        applied.hidden
    );
    let unmatched = match previous {
        Some(previous) => {
            apply(previous, &file.curation);
            file.curation.unmatched(&[snapshot, previous])
        }
        None => file.curation.unmatched(&[snapshot]),
    };
    report_unmatched(file, &unmatched);
}

/// "note: 3 curation entries in FILE match no item in this period (kept): URL, URL, URL"
pub(crate) fn report_unmatched(file: &CurationFile, unmatched: &[&str]) {
    if let Some(text) = unmatched_note(&file.path, unmatched) {
        crate::say!("{text}");
    }
}

fn unmatched_note(path: &Path, unmatched: &[&str]) -> Option<String> {
    const SHOWN: usize = 5;
    if unmatched.is_empty() {
        return None;
    }
    let n = unmatched.len();
    let mut list = unmatched
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if n > SHOWN {
        list.push_str(&format!(" and {} more", n - SHOWN));
    }
    Some(format!(
        "note: {n} curation {} in {} {} no item in this period (kept): {list}",
        if n == 1 { "entry" } else { "entries" },
        path.display(),
        if n == 1 { "matches" } else { "match" },
    ))
}

#[cfg(test)]
mod tests;
