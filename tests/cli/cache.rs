//! The incremental cache, end to end: a re-run for the same person and period asks GitLab only
//! for what changed and gives the same snapshot as a first run on the new data; `--refresh`
//! reads everything, `--no-cache` leaves no file; a deleted, corrupt or concurrently used cache
//! never fails a harvest; the token never reaches the file; instances and periods never mix.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Duration as Span, NaiveDate, SecondsFormat, Utc};
use serde_json::Value;

use crate::fake_gitlab::{
    Dataset, Epic, Event, FakeGitlab, Faults, GraphqlFault, Issue, MergeRequest, OncallRotation,
    OncallSchedule, RecordedRequest, TimelineEvent, TOKEN,
};
use crate::scenario;
use crate::support::{items, read_snapshot, run, sources, TestEnv, FAST_CONFIG};

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

const PRODUCTION: u64 = 220;

/// A year ending tomorrow (so that today's work is inside it, whenever the test runs).
struct Year {
    from: NaiveDate,
    to: NaiveDate,
}

impl Year {
    fn ending_tomorrow() -> Year {
        let today = Utc::now().date_naive();
        Year {
            from: today - chrono::Days::new(364),
            to: today + chrono::Days::new(1),
        }
    }

    fn args(&self) -> Vec<String> {
        vec![
            "--from".into(),
            self.from.to_string(),
            "--to".into(),
            self.to.to_string(),
        ]
    }
}

/// A prolific engineer's year, dated up to two days ago, as in the harvest benchmark: 1,200
/// authored merge requests, 3,000 reviews (2,700 requested, half approved; 300 found only
/// through her comments), 800 issues (she closed a quarter), 150 incidents with timelines, 60
/// epics and a weekly on-call shift. A first harvest takes over a hundred requests.
fn prolific(year: &Year) -> Dataset {
    let start = year.from.and_hms_opt(8, 0, 0).expect("a time").and_utc();
    let span = (Utc::now() - Span::days(2)) - start;
    let when = |i: u64, n: u64| start + span * (i as i32) / (n as i32);
    let mut data = Dataset::new()
        .user(scenario::ALICE_ID, "alice", "Alice Liddell")
        .user(102, "bob", "Bob Okafor")
        .user(103, "carol", "Carol Chen")
        .group(900, "acme", "public")
        .token_owner("alice");
    for p in 0..10u64 {
        data = data.project(201 + p, &format!("acme/service-{p}"), "public");
    }
    data = data.project(PRODUCTION, "acme/production", "public");
    let project = |i: u64| 201 + i % 10;
    let mut events = Vec::new();
    for i in 0..1200 {
        let created = when(i, 1200);
        data = data.mr(MergeRequest::new(
            10_000 + i,
            project(i),
            1 + i,
            &format!("Change {i}"),
            "alice",
            &stamp(created),
        )
        .merged(&stamp(created + Span::hours(20)))
        .stats(40, 10, 3));
    }
    for i in 0..3000 {
        let created = when(i, 3000);
        let author = if i % 2 == 0 { "bob" } else { "carol" };
        let mut mr = MergeRequest::new(
            20_000 + i,
            project(i + 3),
            5000 + i,
            &format!("Review {i}"),
            author,
            &stamp(created),
        )
        .merged(&stamp(created + Span::hours(30)));
        if i < 2700 {
            mr = mr.reviewer(
                "alice",
                i % 2 == 0,
                if i % 2 == 0 { "APPROVED" } else { "REVIEWED" },
            );
            if i % 2 == 0 {
                mr = mr.approved_by("alice");
                events.push(Event::approved(
                    "alice",
                    &mr,
                    &stamp(created + Span::hours(5)),
                ));
            }
        }
        events.push(Event::comment(
            "alice",
            &mr,
            &stamp(created + Span::hours(4)),
            "Looks good",
        ));
        data = data.mr(mr);
    }
    for i in 0..800 {
        let created = when(i, 800);
        let mut issue = Issue::new(
            30_000 + i,
            project(i + 5),
            9000 + i,
            &format!("Issue {i}"),
            if i < 500 { "alice" } else { "bob" },
            &stamp(created),
        );
        if i >= 500 {
            issue = issue.assignee("alice");
        }
        if i % 4 == 0 {
            issue = issue.closed(&stamp(created + Span::days(1)));
            events.push(Event::closed_issue(
                "alice",
                &issue,
                &stamp(created + Span::days(1)),
            ));
        }
        data = data.issue(issue);
    }
    for i in 0..150 {
        let created = when(i, 150);
        let mut incident = Issue::new(
            40_000 + i,
            PRODUCTION,
            1 + i,
            &format!("Incident {i}"),
            if i < 50 { "alice" } else { "carol" },
            &stamp(created),
        )
        .of_type("INCIDENT")
        .severity("HIGH")
        .closed(&stamp(created + Span::hours(6)));
        if (50..100).contains(&i) {
            incident = incident.assignee("alice");
        }
        if i >= 100 {
            events.push(Event::comment_on_issue(
                "alice",
                &incident,
                &stamp(created + Span::hours(1)),
                "Mitigated",
            ));
        }
        data = data.issue(incident);
        if i % 3 != 0 {
            data = data.timeline_event(TimelineEvent::new(
                50_000 + i,
                40_000 + i,
                "alice",
                &stamp(created + Span::minutes(10)),
            ));
        }
    }
    for i in 0..60 {
        data = data.epic(
            Epic::new(
                60_000 + i,
                "acme",
                i + 1,
                &format!("Epic {i}"),
                "alice",
                &stamp(when(i, 60)),
            )
            .children(2, 8),
        );
    }
    let mut rotation = OncallRotation::new(1, "Primary");
    for week in 0..52 {
        let from = start + Span::weeks(week);
        rotation = rotation.shift("alice", &stamp(from), &stamp(from + Span::hours(12)));
    }
    data = data.oncall_schedule(OncallSchedule::new(PRODUCTION, 1, "SRE").rotation(rotation));
    for event in events {
        data = data.event(event);
    }
    data
}

/// A little of what happens in a week: a new merge request, her new comments on a merge
/// request she was asked to review and on one she found herself, an issue retitled, a new
/// timeline entry. GitLab updates what a note lands on.
fn a_week_later(mut data: Dataset) -> Dataset {
    let now = Utc::now() - Span::minutes(1);
    let mr = |data: &Dataset, title: &str| data.mr_titled(title).clone();
    let requested = mr(&data, "Review 2698");
    let found = mr(&data, "Review 2999");
    for title in ["Review 2698", "Review 2999"] {
        let m = data
            .merge_requests
            .iter_mut()
            .find(|m| m.title == title)
            .expect("the merge request");
        m.updated_at = now;
    }
    let issue = data
        .issues
        .iter_mut()
        .find(|i| i.title == "Issue 650")
        .expect("the issue");
    issue.title = "Issue 650, with a clearer title".into();
    issue.updated_at = now;
    let incident = data
        .issues
        .iter_mut()
        .find(|i| i.title == "Incident 149")
        .expect("the incident");
    incident.updated_at = now;
    data.timeline_events
        .push(TimelineEvent::new(59_999, 40_149, "alice", &stamp(now)));
    data.mr(MergeRequest::new(
        19_999,
        201,
        4999,
        "Change made this week",
        "alice",
        &stamp(now - Span::hours(1)),
    )
    .merged(&stamp(now)))
        .event(Event::comment(
            "alice",
            &requested,
            &stamp(now),
            "One more thing",
        ))
        .event(Event::diff_comment(
            "alice",
            &found,
            &stamp(now),
            "And here",
        ))
}

fn config(env: &TestEnv) -> PathBuf {
    env.write(
        "config.toml",
        &format!("{FAST_CONFIG}\n[harvest]\noncall_projects = [\"acme/production\"]\n"),
    )
}

/// `harvest --user alice` for the period, written to `out`, with `extra` flags.
fn harvest(env: &TestEnv, fake: &FakeGitlab, year: &Year, out: &str, extra: &[&str]) -> Value {
    config(env);
    let path = env.path(out);
    run(env
        .gl(fake)
        .args(["harvest", "--user", "alice"])
        .args(year.args())
        .args(extra)
        .arg("--out")
        .arg(&path))
    .success();
    read_snapshot(&path)
}

/// Requests by GraphQL operation or REST route, for the messages.
fn by_route(requests: &[RecordedRequest]) -> BTreeMap<String, usize> {
    let mut routes = BTreeMap::new();
    for r in requests {
        let route = r.operation.clone().unwrap_or_else(|| {
            r.path
                .split('/')
                .map(|s| {
                    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
                        ":id"
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        });
        *routes.entry(route).or_insert(0) += 1;
    }
    routes
}

/// The items of two snapshots are the same, field by field; the first difference otherwise.
fn assert_same_items(got: &Value, want: &Value) {
    let (got, want) = (items(got), items(want));
    let key = |i: &Value| format!("{} {} {}", i["kind"], i["id"], i["role"]);
    let got_keys: Vec<String> = got.iter().map(key).collect();
    let want_keys: Vec<String> = want.iter().map(key).collect();
    let missing: Vec<&String> = want_keys.iter().filter(|k| !got_keys.contains(k)).collect();
    let extra: Vec<&String> = got_keys.iter().filter(|k| !want_keys.contains(k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "items differ: missing {missing:?}, unexpected {extra:?}"
    );
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g, w, "item {} differs", key(w));
    }
}

fn cache_files(env: &TestEnv) -> Vec<PathBuf> {
    match std::fs::read_dir(env.cache_dir()) {
        Ok(entries) => entries.map(|e| e.expect("entry").path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_re_run_a_week_later_reads_only_what_changed() {
    let env = TestEnv::new();
    let year = Year::ending_tomorrow();
    let fake = FakeGitlab::start(prolific(&year), Faults::default());

    let first = harvest(&env, &fake, &year, "first.json", &[]);
    let cold = fake.requests();
    assert!(
        cold.len() >= 100,
        "the dataset must be big enough to matter: {} requests",
        cold.len()
    );

    fake.replace_data(a_week_later(fake.data()));
    let second = harvest(&env, &fake, &year, "second.json", &[]);
    let warm: Vec<RecordedRequest> = fake.requests()[cold.len()..].to_vec();
    let fresh = harvest(&env, &fake, &year, "fresh.json", &["--no-cache"]);
    let fresh_requests = fake.requests().len() - cold.len() - warm.len();

    let ratio = warm.len() as f64 / cold.len() as f64;
    println!(
        "cold run: {} requests; re-run after a week's changes: {} requests ({:.1}% of cold); cold run on the new data: {fresh_requests}",
        cold.len(),
        warm.len(),
        ratio * 100.0
    );
    println!("cold by route: {:#?}", by_route(&cold));
    println!("re-run by route: {:#?}", by_route(&warm));
    assert!(
        warm.len() * 10 <= cold.len(),
        "a re-run made {} requests, more than 10% of the cold run's {}: {:#?}",
        warm.len(),
        cold.len(),
        by_route(&warm)
    );

    // The re-run's snapshot is the one a first run on the new data gives.
    assert_same_items(&second, &fresh);
    assert_ne!(
        items(&first).len(),
        items(&second).len(),
        "the new merge request is there"
    );
    let titles: Vec<&str> = items(&second)
        .iter()
        .filter_map(|i| i["title"].as_str())
        .collect();
    assert!(titles.contains(&"Change made this week"));
    assert!(titles.contains(&"Issue 650, with a clearer title"));
    assert!(!titles.contains(&"Issue 650"));
    let comments = |snapshot: &Value, title: &str| {
        items(snapshot)
            .iter()
            .find(|i| i["title"] == title && i["kind"] == "review")
            .map(|i| i["comments"].clone())
    };
    assert_eq!(comments(&first, "Review 2999"), Some(1.into()));
    assert_eq!(comments(&second, "Review 2999"), Some(2.into()));
    assert_eq!(comments(&second, "Review 2698"), Some(2.into()));
    let timeline = |snapshot: &Value| {
        items(snapshot)
            .iter()
            .find(|i| i["title"] == "Incident 149")
            .map(|i| i["timeline_events"].clone())
    };
    assert_eq!(timeline(&first), Some(1.into()));
    assert_eq!(timeline(&second), Some(2.into()));
    for source in sources(&second) {
        assert_ne!(source["status"], "failed", "{source:#}");
        assert_ne!(source["status"], "partial", "{source:#}");
    }

    // Only changes were asked for: the four lists in one request, from the last read on.
    let first_started = cold.first().expect("requests").at;
    let changed: Vec<&RecordedRequest> = warm
        .iter()
        .filter(|r| r.operation.as_deref() == Some("ChangedWork"))
        .collect();
    assert_eq!(changed.len(), 1, "one page of changes");
    for list in [
        "AuthoredMergeRequests",
        "ReviewRequestedMergeRequests",
        "Issues",
    ] {
        assert!(
            !warm.iter().any(|r| r.operation.as_deref() == Some(list)),
            "{list} was asked on its own"
        );
    }
    let asked: DateTime<Utc> = changed[0].variables().expect("variables")["updatedAfter"]
        .as_str()
        .expect("updatedAfter")
        .parse()
        .expect("a time");
    let started_at = Utc::now() - first_started.elapsed();
    assert!(
        asked > started_at - Span::minutes(11) && asked < started_at,
        "asked for changes since {asked}, the first run began at {started_at}"
    );
}

/// Alice's busy quarter, with `n` of her merge requests touched after the first run.
fn busy_with_changes(fake: &FakeGitlab, n: usize) {
    let mut data = fake.data();
    let now = Utc::now() - Span::minutes(1);
    for mr in data
        .merge_requests
        .iter_mut()
        .filter(|m| m.author == "alice")
        .take(n)
    {
        mr.title = format!("{} (retitled)", mr.title);
        mr.updated_at = now;
    }
    fake.replace_data(data);
}

fn busy_harvest(env: &TestEnv, fake: &FakeGitlab, out: &str, extra: &[&str]) -> Value {
    let path = env.path(out);
    run(env
        .gl(fake)
        .args(["harvest", "--user", "alice", "--from", "2026-07-01", "--to"])
        .arg((Utc::now().date_naive() + chrono::Days::new(1)).to_string())
        .args(extra)
        .arg("--out")
        .arg(&path))
    .success();
    read_snapshot(&path)
}

#[test]
fn more_changes_than_a_page_go_on_with_each_lists_own_query() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::busy(), Faults::default());
    busy_harvest(&env, &fake, "cold.json", &[]);
    let cold = fake.requests().len();
    busy_with_changes(&fake, 150);
    let warm = busy_harvest(&env, &fake, "warm.json", &[]);
    let asked = fake.requests()[cold..].to_vec();
    let fresh = busy_harvest(&env, &fake, "fresh.json", &["--no-cache"]);
    assert_same_items(&warm, &fresh);
    let retitled = items(&warm)
        .iter()
        .filter(|i| {
            i["title"]
                .as_str()
                .is_some_and(|t| t.ends_with("(retitled)"))
        })
        .count();
    assert_eq!(retitled, 150);
    let routes = by_route(&asked);
    assert_eq!(routes.get("ChangedWork"), Some(&1), "{routes:#?}");
    // 20 in the shared page, 100 and 30 more from the cursor on.
    assert_eq!(routes.get("AuthoredMergeRequests"), Some(&2), "{routes:#?}");
    let cursors: Vec<Value> = asked
        .iter()
        .filter(|r| r.operation.as_deref() == Some("AuthoredMergeRequests"))
        .map(|r| r.variables().unwrap()["after"].clone())
        .collect();
    assert!(cursors.iter().all(|c| c.is_string()), "{cursors:?}");
}

#[test]
fn lists_ask_on_their_own_when_the_shared_request_fails() {
    let env = TestEnv::new();
    // GitLab finds four lists in one query too complex.
    let fake = FakeGitlab::start(
        scenario::busy(),
        Faults {
            targets: vec!["ChangedWork".into()],
            graphql: Some(GraphqlFault::Complexity {
                score: 310,
                limit: 250,
            }),
            ..Faults::default()
        },
    );
    busy_harvest(&env, &fake, "cold.json", &[]);
    let cold = fake.requests().len();
    busy_with_changes(&fake, 3);
    let warm = busy_harvest(&env, &fake, "warm.json", &[]);
    let routes = by_route(&fake.requests()[cold..]);
    let fresh = busy_harvest(&env, &fake, "fresh.json", &["--no-cache"]);
    assert_same_items(&warm, &fresh);
    for list in [
        "ChangedWork",
        "AuthoredMergeRequests",
        "ReviewRequestedMergeRequests",
    ] {
        assert_eq!(routes.get(list), Some(&1), "{list}: {routes:#?}");
    }
    assert_eq!(routes.get("Issues"), Some(&2), "{routes:#?}");
    for source in sources(&warm) {
        assert_ne!(source["status"], "partial", "{source:#}");
    }
}

#[test]
fn refresh_reads_everything_and_rewrites_the_cache() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let quarter = ["--quarter", "2026Q3"];
    let harvest = |out: &str, extra: &[&str]| {
        let path = env.path(out);
        run(env
            .gl(&fake)
            .args(["harvest", "--user", "alice"])
            .args(quarter)
            .args(extra)
            .arg("--out")
            .arg(&path))
        .success();
        read_snapshot(&path)
    };
    let counted = |f: &dyn Fn()| {
        let before = fake.requests().len();
        f();
        fake.requests().len() - before
    };
    let cold = counted(&|| {
        harvest("cold.json", &[]);
    });
    let warm = counted(&|| {
        harvest("warm.json", &[]);
    });
    let refreshed = counted(&|| {
        harvest("refreshed.json", &["--refresh"]);
    });
    let again = counted(&|| {
        harvest("again.json", &[]);
    });
    println!("cold {cold}, warm {warm}, --refresh {refreshed}, after it {again}");
    assert!(warm < cold, "the re-run used the cache: {warm} of {cold}");
    assert_eq!(refreshed, cold, "--refresh reads everything");
    assert_eq!(again, warm, "and rewrites the cache");
    assert_same_items(
        &read_snapshot(&env.path("warm.json")),
        &read_snapshot(&env.path("cold.json")),
    );
    assert_same_items(
        &read_snapshot(&env.path("again.json")),
        &read_snapshot(&env.path("cold.json")),
    );
    // The quarter is over: its events cannot change, so the re-runs do not ask for them.
    let events_asked = fake.requests_to("/events").len();
    assert_eq!(
        events_asked, 6,
        "three lists on each full read, none on re-runs"
    );
}

#[test]
fn no_cache_neither_reads_nor_writes_a_cache() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    for out in ["one.json", "two.json"] {
        run(env
            .gl(&fake)
            .args([
                "harvest",
                "--user",
                "alice",
                "--quarter",
                "2026Q3",
                "--no-cache",
            ])
            .arg("--out")
            .arg(env.path(out)))
        .success();
    }
    assert!(
        !env.cache_dir().exists(),
        "no cache directory: {:?}",
        cache_files(&env)
    );
    let total = fake.requests().len();
    assert_eq!(total % 2, 0);
    assert_eq!(total / 2, 12, "both runs read everything");
    // brag and team take the flags too.
    run(env
        .gl(&fake)
        .args([
            "brag",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--no-cache",
        ])
        .arg("--out")
        .arg(env.path("brag.md")))
    .success();
    run(env
        .gl(&fake)
        .args([
            "team",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--refresh",
        ])
        .arg("--out")
        .arg(env.path("team.md")))
    .success();
    assert!(env.cache_dir().exists(), "team --refresh writes the cache");
    let conflict = run(env
        .gl(&fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3"])
        .args(["--no-cache", "--refresh"]));
    conflict.code(2).stderr_has("--no-cache");
}

#[test]
fn config_can_switch_the_cache_off_or_move_it() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let elsewhere = env.path("my-cache");
    env.write(
        "config.toml",
        &format!(
            "{FAST_CONFIG}\n[cache]\ndir = {:?}\n",
            elsewhere.display().to_string()
        ),
    );
    run(env
        .gl(&fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(env.path("a.json")))
    .success();
    assert!(elsewhere.is_dir(), "cache.dir is used");
    assert!(!env.cache_dir().exists());

    env.write(
        "config.toml",
        &format!("{FAST_CONFIG}\n[cache]\nenabled = false\n"),
    );
    run(env
        .gl(&fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(env.path("b.json")))
    .success();
    assert!(!env.cache_dir().exists(), "cache.enabled = false");

    env.write(
        "config.toml",
        &format!("{FAST_CONFIG}\n[cache]\nmax_age_days = 0\n"),
    );
    run(env
        .gl(&fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3"]))
    .code(2)
    .stderr_has("cache.max_age_days");
}

#[test]
fn the_cache_is_safe_to_delete_even_during_a_run() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            latency_ms: 100,
            ..Faults::default()
        },
    );
    let harvest = |out: &str| {
        env.gl(&fake)
            .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
            .arg(env.path(out))
            .assert()
            .success();
        read_snapshot(&env.path(out))
    };
    let cold = harvest("cold.json");
    let cold_requests = fake.requests().len();
    std::fs::remove_dir_all(env.cache_dir()).expect("delete the cache");
    harvest("after-delete.json");
    assert_eq!(
        fake.requests().len(),
        2 * cold_requests,
        "a deleted cache means a full read"
    );

    // Deleted while a run is under way (the fake's latency keeps it busy).
    let mut running = env
        .std_command()
        .env("GITLAB_URL", &fake.url)
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
        ])
        .arg("--out")
        .arg(env.path("during.json"))
        .spawn()
        .expect("start gl-evidence");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while fake.requests().len() < 2 * cold_requests + 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::remove_dir_all(env.cache_dir()).expect("delete the cache mid-run");
    let status = running.wait().expect("wait for gl-evidence");
    assert!(status.success(), "{status}");
    assert_same_items(&read_snapshot(&env.path("during.json")), &cold);
    // And the next run starts afresh, then re-runs cheaply again.
    let before = fake.requests().len();
    assert_same_items(&harvest("next.json"), &cold);
    assert_eq!(fake.requests().len() - before, cold_requests);
    let before = fake.requests().len();
    assert_same_items(&harvest("warm.json"), &cold);
    assert!(fake.requests().len() - before < cold_requests);
}

#[test]
fn a_corrupt_cache_is_a_warning_and_a_full_read() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let harvest = |out: &str| {
        let r = run(env
            .gl(&fake)
            .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
            .arg(env.path(out)));
        r.success();
        r
    };
    harvest("cold.json");
    let cold_requests = fake.requests().len();
    let files = cache_files(&env);
    let db = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "sqlite3"))
        .unwrap_or_else(|| panic!("a cache file among {files:?}"));
    std::fs::write(db, b"this is not what SQLite wrote\n".repeat(100)).expect("corrupt it");
    let warned = harvest("after.json");
    warned
        .stderr_mentions("cache")
        .stderr_mentions("unreadable");
    assert_eq!(fake.requests().len(), 2 * cold_requests, "a full read");
    assert_same_items(
        &read_snapshot(&env.path("after.json")),
        &read_snapshot(&env.path("cold.json")),
    );
    // The cache was started afresh and serves the next run.
    let before = fake.requests().len();
    harvest("warm.json").stderr_lacks("unreadable");
    assert!(fake.requests().len() - before < cold_requests);
}

#[test]
fn the_token_never_reaches_the_cache() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    for out in ["a.json", "b.json"] {
        run(env
            .gl(&fake)
            .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
            .arg(env.path(out)))
        .success();
    }
    let files = cache_files(&env);
    assert!(!files.is_empty());
    let mut bytes = 0;
    for file in &files {
        let content = std::fs::read(file).expect("read cache file");
        bytes += content.len();
        assert!(
            !contains(&content, TOKEN.as_bytes()),
            "{} holds the token",
            file.display()
        );
    }
    assert!(bytes > 1000, "the cache holds the harvest: {bytes} bytes");
    // Records long enough to spill over SQLite pages are split in the file: read them whole too.
    let db = files
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "sqlite3"))
        .expect("the cache file");
    let connection =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the cache");
    let mut statement = connection
        .prepare("SELECT instance, viewer, owner, period, stream, records FROM entries")
        .expect("query");
    let rows: Vec<String> = statement
        .query_map([], |row| {
            Ok((0..6)
                .map(|i| row.get::<_, String>(i))
                .collect::<Result<Vec<_>, _>>()?
                .join(" "))
        })
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert!(rows.len() >= 8, "every stream is kept: {}", rows.len());
    assert!(rows.iter().all(|r| !r.contains(TOKEN)));
    assert!(
        rows.iter().any(|r| r.contains(scenario::RETRY_BUDGET)),
        "the harvest is in there"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn instances_and_periods_never_mix() {
    let env = TestEnv::new();
    let first = FakeGitlab::start(scenario::team(), Faults::default());
    let harvest = |fake: &FakeGitlab, quarter: &str, out: &str| {
        run(env
            .gl(fake)
            .args(["harvest", "--user", "alice", "--quarter", quarter, "--out"])
            .arg(env.path(out)))
        .success();
        read_snapshot(&env.path(out))
    };
    let q3 = harvest(&first, "2026Q3", "q3.json");
    let full = first.requests().len();
    // Another period: read whole, and its own answer.
    let q2 = harvest(&first, "2026Q2", "q2.json");
    let asked: Vec<String> = first.requests()[full..]
        .iter()
        .filter(|r| r.operation.as_deref() == Some("AuthoredMergeRequests"))
        .map(|r| {
            r.variables().unwrap()["updatedAfter"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        asked.iter().all(|a| a.starts_with("2026-04-01T00:00:00")) && !asked.is_empty(),
        "another period is read whole: {asked:?}"
    );
    assert_ne!(items(&q2).len(), items(&q3).len());

    // Another instance with other data for the same user: nothing from the first.
    let other = FakeGitlab::start(scenario::busy(), Faults::default());
    let busy = harvest(&other, "2026Q3", "other.json");
    let fresh_env = TestEnv::new();
    let path = fresh_env.path("fresh.json");
    run(fresh_env
        .gl(&other)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(&path))
    .success();
    assert_same_items(&busy, &read_snapshot(&path));
}

#[test]
fn a_failed_stream_is_read_whole_next_time() {
    let env = TestEnv::new();
    // The first authored-merge-request request fails past every retry.
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            fail_first_n_with_5xx: 5,
            targets: vec!["AuthoredMergeRequests".into()],
            ..Faults::default()
        },
    );
    let harvest = |out: &str| {
        let r = run(env
            .gl(&fake)
            .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
            .arg(env.path(out)));
        r.code_in(&[0, 3]);
        read_snapshot(&env.path(out))
    };
    let broken = harvest("broken.json");
    let status = |s: &Value| {
        sources(s)
            .iter()
            .find(|s| s["name"] == "merge_requests")
            .map(|s| s["status"].clone())
    };
    assert_eq!(status(&broken), Some("failed".into()));
    let healed = harvest("healed.json");
    assert_eq!(status(&healed), Some("ok".into()));
    let asked: Vec<String> = fake
        .graphql_requests("AuthoredMergeRequests")
        .iter()
        .map(|r| {
            r.variables().unwrap()["updatedAfter"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        asked
            .last()
            .is_some_and(|a| a.starts_with("2026-07-01T00:00:00")),
        "the failed stream is read from the period's start: {asked:?}"
    );
    let fresh_env = TestEnv::new();
    let path = fresh_env.path("fresh.json");
    run(fresh_env
        .gl(&fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(&path))
    .success();
    assert_same_items(&healed, &read_snapshot(&path));
}

#[test]
fn two_runs_at_once_share_the_cache_safely() {
    let env = TestEnv::new();
    let year = Year::ending_tomorrow();
    let fake = FakeGitlab::start(
        prolific(&year),
        Faults {
            latency_ms: 5,
            ..Faults::default()
        },
    );
    config(&env);
    let spawn = |out: &str| {
        env.std_command()
            .env("GITLAB_URL", &fake.url)
            .env("GITLAB_TOKEN", TOKEN)
            .arg("--config")
            .arg(env.config())
            .args(["--no-progress", "harvest", "--user", "alice"])
            .args(year.args())
            .arg("--out")
            .arg(env.path(out))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start gl-evidence")
    };
    let (a, b) = (spawn("a.json"), spawn("b.json"));
    for child in [a, b] {
        let output = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{}: {stderr}", output.status);
        assert!(!stderr.contains("cache"), "no cache trouble: {stderr}");
    }
    let a = read_snapshot(&env.path("a.json"));
    assert_same_items(&read_snapshot(&env.path("b.json")), &a);
    // What they left is sound and complete.
    let before = fake.requests().len();
    let c = harvest(&env, &fake, &year, "c.json", &[]);
    assert_same_items(&c, &a);
    assert!((fake.requests().len() - before) * 10 <= before / 2);
}

/// The cache remembers whose a username was, so that a re-run need not wait for the user
/// lookup. When the name has since gone to another account, what it remembered was someone
/// else's: the run reads everything, and the run after that is incremental again.
#[test]
fn a_username_that_now_names_another_account_is_read_whole() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let harvest = |out: &str| {
        let path = env.path(out);
        run(env
            .gl(&fake)
            .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
            .arg(&path))
        .success();
        read_snapshot(&path)
    };
    let first = harvest("first.json");
    let cold = fake.requests().len();

    // Alice's account is renamed, and a new account takes her old name.
    let mut data = fake.data();
    for user in &mut data.users {
        if user.username == "alice" {
            user.username = "alice-old".into();
        }
    }
    fake.replace_data(data.user(999, "alice", "Another Alice"));
    let second = harvest("second.json");
    let reread = fake.requests().len() - cold;
    assert!(
        reread >= cold,
        "read whole: {reread} requests, where a cold read took {cold}"
    );
    assert_eq!(second["subjects"][0]["id"], 999);
    assert_same_items(&second, &first);
    let counted: u64 = sources(&second)
        .iter()
        .map(|s| s["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(
        counted as usize, reread,
        "the sources account for every request"
    );

    let before = fake.requests().len();
    let third = harvest("third.json");
    let incremental = fake.requests().len() - before;
    assert!(
        incremental < cold,
        "the account is known now: {incremental} requests, a cold read {cold}"
    );
    assert_same_items(&third, &first);
}
