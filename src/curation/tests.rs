//! Curation tests: the file (parsing, errors, comments kept, stable order), applying it to a
//! snapshot (and undoing it), keys for items that share a URL, and `curate`'s edits.

use std::path::Path;

use super::*;
use crate::model::{CompetencyMatch, Item, ItemKind, Period, Role, Snapshot};

const MR1: &str = "https://gitlab.example.com/g/p/-/merge_requests/1";
const MR2: &str = "https://gitlab.example.com/g/p/-/merge_requests/2";
const MR3: &str = "https://gitlab.example.com/g/p/-/merge_requests/3";

fn parse(text: &str) -> Result<CurationFile, CurationError> {
    CurationFile::parse(text, Path::new("my.curation.toml"))
}

fn rule_match(id: &str, score: f64, rule: &str) -> CompetencyMatch {
    CompetencyMatch {
        id: id.into(),
        score,
        rule: rule.into(),
        reasons: vec![format!("because of {rule}")],
    }
}

fn item(n: u32, matches: &[(&str, f64, &str)]) -> Item {
    let mut item = Item::new(
        ItemKind::MergeRequest,
        Role::Author,
        "alice",
        format!("gid://gitlab/MergeRequest/{n}"),
        format!("https://gitlab.example.com/g/p/-/merge_requests/{n}"),
        format!("MR {n}"),
    );
    item.competencies = matches
        .iter()
        .map(|(id, score, rule)| rule_match(id, *score, rule))
        .collect();
    item
}

fn snapshot(items: Vec<Item>) -> Snapshot {
    let mut s = Snapshot::new(
        "https://gitlab.example.com".into(),
        Period::from_dates("2026-07-01", "2026-09-30").unwrap(),
        "2026-10-01T00:00:00Z".parse().unwrap(),
    );
    s.items = items;
    s
}

fn ids(item: &Item) -> Vec<(String, String)> {
    let mut ids: Vec<_> = item
        .competencies
        .iter()
        .map(|m| (m.id.clone(), m.rule.clone()))
        .collect();
    ids.sort();
    ids
}

// ---- the file ----

const HAND_WRITTEN: &str = r#"# My curation for FY27.
# Kept in git.

# The big one.
["https://gitlab.example.com/g/p/-/merge_requests/2"]
highlight = true # really
note = """
Cut p99 latency by 30%.
Unblocked the Q3 OKR."""
add = ["credibility-3"]

["https://gitlab.example.com/g/p/-/merge_requests/3/"]
hide = true
remove = "accountability-1"
"#;

#[test]
fn a_hand_written_file_is_read_with_its_entries() {
    let file = parse(HAND_WRITTEN).unwrap();
    let entries = &file.curation.entries;
    assert_eq!(entries.len(), 2);
    let big = &entries[MR2];
    assert!(big.highlight && !big.hide);
    assert_eq!(
        big.note.as_deref(),
        Some("Cut p99 latency by 30%.\nUnblocked the Q3 OKR.")
    );
    assert_eq!(big.add.iter().collect::<Vec<_>>(), ["credibility-3"]);
    // The trailing slash is not part of the key; a single id is accepted for a list.
    let hidden = &entries[MR3];
    assert!(hidden.hide);
    assert_eq!(
        hidden.remove.iter().collect::<Vec<_>>(),
        ["accountability-1"]
    );
}

#[test]
fn an_unchanged_file_is_written_back_byte_for_byte() {
    let mut file = parse(HAND_WRITTEN).unwrap();
    assert!(!file.is_dirty());
    assert_eq!(file.render(), HAND_WRITTEN);
}

#[test]
fn edits_keep_comments_sort_entries_and_fix_the_key_order() {
    let mut file = parse(HAND_WRITTEN).unwrap();
    // A new entry that sorts first, a change to the commented one, one entry dropped.
    file.curation.remove_competency(MR1, "technical-1");
    file.curation.set_hidden(MR1, true);
    file.curation.set_note(MR2, Some("Cut p99 latency by 30%."));
    file.curation.clear(MR3);
    let text = file.render();
    let expected = r#"# My curation for FY27.
# Kept in git.

["https://gitlab.example.com/g/p/-/merge_requests/1"]
hide = true
remove = ["technical-1"]

# The big one.
["https://gitlab.example.com/g/p/-/merge_requests/2"]
highlight = true # really
note = "Cut p99 latency by 30%."
add = ["credibility-3"]
"#;
    assert_eq!(text, expected);
    // And it reads back as written.
    let again = parse(&text).unwrap();
    assert_eq!(again.curation, file.curation);
}

#[test]
fn a_new_file_starts_with_its_header_and_is_only_written_when_something_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/alice.curation.toml");
    let mut file = CurationFile::open(&path).unwrap();
    assert!(!file.exists());
    assert!(!file.save().unwrap(), "nothing to write");
    assert!(!path.exists());
    file.curation.set_highlight(MR2, true);
    file.curation.add_competency(MR2, "technical-7");
    file.curation.add_competency(MR2, "credibility-3");
    file.curation.set_hidden(MR1, true);
    assert!(file.save().unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# gl-evidence curation: your edits to the draft"));
    let body = &text[text.find("\n\n[").expect("a blank line ends the header") + 2..];
    assert_eq!(
        body,
        format!(
            "[\"{MR1}\"]\nhide = true\n\n[\"{MR2}\"]\nhighlight = true\nadd = [\"credibility-3\", \"technical-7\"]\n"
        )
    );
    let reread = CurationFile::read(&path).unwrap().unwrap();
    assert_eq!(reread.curation, file.curation);
    assert!(!file.save().unwrap(), "saved already");
}

#[test]
fn an_emptied_entry_leaves_the_file() {
    let mut file = parse(HAND_WRITTEN).unwrap();
    file.curation.set_hidden(MR3, false);
    file.curation.reset_competency(MR3, "accountability-1");
    assert!(!file.curation.entries.contains_key(MR3));
    assert!(!file.render().contains("merge_requests/3"));
}

#[test]
fn mistakes_in_the_file_are_named_with_the_line() {
    for (text, wanted) in [
        (
            "[\"https://x/1\"]\nhightlight = true\n",
            "my.curation.toml:2: entry \"https://x/1\": unknown key `hightlight`: did you mean \"highlight\"?",
        ),
        (
            "[\"https://x/1\"]\nnote = \"ok\"\n\nhide = \"yes\"\n",
            "my.curation.toml:4: entry \"https://x/1\": `hide` must be true or false",
        ),
        (
            "[\"https://x/1\"]\nadd = [\"credibility-3\", 4]\n",
            "`add` must be a list of competency ids",
        ),
        (
            "[\"https://x/1\"]\nadd = [\"credibility-3\"]\nremove = [\"credibility-3\"]\n",
            "`credibility-3` is both added and removed",
        ),
        (
            "[\"https://x/1\"]\nhide = true\n[\"https://x/1/\"]\nnote = \"x\"\n",
            "a second entry for https://x/1",
        ),
        ("[alice]\nhide = true\n", "the key is not a URL"),
        ("hide = true\n", "`hide` is not an entry"),
        ("[\"https://x/1\"\nhide = true\n", "my.curation.toml:1:"),
    ] {
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains(wanted), "{text:?}\n  gave: {err}");
        assert!(err.contains("hint:"), "{err}");
    }
}

#[test]
fn unknown_competencies_are_rejected_with_a_suggestion() {
    let file = parse("[\"https://x/1\"]\nadd = [\"credibilty-3\", \"accountability-1\"]\nremove = [\"made-up-9\"]\n").unwrap();
    let err = file
        .curation
        .check_competencies(&Framework::builtin(), &file.path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"credibilty-3\" in `add` of https://x/1: did you mean \"credibility-3\"?"),
        "{err}"
    );
    assert!(err.contains("\"made-up-9\" in `remove`"), "{err}");
    assert!(!err.contains("accountability-1"), "{err}");
    assert!(err.contains("gl-evidence framework"), "{err}");
}

#[test]
fn the_default_file_sits_beside_the_snapshot() {
    assert_eq!(
        default_path(Path::new("out/alice.json")),
        Path::new("out/alice.curation.toml")
    );
    assert_eq!(
        default_path(Path::new("alice.snapshot")),
        Path::new("alice.snapshot.curation.toml")
    );
}

// ---- applying it ----

fn curation(text: &str) -> Curation {
    parse(text).unwrap().curation
}

#[test]
fn apply_hides_highlights_notes_and_overrides_the_rules() {
    let mut s = snapshot(vec![
        item(1, &[("accountability-1", 0.6, "runbook-change")]),
        item(
            2,
            &[
                ("credibility-3", 0.5, "review"),
                ("technical-7", 0.8, "blueprint"),
            ],
        ),
        item(3, &[]),
    ]);
    let c = curation(&format!(
        "[\"{MR1}\"]\nhide = true\n[\"{MR2}\"]\nhighlight = true\nnote = \"Mine\"\nadd = [\"credibility-3\", \"autonomy-1\"]\nremove = [\"technical-7\"]\n[\"https://gone/1\"]\nhide = true\n"
    ));
    let applied = apply(&mut s, &c);
    assert_eq!(
        applied,
        Applied {
            items: 2,
            hidden: 1
        }
    );
    let record = s.items[0].curation.as_ref().unwrap();
    assert!(record.hidden && !record.highlight);
    assert_eq!(
        ids(&s.items[0]),
        [("accountability-1".into(), "runbook-change".into())]
    );

    let second = &s.items[1];
    let record = second.curation.as_ref().unwrap();
    assert!(record.highlight);
    assert_eq!(record.note.as_deref(), Some("Mine"));
    // The person's credibility-3 replaces the rule's; technical-7 is gone; autonomy-1 is new.
    assert_eq!(
        ids(second),
        [
            ("autonomy-1".into(), CURATED_RULE.into()),
            ("credibility-3".into(), CURATED_RULE.into())
        ]
    );
    let added = second
        .competencies
        .iter()
        .find(|m| m.id == "credibility-3")
        .unwrap();
    assert_eq!(added.score, ADDED_SCORE);
    assert_eq!(added.reasons, [ADDED_REASON]);
    let mut overridden: Vec<_> = record.overridden.iter().map(|m| m.id.as_str()).collect();
    overridden.sort();
    assert_eq!(overridden, ["credibility-3", "technical-7"]);
    assert!(s.items[2].curation.is_none());
    assert_eq!(c.unmatched(&[&s]), ["https://gone/1"]);
}

#[test]
fn applying_again_or_another_file_starts_from_the_rules() {
    let rules_only = snapshot(vec![
        item(1, &[("accountability-1", 0.6, "runbook-change")]),
        item(2, &[("technical-7", 0.8, "blueprint")]),
    ]);
    let first = curation(&format!(
        "[\"{MR1}\"]\nremove = [\"accountability-1\"]\nadd = [\"credibility-3\"]\n[\"{MR2}\"]\nhide = true\n"
    ));
    let mut s = rules_only.clone();
    apply(&mut s, &first);
    let once = s.clone();
    apply(&mut s, &first);
    assert_eq!(s, once, "applying the same file twice changes nothing more");

    // Through JSON, as a classified snapshot on disk would be.
    let mut s = Snapshot::from_json(&s.to_json(), "test").unwrap();
    let second = curation(&format!("[\"{MR2}\"]\nhighlight = true\n"));
    apply(&mut s, &second);
    assert_eq!(
        ids(&s.items[0]),
        [("accountability-1".into(), "runbook-change".into())]
    );
    assert!(s.items[0].curation.is_none());
    assert!(s.items[1]
        .curation
        .as_ref()
        .is_some_and(|c| c.highlight && !c.hidden));

    strip(&mut s);
    for (a, b) in s.items.iter().zip(&rules_only.items) {
        assert_eq!(ids(a), ids(b));
        assert!(a.curation.is_none());
    }
}

#[test]
fn classify_gives_the_rules_answer_again() {
    let mut s = Snapshot::from_json(include_str!("../../data/demo/snapshot.json"), "demo").unwrap();
    let framework = Framework::builtin();
    let rules = crate::classify::RuleSet::builtin();
    crate::classify::classify(&mut s, &framework, &rules).unwrap();
    let rules_only = s.clone();
    let url = s.items[0].web_url.clone();
    let c = curation(&format!(
        "[\"{url}\"]\nremove = [\"accountability-1\"]\nadd = [\"technical-1\"]\n"
    ));
    apply(&mut s, &c);
    assert_ne!(s, rules_only);
    crate::classify::classify(&mut s, &framework, &rules).unwrap();
    assert_eq!(s, rules_only);
}

#[test]
fn items_that_share_a_url_are_filed_by_id() {
    let schedule = "https://gitlab.example.com/g/production/-/oncall_schedules";
    let shift = |start: &str| {
        Item::new(
            ItemKind::OncallShift,
            Role::Oncall,
            "alice",
            format!("gid://gitlab/IncidentManagement::OncallRotation/11/{start}"),
            schedule.into(),
            "EOC shift".into(),
        )
    };
    let mut review = item(1, &[]);
    review.kind = ItemKind::Review;
    review.subject = "bob".into();
    let mut s = snapshot(vec![
        shift("2026-08-01T08:00:00Z"),
        shift("2026-08-15T08:00:00Z"),
        item(1, &[]),
        review,
    ]);
    let keys = item_keys(&s);
    assert_eq!(
        keys,
        [
            "gid://gitlab/IncidentManagement::OncallRotation/11/2026-08-01T08:00:00Z",
            "gid://gitlab/IncidentManagement::OncallRotation/11/2026-08-15T08:00:00Z",
            MR1,
            MR1,
        ],
        "shifts by id; alice's MR and bob's review of it share the URL entry"
    );
    let mut c = Curation::default();
    c.set_hidden(&keys[1], true);
    c.set_note(MR1, Some("Reviewed in a day"));
    apply(&mut s, &c);
    let hidden: Vec<bool> = s
        .items
        .iter()
        .map(|i| i.curation.as_ref().is_some_and(|c| c.hidden))
        .collect();
    assert_eq!(hidden, [false, true, false, false]);
    assert!(s.items[2..]
        .iter()
        .all(|i| i.curation.as_ref().and_then(|c| c.note.as_deref()) == Some("Reviewed in a day")));
    assert!(c.unmatched(&[&s]).is_empty());
}

#[test]
fn the_note_about_unmatched_entries_counts_and_lists_them() {
    let path = Path::new("c.toml");
    assert_eq!(unmatched_note(path, &[]), None);
    assert_eq!(
        unmatched_note(path, &["https://a/1"]).unwrap(),
        "note: 1 curation entry in c.toml matches no item in this period (kept): https://a/1"
    );
    let many: Vec<String> = (1..=7).map(|n| format!("https://a/{n}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let text = unmatched_note(path, &many).unwrap();
    assert!(
        text.starts_with(
            "note: 7 curation entries in c.toml match no item in this period (kept): https://a/1, "
        ),
        "{text}"
    );
    assert!(text.ends_with("https://a/5 and 2 more"), "{text}");
}

#[test]
fn team_reports_use_only_the_file_passed_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot_path = dir.path().join("team.json");
    let beside = default_path(&snapshot_path);
    std::fs::write(&beside, format!("[\"{MR1}\"]\nnote = \"private\"\n")).unwrap();
    let configured = dir.path().join("mine.toml");
    std::fs::write(&configured, format!("[\"{MR1}\"]\nhide = true\n")).unwrap();
    let lookup = Lookup {
        flag: None,
        config: Some(configured.clone()),
        snapshot: Some(snapshot_path.clone()),
    };
    assert_eq!(
        lookup.load(Audience::Owner).unwrap().unwrap().path,
        configured,
        "the config's file comes before the default"
    );
    assert!(lookup.load(Audience::Team).unwrap().is_none());
    let lookup = Lookup {
        config: None,
        ..lookup
    };
    assert_eq!(lookup.load(Audience::Owner).unwrap().unwrap().path, beside);

    // A team report drops the curation a snapshot carries unless --curation names a file.
    let mut s = snapshot(vec![item(1, &[])]);
    apply(&mut s, &curation(&format!("[\"{MR1}\"]\nhide = true\n")));
    apply_for_report(&lookup, Audience::Team, &Framework::builtin(), &mut s, None).unwrap();
    assert!(s.items[0].curation.is_none());
    // A brag document keeps it when no file is found.
    let mut s = snapshot(vec![item(1, &[])]);
    apply(&mut s, &curation(&format!("[\"{MR1}\"]\nhide = true\n")));
    let nowhere = Lookup::default();
    apply_for_report(
        &nowhere,
        Audience::Owner,
        &Framework::builtin(),
        &mut s,
        None,
    )
    .unwrap();
    assert!(s.items[0].curation.as_ref().is_some_and(|c| c.hidden));

    let missing = Lookup {
        flag: Some(dir.path().join("nope.toml")),
        ..Lookup::default()
    };
    let err = missing.load(Audience::Team).unwrap_err().to_string();
    assert!(err.contains("nope.toml does not exist"), "{err}");
}

// ---- curate ----

fn curate_run(
    file: &mut CurationFile,
    s: &Snapshot,
    edits: Edits,
) -> crate::error::Result<Vec<String>> {
    curate(
        file,
        &CurateRequest {
            snapshot: s,
            framework: &Framework::builtin(),
            edits: &edits,
        },
    )
}

#[test]
fn curate_applies_edits_by_url_or_id_and_saves_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alice.curation.toml");
    let s = snapshot(vec![item(1, &[]), item(2, &[])]);
    let mut file = CurationFile::open(&path).unwrap();
    let lines = curate_run(
        &mut file,
        &s,
        Edits {
            hide: vec![format!("{MR1}/")],
            highlight: vec!["gid://gitlab/MergeRequest/2".into()],
            note: vec![(MR2.into(), "  Cut p99 by 30%  ".into())],
            add: vec![(MR2.into(), "credibility-3".into())],
            ..Edits::default()
        },
    )
    .unwrap();
    assert!(
        lines.iter().any(|l| l == &format!("hidden: MR 1 ({MR1})")),
        "{lines:?}"
    );
    assert!(lines.last().unwrap().starts_with("wrote "), "{lines:?}");
    let on_disk = CurationFile::read(&path).unwrap().unwrap().curation;
    assert!(on_disk.entries[MR1].hide);
    let entry = &on_disk.entries[MR2];
    assert!(entry.highlight);
    assert_eq!(entry.note.as_deref(), Some("Cut p99 by 30%"));
    assert!(entry.add.contains("credibility-3"));

    // Undo, one flag at a time; --remove takes back an --add and records the removal.
    let mut file = CurationFile::open(&path).unwrap();
    curate_run(
        &mut file,
        &s,
        Edits {
            unhide: vec![MR1.into()],
            unhighlight: vec![MR2.into()],
            clear_note: vec![MR2.into()],
            remove: vec![(MR2.into(), "credibility-3".into())],
            ..Edits::default()
        },
    )
    .unwrap();
    let on_disk = CurationFile::read(&path).unwrap().unwrap().curation;
    assert!(!on_disk.entries.contains_key(MR1));
    assert_eq!(
        on_disk.entries[MR2].remove.iter().collect::<Vec<_>>(),
        ["credibility-3"]
    );
    assert!(on_disk.entries[MR2].add.is_empty());
    let mut file = CurationFile::open(&path).unwrap();
    curate_run(
        &mut file,
        &s,
        Edits {
            reset: vec![(MR2.into(), "credibility-3".into())],
            ..Edits::default()
        },
    )
    .unwrap();
    assert!(CurationFile::read(&path)
        .unwrap()
        .unwrap()
        .curation
        .is_empty());
}

#[test]
fn curate_refuses_bad_edits_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alice.curation.toml");
    let s = snapshot(vec![item(1, &[]), item(2, &[])]);
    for (edits, wanted) in [
        (
            Edits {
                hide: vec!["https://gitlab.example.com/g/p/-/merge_requests/99".into()],
                ..Edits::default()
            },
            "no item with URL or id",
        ),
        (
            Edits {
                highlight: vec![MR1.into()],
                add: vec![(MR1.into(), "credibilty-3".into())],
                ..Edits::default()
            },
            "did you mean \"credibility-3\"?",
        ),
        (
            Edits {
                hide: vec![MR1.into()],
                unhide: vec![MR1.into()],
                ..Edits::default()
            },
            "both --hide and --unhide",
        ),
        (
            Edits {
                note: vec![(MR1.into(), "  ".into())],
                ..Edits::default()
            },
            "--clear-note",
        ),
        (
            Edits {
                add: vec![(MR1.into(), "credibility-3".into())],
                remove: vec![(MR1.into(), "credibility-3".into())],
                ..Edits::default()
            },
            "both --add and --remove",
        ),
        (
            Edits {
                clear: vec![MR1.into()],
                hide: vec![MR1.into()],
                ..Edits::default()
            },
            "--clear",
        ),
    ] {
        let mut file = CurationFile::open(&path).unwrap();
        let err = curate_run(&mut file, &s, edits).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains(wanted), "{err}");
        assert!(!path.exists(), "nothing written after: {err}");
    }
}

#[test]
fn curate_can_clean_up_entries_whose_item_is_gone() {
    let mut file = parse(HAND_WRITTEN).unwrap();
    let s = snapshot(vec![item(1, &[])]);
    let listing = listing(&file, &s);
    assert!(
        listing.contains(
            "2 curation entries in my.curation.toml (2 match no item in this period, kept)"
        ),
        "{listing}"
    );
    let dir = tempfile::tempdir().unwrap();
    file.path = dir.path().join("c.toml");
    curate_run(
        &mut file,
        &s,
        Edits {
            clear: vec![MR3.into()],
            ..Edits::default()
        },
    )
    .unwrap();
    assert!(!file.curation.entries.contains_key(MR3));
    assert!(
        file.curation.entries.contains_key(MR2),
        "other stale entries are kept"
    );
}

#[test]
fn shifts_that_share_a_url_must_be_named_by_id() {
    let schedule = "https://gitlab.example.com/g/production/-/oncall_schedules";
    let shift = |n: u32| {
        Item::new(
            ItemKind::OncallShift,
            Role::Oncall,
            "alice",
            format!("gid://gitlab/IncidentManagement::OncallRotation/11/{n}"),
            schedule.into(),
            format!("EOC shift {n}"),
        )
    };
    let s = snapshot(vec![shift(1), shift(2)]);
    let dir = tempfile::tempdir().unwrap();
    let mut file = CurationFile::open(&dir.path().join("c.toml")).unwrap();
    let err = curate_run(
        &mut file,
        &s,
        Edits {
            hide: vec![schedule.into()],
            ..Edits::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("2 items share"), "{err}");
    assert!(
        err.contains("gid://gitlab/IncidentManagement::OncallRotation/11/2  (EOC shift 2"),
        "{err}"
    );
    curate_run(
        &mut file,
        &s,
        Edits {
            hide: vec!["gid://gitlab/IncidentManagement::OncallRotation/11/2".into()],
            ..Edits::default()
        },
    )
    .unwrap();
    assert!(file.curation.entries["gid://gitlab/IncidentManagement::OncallRotation/11/2"].hide);
}

#[test]
fn the_readme_example_is_a_valid_curation_file() {
    let readme = include_str!("../../README.md");
    let section = &readme[readme
        .find("### Curating the draft")
        .expect("the README has the section")..];
    let start = section.find("```toml\n").expect("an example file") + "```toml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let file = parse(example).unwrap();
    file.curation
        .check_competencies(&Framework::builtin(), &file.path)
        .unwrap();
    let entry = file
        .curation
        .entry("https://gitlab.example.com/gitlab-com/runbooks/-/merge_requests/8112")
        .unwrap();
    assert!(entry.highlight && entry.add.contains("credibility-3"));
}
