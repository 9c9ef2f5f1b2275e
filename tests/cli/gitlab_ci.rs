//! Running inside a GitLab CI job: the instance comes from the job's predefined variables.

use crate::fake_gitlab::{FakeGitlab, Faults, TOKEN};
use crate::scenario;
use crate::support::*;

#[test]
fn a_ci_job_finds_the_instance_from_ci_api_v4_url_even_under_a_path() {
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            base_path: "/gitlab".into(),
            ..Faults::default()
        },
    );
    let env = TestEnv::new();
    let out = env.path("alice.json");
    let origin = fake.url.trim_end_matches("/gitlab");
    run(env
        .command()
        // As a runner sets them for an instance under /gitlab; CI_API_V4_URL is the exact API root.
        .env("CI_SERVER_URL", origin)
        .env("CI_API_V4_URL", format!("{}/api/v4", fake.url))
        .env("GITLAB_TOKEN", TOKEN)
        .arg("--config")
        .arg(env.config())
        .args([
            "--no-progress",
            "harvest",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--out",
        ])
        .arg(&out))
    .success();
    let snapshot = read_snapshot(&out);
    assert_eq!(snapshot["gitlab_url"], fake.url.as_str());
    assert!(!items(&snapshot).is_empty());
}

#[test]
fn a_malformed_ci_api_v4_url_is_named() {
    let env = TestEnv::new();
    run(env
        .command()
        .env("CI_API_V4_URL", "https://gitlab.example.com/api")
        .env("GITLAB_TOKEN", TOKEN)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3"]))
    .code(2)
    .stderr_has("CI_API_V4_URL")
    .stderr_has("does not end with /api/v4");
}
