//! Running the built `gl-evidence` binary in a sealed environment, and reading what it wrote.
//!
//! Every test gets a fresh temporary directory as `HOME`, `XDG_CONFIG_HOME`, `XDG_CACHE_HOME`
//! and working directory, so no user config or cache is read and nothing leaks between tests
//! (runs of one test share its cache, as a user's runs would); GitLab-related
//! variables from the developer's shell or CI are removed. A small config file makes retries
//! fast.

#![allow(dead_code)] // Not every test uses every helper.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

use crate::fake_gitlab::{FakeGitlab, TOKEN};

/// Retries that take milliseconds, so failure paths stay fast.
pub const FAST_CONFIG: &str = "\
[network]
retry_base_ms = 10
max_retries = 4
timeout_secs = 5
";

/// Variables that would point the binary somewhere other than the test's fake.
const SCRUBBED: [&str; 15] = [
    "GITLAB_URL",
    "GITLAB_TOKEN",
    "CI_SERVER_URL",
    "CI_API_V4_URL",
    "GL_EVIDENCE_TOKEN",
    "GL_EVIDENCE_SMTP_URL",
    "GL_EVIDENCE_SMTP_HOST",
    "GL_EVIDENCE_SMTP_PORT",
    "GL_EVIDENCE_SMTP_SECURITY",
    "GL_EVIDENCE_SMTP_USERNAME",
    "GL_EVIDENCE_SMTP_PASSWORD",
    "GL_EVIDENCE_EMAIL_FROM",
    "GL_EVIDENCE_CONFIG",
    "RUST_LOG",
    "CLICOLOR_FORCE",
];

/// A temporary home for one test.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::Builder::new()
            .prefix("gl-evidence-test-")
            .tempdir()
            .expect("temporary directory");
        for sub in ["home", "xdg", "cache"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("create dir");
        }
        std::fs::write(dir.path().join("config.toml"), FAST_CONFIG).expect("write config");
        TestEnv { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Where gl-evidence keeps its cache in this test.
    pub fn cache_dir(&self) -> PathBuf {
        self.path("cache").join("gl-evidence")
    }

    /// The fast-retry config file.
    pub fn config(&self) -> PathBuf {
        self.path("config.toml")
    }

    /// Writes a file in the test directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }

    /// The binary with a sealed environment and no GitLab URL or token.
    pub fn command(&self) -> Command {
        let mut cmd = Command::cargo_bin("gl-evidence").expect("the gl-evidence binary is built");
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("xdg"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path())
            .timeout(Duration::from_secs(60));
        cmd
    }

    /// The same sealed environment as [`TestEnv::command`], as a plain `std::process::Command`
    /// (for driving the binary in a pseudo-terminal).
    pub fn std_command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gl-evidence"));
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        cmd.env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("xdg"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path());
        cmd
    }

    /// The binary pointed at `fake` with the right token, the fast config and no progress bars;
    /// append the subcommand and its arguments.
    pub fn gl(&self, fake: &FakeGitlab) -> Command {
        self.gl_at(&fake.url, TOKEN)
    }

    pub fn gl_at(&self, url: &str, token: &str) -> Command {
        let mut cmd = self.command();
        cmd.env("GITLAB_URL", url)
            .env("GITLAB_TOKEN", token)
            .arg("--config")
            .arg(self.config())
            .arg("--no-progress");
        cmd
    }
}

/// What one run of the binary did.
pub struct Run {
    pub what: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to completion (it must not hang: the timeout kills it).
pub fn run(cmd: &mut Command) -> Run {
    let what = format!("{cmd:?}");
    let output = cmd.output().expect("run gl-evidence");
    Run {
        what,
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl Run {
    fn context(&self) -> String {
        format!(
            "command: {}\nexit code: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what,
            self.code,
            truncate(&self.stdout, 4000),
            truncate(&self.stderr, 4000)
        )
    }

    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "expected exit code {expected}\n{}",
            self.context()
        );
        self
    }

    pub fn success(&self) -> &Self {
        self.code(0)
    }

    pub fn code_in(&self, expected: &[i32]) -> &Self {
        assert!(
            self.code.is_some_and(|c| expected.contains(&c)),
            "expected an exit code in {expected:?}\n{}",
            self.context()
        );
        self
    }

    pub fn stderr_has(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr should contain {text:?}\n{}",
            self.context()
        );
        self
    }

    /// Case-insensitive.
    pub fn stderr_mentions(&self, text: &str) -> &Self {
        assert!(
            self.stderr.to_lowercase().contains(&text.to_lowercase()),
            "stderr should mention {text:?} (any case)\n{}",
            self.context()
        );
        self
    }

    pub fn stderr_lacks(&self, text: &str) -> &Self {
        assert!(
            !self.stderr.contains(text),
            "stderr must not contain {text:?}\n{}",
            self.context()
        );
        self
    }

    pub fn stdout_has(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout should contain {text:?}\n{}",
            self.context()
        );
        self
    }

    pub fn stdout_json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", self.context()))
    }
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

pub fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn read_json(path: &Path) -> Value {
    let text = read_text(path);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "{} is not JSON: {e}\n{}",
            path.display(),
            truncate(&text, 2000)
        )
    })
}

/// A snapshot file, checked for the envelope every snapshot has.
pub fn read_snapshot(path: &Path) -> Value {
    let snapshot = read_json(path);
    check_envelope(&snapshot);
    snapshot
}

pub fn check_envelope(snapshot: &Value) {
    assert_eq!(
        snapshot["format"], "gl-evidence/snapshot",
        "format of {snapshot:#}"
    );
    assert_eq!(snapshot["version"], 1, "version");
    for key in [
        "generated_at",
        "gitlab_url",
        "period",
        "subjects",
        "sources",
        "items",
    ] {
        assert!(snapshot.get(key).is_some(), "snapshot lacks `{key}`");
    }
}

pub fn items(snapshot: &Value) -> &Vec<Value> {
    snapshot["items"].as_array().expect("items is an array")
}

pub fn sources(snapshot: &Value) -> &Vec<Value> {
    snapshot["sources"].as_array().expect("sources is an array")
}

/// Every source completed, except on-call shifts, which are skipped (and say why) when no
/// on-call project is configured, as in most scenarios.
pub fn assert_sources_complete(snapshot: &Value) {
    for source in sources(snapshot) {
        if source["name"] == "oncall_shifts" {
            assert_eq!(source["status"], "skipped", "{source:#}");
            assert_eq!(
                source["detail"], "no on-call projects configured: set harvest.oncall_projects",
                "{source:#}"
            );
            assert_eq!(source["requests"], 0, "{source:#}");
        } else {
            assert_eq!(source["status"], "ok", "{source:#}");
        }
    }
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or("").to_string()
}

/// `(subject, kind, role, title)` of every item, for comparing whole harvests at once.
pub fn item_keys(snapshot: &Value) -> BTreeSet<(String, String, String, String)> {
    let keys: Vec<_> = items(snapshot)
        .iter()
        .map(|i| {
            (
                text(i, "subject"),
                text(i, "kind"),
                text(i, "role"),
                text(i, "title"),
            )
        })
        .collect();
    let set: BTreeSet<_> = keys.iter().cloned().collect();
    assert_eq!(
        set.len(),
        keys.len(),
        "an item appears twice (same subject, kind, role and title): {keys:#?}"
    );
    set
}

/// The one item with this subject, kind and title.
pub fn item<'s>(snapshot: &'s Value, subject: &str, kind: &str, title: &str) -> &'s Value {
    let found: Vec<&Value> = items(snapshot)
        .iter()
        .filter(|i| i["subject"] == subject && i["kind"] == kind && i["title"] == title)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {kind} item {title:?} for {subject}, found {found:#?}"
    );
    found[0]
}

/// Builds an expected key set from `(kind, role, title)` triples for one subject.
pub fn keys_for(
    subject: &str,
    triples: &[(&str, &str, &str)],
) -> BTreeSet<(String, String, String, String)> {
    triples
        .iter()
        .map(|(k, r, t)| {
            (
                subject.to_string(),
                k.to_string(),
                r.to_string(),
                t.to_string(),
            )
        })
        .collect()
}

/// Pretty difference between two key sets, for failure messages.
pub fn diff_keys(
    got: &BTreeSet<(String, String, String, String)>,
    want: &BTreeSet<(String, String, String, String)>,
) -> String {
    let missing: Vec<_> = want.difference(got).collect();
    let unexpected: Vec<_> = got.difference(want).collect();
    format!("missing: {missing:#?}\nunexpected: {unexpected:#?}")
}

/// A local port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}
