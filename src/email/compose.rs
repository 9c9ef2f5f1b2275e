//! What a report email contains.
//!
//! From a snapshot (`brag --email`, `team --email`) both readable formats are rendered from the
//! same data: the HTML report as the HTML part and the Markdown report as the plain-text part;
//! the formats of `email.attach` (and the one asked for with `--format`) are attached. From a
//! report file (`send FILE`), the file is the body part it is (HTML, or Markdown/text as plain
//! text) and is attached as it is, with any `--attach` files.

use std::path::{Path, PathBuf};

use super::message::{AttachedFile, Body};
use super::subject::SubjectValues;
use super::EmailError;
use crate::framework::Framework;
use crate::model::Snapshot;
use crate::report::{Format, RenderOptions, Renderer, ReportError, ReportKind};

/// The subject template `send` uses without `--subject`: the report's own title.
pub const FILE_SUBJECT: &str = "{{title}}";

/// A report rendered from a snapshot.
pub struct SnapshotReport<'a> {
    pub kind: ReportKind,
    pub snapshot: &'a Snapshot,
    pub framework: &'a Framework,
    pub options: &'a RenderOptions,
    /// The built-in templates and `templates_dir`, without `--template` (that template is for
    /// the one format it was written in).
    pub renderer: &'a Renderer,
    /// The report as the user asked for it (`--format`, `--template`), as written out.
    pub rendered: (Format, &'a str),
    /// The group a team report is about, when it was asked for with `--group`.
    pub group: Option<&'a str>,
}

impl SnapshotReport<'_> {
    /// Whether a source failed: the report then carries a warning and so does the subject.
    pub fn incomplete(&self) -> bool {
        self.snapshot.is_partial()
    }

    pub(super) fn compose(
        &self,
        attach: &[Format],
    ) -> Result<(SubjectValues, Body, Vec<AttachedFile>), EmailError> {
        let text = self.text(Format::Markdown)?;
        let html = self.text(Format::Html)?;
        let base = self.file_stem();
        let mut formats: Vec<Format> = Vec::new();
        for format in attach.iter().chain([&self.rendered.0]) {
            if !formats.contains(format) {
                formats.push(*format);
            }
        }
        let mut attachments = Vec::new();
        for format in formats {
            let contents = match format {
                Format::Markdown => text.clone(),
                Format::Html => html.clone(),
                other => self.text(other)?,
            };
            attachments.push(AttachedFile::named(
                format!("{base}.{}", format.extension()),
                contents.into_bytes(),
            ));
        }
        let values = SubjectValues {
            kind: self.kind.as_str().to_string(),
            title: match self.kind {
                ReportKind::Brag => "Brag document",
                ReportKind::Team => "Team overview",
            }
            .to_string(),
            subject: self.subject(),
            username: match self.kind {
                ReportKind::Brag => self.first_username().to_string(),
                ReportKind::Team => String::new(),
            },
            period: self.snapshot.period.label(),
            from: self.snapshot.period.from.to_string(),
            to: self.snapshot.period.to.to_string(),
            file: attachments
                .first()
                .map(|a| a.name.clone())
                .unwrap_or_default(),
        };
        Ok((values, Body::Alternative { text, html }, attachments))
    }

    fn text(&self, format: Format) -> Result<String, ReportError> {
        if format == self.rendered.0 {
            return Ok(self.rendered.1.to_string());
        }
        self.renderer.render_with(
            self.kind,
            format,
            self.snapshot,
            self.framework,
            self.options,
        )
    }

    fn first_username(&self) -> &str {
        self.snapshot
            .subjects
            .first()
            .map(|s| s.username.as_str())
            .unwrap_or("")
    }

    /// Whose evidence, for the subject line: the person, the group, or the first few names.
    fn subject(&self) -> String {
        let names: Vec<&str> = self
            .snapshot
            .subjects
            .iter()
            .map(|s| s.name.as_deref().unwrap_or(&s.username))
            .collect();
        match (self.kind, self.group) {
            (ReportKind::Team, Some(group)) => group.to_string(),
            _ if names.len() <= 3 => names.join(", "),
            _ => format!("{} and {} more", names[..2].join(", "), names.len() - 2),
        }
    }

    /// `brag-alice-2026Q3`, `team-acme-sre-2026Q3`: safe characters only, whatever the names.
    fn file_stem(&self) -> String {
        let who = match (self.kind, self.group) {
            (ReportKind::Brag, _) => self.first_username().to_string(),
            (ReportKind::Team, Some(group)) => group.to_string(),
            (ReportKind::Team, None) => String::new(),
        };
        let period = &self.snapshot.period;
        let label = period.label();
        let period = if label.contains(char::is_whitespace) {
            format!("{}_{}", period.from, period.to)
        } else {
            label
        };
        [self.kind.as_str(), &who, &period]
            .iter()
            .map(|part| file_safe(part))
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("-")
    }
}

/// A report file sent as it is.
pub struct FileReport {
    pub path: PathBuf,
    pub attach: Vec<PathBuf>,
}

impl FileReport {
    pub(super) fn compose(&self) -> Result<(SubjectValues, Body, Vec<AttachedFile>), EmailError> {
        let bytes = read(&self.path)?;
        let name = file_name(&self.path);
        let extension = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        let text = String::from_utf8(bytes.clone()).ok();
        let note = |what: &str| {
            format!("The report is attached: {name} ({what}).\n\nSent by gl-evidence.\n")
        };
        let (body, title) = match (extension.as_str(), text) {
            ("html" | "htm", Some(html)) => {
                let title = html_title(&html);
                let body = Body::Alternative {
                    text: note("HTML; your mail program shows it as this message's HTML version"),
                    html,
                };
                (body, title)
            }
            ("md" | "markdown" | "txt", Some(text)) => {
                let title = markdown_title(&text);
                (Body::Text(text), title)
            }
            (_, _) => (
                Body::Text(note(super::message::content_type_for(&name))),
                None,
            ),
        };
        let mut attachments = vec![AttachedFile::named(name.clone(), bytes)];
        for path in &self.attach {
            attachments.push(AttachedFile::named(file_name(path), read(path)?));
        }
        let values = SubjectValues {
            title: title.unwrap_or_else(|| name.clone()),
            file: name,
            ..SubjectValues::default()
        };
        Ok((values, body, attachments))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, EmailError> {
    std::fs::read(path).map_err(|source| EmailError::ReadFile {
        path: path.display().to_string(),
        source,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string())
}

/// Letters, digits, `.`, `_` and `-`; anything else becomes `-`.
fn file_safe(text: &str) -> String {
    let mapped: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    mapped.trim_matches(['-', '.']).to_string()
}

/// The text of `<title>`, with the entities our HTML escaping writes turned back.
fn html_title(html: &str) -> Option<String> {
    let start = html.find("<title>")? + "<title>".len();
    let end = start + html[start..].find("</title>")?;
    let title = unescape_html(&html[start..end]);
    (!title.trim().is_empty()).then_some(title)
}

fn unescape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|e| *e <= 8) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The first `# ` heading, with Markdown's backslash escapes removed.
fn markdown_title(text: &str) -> Option<String> {
    let heading = text.lines().find_map(|l| l.strip_prefix("# "))?;
    let mut out = String::with_capacity(heading.len());
    let mut chars = heading.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    let title = out.trim().to_string();
    (!title.is_empty()).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_read_back_from_our_own_reports() {
        assert_eq!(
            html_title("<head><title>O&#x27;Brien &amp; Co — 2026Q3</title></head>").as_deref(),
            Some("O'Brien & Co — 2026Q3")
        );
        assert_eq!(html_title("<p>no title</p>"), None);
        assert_eq!(unescape_html("a & b &bogus; &#60;"), "a & b &bogus; <");
        assert_eq!(
            markdown_title("intro\n# Evidence: Zo\\_ë (@zoe), 2026Q3\n# second").as_deref(),
            Some("Evidence: Zo_ë (@zoe), 2026Q3")
        );
        assert_eq!(markdown_title("no heading"), None);
    }

    fn team_snapshot() -> Snapshot {
        let mut snapshot = Snapshot::from_json(
            include_str!("../../data/demo/team-snapshot.json"),
            "the demo team snapshot",
        )
        .unwrap();
        let framework = Framework::builtin();
        crate::classify::classify(
            &mut snapshot,
            &framework,
            &crate::classify::RuleSet::builtin(),
        )
        .unwrap();
        snapshot
    }

    #[test]
    fn a_team_email_has_both_parts_the_attachments_and_says_whose() {
        let snapshot = team_snapshot();
        let framework = Framework::builtin();
        let renderer = Renderer::new(None, None).unwrap();
        let options = RenderOptions::for_audience(ReportKind::Team);
        let mut report = SnapshotReport {
            kind: ReportKind::Team,
            snapshot: &snapshot,
            framework: &framework,
            options: &options,
            renderer: &renderer,
            rendered: (Format::Csv, "as,written\r\n"),
            group: Some("acme/sre team"),
        };
        let (values, body, attachments) = report
            .compose(&[Format::Markdown, Format::Json, Format::Markdown])
            .unwrap();
        assert_eq!(values.subject, "acme/sre team");
        assert_eq!(values.title, "Team overview");
        assert_eq!(values.period, "2026-08-01 – 2026-10-31");
        let names: Vec<&str> = attachments.iter().map(|a| a.name.as_str()).collect();
        let stem = "team-acme-sre-team-2026-08-01_2026-10-31";
        assert_eq!(
            names,
            [
                format!("{stem}.md"),
                format!("{stem}.json"),
                format!("{stem}.csv")
            ]
        );
        assert_eq!(attachments[2].bytes, b"as,written\r\n");
        let Body::Alternative { text, html } = body else {
            panic!("a report email has text and HTML")
        };
        assert_eq!(attachments[0].bytes, text.as_bytes());
        assert!(text.starts_with("# Team evidence"), "{text}");
        assert!(html.contains("<title>Team evidence"), "{html}");
        // The demo team has a failed source: the email says so, in both parts.
        assert!(report.incomplete());
        assert!(
            text.contains("Warning: the harvest was incomplete"),
            "{text}"
        );
        assert!(
            html.contains("Warning: the harvest was incomplete"),
            "{html}"
        );

        report.group = None;
        let (values, _, attachments) = report.compose(&[]).unwrap();
        assert_eq!(values.subject, "Sam Rivera, Riley Ng and 4 more");
        assert_eq!(attachments.len(), 1, "only the format asked for");
        assert_eq!(attachments[0].name, "team-2026-08-01_2026-10-31.csv");
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_safe("acme/sre team"), "acme-sre-team");
        assert_eq!(file_safe("../../etc/passwd"), "etc-passwd");
        assert_eq!(file_safe("2026Q3"), "2026Q3");
    }
}
