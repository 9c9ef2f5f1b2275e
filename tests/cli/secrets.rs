//! The token never leaks: not on stdout or stderr at any `-v` level, not in error messages (a
//! refused token, exhausted retries, answers that cannot be read, a failing `token_command`), not
//! in snapshots or reports, never in a URL; and no option takes it on the command line, where
//! the process list would show it to every user of the machine. A config file that says how to
//! get the token and that others can read gets a warning with the fix.

use std::path::Path;

use crate::fake_gitlab::{Chaos, ChaosFault, FakeGitlab, Faults};
use crate::support::*;
use crate::{scenario, showcase};

/// A token no test output could contain by chance.
const SECRET: &str = "glpat-Zx9SECRETtoken4leakcheck";

/// Every file under `dir`, as text.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            let bytes = std::fs::read(&path).expect("read file");
            found.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    found
}

/// The token (or a telling part of it) is nowhere: not in the run's output, not in any file it
/// wrote, not in a request's URL; and nothing panicked.
fn assert_no_leak(what: &str, env: &TestEnv, run: &Run, fake: Option<&FakeGitlab>) {
    let needles = [SECRET, &SECRET[6..]];
    for needle in needles {
        assert!(
            !run.stdout.contains(needle),
            "{what}: the token is on stdout"
        );
        assert!(
            !run.stderr.contains(needle),
            "{what}: the token is on stderr:\n{}",
            run.stderr
        );
        for (path, text) in files(env.dir.path()) {
            assert!(!text.contains(needle), "{what}: the token is in {path}");
        }
    }
    assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
    // Debug output may name the headers, never show their values.
    for line in run.stderr.lines() {
        let lower = line.to_ascii_lowercase();
        if lower.contains("private-token") || lower.contains("authorization") {
            assert!(
                lower.contains("sensitive") || lower.contains("***") || lower.contains("redacted"),
                "{what}: a header shown unredacted: {line}"
            );
        }
    }
    if let Some(fake) = fake {
        for r in fake.requests() {
            assert!(
                !r.path.contains(SECRET) && !r.query.contains(SECRET),
                "{what}: the token in a URL: {} {}?{}",
                r.method,
                r.path,
                r.query
            );
        }
    }
}

fn secret_fake(data: crate::fake_gitlab::Dataset, faults: Faults) -> FakeGitlab {
    FakeGitlab::start(
        data,
        Faults {
            required_token: SECRET.to_string(),
            ..faults
        },
    )
}

#[test]
fn the_token_never_shows_at_any_verbosity() {
    let fake = secret_fake(showcase::everything(), Faults::default());
    for verbosity in ["-v", "-vv"] {
        let env = TestEnv::new();
        let harvest = run(env
            .gl_at(&fake.url, SECRET)
            .arg(verbosity)
            .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
            .arg(env.path("snapshot.json")));
        harvest.success().stderr_has("api/graphql");
        assert_no_leak(&format!("harvest {verbosity}"), &env, &harvest, Some(&fake));

        let brag = run(env
            .gl_at(&fake.url, SECRET)
            .arg(verbosity)
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
            .arg(env.path("brag.html"))
            .arg("--snapshot-out")
            .arg(env.path("brag-snapshot.json")));
        brag.success();
        assert_no_leak(&format!("brag {verbosity}"), &env, &brag, Some(&fake));

        let team = run(env.gl_at(&fake.url, SECRET).arg(verbosity).args([
            "team",
            "--user",
            "alice",
            "--user",
            "bob",
            "--quarter",
            "2026Q3",
        ]));
        team.success();
        assert_no_leak(&format!("team {verbosity}"), &env, &team, Some(&fake));
        if verbosity == "-vv" {
            println!("--- harvest -vv stderr (head) ---");
            for line in harvest.stderr.lines().take(15) {
                println!("{line}");
            }
        }
    }
}

#[test]
fn the_token_never_shows_in_errors() {
    let retry_forever = Faults {
        fail_first_n_with_5xx: usize::MAX,
        ..Faults::default()
    };
    let bad_answers = |fault| Faults {
        chaos: Some(Chaos {
            seed: 1,
            percent: 100,
            fault,
        }),
        ..Faults::default()
    };
    let cases: Vec<(&str, FakeGitlab, i32)> = vec![
        // The instance wants another token: 401.
        (
            "401",
            FakeGitlab::start(scenario::team(), Faults::default()),
            1,
        ),
        (
            "5xx exhausted",
            secret_fake(scenario::team(), retry_forever),
            1,
        ),
        (
            "wrong shape",
            secret_fake(scenario::team(), bad_answers(ChaosFault::WrongShape)),
            1,
        ),
        (
            "not JSON",
            secret_fake(scenario::team(), bad_answers(ChaosFault::NotJson)),
            1,
        ),
        (
            "resets",
            secret_fake(scenario::team(), bad_answers(ChaosFault::Reset)),
            1,
        ),
    ];
    for (what, fake, code) in cases {
        for command in ["harvest", "brag", "team"] {
            let env = TestEnv::new();
            let mut cmd = env.gl_at(&fake.url, SECRET);
            cmd.arg("-vv")
                .args([command, "--user", "alice", "--quarter", "2026Q3"]);
            let run = run(&mut cmd);
            run.code(code).stderr_has("error:");
            assert_no_leak(&format!("{what}, {command}"), &env, &run, Some(&fake));
        }
    }
}

#[test]
fn the_token_from_token_command_never_shows_even_when_it_fails() {
    let fake = secret_fake(scenario::team(), Faults::default());
    let env = TestEnv::new();
    let config = env.write(
        "config.toml",
        &format!("token_command = \"printf %s {SECRET}\"\n{FAST_CONFIG}"),
    );
    let ok = run(env
        .command()
        .env("GITLAB_URL", &fake.url)
        .arg("--config")
        .arg(&config)
        .args([
            "-vv",
            "--no-progress",
            "harvest",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
        ]));
    ok.success();
    // The config file itself holds the token here; only the output is checked.
    assert!(!ok.stdout.contains(SECRET) && !ok.stderr.contains(SECRET));

    let failing = env.write(
        "failing.toml",
        &format!("token_command = \"echo {SECRET}; echo oops >&2; exit 3\"\n{FAST_CONFIG}"),
    );
    let run = run(env
        .command()
        .env("GITLAB_URL", &fake.url)
        .arg("--config")
        .arg(&failing)
        .args(["-vv", "harvest", "--user", "alice", "--quarter", "2026Q3"]));
    run.code(2)
        .stderr_has("token_command `echo …` failed")
        .stderr_has("oops");
    assert!(!run.stderr.contains(SECRET), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn a_config_others_can_read_that_says_how_to_get_the_token_gets_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let fake = secret_fake(scenario::team(), Faults::default());
    let env = TestEnv::new();
    let config = env.write(
        "config.toml",
        &format!("token_command = \"printf %s {SECRET}\"\n{FAST_CONFIG}"),
    );
    let harvest = |env: &TestEnv| {
        run(env
            .command()
            .env("GITLAB_URL", &fake.url)
            .arg("--config")
            .arg(&config)
            .args([
                "--no-progress",
                "harvest",
                "--user",
                "alice",
                "--quarter",
                "2026Q3",
            ]))
    };
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let open = harvest(&env);
    open.success()
        .stderr_has("can be read by other users (mode 644)")
        .stderr_has(&format!("chmod 600 {}", config.display()));
    assert!(!open.stderr.contains(SECRET), "{}", open.stderr);
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    harvest(&env).success().stderr_lacks("other users");
    // A file with nothing secret in it may be readable by all.
    let plain = TestEnv::new();
    run(plain
        .gl_at(&fake.url, SECRET)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3"]))
    .success()
    .stderr_lacks("other users");
}

#[test]
fn no_option_takes_the_token_on_the_command_line() {
    let env = TestEnv::new();
    let commands = [
        "harvest",
        "classify",
        "report",
        "brag",
        "team",
        "send",
        "merge",
        "curate",
        "review",
        "init",
        "demo",
        "framework",
        "explain",
        "evaluate",
        "rules",
    ];
    let mut helps = vec![run(env.command().arg("--help"))];
    for command in commands {
        helps.push(run(env.command().args([command, "--help"])));
    }
    for help in &helps {
        help.success();
        let text = help.stdout.to_lowercase();
        for flag in ["--token", "--private-token", "--password"] {
            assert!(!text.contains(flag), "{}: offers {flag}", help.what);
        }
    }
    // The top-level help says where the token comes from.
    helps[0]
        .stdout_has("GITLAB_TOKEN")
        .stdout_has("token_command");
    let refused = run(env.command().args([
        "--token",
        SECRET,
        "harvest",
        "--user",
        "alice",
        "--quarter",
        "2026Q3",
    ]));
    refused.code(2).stderr_has("--token");
    assert!(!refused.stderr.contains(SECRET), "{}", refused.stderr);
}
