//! What the user sees when something is wrong: the exit code (1 runtime, 2 usage or config)
//! and a message that says what and what to do. Usage errors must not reach the network.

use crate::fake_gitlab::{FakeGitlab, Faults, GraphqlFault};
use crate::scenario;
use crate::support::*;

fn healthy() -> FakeGitlab {
    FakeGitlab::start(scenario::team(), Faults::default())
}

#[test]
fn bad_token_says_401_and_which_scope_is_needed() {
    let env = TestEnv::new();
    let fake = healthy();
    let run = run(env
        .gl_at(&fake.url, "glpat-wrong-token")
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(env.path("snapshot.json")));
    run.code(1)
        .stderr_has("401")
        .stderr_has("read_api")
        .stderr_lacks("glpat-wrong-token");
    // A rejected token is not retried into a lockout: the user lookup and the first page of
    // each list go out together, and none of them again.
    let rejected: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.status == 401)
        .map(|r| format!("{} {}?{} {}", r.method, r.path, r.query, r.body))
        .collect();
    assert!(
        rejected.len() <= 8,
        "{} requests with a token GitLab rejected",
        rejected.len()
    );
    let distinct: std::collections::HashSet<&String> = rejected.iter().collect();
    assert_eq!(
        distinct.len(),
        rejected.len(),
        "a rejected request was retried"
    );
}

#[test]
fn unknown_user_is_named() {
    let env = TestEnv::new();
    let fake = healthy();
    run(env
        .gl(&fake)
        .args([
            "harvest",
            "--user",
            "nobody-here",
            "--quarter",
            "2026Q3",
            "--out",
        ])
        .arg(env.path("snapshot.json")))
    .code(1)
    .stderr_has("unknown GitLab user")
    .stderr_has("nobody-here");
}

#[test]
fn unknown_user_similar_to_a_real_one_is_not_confused() {
    // `alic` is a prefix of alice and malice; GitLab's exact lookup says nobody.
    let env = TestEnv::new();
    let fake = healthy();
    run(env
        .gl(&fake)
        .args(["harvest", "--user", "alic", "--quarter", "2026Q3", "--out"])
        .arg(env.path("snapshot.json")))
    .code(1)
    .stderr_has("unknown GitLab user")
    .stderr_has("alic");
}

/// Usage errors exit 2 before any request.
fn usage_error(args: &[&str]) -> Run {
    let env = TestEnv::new();
    let fake = healthy();
    let run = run(env.gl(&fake).args(args));
    run.code(2);
    assert!(
        fake.requests().is_empty(),
        "a usage error reached GitLab: {:?}",
        fake.requests()
    );
    run
}

#[test]
fn malformed_date_asks_for_yyyy_mm_dd() {
    usage_error(&[
        "harvest",
        "--user",
        "alice",
        "--from",
        "2026-13-01",
        "--to",
        "2026-12-31",
    ])
    .stderr_has("YYYY-MM-DD")
    .stderr_has("2026-13-01");
}

#[test]
fn reversed_period_is_a_usage_error() {
    usage_error(&[
        "harvest",
        "--user",
        "alice",
        "--from",
        "2026-09-30",
        "--to",
        "2026-07-01",
    ])
    .stderr_has("2026-09-30")
    .stderr_has("2026-07-01");
}

#[test]
fn bad_quarter_shows_the_expected_form() {
    usage_error(&["harvest", "--user", "alice", "--quarter", "2026Q5"])
        .stderr_has("2026Q5")
        .stderr_has("2026Q3");
}

#[test]
fn period_is_required() {
    usage_error(&["harvest", "--user", "alice"]);
}

#[test]
fn unknown_config_key_names_the_file_and_the_key() {
    let env = TestEnv::new();
    let fake = healthy();
    let config = env.write("typo.toml", "[network]\nretries = 3\n");
    let run = run(env
        .command()
        .env("GITLAB_URL", &fake.url)
        .env("GITLAB_TOKEN", crate::fake_gitlab::TOKEN)
        .arg("--config")
        .arg(&config)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3"]));
    run.code(2)
        .stderr_has(&config.display().to_string())
        .stderr_has("retries");
    assert!(fake.requests().is_empty());
}

#[test]
fn missing_config_file_is_a_config_error() {
    let env = TestEnv::new();
    let missing = env.path("no-such-config.toml");
    run(env.command().arg("--config").arg(&missing).args([
        "harvest",
        "--user",
        "alice",
        "--quarter",
        "2026Q3",
    ]))
    .code(2)
    .stderr_has(&missing.display().to_string());
}

#[test]
fn graphql_field_unknown_to_the_server_suggests_an_older_or_ce_instance() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            graphql: Some(GraphqlFault::UndefinedField {
                type_name: "MergeRequest".to_string(),
                field: "diffStatsSummary".to_string(),
            }),
            ..Faults::default()
        },
    );
    let run = run(env
        .gl(&fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(env.path("snapshot.json")));
    run.code_in(&[1, 3])
        .stderr_has("diffStatsSummary")
        .stderr_mentions("Community Edition")
        .stderr_mentions("older");
    // A schema error is permanent: asking again cannot help.
    let authored = fake.graphql_requests("AuthoredMergeRequests");
    assert_eq!(authored.len(), 1, "a validation error is not retried");
}

#[test]
fn graphql_complexity_error_is_reported() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            graphql: Some(GraphqlFault::Complexity {
                score: 310,
                limit: 250,
            }),
            ..Faults::default()
        },
    );
    run(env
        .gl(&fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(env.path("snapshot.json")))
    .code_in(&[1, 3])
    .stderr_mentions("complexity");
}

#[test]
fn unreachable_server_names_the_url() {
    let env = TestEnv::new();
    let url = format!("http://127.0.0.1:{}", closed_port());
    let started = std::time::Instant::now();
    run(env
        .gl_at(&url, crate::fake_gitlab::TOKEN)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(env.path("snapshot.json")))
    .code(1)
    .stderr_has(&url);
    assert!(
        started.elapsed().as_secs() < 20,
        "gave up in {:?}",
        started.elapsed()
    );
}

#[test]
fn gitlab_url_flag_overrides_the_environment() {
    let env = TestEnv::new();
    let fake = healthy();
    let dead = format!("http://127.0.0.1:{}", closed_port());
    run(env
        .gl_at(&dead, crate::fake_gitlab::TOKEN)
        .args(["--gitlab-url", &fake.url])
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(env.path("snapshot.json")))
    .success();
    assert!(!fake.requests().is_empty());
}

#[test]
fn missing_token_says_how_to_provide_one() {
    let env = TestEnv::new();
    let fake = healthy();
    let run = run(env
        .command()
        .env("GITLAB_URL", &fake.url)
        .arg("--config")
        .arg(env.config())
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3"]));
    run.code(2).stderr_has("GITLAB_TOKEN");
    assert!(fake.requests().is_empty(), "no anonymous requests");
}

#[test]
fn classify_missing_snapshot_names_the_path() {
    let env = TestEnv::new();
    let missing = env.path("nope.json");
    let run = run(env.command().arg("classify").arg(&missing));
    run.code_in(&[1, 2])
        .stderr_has(&missing.display().to_string());
}
