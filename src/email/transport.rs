//! The SMTP conversation, through lettre on a small tokio runtime of its own (as the harvest
//! has): STARTTLS (required, never optional), TLS from the first byte, or — only when chosen —
//! no encryption. Failures become [`EmailError::Smtp`] with the server's own words and a hint.

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::settings::{Security, SmtpSettings};
use super::EmailError;

/// Sends one message; returns once the server has accepted it.
pub fn send(settings: &SmtpSettings, message: Message) -> Result<(), EmailError> {
    let transport = transport(settings)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| EmailError::Build {
            message: format!("cannot start the async runtime: {e}"),
        })?;
    runtime
        .block_on(transport.send(message))
        .map(|_| ())
        .map_err(|e| describe(settings, &e))
}

/// Reads `ca_file` and sets up TLS without connecting, so a bad file is reported before any
/// harvest rather than after.
pub fn check(settings: &SmtpSettings) -> Result<(), EmailError> {
    match settings.security {
        Security::None => Ok(()),
        Security::Starttls | Security::Tls => tls_parameters(settings).map(|_| ()),
    }
}

fn transport(settings: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, EmailError> {
    let mut builder =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
            .port(settings.port)
            .timeout(Some(settings.timeout));
    builder = match settings.security {
        Security::Starttls => builder.tls(Tls::Required(tls_parameters(settings)?)),
        Security::Tls => builder.tls(Tls::Wrapper(tls_parameters(settings)?)),
        Security::None => builder.tls(Tls::None),
    };
    if let Some((user, password)) = &settings.credentials {
        builder = builder
            .credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    Ok(builder.build())
}

/// The system's trusted certificates (the same verifier reqwest uses), plus `ca_file` for a
/// server whose certificate comes from a private CA.
fn tls_parameters(settings: &SmtpSettings) -> Result<TlsParameters, EmailError> {
    let host = settings.host.trim_matches(|c| c == '[' || c == ']');
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(path) = &settings.ca_file {
        let failed = |message: String| EmailError::CaFile {
            path: path.display().to_string(),
            message,
        };
        let pem = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
        // lettre takes a file with no certificate in it as an empty list; that is a mistake.
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(failed(
                "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            ));
        }
        let certificate = Certificate::from_pem(&pem)
            .map_err(|e| failed(format!("not a PEM certificate: {e}")))?;
        builder = builder.add_root_certificate(certificate);
    }
    builder.build_rustls().map_err(|e| EmailError::Build {
        message: format!("cannot set up TLS: {e}"),
    })
}

/// The error with what the server said and what to check.
fn describe(settings: &SmtpSettings, error: &lettre::transport::smtp::Error) -> EmailError {
    // lettre nests its connection errors: say it once.
    let detail = error
        .to_string()
        .replace("Connection error: Connection error: ", "Connection error: ");
    let lowered = detail.to_lowercase();
    let code = error.status().map(|c| c.to_string());
    let hint = match code.as_deref() {
        Some("530" | "534" | "535" | "538") => format!(
            "the server refused the login: check the username (email.username or GL_EVIDENCE_SMTP_USERNAME) and {}",
            super::settings::PASSWORD_VAR
        ),
        Some("550" | "551" | "552" | "553" | "554" | "501") => {
            "the server refused the sender, a recipient or the message: check --to/--email and email.from (many servers relay only for their own domain or after a login)".to_string()
        }
        Some(c) if c.starts_with('4') => "a temporary failure: try again later".to_string(),
        _ if error.is_timeout() => format!(
            "no answer within {} s: check email.host and email.port, or raise email.timeout_secs",
            settings.timeout.as_secs()
        ),
        _ if detail.contains("STARTTLS") => {
            "the server does not offer STARTTLS: use security = \"tls\" if it expects TLS from the start (port 465); gl-evidence never falls back to sending unencrypted".to_string()
        }
        _ if error.is_tls() || lowered.contains("certificate") || lowered.contains("tls") => {
            "the TLS connection failed: check email.security (starttls for port 587, tls for 465) and, for a server whose certificate comes from a private CA, email.ca_file".to_string()
        }
        _ => "check email.host, email.port and email.security (or GL_EVIDENCE_SMTP_URL), and that the server is reachable from here".to_string(),
    };
    EmailError::Smtp {
        server: settings.server(),
        detail,
        hint,
    }
}
