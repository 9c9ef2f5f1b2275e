//! `gl-evidence curate`: edits from flags, checked against the snapshot and the framework, then
//! written in one atomic save; without edits, a listing of the file.

use std::collections::{BTreeMap, BTreeSet};

use super::{item_keys, one_line, suggestion, url_key, CurationError, CurationFile};
use crate::error::Result;
use crate::framework::Framework;
use crate::model::{Item, Snapshot};

/// The edits of one `curate` run, as given on the command line (URL or item id first).
#[derive(Debug, Clone, Default)]
pub struct Edits {
    pub hide: Vec<String>,
    pub unhide: Vec<String>,
    pub highlight: Vec<String>,
    pub unhighlight: Vec<String>,
    pub note: Vec<(String, String)>,
    pub clear_note: Vec<String>,
    pub add: Vec<(String, String)>,
    pub remove: Vec<(String, String)>,
    pub reset: Vec<(String, String)>,
    pub clear: Vec<String>,
}

impl Edits {
    pub fn is_empty(&self) -> bool {
        self.hide.is_empty()
            && self.unhide.is_empty()
            && self.highlight.is_empty()
            && self.unhighlight.is_empty()
            && self.note.is_empty()
            && self.clear_note.is_empty()
            && self.add.is_empty()
            && self.remove.is_empty()
            && self.reset.is_empty()
            && self.clear.is_empty()
    }
}

/// What `curate` works on.
pub struct CurateRequest<'a> {
    pub snapshot: &'a Snapshot,
    pub framework: &'a Framework,
    pub edits: &'a Edits,
}

/// Applies the edits to `file` and saves it, returning one line per change. Nothing is written
/// unless every edit is valid.
pub fn curate(file: &mut CurationFile, request: &CurateRequest<'_>) -> Result<Vec<String>> {
    let CurateRequest {
        snapshot,
        framework,
        edits,
    } = request;
    let items = ItemIndex::new(snapshot);
    let resolve = |arg: &str| items.resolve(arg, file);
    let resolve_all =
        |args: &[String]| -> Result<Vec<String>> { args.iter().map(|a| resolve(a)).collect() };
    let resolve_pairs = |pairs: &[(String, String)], ids: bool| -> Result<Vec<(String, String)>> {
        pairs
            .iter()
            .map(|(url, second)| {
                let key = resolve(url)?;
                let second = second.trim().to_string();
                if ids {
                    check_id(framework, file, &key, &second)?;
                }
                Ok((key, second))
            })
            .collect()
    };
    let hide = resolve_all(&edits.hide)?;
    let unhide = resolve_all(&edits.unhide)?;
    let highlight = resolve_all(&edits.highlight)?;
    let unhighlight = resolve_all(&edits.unhighlight)?;
    let note = resolve_pairs(&edits.note, false)?;
    let clear_note = resolve_all(&edits.clear_note)?;
    let add = resolve_pairs(&edits.add, true)?;
    let remove = resolve_pairs(&edits.remove, true)?;
    let reset = resolve_pairs(&edits.reset, true)?;
    let clear = resolve_all(&edits.clear)?;

    for (flag, other, a, b) in [
        ("--hide", "--unhide", &hide, &unhide),
        ("--highlight", "--unhighlight", &highlight, &unhighlight),
    ] {
        if let Some(both) = a.iter().find(|u| b.contains(u)) {
            return Err(usage(format!("{both} is given to both {flag} and {other}")));
        }
    }
    if let Some((both, _)) = note.iter().find(|(u, _)| clear_note.contains(u)) {
        return Err(usage(format!(
            "{both} is given to both --note and --clear-note"
        )));
    }
    let mut seen_notes = BTreeMap::new();
    for (url, text) in &note {
        if text.is_empty() {
            return Err(usage(format!(
                "the note for {url} is empty: write the text, or use --clear-note {url} to remove a note"
            )));
        }
        if seen_notes.insert(url, text).is_some() {
            return Err(usage(format!(
                "{url} is given two notes: give one --note per item (quote the text)"
            )));
        }
    }
    for (flag, pairs) in [("--add", &add), ("--remove", &remove), ("--reset", &reset)] {
        for (url, id) in pairs.iter() {
            for (other, others) in [("--add", &add), ("--remove", &remove), ("--reset", &reset)] {
                if other != flag && others.iter().any(|(u, i)| u == url && i == id) {
                    return Err(usage(format!(
                        "{id} on {url} is given to both {flag} and {other}"
                    )));
                }
            }
        }
    }
    let everything = [&hide, &unhide, &highlight, &unhighlight, &clear_note];
    let paired = [&note, &add, &remove, &reset];
    if let Some(url) = clear.iter().find(|u| {
        everything.iter().any(|list| list.contains(u))
            || paired.iter().any(|list| list.iter().any(|(v, _)| v == *u))
    }) {
        return Err(usage(format!(
            "{url} is given to --clear and to another edit: --clear drops every edit of the item"
        )));
    }

    let title = |url: &str| items.title(url);
    let curation = &mut file.curation;
    let mut changes = Vec::new();
    for url in &clear {
        if curation.entry(url).is_some() {
            changes.push(format!("cleared every edit: {}", title(url)));
        }
        curation.clear(url);
    }
    for url in &unhide {
        curation.set_hidden(url, false);
        changes.push(format!("shown again: {}", title(url)));
    }
    for url in &unhighlight {
        curation.set_highlight(url, false);
        changes.push(format!("no longer highlighted: {}", title(url)));
    }
    for url in &clear_note {
        curation.set_note(url, None);
        changes.push(format!("note removed: {}", title(url)));
    }
    for (url, id) in &reset {
        curation.reset_competency(url, id);
        changes.push(format!("{id} left to the rules: {}", title(url)));
    }
    for url in &hide {
        curation.set_hidden(url, true);
        changes.push(format!("hidden: {}", title(url)));
    }
    for url in &highlight {
        curation.set_highlight(url, true);
        changes.push(format!("highlighted: {}", title(url)));
    }
    for (url, text) in &note {
        curation.set_note(url, Some(text));
        changes.push(format!("note: {}: {}", title(url), one_line(text)));
    }
    for (url, id) in &add {
        curation.add_competency(url, id);
        changes.push(format!("+{id}: {}", title(url)));
    }
    for (url, id) in &remove {
        curation.remove_competency(url, id);
        changes.push(format!("\u{2212}{id}: {}", title(url)));
    }
    let wrote = file.save()?;
    changes.push(if wrote {
        format!("wrote {}", file.path.display())
    } else {
        format!("{} already said so: unchanged", file.path.display())
    });
    changes.extend(super::unmatched_note(
        &file.path,
        &file.curation.unmatched(&[snapshot]),
    ));
    Ok(changes)
}

fn usage(message: String) -> crate::error::Error {
    CurationError::Usage(message).into()
}

/// A competency id for `--add`, `--remove` or `--reset` must be in the framework; `--reset`
/// may also name an id the entry has from an older framework, to clean it up.
fn check_id(framework: &Framework, file: &CurationFile, url: &str, id: &str) -> Result<()> {
    if framework.competency(id).is_some() {
        return Ok(());
    }
    let in_entry = file
        .curation
        .entry(url)
        .is_some_and(|e| e.add.contains(id) || e.remove.contains(id));
    if in_entry {
        return Ok(());
    }
    Err(usage(format!(
        "unknown competency id {id:?} in the {} framework{}\n  hint: `gl-evidence framework` lists the ids",
        framework.name,
        suggestion(framework, id)
    )))
}

/// The snapshot's items by the key they are filed under, by URL and by id, to resolve what the
/// user typed.
struct ItemIndex<'s> {
    by_key: BTreeMap<String, &'s Item>,
    /// URL or id → the keys of the items it names.
    named: BTreeMap<String, BTreeSet<String>>,
}

impl<'s> ItemIndex<'s> {
    fn new(snapshot: &'s Snapshot) -> Self {
        let mut by_key = BTreeMap::new();
        let mut named: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (item, key) in snapshot.items.iter().zip(item_keys(snapshot)) {
            for name in [url_key(&item.web_url), url_key(&item.id)] {
                named.entry(name).or_default().insert(key.clone());
            }
            by_key.entry(key).or_insert(item);
        }
        ItemIndex { by_key, named }
    }

    /// The key for an item's URL or id; a key with an entry in the file is accepted even when
    /// its item is gone, so that stale entries can be cleaned up.
    fn resolve(&self, arg: &str, file: &CurationFile) -> Result<String> {
        let key = url_key(arg);
        if self.by_key.contains_key(&key) || file.curation.entries.contains_key(&key) {
            return Ok(key);
        }
        match self.named.get(&key) {
            Some(keys) if keys.len() == 1 => Ok(keys.iter().next().cloned().unwrap_or_default()),
            Some(keys) => {
                let list: String = keys
                    .iter()
                    .map(|k| format!("\n  {k}  ({})", self.title(k)))
                    .collect();
                Err(usage(format!(
                    "{} items share {arg:?} (on-call shifts link to their schedule): name one by its id:{list}",
                    keys.len()
                )))
            }
            None => Err(usage(format!(
                "no item with URL or id {arg:?} in the snapshot, and no entry for it in {}\n  hint: copy the URL from the report, or list the items with `jq -r '.items[].web_url' SNAPSHOT`",
                file.path.display()
            ))),
        }
    }

    /// The item a key names, if it is in the snapshot (a URL entry written by hand for items
    /// filed by id names the first of them).
    fn item(&self, key: &str) -> Option<&'s Item> {
        self.by_key.get(key).copied().or_else(|| {
            self.named
                .get(key)
                .and_then(|keys| keys.iter().next())
                .and_then(|k| self.by_key.get(k).copied())
        })
    }

    /// "Title (URL)" when the item is in the snapshot, else the key.
    fn title(&self, key: &str) -> String {
        match self.item(key) {
            Some(item) => format!("{} ({})", one_line(&item.title), item.web_url),
            None => key.to_string(),
        }
    }
}

/// The entries of the file with the items they edit, for `curate` without edits.
pub fn listing(file: &CurationFile, snapshot: &Snapshot) -> String {
    let items = ItemIndex::new(snapshot);
    let entries = &file.curation.entries;
    let unmatched = file.curation.unmatched(&[snapshot]).len();
    let mut out = String::new();
    if !file.exists() {
        out.push_str(&format!(
            "{} does not exist yet: nothing is curated.\nStart with e.g. `gl-evidence curate SNAPSHOT --highlight URL`, or walk through the items with `gl-evidence review SNAPSHOT`.\n",
            file.path.display()
        ));
        return out;
    }
    out.push_str(&format!(
        "{} {} in {}",
        entries.len(),
        if entries.len() == 1 {
            "curation entry"
        } else {
            "curation entries"
        },
        file.path.display()
    ));
    if unmatched > 0 {
        out.push_str(&format!(
            " ({unmatched} {} no item in this period, kept)",
            if unmatched == 1 { "matches" } else { "match" }
        ));
    }
    out.push('\n');
    for (url, entry) in entries {
        out.push('\n');
        match items.item(url) {
            Some(item) => out.push_str(&format!(
                "{}{} — {}{}\n",
                if entry.highlight { "\u{2605} " } else { "" },
                one_line(&item.title),
                super::view_kind(item),
                item.date()
                    .map(|d| format!(", {}", d.format("%Y-%m-%d")))
                    .unwrap_or_default()
            )),
            None => out.push_str("(no item in this period)\n"),
        }
        out.push_str(&format!("  {url}\n  {entry}\n"));
    }
    out
}
