//! `gl-evidence review`: walks through a snapshot's items in the terminal, one key per edit,
//! and saves the curation file after every change, so quitting (or a crash) loses nothing.
//!
//! Keys are read one at a time in raw mode (`console`); short text (a note, a competency id) is
//! read on a line. The walk runs over a [`Terminal`], so tests can script it; the command
//! refuses to start when standard input or error is not a terminal, instead of hanging.

use std::io::IsTerminal;

use super::{one_line, refresh_item, suggestion, CurationError, CurationFile};
use crate::error::Result;
use crate::framework::Framework;
use crate::model::{Item, Snapshot, CURATED_RULE};

/// What `review` walks through.
pub struct ReviewRequest<'a> {
    /// Classified by the rules; the file's curation is laid over it as the walk goes.
    pub snapshot: &'a mut Snapshot,
    pub framework: &'a Framework,
}

/// A key press, as the walk understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Char(char),
    Enter,
    Backspace,
    Escape,
    /// Ctrl-C.
    Interrupt,
    Next,
    Previous,
    Other,
}

/// Where the walk reads keys and writes text.
pub trait Terminal {
    fn key(&mut self) -> std::io::Result<Input>;
    fn write(&mut self, text: &str) -> std::io::Result<()>;
}

/// The real terminal: keys from standard input in raw mode, text to standard error.
struct Console(console::Term);

impl Terminal for Console {
    fn key(&mut self) -> std::io::Result<Input> {
        use console::Key;
        Ok(match self.0.read_key_raw()? {
            Key::Char(c) => Input::Char(c),
            Key::Enter => Input::Enter,
            Key::Backspace => Input::Backspace,
            Key::Escape => Input::Escape,
            Key::CtrlC => Input::Interrupt,
            Key::ArrowRight | Key::ArrowDown | Key::PageDown => Input::Next,
            Key::ArrowLeft | Key::ArrowUp | Key::PageUp => Input::Previous,
            _ => Input::Other,
        })
    }

    fn write(&mut self, text: &str) -> std::io::Result<()> {
        self.0.write_str(text)?;
        self.0.flush()
    }
}

/// Runs the review in the terminal. Fails at once, with a hint, when there is no terminal.
pub fn review(file: &mut CurationFile, request: ReviewRequest<'_>) -> Result<Summary> {
    if !std::io::stdin().is_terminal() {
        return Err(CurationError::NotATerminal {
            what: "standard input",
        }
        .into());
    }
    let term = console::Term::stderr();
    if !term.is_term() {
        return Err(CurationError::NotATerminal {
            what: "standard error",
        }
        .into());
    }
    let _raw = RawMode::enable().map_err(CurationError::Terminal)?;
    walk(&mut Console(term), file, request)
}

/// Raw mode on standard input for as long as it lives; the terminal is restored on drop (also
/// on errors). `console` reads each key in raw mode anyway; holding it between keys keeps
/// keys typed ahead or pasted from being echoed or line-edited by the terminal meanwhile.
#[cfg(unix)]
struct RawMode(rustix::termios::Termios);

#[cfg(unix)]
impl RawMode {
    fn enable() -> std::io::Result<RawMode> {
        use rustix::termios::{tcgetattr, tcsetattr, OptionalActions};
        let stdin = std::io::stdin();
        let original = tcgetattr(&stdin)?;
        let mut raw = original.clone();
        raw.make_raw();
        // Output as before, so "\n" still starts a new line.
        raw.output_modes = original.output_modes;
        tcsetattr(&stdin, OptionalActions::Now, &raw)?;
        Ok(RawMode(original))
    }
}

#[cfg(unix)]
impl Drop for RawMode {
    fn drop(&mut self) {
        use rustix::termios::{tcsetattr, OptionalActions};
        let _ = tcsetattr(std::io::stdin(), OptionalActions::Drain, &self.0);
    }
}

#[cfg(not(unix))]
struct RawMode;

#[cfg(not(unix))]
impl RawMode {
    fn enable() -> std::io::Result<RawMode> {
        Ok(RawMode)
    }
}

/// What a review did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub changes: usize,
    pub seen: usize,
    pub finished: bool,
}

const KEYS_LINE: &str = "h hide · l/* highlight · n note · a add · r remove competency · space/enter next · p previous · q quit · ? help";

const HELP: &str = "\
Keys:
  h            hide the item from reports (again: show it)
  l or *       highlight it: first in its competencies and in the summary (again: undo)
  n            write a note shown under the item (the impact, the context)
  a            add a competency the item evidences, by id (e.g. credibility-3)
  r            remove a competency from the item (by number or id)
  space, enter next item (also j, →)
  p            previous item (also k, ←)
  q            quit (also Esc, Ctrl-C); every change is already saved
";

/// The walk itself, over any terminal.
pub fn walk(
    term: &mut dyn Terminal,
    file: &mut CurationFile,
    request: ReviewRequest<'_>,
) -> Result<Summary> {
    let ReviewRequest {
        snapshot,
        framework,
    } = request;
    let io = |e| crate::error::Error::from(CurationError::Terminal(e));
    for item in &mut snapshot.items {
        refresh_item(item, &file.curation);
    }
    let order = walk_order(snapshot);
    let keys = super::item_keys(snapshot);
    let several = snapshot
        .items
        .iter()
        .map(|i| i.subject.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        > 1;
    let mut summary = Summary::default();
    if order.is_empty() {
        term.write("The snapshot has no items: nothing to review.\n")
            .map_err(io)?;
        summary.finished = true;
        return Ok(summary);
    }
    term.write(&format!(
        "Reviewing {} items; edits are saved to {} as you go. ? shows the keys.\n",
        order.len(),
        file.path.display()
    ))
    .map_err(io)?;
    let mut at = 0;
    let mut shown = None;
    loop {
        let item_index = order[at];
        if shown != Some(at) {
            let item = &snapshot.items[item_index];
            term.write(&describe(item, framework, at, order.len(), several))
                .map_err(io)?;
            shown = Some(at);
            summary.seen = summary.seen.max(at + 1);
        }
        term.write("> ").map_err(io)?;
        let key = term.key().map_err(io)?;
        let url = keys[item_index].clone();
        let changed = match key {
            Input::Char('h') => {
                let item = &snapshot.items[item_index];
                let hidden = !file.curation.entry_for(item).is_some_and(|e| e.hide);
                file.curation.set_hidden(&url, hidden);
                term.write(if hidden { "hidden\n" } else { "shown again\n" })
                    .map_err(io)?;
                true
            }
            Input::Char('l') | Input::Char('*') => {
                let item = &snapshot.items[item_index];
                let on = !file.curation.entry_for(item).is_some_and(|e| e.highlight);
                file.curation.set_highlight(&url, on);
                term.write(if on {
                    "highlighted\n"
                } else {
                    "no longer highlighted\n"
                })
                .map_err(io)?;
                true
            }
            Input::Char('n') => edit_note(term, file, &url).map_err(io)?,
            Input::Char('a') => add(term, file, framework, &url).map_err(io)?,
            Input::Char('r') => {
                remove(term, file, framework, &snapshot.items[item_index], &url).map_err(io)?
            }
            Input::Char(' ') | Input::Char('j') | Input::Enter | Input::Next => {
                term.write("\n").map_err(io)?;
                if at + 1 == order.len() {
                    summary.finished = true;
                    break;
                }
                at += 1;
                false
            }
            Input::Char('p') | Input::Char('k') | Input::Previous => {
                term.write("\n").map_err(io)?;
                if at == 0 {
                    term.write("This is the first item.\n").map_err(io)?;
                } else {
                    at -= 1;
                }
                false
            }
            Input::Char('q') | Input::Escape | Input::Interrupt => {
                term.write("quit\n").map_err(io)?;
                break;
            }
            Input::Char('?') => {
                term.write(&format!("\n{HELP}")).map_err(io)?;
                false
            }
            _ => {
                term.write(&format!("\nunknown key: {KEYS_LINE}\n"))
                    .map_err(io)?;
                false
            }
        };
        if changed {
            if file.save()? {
                term.write(&format!("saved {}\n", file.path.display()))
                    .map_err(io)?;
                summary.changes += 1;
            }
            refresh_item(&mut snapshot.items[item_index], &file.curation);
            shown = None;
        }
    }
    let end = if summary.finished {
        "Reviewed to the end"
    } else {
        "Stopped"
    };
    term.write(&format!(
        "{end}: {} of {} items seen, {} {} saved to {}.\n",
        summary.seen,
        order.len(),
        summary.changes,
        if summary.changes == 1 {
            "change"
        } else {
            "changes"
        },
        file.path.display()
    ))
    .map_err(io)?;
    Ok(summary)
}

/// Each person's items in turn (snapshot order of people), oldest first, as a brag document
/// reads.
fn walk_order(snapshot: &Snapshot) -> Vec<usize> {
    let people: Vec<&str> = {
        let mut seen = Vec::new();
        for name in snapshot
            .subjects
            .iter()
            .map(|s| s.username.as_str())
            .chain(snapshot.items.iter().map(|i| i.subject.as_str()))
        {
            if !seen.contains(&name) {
                seen.push(name);
            }
        }
        seen
    };
    let mut order: Vec<usize> = (0..snapshot.items.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&snapshot.items[a], &snapshot.items[b]);
        let person = |i: &Item| people.iter().position(|p| *p == i.subject);
        person(a)
            .cmp(&person(b))
            .then_with(|| match (a.date(), b.date()) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.title.cmp(&b.title))
    });
    order
}

/// The item as the walk shows it: what it is, its competencies and what the person decided.
fn describe(item: &Item, framework: &Framework, at: usize, total: usize, several: bool) -> String {
    let mut out = String::new();
    let mut heading = vec![super::view_kind(item)];
    if several {
        heading.push(format!("@{}", item.subject));
    }
    if let Some(date) = item.date() {
        heading.push(date.format("%Y-%m-%d").to_string());
    }
    if let Some(project) = item.project.as_deref().or(item.group.as_deref()) {
        heading.push(project.to_string());
    }
    out.push_str(&format!(
        "\n[{}/{total}] {}\n{}\n{}\n",
        at + 1,
        heading.join(" · "),
        one_line(&item.title),
        item.web_url
    ));
    if item.competencies.is_empty() {
        out.push_str("Competencies: none\n");
    } else {
        out.push_str("Competencies:\n");
        for (n, m) in item.competencies.iter().enumerate() {
            let title = framework
                .competency(&m.id)
                .map(|c| c.title.as_str())
                .unwrap_or("not in the framework");
            let source = if m.rule == CURATED_RULE {
                "added by you".to_string()
            } else {
                format!("rule {}, {:.2}", m.rule, m.score)
            };
            out.push_str(&format!("  {}. {} {title} ({source})\n", n + 1, m.id));
        }
    }
    if let Some(record) = &item.curation {
        let removed: Vec<&str> = record
            .overridden
            .iter()
            .filter(|m| !item.competencies.iter().any(|c| c.id == m.id))
            .map(|m| m.id.as_str())
            .collect();
        if !removed.is_empty() {
            out.push_str(&format!("Removed by you: {}\n", removed.join(", ")));
        }
        let mut state = Vec::new();
        if record.hidden {
            state.push("HIDDEN".to_string());
        }
        if record.highlight {
            state.push("\u{2605} highlighted".to_string());
        }
        if !state.is_empty() {
            out.push_str(&format!("{}\n", state.join(" · ")));
        }
        if let Some(note) = &record.note {
            out.push_str(&format!("Note: {}\n", one_line(note)));
        }
    }
    out.push_str(KEYS_LINE);
    out.push('\n');
    out
}

/// A line of text; `None` when cancelled with Esc or Ctrl-C.
fn read_line(term: &mut dyn Terminal, prompt: &str) -> std::io::Result<Option<String>> {
    term.write(prompt)?;
    let mut line = String::new();
    loop {
        match term.key()? {
            Input::Char(c) => {
                line.push(c);
                let mut buf = [0; 4];
                term.write(c.encode_utf8(&mut buf))?;
            }
            Input::Backspace => {
                if line.pop().is_some() {
                    term.write("\u{8} \u{8}")?;
                }
            }
            Input::Enter => {
                term.write("\n")?;
                return Ok(Some(line));
            }
            Input::Escape | Input::Interrupt => {
                term.write(" (cancelled)\n")?;
                return Ok(None);
            }
            Input::Next | Input::Previous | Input::Other => {}
        }
    }
}

fn edit_note(term: &mut dyn Terminal, file: &mut CurationFile, url: &str) -> std::io::Result<bool> {
    let current = file.curation.entry(url).and_then(|e| e.note.clone());
    let prompt = match &current {
        Some(note) => format!(
            "\nNote now: {}\nNew note (Enter keeps it, - deletes it, Esc cancels): ",
            one_line(note)
        ),
        None => "\nNote (the impact, the context; Esc cancels): ".to_string(),
    };
    let Some(text) = read_line(term, &prompt)? else {
        return Ok(false);
    };
    let text = text.trim();
    match (text, &current) {
        ("", _) => Ok(false),
        ("-", Some(_)) => {
            file.curation.set_note(url, None);
            term.write("note deleted\n")?;
            Ok(true)
        }
        (text, _) => {
            file.curation.set_note(url, Some(text));
            term.write("note saved\n")?;
            Ok(true)
        }
    }
}

fn add(
    term: &mut dyn Terminal,
    file: &mut CurationFile,
    framework: &Framework,
    url: &str,
) -> std::io::Result<bool> {
    loop {
        let Some(text) = read_line(
            term,
            "\nAdd competency (id, e.g. credibility-3; ? lists them; Esc cancels): ",
        )?
        else {
            return Ok(false);
        };
        let id = text.trim().to_lowercase();
        if id.is_empty() {
            return Ok(false);
        }
        if id == "?" {
            term.write(&competency_list(framework))?;
            continue;
        }
        if framework.competency(&id).is_none() {
            term.write(&format!(
                "unknown competency id {id:?}{}\n",
                suggestion(framework, &id)
            ))?;
            continue;
        }
        file.curation.add_competency(url, &id);
        term.write(&format!("added {id}\n"))?;
        return Ok(true);
    }
}

fn remove(
    term: &mut dyn Terminal,
    file: &mut CurationFile,
    framework: &Framework,
    item: &Item,
    url: &str,
) -> std::io::Result<bool> {
    loop {
        let Some(text) = read_line(
            term,
            "\nRemove competency (its number above, or an id; Esc cancels): ",
        )?
        else {
            return Ok(false);
        };
        let text = text.trim().to_lowercase();
        if text.is_empty() {
            return Ok(false);
        }
        let id = match text.parse::<usize>() {
            Ok(n) if (1..=item.competencies.len()).contains(&n) => {
                item.competencies[n - 1].id.clone()
            }
            Ok(n) => {
                term.write(&format!(
                    "there is no competency {n} on this item: give a number from the list, or an id\n"
                ))?;
                continue;
            }
            Err(_) => text,
        };
        if framework.competency(&id).is_none() {
            term.write(&format!(
                "unknown competency id {id:?}{}\n",
                suggestion(framework, &id)
            ))?;
            continue;
        }
        // Taking back a competency only the person gave leaves nothing to record.
        let by_rules = item
            .competencies
            .iter()
            .chain(item.curation.iter().flat_map(|c| &c.overridden))
            .any(|m| m.id == id && m.rule != CURATED_RULE);
        if by_rules
            || !file
                .curation
                .entry(url)
                .is_some_and(|e| e.add.contains(&id))
        {
            file.curation.remove_competency(url, &id);
        } else {
            file.curation.reset_competency(url, &id);
        }
        term.write(&format!("removed {id}\n"))?;
        return Ok(true);
    }
}

/// `accountability-1  On-call standards`, one per line, for `?` at the competency prompt.
fn competency_list(framework: &Framework) -> String {
    let width = framework
        .competencies
        .iter()
        .map(|c| c.id.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in &framework.competencies {
        out.push_str(&format!("  {:width$}  {}\n", c.id, c.title));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Framework;

    /// A terminal that plays keys from a script and records what was written.
    struct Scripted {
        keys: std::collections::VecDeque<Input>,
        out: String,
    }

    impl Scripted {
        fn new(script: &str) -> Self {
            let keys = script
                .chars()
                .map(|c| match c {
                    '\n' => Input::Enter,
                    '\u{1b}' => Input::Escape,
                    '\u{8}' => Input::Backspace,
                    c => Input::Char(c),
                })
                .collect();
            Scripted {
                keys,
                out: String::new(),
            }
        }
    }

    impl Terminal for Scripted {
        fn key(&mut self) -> std::io::Result<Input> {
            // Running out of script is a test bug: fail rather than loop forever.
            self.keys.pop_front().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "script ended")
            })
        }

        fn write(&mut self, text: &str) -> std::io::Result<()> {
            self.out.push_str(text);
            Ok(())
        }
    }

    fn snapshot() -> Snapshot {
        let mut snapshot = Snapshot::from_json(
            include_str!("../../data/demo/snapshot.json"),
            "the demo snapshot",
        )
        .unwrap();
        crate::classify::classify(
            &mut snapshot,
            &Framework::builtin(),
            &crate::classify::RuleSet::builtin(),
        )
        .unwrap();
        snapshot
    }

    fn run(script: &str) -> (Scripted, CurationFile, Summary, Snapshot) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.curation.toml");
        let mut file = CurationFile::open(&path).unwrap();
        let mut snapshot = snapshot();
        let framework = Framework::builtin();
        let mut term = Scripted::new(script);
        let summary = walk(
            &mut term,
            &mut file,
            ReviewRequest {
                snapshot: &mut snapshot,
                framework: &framework,
            },
        )
        .unwrap();
        let on_disk = if path.exists() {
            CurationFile::read(&path).unwrap().unwrap()
        } else {
            CurationFile::open(&path).unwrap()
        };
        (term, on_disk, summary, snapshot)
    }

    fn first_urls(snapshot: &Snapshot, n: usize) -> Vec<String> {
        walk_order(snapshot)
            .into_iter()
            .take(n)
            .map(|i| super::super::url_key(&snapshot.items[i].web_url))
            .collect()
    }

    #[test]
    fn each_key_edits_the_current_item_and_every_change_is_saved() {
        // Item 1: hide. Item 2: highlight, a note, a competency added after a typo. Back to
        // item 1, then quit.
        let script = "h l\
            nCut alert noise by 40%\n\
            acredibilty-3\ncredibility-3\n\
            pq";
        let (term, file, summary, snapshot) = run(script);
        let urls = first_urls(&snapshot, 2);
        let first = file.curation.entry(&urls[0]).expect("item 1 has an entry");
        assert!(first.hide && !first.highlight, "{first:?}");
        let second = file.curation.entry(&urls[1]).expect("item 2 has an entry");
        assert!(second.highlight && !second.hide, "{second:?}");
        assert_eq!(second.note.as_deref(), Some("Cut alert noise by 40%"));
        assert!(second.add.contains("credibility-3"), "{second:?}");
        assert!(
            term.out.contains("did you mean \"credibility-3\"?"),
            "{}",
            term.out
        );
        assert_eq!(summary.changes, 4, "{}", term.out);
        assert_eq!(summary.seen, 2);
        assert!(!summary.finished);
        assert!(
            term.out
                .contains("Stopped: 2 of 40 items seen, 4 changes saved"),
            "{}",
            term.out
        );
    }

    #[test]
    fn removing_a_competency_you_added_takes_it_back_and_rules_ones_are_recorded() {
        // Item 1 (the runbook MR) has rule matches; add credibility-3, remove it again (number 3,
        // after the two rule matches), then remove the rules' first.
        let (term, file, _, snapshot) = run("acredibility-3\nr3\nr1\nq");
        let url = &first_urls(&snapshot, 1)[0];
        let entry = file.curation.entry(url).expect("an entry");
        assert!(entry.add.is_empty(), "{entry:?}\n{}", term.out);
        assert_eq!(entry.remove.len(), 1, "{entry:?}");
        assert!(!entry.remove.contains("credibility-3"), "{entry:?}");
    }

    #[test]
    fn toggles_and_cancelled_prompts_leave_no_entry() {
        // Highlight on with `l`, off with `*`, hide twice, a note prompt cancelled with Esc, an
        // add prompt left empty: nothing is left to write.
        let (term, file, _, snapshot) = run("l*hhnsome text\u{1b}a\nq");
        let url = &first_urls(&snapshot, 1)[0];
        assert!(file.curation.entry(url).is_none(), "{}", term.out);
        assert!(term.out.contains("(cancelled)"), "{}", term.out);
        assert!(
            term.out.contains("highlighted") && term.out.contains("no longer highlighted"),
            "{}",
            term.out
        );
    }

    #[test]
    fn the_first_item_has_no_previous_and_unknown_keys_show_the_keys() {
        let (term, _, _, _) = run("pxq");
        assert!(term.out.contains("This is the first item."), "{}", term.out);
        assert!(term.out.contains("unknown key: h hide"), "{}", term.out);
    }

    #[test]
    fn walking_past_the_last_item_finishes() {
        let snapshot = snapshot();
        let script = " ".repeat(snapshot.items.len());
        let (term, file, summary, _) = run(&script);
        assert!(summary.finished);
        assert_eq!(summary.seen, snapshot.items.len());
        assert!(!file.exists(), "nothing changed, so nothing is written");
        assert!(term.out.contains("Reviewed to the end"), "{}", term.out);
    }
}
