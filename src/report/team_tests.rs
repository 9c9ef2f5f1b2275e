//! Team report tests across formats (Markdown, HTML, JSON, CSV): audience (confidential items),
//! escaping of hostile GitLab text, CSV injection, the heatmap's shape, comparison with a previous
//! snapshot, a golden HTML file for a small hand-built team (`UPDATE_GOLDEN=1` rewrites it), and
//! the bundled six-person sample team.

use serde_json::Value;

use super::tests::{at, check_golden, framework, matched, mr, pos};
use super::*;
use crate::model::{Item, ItemKind, Period, Role, Snapshot, Source, SourceStatus, Subject};

const TEAM_SAMPLE: &str = include_str!("../../data/demo/team-snapshot.json");
const TEAM_SAMPLE_PREVIOUS: &str = include_str!("../../data/demo/team-snapshot-previous.json");

fn subject(username: &str, name: &str) -> Subject {
    Subject {
        username: username.into(),
        name: Some(name.into()),
        id: None,
    }
}

fn source(name: &str, subject: &str, status: SourceStatus, detail: Option<&str>) -> Source {
    Source {
        name: name.into(),
        subject: subject.into(),
        status,
        detail: detail.map(Into::into),
        items: 0,
        requests: 1,
    }
}

/// A merge request by `who` with the given `(competency, score)` matches.
fn evidence(who: &str, n: u32, title: &str, matches: &[(&str, f64)]) -> Item {
    let day = 1 + n % 28;
    let mut item = mr(
        who,
        n,
        title,
        "gitlab-com/runbooks",
        &format!("2026-09-{day:02}T10:00:00Z"),
    );
    item.competencies = matches
        .iter()
        .map(|(id, score)| matched(id, *score, "rule", &[&format!("signal for {id}")]))
        .collect();
    item
}

fn team_snapshot(period: (&str, &str), generated: &str) -> Snapshot {
    Snapshot::new(
        "https://gitlab.example.com".into(),
        Period::from_dates(period.0, period.1).unwrap(),
        at(generated),
    )
}

/// Three people: Ana (strong on-call work, and one confidential item), Ben (a partial source) and
/// Cy (new, little evidence, a skipped source).
fn small_team() -> Snapshot {
    let mut s = team_snapshot(("2026-08-01", "2026-10-31"), "2026-11-02T09:00:00Z");
    s.subjects = vec![
        subject("ana.lima", "Ana Lima"),
        subject("ben.ode", "Ben Ode"),
        subject("cy.park", "Cy Park"),
    ];
    s.sources = vec![
        source("merge_requests", "ana.lima", SourceStatus::Ok, None),
        source(
            "reviews",
            "ben.ode",
            SourceStatus::Partial,
            Some("GitLab answered 502 on page 2 of 3"),
        ),
        source(
            "epics",
            "cy.park",
            SourceStatus::Skipped,
            Some("epics need GitLab Premium or Ultimate"),
        ),
    ];
    let mut secret = evidence(
        "ana.lima",
        9,
        "Mentoring plan for a teammate (confidential)",
        &[("team-building-4", 0.9)],
    );
    secret.kind = ItemKind::Issue;
    secret.confidential = true;
    let mut review = evidence(
        "ana.lima",
        5,
        "Review of a runbook",
        &[("credibility-3", 0.4)],
    );
    review.kind = ItemKind::Review;
    review.role = Role::Reviewer;
    s.items = vec![
        evidence(
            "ana.lima",
            1,
            "Runbook: Patroni failover",
            &[("accountability-1", 0.8)],
        ),
        evidence(
            "ana.lima",
            2,
            "Alert on replica lag",
            &[("accountability-1", 0.9)],
        ),
        evidence(
            "ana.lima",
            3,
            "EOC handover issue template",
            &[("accountability-1", 0.85)],
        ),
        evidence(
            "ana.lima",
            4,
            "Blueprint: registry failover",
            &[("technical-7", 0.9)],
        ),
        review,
        secret,
        evidence(
            "ben.ode",
            11,
            "Split the migration into three MRs (part 1 of 3)",
            &[("technical-6", 0.7), ("technical-7", 0.5)],
        ),
        evidence(
            "ben.ode",
            12,
            "Review checklist for Terraform",
            &[("credibility-3", 0.6)],
        ),
        evidence(
            "ben.ode",
            13,
            "Danger rule for runbook links",
            &[("credibility-3", 0.7)],
        ),
        evidence(
            "cy.park",
            21,
            "Docs tweak for alerts",
            &[("accountability-1", 0.3)],
        ),
        evidence("cy.park", 22, "Bump exporter", &[]),
    ];
    s
}

/// The quarter before: Ana (moderate on-call, strong on contributions), Ben (a little), and Dee,
/// who has left since. Cy had not joined.
fn small_previous() -> Snapshot {
    let mut s = team_snapshot(("2026-05-01", "2026-07-31"), "2026-08-03T09:00:00Z");
    s.subjects = vec![
        subject("ana.lima", "Ana Lima"),
        subject("ben.ode", "Ben Ode"),
        subject("dee.ross", "Dee Ross"),
    ];
    s.items = vec![
        evidence(
            "ana.lima",
            101,
            "Earlier runbook",
            &[("accountability-1", 0.8)],
        ),
        evidence(
            "ana.lima",
            102,
            "Community MR review 1",
            &[("team-building-8", 0.9)],
        ),
        evidence(
            "ana.lima",
            103,
            "Community MR review 2",
            &[("team-building-8", 0.9)],
        ),
        evidence(
            "ana.lima",
            104,
            "Community MR review 3",
            &[("team-building-8", 0.9)],
        ),
        evidence(
            "ben.ode",
            111,
            "Small decomposition",
            &[("technical-6", 0.4)],
        ),
        evidence(
            "dee.ross",
            121,
            "Async handbook page",
            &[("credibility-2", 0.8)],
        ),
    ];
    for item in &mut s.items {
        for date in [&mut item.created_at, &mut item.merged_at] {
            *date = date.map(|d| d - chrono::Duration::days(92));
        }
    }
    s
}

fn team_defaults() -> RenderOptions {
    RenderOptions::for_audience(ReportKind::Team)
}

fn comparing(previous: Snapshot) -> RenderOptions {
    RenderOptions {
        compare: Some(previous),
        ..team_defaults()
    }
}

fn render_team(format: Format, snapshot: &Snapshot, options: &RenderOptions) -> String {
    Renderer::new(None, None)
        .unwrap()
        .render_with(ReportKind::Team, format, snapshot, &framework(), options)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn team_json(snapshot: &Snapshot, options: &RenderOptions) -> Value {
    serde_json::from_str(&render_team(Format::Json, snapshot, options)).unwrap()
}

/// The `<table>` with the given class, up to its end.
fn table<'t>(html: &'t str, class: &str) -> &'t str {
    let start = pos(html, &format!("<table class=\"{class}\""));
    let end = start + pos(&html[start..], "</table>");
    &html[start..end]
}

/// Checks that an HTML report loads nothing and runs nothing.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for banned in [
        "<script",
        "src=\"http",
        "src=http",
        "<link",
        "@import",
        "url(",
        "<iframe",
        "<object",
        "<embed",
        "<img",
    ] {
        assert!(!lower.contains(banned), "{banned:?} in:\n{html}");
    }
    // Event-handler attributes: ` onerror=`, ` onload=` and the like, outside escaped text.
    for (n, _) in lower.match_indices(" on") {
        let rest = &lower[n + 3..];
        let word: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
        assert!(
            !rest[word.len()..].starts_with('='),
            "event handler attribute at {n}: {}",
            &html[n..(n + 40).min(html.len())]
        );
    }
    assert!(html.starts_with("<!DOCTYPE html>\n"), "{html}");
    assert!(html.trim_end().ends_with("</html>"));
}

// ---- API and audience ----

#[test]
fn render_keeps_everything_and_render_with_defaults_by_audience() {
    assert!(RenderOptions::default().include_confidential);
    assert!(RenderOptions::for_audience(ReportKind::Brag).include_confidential);
    assert!(!RenderOptions::for_audience(ReportKind::Team).include_confidential);

    let renderer = Renderer::new(None, None).unwrap();
    let s = small_team();
    let plain = renderer
        .render(ReportKind::Team, Format::Markdown, &s, &framework())
        .unwrap();
    let explicit = renderer
        .render_with(
            ReportKind::Team,
            Format::Markdown,
            &s,
            &framework(),
            &RenderOptions::default(),
        )
        .unwrap();
    assert_eq!(plain, explicit);
    assert!(plain.contains("| team-building-4: Growing others | moderate | 1 |"));
    assert!(!plain.contains("left out"), "{plain}");
}

#[test]
fn team_reports_hide_confidential_items_by_default_and_count_them() {
    let s = small_team();
    let hidden = team_defaults();
    let md = render_team(Format::Markdown, &s, &hidden);
    assert!(
        md.contains("> **1 confidential item left out** of this report"),
        "{md}"
    );
    let ana = super::tests::section(&md, "## Ana Lima (\\@ana.lima)");
    assert!(ana.contains("1 confidential item left out."), "{ana}");
    assert!(!md.contains("team-building-4: Growing others |"), "{md}");
    assert!(
        md.contains("- team-building-4: Growing others\n"),
        "a gap now: {md}"
    );

    let html = render_team(Format::Html, &s, &hidden);
    assert!(!html.contains("Mentoring plan"), "{html}");
    assert!(
        html.contains("<strong>1 confidential item left out</strong> of this report"),
        "{html}"
    );
    assert!(html.contains("<strong>1 confidential item left out.</strong>"));
    assert!(html.contains(
        "<th scope=\"col\" class=\"n\" title=\"confidential items left out\">Hidden</th>"
    ));

    let json = team_json(&s, &hidden);
    assert_eq!(json["include_confidential"], false);
    assert_eq!(json["hidden_confidential"], 1);
    assert_eq!(json["people"][0]["hidden_confidential"], 1);
    assert_eq!(json["people"][1]["hidden_confidential"], 0);
    assert_eq!(json["totals"]["items"], 10);

    let csv = render_team(Format::Csv, &s, &hidden);
    assert!(
        csv.contains(
            "ana.lima,Ana Lima,team-building,team-building-4,Growing others,none,0,0.00,1\r\n"
        ),
        "{csv}"
    );

    // Asked for: everything is back and nothing is said about hiding.
    let shown = RenderOptions {
        include_confidential: true,
        ..team_defaults()
    };
    let html = render_team(Format::Html, &s, &shown);
    assert!(html.contains("Mentoring plan for a teammate (confidential)"));
    assert!(
        html.contains("<strong>confidential</strong>"),
        "marked as such"
    );
    assert!(!html.contains("left out"), "{html}");
    let md = render_team(Format::Markdown, &s, &shown);
    assert!(md.contains("| team-building-4: Growing others | moderate | 1 |"));
    assert_eq!(team_json(&s, &shown)["hidden_confidential"], 0);
    assert!(render_team(Format::Csv, &s, &shown).contains(
        "ana.lima,Ana Lima,team-building,team-building-4,Growing others,moderate,1,0.90,0\r\n"
    ));
}

#[test]
fn brag_honours_the_audience_option_too() {
    let s = small_team();
    let renderer = Renderer::new(None, None).unwrap();
    let hidden = RenderOptions {
        include_confidential: false,
        compare: None,
    };
    let md = renderer
        .render_with(
            ReportKind::Brag,
            Format::Markdown,
            &s,
            &framework(),
            &hidden,
        )
        .unwrap();
    assert!(!md.contains("Mentoring plan"), "{md}");
    assert!(md.contains("> **1 confidential item left out** of this document."));

    let json = renderer
        .render_with(ReportKind::Brag, Format::Json, &s, &framework(), &hidden)
        .unwrap();
    let parsed = Snapshot::from_json(&json, "brag json").unwrap();
    assert_eq!(parsed.items.len(), s.items.len() - 1);
    assert!(parsed.items.iter().all(|i| !i.confidential));
    assert_eq!(parsed.extra["hidden_confidential"], 1);

    let csv = renderer
        .render_with(ReportKind::Brag, Format::Csv, &s, &framework(), &hidden)
        .unwrap();
    assert!(!csv.contains("Mentoring"));
    assert_eq!(csv.lines().count(), s.items.len(), "header + shown items");
    let all = renderer
        .render(ReportKind::Brag, Format::Csv, &s, &framework())
        .unwrap();
    assert!(all.starts_with(
        "username,name,date,kind,role,title,url,project,confidential,competencies,best_score,highlight,note\r\n"
    ));
    assert!(all.contains(",issue,author,Mentoring plan for a teammate (confidential),https://gitlab.example.com/gitlab-com/runbooks/-/merge_requests/9,gitlab-com/runbooks,true,team-building-4,0.90,false,\r\n"), "{all}");
}

// ---- HTML ----

#[test]
fn team_html_is_self_contained_and_has_every_section() {
    let html = render_team(Format::Html, &small_team(), &comparing(small_previous()));
    assert_self_contained(&html);
    let order = [
        "<h1>Team evidence, 2026-08-01 – 2026-10-31</h1>",
        "Warning: the harvest was incomplete",
        "Not harvested or incomplete by design",
        "<h2 id=\"summary\">Summary</h2>",
        "<h2 id=\"heatmap\">Heatmap: people × competencies</h2>",
        "<h2 id=\"gaps\">Team-wide gaps</h2>",
        "<h2 id=\"change\">Change since 2026-05-01 – 2026-07-31</h2>",
        "<h2 id=\"people\" style=\"margin-bottom:0;\">People</h2>",
        "<div class=\"person\" id=\"person-0\">",
        "<div class=\"person\" id=\"person-2\">",
    ];
    let offsets: Vec<usize> = order.iter().map(|h| pos(&html, h)).collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "out of order");
    assert!(html.contains(
        "<li>ben.ode: <code>reviews</code> (partial): GitLab answered 502 on page 2 of 3</li>"
    ));
    assert!(html.contains(
        "<li>cy.park: <code>epics</code> (skipped): epics need GitLab Premium or Ultimate</li>"
    ));
    assert!(
        html.contains("Generated on 2026-11-02"),
        "date from the snapshot"
    );
    assert!(html.contains("Test Staff framework (10 competencies)"));

    // Every legend step is visible, with its letter.
    let legend = table(&html, "legend");
    for label in ["Strong", "Moderate", "Weak", "None"] {
        assert!(
            legend.contains(&format!("<strong>{label}</strong>")),
            "{legend}"
        );
    }
    for (letter, colour) in [("S", "#1e4f8a"), ("M", "#6fa8dc"), ("W", "#d6e6f5")] {
        assert!(
            legend.contains(&format!("background:{colour};"))
                && legend.contains(&format!(">{letter}</td>")),
            "{legend}"
        );
    }

    // Ana's section: top evidence per area, linked, with the reason; strengths; gaps.
    let ana = &html[pos(&html, "id=\"person-0\"")..pos(&html, "id=\"person-1\"")];
    assert!(ana.contains("<strong>Strengths:</strong> <span class=\"badge\" style=\"background:#1e4f8a;color:#ffffff;\">S</span> accountability-1 On-call standards</p>"), "{ana}");
    let accountability = &ana[pos(
        ana,
        "<th scope=\"row\" style=\"white-space:nowrap;\">Accountability",
    )..];
    let accountability = &accountability[..pos(accountability, "</tr>")];
    assert_eq!(
        accountability.matches("<li>").count(),
        3,
        "best three: {accountability}"
    );
    assert!(accountability.contains("<a href=\"https://gitlab.example.com/gitlab-com/runbooks/-/merge_requests/2\">Alert on replica lag</a>"), "{accountability}");
    assert!(accountability.contains("accountability-1: signal for accountability-1"));
    assert!(
        pos(accountability, "Alert on replica lag") < pos(accountability, "EOC handover"),
        "by score"
    );
    assert!(
        ana.contains("<strong>Without evidence (7):</strong>"),
        "{ana}"
    );
    assert!(ana.contains("<span title=\"Metrics and KPIs\">accountability-6</span>"));
}

#[test]
fn heatmap_has_a_row_per_person_and_a_cell_per_competency() {
    let s = small_team();
    let html = render_team(Format::Html, &s, &team_defaults());
    let heatmap = table(&html, "heatmap");
    let body = &heatmap[pos(heatmap, "<tbody>")..];
    let rows: Vec<&str> = body.split("<tr>").skip(1).collect();
    assert_eq!(rows.len(), s.subjects.len());
    let competencies = framework().competencies.len();
    for row in &rows {
        assert_eq!(
            row.matches("<td class=\"cell").count(),
            competencies,
            "{row}"
        );
    }
    // Column groups per area, with the area's title over its columns.
    assert_eq!(heatmap.matches("<colgroup span=").count(), 4);
    assert!(heatmap.contains("<th scope=\"colgroup\" colspan=\"4\" class=\"area\" title=\"Accountability\">Accountability</th>"), "{heatmap}");
    assert!(heatmap.contains(
        "<th scope=\"col\" class=\"num first\" title=\"accountability-1: On-call standards\" width=\"24\">1</th>"
    ));
    // Colour and letter both carry the strength; the tooltip says everything.
    assert!(rows[0].contains("<td class=\"cell first\" title=\"Ana Lima · accountability-1 On-call standards: strong, 3 items\" width=\"24\" height=\"24\" align=\"center\" bgcolor=\"#1e4f8a\" style=\"background:#1e4f8a;color:#ffffff;font-weight:700;\">S</td>"), "{}", rows[0]);
    assert!(rows[0].contains("title=\"Ana Lima · technical-7 Architecture design process: moderate, 1 item\" width=\"24\" height=\"24\" align=\"center\" bgcolor=\"#6fa8dc\" style=\"background:#6fa8dc;color:#0a1f36;font-weight:700;\">M</td>"));
    assert!(rows[0].contains("title=\"Ana Lima · credibility-3 Engineering and review standards: weak, 1 item\" width=\"24\" height=\"24\" align=\"center\" bgcolor=\"#d6e6f5\" style=\"background:#d6e6f5;color:#0a1f36;font-weight:700;\">W</td>"));
    assert!(rows[2].contains(
        "title=\"Cy Park · technical-7 Architecture design process: no evidence\" width=\"24\" height=\"24\" align=\"center\" bgcolor=\"#f3f4f6\""
    ));
}

#[test]
fn markdown_escaping_is_not_applied_to_html() {
    let mut s = small_team();
    s.items[0].title = "snake_case *stars* #12 @all [x]".into();
    let html = render_team(Format::Html, &s, &team_defaults());
    assert!(
        html.contains(">snake_case *stars* #12 @all [x]</a>"),
        "{html}"
    );
    assert!(!html.contains("snake\\_case"));
    let md = render_team(Format::Markdown, &s, &team_defaults());
    assert!(
        !md.contains("snake_case *stars*"),
        "still escaped in Markdown"
    );
}

/// A team member and items whose text tries to break out of every format.
fn hostile_team() -> Snapshot {
    let mut s = small_team();
    s.subjects.push(Subject {
        username: "\"><img src=x onerror=alert(1)>".into(),
        name: Some("<script>alert(1)</script>".into()),
        id: None,
    });
    let who = s.subjects[3].username.clone();
    let mut item = evidence(
        &who,
        66,
        "x",
        &[("accountability-1", 0.9), ("credibility-3", 0.8)],
    );
    item.title = "<script>alert('t')</script>\"><img src=x onerror=alert(2)>".into();
    item.web_url = "javascript:alert(document.cookie)".into();
    item.project = Some("evil/<b>proj</b>".into());
    item.competencies[0].reasons = vec!["labelled `<img src=x onerror=alert(3)>`".into()];
    s.items.push(item);
    let mut data_url = evidence(&who, 67, "data link", &[("credibility-3", 0.5)]);
    data_url.web_url = "data:text/html,<script>alert(4)</script>".into();
    s.items.push(data_url);
    s.sources.push(source(
        "issues",
        &who,
        SourceStatus::Failed,
        Some("<iframe src=//evil>"),
    ));
    s
}

#[test]
fn hostile_text_is_neutralised_in_html() {
    let html = render_team(Format::Html, &hostile_team(), &team_defaults());
    assert_self_contained(&html);
    for raw in [
        "<script>alert",
        "<img src=x",
        "<iframe",
        "<b>proj",
        "href=\"javascript:",
        "href=\"data:",
        "onerror=alert",
    ] {
        assert!(!html.contains(raw), "{raw:?} reached the HTML");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("@&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;"));
    assert!(html.contains(
        "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;alert(2)&gt; (<code>javascript:alert(document.cookie)</code>)"
    ), "{html}");
    assert!(html.contains("<code>&lt;img src&#x3D;x onerror&#x3D;alert(3)&gt;</code>"));
    // Attribute values cannot be closed early either: the tooltip is escaped.
    assert!(html.contains("title=\"&lt;script&gt;alert(1)&lt;/script&gt; · accountability-1 On-call standards: moderate, 1 item\""), "{html}");

    let brag = Renderer::new(None, None)
        .unwrap()
        .render(
            ReportKind::Brag,
            Format::Html,
            &hostile_team(),
            &framework(),
        )
        .unwrap();
    assert_self_contained(&brag);
    assert!(!brag.contains("<script>alert") && !brag.contains("<img src=x"));
}

#[test]
fn hostile_text_is_neutralised_in_markdown() {
    let md = render_team(Format::Markdown, &hostile_team(), &team_defaults());
    assert!(!md.replace("\\<", "").contains('<'), "{md}");
    assert!(!md.contains("](javascript:"), "{md}");
    assert!(
        md.contains(r#"## \<script\>alert(1)\</script\> (\@"\>\<img src=x onerror=alert(1)\>)"#),
        "{md}"
    );
}

#[test]
fn hostile_text_and_formulas_are_neutralised_in_csv() {
    let mut s = hostile_team();
    let formulas = [
        ("=cmd|' /C calc'!A0", "=HYPERLINK(\"http://evil\",\"x\")"),
        ("+plus", "+1+1"),
        ("-minus", "-2+3"),
        ("@at", "@SUM(A1:A9)"),
        ("\ttab", "\tTab"),
        ("\rcr", "\rCR"),
    ];
    for (username, name) in formulas {
        s.subjects.push(Subject {
            username: username.into(),
            name: Some(name.into()),
            id: None,
        });
    }
    let csv = render_team(Format::Csv, &s, &team_defaults());
    let competencies = framework().competencies.len();
    assert_eq!(
        csv.matches("\r\n").count(),
        1 + s.subjects.len() * competencies
    );
    assert!(csv.contains(
        "\"\"\"><img src=x onerror=alert(1)>\",<script>alert(1)</script>,accountability,"
    ));
    assert!(csv.contains(
        "\"'=cmd|' /C calc'!A0\",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",accountability,accountability-1,On-call standards,none,0,0.00,0\r\n"
    ), "{csv}");
    assert!(csv.contains("\"'+plus\",\"'+1+1\","));
    assert!(csv.contains("\"'-minus\",\"'-2+3\","));
    assert!(csv.contains("\"'@at\",\"'@SUM(A1:A9)\","));
    assert!(csv.contains("\"'\ttab\",\"'\tTab\","));
    // A carriage return is no line break of its own: a space, behind the guard.
    assert!(csv.contains("\"' cr\",\"' CR\","));
    // No data row starts with a formula character (each physical line starts a new row, since
    // quoted CRs only appear after the leading quote).
    for line in csv.split("\r\n").filter(|l| !l.is_empty()) {
        assert!(!line.starts_with(['=', '+', '-', '@', '\t']), "{line:?}");
    }
}

// ---- JSON and CSV shape ----

#[test]
fn team_json_is_an_overview_not_the_snapshot() {
    let s = small_team();
    let json = team_json(&s, &team_defaults());
    assert_eq!(json["format"], "gl-evidence/team-overview");
    assert_eq!(json["version"], 1);
    assert_eq!(json["period"]["from"], "2026-08-01");
    assert_eq!(json["framework"]["id"], "test-staff");
    assert_eq!(json["totals"]["people"], 3);
    assert_eq!(json["totals"]["by_kind"]["merge_request"], 9);
    assert_eq!(json["totals"]["by_kind"]["review"], 1);
    assert_eq!(json["totals"]["competencies"], 10);
    assert_eq!(json["totals"]["competencies_evidenced"], 4);
    assert_eq!(json["totals"]["gaps"], 6);
    assert!(json.get("items").is_none(), "not the snapshot");
    assert_eq!(json["compare"], Value::Null);

    let ana = &json["people"][0];
    assert_eq!(ana["username"], "ana.lima");
    assert_eq!(ana["items"], 5);
    assert_eq!(ana["competencies_evidenced"], 3);
    assert_eq!(ana["moderate_plus"], 2);
    assert_eq!(
        ana["strongest_areas"],
        serde_json::json!(["accountability", "technical"])
    );
    let competencies = ana["competencies"].as_array().unwrap();
    assert_eq!(competencies.len(), 10, "every framework competency");
    assert_eq!(
        competencies[0],
        serde_json::json!({"id": "accountability-1", "area": "accountability", "title": "On-call standards", "strength": "strong", "items": 3, "score_total": 2.55})
    );
    let gaps: Vec<&str> = json["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap())
        .collect();
    // team-building-4 is a gap because its only evidence is confidential.
    assert_eq!(
        gaps,
        [
            "accountability-2",
            "accountability-5",
            "accountability-6",
            "credibility-2",
            "team-building-4",
            "team-building-8"
        ]
    );
    assert_eq!(json["gaps"][0]["area"], "accountability");
    assert_eq!(json["gaps"][0]["title"], "Technical direction");
    assert_eq!(json["warnings"][0]["source"], "reviews");
    assert_eq!(json["notices"][0]["source"], "epics");
}

#[test]
fn team_csv_has_one_row_per_person_and_competency() {
    let s = small_team();
    let csv = render_team(Format::Csv, &s, &team_defaults());
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "username,name,area,competency,title,strength,items,score_total,hidden_confidential"
    );
    assert_eq!(lines.len(), 1 + 3 * 10 + 1, "header, rows, final empty");
    assert_eq!(lines.last(), Some(&""), "ends with CRLF");
    assert_eq!(
        lines[1],
        "ana.lima,Ana Lima,accountability,accountability-1,On-call standards,strong,3,2.55,1"
    );
    assert!(lines.contains(
        &"ben.ode,Ben Ode,credibility,credibility-3,Engineering and review standards,moderate,2,1.30,0"
    ));
}

// ---- compare ----

#[test]
fn compare_deltas_per_person_and_area() {
    let json = team_json(&small_team(), &comparing(small_previous()));
    let compare = &json["compare"];
    assert_eq!(compare["previous_period"]["from"], "2026-05-01");
    assert_eq!(compare["evidenced"]["now"], 4);
    assert_eq!(compare["evidenced"]["then"], 4);
    assert_eq!(compare["evidenced"]["label"], "±0");
    assert_eq!(compare["joined"][0]["username"], "cy.park");
    assert_eq!(compare["left"][0]["username"], "dee.ross");

    let people = compare["people"].as_array().unwrap();
    let names: Vec<&str> = people
        .iter()
        .map(|p| p["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ana.lima", "ben.ode", "cy.park", "dee.ross"]);
    let status: Vec<&str> = people
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["continuing", "continuing", "new", "left"]);

    let ana = &people[0];
    assert_eq!(ana["evidenced"]["now"], 3);
    assert_eq!(ana["evidenced"]["then"], 2);
    assert_eq!(ana["evidenced"]["change"], 1);
    assert_eq!(ana["evidenced"]["label"], "+1");
    assert_eq!(ana["moderate_plus"]["change"], 0);
    assert_eq!(
        ana["stronger"], 3,
        "accountability-1, technical-7, credibility-3"
    );
    assert_eq!(ana["weaker"], 1, "team-building-8");
    assert_eq!(ana["new_strengths"][0]["id"], "accountability-1");
    assert_eq!(ana["lost_strengths"][0]["id"], "team-building-8");
    let area = |person: &Value, id: &str| -> (i64, i64, i64) {
        let a = person["areas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap();
        let d = &a["moderate_plus"];
        (
            d["now"].as_i64().unwrap(),
            d["then"].as_i64().unwrap(),
            d["change"].as_i64().unwrap(),
        )
    };
    assert_eq!(area(ana, "accountability"), (1, 1, 0));
    assert_eq!(area(ana, "team-building"), (0, 1, -1));
    assert_eq!(area(ana, "technical"), (1, 0, 1));
    assert_eq!(people[0]["areas"].as_array().unwrap().len(), 4);

    let ben = &people[1];
    assert_eq!(
        (
            ben["evidenced"]["now"].as_i64(),
            ben["evidenced"]["then"].as_i64()
        ),
        (Some(3), Some(1))
    );
    assert_eq!(ben["moderate_plus"]["label"], "+2");
    assert_eq!(area(ben, "credibility"), (1, 0, 1));

    assert_eq!(people[2]["is_new"], true);
    assert_eq!(people[2]["evidenced"]["then"], 0);
    assert_eq!(people[3]["has_left"], true);
    assert_eq!(people[3]["evidenced"]["now"], 0);
    assert_eq!(people[3]["evidenced"]["then"], 1);
    assert_eq!(people[3]["moderate_plus"]["label"], "−1");

    // Team-wide, by area: someone at moderate+ now vs then.
    let team_area = |id: &str| {
        let a = compare["areas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap();
        (
            a["moderate_plus"]["now"].as_i64().unwrap(),
            a["moderate_plus"]["then"].as_i64().unwrap(),
        )
    };
    assert_eq!(team_area("accountability"), (1, 1));
    assert_eq!(team_area("credibility"), (1, 1));
    assert_eq!(team_area("team-building"), (0, 1));
    assert_eq!(team_area("technical"), (2, 0));

    // The person's own entry carries the same change, and cells know the previous strength.
    assert_eq!(json["people"][0]["change"]["evidenced"]["change"], 1);
    assert_eq!(
        json["people"][0]["competencies"][0]["previous_strength"],
        "moderate"
    );
}

#[test]
fn compare_shows_in_every_team_format() {
    let s = small_team();
    let options = comparing(small_previous());

    let md = render_team(Format::Markdown, &s, &options);
    let change = super::tests::section(&md, "## Change since 2026-05-01 – 2026-07-31");
    assert!(
        change.contains("Competencies evidenced by anyone: 4 (was 4, ±0)"),
        "{change}"
    );
    assert!(
        change.contains("New this period: Cy Park (\\@cy.park)."),
        "{change}"
    );
    assert!(change.contains("In the previous period only: Dee Ross (\\@dee.ross)."));
    assert!(change.contains("| Person | Evidenced | Moderate+ | Accountability | Credibility | Team building | Staff technical competencies | New strengths | Lost strengths |"), "{change}");
    // A leading `+` is escaped like any Markdown value; GitLab shows it as `+1`.
    assert!(change.contains(r"| Ana Lima | 3 (\+1) | 2 (±0) | 1 (±0) | 0 (±0) | 0 (−1) | 1 (\+1) | accountability-1 | team-building-8 |"), "{change}");
    assert!(
        change.contains("| Dee Ross (left) | 0 (−1) | 0 (−1) |"),
        "{change}"
    );
    assert!(
        change.contains(r"| Cy Park (new) | 1 (\+1) | 0 (±0) |"),
        "{change}"
    );
    assert!(change.contains(r"| **Team** (someone at moderate+) | 4 (±0) | | 1 (±0) | 1 (±0) | 0 (−1) | 2 (\+2) | | |"), "{change}");
    let ana = super::tests::section(&md, "## Ana Lima (\\@ana.lima)");
    assert!(ana.contains(r#"Since 2026-05-01 – 2026-07-31: 3 competencies evidenced (\+1), 2 at moderate or strong (±0); 3 stronger, 1 weaker. New strengths: accountability-1. No longer strong: team-building-8."#), "{ana}");

    let html = render_team(Format::Html, &s, &options);
    assert_self_contained(&html);
    let heatmap = table(&html, "heatmap");
    assert!(heatmap.contains("title=\"Ana Lima · accountability-1 On-call standards: strong, 3 items (was moderate)\""), "{heatmap}");
    assert!(heatmap.contains(">S<span class=\"trend\">▲</span></td>"));
    assert!(
        heatmap.contains(">·<span class=\"trend\">▼</span></td>"),
        "lost team-building-8"
    );
    assert!(html
        .contains("<span class=\"badge\" style=\"background:#f3f4f6;color:#374151;\">left</span>"));

    let csv = render_team(Format::Csv, &s, &options);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "username,name,area,competency,title,strength,items,score_total,hidden_confidential,previous_strength"
    );
    assert_eq!(
        lines[1],
        "ana.lima,Ana Lima,accountability,accountability-1,On-call standards,strong,3,2.55,1,moderate"
    );
    assert!(lines.contains(
        &"cy.park,Cy Park,accountability,accountability-1,On-call standards,weak,1,0.30,0,none"
    ));
    assert!(lines.contains(
        &"dee.ross,Dee Ross,credibility,credibility-2,Async communication and documentation,,,,,moderate"
    ));
    assert_eq!(
        lines.len(),
        1 + 4 * 10 + 1,
        "the person who left has rows too"
    );
}

#[test]
fn golden_team_html_for_a_small_team() {
    let html = render_team(Format::Html, &small_team(), &comparing(small_previous()));
    check_golden("small-team.html", &html);
}

// ---- templates ----

#[test]
fn html_templates_can_be_overridden_and_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("team.html.hbs"),
        "<p>{{len people}} {{#each people}}{{display_name}} {{/each}}</p>\n",
    )
    .unwrap();
    let out = Renderer::new(Some(dir.path()), None)
        .unwrap()
        .render_with(
            ReportKind::Team,
            Format::Html,
            &hostile_team(),
            &framework(),
            &team_defaults(),
        )
        .unwrap();
    assert_eq!(
        out,
        "<p>4 Ana Lima Ben Ode Cy Park &lt;script&gt;alert(1)&lt;/script&gt; </p>\n"
    );

    let file = dir.path().join("once.hbs");
    std::fs::write(
        &file,
        "ONCE {{period.label}} {{link gitlab_url gitlab_url}}\n",
    )
    .unwrap();
    let renderer = Renderer::new(None, Some(&file)).unwrap();
    let html = renderer
        .render(ReportKind::Team, Format::Html, &small_team(), &framework())
        .unwrap();
    assert_eq!(
        html,
        "ONCE 2026-08-01 – 2026-10-31 <a href=\"https://gitlab.example.com/\">https://gitlab.example.com</a>\n"
    );
    let md = renderer
        .render(
            ReportKind::Team,
            Format::Markdown,
            &small_team(),
            &framework(),
        )
        .unwrap();
    assert_eq!(
        md,
        "ONCE 2026-08-01 – 2026-10-31 [https://gitlab.example.com](https://gitlab.example.com/)\n"
    );
    let err = renderer
        .render(ReportKind::Team, Format::Csv, &small_team(), &framework())
        .unwrap_err();
    assert!(matches!(err, ReportError::TemplateWithCsv), "{err}");
}

#[test]
fn brag_html_has_the_brag_sections() {
    let s = super::tests::classified_demo();
    let html = Renderer::new(None, None)
        .unwrap()
        .render(ReportKind::Brag, Format::Html, &s, &framework())
        .unwrap();
    assert_self_contained(&html);
    for part in [
        "<h1>Evidence: Sam Rivera <span class=\"muted\" style=\"font-weight:400;\">@sam.rivera</span>, 2026-08-01 – 2026-10-31</h1>",
        "<h2>Evidence by competency</h2>",
        "<h2>Competencies with no evidence yet</h2>",
        "<h2>Appendix: items that matched no competency</h2>",
        "why: changes docs/ in gitlab-com/runbooks (rule <code>runbook-change</code>, score 0.80)",
    ] {
        assert!(html.contains(part), "{part:?} missing:\n{html}");
    }
}

// ---- the bundled sample team ----

fn sample(text: &str, origin: &str) -> Snapshot {
    Snapshot::from_json(text, origin).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn sample_team_snapshots_are_canonical_and_consistent() {
    for (text, origin, people) in [
        (TEAM_SAMPLE, "data/demo/team-snapshot.json", 6),
        (
            TEAM_SAMPLE_PREVIOUS,
            "data/demo/team-snapshot-previous.json",
            6,
        ),
    ] {
        let s = sample(text, origin);
        assert_eq!(
            s.to_json(),
            text,
            "{origin} is written as gl-evidence writes"
        );
        assert_eq!(s.subjects.len(), people, "{origin}");
        assert!(
            s.items.iter().all(|i| i.competencies.is_empty()),
            "unclassified"
        );
        let mut ids = std::collections::BTreeSet::new();
        for item in &s.items {
            assert!(ids.insert(&item.id), "{origin}: duplicate id {}", item.id);
            let date = item.date().unwrap();
            assert!(s.period.contains(date), "{origin}: {} outside", item.id);
        }
        for source in s.sources.iter().filter(|s| s.name != "events") {
            let kind = match source.name.as_str() {
                "merge_requests" => ItemKind::MergeRequest,
                "reviews" => ItemKind::Review,
                "issues" => ItemKind::Issue,
                "epics" => ItemKind::Epic,
                "incidents" => ItemKind::Incident,
                "oncall_shifts" => ItemKind::OncallShift,
                "interviews" => ItemKind::Interview,
                other => panic!("unexpected source {other}"),
            };
            let count = s
                .items
                .iter()
                .filter(|i| i.subject == source.subject && i.kind == kind)
                .count();
            assert_eq!(
                source.items, count,
                "{origin}: {} {}",
                source.subject, source.name
            );
        }
    }
    let now = sample(TEAM_SAMPLE, "now");
    assert!(now.items.iter().any(|i| i.confidential));
    assert!(now
        .sources
        .iter()
        .any(|s| s.status == SourceStatus::Partial));
    assert!(now
        .sources
        .iter()
        .any(|s| s.status == SourceStatus::Skipped));
}

/// The sample team, classified with the built-in rules, as the `team` command would render it
/// (confidential items left out, compared with the previous quarter).
fn sample_team_html() -> String {
    let framework = crate::framework::Framework::builtin();
    let rules = crate::classify::RuleSet::builtin();
    let mut now = sample(TEAM_SAMPLE, "now");
    let mut previous = sample(TEAM_SAMPLE_PREVIOUS, "previous");
    crate::classify::classify(&mut now, &framework, &rules).unwrap();
    crate::classify::classify(&mut previous, &framework, &rules).unwrap();
    Renderer::new(None, None)
        .unwrap()
        .render_with(
            ReportKind::Team,
            Format::Html,
            &now,
            &framework,
            &comparing(previous),
        )
        .unwrap()
}

#[test]
fn sample_team_renders_with_the_builtin_framework() {
    let html = sample_team_html();
    assert_self_contained(&html);
    let heatmap = table(&html, "heatmap");
    let rows = heatmap[pos(heatmap, "<tbody>")..].matches("<tr>").count();
    assert_eq!(rows, 6);
    assert_eq!(
        heatmap.matches("<td class=\"cell").count(),
        6 * crate::framework::Framework::builtin().competencies.len()
    );
    assert!(
        html.contains("confidential items left out"),
        "the sample hides some"
    );
    assert!(html.contains("In the previous period only:</strong> Dana Fischer"));
}

/// Writes the sample team report for the browser check (`scripts/browser-check.sh`):
/// `cargo test --lib report::team_tests::write_sample_team_html -- --ignored`, to
/// `$SAMPLE_TEAM_HTML` or `target/sample-team.html`.
#[test]
#[ignore = "writes a file for scripts/browser-check.sh"]
fn write_sample_team_html() {
    let path = std::env::var_os("SAMPLE_TEAM_HTML")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/sample-team.html")
        });
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, sample_team_html()).unwrap();
    eprintln!("wrote {}", path.display());
}
