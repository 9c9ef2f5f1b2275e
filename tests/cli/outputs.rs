//! Outputs are replaced whole or not at all: a folder the run may not write to, a write that
//! fails halfway (a full disk, simulated with a file size limit) and a run killed mid-write all
//! leave the previous report as it was, and the first two say what is wrong.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::Output;

use crate::support::*;

const DEMO: &str = include_str!("../../data/demo/snapshot.json");
const PREVIOUS: &str = "# The previous brag document\n\nStill here.\n";

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A test home with the demo snapshot and a folder `out/` holding a previous report.
fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.write("demo.json", DEMO);
    std::fs::create_dir(env.path("out")).unwrap();
    env.write("out/brag.md", PREVIOUS);
    env
}

/// `gl-evidence report demo.json --kind brag --out out/brag.md`, offline.
fn report(env: &TestEnv) -> std::process::Command {
    let mut cmd = env.std_command();
    cmd.arg("--config").arg(env.config()).args([
        "report",
        "demo.json",
        "--kind",
        "brag",
        "--out",
        "out/brag.md",
    ]);
    cmd
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_unwritable_folder_keeps_the_previous_report_and_says_why() {
    let env = setup();
    let mut cmd = report(&env);
    // Root may write anywhere: run as nobody then, in folders nobody may read but not write,
    // with the binary linked into the test's folder (the checkout may be out of nobody's reach).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        for path in [env.dir.path(), &env.path("home"), &env.path("xdg")] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let binary = env.path("gl-evidence");
        if std::fs::hard_link(cmd.get_program(), &binary).is_err() {
            std::fs::copy(cmd.get_program(), &binary).unwrap();
        }
        cmd = rebuilt(&cmd, |_| std::process::Command::new(&binary));
        cmd.uid(65534).gid(65534);
    }
    std::fs::set_permissions(env.path("out"), std::fs::Permissions::from_mode(0o555)).unwrap();
    let output = cmd.output().expect("run gl-evidence");
    std::fs::set_permissions(env.path("out"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    for expected in [
        "cannot write out/brag.md: permission denied (no right to create files in out)",
        "the previous file is unchanged",
        "hint: write somewhere else (--out), or make out writable",
    ] {
        assert!(
            stderr.contains(expected),
            "stderr lacks {expected:?}:\n{stderr}"
        );
    }
    assert_eq!(read_text(&env.path("out/brag.md")), PREVIOUS);
    assert_eq!(names_in(&env.path("out")), ["brag.md"]);
}

/// A write that fails partway, as on a full disk: a file size limit of 1 KiB (with SIGXFSZ
/// ignored, so the write returns an error instead of killing the process).
#[test]
fn a_write_that_fails_halfway_keeps_the_previous_report() {
    let env = setup();
    let output = limited(&env, "trap '' XFSZ; ulimit -f 2; exec \"$@\"");
    let stderr = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write out/brag.md: the file is larger than this process may write")
            && stderr.contains("the previous file is unchanged"),
        "{stderr}"
    );
    assert_eq!(read_text(&env.path("out/brag.md")), PREVIOUS);
    assert_eq!(
        names_in(&env.path("out")),
        ["brag.md"],
        "the partial file is removed"
    );
}

/// A run killed in the middle of writing (SIGXFSZ at the file size limit): the previous report
/// is whole; the partial content is only ever in a hidden temporary file beside it.
#[test]
fn a_run_killed_mid_write_keeps_the_previous_report() {
    let env = setup();
    let output = limited(&env, "ulimit -f 2; exec \"$@\"");
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGXFSZ),
        "killed at the size limit: {}",
        text(&output)
    );
    assert_eq!(read_text(&env.path("out/brag.md")), PREVIOUS);
    for name in names_in(&env.path("out")) {
        assert!(
            name == "brag.md" || (name.starts_with(".brag.md.") && name.ends_with(".tmp")),
            "unexpected file {name}"
        );
    }
    // And the next run replaces the report whole.
    let output = report(&env).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let written = read_text(&env.path("out/brag.md"));
    assert!(written.len() > 2048 && written.ends_with('\n'), "{written}");
}

/// The report command under `sh -c SCRIPT`, the script ending in `exec "$@"`.
fn limited(env: &TestEnv, script: &str) -> Output {
    let mut cmd = rebuilt(&report(env), |program| {
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c").arg(script).arg("sh").arg(program);
        cmd
    });
    // The report is far larger than the limit, or the test proves nothing.
    assert!(DEMO.len() > 8192);
    cmd.output().expect("run sh")
}

/// `inner`'s arguments, environment and folder on the command `start` makes of its program.
fn rebuilt(
    inner: &std::process::Command,
    start: impl FnOnce(&std::ffi::OsStr) -> std::process::Command,
) -> std::process::Command {
    let mut cmd = start(inner.get_program());
    cmd.args(inner.get_args());
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    if let Some(dir) = inner.get_current_dir() {
        cmd.current_dir(dir);
    }
    cmd
}
