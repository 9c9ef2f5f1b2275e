//! Where and how to send: the `[email]` config section, the environment over it, and the checked
//! [`SmtpSettings`] a send uses. The password is read from the environment only, never from the
//! config file or a flag, and is held as a [`Secret`].

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use url::Url;

use super::subject::SubjectTemplate;
use super::EmailError;
use crate::config::Secret;
use crate::report::Format;

/// The environment variable that holds the SMTP password (the only place it may come from).
pub const PASSWORD_VAR: &str = "GL_EVIDENCE_SMTP_PASSWORD";

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// TLS from the first byte, "SMTPS" (port 465).
    Tls,
    /// No encryption at all: only for a relay on the same machine or a test server.
    None,
}

impl Security {
    pub fn default_port(self) -> u16 {
        match self {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        }
    }

    fn parse(value: &str) -> Option<Security> {
        match value.trim().to_ascii_lowercase().as_str() {
            "starttls" => Some(Security::Starttls),
            "tls" | "smtps" => Some(Security::Tls),
            "none" => Some(Security::None),
            _ => None,
        }
    }
}

impl std::fmt::Display for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Security::Starttls => "STARTTLS",
            Security::Tls => "TLS",
            Security::None => "no encryption",
        })
    }
}

/// The `[email]` section as written in the config file. Every field has the default shown in
/// `config.example.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Security,
    pub username: Option<String>,
    pub from: Option<String>,
    pub subject: String,
    pub attach: Vec<String>,
    pub timeout_secs: u64,
    pub ca_file: Option<PathBuf>,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            host: None,
            port: None,
            security: Security::Starttls,
            username: None,
            from: None,
            subject: "Evidence for {{subject}} — {{period}}".to_string(),
            attach: vec!["md".to_string(), "json".to_string()],
            timeout_secs: 30,
            ca_file: None,
        }
    }
}

impl EmailConfig {
    /// Checks what can be checked without the environment; `Err((key, message))` names the key.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(host) = &self.host {
            check_host(host).map_err(|m| ("email.host", m))?;
        }
        if self.port == Some(0) {
            return Err(("email.port", "0 is not a port: use e.g. 587".into()));
        }
        if let Some(username) = &self.username {
            if username.trim().is_empty() {
                return Err((
                    "email.username",
                    "is empty: remove it to send without authentication".into(),
                ));
            }
        }
        if let Some(from) = &self.from {
            parse_from(from).map_err(|m| ("email.from", m))?;
        }
        SubjectTemplate::new(&self.subject).map_err(|m| ("email.subject", m))?;
        for format in &self.attach {
            format.parse::<Format>().map_err(|_| {
                (
                    "email.attach",
                    format!("{format:?} is not a report format: use md, json, html or csv"),
                )
            })?;
        }
        if self.timeout_secs == 0 {
            return Err(("email.timeout_secs", "must be at least 1".into()));
        }
        Ok(())
    }

    /// The formats to attach, in order, each once.
    pub fn attach_formats(&self) -> Vec<Format> {
        let mut formats = Vec::new();
        for format in self.attach.iter().filter_map(|f| f.parse::<Format>().ok()) {
            if !formats.contains(&format) {
                formats.push(format);
            }
        }
        formats
    }
}

/// The email variables of the environment, captured once so tests can supply their own.
#[derive(Clone, Default)]
pub struct EmailEnv {
    /// `GL_EVIDENCE_SMTP_URL`: `smtp+starttls://user@host:587`, `smtps://user@host:465` or
    /// `smtp://host:25` (no encryption).
    pub url: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
    pub security: Option<String>,
    pub username: Option<String>,
    pub from: Option<String>,
    pub password: Option<Secret>,
}

impl std::fmt::Debug for EmailEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailEnv")
            .field("url", &self.url)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("from", &self.from)
            .field("password", &self.password)
            .finish()
    }
}

impl EmailEnv {
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        EmailEnv {
            url: var("GL_EVIDENCE_SMTP_URL"),
            host: var("GL_EVIDENCE_SMTP_HOST"),
            port: var("GL_EVIDENCE_SMTP_PORT"),
            security: var("GL_EVIDENCE_SMTP_SECURITY"),
            username: var("GL_EVIDENCE_SMTP_USERNAME"),
            from: var("GL_EVIDENCE_EMAIL_FROM"),
            // Not trimmed: a password may well end in a space.
            password: std::env::var(PASSWORD_VAR)
                .ok()
                .filter(|v| !v.is_empty())
                .map(Secret::new),
        }
    }
}

/// Everything a send needs, checked: config file, then `GL_EVIDENCE_SMTP_URL`, then the single
/// variables, each overriding what came before.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, Secret)>,
    pub from: Mailbox,
    pub subject: String,
    pub attach: Vec<Format>,
    pub timeout: Duration,
    pub ca_file: Option<PathBuf>,
}

impl SmtpSettings {
    pub fn resolve(config: &EmailConfig, env: &EmailEnv) -> Result<SmtpSettings, EmailError> {
        let mut host = config.host.clone();
        let mut port = config.port;
        let mut security = config.security;
        let mut username = config.username.clone();
        let mut from = config.from.clone();

        if let Some(text) = &env.url {
            let url = parse_smtp_url(text).map_err(|message| EmailError::Env {
                var: "GL_EVIDENCE_SMTP_URL",
                message,
            })?;
            host = Some(url.host);
            security = url.security;
            port = url.port;
            if url.username.is_some() {
                username = url.username;
            }
        }
        if let Some(value) = &env.host {
            check_host(value).map_err(|message| EmailError::Env {
                var: "GL_EVIDENCE_SMTP_HOST",
                message,
            })?;
            host = Some(value.trim().to_string());
        }
        if let Some(value) = &env.port {
            port = Some(
                value
                    .trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| EmailError::Env {
                        var: "GL_EVIDENCE_SMTP_PORT",
                        message: format!("{value:?} is not a port: use e.g. 587"),
                    })?,
            );
        }
        if let Some(value) = &env.security {
            security = Security::parse(value).ok_or_else(|| EmailError::Env {
                var: "GL_EVIDENCE_SMTP_SECURITY",
                message: format!("{value:?} is not one of starttls, tls or none"),
            })?;
        }
        if let Some(value) = &env.username {
            username = Some(value.trim().to_string());
        }
        if let Some(value) = &env.from {
            from = Some(value.clone());
        }

        let host = host.ok_or(EmailError::NoHost)?;
        let from = match from {
            Some(text) => parse_from(&text).map_err(|message| EmailError::Setting {
                key: "email.from (or GL_EVIDENCE_EMAIL_FROM)",
                message,
            })?,
            None => return Err(EmailError::NoFrom),
        };
        let credentials = match (username, &env.password) {
            (Some(user), Some(password)) => Some((user, password.clone())),
            (Some(user), None) => return Err(EmailError::NoPassword { user }),
            (None, Some(_)) => return Err(EmailError::PasswordWithoutUser),
            (None, None) => None,
        };
        if security == Security::None && credentials.is_some() {
            return Err(EmailError::CredentialsInTheClear);
        }
        Ok(SmtpSettings {
            port: port.unwrap_or(security.default_port()),
            host,
            security,
            credentials,
            from,
            subject: config.subject.clone(),
            attach: config.attach_formats(),
            timeout: Duration::from_secs(config.timeout_secs),
            ca_file: config.ca_file.clone(),
        })
    }

    /// `host:port (security)`, for messages.
    pub fn server(&self) -> String {
        format!("{}:{} ({})", self.host, self.port, self.security)
    }

    /// Whether the server is on this machine, where an unencrypted connection stays local.
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self
                .host
                .trim_matches(|c| c == '[' || c == ']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// What `GL_EVIDENCE_SMTP_URL` says.
#[derive(Debug, PartialEq)]
struct SmtpUrl {
    host: String,
    port: Option<u16>,
    security: Security,
    username: Option<String>,
}

fn parse_smtp_url(text: &str) -> Result<SmtpUrl, String> {
    let url = Url::parse(text.trim()).map_err(|e| {
        format!("{text:?} is not a URL ({e}): use e.g. smtp+starttls://user@smtp.example.com:587")
    })?;
    let security = match url.scheme() {
        "smtp+starttls" => Security::Starttls,
        "smtps" => Security::Tls,
        "smtp" => Security::None,
        other => {
            return Err(format!(
                "unknown scheme {other:?}: use smtp+starttls:// (STARTTLS), smtps:// (TLS) or smtp:// (no encryption)"
            ))
        }
    };
    if url.password().is_some() {
        return Err(format!(
            "must not contain a password: set {PASSWORD_VAR} instead"
        ));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| "has no host".to_string())?
        .to_string();
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err("must be only scheme, user, host and port".into());
    }
    let username = match url.username() {
        "" => None,
        user => Some(
            percent_decode(user).ok_or_else(|| "the user name is not valid UTF-8".to_string())?,
        ),
    };
    Ok(SmtpUrl {
        host,
        port: url.port(),
        security,
        username,
    })
}

/// `user%40example.com` → `user@example.com`.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn check_host(host: &str) -> Result<(), String> {
    let host = host.trim();
    if host.is_empty() {
        return Err("is empty: name the SMTP server, e.g. \"smtp.example.com\"".into());
    }
    if host.contains("://") {
        return Err(format!(
            "{host:?} is a URL: give the host name only (and port and security separately), or set GL_EVIDENCE_SMTP_URL"
        ));
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '@'))
    {
        return Err(format!(
            "{host:?} is not a host name: use e.g. \"smtp.example.com\""
        ));
    }
    Ok(())
}

fn parse_from(text: &str) -> Result<Mailbox, String> {
    text.trim().parse::<Mailbox>().map_err(|e| {
        format!("{text:?} is not an email address ({e}): use e.g. \"gl-evidence <reports@example.com>\"")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> EmailEnv {
        EmailEnv::default()
    }

    fn config() -> EmailConfig {
        EmailConfig {
            host: Some("smtp.example.com".into()),
            from: Some("gl-evidence <reports@example.com>".into()),
            ..EmailConfig::default()
        }
    }

    #[test]
    fn the_default_needs_a_host_and_a_sender() {
        assert!(EmailConfig::default().validate().is_ok());
        assert!(matches!(
            SmtpSettings::resolve(&EmailConfig::default(), &env()),
            Err(EmailError::NoHost)
        ));
        let no_from = EmailConfig {
            from: None,
            ..config()
        };
        assert!(matches!(
            SmtpSettings::resolve(&no_from, &env()),
            Err(EmailError::NoFrom)
        ));
    }

    #[test]
    fn ports_follow_the_security_unless_given() {
        let s = SmtpSettings::resolve(&config(), &env()).unwrap();
        assert_eq!((s.port, s.security), (587, Security::Starttls));
        let tls = EmailConfig {
            security: Security::Tls,
            ..config()
        };
        assert_eq!(SmtpSettings::resolve(&tls, &env()).unwrap().port, 465);
        let explicit = EmailConfig {
            port: Some(2525),
            ..tls
        };
        assert_eq!(SmtpSettings::resolve(&explicit, &env()).unwrap().port, 2525);
    }

    #[test]
    fn the_environment_overrides_the_file_and_single_variables_override_the_url() {
        let e = EmailEnv {
            url: Some("smtps://ci%40example.com@mail.example.org:2465".into()),
            from: Some("CI <ci@example.com>".into()),
            password: Some(Secret::new("pw".into())),
            ..env()
        };
        let s = SmtpSettings::resolve(&config(), &e).unwrap();
        assert_eq!(s.host, "mail.example.org");
        assert_eq!((s.port, s.security), (2465, Security::Tls));
        assert_eq!(s.credentials.as_ref().unwrap().0, "ci@example.com");
        assert_eq!(s.from.email.to_string(), "ci@example.com");
        let e = EmailEnv {
            host: Some("other.example.org".into()),
            port: Some("25".into()),
            security: Some("STARTTLS".into()),
            username: Some("bot".into()),
            ..e
        };
        let s = SmtpSettings::resolve(&config(), &e).unwrap();
        assert_eq!(s.server(), "other.example.org:25 (STARTTLS)");
        assert_eq!(s.credentials.as_ref().unwrap().0, "bot");
    }

    #[test]
    fn the_url_never_carries_the_password_and_names_its_scheme() {
        for (url, wanted) in [
            ("smtps://u:secret@h", PASSWORD_VAR),
            ("http://h", "unknown scheme"),
            ("smtp+starttls://h/path", "only scheme"),
            ("not a url", "is not a URL"),
        ] {
            let e = EmailEnv {
                url: Some(url.into()),
                ..env()
            };
            let err = SmtpSettings::resolve(&config(), &e)
                .unwrap_err()
                .to_string();
            assert!(err.contains("GL_EVIDENCE_SMTP_URL"), "{err}");
            assert!(err.contains(wanted), "{url}: {err}");
            assert!(!err.contains("secret"), "{err}");
        }
        // An address as the user name, with its @ escaped or not.
        for url in [
            "smtp+starttls://reports%40example.com@smtp.example.com:587",
            "smtp+starttls://reports@example.com@smtp.example.com:587",
        ] {
            let parsed = parse_smtp_url(url).unwrap();
            assert_eq!(
                parsed.username.as_deref(),
                Some("reports@example.com"),
                "{url}"
            );
            assert_eq!(parsed.host, "smtp.example.com", "{url}");
        }
        let plain = parse_smtp_url("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            plain,
            SmtpUrl {
                host: "127.0.0.1".into(),
                port: Some(2525),
                security: Security::None,
                username: None
            }
        );
    }

    #[test]
    fn credentials_need_both_halves_and_encryption() {
        let with_user = EmailConfig {
            username: Some("bot".into()),
            ..config()
        };
        let err = SmtpSettings::resolve(&with_user, &env()).unwrap_err();
        assert!(err.to_string().contains(PASSWORD_VAR), "{err}");
        let password_only = EmailEnv {
            password: Some(Secret::new("pw".into())),
            ..env()
        };
        let err = SmtpSettings::resolve(&config(), &password_only).unwrap_err();
        assert!(err.to_string().contains("username"), "{err}");
        let clear = EmailConfig {
            security: Security::None,
            ..with_user
        };
        let err = SmtpSettings::resolve(&clear, &password_only).unwrap_err();
        assert!(matches!(err, EmailError::CredentialsInTheClear), "{err}");
    }

    #[test]
    fn bad_values_name_their_key_or_variable() {
        for (bad, key) in [
            (
                EmailConfig {
                    host: Some("smtp://x".into()),
                    ..config()
                },
                "email.host",
            ),
            (
                EmailConfig {
                    from: Some("not an address".into()),
                    ..config()
                },
                "email.from",
            ),
            (
                EmailConfig {
                    subject: "{{#if}}".into(),
                    ..config()
                },
                "email.subject",
            ),
            (
                EmailConfig {
                    subject: "{{subjet}}".into(),
                    ..config()
                },
                "email.subject",
            ),
            (
                EmailConfig {
                    attach: vec!["pdf".into()],
                    ..config()
                },
                "email.attach",
            ),
            (
                EmailConfig {
                    port: Some(0),
                    ..config()
                },
                "email.port",
            ),
        ] {
            let (got, message) = bad.validate().unwrap_err();
            assert_eq!(got, key, "{message}");
        }
        let e = EmailEnv {
            port: Some("lots".into()),
            ..env()
        };
        let err = SmtpSettings::resolve(&config(), &e)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("GL_EVIDENCE_SMTP_PORT") && err.contains("lots"),
            "{err}"
        );
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let e = EmailEnv {
            username: Some("bot".into()),
            password: Some(Secret::new("hunter2".into())),
            ..env()
        };
        let s = SmtpSettings::resolve(&config(), &e).unwrap();
        assert!(!format!("{e:?}{s:?}").contains("hunter2"));
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for (host, local) in [
            ("127.0.0.1", true),
            ("localhost", true),
            ("[::1]", true),
            ("smtp.example.com", false),
            ("10.0.0.1", false),
        ] {
            let s = SmtpSettings::resolve(
                &EmailConfig {
                    host: Some(host.into()),
                    ..config()
                },
                &env(),
            )
            .unwrap();
            assert_eq!(s.is_loopback(), local, "{host}");
        }
    }
}
