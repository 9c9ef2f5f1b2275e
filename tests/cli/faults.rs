//! Fault injection: the harvest against a GitLab that misbehaves in every way a real one (or
//! what stands in front of it) does, with nothing lost.
//!
//! Each test harvests the same data twice, once from a healthy fake and once from a faulty one,
//! and holds the faulty run to one of two outcomes only:
//! - exit 0 and exactly the items of the healthy run, field for field; or
//! - an honest partial result: exit 3, every source that lost something marked `partial` or
//!   `failed` with a detail and named on stderr, and everything else kept: no item invented or
//!   doubled, and every source still `ok` holds all its items.
//!
//! Random faults are seeded (see `fake_gitlab/chaos.rs`), so a failure replays exactly. Retries
//! take milliseconds and the timeout is one second, so the whole suite runs in seconds.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fake_gitlab::{
    Chaos, ChaosFault, Dataset, FakeGitlab, Faults, GraphqlFault, PagingFault,
};
use crate::scenario;
use crate::showcase::{self, EPIC_GROUP, PRODUCTION_PATH};
use crate::support::*;

/// Fast retries, a one-second timeout, and the showcase's on-call project and epic group.
fn config(max_retries: u32) -> String {
    format!(
        "[network]\nretry_base_ms = 10\nmax_retries = {max_retries}\ntimeout_secs = 1\nmax_retry_wait_secs = 2\n\n\
         [harvest]\noncall_projects = [{PRODUCTION_PATH:?}]\nepic_groups = [{EPIC_GROUP:?}]\n"
    )
}

/// One harvest of alice's 2026Q3 from `fake`.
fn harvest(fake: &FakeGitlab, max_retries: u32) -> (Run, Value, Duration) {
    let env = TestEnv::new();
    env.write("config.toml", &config(max_retries));
    let out = env.path("snapshot.json");
    let started = Instant::now();
    let run = run(env
        .gl(fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(&out));
    let took = started.elapsed();
    run.code_in(&[0, 3]);
    // Each fake has its own port: compare links without it.
    let text = read_text(&out).replace(&fake.url, "https://gitlab.test");
    let snapshot: Value = serde_json::from_str(&text).expect("the snapshot is JSON");
    check_envelope(&snapshot);
    (run, snapshot, took)
}

/// The fault-free harvest of `data`, to compare with.
fn healthy(data: &Dataset) -> Value {
    let fake = FakeGitlab::start(data.clone(), Faults::default());
    let (run, snapshot, _) = harvest(&fake, 4);
    run.success();
    assert!(!items(&snapshot).is_empty());
    snapshot
}

/// The source that holds items of `kind`.
fn source_of(kind: &str) -> &'static str {
    match kind {
        "merge_request" => "merge_requests",
        "review" => "reviews",
        "issue" => "issues",
        "incident" => "incidents",
        "epic" => "epics",
        "oncall_shift" => "oncall_shifts",
        "interview" => "interviews",
        other => panic!("unknown kind {other}"),
    }
}

fn statuses(snapshot: &Value) -> BTreeMap<String, String> {
    sources(snapshot)
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `(subject, kind, id)` of every item: what an item is, whatever it knows.
fn identities(snapshot: &Value) -> Vec<(String, String, String)> {
    let text = |i: &Value, key: &str| i[key].as_str().unwrap_or("").to_string();
    let ids: Vec<_> = items(snapshot)
        .iter()
        .map(|i| (text(i, "subject"), text(i, "kind"), text(i, "id")))
        .collect();
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an item appears twice: {ids:#?}");
    ids
}

/// What the faulty run ended with.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Exact,
    /// The sources marked partial or failed.
    Partial(Vec<String>),
}

/// Holds a faulty run to "the exact items, or an honest partial result" (see the module doc).
fn assert_exact_or_honest(run: &Run, got: &Value, want: &Value) -> Outcome {
    let got_items = items(got);
    let want_items = items(want);
    if run.code == Some(0) {
        assert_eq!(
            statuses(got),
            statuses(want),
            "a complete run has every source as the healthy one\n{}",
            run.stderr
        );
        if got_items != want_items {
            panic!(
                "exit 0 but the items differ from the healthy run\n{:#?}\nfirst differing item: {:#?}",
                identities(got),
                got_items
                    .iter()
                    .zip(want_items)
                    .find(|(a, b)| a != b)
            );
        }
        return Outcome::Exact;
    }
    run.code(3);
    // Nothing invented, nothing doubled (an item of a troubled source may know less: a review's
    // comment count when the events failed).
    let want_ids = identities(want);
    let got_ids = identities(got);
    assert_eq!(got_ids.len(), got_items.len(), "an item appears twice");
    for (id, item) in got_ids.iter().zip(got_items) {
        assert!(
            want_ids.contains(id),
            "an item the healthy run does not have: {item:#}"
        );
    }
    let troubled: Vec<&Value> = sources(got)
        .iter()
        .filter(|s| s["status"] == "partial" || s["status"] == "failed")
        .collect();
    assert!(
        !troubled.is_empty(),
        "exit 3 names no source: {:#}",
        got["sources"]
    );
    for source in &troubled {
        let name = source["name"].as_str().unwrap();
        let detail = source["detail"].as_str().unwrap_or("");
        assert!(
            !detail.trim().is_empty(),
            "a troubled source says why: {source:#}"
        );
        run.stderr_has(&format!("source `{name}`"));
    }
    // Every source still `ok` lost nothing.
    let status = statuses(got);
    for item in want_items {
        let source = source_of(item["kind"].as_str().unwrap());
        if status.get(source).map(String::as_str) == Some("ok") {
            assert!(
                got_items.contains(item),
                "source `{source}` says ok but lost {}: {:#}\nsources: {:#}",
                item["title"],
                item,
                got["sources"]
            );
        }
    }
    let mut names: Vec<String> = troubled
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    Outcome::Partial(names)
}

fn chaos(seed: u64, percent: u32, fault: ChaosFault) -> Faults {
    Faults {
        chaos: Some(Chaos {
            seed,
            percent,
            fault,
        }),
        ..Faults::default()
    }
}

/// Runs `faults` over both datasets with a few seeds each and expects the exact items every
/// time; the faults must strike.
fn assert_survives(fault: &str, faults: impl Fn(u64) -> Faults) {
    let hit = |fake: &FakeGitlab| fake.chaos_hits().len();
    for (name, data) in [
        ("scenario", scenario::team()),
        ("showcase", showcase::everything()),
    ] {
        let want = healthy(&data);
        let mut hits = 0;
        for seed in 1..=3 {
            let fake = FakeGitlab::start(data.clone(), faults(seed));
            let (run, got, took) = harvest(&fake, 4);
            hits += hit(&fake);
            let outcome = assert_exact_or_honest(&run, &got, &want);
            assert_eq!(
                outcome,
                Outcome::Exact,
                "{name}, seed {seed}: transient faults must not cost an item\n{}",
                run.stderr
            );
            println!(
                "{fault}, {name} seed {seed}: {} requests, {} hit, {} ms",
                fake.requests().len(),
                hit(&fake),
                took.as_millis()
            );
        }
        assert!(hits > 0, "{name}: the fault never struck");
    }
}

// ---------------------------------------------------------------------------------------------
// Transient faults: retried, nothing lost.

#[test]
fn random_server_errors_on_a_tenth_of_requests_lose_nothing() {
    assert_survives("5xx 10%", |seed| chaos(seed, 10, ChaosFault::ServerError));
}

#[test]
fn connection_resets_lose_nothing() {
    assert_survives("resets 10%", |seed| chaos(seed, 10, ChaosFault::Reset));
}

#[test]
fn answers_slower_than_the_timeout_are_retried() {
    assert_survives("1.5 s answers 10%", |seed| {
        chaos(seed, 10, ChaosFault::Slow { ms: 1500 })
    });
}

#[test]
fn bodies_cut_off_truncated_or_not_json_are_retried() {
    for fault in [
        ChaosFault::CutBody,
        ChaosFault::TruncatedJson,
        ChaosFault::NotJson,
    ] {
        let data = scenario::team();
        let want = healthy(&data);
        let fake = FakeGitlab::start(data, chaos(11, 15, fault));
        let (run, got, _) = harvest(&fake, 4);
        let outcome = assert_exact_or_honest(&run, &got, &want);
        assert_eq!(outcome, Outcome::Exact, "{fault:?}\n{}", run.stderr);
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for r in fake.requests() {
            *seen
                .entry(format!("{} {}?{} {}", r.method, r.path, r.query, r.body))
                .or_default() += 1;
        }
        assert!(
            seen.values().any(|n| *n > 1),
            "{fault:?}: some request was hit and sent again"
        );
    }
}

#[test]
fn a_storm_of_429s_is_waited_out() {
    // A third of the requests are refused with `Retry-After: 1`; each is retried, never before
    // the second GitLab asked for.
    let data = showcase::everything();
    let want = healthy(&data);
    let fake = FakeGitlab::start(
        data,
        Faults {
            retry_after_secs: 1,
            ..chaos(5, 33, ChaosFault::TooManyRequests)
        },
    );
    let (run, got, took) = harvest(&fake, 6);
    let outcome = assert_exact_or_honest(&run, &got, &want);
    assert_eq!(outcome, Outcome::Exact, "{}", run.stderr);
    let requests = fake.requests();
    let refused: Vec<_> = requests.iter().filter(|r| r.status == 429).collect();
    assert!(refused.len() >= 5, "a storm: {} refused", refused.len());
    for r in &refused {
        let key = |x: &crate::fake_gitlab::RecordedRequest| {
            format!("{} {}?{} {}", x.method, x.path, x.query, x.body)
        };
        let next = requests
            .iter()
            .filter(|x| x.at > r.at && key(x) == key(r))
            .map(|x| x.at)
            .min()
            .expect("every refused request is sent again");
        assert!(
            next.duration_since(r.done) >= Duration::from_millis(950),
            "retried {} ms after a 429 with Retry-After: 1",
            next.duration_since(r.done).as_millis()
        );
    }
    println!(
        "429 storm: {} requests, {} refused, {} ms",
        requests.len(),
        refused.len(),
        took.as_millis()
    );
}

#[test]
fn everything_at_once_loses_nothing() {
    assert_survives("mixed 20%", |seed| {
        chaos(seed + 100, 20, ChaosFault::Mixed { slow_ms: 1500 })
    });
}

// ---------------------------------------------------------------------------------------------
// Faults that do not pass: an honest partial result.

/// `fault` on every attempt at the requests `targets` names, over the showcase.
fn persistent(targets: &[&str], faults: Faults, max_retries: u32) -> (Run, Value, Value, Outcome) {
    let data = showcase::everything();
    let want = healthy(&data);
    let fake = FakeGitlab::start(
        data,
        Faults {
            targets: targets.iter().map(|t| t.to_string()).collect(),
            ..faults
        },
    );
    let (run, got, _) = harvest(&fake, max_retries);
    let outcome = assert_exact_or_honest(&run, &got, &want);
    (run, got, want, outcome)
}

fn detail<'s>(snapshot: &'s Value, name: &str) -> &'s str {
    sources(snapshot)
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["detail"].as_str())
        .unwrap_or("")
}

#[test]
fn persistent_faults_give_an_honest_partial_result() {
    let cases: [(&str, ChaosFault, &str); 5] = [
        ("503", ChaosFault::ServerError, "gave up after"),
        ("reset", ChaosFault::Reset, "cannot reach GitLab"),
        ("slow", ChaosFault::Slow { ms: 1500 }, "within 1 s"),
        ("truncated", ChaosFault::TruncatedJson, "cannot read"),
        ("html", ChaosFault::NotJson, "cannot read"),
    ];
    for (name, fault, says) in cases {
        let (run, got, _, outcome) =
            persistent(&["AuthoredMergeRequests"], chaos(1, 100, fault), 1);
        assert_eq!(
            outcome,
            Outcome::Partial(vec!["interviews".into(), "merge_requests".into()]),
            "{name}: only authored merge requests are lost (and so maybe interview work)\n{}",
            run.stderr
        );
        let detail = detail(&got, "merge_requests");
        assert!(detail.contains(says), "{name}: {detail}");
        run.stderr_has(says);
    }
}

#[test]
fn a_429_storm_that_never_ends_gives_a_partial_result() {
    let (run, got, _, outcome) = persistent(
        &["/events"],
        Faults {
            retry_after_secs: 1,
            ..chaos(1, 100, ChaosFault::TooManyRequests)
        },
        2,
    );
    let Outcome::Partial(names) = outcome else {
        panic!("events never answer: {}", run.stderr)
    };
    assert!(names.contains(&"events".to_string()), "{names:?}");
    assert!(
        detail(&got, "events").contains("429"),
        "{:#}",
        got["sources"]
    );
}

#[test]
fn a_wrong_shape_is_not_retried_and_is_named() {
    // Valid JSON, but an object where the events list belongs: retrying cannot help.
    let (run, got, _, outcome) = persistent(&["/events"], chaos(3, 100, ChaosFault::WrongShape), 4);
    assert!(
        matches!(&outcome, Outcome::Partial(n) if n.contains(&"events".to_string())),
        "{outcome:?}"
    );
    assert!(
        detail(&got, "events").contains("shape"),
        "{:#}",
        got["sources"]
    );
    run.stderr_lacks("gave up after");
}

#[test]
fn graphql_partial_data_on_any_operation_is_an_honest_partial_result() {
    let data = showcase::everything();
    let want = healthy(&data);
    // Every operation the showcase harvest sends.
    let probe = FakeGitlab::start(data.clone(), Faults::default());
    harvest(&probe, 4).0.success();
    let mut operations: Vec<String> = probe
        .requests()
        .iter()
        .filter_map(|r| r.operation.clone())
        .collect();
    operations.sort();
    operations.dedup();
    assert!(operations.len() >= 6, "{operations:?}");
    let mut table = Vec::new();
    for operation in &operations {
        let message = format!("Timeout on {operation}.something");
        let fake = FakeGitlab::start(
            data.clone(),
            Faults {
                graphql: Some(GraphqlFault::PartialData {
                    message: message.clone(),
                }),
                targets: vec![operation.clone()],
                ..Faults::default()
            },
        );
        let (run, got, _) = harvest(&fake, 4);
        let outcome = assert_exact_or_honest(&run, &got, &want);
        let Outcome::Partial(names) = &outcome else {
            panic!("{operation}: GraphQL errors beside data must not pass as complete")
        };
        run.stderr_has(&message);
        assert!(
            names.iter().any(|n| detail(&got, n).contains(&message)),
            "{operation}: the detail quotes GitLab's error: {:#}",
            got["sources"]
        );
        table.push(format!("{operation:<32} → {}", names.join(", ")));
    }
    println!("{}", table.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Servers that repeat themselves: detected, no endless loop.

#[test]
fn a_repeated_rest_page_is_detected() {
    let data = scenario::busy();
    let want = healthy(&data);
    let fake = FakeGitlab::start(
        data,
        Faults {
            repeat_rest_page: true,
            targets: vec!["/events".into()],
            ..Faults::default()
        },
    );
    let (run, got, took) = harvest(&fake, 4);
    let outcome = assert_exact_or_honest(&run, &got, &want);
    assert!(
        matches!(&outcome, Outcome::Partial(n) if n.contains(&"events".to_string())),
        "{outcome:?}"
    );
    assert!(
        detail(&got, "events").contains("repeated"),
        "{:#}",
        got["sources"]
    );
    let events = fake.requests_to("/events").len();
    assert!(events <= 4, "stopped at once, not after {events} pages");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn repeated_or_missing_graphql_cursors_are_detected() {
    let data = scenario::busy();
    let want = healthy(&data);
    for fault in [
        PagingFault::Repeat,
        PagingFault::IgnoreAfter,
        PagingFault::NoCursor,
    ] {
        let fake = FakeGitlab::start(
            data.clone(),
            Faults {
                graphql_paging: Some(fault),
                targets: vec!["AuthoredMergeRequests".into()],
                ..Faults::default()
            },
        );
        let (run, got, took) = harvest(&fake, 4);
        let outcome = assert_exact_or_honest(&run, &got, &want);
        assert_eq!(
            outcome,
            Outcome::Partial(vec!["interviews".into(), "merge_requests".into()]),
            "{fault:?}\n{}",
            run.stderr
        );
        let sent = fake.graphql_requests("AuthoredMergeRequests").len();
        assert!(
            sent <= 3,
            "{fault:?}: stopped at once, not after {sent} pages"
        );
        assert!(took < Duration::from_secs(10), "{fault:?}: {took:?}");
        let authored = items(&got)
            .iter()
            .filter(|i| i["kind"] == "merge_request")
            .count();
        assert_eq!(authored, 100, "{fault:?}: the first page is kept, once");
    }
}
