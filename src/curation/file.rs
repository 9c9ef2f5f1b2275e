//! The curation file on disk: TOML with one table per item URL, read with its comments and
//! written back with them, entries sorted by URL and keys in a fixed order, so that the file
//! stays readable and diffs well. Writes are atomic ([`crate::deliver::write_file`]).

use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, Item, Table, TableLike, Value};

use super::{url_key, Curation, CurationError, Entry};
use crate::error::Result;

/// What a new file starts with. The blank line ends the file's header: comments directly above
/// an entry belong to that entry and move with it.
const HEADER: &str = "\
# gl-evidence curation: your edits to the draft, kept across re-harvests and re-runs.
# One table per item, keyed by the item's URL (by its id when items share a URL, as on-call
# shifts do):
#   hide = true          leave the item out of reports (they say how many were hidden)
#   highlight = true     put it first in its competencies and in the summary
#   note = \"…\"           your words under the item: the impact, the context
#   add = [\"id\", …]      competencies it evidences, whatever the rules say
#   remove = [\"id\", …]   competencies it does not evidence, whatever the rules say
# Competency ids: `gl-evidence framework`. Edit by hand, or with `gl-evidence curate` and
# `gl-evidence review`; comments you add are kept.

";

/// The keys of an entry, in the order they are written.
const KEYS: [&str; 5] = ["hide", "highlight", "note", "add", "remove"];

/// A curation file: its entries, and the document they came from (comments and layout).
#[derive(Debug, Clone)]
pub struct CurationFile {
    pub path: PathBuf,
    pub curation: Curation,
    document: DocumentMut,
    /// The entries as last read or written: unchanged entries keep their exact text.
    saved: Curation,
    exists: bool,
}

impl CurationFile {
    /// Reads `path`; `None` when it does not exist.
    pub fn read(path: &Path) -> Result<Option<CurationFile>, CurationError> {
        match std::fs::read_to_string(path) {
            Ok(text) => CurationFile::parse(&text, path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CurationError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Reads `path`, or starts an empty file there that [`CurationFile::save`] creates.
    pub fn open(path: &Path) -> Result<CurationFile, CurationError> {
        Ok(CurationFile::read(path)?.unwrap_or_else(|| {
            let mut document = DocumentMut::new();
            document.decor_mut().set_prefix(HEADER);
            CurationFile {
                path: path.to_path_buf(),
                curation: Curation::default(),
                document,
                saved: Curation::default(),
                exists: false,
            }
        }))
    }

    /// Parses the text of the file at `path` (named in errors).
    pub fn parse(text: &str, path: &Path) -> Result<CurationFile, CurationError> {
        let shown = path.display().to_string();
        let invalid = |line: Option<usize>, message: String| CurationError::Invalid {
            path: shown.clone(),
            line,
            message,
        };
        let spanned = toml_edit::Document::parse(text.to_string()).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            invalid(line, e.message().trim().to_string())
        })?;
        let mut curation = Curation::default();
        for (key, item) in spanned.as_table().iter() {
            let line = item.span().map(|s| line_of(text, s.start));
            let at = |message: String| invalid(line, format!("entry {key:?}: {message}"));
            let Some(table) = item.as_table_like() else {
                return Err(invalid(
                    line,
                    format!("`{key}` is not an entry: write it as a table, [\"{key}\"], with keys such as hide = true"),
                ));
            };
            let url = url_key(key);
            if url.is_empty() {
                return Err(at("an entry needs the item's URL as its key".into()));
            }
            if !url.contains("://") {
                return Err(at(
                    "the key is not a URL: key each entry by the item's web URL, as reports show it (or by its id, gid://…)".into(),
                ));
            }
            let entry = parse_entry(table).map_err(|(message, span)| {
                let line = span.map(|s| line_of(text, s.start)).or(line);
                invalid(line, format!("entry {key:?}: {message}"))
            })?;
            if curation.entries.insert(url.clone(), entry).is_some() {
                return Err(at(format!(
                    "a second entry for {url}: merge the two (a trailing slash does not make a different item)"
                )));
            }
        }
        let mut document = spanned.into_mut();
        detach_header(&mut document);
        Ok(CurationFile {
            path: path.to_path_buf(),
            saved: curation.clone(),
            curation,
            document,
            exists: true,
        })
    }

    /// Whether the file is on disk (it is created by the first save that has something in it).
    pub fn exists(&self) -> bool {
        self.exists
    }

    /// Whether the entries changed since read or last saved.
    pub fn is_dirty(&self) -> bool {
        self.curation != self.saved
    }

    /// The file's text with the current entries.
    pub fn render(&mut self) -> String {
        sync(&mut self.document, &self.saved, &self.curation);
        self.document.to_string()
    }

    /// Writes the file atomically when something changed; returns whether it did.
    pub fn save(&mut self) -> Result<bool> {
        if !self.is_dirty() {
            return Ok(false);
        }
        let text = self.render();
        crate::deliver::write_file(&self.path, &text)?;
        self.saved = self.curation.clone();
        self.exists = true;
        Ok(true)
    }
}

/// An entry's keys and values; an error says what is wrong and where (the key's span).
fn parse_entry(table: &dyn TableLike) -> Result<Entry, (String, Option<std::ops::Range<usize>>)> {
    let mut entry = Entry::default();
    for (key, item) in table.iter() {
        let span = table.key(key).and_then(|k| k.span());
        let check = |result: Result<(), String>| result.map_err(|m| (m, span.clone()));
        check(parse_key(&mut entry, key, item))?;
    }
    if let Some(both) = entry.add.intersection(&entry.remove).next() {
        return Err((
            format!("`{both}` is both added and removed: keep it in one of `add` and `remove`"),
            None,
        ));
    }
    Ok(entry)
}

fn parse_key(entry: &mut Entry, key: &str, item: &Item) -> Result<(), String> {
    match key {
        "hide" | "highlight" => {
            let value = item
                .as_bool()
                .ok_or_else(|| format!("`{key}` must be true or false"))?;
            if key == "hide" {
                entry.hide = value;
            } else {
                entry.highlight = value;
            }
        }
        "note" => {
            let note = item
                .as_str()
                .ok_or("`note` must be a string: note = \"the impact, the context\"")?;
            entry.note = Some(note.trim().to_string()).filter(|n| !n.is_empty());
        }
        "add" | "remove" => {
            let ids = competency_ids(item).ok_or_else(|| {
                format!("`{key}` must be a list of competency ids: {key} = [\"credibility-3\"]")
            })?;
            if key == "add" {
                entry.add = ids;
            } else {
                entry.remove = ids;
            }
        }
        other => {
            let hint = super::suggestion_among(&KEYS, other);
            return Err(format!(
                "unknown key `{other}`{hint}: an entry has hide, highlight, note, add and remove"
            ));
        }
    }
    Ok(())
}

/// A list of ids (or a single id), trimmed; `None` when it is something else or has a blank.
fn competency_ids(item: &Item) -> Option<std::collections::BTreeSet<String>> {
    if let Some(one) = item.as_str() {
        let id = one.trim();
        return (!id.is_empty()).then(|| [id.to_string()].into());
    }
    item.as_array()?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_string)
        })
        .collect()
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Comments at the top of the file, up to the last blank line before the first entry, are the
/// file's own (the parser gives them to the first entry): keep them at the top whatever entry
/// comes first.
fn detach_header(document: &mut DocumentMut) {
    if document.iter().any(|(_, item)| item.is_value()) {
        return; // The header then belongs to the first top-level value, which stays first.
    }
    let Some(first) = document
        .as_table_mut()
        .iter_mut()
        .filter_map(|(_, item)| item.as_table_mut())
        .min_by_key(|t| t.position())
    else {
        return;
    };
    let prefix = first
        .decor()
        .prefix()
        .and_then(|p| p.as_str())
        .unwrap_or("")
        .to_string();
    let Some(blank) = prefix.rfind("\n\n") else {
        return;
    };
    let (header, own) = prefix.split_at(blank + 2);
    first.decor_mut().set_prefix(own.to_string());
    let header = header.to_string();
    document.decor_mut().set_prefix(header);
}

/// Brings the document in line with `current`: entries that changed since `saved` are
/// rewritten (keeping the comments on their keys), dropped entries removed, new ones added;
/// then entries are ordered by URL.
fn sync(document: &mut DocumentMut, saved: &Curation, current: &Curation) {
    let root = document.as_table_mut();
    let keys: Vec<String> = root.iter().map(|(k, _)| k.to_string()).collect();
    let mut present = std::collections::BTreeSet::new();
    for key in keys {
        let url = url_key(&key);
        let Some(entry) = current.entries.get(&url) else {
            root.remove(&key);
            continue;
        };
        present.insert(url.clone());
        if saved.entries.get(&url) == Some(entry) {
            continue;
        }
        let item = root.get_mut(&key).expect("the key was just listed");
        let mut table = match std::mem::take(item) {
            Item::Table(table) => table,
            Item::Value(Value::InlineTable(inline)) => inline.into_table(),
            _ => Table::new(),
        };
        write_entry(&mut table, entry);
        *item = Item::Table(table);
    }
    for (url, entry) in &current.entries {
        if !present.contains(url) {
            let mut table = Table::new();
            write_entry(&mut table, entry);
            root.insert(url, Item::Table(table));
        }
    }
    root.sort_values_by(|a, _, b, _| url_key(a.get()).cmp(&url_key(b.get())));
    tidy(document);
}

fn write_entry(table: &mut Table, entry: &Entry) {
    set_flag(table, "hide", entry.hide);
    set_flag(table, "highlight", entry.highlight);
    match &entry.note {
        Some(note) if table.get("note").and_then(Item::as_str) != Some(note) => {
            table.insert("note", toml_edit::value(note.as_str()));
        }
        Some(_) => {}
        None => {
            table.remove("note");
        }
    }
    for (key, ids) in [("add", &entry.add), ("remove", &entry.remove)] {
        if ids.is_empty() {
            table.remove(key);
        } else if table.get(key).and_then(competency_ids).as_ref() != Some(ids) {
            let array: Array = ids.iter().map(String::as_str).collect();
            table.insert(key, toml_edit::value(array));
        }
    }
    let rank = |key: &str| KEYS.iter().position(|k| *k == key).unwrap_or(KEYS.len());
    table.sort_values_by(|a, _, b, _| rank(a.get()).cmp(&rank(b.get())));
}

/// `true` is written; `false` removes the key, unless the file already says `false`.
fn set_flag(table: &mut Table, key: &str, on: bool) {
    match (on, table.get(key).and_then(Item::as_bool)) {
        (true, Some(true)) | (false, Some(false)) => {}
        (true, _) => {
            table.insert(key, toml_edit::value(true));
        }
        (false, _) => {
            table.remove(key);
        }
    }
}

/// Entry tables in URL order, one blank line between them; comments above an entry stay with
/// it.
fn tidy(document: &mut DocumentMut) {
    let header_done = document
        .decor()
        .prefix()
        .and_then(|p| p.as_str())
        .is_none_or(|p| p.is_empty() || p.ends_with("\n\n"));
    let has_values = document.iter().any(|(_, item)| item.is_value());
    let mut position = 1;
    for (_, item) in document.as_table_mut().iter_mut() {
        let Some(table) = item.as_table_mut() else {
            continue;
        };
        table.set_position(position);
        let first = position == 1 && !has_values;
        position += 1;
        let prefix = table
            .decor()
            .prefix()
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_string();
        let wanted = if prefix.trim().is_empty() {
            if first && header_done {
                String::new()
            } else {
                "\n".to_string()
            }
        } else if !first && !prefix.starts_with('\n') {
            format!("\n{prefix}")
        } else {
            prefix
        };
        table.decor_mut().set_prefix(wanted);
    }
}
