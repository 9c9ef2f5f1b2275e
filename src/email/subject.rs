//! The subject line: a handlebars template over a few plain values, rendered without escaping
//! (it is not HTML) and then made safe for a header. Names and titles come from GitLab, so every
//! value, and the result, loses control characters (CR and LF above all, which would otherwise
//! start a new header), line separators and bidirectional overrides, and the result is cut to
//! [`MAX_SUBJECT_CHARS`]. lettre then encodes anything non-ASCII (RFC 2047).

use handlebars::Handlebars;
use serde::Serialize;

/// Long enough for any sensible subject, short enough for every mail client.
pub const MAX_SUBJECT_CHARS: usize = 160;

/// The values a subject template may use. Unknown names are an error, not an empty string.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SubjectValues {
    /// `brag` or `team` (empty for `send`).
    pub kind: String,
    /// `Brag document` or `Team overview` (empty for `send`).
    pub title: String,
    /// Whose evidence: a person's name, a group's path, or a few names.
    pub subject: String,
    /// A brag document's username (empty otherwise).
    pub username: String,
    /// The period's label: `2026Q3`, or `2026-07-01 – 2026-09-30`.
    pub period: String,
    /// First and last day, `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    /// The report's file name.
    pub file: String,
}

impl SubjectValues {
    /// Values that look like real ones, to check a template when it is loaded.
    fn sample() -> Self {
        SubjectValues {
            kind: "brag".into(),
            title: "Brag document".into(),
            subject: "Alice Liddell".into(),
            username: "alice".into(),
            period: "2026Q3".into(),
            from: "2026-07-01".into(),
            to: "2026-09-30".into(),
            file: "brag-alice-2026Q3.md".into(),
        }
    }

    fn cleaned(&self) -> Self {
        let clean = |s: &str| clean_header_text(s, MAX_SUBJECT_CHARS);
        SubjectValues {
            kind: clean(&self.kind),
            title: clean(&self.title),
            subject: clean(&self.subject),
            username: clean(&self.username),
            period: clean(&self.period),
            from: clean(&self.from),
            to: clean(&self.to),
            file: clean(&self.file),
        }
    }
}

const NAME: &str = "subject";

/// A compiled subject template.
#[derive(Debug)]
pub struct SubjectTemplate {
    registry: Handlebars<'static>,
}

impl SubjectTemplate {
    /// Compiles `template` and renders it once with sample values, so that a misspelt variable
    /// is reported when the config is read, not after a long harvest.
    pub fn new(template: &str) -> Result<SubjectTemplate, String> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry
            .register_template_string(NAME, template)
            .map_err(|e| format!("{template:?} is not a valid template: {}", e.reason()))?;
        let compiled = SubjectTemplate { registry };
        compiled.render(&SubjectValues::sample()).map_err(|e| {
            format!("{template:?}: {e}; the variables are subject, period, title, kind, username, from, to and file")
        })?;
        Ok(compiled)
    }

    /// The subject line for `values`, safe to put in a header.
    pub fn render(&self, values: &SubjectValues) -> Result<String, String> {
        let text = self
            .registry
            .render(NAME, &values.cleaned())
            .map_err(|e| e.reason().to_string())?;
        let subject = clean_header_text(&text, MAX_SUBJECT_CHARS);
        if subject.is_empty() {
            return Err("the subject is empty".into());
        }
        Ok(subject)
    }
}

/// One line of at most `max_chars` characters: control characters, line and paragraph
/// separators and bidirectional controls become spaces, runs of spaces become one, and an
/// over-long text ends in `…`.
pub fn clean_header_text(text: &str, max_chars: usize) -> String {
    let words: Vec<&str> = text
        .split(|c: char| c.is_control() || c.is_whitespace() || is_bidi_or_separator(c))
        .filter(|w| !w.is_empty())
        .collect();
    let line = words.join(" ");
    if line.chars().count() <= max_chars {
        return line;
    }
    let mut cut: String = line.chars().take(max_chars.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

fn is_bidi_or_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{61c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_default_without_html_escaping() {
        let t = SubjectTemplate::new("Evidence for {{subject}} — {{period}}").unwrap();
        let values = SubjectValues {
            subject: "Zoë O'Brien & <Co>".into(),
            period: "2026Q3".into(),
            ..SubjectValues::default()
        };
        assert_eq!(
            t.render(&values).unwrap(),
            "Evidence for Zoë O'Brien & <Co> — 2026Q3"
        );
    }

    #[test]
    fn line_breaks_from_gitlab_cannot_start_a_header() {
        let t = SubjectTemplate::new("Evidence for {{subject}}").unwrap();
        let values = SubjectValues {
            subject: "Mallory\r\nBcc: evil@x.example\r\n\r\nbody".into(),
            ..SubjectValues::default()
        };
        let subject = t.render(&values).unwrap();
        assert_eq!(subject, "Evidence for Mallory Bcc: evil@x.example body");
        assert!(!subject.contains(['\r', '\n']));
    }

    #[test]
    fn the_template_itself_cannot_break_the_line_either() {
        let t = SubjectTemplate::new("{{subject}}\nX-Injected: 1").unwrap();
        let values = SubjectValues {
            subject: "a".into(),
            ..SubjectValues::default()
        };
        assert_eq!(t.render(&values).unwrap(), "a X-Injected: 1");
    }

    #[test]
    fn controls_separators_and_bidi_overrides_are_removed() {
        assert_eq!(
            clean_header_text("a\tb\u{0}c\u{7f}d\u{85}e\u{2028}f\u{202e}g\u{2066}h", 100),
            "a b c d e f g h"
        );
        assert_eq!(clean_header_text("  \r\n  ", 100), "");
        assert_eq!(clean_header_text("  x  ", 100), "x");
    }

    #[test]
    fn long_subjects_are_cut_on_a_character_boundary() {
        let long = "é".repeat(500);
        let cut = clean_header_text(&long, MAX_SUBJECT_CHARS);
        assert_eq!(cut.chars().count(), MAX_SUBJECT_CHARS);
        assert!(cut.ends_with('…'));
        let words = "word ".repeat(100);
        assert_eq!(clean_header_text(&words, 12), "word word w…");
        // No space before the ellipsis.
        assert_eq!(clean_header_text(&words, 11), "word word…");
        assert_eq!(clean_header_text("exactly12chr", 12), "exactly12chr");
    }

    #[test]
    fn unknown_variables_and_bad_syntax_are_explained() {
        let err = SubjectTemplate::new("{{subjet}}").unwrap_err();
        assert!(err.contains("subjet") && err.contains("period"), "{err}");
        let err = SubjectTemplate::new("{{#if subject}}").unwrap_err();
        assert!(err.contains("not a valid template"), "{err}");
    }

    #[test]
    fn an_empty_subject_is_refused() {
        let t = SubjectTemplate::new("{{username}}").unwrap();
        assert!(t.render(&SubjectValues::default()).is_err());
    }
}
