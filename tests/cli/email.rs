//! Email, end to end: `brag --email`, `team --email` and `send` deliver to a real SMTP server on
//! loopback (`smtp_server`), over STARTTLS, TLS or — chosen explicitly — plain text, and the
//! tests read what arrived: envelope, headers, both parts, attachments. Failures (a refused
//! recipient or login, nothing listening, no STARTTLS, an unknown certificate) exit 1 with the
//! server's words and never the password; bad addresses and settings exit 2 before any harvest.

use crate::fake_gitlab::{FakeGitlab, Faults};
use crate::scenario::{self, RETRY_BUDGET};
use crate::smtp_server::{Encryption, Options, Received, SmtpServer};
use crate::support::*;

const USER: &str = "reports@example.com";
const PASSWORD: &str = "pw-Zq7-never-shown";
const FROM: &str = "gl-evidence <reports@example.com>";

/// Writes the fast config plus an `[email]` section for `server`, trusting its CA.
fn configure(env: &TestEnv, server: &SmtpServer, security: &str, login: bool) {
    let ca = env.write("smtp-ca.pem", &server.ca_pem);
    let username = if login {
        format!("username = \"{USER}\"\n")
    } else {
        String::new()
    };
    env.write(
        "config.toml",
        &format!(
            "{FAST_CONFIG}\n[email]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"{security}\"\n{username}from = \"{FROM}\"\ntimeout_secs = 10\nca_file = \"{}\"\n",
            server.port,
            ca.display()
        ),
    );
}

/// A server with STARTTLS and a login, and a config that uses both.
fn starttls_server(env: &TestEnv) -> SmtpServer {
    let server = SmtpServer::start(Options::new(Encryption::StartTls).login(USER, PASSWORD));
    configure(env, &server, "starttls", true);
    server
}

/// `gl-evidence` against `fake`, with the SMTP password in the environment.
fn gl(env: &TestEnv, fake: &FakeGitlab) -> assert_cmd::Command {
    let mut cmd = env.gl(fake);
    cmd.env("GL_EVIDENCE_SMTP_PASSWORD", PASSWORD);
    cmd
}

/// `gl-evidence` with no GitLab at all, for `send`.
fn offline(env: &TestEnv) -> assert_cmd::Command {
    let mut cmd = env.command();
    cmd.arg("--config").arg(env.config());
    cmd
}

/// `offline`, with the SMTP password in the environment.
fn offline_login(env: &TestEnv) -> assert_cmd::Command {
    let mut cmd = offline(env);
    cmd.env("GL_EVIDENCE_SMTP_PASSWORD", PASSWORD);
    cmd
}

/// Line endings as written to disk, whatever the mail transfer did to them.
fn lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// What a reader of the message sees.
struct Arrived {
    subject: String,
    text: String,
    html: Option<String>,
    /// `(file name, MIME type, contents)`.
    attachments: Vec<(String, String, Vec<u8>)>,
}

fn open(message: &Received) -> Arrived {
    use mail_parser::MimeHeaders;
    let parsed = message.parsed();
    let html = parsed
        .html_part(0)
        .filter(|p| p.is_text_html())
        .and_then(|p| p.text_contents())
        .map(lf);
    let text = parsed
        .text_part(0)
        .filter(|p| !p.is_text_html())
        .and_then(|p| p.text_contents())
        .map(lf)
        .expect("a text/plain part");
    let attachments = parsed
        .attachments()
        .map(|a| {
            let ct = a.content_type().expect("attachments have a type");
            (
                a.attachment_name()
                    .expect("attachments have a name")
                    .to_string(),
                format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")),
                a.contents().to_vec(),
            )
        })
        .collect();
    Arrived {
        subject: parsed.subject().expect("a subject").to_string(),
        text,
        html,
        attachments,
    }
}

impl Arrived {
    fn attachment(&self, name: &str) -> String {
        let found = self
            .attachments
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no attachment {name}: {:?}", self.names()));
        lf(&String::from_utf8(found.2.clone()).expect("a text attachment"))
    }

    fn names(&self) -> Vec<&str> {
        self.attachments
            .iter()
            .map(|(n, _, _)| n.as_str())
            .collect()
    }
}

#[test]
fn brag_email_arrives_with_both_parts_and_the_attachments() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let server = starttls_server(&env);
    let out = env.path("brag.html");
    let run = run(gl(&env, &fake)
        .args([
            "brag",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--format",
            "html",
        ])
        .arg("--out")
        .arg(&out)
        .args([
            "--email",
            "alice@example.com",
            "--email",
            "Manager <boss@example.com>",
        ]));
    run.success()
        .stderr_has(
            "sent \"Evidence for Alice Liddell — 2026Q3\" to alice@example.com, boss@example.com",
        )
        .stderr_lacks(PASSWORD);

    let message = server.only_message();
    println!(
        "--- headers of the message the test SMTP server received ---\n{}\n---",
        message.header_block()
    );
    assert_eq!(message.mail_from, "reports@example.com");
    assert_eq!(message.rcpt_to, ["alice@example.com", "boss@example.com"]);
    assert_eq!(message.login.as_deref(), Some(USER));
    assert!(message.encrypted, "STARTTLS was used");

    let mail = open(&message);
    assert_eq!(mail.subject, "Evidence for Alice Liddell — 2026Q3");
    // The text part is the Markdown report, the HTML part the HTML report written to --out.
    assert!(
        mail.text
            .starts_with("# Evidence: Alice Liddell (@alice), 2026Q3"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains(RETRY_BUDGET), "{}", mail.text);
    assert_eq!(mail.html.as_deref(), Some(read_text(&out).as_str()));
    assert_eq!(
        mail.names(),
        [
            "brag-alice-2026Q3.md",
            "brag-alice-2026Q3.json",
            "brag-alice-2026Q3.html"
        ]
    );
    assert_eq!(mail.attachment("brag-alice-2026Q3.md"), mail.text);
    assert_eq!(mail.attachment("brag-alice-2026Q3.html"), read_text(&out));
    let snapshot: serde_json::Value =
        serde_json::from_str(&mail.attachment("brag-alice-2026Q3.json")).unwrap();
    check_envelope(&snapshot);
    assert!(items(&snapshot)
        .iter()
        .any(|i| i["title"] == RETRY_BUDGET && !i["competencies"].as_array().unwrap().is_empty()));
    let types: Vec<&str> = mail
        .attachments
        .iter()
        .map(|(_, t, _)| t.as_str())
        .collect();
    assert_eq!(types, ["text/markdown", "application/json", "text/html"]);
}

#[test]
fn team_email_names_the_people_and_attaches_the_format_asked_for() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let server = starttls_server(&env);
    let out = env.path("team.csv");
    run(gl(&env, &fake)
        .args([
            "team",
            "--user",
            "alice",
            "--user",
            "bob",
            "--quarter",
            "2026Q3",
        ])
        .args(["--format", "csv", "--out"])
        .arg(&out)
        .args(["--email", "lead@example.com"]))
    .success();
    let mail = open(&server.only_message());
    assert_eq!(
        mail.subject,
        "Evidence for Alice Liddell, Bob Okafor — 2026Q3"
    );
    assert!(
        mail.text.starts_with("# Team evidence, 2026Q3"),
        "{}",
        mail.text
    );
    let html = mail.html.as_deref().expect("an HTML part");
    assert!(
        html.contains("<title>Team evidence, 2026Q3</title>"),
        "{html}"
    );
    assert_eq!(
        mail.names(),
        ["team-2026Q3.md", "team-2026Q3.json", "team-2026Q3.csv"]
    );
    assert_eq!(mail.attachment("team-2026Q3.csv"), lf(&read_text(&out)));
    let overview: serde_json::Value =
        serde_json::from_str(&mail.attachment("team-2026Q3.json")).unwrap();
    assert_eq!(
        overview["people"].as_array().map(Vec::len),
        Some(2),
        "{overview:#}"
    );
}

#[test]
fn a_display_name_from_gitlab_cannot_add_a_header_or_a_recipient() {
    let env = TestEnv::new();
    let mut data = scenario::team();
    let alice = data
        .users
        .iter_mut()
        .find(|u| u.username == "alice")
        .unwrap();
    alice.name = "Alice\r\nBcc: evil@x.example\r\nX-Injected: yes".to_string();
    let fake = FakeGitlab::start(data, Faults::default());
    let server = starttls_server(&env);
    run(gl(&env, &fake)
        .args(["brag", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(env.path("brag.md"))
        .args(["--email", "alice@example.com"]))
    .success();

    let message = server.only_message();
    println!("--- headers ---\n{}\n---", message.header_block());
    assert_eq!(message.rcpt_to, ["alice@example.com"], "no extra recipient");
    let headers = message.header_lines();
    for line in &headers {
        let name = line.split(':').next().unwrap().to_ascii_lowercase();
        assert!(
            !["bcc", "x-injected", "cc"].contains(&name.as_str()),
            "injected header {line:?} in\n{}",
            message.header_block()
        );
    }
    let subject_lines: Vec<&String> = headers
        .iter()
        .filter(|l| l.to_ascii_lowercase().starts_with("subject:"))
        .collect();
    assert_eq!(subject_lines.len(), 1, "{headers:#?}");
    let parsed = message.parsed();
    assert!(parsed.bcc().is_none());
    assert_eq!(parsed.to().map(|t| t.iter().count()), Some(1));
    // The name is still there, on one line, as text.
    assert_eq!(
        parsed.subject(),
        Some("Evidence for Alice Bcc: evil@x.example X-Injected: yes — 2026Q3")
    );
}

#[test]
fn a_partial_harvest_still_sends_the_report_with_its_warning_and_exits_3() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            fail_first_n_with_5xx: usize::MAX,
            targets: vec!["/events".to_string()],
            ..Faults::default()
        },
    );
    let server = starttls_server(&env);
    run(gl(&env, &fake)
        .args(["brag", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(env.path("brag.md"))
        .args(["--email", "alice@example.com"]))
    .code(3)
    .stderr_has("warning: source")
    .stderr_has("sent \"[incomplete] Evidence for Alice Liddell — 2026Q3\"");
    let mail = open(&server.only_message());
    assert_eq!(
        mail.subject,
        "[incomplete] Evidence for Alice Liddell — 2026Q3"
    );
    assert!(
        mail.text
            .contains("**Warning: the harvest was incomplete**"),
        "{}",
        mail.text
    );
    let html = mail.html.unwrap();
    assert!(
        html.contains("Warning: the harvest was incomplete"),
        "{html}"
    );
}

#[test]
fn send_puts_an_html_report_in_the_message_over_implicit_tls() {
    let env = TestEnv::new();
    let server = SmtpServer::start(Options::new(Encryption::Tls).login(USER, PASSWORD));
    configure(&env, &server, "tls", true);
    let html = "<!doctype html>\n<html><head><title>Evidence: O&#x27;Brien &amp; Zoë — 2026Q3</title></head>\n<body><p>Report body</p>\n.\n..leading dots survive\n</body></html>\n";
    let report = env.write("report.html", html);
    let extra = env.write("team.csv", "person,competency\nalice,technical-1\n");
    run(offline_login(&env)
        .arg("send")
        .arg(&report)
        .args(["--to", "zoe@example.com", "--attach"])
        .arg(&extra))
    .success();
    let message = server.only_message();
    assert!(message.encrypted);
    assert_eq!(message.login.as_deref(), Some(USER));
    let mail = open(&message);
    assert_eq!(mail.subject, "Evidence: O'Brien & Zoë — 2026Q3");
    assert_eq!(mail.html.as_deref(), Some(html));
    assert!(mail.text.contains("report.html"), "{}", mail.text);
    assert_eq!(mail.names(), ["report.html", "team.csv"]);
    assert_eq!(mail.attachment("report.html"), html);
    assert_eq!(
        mail.attachment("team.csv"),
        "person,competency\nalice,technical-1\n"
    );
}

#[test]
fn send_a_markdown_report_through_a_plain_loopback_relay_set_by_the_environment() {
    let env = TestEnv::new();
    let server = SmtpServer::start(Options::new(Encryption::None));
    let markdown = "# Evidence: Alice\n\nMerged *things*.\n";
    let report = env.write("brag.md", markdown);
    run(env
        .command()
        .env(
            "GL_EVIDENCE_SMTP_URL",
            format!("smtp://127.0.0.1:{}", server.port),
        )
        .env("GL_EVIDENCE_EMAIL_FROM", "CI <ci@example.com>")
        .arg("send")
        .arg(&report)
        .args([
            "--to",
            "alice@example.com",
            "--subject",
            "Your draft: {{file}}",
        ]))
    .success()
    .stderr_has("127.0.0.1");
    let message = server.only_message();
    assert_eq!(message.mail_from, "ci@example.com");
    assert!(!message.encrypted && message.login.is_none());
    let mail = open(&message);
    assert_eq!(mail.subject, "Your draft: brag.md");
    assert_eq!(mail.text, markdown);
    assert!(mail.html.is_none(), "a Markdown file has no HTML part");
    assert_eq!(mail.names(), ["brag.md"]);
}

#[test]
fn a_refused_recipient_exits_1_with_the_server_answer_and_no_password() {
    let env = TestEnv::new();
    let server = SmtpServer::start(
        Options::new(Encryption::StartTls)
            .login(USER, PASSWORD)
            .reject("nobody@example.com"),
    );
    configure(&env, &server, "starttls", true);
    let report = env.write("brag.md", "# Evidence\n");
    run(offline_login(&env)
        .arg("send")
        .arg(&report)
        .args(["--to", "nobody@example.com"]))
    .code(1)
    .stderr_has(&format!(
        "cannot send the email through 127.0.0.1:{} (STARTTLS)",
        server.port
    ))
    .stderr_has("550")
    .stderr_has("Mailbox unavailable")
    .stderr_lacks(PASSWORD);
    assert!(server.received().is_empty());
}

#[test]
fn a_wrong_password_is_refused_and_never_printed() {
    let env = TestEnv::new();
    let server = starttls_server(&env);
    let report = env.write("brag.md", "# Evidence\n");
    let wrong = "wrong-pw-Kx9";
    let run = run(env
        .command()
        .env("GL_EVIDENCE_SMTP_PASSWORD", wrong)
        .arg("--config")
        .arg(env.config())
        .arg("-vv")
        .arg("send")
        .arg(&report)
        .args(["--to", "alice@example.com"]));
    run.code(1)
        .stderr_has("535")
        .stderr_has("GL_EVIDENCE_SMTP_PASSWORD")
        .stderr_lacks(wrong);
    assert!(!run.stdout.contains(wrong));
    assert!(server.received().is_empty());
}

#[test]
fn nothing_listening_exits_1_naming_the_server() {
    let env = TestEnv::new();
    let port = closed_port();
    env.write(
        "config.toml",
        &format!("{FAST_CONFIG}\n[email]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"{FROM}\"\n"),
    );
    let report = env.write("brag.md", "# Evidence\n");
    run(offline(&env)
        .arg("send")
        .arg(&report)
        .args(["--to", "alice@example.com"]))
    .code(1)
    .stderr_has(&format!("127.0.0.1:{port}"))
    .stderr_mentions("connection refused");
}

#[test]
fn starttls_is_required_not_optional() {
    let env = TestEnv::new();
    // A server that does not offer STARTTLS, and a config that asks for it.
    let server = SmtpServer::start(Options::new(Encryption::None));
    configure(&env, &server, "starttls", false);
    let report = env.write("brag.md", "# Evidence\n");
    run(offline(&env)
        .arg("send")
        .arg(&report)
        .args(["--to", "alice@example.com"]))
    .code(1)
    .stderr_has("STARTTLS is not supported")
    .stderr_has("never falls back");
    assert!(server.received().is_empty(), "nothing sent in the clear");
}

#[test]
fn an_unknown_certificate_is_refused() {
    let env = TestEnv::new();
    let server = SmtpServer::start(Options::new(Encryption::Tls));
    // No ca_file: the test CA is not trusted.
    env.write(
        "config.toml",
        &format!("{FAST_CONFIG}\n[email]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\nfrom = \"{FROM}\"\n", server.port),
    );
    let report = env.write("brag.md", "# Evidence\n");
    run(offline(&env)
        .arg("send")
        .arg(&report)
        .args(["--to", "alice@example.com"]))
    .code(1)
    // UnknownIssuer here; on a machine with no CA store at all, rustls says no certificates.
    .stderr_mentions("certificate")
    .stderr_has("email.ca_file");
    assert!(server.received().is_empty());
}

#[test]
fn an_invalid_address_is_a_usage_error_before_any_harvest() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let server = starttls_server(&env);
    run(gl(&env, &fake)
        .args(["brag", "--user", "alice", "--quarter", "2026Q3"])
        .args([
            "--email",
            "alice@example.com",
            "--email",
            "boss at example.com",
        ]))
    .code(2)
    .stderr_has("invalid email address \"boss at example.com\"")
    .stderr_has("alice@example.com, or");
    assert!(fake.requests().is_empty(), "a usage error reached GitLab");
    assert_eq!(server.connections(), 0);

    let report = env.write("brag.md", "# Evidence\n");
    run(offline_login(&env)
        .arg("send")
        .arg(&report)
        .args(["--to", "alice@example.com\r\nBcc: evil@x.example"]))
    .code(2)
    .stderr_has("invalid email address");
    assert_eq!(server.connections(), 0);
}

#[test]
fn missing_settings_are_explained_before_any_harvest() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    // No [email] section at all.
    run(gl(&env, &fake)
        .args(["brag", "--user", "alice", "--quarter", "2026Q3"])
        .args(["--email", "alice@example.com"]))
    .code(2)
    .stderr_has("GL_EVIDENCE_SMTP_HOST");
    // A user, but no password in the environment.
    let server = starttls_server(&env);
    run(env
        .gl(&fake)
        .args(["team", "--user", "alice", "--quarter", "2026Q3"])
        .args(["--email", "alice@example.com"]))
    .code(2)
    .stderr_has("GL_EVIDENCE_SMTP_PASSWORD");
    assert!(fake.requests().is_empty());
    assert_eq!(server.connections(), 0);
    // A CA file that is not one.
    let not_pem = env.write("not-a-ca.pem", "hello");
    let config = read_text(&env.config()).replace(
        &format!("ca_file = \"{}\"", env.path("smtp-ca.pem").display()),
        &format!("ca_file = \"{}\"", not_pem.display()),
    );
    env.write("config.toml", &config);
    run(gl(&env, &fake)
        .args(["brag", "--user", "alice", "--quarter", "2026Q3"])
        .args(["--email", "alice@example.com"]))
    .code(2)
    .stderr_has("email.ca_file")
    .stderr_has("not-a-ca.pem");
    assert!(fake.requests().is_empty());
    assert_eq!(server.connections(), 0);
    // A password in a flag or the config is not a thing: the config rejects the key.
    let config = format!("{}password = \"x\"\n", read_text(&env.config()));
    env.write("config.toml", &config);
    run(gl(&env, &fake).args(["brag", "--user", "alice", "--quarter", "2026Q3"]))
        .code(2)
        .stderr_has("password");
}

#[test]
fn a_missing_report_file_is_named() {
    let env = TestEnv::new();
    let server = starttls_server(&env);
    let missing = env.path("nope.html");
    run(offline_login(&env)
        .arg("send")
        .arg(&missing)
        .args(["--to", "alice@example.com"]))
    .code(2)
    .stderr_has(&missing.display().to_string());
    assert_eq!(server.connections(), 0);
}
