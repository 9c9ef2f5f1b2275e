//! Report tests: structure of the rendered Markdown, escaping, template overrides, errors, and
//! golden files for the bundled demo snapshot (set `UPDATE_GOLDEN=1` to rewrite them). Team
//! formats (HTML, JSON, CSV, compare, audience) are tested in `team_tests`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::*;
use crate::framework::{Area, Competency, Framework};
use crate::model::{
    CompetencyMatch, Item, ItemKind, Period, Role, Snapshot, Source, SourceStatus, Subject,
};

const DEMO: &str = include_str!("../../data/demo/snapshot.json");

pub(super) fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("test timestamp")
}

/// A small framework with the real ids and shortened texts, so tests do not depend on the
/// built-in framework's wording.
pub(super) fn framework() -> Framework {
    let areas = [
        ("accountability", "Accountability"),
        ("credibility", "Credibility"),
        ("team-building", "Team building"),
        ("technical", "Staff technical competencies"),
    ];
    let competencies = [
        (
            "accountability-1",
            "On-call standards",
            "Upholds standards for on-call through their own behavior.",
        ),
        (
            "accountability-2",
            "Technical direction",
            "Makes sure that tech debt and future needs are visible.",
        ),
        (
            "accountability-5",
            "Availability and operational overhead",
            "Takes responsibility for the team's impact on availability.",
        ),
        (
            "accountability-6",
            "Metrics and KPIs",
            "Creates or extends available metrics where needed.",
        ),
        (
            "credibility-2",
            "Async communication and documentation",
            "Helps improve the team's processes around async communication and documentation.",
        ),
        (
            "credibility-3",
            "Engineering and review standards",
            "Sets review standards and contributes to technical discussions.",
        ),
        (
            "team-building-4",
            "Growing others",
            "Helps others to grow through mentoring and timely feedback.",
        ),
        (
            "team-building-8",
            "Enabling contributions",
            "Enables and encourages others to contribute to the Infrastructure code base.",
        ),
        (
            "technical-6",
            "Decomposing complex requirements",
            "Decomposes complex requirements into a proposal of small deliverables.",
        ),
        (
            "technical-7",
            "Architecture design process",
            "Engages in processes such as the Architecture Design Process.",
        ),
    ];
    Framework {
        id: "test-staff".into(),
        name: "Test Staff".into(),
        areas: areas
            .iter()
            .map(|(id, title)| Area {
                id: id.to_string(),
                title: title.to_string(),
            })
            .collect(),
        competencies: competencies
            .iter()
            .map(|(id, title, statement)| Competency {
                id: id.to_string(),
                area: id.rsplit_once('-').unwrap().0.to_string(),
                title: title.to_string(),
                statement: statement.to_string(),
            })
            .collect(),
    }
}

pub(super) fn matched(id: &str, score: f64, rule: &str, reasons: &[&str]) -> CompetencyMatch {
    CompetencyMatch {
        id: id.into(),
        score,
        rule: rule.into(),
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
    }
}

pub(super) fn mr(subject: &str, n: u32, title: &str, project: &str, merged: &str) -> Item {
    let mut item = Item::new(
        ItemKind::MergeRequest,
        Role::Author,
        subject,
        format!("gid://gitlab/MergeRequest/{n}"),
        format!("https://gitlab.example.com/{project}/-/merge_requests/{n}"),
        title.into(),
    );
    item.project = Some(project.into());
    item.state = Some("merged".into());
    item.created_at = Some(at(merged));
    item.merged_at = Some(at(merged));
    item
}

/// A small classified snapshot: one subject, a partial source, evidence in three areas, one
/// unmatched item and one hostile title.
fn snapshot() -> Snapshot {
    let period = Period::from_dates("2026-08-01", "2026-10-31").unwrap();
    let mut s = Snapshot::new(
        "https://gitlab.example.com".into(),
        period,
        at("2026-11-02T09:00:00Z"),
    );
    s.subjects.push(Subject {
        username: "sam.rivera".into(),
        name: Some("Sam Rivera".into()),
        id: Some(4242),
    });
    s.sources.push(Source {
        name: "merge_requests".into(),
        subject: "sam.rivera".into(),
        status: SourceStatus::Ok,
        detail: None,
        items: 4,
        requests: 2,
    });
    s.sources.push(Source {
        name: "reviews".into(),
        subject: "sam.rivera".into(),
        status: SourceStatus::Partial,
        detail: Some("GitLab answered 503 on page 3 of 5".into()),
        items: 1,
        requests: 3,
    });

    let mut runbook = mr(
        "sam.rivera",
        8112,
        "Add runbook for Patroni replica lag",
        "gitlab-com/runbooks",
        "2026-08-05T14:22:10Z",
    );
    runbook.additions = Some(142);
    runbook.deletions = Some(3);
    runbook.competencies = vec![matched(
        "accountability-1",
        0.8,
        "runbook-change",
        &["changes docs/ in gitlab-com/runbooks"],
    )];

    let mut older_runbook = mr(
        "sam.rivera",
        8001,
        "Older runbook",
        "gitlab-com/runbooks",
        "2026-08-02T10:00:00Z",
    );
    older_runbook.competencies = vec![matched(
        "accountability-1",
        0.8,
        "runbook-change",
        &["changes docs/"],
    )];

    let mut weak_runbook = mr(
        "sam.rivera",
        7999,
        "Weak runbook",
        "gitlab-com/runbooks",
        "2026-08-01T10:00:00Z",
    );
    weak_runbook.competencies = vec![matched(
        "accountability-1",
        0.3,
        "docs",
        &["documentation label"],
    )];

    let mut blueprint = mr(
        "sam.rivera",
        202215,
        "Blueprint: registry failover (part 1 of 3)",
        "gitlab-org/gitlab",
        "2026-09-24T16:48:30Z",
    );
    blueprint.competencies = vec![
        matched(
            "technical-7",
            0.9,
            "blueprint",
            &[
                "changes doc/architecture/blueprints/",
                "mentions alternatives considered",
            ],
        ),
        matched("technical-6", 0.7, "decomposition", &["part 1 of 3"]),
    ];

    let bump = mr(
        "sam.rivera",
        4419,
        "Bump gitlab-exporter to 14.2.1",
        "gitlab-com/gl-infra/k8s-workloads/gitlab-helmfiles",
        "2026-08-07T10:45:02Z",
    );

    let mut review = Item::new(
        ItemKind::Review,
        Role::Reviewer,
        "sam.rivera",
        "gid://gitlab/MergeRequest/9001".into(),
        "javascript:alert(1)".into(),
        "[x](javascript:alert(1)) <script>alert(1)</script> @all #1".into(),
    );
    review.project = Some("evil_group/<b>proj</b>".into());
    review.merged_at = Some(at("2026-09-01T10:00:00Z"));
    review.approved = Some(true);
    review.comments = Some(7);
    review.labels = vec!["<img src=x onerror=alert(1)>".into()];
    review.competencies = vec![matched(
        "credibility-3",
        0.6,
        "review",
        &["approved", "7 comments"],
    )];

    s.items = vec![
        bump,
        review,
        weak_runbook,
        blueprint,
        runbook,
        older_runbook,
    ];
    s
}

fn render(kind: ReportKind, snapshot: &Snapshot) -> String {
    Renderer::new(None, None)
        .unwrap()
        .render(kind, Format::Markdown, snapshot, &framework())
        .unwrap()
}

/// Byte offset of `needle` in `text`, failing the test with the text when missing.
pub(super) fn pos(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not found in:\n{text}"))
}

/// The text between `start` and the next line starting with `#`.
pub(super) fn section<'t>(text: &'t str, start: &str) -> &'t str {
    let from = pos(text, start) + start.len();
    let rest = &text[from..];
    let end = rest.find("\n#").map_or(rest.len(), |n| n + 1);
    &rest[..end]
}

#[test]
fn brag_has_title_summary_and_sections_in_framework_order() {
    let out = render(ReportKind::Brag, &snapshot());
    assert!(
        out.starts_with("# Evidence: Sam Rivera (@sam.rivera), 2026-08-01 – 2026-10-31\n"),
        "{out}"
    );
    assert!(out.contains("Generated by gl-evidence from [https://gitlab.example.com](https://gitlab.example.com/) on 2026-11-02"));
    assert!(
        out.contains("- 5 merge requests authored\n- 1 merge request reviewed\n"),
        "{out}"
    );
    assert!(out.contains("**6 items in total**, 5 of them evidence at least one competency; 4 of 10 competencies"), "{out}");

    let order = [
        "## Evidence by competency",
        "### Accountability",
        "#### accountability-1: On-call standards",
        "### Credibility",
        "#### credibility-3: Engineering and review standards",
        "### Staff technical competencies",
        "#### technical-6: Decomposing complex requirements",
        "#### technical-7: Architecture design process",
        "## Competencies with no evidence yet",
        "## Appendix: items that matched no competency",
    ];
    let offsets: Vec<usize> = order.iter().map(|h| pos(&out, h)).collect();
    assert!(
        offsets.windows(2).all(|w| w[0] < w[1]),
        "sections out of order:\n{out}"
    );
    assert!(
        !section(&out, "## Evidence by competency").contains("Team building"),
        "no evidence, no area heading"
    );
}

#[test]
fn items_sit_under_their_competency_sorted_by_score_then_date() {
    let out = render(ReportKind::Brag, &snapshot());
    let a1 = section(&out, "#### accountability-1: On-call standards");
    assert!(a1.contains("> Upholds standards for on-call through their own behavior."));
    let older = pos(a1, "[Older runbook]");
    let newer = pos(a1, "[Add runbook for Patroni replica lag](https://gitlab.example.com/gitlab-com/runbooks/-/merge_requests/8112) — 2026-08-05 · gitlab-com/runbooks · merge request: +142/-3\n");
    let weak = pos(a1, "[Weak runbook]");
    assert!(
        older < newer && newer < weak,
        "score desc, then date asc:\n{a1}"
    );
    assert!(
        a1.contains(
            "  - why: changes docs/ in gitlab-com/runbooks (rule `runbook-change`, score 0.80)\n"
        ),
        "{a1}"
    );
    assert!(!a1.contains("Blueprint"));

    let t7 = section(&out, "#### technical-7: Architecture design process");
    assert!(t7.contains("why: changes doc/architecture/blueprints/; mentions alternatives considered (rule `blueprint`, score 0.90)"), "{t7}");
    let t6 = section(&out, "#### technical-6:");
    assert!(
        t6.contains("Blueprint: registry failover (part 1 of 3)"),
        "an item shows under each competency it matches"
    );

    let c3 = section(&out, "#### credibility-3:");
    assert!(
        c3.contains(" · review: approved, 7 comments\n"),
        "review role detail: {c3}"
    );
}

#[test]
fn no_evidence_and_unmatched_sections() {
    let out = render(ReportKind::Brag, &snapshot());
    let gaps = &out[pos(&out, "## Competencies with no evidence yet")..pos(&out, "## Appendix")];
    for expected in [
        "### Accountability\n\n- accountability-2: Technical direction\n- accountability-5: Availability and operational overhead\n- accountability-6: Metrics and KPIs\n",
        "### Credibility\n\n- credibility-2: Async communication and documentation\n",
        "### Team building\n\n- team-building-4: Growing others\n- team-building-8: Enabling contributions\n",
    ] {
        assert!(gaps.contains(expected), "missing {expected:?} in:\n{gaps}");
    }
    assert!(
        !gaps.contains("accountability-1") && !gaps.contains("technical"),
        "{gaps}"
    );

    let appendix = &out[pos(&out, "## Appendix: items that matched no competency")..];
    assert_eq!(
        appendix.lines().filter(|l| l.starts_with("- ")).collect::<Vec<_>>(),
        ["- [Bump gitlab-exporter to 14.2.1](https://gitlab.example.com/gitlab-com/gl-infra/k8s-workloads/gitlab-helmfiles/-/merge_requests/4419) — 2026-08-07 · gitlab-com/gl-infra/k8s-workloads/gitlab-helmfiles · merge request"]
    );
}

#[test]
fn partial_sources_are_warned_about() {
    let out = render(ReportKind::Brag, &snapshot());
    assert!(
        out.contains("> **Warning: the harvest was incomplete**"),
        "{out}"
    );
    assert!(
        out.contains("> - `reviews` (partial): GitLab answered 503 on page 3 of 5\n"),
        "{out}"
    );
    assert!(
        !out.contains("`merge_requests`"),
        "ok sources are not listed"
    );

    let mut complete = snapshot();
    complete.sources.retain(|s| s.status == SourceStatus::Ok);
    assert!(!render(ReportKind::Brag, &complete).contains("Warning"));
}

#[test]
fn skipped_sources_and_notes_are_shown_apart_from_failures() {
    let mut snap = snapshot();
    snap.sources.retain(|s| s.status == SourceStatus::Ok);
    let subject = snap.subjects[0].username.clone();
    let source = |name: &str, status, detail: &str| crate::model::Source {
        name: name.into(),
        subject: subject.clone(),
        status,
        detail: Some(detail.into()),
        items: 0,
        requests: 1,
    };
    snap.sources.push(source(
        "epics",
        SourceStatus::Skipped,
        "epics need GitLab Premium or Ultimate",
    ));
    snap.sources.push(source(
        "events",
        SourceStatus::Ok,
        "the period starts more than 3 years ago",
    ));
    let out = render(ReportKind::Brag, &snap);
    assert!(!out.contains("Warning"), "a skip is not a failure: {out}");
    assert!(
        out.contains("> **Not harvested or incomplete by design:**"),
        "{out}"
    );
    assert!(
        out.contains("> - `epics` (skipped): epics need GitLab Premium or Ultimate\n"),
        "{out}"
    );
    assert!(
        out.contains("> - `events` (ok): the period starts more than 3 years ago\n"),
        "{out}"
    );
}

#[test]
fn hostile_text_from_gitlab_is_neutralised() {
    let out = render(ReportKind::Brag, &snapshot());
    // Every `<` from GitLab is backslash-escaped, so no raw HTML reaches the page.
    assert!(!out.replace("\\<", "").contains('<'), "{out}");
    assert!(!out.replace("\\]", "").contains("](javascript:"), "{out}");
    assert!(
        !out.contains(" @all"),
        "mentions would notify people: {out}"
    );
    let line = out
        .lines()
        .find(|l| l.contains("javascript"))
        .expect("the hostile item is listed");
    assert_eq!(
        line,
        r"- \[x\](javascript:alert(1)) \<script\>alert(1)\</script\> \@all \#1 (`javascript:alert(1)`) — 2026-09-01 · evil\_group/\<b\>proj\</b\> · review: approved, 7 comments"
    );
}

#[test]
fn titles_cannot_break_out_of_their_line() {
    let mut s = snapshot();
    s.items[0].title = "Bump\n# Injected heading\n\n- [x](https://evil.example)".into();
    let out = render(ReportKind::Brag, &s);
    assert!(!out.lines().any(|l| l.starts_with("# Injected")), "{out}");
    assert!(
        out.contains(
            r"[Bump \# Injected heading  - \[x\](https://evil.example)](https://gitlab.example.com/"
        ),
        "{out}"
    );
}

#[test]
fn unclassified_snapshot_says_so_and_lists_everything_unmatched() {
    let mut s = snapshot();
    for item in &mut s.items {
        item.competencies.clear();
    }
    let out = render(ReportKind::Brag, &s);
    assert!(
        out.contains("this snapshot has not been classified"),
        "{out}"
    );
    assert!(out.contains("No item evidences a competency yet."));
    let appendix = &out[pos(&out, "## Appendix")..];
    assert_eq!(appendix.lines().filter(|l| l.starts_with("- ")).count(), 6);
    assert!(!render(ReportKind::Brag, &snapshot()).contains("not been classified"));
}

#[test]
fn competencies_unknown_to_the_framework_are_shown_not_dropped() {
    let mut s = snapshot();
    s.items[0]
        .competencies
        .push(matched("leadership-9", 0.5, "custom", &["custom rule"]));
    let out = render(ReportKind::Brag, &s);
    let other = section(&out, "### Not in the Test Staff framework");
    assert!(
        other.contains("#### leadership-9: leadership-9")
            || out.contains("#### leadership-9: leadership-9"),
        "{out}"
    );
    assert!(
        !out.contains("## Appendix"),
        "the bump now has evidence: {out}"
    );
}

#[test]
fn several_subjects_get_one_section_each() {
    let mut s = snapshot();
    s.subjects.push(Subject {
        username: "alex.kim".into(),
        name: None,
        id: None,
    });
    let mut item = mr(
        "alex.kim",
        77,
        "Alex's change",
        "gitlab-com/runbooks",
        "2026-09-09T09:00:00Z",
    );
    item.competencies = vec![matched("team-building-4", 0.5, "mentoring", &["pairing"])];
    s.items.push(item);
    let out = render(ReportKind::Brag, &s);
    let sam = pos(&out, "# Evidence: Sam Rivera (@sam.rivera)");
    let alex = pos(&out, "# Evidence: alex.kim (@alex.kim)");
    assert!(sam < alex);
    assert!(out[sam..alex].contains("\n---\n"), "sections are separated");
    let alex_part = &out[alex..];
    assert!(
        alex_part.contains("- 1 merge request authored\n"),
        "{alex_part}"
    );
    assert!(alex_part.contains("Alex's change") && !alex_part.contains("Patroni"));
    assert!(!out[sam..alex].contains("Alex's change"));
}

#[test]
fn empty_snapshot_renders() {
    let mut s = snapshot();
    s.subjects.clear();
    s.items.clear();
    let out = render(ReportKind::Brag, &s);
    assert!(
        out.contains("this snapshot has no subjects and no items"),
        "{out}"
    );
    let out = render(ReportKind::Team, &s);
    assert!(
        out.starts_with("# Team evidence, 2026-08-01 – 2026-10-31\n"),
        "{out}"
    );
}

#[test]
fn team_report_has_totals_and_competency_counts() {
    let mut s = snapshot();
    s.subjects.push(Subject {
        username: "alex.kim".into(),
        name: Some("Alex Kim".into()),
        id: None,
    });
    s.items.push(mr(
        "alex.kim",
        77,
        "Alex's change",
        "gitlab-com/runbooks",
        "2026-09-09T09:00:00Z",
    ));
    let out = render(ReportKind::Team, &s);
    assert!(out.contains("| Person | merge requests authored | merge requests reviewed | Total | Competencies evidenced | Strongest areas |\n| --- | ---: | ---: | ---: | ---: | --- |\n"), "{out}");
    assert!(
        out.contains("| Sam Rivera (\\@sam.rivera) | 5 | 1 | 6 | 4 of 10 | Staff technical competencies (2 moderate); Accountability (1 moderate) |\n"),
        "{out}"
    );
    assert!(
        out.contains("| Alex Kim (\\@alex.kim) | 1 | 0 | 1 | 0 of 10 | — |\n"),
        "{out}"
    );
    assert!(
        out.contains("| Sam Rivera | `M···` | `·W` | `··` | `MM` |\n"),
        "strength by area: {out}"
    );
    let sam = section(&out, "## Sam Rivera (\\@sam.rivera)");
    assert!(
        sam.contains("5 merge requests authored, 1 merge request reviewed; 6 in total."),
        "{sam}"
    );
    assert!(
        sam.contains("| accountability-1: On-call standards | moderate | 3 |\n"),
        "{sam}"
    );
    assert!(
        sam.contains("| technical-7: Architecture design process | moderate | 1 |\n"),
        "{sam}"
    );
    assert!(
        out.contains("> - sam.rivera: `reviews` (partial): GitLab answered 503"),
        "{out}"
    );
}

#[test]
fn json_is_the_snapshot() {
    let s = snapshot();
    let out = Renderer::new(None, None)
        .unwrap()
        .render(ReportKind::Brag, Format::Json, &s, &framework())
        .unwrap();
    assert_eq!(out, s.to_json());
    assert_eq!(Snapshot::from_json(&out, "out").unwrap(), s);
}

#[test]
fn every_kind_renders_in_every_format() {
    let renderer = Renderer::new(None, None).unwrap();
    for kind in [ReportKind::Brag, ReportKind::Team] {
        for format in Format::ALL {
            let out = renderer
                .render(kind, format, &snapshot(), &framework())
                .unwrap_or_else(|e| panic!("{kind} {format}: {e}"));
            assert!(out.ends_with('\n'), "{kind} {format}");
        }
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn template_file_replaces_the_kind_template_for_this_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "mine.hbs",
        "CUSTOM {{#each subjects}}{{display_name}}: {{total}} {{link title_missing_is_fine_in_link @root.gitlab_url}}{{/each}}\n",
    );
    // Strict mode: a helper argument that is missing is an error only when read as a value.
    let renderer = Renderer::new(None, Some(&file)).unwrap();
    let out = renderer
        .render(
            ReportKind::Brag,
            Format::Markdown,
            &snapshot(),
            &framework(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.starts_with("CUSTOM Sam Rivera: 6 "), "{out}");

    let err = renderer
        .render(ReportKind::Brag, Format::Json, &snapshot(), &framework())
        .unwrap_err();
    assert!(matches!(err, ReportError::TemplateWithJson), "{err}");
}

#[test]
fn templates_dir_overrides_builtins_by_name() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "item.md.hbs",
        "* ITEM {{title}} <{{kind_label}}>\n",
    );
    write(dir.path(), "footer.md.hbs", "unused partial\n");
    write(dir.path(), "README.md", "not a template, ignored");
    let renderer = Renderer::new(Some(dir.path()), None).unwrap();
    let out = renderer
        .render(
            ReportKind::Brag,
            Format::Markdown,
            &snapshot(),
            &framework(),
        )
        .unwrap();
    assert!(
        out.contains("* ITEM Bump gitlab-exporter to 14.2.1 <merge request>\n"),
        "{out}"
    );
    assert!(
        out.contains("## Competencies with no evidence yet"),
        "brag.md.hbs is still built in"
    );

    // --template wins over the directory for this run.
    let other = tempfile::tempdir().unwrap();
    let file = write(other.path(), "once.md.hbs", "ONCE\n");
    let out = Renderer::new(Some(dir.path()), Some(&file))
        .unwrap()
        .render(
            ReportKind::Team,
            Format::Markdown,
            &snapshot(),
            &framework(),
        )
        .unwrap();
    assert_eq!(out, "ONCE\n");

    write(dir.path(), "team.md.hbs", "TEAM {{len people}}\n");
    let out = Renderer::new(Some(dir.path()), None)
        .unwrap()
        .render(
            ReportKind::Team,
            Format::Markdown,
            &snapshot(),
            &framework(),
        )
        .unwrap();
    assert_eq!(out, "TEAM 1\n");
}

#[test]
fn broken_template_names_the_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "broken.md.hbs",
        "# Title\n{{#each subjects}}\n{{/if}}\n",
    );
    let err = Renderer::new(None, Some(&file)).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ReportError::Template { line: Some(3), .. }),
        "{err:?}"
    );
    assert!(msg.starts_with(&format!("{}:3:", file.display())), "{msg}");
    assert!(msg.contains("invalid template"), "{msg}");

    // The same through templates_dir.
    let err = Renderer::new(Some(dir.path()), None).unwrap_err();
    assert!(err.to_string().contains("broken.md.hbs:3:"), "{err}");
}

#[test]
fn misspelt_variable_is_a_render_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "typo.md.hbs",
        "ok\n{{#each subjects}}{{usernmae}}{{/each}}\n",
    );
    let err = Renderer::new(None, Some(&file))
        .unwrap()
        .render(
            ReportKind::Brag,
            Format::Markdown,
            &snapshot(),
            &framework(),
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with(&format!("{}:2:", file.display())), "{msg}");
    assert!(msg.contains("usernmae"), "{msg}");
}

#[test]
fn templates_dir_errors_are_clear() {
    let missing = Path::new("/nonexistent/gl-evidence-templates");
    let err = Renderer::new(Some(missing), None).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read the templates directory /nonexistent/gl-evidence-templates"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "brag.hbs", "{{title}}");
    let err = Renderer::new(Some(dir.path()), None).unwrap_err();
    assert!(matches!(err, ReportError::TemplateName { .. }), "{err}");
    assert!(
        err.to_string().contains("must be named NAME.md.hbs"),
        "{err}"
    );

    let err = Renderer::new(None, Some(Path::new("/nonexistent/brag.md.hbs"))).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read template /nonexistent/brag.md.hbs"),
        "{err}"
    );
}

#[test]
fn builtin_templates_parse_and_are_listed() {
    let names: Vec<&str> = builtin_templates().iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "brag.md.hbs",
            "team.md.hbs",
            "item.md.hbs",
            "brag.html.hbs",
            "team.html.hbs",
            "item.html.hbs",
            "style.html.hbs"
        ]
    );
}

#[test]
fn formats_and_kinds_parse() {
    assert_eq!("md".parse::<Format>().unwrap(), Format::Markdown);
    assert_eq!("Markdown".parse::<Format>().unwrap(), Format::Markdown);
    assert_eq!("json".parse::<Format>().unwrap(), Format::Json);
    assert!("pdf"
        .parse::<Format>()
        .unwrap_err()
        .to_string()
        .contains("use md, json, html or csv"));
    for f in Format::ALL {
        assert_eq!(f.to_string().parse::<Format>().unwrap(), f);
    }
    assert_eq!(Format::Markdown.extension(), "md");
    assert_eq!(Format::Html.extension(), "html");
    assert_eq!("team".parse::<ReportKind>().unwrap(), ReportKind::Team);
    assert!("bragg".parse::<ReportKind>().is_err());
}

#[test]
fn output_is_reproducible() {
    let a = render(ReportKind::Brag, &snapshot());
    let b = render(ReportKind::Brag, &snapshot());
    assert_eq!(a, b);
    assert!(a.ends_with("\n") && !a.ends_with("\n\n"));
    assert!(!a.contains("\n\n\n"));
}

// ---- demo data ----

fn demo() -> Snapshot {
    Snapshot::from_json(DEMO, "data/demo/snapshot.json").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn demo_snapshot_parses_and_source_counts_match() {
    let s = demo();
    assert!(
        s.classification.is_none() && s.items.iter().all(|i| i.competencies.is_empty()),
        "the demo is not classified"
    );
    assert_eq!(s.subjects.len(), 1);
    assert_eq!(s.subjects[0].username, "sam.rivera");
    let kind_of = |source: &str| match source {
        "merge_requests" => ItemKind::MergeRequest,
        "reviews" => ItemKind::Review,
        "issues" => ItemKind::Issue,
        "epics" => ItemKind::Epic,
        "incidents" => ItemKind::Incident,
        "oncall_shifts" => ItemKind::OncallShift,
        other => panic!("unexpected source {other}"),
    };
    for source in &s.sources {
        assert_eq!(source.status, SourceStatus::Ok);
        let count = s
            .items
            .iter()
            .filter(|i| i.subject == source.subject && i.kind == kind_of(&source.name))
            .count();
        assert_eq!(source.items, count, "source {}", source.name);
    }
    assert_eq!(
        s.sources.iter().map(|s| s.items).sum::<usize>(),
        s.items.len()
    );
}

#[test]
fn demo_snapshot_is_canonical_and_consistent() {
    let s = demo();
    // Written exactly as gl-evidence writes snapshots: no unknown (misspelt) fields, same layout.
    assert_eq!(s.to_json(), DEMO);
    let mut ids = std::collections::BTreeSet::new();
    for item in &s.items {
        assert!(ids.insert(&item.id), "duplicate id {}", item.id);
        let date = item
            .date()
            .unwrap_or_else(|| panic!("{} has no date", item.id));
        assert!(s.period.contains(date), "{} is outside the period", item.id);
        if matches!(item.kind, ItemKind::MergeRequest | ItemKind::Review) {
            let project = item.project.as_deref().unwrap();
            let prefix = format!("{}/{project}/-/merge_requests/", s.gitlab_url);
            assert!(item.web_url.starts_with(&prefix), "{}", item.web_url);
            assert!(
                item.id.starts_with("gid://gitlab/MergeRequest/"),
                "{}",
                item.id
            );
        }
        assert!(
            item.web_url.starts_with("https://gitlab.example.com/"),
            "{}",
            item.web_url
        );
    }
}

// ---- golden files ----

/// `(competency id, score, rule, reasons)` for one item.
type Matches = &'static [(&'static str, f64, &'static str, &'static [&'static str])];

/// The demo snapshot with hand-written classifications, so the golden files do not depend on
/// the classify module's rules.
pub(super) fn classified_demo() -> Snapshot {
    let mut s = demo();
    let attach: &[(&str, Matches)] = &[
        (
            "331200417",
            &[
                (
                    "accountability-1",
                    0.8,
                    "runbook-change",
                    &["changes docs/ in gitlab-com/runbooks"],
                ),
                (
                    "credibility-2",
                    0.5,
                    "documentation",
                    &["labelled runbooks"],
                ),
            ],
        ),
        (
            "333001287",
            &[(
                "accountability-5",
                0.9,
                "corrective-action",
                &["labelled corrective action", "labelled severity::2"],
            )],
        ),
        (
            "333345018",
            &[
                (
                    "technical-7",
                    0.9,
                    "blueprint",
                    &[
                        "changes doc/architecture/blueprints/",
                        "mentions \"alternatives considered\"",
                    ],
                ),
                (
                    "technical-6",
                    0.7,
                    "decomposition",
                    &["title says \"part 1 of 3\""],
                ),
            ],
        ),
        (
            "332015576",
            &[(
                "accountability-6",
                0.8,
                "metrics-catalog",
                &["changes metrics-catalog/"],
            )],
        ),
        (
            "332950174",
            &[(
                "credibility-3",
                0.8,
                "thorough-review",
                &["14 comments", "in another team's project"],
            )],
        ),
        (
            "331455903",
            &[("credibility-3", 0.6, "review", &["approved", "7 comments"])],
        ),
        (
            "331902715",
            &[(
                "team-building-8",
                0.9,
                "community-review",
                &[
                    "labelled Community contribution",
                    "labelled 1st contribution",
                ],
            )],
        ),
        (
            "333402258",
            &[(
                "team-building-8",
                0.9,
                "community-review",
                &[
                    "labelled Community contribution",
                    "labelled 1st contribution",
                ],
            )],
        ),
        (
            "332610442",
            &[(
                "accountability-2",
                0.6,
                "tech-debt",
                &["labelled tech debt"],
            )],
        ),
    ];
    for (id, matches) in attach {
        let item = s
            .items
            .iter_mut()
            .find(|i| i.id == format!("gid://gitlab/MergeRequest/{id}"))
            .unwrap_or_else(|| panic!("demo has no MR {id}"));
        item.competencies = matches
            .iter()
            .map(|(c, score, rule, reasons)| matched(c, *score, rule, reasons))
            .collect();
    }
    s
}

pub(super) fn check_golden(file: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/report/testdata")
        .join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .map_or_else(
                || "(length differs)".to_string(),
                |n| format!("line {}", n + 1),
            );
        panic!(
            "{} differs from the rendered report at {line}; if the change is intended, rerun with UPDATE_GOLDEN=1\n--- actual ---\n{actual}",
            path.display()
        );
    }
}

#[test]
fn golden_brag_for_demo_snapshot() {
    check_golden(
        "demo-brag.md",
        &render(ReportKind::Brag, &classified_demo()),
    );
}

#[test]
fn golden_team_for_demo_snapshot() {
    check_golden(
        "demo-team.md",
        &render(ReportKind::Team, &classified_demo()),
    );
}
