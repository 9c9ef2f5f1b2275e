//! Transient trouble: 5xx, 429 with `Retry-After`, bodies cut short, and trouble that does not
//! pass (a source that keeps failing gives a partial snapshot and exit code 3).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::fake_gitlab::{FakeGitlab, Faults, GraphqlFault, RecordedRequest};
use crate::scenario::{self, *};
use crate::support::*;

/// Identifies "the same request" across retries.
fn key(r: &RecordedRequest) -> String {
    format!("{} {}?{} {}", r.method, r.path, r.query, r.body)
}

fn harvest(env: &TestEnv, fake: &FakeGitlab) -> Run {
    run(env
        .gl(fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(env.path("snapshot.json")))
}

fn assert_complete(env: &TestEnv) {
    let snapshot = read_snapshot(&env.path("snapshot.json"));
    let got = item_keys(&snapshot);
    assert!(
        got == scenario::alice_q3(),
        "{}",
        diff_keys(&got, &scenario::alice_q3())
    );
    assert_sources_complete(&snapshot);
}

/// Every request answered `status` was sent again later and then succeeded; returns the
/// delay before each retry.
fn assert_retried(requests: &[RecordedRequest], status: u16) -> Vec<Duration> {
    let failed: Vec<&RecordedRequest> = requests.iter().filter(|r| r.status == status).collect();
    assert!(!failed.is_empty(), "no request was answered {status}");
    failed
        .iter()
        .map(|f| {
            let retry = requests
                .iter()
                .find(|r| r.at > f.at && key(r) == key(f) && r.status == 200)
                .unwrap_or_else(|| {
                    panic!("{} {} was never retried successfully", f.method, f.path)
                });
            retry.at.duration_since(f.at)
        })
        .collect()
}

#[test]
fn server_errors_twice_then_success() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            fail_first_n_with_5xx: 2,
            ..Faults::default()
        },
    );
    harvest(&env, &fake).success();
    assert_complete(&env);
    let requests = fake.requests();
    assert_eq!(requests.iter().filter(|r| r.status == 500).count(), 2);
    assert_retried(&requests, 500);
}

#[test]
fn rate_limited_request_waits_for_retry_after() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            fail_first_n_with_429: 1,
            retry_after_secs: 1,
            ..Faults::default()
        },
    );
    harvest(&env, &fake).success();
    assert_complete(&env);
    let waits = assert_retried(&fake.requests(), 429);
    assert!(
        waits.iter().all(|w| *w >= Duration::from_millis(900)),
        "Retry-After: 1 must be honoured, retried after {waits:?}"
    );
}

#[test]
fn rate_limited_graphql_is_retried() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            fail_first_n_with_429: 1,
            retry_after_secs: 1,
            targets: vec!["/api/graphql".to_string()],
            ..Faults::default()
        },
    );
    harvest(&env, &fake).success();
    assert_complete(&env);
    assert_retried(&fake.requests(), 429);
}

#[test]
fn body_cut_short_is_retried() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            truncate_body_on_request: Some(1),
            targets: vec!["/events".to_string()],
            ..Faults::default()
        },
    );
    harvest(&env, &fake).success();
    assert_complete(&env);
    let events = fake.requests_to("/events");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in &events {
        *seen.entry(key(r)).or_default() += 1;
    }
    assert!(
        seen.values().any(|n| *n >= 2),
        "the events request whose body was cut must be sent again: {seen:#?}"
    );
}

/// Per distinct request, how many times it was sent.
fn attempts(requests: &[RecordedRequest]) -> BTreeMap<String, usize> {
    let mut attempts: BTreeMap<String, usize> = BTreeMap::new();
    for r in requests {
        *attempts.entry(key(r)).or_default() += 1;
    }
    attempts
}

fn authored_titles(snapshot: &Value) -> Vec<&str> {
    items(snapshot)
        .iter()
        .filter(|i| i["kind"] == "merge_request")
        .map(|i| i["title"].as_str().unwrap())
        .collect()
}

const ALICE_AUTHORED: [&str; 5] = [
    RETRY_BUDGET,
    ROTATE_CREDENTIALS,
    SHARDED_CACHES,
    REMOVE_FLAG,
    TENANT_CACHE,
];

#[test]
fn a_source_that_keeps_failing_gives_a_partial_snapshot() {
    // Everything review evidence comes from fails; authored merge requests do not.
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            fail_first_n_with_5xx: usize::MAX,
            targets: vec![
                "/events".to_string(),
                "ReviewRequestedMergeRequests".to_string(),
                "ProjectMergeRequests".to_string(),
            ],
            ..Faults::default()
        },
    );
    let run = harvest(&env, &fake);
    run.code(3);
    let snapshot = read_snapshot(&env.path("snapshot.json"));
    let failed: Vec<&Value> = sources(&snapshot)
        .iter()
        .filter(|s| s["status"] == "failed")
        .collect();
    assert!(
        !failed.is_empty(),
        "a source is marked failed: {:#}",
        snapshot["sources"]
    );
    for source in &failed {
        run.stderr_has(source["name"].as_str().unwrap());
        let detail = source["detail"].as_str().unwrap_or("");
        assert!(
            detail.contains("500"),
            "the detail says what went wrong: {source:#}"
        );
        assert_eq!(source["items"], 0, "{source:#}");
    }
    assert!(
        items(&snapshot)
            .iter()
            .all(|i| i["kind"] == "merge_request"),
        "no review evidence could be collected"
    );
    let authored = authored_titles(&snapshot);
    for title in ALICE_AUTHORED {
        assert!(
            authored.contains(&title),
            "{title} missing from a partial harvest: {authored:?}"
        );
    }
    // `max_retries = 4`: each failing request was tried five times, no more.
    let failing: Vec<RecordedRequest> = fake
        .requests()
        .into_iter()
        .filter(|r| r.status == 500)
        .collect();
    let tries = attempts(&failing);
    assert!(!tries.is_empty());
    for (request, n) in &tries {
        assert_eq!(*n, 5, "attempts at {request}");
    }
}

#[test]
fn failing_events_keep_the_rest_of_the_reviews() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            fail_first_n_with_5xx: usize::MAX,
            targets: vec!["/events".to_string()],
            ..Faults::default()
        },
    );
    let run = harvest(&env, &fake);
    run.code(3);
    let snapshot = read_snapshot(&env.path("snapshot.json"));
    let troubled: BTreeMap<&str, &Value> = sources(&snapshot)
        .iter()
        .filter(|s| s["status"] == "partial" || s["status"] == "failed")
        .map(|s| (s["name"].as_str().unwrap(), s))
        .collect();
    // Exactly the sources that read events: the events entry itself, and reviews, issues and
    // incidents, which use them (approvals, comments, closed issues); and interviews, which are
    // found among their items. Authored merge requests do not, and stay `ok`.
    let status = |name: &str| troubled.get(name).map(|s| s["status"].as_str().unwrap());
    assert_eq!(
        troubled.keys().copied().collect::<Vec<_>>(),
        vec!["events", "incidents", "interviews", "issues", "reviews"],
        "only the sources reading events: {:#}",
        snapshot["sources"]
    );
    // Reviews kept the requested ones; the others found nothing else to keep.
    assert_eq!(status("reviews"), Some("partial"));
    assert_eq!(status("interviews"), Some("partial"));
    for name in ["events", "issues", "incidents"] {
        assert_eq!(status(name), Some("failed"), "{name}");
    }
    for (name, source) in &troubled {
        run.stderr_has(&format!("source `{name}`"));
        let detail = source["detail"].as_str().unwrap_or("");
        if *name == "interviews" {
            assert!(detail.contains("reviews, issues, incidents"), "{source:#}");
        } else {
            assert!(detail.contains("500"), "{source:#}");
        }
    }
    // Requested reviews still arrive from GraphQL; those known only from events cannot.
    let reviews: Vec<&str> = items(&snapshot)
        .iter()
        .filter(|i| i["kind"] == "review")
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    for title in [SLO_DASHBOARDS, STATE_BACKEND, DRIFT_DETECTION] {
        assert!(reviews.contains(&title), "{title} missing: {reviews:?}");
    }
    for title in [TLS_MINIMUM, RECOMMENDATIONS, CANARY] {
        assert!(
            !reviews.contains(&title),
            "{title} can only be known from events: {reviews:?}"
        );
    }
    let authored = authored_titles(&snapshot);
    for title in ALICE_AUTHORED {
        assert!(
            authored.contains(&title),
            "{title} missing from a partial harvest: {authored:?}"
        );
    }
    for (request, n) in &attempts(&fake.requests_to("/events")) {
        assert_eq!(*n, 5, "attempts at {request}");
    }
}

#[test]
fn graphql_partial_data_is_a_partial_harvest() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            graphql: Some(GraphqlFault::PartialData {
                message: "Timeout on MergeRequest.diffStatsSummary".to_string(),
            }),
            targets: vec!["AuthoredMergeRequests".to_string()],
            ..Faults::default()
        },
    );
    let run = harvest(&env, &fake);
    run.code(3)
        .stderr_has("Timeout on MergeRequest.diffStatsSummary");
    let snapshot = read_snapshot(&env.path("snapshot.json"));
    // The authored-MR source, and interviews, which are looked for among its items.
    let troubled: Vec<&Value> = sources(&snapshot)
        .iter()
        .filter(|s| s["status"] == "partial" || s["status"] == "failed")
        .filter(|s| s["name"] != "interviews")
        .collect();
    assert_eq!(
        troubled.len(),
        1,
        "only the authored-MR source is affected: {:#}",
        snapshot["sources"]
    );
    assert!(
        troubled[0]["detail"]
            .as_str()
            .unwrap_or("")
            .contains("Timeout on MergeRequest.diffStatsSummary"),
        "{:#}",
        troubled[0]
    );
}

/// GitLab.com's limits scaled down: 10 requests per 2-second window is 300 a minute. Three
/// people's quarter takes several windows; the client learns the limit from the answers'
/// `RateLimit-*` headers and must never be refused.
#[test]
fn a_rate_limited_instance_is_never_pushed_past_its_limit() {
    use crate::fake_gitlab::RateLimit;
    let people = ["--user", "alice", "--user", "bob", "--user", "carol"];
    let harvest_from = |env: &TestEnv, fake: &FakeGitlab| {
        run(env
            .gl(fake)
            .arg("harvest")
            .args(people)
            .args(["--quarter", "2026Q3", "--out"])
            .arg(env.path("snapshot.json")))
    };
    let free_env = TestEnv::new();
    let free = FakeGitlab::start(scenario::team(), Faults::default());
    harvest_from(&free_env, &free).success();
    let want = item_keys(&read_snapshot(&free_env.path("snapshot.json")));

    let env = TestEnv::new();
    let limit = RateLimit {
        limit: 10,
        window_secs: 2,
    };
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            rate_limit: Some(limit),
            ..Faults::default()
        },
    );
    harvest_from(&env, &fake).success();
    let snapshot = read_snapshot(&env.path("snapshot.json"));
    assert_eq!(
        item_keys(&snapshot),
        want,
        "the same items as without a limit"
    );
    assert_sources_complete(&snapshot);

    let requests = fake.requests();
    assert!(
        requests.len() > 2 * limit.limit,
        "the run must span several windows to test anything: {} requests",
        requests.len()
    );
    let refused = requests.iter().filter(|r| r.status == 429).count();
    assert_eq!(refused, 0, "requests refused for going over the limit");
    let mut per_window: BTreeMap<u64, usize> = BTreeMap::new();
    for r in &requests {
        *per_window.entry(r.window.expect("counted")).or_default() += 1;
    }
    let busiest = per_window.values().copied().max().unwrap_or(0);
    eprintln!(
        "rate limit {} per {} s: {} requests over {} windows, at most {busiest} in one",
        limit.limit,
        limit.window_secs,
        requests.len(),
        per_window.len()
    );
    assert!(busiest <= limit.limit);
}
