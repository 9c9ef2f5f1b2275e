//! A real SMTP server on loopback for the email tests.
//!
//! The protocol is mailin's RFC 5321 state machine (EHLO, MAIL, RCPT, DATA with dot-unstuffing,
//! RSET, QUIT, STARTTLS, AUTH PLAIN and LOGIN); this file only carries its lines over TCP, with
//! rustls for STARTTLS or for TLS from the first byte, using a certificate from a CA made per
//! server (the test hands its PEM to gl-evidence as `email.ca_file`). It records each accepted
//! message with its envelope, and can refuse recipients or logins, so the tests see exactly what
//! a mail server would.

#![allow(dead_code)] // Not every test uses every helper.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin::{response, AuthMechanism, Handler, Response, SessionBuilder};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// How clients must protect the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// Plain text; STARTTLS not offered.
    None,
    /// Plain text until STARTTLS, which is offered.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub encryption: Encryption,
    /// When set, AUTH (after TLS) is required, and only this user and password pass.
    pub login: Option<(String, String)>,
    /// Recipients answered with `550 Mailbox unavailable`.
    pub reject_recipients: Vec<String>,
}

impl Options {
    pub fn new(encryption: Encryption) -> Options {
        Options {
            encryption,
            login: None,
            reject_recipients: Vec::new(),
        }
    }

    pub fn login(mut self, user: &str, password: &str) -> Options {
        self.login = Some((user.to_string(), password.to_string()));
        self
    }

    pub fn reject(mut self, recipient: &str) -> Options {
        self.reject_recipients.push(recipient.to_string());
        self
    }
}

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// `MAIL FROM`.
    pub mail_from: String,
    /// `RCPT TO`, in order: the envelope, whatever the headers say.
    pub rcpt_to: Vec<String>,
    /// The message as it arrived after DATA, dot-unstuffed, without the final `.`.
    pub data: Vec<u8>,
    /// The user that logged in, if any.
    pub login: Option<String>,
    /// Whether the message came over TLS.
    pub encrypted: bool,
}

impl Received {
    /// The header block, exactly as received.
    pub fn header_block(&self) -> String {
        let text = String::from_utf8_lossy(&self.data);
        let end = text
            .find("\r\n\r\n")
            .expect("a header block ends in an empty line");
        text[..end].to_string()
    }

    /// Header lines, unfolded (continuation lines joined to their header).
    pub fn header_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for line in self.header_block().split("\r\n") {
            if line.starts_with([' ', '\t']) {
                lines
                    .last_mut()
                    .expect("a continuation follows a header")
                    .push_str(line);
            } else {
                lines.push(line.to_string());
            }
        }
        lines
    }

    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("the message parses")
    }
}

/// A running server; it stops when dropped.
pub struct SmtpServer {
    pub port: u16,
    /// The PEM of the CA that signed the server's certificate.
    pub ca_pem: String,
    received: Arc<Mutex<Vec<Received>>>,
    connections: Arc<Mutex<usize>>,
    stop: Arc<AtomicBool>,
}

impl SmtpServer {
    pub fn start(options: Options) -> SmtpServer {
        let (ca_pem, tls) = certificates();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let server = SmtpServer {
            port,
            ca_pem,
            received: received.clone(),
            connections: connections.clone(),
            stop: stop.clone(),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                *connections.lock().unwrap() += 1;
                let (options, received, tls) = (options.clone(), received.clone(), tls.clone());
                std::thread::spawn(move || {
                    // A client that gives up mid-conversation is the client's test to judge.
                    let _ = serve_connection(stream, &options, received, tls);
                });
            }
        });
        server
    }

    /// The messages accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// How many connections were made.
    pub fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }

    /// The one message accepted.
    pub fn only_message(&self) -> Received {
        let received = self.received();
        assert_eq!(received.len(), 1, "expected one message, got {received:#?}");
        received.into_iter().next().unwrap()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A CA, and a server certificate for 127.0.0.1 and localhost signed by it.
fn certificates() -> (String, Arc<ServerConfig>) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "gl-evidence test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let leaf_key = KeyPair::generate().expect("server key");
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("server params");
    leaf.distinguished_name
        .push(DnType::CommonName, "smtp.test");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf
        .signed_by(&leaf_key, &ca_cert, &ca_key)
        .expect("server certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf_cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .expect("server TLS config");
    (ca_cert.pem(), Arc::new(config))
}

/// Records each transaction; refuses what the options say to refuse.
struct Recorder {
    options: Options,
    received: Arc<Mutex<Vec<Received>>>,
    encrypted: Arc<AtomicBool>,
    login: Option<String>,
    current: Option<Received>,
}

impl Handler for Recorder {
    fn rcpt(&mut self, to: &str) -> Response {
        if self.options.reject_recipients.iter().any(|r| r == to) {
            response::NO_MAILBOX
        } else {
            response::OK
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(Received {
            mail_from: from.to_string(),
            rcpt_to: to.to_vec(),
            data: Vec::new(),
            login: self.login.clone(),
            encrypted: self.encrypted.load(Ordering::SeqCst),
        });
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(current) = &mut self.current {
            current.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(done) = self.current.take() {
            self.received.lock().unwrap().push(done);
        }
        response::OK
    }

    fn auth_plain(&mut self, _authorization: &str, user: &str, password: &str) -> Response {
        self.check_login(user, password)
    }

    fn auth_login(&mut self, user: &str, password: &str) -> Response {
        self.check_login(user, password)
    }
}

impl Recorder {
    fn check_login(&mut self, user: &str, password: &str) -> Response {
        match &self.options.login {
            Some((u, p)) if u == user && p == password => {
                self.login = Some(user.to_string());
                response::AUTH_OK
            }
            _ => response::INVALID_CREDENTIALS,
        }
    }
}

enum Next {
    Closed,
    StartTls,
}

fn serve_connection(
    stream: TcpStream,
    options: &Options,
    received: Arc<Mutex<Vec<Received>>>,
    tls: Arc<ServerConfig>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let peer = stream
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let mut builder = SessionBuilder::new("smtp.test");
    if options.encryption == Encryption::StartTls {
        builder.enable_start_tls();
    }
    if options.login.is_some() {
        builder
            .enable_auth(AuthMechanism::Plain)
            .enable_auth(AuthMechanism::Login);
    }
    let encrypted = Arc::new(AtomicBool::new(false));
    let recorder = Recorder {
        options: options.clone(),
        received,
        encrypted: encrypted.clone(),
        login: None,
        current: None,
    };
    let mut session = builder.build(peer, recorder);
    if options.encryption == Encryption::Tls {
        let connection = ServerConnection::new(tls).map_err(std::io::Error::other)?;
        let mut reader = BufReader::new(StreamOwned::new(connection, stream));
        encrypted.store(true, Ordering::SeqCst);
        session.tls_active();
        write(reader.get_mut(), &session.greeting())?;
        converse(&mut session, &mut reader)?;
        return Ok(());
    }
    let mut reader = BufReader::new(stream);
    write(reader.get_mut(), &session.greeting())?;
    if let Next::StartTls = converse(&mut session, &mut reader)? {
        // The client waits for our 220 before its handshake, so nothing is buffered yet.
        assert!(
            reader.buffer().is_empty(),
            "bytes sent before the TLS handshake"
        );
        let connection = ServerConnection::new(tls).map_err(std::io::Error::other)?;
        let mut reader = BufReader::new(StreamOwned::new(connection, reader.into_inner()));
        encrypted.store(true, Ordering::SeqCst);
        session.tls_active();
        converse(&mut session, &mut reader)?;
    }
    Ok(())
}

/// Feeds the client's lines to the session and writes its answers, until QUIT, STARTTLS or
/// the end of the connection.
fn converse<S: Read + Write>(
    session: &mut mailin::Session<Recorder>,
    reader: &mut BufReader<S>,
) -> std::io::Result<Next> {
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(Next::Closed);
        }
        let answer = session.process(&line);
        match answer.action {
            mailin::Action::Reply => write(reader.get_mut(), &answer)?,
            mailin::Action::Close => {
                write(reader.get_mut(), &answer)?;
                return Ok(Next::Closed);
            }
            mailin::Action::UpgradeTls => {
                write(reader.get_mut(), &answer)?;
                return Ok(Next::StartTls);
            }
            mailin::Action::NoReply => {}
        }
    }
}

fn write<W: Write>(out: &mut W, answer: &Response) -> std::io::Result<()> {
    answer.write_to(out)?;
    out.flush()
}
