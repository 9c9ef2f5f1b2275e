//! TLS: a self-managed GitLab behind a certificate from its own CA. The fake GitLab is served
//! over TLS by a small proxy on loopback (rustls, with a CA that rcgen makes per test): without
//! `--ca-cert` the harvest fails at once with a certificate error that names the fix; with it
//! (or `network.ca_cert`) the harvest is the same as over plain HTTP. Nothing turns
//! verification off.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;

use crate::fake_gitlab::{FakeGitlab, Faults, TOKEN};
use crate::scenario;
use crate::support::*;

/// A certificate authority of a test's own.
struct Ca {
    key: KeyPair,
    cert: rcgen::Certificate,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).expect("CA certificate");
        Ca { key, cert }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A server configuration with a certificate for `names`, signed by this CA.
    fn server(&self, names: &[&str]) -> Arc<ServerConfig> {
        let key = KeyPair::generate().expect("server key");
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "gitlab.test");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("server certificate");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .expect("server TLS config");
        Arc::new(config)
    }
}

/// TLS on loopback in front of a plain-HTTP upstream (the fake GitLab): each connection is
/// decrypted and its bytes passed on, both ways. Stops with the test.
struct TlsProxy {
    url: String,
    /// Connections whose TLS handshake succeeded.
    handshakes: Arc<AtomicUsize>,
    /// Connections whose handshake failed (the client refused the certificate).
    refused: Arc<AtomicUsize>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TlsProxy {
    fn start(upstream: &str, config: Arc<ServerConfig>) -> TlsProxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("the fake listens on an IP address and port");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("address").port();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let refused = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ok, failed) = (Arc::clone(&handshakes), Arc::clone(&refused));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let acceptor = tokio_rustls::TlsAcceptor::from(config);
                let serve = async {
                    loop {
                        let Ok((client, _)) = listener.accept().await else {
                            continue;
                        };
                        let (acceptor, ok, failed) =
                            (acceptor.clone(), Arc::clone(&ok), Arc::clone(&failed));
                        tokio::spawn(async move {
                            let Ok(mut tls) = acceptor.accept(client).await else {
                                failed.fetch_add(1, Ordering::SeqCst);
                                return;
                            };
                            ok.fetch_add(1, Ordering::SeqCst);
                            if let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await {
                                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                            }
                        });
                    }
                };
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
            runtime.shutdown_timeout(Duration::from_millis(100));
        });
        TlsProxy {
            // The certificate names localhost; the client must check it against this name.
            url: format!("https://localhost:{port}"),
            handshakes,
            refused,
            _stop: stop,
        }
    }
}

fn harvest(env: &TestEnv, url: &str, extra: &[&str]) -> Run {
    run(env
        .gl_at(url, TOKEN)
        .args(extra)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(env.path("snapshot.json")))
}

#[test]
fn a_private_ca_is_refused_without_ca_cert_and_trusted_with_it() {
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let ca = Ca::new("gl-evidence test CA");
    let proxy = TlsProxy::start(&fake.url, ca.server(&["localhost", "127.0.0.1"]));
    let env = TestEnv::new();

    // Not trusted: a clear certificate error at once (no retries), exit 1, nothing written.
    let started = Instant::now();
    let refused = harvest(&env, &proxy.url, &[]);
    refused
        .code(1)
        .stderr_has("TLS certificate is not trusted")
        .stderr_has("signed by a certificate authority this machine does not trust")
        .stderr_has("--ca-cert FILE")
        .stderr_lacks("gave up after");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a certificate error is not worth retrying: took {:?}",
        started.elapsed()
    );
    assert!(
        fake.requests().is_empty(),
        "a request got past the refused certificate"
    );
    // The proxy counts the failed handshake on its own time, after the client has gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    while proxy.refused.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(proxy.refused.load(Ordering::SeqCst) >= 1);
    assert!(!env.path("snapshot.json").exists());

    // Trusted with --ca-cert: the same harvest as over plain HTTP.
    let ca_file = env.write("company-ca.pem", &ca.pem());
    harvest(&env, &proxy.url, &["--ca-cert", ca_file.to_str().unwrap()]).success();
    let snapshot = read_snapshot(&env.path("snapshot.json"));
    assert_sources_complete(&snapshot);
    let (got, want) = (item_keys(&snapshot), scenario::alice_q3());
    assert!(got == want, "{}", diff_keys(&got, &want));
    assert_eq!(snapshot["gitlab_url"], proxy.url.as_str());
    assert!(proxy.handshakes.load(Ordering::SeqCst) >= 1);
}

#[test]
fn the_config_names_a_bundle_of_ca_certificates() {
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let ours = Ca::new("our CA");
    let proxy = TlsProxy::start(&fake.url, ours.server(&["localhost"]));
    let env = TestEnv::new();
    // A bundle: someone else's CA first, ours second.
    let bundle = format!("{}\n{}", Ca::new("another CA").pem(), ours.pem());
    let bundle_path = env.write("bundle.pem", &bundle);
    let config = format!(
        "{FAST_CONFIG}ca_cert = {}\n",
        toml_string(bundle_path.to_str().unwrap())
    );
    std::fs::write(env.config(), config).unwrap();
    harvest(&env, &proxy.url, &[]).success();
    assert_sources_complete(&read_snapshot(&env.path("snapshot.json")));
}

#[test]
fn a_certificate_for_another_host_is_refused_even_from_a_trusted_ca() {
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let ca = Ca::new("our CA");
    let proxy = TlsProxy::start(&fake.url, ca.server(&["gitlab.elsewhere.test"]));
    let env = TestEnv::new();
    let ca_file = env.write("ca.pem", &ca.pem());
    harvest(&env, &proxy.url, &["--ca-cert", ca_file.to_str().unwrap()])
        .code(1)
        .stderr_has("TLS certificate is not trusted")
        .stderr_has("not valid for this host name");
    assert!(fake.requests().is_empty());
}

#[test]
fn an_unusable_ca_file_is_a_usage_error_before_any_request() {
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let env = TestEnv::new();
    let missing = env.path("missing.pem");
    let not_pem = env.write("not-a-cert.pem", "just some text\n");
    let broken = env.write(
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    for (file, problem) in [
        (&missing, "cannot read it"),
        (&not_pem, "holds no PEM certificate"),
        (&broken, "certificate 1 is not a usable X.509 certificate"),
    ] {
        let name = file.file_name().unwrap().to_str().unwrap();
        harvest(&env, &fake.url, &["--ca-cert", file.to_str().unwrap()])
            .code(2)
            .stderr_has(&format!(
                "cannot use the CA certificate file {}",
                file.display()
            ))
            .stderr_has("(--ca-cert)")
            .stderr_has(problem)
            .stderr_has("hint:")
            .stderr_has(name);
    }
    // In the config, the message says so.
    std::fs::write(
        env.config(),
        format!(
            "{FAST_CONFIG}ca_cert = {}\n",
            toml_string(missing.to_str().unwrap())
        ),
    )
    .unwrap();
    harvest(&env, &fake.url, &[])
        .code(2)
        .stderr_has("(network.ca_cert in the config)");
    assert!(
        fake.requests().is_empty(),
        "requests before the CA file was checked"
    );
}

/// No option, setting or variable may switch certificate checks off: the only place that
/// could is reqwest's `danger_accept_invalid_*`, and the sources never mention it.
#[test]
fn nothing_can_turn_verification_off() {
    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 20, "found the sources");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for forbidden in [
            "danger_accept_invalid",
            "dangerous()",
            "NoCertificateVerification",
        ] {
            assert!(
                !text.contains(forbidden),
                "{} mentions {forbidden}",
                file.display()
            );
        }
    }
}

fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
