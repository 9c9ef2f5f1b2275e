//! Reports of a curated snapshot: hidden items left out and counted, highlights first in their
//! competencies and in the summary, notes under their items, competencies set by a person
//! marked as such — in every format — and golden files for the curated demo (`UPDATE_GOLDEN=1`
//! rewrites them).

use std::path::Path;

use super::tests::{check_golden, classified_demo, framework};
use super::*;
use crate::curation::{self, CurationFile};

const RUNBOOK: &str = "https://gitlab.example.com/gitlab-com/runbooks/-/merge_requests/8112";
const BLUEPRINT: &str = "https://gitlab.example.com/gitlab-org/gitlab/-/merge_requests/202215";
const TECH_DEBT: &str =
    "https://gitlab.example.com/gitlab-com/gl-infra/chef-repo/-/merge_requests/3977";
const REVIEW: &str = "https://gitlab.example.com/gitlab-com/runbooks/-/merge_requests/8119";

/// The curation file the tests apply: a highlight with a note, a competency added and one
/// removed, a hidden item, a note with markup to escape, and an entry for another period.
fn curation_text() -> String {
    format!(
        r#"# Sam's edits.

["{RUNBOOK}"]
highlight = true
note = "Paged 40% less for replica lag after this."
add = ["credibility-3"]
remove = ["accountability-1"]

["{BLUEPRINT}"]
highlight = true

["{TECH_DEBT}"]
hide = true

["{REVIEW}"]
note = "Caught a <script>alert(1)</script> & a *bold* claim"

["https://gitlab.example.com/gitlab-com/runbooks/-/merge_requests/1"]
hide = true
"#
    )
}

fn curated_demo() -> Snapshot {
    let file = CurationFile::parse(&curation_text(), Path::new("sam.curation.toml")).unwrap();
    file.curation
        .check_competencies(&framework(), &file.path)
        .unwrap();
    let mut snapshot = classified_demo();
    curation::apply(&mut snapshot, &file.curation);
    snapshot
}

fn render(kind: ReportKind, format: Format, snapshot: &Snapshot) -> String {
    let options = RenderOptions::for_audience(kind);
    Renderer::new(None, None)
        .unwrap()
        .render_with(kind, format, snapshot, &framework(), &options)
        .unwrap()
}

/// The lines of a Markdown section, from its heading to the next heading of any level.
fn section<'t>(text: &'t str, heading: &str) -> Vec<&'t str> {
    let start = text
        .lines()
        .position(|l| l.starts_with(heading))
        .unwrap_or_else(|| panic!("no {heading:?} in\n{text}"));
    text.lines()
        .skip(start + 1)
        .take_while(|l| !l.starts_with('#'))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn golden_curated_brag() {
    check_golden(
        "demo-brag-curated.md",
        &render(ReportKind::Brag, Format::Markdown, &curated_demo()),
    );
}

#[test]
fn golden_curated_team() {
    check_golden(
        "demo-team-curated.md",
        &render(ReportKind::Team, Format::Markdown, &curated_demo()),
    );
}

#[test]
fn brag_markdown_shows_every_edit() {
    let plain = render(ReportKind::Brag, Format::Markdown, &classified_demo());
    let md = render(ReportKind::Brag, Format::Markdown, &curated_demo());

    // Hidden: gone, and counted.
    assert!(plain.contains("chef-repo/-/merge_requests/3977"));
    assert!(!md.contains("chef-repo/-/merge_requests/3977"), "{md}");
    assert!(
        md.contains("> **1 item hidden** in your curation file, left out of this document."),
        "{md}"
    );
    assert!(md.contains("**39 items in total**"), "{md}");

    // Highlights lead the summary, with the note under the item.
    let summary = section(&md, "## Summary");
    assert_eq!(summary[0], "**Highlights**");
    assert!(summary[1].starts_with("- ★ [Add runbook for Patroni replica lag alerts]("));
    assert_eq!(
        summary[2],
        "  - note: Paged 40% less for replica lag after this."
    );
    assert!(summary[3].starts_with("- ★ [Blueprint: regional failover"));
    assert_eq!(summary[4], "**In numbers**");

    // The person's competency: the item leads it, marked as theirs, not a rule's.
    let engineering = section(&md, "#### credibility-3");
    assert!(
        engineering[1].starts_with("- ★ [Add runbook for Patroni replica lag alerts]"),
        "{engineering:#?}"
    );
    assert_eq!(
        engineering[3],
        "  - why: added by you (set by a person in the curation file, not by a rule)"
    );
    // The one they removed: the item is no longer there, and nothing else was.
    assert!(!md.contains("#### accountability-1"), "{md}");
    // A highlight leads its competency even with a lower score than the others.
    let decomposing = section(&md, "#### technical-6");
    assert!(decomposing[1].starts_with("- ★ [Blueprint: regional failover"));

    // A note is escaped like every other value.
    assert!(
        md.contains(r"  - note: Caught a \<script\>alert(1)\</script\> & a \*bold\* claim"),
        "{md}"
    );
}

#[test]
fn brag_html_escapes_notes_and_marks_highlights() {
    let html = render(ReportKind::Brag, Format::Html, &curated_demo());
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("Note: Caught a &lt;script&gt;alert(1)&lt;/script&gt; &amp; a *bold* claim")
    );
    assert!(html.contains("<strong>1 item hidden</strong> in your curation file"));
    assert!(html.contains("<p><strong>Highlights</strong></p>"));
    assert!(
        html.contains("why: added by you (set by a person in the curation file, not by a rule)")
    );
    assert!(!html.contains("chef-repo/-/merge_requests/3977"));
}

#[test]
fn brag_json_and_csv_leave_hidden_items_out() {
    let snapshot = curated_demo();
    let json = render(ReportKind::Brag, Format::Json, &snapshot);
    let parsed = Snapshot::from_json(&json, "brag json").unwrap();
    assert_eq!(parsed.items.len(), snapshot.items.len() - 1);
    assert_eq!(parsed.extra["hidden_curated"], 1);
    let runbook = parsed.items.iter().find(|i| i.web_url == RUNBOOK).unwrap();
    let record = runbook.curation.as_ref().unwrap();
    assert!(record.highlight);
    assert_eq!(record.overridden[0].id, "accountability-1");

    let csv = render(ReportKind::Brag, Format::Csv, &snapshot);
    assert!(!csv.contains("3977"));
    assert!(
        csv.contains(
            ",credibility-3 credibility-2,1.00,true,Paged 40% less for replica lag after this.\r\n"
        ),
        "{csv}"
    );
}

#[test]
fn team_reports_count_hidden_items_and_list_highlights() {
    let snapshot = curated_demo();
    let md = render(ReportKind::Team, Format::Markdown, &snapshot);
    assert!(md.contains("1 item hidden in curation."), "{md}");
    assert!(md.contains("Highlights:\n\n- ★ [Add runbook"), "{md}");
    let json: serde_json::Value =
        serde_json::from_str(&render(ReportKind::Team, Format::Json, &snapshot)).unwrap();
    assert_eq!(json["hidden_curated"], 1);
    let person = &json["people"][0];
    assert_eq!(person["hidden_curated"], 1);
    assert_eq!(person["highlights"][0]["url"], RUNBOOK);
    assert_eq!(
        person["highlights"][0]["note"],
        "Paged 40% less for replica lag after this."
    );
    let html = render(ReportKind::Team, Format::Html, &snapshot);
    assert!(html.contains("1 item hidden in curation."));
    // The highlighted item leads its area's top evidence.
    let top = html
        .split("<th scope=\"row\" style=\"white-space:nowrap;\">Credibility")
        .nth(1)
        .unwrap();
    let first_item = top.split("<li>").nth(1).unwrap();
    assert!(first_item.contains("★"), "{first_item}");
}
