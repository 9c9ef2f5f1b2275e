//! Turning an [`Email`] into a MIME message: `multipart/alternative` (plain text and HTML) when
//! there are both, wrapped in `multipart/mixed` with the attachments. Recipients are parsed by
//! lettre, which also encodes non-ASCII headers and file names.

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::EmailError;

/// What to send, before it becomes MIME.
#[derive(Debug, Clone)]
pub struct Email {
    pub to: Vec<Mailbox>,
    pub subject: String,
    pub body: Body,
    pub attachments: Vec<AttachedFile>,
}

/// The readable part of the message.
#[derive(Debug, Clone)]
pub enum Body {
    /// Plain text only (a Markdown report is readable as it is).
    Text(String),
    /// HTML, with a plain-text alternative for mail programs that show no HTML.
    Alternative { text: String, html: String },
}

/// A file attached to the message.
#[derive(Debug, Clone)]
pub struct AttachedFile {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl AttachedFile {
    /// A file whose type follows from its name's extension.
    pub fn named(name: String, bytes: Vec<u8>) -> AttachedFile {
        AttachedFile {
            content_type: content_type_for(&name),
            name,
            bytes,
        }
    }
}

/// The MIME type for a file name, by extension; text types say they are UTF-8 (all our
/// reports are).
pub fn content_type_for(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "md" | "markdown" => "text/markdown; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "json" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// Parses `--to`/`--email` values (`alice@example.com` or `Alice <alice@example.com>`); the
/// first bad one is named. Duplicates are dropped.
pub fn parse_recipients(values: &[String]) -> Result<Vec<Mailbox>, EmailError> {
    if values.is_empty() {
        return Err(EmailError::NoRecipients);
    }
    let mut recipients: Vec<Mailbox> = Vec::new();
    for value in values {
        let mailbox =
            value
                .trim()
                .parse::<Mailbox>()
                .map_err(|e| EmailError::InvalidRecipient {
                    value: value.clone(),
                    reason: e.to_string(),
                })?;
        if !recipients.iter().any(|r| r.email == mailbox.email) {
            recipients.push(mailbox);
        }
    }
    Ok(recipients)
}

/// The MIME message from `from` to the email's recipients.
pub fn build(from: &Mailbox, email: &Email) -> Result<Message, EmailError> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(email.subject.clone())
        .user_agent(format!("gl-evidence/{}", env!("CARGO_PKG_VERSION")))
        .message_id(None);
    for to in &email.to {
        builder = builder.to(to.clone());
    }
    let body = match &email.body {
        Body::Text(text) => MultiPart::mixed().singlepart(SinglePart::plain(text.clone())),
        Body::Alternative { text, html } => MultiPart::mixed().multipart(
            MultiPart::alternative_plain_html(text.clone(), html.clone()),
        ),
    };
    let mut body = body;
    for file in &email.attachments {
        let content_type = ContentType::parse(file.content_type)
            .expect("the content types of content_type_for are valid");
        body = body
            .singlepart(Attachment::new(file.name.clone()).body(file.bytes.clone(), content_type));
    }
    builder.multipart(body).map_err(|e| EmailError::Build {
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> Mailbox {
        "gl-evidence <reports@example.com>".parse().unwrap()
    }

    #[test]
    fn recipients_are_checked_and_deduplicated() {
        let ok = parse_recipients(&[
            "alice@example.com".into(),
            "Alice L <alice@example.com>".into(),
            "Bob <bob@example.com>".into(),
        ])
        .unwrap();
        assert_eq!(ok.len(), 2);
        for bad in [
            "alice",
            "alice@",
            "@example.com",
            "a b@example.com",
            "alice@example.com\r\nBcc: evil@example.com",
        ] {
            let err = parse_recipients(&[bad.to_string()]).unwrap_err();
            assert!(
                matches!(&err, EmailError::InvalidRecipient { value, .. } if value == bad),
                "{bad:?}: {err}"
            );
        }
        assert!(matches!(
            parse_recipients(&[]),
            Err(EmailError::NoRecipients)
        ));
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(content_type_for("brag.MD"), "text/markdown; charset=utf-8");
        assert_eq!(content_type_for("a.json"), "application/json");
        assert_eq!(content_type_for("noext"), "application/octet-stream");
        for name in ["a.md", "a.html", "a.json", "a.csv", "a.txt", "a.pdf", "a"] {
            assert!(ContentType::parse(content_type_for(name)).is_ok(), "{name}");
        }
    }

    #[test]
    fn the_message_has_both_parts_and_the_attachments() {
        let email = Email {
            to: parse_recipients(&["alice@example.com".into()]).unwrap(),
            subject: "Evidence for Zoë — 2026Q3".into(),
            body: Body::Alternative {
                text: "plain words".into(),
                html: "<p>html words</p>".into(),
            },
            attachments: vec![AttachedFile::named(
                "brag-zoë.md".into(),
                b"# Brag".to_vec(),
            )],
        };
        let raw = String::from_utf8(build(&from(), &email).unwrap().formatted()).unwrap();
        for part in [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "text/html",
            "text/markdown",
            "plain words",
            "<p>html words</p>",
            "To: alice@example.com",
            "User-Agent: gl-evidence/",
            "Message-ID: <",
        ] {
            assert!(raw.contains(part), "{part:?} missing from\n{raw}");
        }
        // Non-ASCII is encoded, never sent raw in a header.
        let subject_line = raw.lines().find(|l| l.starts_with("Subject:")).unwrap();
        assert!(subject_line.is_ascii(), "{subject_line}");
        assert!(subject_line.contains("=?utf-8?"), "{subject_line}");
    }
}
