//! Ctrl-C during a harvest: the run stops promptly, says how much it had collected, writes
//! nothing (the previous outputs stay as they were) and exits 130. The fake GitLab answers
//! slowly, so the signal lands while requests are in flight.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::fake_gitlab::{FakeGitlab, Faults, TOKEN};
use crate::scenario;
use crate::support::*;

/// Runs `args` against a slow fake, sends SIGINT once the merge requests have started to
/// arrive, and returns the exit code, stderr and how long the run took after the signal.
fn interrupt(env: &TestEnv, args: &[&str]) -> (Option<i32>, String, Duration) {
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            latency_ms: 400,
            ..Faults::default()
        },
    );
    let mut child = env
        .std_command()
        .env("GITLAB_URL", &fake.url)
        .env("GITLAB_TOKEN", TOKEN)
        .arg("--config")
        .arg(env.config())
        .arg("--no-progress")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gl-evidence");
    // Wait until a page of merge requests has been answered: the harvest is well under way.
    let waited = Instant::now();
    while !fake
        .requests()
        .iter()
        .any(|r| r.operation.as_deref() == Some("AuthoredMergeRequests"))
    {
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "the harvest never asked for merge requests"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Time for the client to read the page and count it.
    std::thread::sleep(Duration::from_millis(150));
    let signalled = Instant::now();
    // SAFETY: kill(2) on the child's own process id, which has not been waited for yet.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "send SIGINT");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("gl-evidence did not stop after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = signalled.elapsed();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status.code(), stderr, took)
}

/// The collected counts in the message.
fn collected(stderr: &str) -> (usize, usize) {
    let rest = stderr
        .split("interrupted: collected ")
        .nth(1)
        .unwrap_or_else(|| panic!("no summary of what was collected:\n{stderr}"));
    let numbers: Vec<usize> = rest
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .take(2)
        .collect();
    (numbers[0], numbers[1])
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn ctrl_c_during_a_harvest_says_what_was_collected_and_writes_nothing() {
    let env = TestEnv::new();
    std::fs::create_dir(env.path("out")).unwrap();
    let out = env.write("out/alice.json", "the previous snapshot\n");
    let (code, stderr, took) = interrupt(
        &env,
        &[
            "harvest",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(130), "exit code after Ctrl-C\n{stderr}");
    assert!(
        stderr.contains("nothing was written, and any earlier output file is unchanged"),
        "{stderr}"
    );
    let (items, sources) = collected(&stderr);
    assert!(
        items >= 1 && sources >= 1,
        "merge requests had arrived: {stderr}"
    );
    // In-flight requests are abandoned, not awaited (each takes 400 ms here).
    assert!(took < Duration::from_secs(3), "took {took:?} to stop");
    assert_eq!(read_text(&out), "the previous snapshot\n");
    assert_eq!(names_in(&env.path("out")), ["alice.json"]);
}

#[test]
fn ctrl_c_during_brag_keeps_the_previous_report_and_snapshot() {
    let env = TestEnv::new();
    let report = env.write("brag.md", "# the previous brag document\n");
    let snapshot = env.write("snapshot.json", "{\"previous\": true}\n");
    let (code, stderr, _) = interrupt(
        &env,
        &[
            "brag",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--out",
            report.to_str().unwrap(),
            "--snapshot-out",
            snapshot.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: collected"), "{stderr}");
    assert_eq!(read_text(&report), "# the previous brag document\n");
    assert_eq!(read_text(&snapshot), "{\"previous\": true}\n");
}
