//! Email delivery: reports sent over SMTP (lettre, rustls) to the addresses given with
//! `--email` on `brag` and `team`, or with `--to` on `send`.
//!
//! - [`settings`]: the `[email]` config section and the environment over it (the password only
//!   from `GL_EVIDENCE_SMTP_PASSWORD`), checked into [`SmtpSettings`];
//! - [`subject`]: the templated subject line, made safe for a header;
//! - [`message`]: the MIME message (text and HTML alternatives, attachments);
//! - [`compose`]: what a report email contains, from a snapshot or from a report file;
//! - [`transport`]: the SMTP conversation and its errors.
//!
//! A [`Mailer`] is prepared before any harvest, so a bad address or a missing setting costs
//! nothing; it sends after the report is written.

pub mod compose;
pub mod message;
pub mod settings;
pub mod subject;
pub mod transport;

use lettre::message::Mailbox;

pub use compose::{FileReport, SnapshotReport};
pub use message::{AttachedFile, Body, Email};
pub use settings::{EmailConfig, EmailEnv, Security, SmtpSettings, PASSWORD_VAR};
pub use subject::{SubjectTemplate, SubjectValues};

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("invalid email address {value:?}: {reason}\n  hint: give a plain address such as alice@example.com, or \"Alice <alice@example.com>\"")]
    InvalidRecipient { value: String, reason: String },
    #[error("no recipient: give at least one address with --to")]
    NoRecipients,
    #[error("no SMTP server to send through: set `host` in the [email] section of the config file, or GL_EVIDENCE_SMTP_HOST, or GL_EVIDENCE_SMTP_URL (e.g. smtp+starttls://user@smtp.example.com:587)")]
    NoHost,
    #[error("no sender address: set `from` in the [email] section of the config file, or GL_EVIDENCE_EMAIL_FROM (e.g. \"gl-evidence <reports@example.com>\")")]
    NoFrom,
    #[error("the SMTP user {user:?} needs a password: set it in the environment variable {var} (it is never read from the config file or a flag)", var = PASSWORD_VAR)]
    NoPassword { user: String },
    #[error("{var} is set but no SMTP user is: set `username` in the [email] section of the config file, or GL_EVIDENCE_SMTP_USERNAME", var = PASSWORD_VAR)]
    PasswordWithoutUser,
    #[error("refusing to send the SMTP password without encryption (security = \"none\"): use security = \"starttls\" or \"tls\", or unset the username and {var}", var = PASSWORD_VAR)]
    CredentialsInTheClear,
    #[error("invalid {var}: {message}")]
    Env { var: &'static str, message: String },
    #[error("invalid config value `{key}`: {message}")]
    Setting { key: &'static str, message: String },
    #[error("invalid email subject: {message}\n  hint: see `subject` in the [email] section of the config file, or --subject")]
    Subject { message: String },
    #[error("cannot read {path} to send it: {source}")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot use the CA certificate in {path} (email.ca_file): {message}")]
    CaFile { path: String, message: String },
    #[error(transparent)]
    Render(#[from] crate::report::ReportError),
    #[error("cannot build the email: {message}")]
    Build { message: String },
    #[error("cannot send the email through {server}: {detail}\n  hint: {hint}")]
    Smtp {
        server: String,
        detail: String,
        hint: String,
    },
}

impl EmailError {
    /// 1 when sending failed (the server or the network); 2 for what the user fixes in flags,
    /// config, environment or input files.
    pub fn exit_code(&self) -> i32 {
        match self {
            EmailError::Smtp { .. } | EmailError::Build { .. } => 1,
            _ => 2,
        }
    }
}

/// Settings, recipients and subject template, checked and ready to send.
#[derive(Debug)]
pub struct Mailer {
    settings: SmtpSettings,
    to: Vec<Mailbox>,
    subject: SubjectTemplate,
}

/// What was sent, for the closing message.
#[derive(Debug, Clone)]
pub struct Sent {
    pub subject: String,
    pub recipients: Vec<String>,
    pub server: String,
    pub attachments: Vec<String>,
}

impl std::fmt::Display for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sent {:?} to {} through {}",
            self.subject,
            self.recipients.join(", "),
            self.server
        )?;
        if !self.attachments.is_empty() {
            write!(f, ", attached {}", self.attachments.join(", "))?;
        }
        Ok(())
    }
}

impl Mailer {
    /// Checks everything that can be checked before any work: the settings (config and
    /// environment), the recipients, and the subject template (`subject` replaces the config's).
    pub fn prepare(
        config: &EmailConfig,
        env: &EmailEnv,
        to: &[String],
        subject: Option<&str>,
    ) -> Result<Mailer, EmailError> {
        let to = message::parse_recipients(to)?;
        let settings = SmtpSettings::resolve(config, env)?;
        transport::check(&settings)?;
        let subject = SubjectTemplate::new(subject.unwrap_or(&settings.subject))
            .map_err(|message| EmailError::Subject { message })?;
        Ok(Mailer {
            settings,
            to,
            subject,
        })
    }

    pub fn settings(&self) -> &SmtpSettings {
        &self.settings
    }

    /// Sends a report rendered from a snapshot (`brag --email`, `team --email`).
    pub fn send_report(&self, report: &SnapshotReport<'_>) -> Result<Sent, EmailError> {
        let (values, body, attachments) = report.compose(&self.settings.attach)?;
        let mut subject = self.render_subject(&values)?;
        if report.incomplete() {
            subject = subject::clean_header_text(
                &format!("[incomplete] {subject}"),
                subject::MAX_SUBJECT_CHARS,
            );
        }
        self.send(subject, body, attachments)
    }

    /// Sends a report file as it is (`send FILE`), with extra attachments.
    pub fn send_file(&self, report: &FileReport) -> Result<Sent, EmailError> {
        let (values, body, attachments) = report.compose()?;
        let subject = self.render_subject(&values)?;
        self.send(subject, body, attachments)
    }

    fn render_subject(&self, values: &SubjectValues) -> Result<String, EmailError> {
        self.subject
            .render(values)
            .map_err(|message| EmailError::Subject { message })
    }

    fn send(
        &self,
        subject: String,
        body: Body,
        attachments: Vec<AttachedFile>,
    ) -> Result<Sent, EmailError> {
        if self.settings.security == Security::None && !self.settings.is_loopback() {
            tracing::warn!(
                "sending without encryption to {} (email.security = \"none\")",
                self.settings.host
            );
        }
        let email = Email {
            to: self.to.clone(),
            subject,
            body,
            attachments,
        };
        let message = message::build(&self.settings.from, &email)?;
        transport::send(&self.settings, message)?;
        Ok(Sent {
            subject: email.subject,
            recipients: self.to.iter().map(|m| m.email.to_string()).collect(),
            server: self.settings.server(),
            attachments: email.attachments.into_iter().map(|a| a.name).collect(),
        })
    }
}
