//! `gl-evidence harvest` against the fake: which items a period holds, what each says, how the
//! client talks to GitLab (exact requests, paging, auth), and instances under a path.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::fake_gitlab::{FakeGitlab, Faults, RecordedRequest, TOKEN};
use crate::scenario::{self, *};
use crate::support::*;

fn harvest_alice_q3(env: &TestEnv, fake: &FakeGitlab, extra: &[&str]) -> (Run, Value) {
    let out = env.path("snapshot.json");
    let run = run(env
        .gl(fake)
        .args(extra)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(&out));
    run.success();
    let snapshot = read_snapshot(&out);
    (run, snapshot)
}

fn assert_alice_q3_items(snapshot: &Value) {
    let got = item_keys(snapshot);
    let want = scenario::alice_q3();
    assert!(
        got == want,
        "harvest of alice over 2026Q3 differs:\n{}",
        diff_keys(&got, &want)
    );
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a time: {value}")),
    )
    .unwrap_or_else(|e| panic!("not RFC 3339: {value}: {e}"))
    .with_timezone(&Utc)
}

/// Every request was one the client is meant to make, was authenticated and answered.
fn assert_clean_traffic(requests: &[RecordedRequest]) {
    assert!(!requests.is_empty(), "the fake saw no request");
    for r in requests {
        let line = format!("{} {}?{} ({:?})", r.method, r.path, r.query, r.operation);
        assert_ne!(
            r.status, 404,
            "the client asked for something GitLab does not serve: {line}"
        );
        assert_ne!(r.status, 401, "unauthenticated request: {line}");
        assert!(
            !r.query.contains("created_by_me") && r.param("scope").is_none(),
            "no `scope` filter (it defaults to the token owner): {line}"
        );
        assert!(!r.query.contains(TOKEN), "token in a query string: {line}");
        let agent = r.header("user-agent").unwrap_or("");
        assert!(
            agent.starts_with("gl-evidence/"),
            "user agent {agent:?} on {line}"
        );
        if r.is_graphql() {
            assert_eq!(
                r.header("authorization"),
                Some(format!("Bearer {TOKEN}").as_str()),
                "GraphQL authenticates with a Bearer token: {line}"
            );
        }
    }
}

#[test]
fn harvest_alice_over_a_quarter() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let (run, snapshot) = harvest_alice_q3(&env, &fake, &["-v"]);

    assert_alice_q3_items(&snapshot);
    assert_eq!(snapshot["gitlab_url"], fake.url.as_str());
    assert_eq!(snapshot["period"]["from"], "2026-07-01");
    assert_eq!(snapshot["period"]["to"], "2026-09-30");
    let subjects = snapshot["subjects"].as_array().unwrap();
    assert_eq!(subjects.len(), 1, "{subjects:?}");
    assert_eq!(subjects[0]["username"], "alice");
    assert_eq!(subjects[0]["name"], "Alice Liddell");
    assert_eq!(subjects[0]["id"], ALICE_ID);

    // The merge request items carry what GitLab said about them.
    let retry = item(&snapshot, "alice", "merge_request", RETRY_BUDGET);
    assert_eq!(retry["role"], "author");
    assert_eq!(retry["id"], "gid://gitlab/MergeRequest/5001");
    assert_eq!(
        retry["web_url"],
        format!("{}/acme/platform/-/merge_requests/11", fake.url)
    );
    assert_eq!(retry["project"], "acme/platform");
    assert_eq!(retry["state"], "merged");
    assert_eq!(
        time(&retry["created_at"]),
        crate::fake_gitlab::at("2026-07-03T09:00:00Z")
    );
    assert_eq!(
        time(&retry["merged_at"]),
        crate::fake_gitlab::at("2026-07-10T15:30:00Z")
    );
    let labels: BTreeSet<&str> = retry["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(labels, BTreeSet::from(["type::feature", "reliability"]));
    assert_eq!(retry["additions"], 120);
    assert_eq!(retry["deletions"], 30);
    let paths: BTreeSet<&str> = retry["changed_paths"]
        .as_array()
        .unwrap_or_else(|| panic!("changed_paths: {retry:#}"))
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        BTreeSet::from([
            ".gitlab-ci.yml",
            "deploy/retry_budget.go",
            "deploy/retry_budget_test.go",
            "deploy/train.go",
            "docs/deploy.md",
            "deploy/metrics.go",
        ])
    );
    assert!(retry["description"]
        .as_str()
        .unwrap()
        .contains("flapping check"));

    let closed = item(&snapshot, "alice", "merge_request", REMOVE_FLAG);
    assert_eq!(closed["state"], "closed");
    assert_eq!(
        time(&closed["closed_at"]),
        crate::fake_gitlab::at("2026-09-29T17:00:00Z")
    );

    // Reviews: role, own comment count and approval, whichever way each was found.
    let expect_review = |title: &str, role: &str, comments: u64, approved: bool| {
        let review = item(&snapshot, "alice", "review", title);
        assert_eq!(review["role"], role, "{title}: {review:#}");
        let count = review.get("comments").and_then(Value::as_u64).unwrap_or(0);
        assert_eq!(
            count, comments,
            "{title}: alice's own comment count: {review:#}"
        );
        let did_approve = review
            .get("approved")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        assert_eq!(did_approve, approved, "{title}: approved: {review:#}");
        assert!(
            review["web_url"].as_str().unwrap().starts_with(&fake.url),
            "{title}: web_url {}",
            review["web_url"]
        );
        review
    };
    // Requested reviewer who approved and left two diff comments (alice2's comment is hers).
    let slo = expect_review(SLO_DASHBOARDS, "approver", 2, true);
    assert_eq!(slo["id"], "gid://gitlab/MergeRequest/5101");
    assert_eq!(slo["project"], "acme/platform");
    // Requested reviewer who asked for changes in two diff comments and one general comment.
    let backend = expect_review(STATE_BACKEND, "reviewer", 3, false);
    assert_eq!(backend["project"], "acme/infra/terraform");
    // Found only through an approval event.
    expect_review(TLS_MINIMUM, "approver", 0, true);
    // Found only through comment events, on the last and the first day of the period.
    expect_review(RECOMMENDATIONS, "commenter", 1, false);
    expect_review(CANARY, "commenter", 1, false);
    // Requested, not yet acted on.
    expect_review(DRIFT_DETECTION, "reviewer", 0, false);

    // Her own MR she commented on is not a review; nothing of alice2's or malice's is hers.
    for i in items(&snapshot) {
        assert_eq!(i["subject"], "alice", "{i:#}");
        let title = i["title"].as_str().unwrap();
        if i["kind"] == "review" {
            assert_ne!(
                title, RETRY_BUDGET,
                "commenting on your own MR is not a review"
            );
        }
        assert!(
            ![METRICS_NAMESPACE, CACHE_WARMERS, LINT_RULES].contains(&title),
            "{title} belongs to alice2/malice"
        );
    }

    // Each source says how it went, and how many requests it made: exactly these, nothing per
    // item.
    // - merge_requests: the user lookup (counted once, here) and one page of authored MRs;
    // - reviews: one page of review-requested MRs and one request for the MRs by iid the events
    //   name that the requests did not, in two projects (acme/platform and acme/secret-sauce);
    // - issues: one page of issues she authored and one of issues she is assigned to;
    // - incidents: one batch of issues by iid per project the events name that those two did
    //   not (acme/platform, for her comment on #40), and one lookup of the visibility of the
    //   projects all those issues live in;
    // - epics: one page of work items in `acme`, the top-level group of her projects;
    // - oncall_shifts: none, no on-call project is configured;
    // - interviews: none, it sorts what the others found;
    // - events: one page each of comment, approval and close events.
    let want_requests = BTreeMap::from([
        ("merge_requests", 2),
        ("reviews", 2),
        ("issues", 2),
        ("incidents", 2),
        ("epics", 1),
        ("oncall_shifts", 0),
        ("interviews", 0),
        ("events", 3),
    ]);
    assert_sources_complete(&snapshot);
    let sources = sources(&snapshot);
    let mut got_requests = BTreeMap::new();
    for source in sources {
        assert_eq!(source["subject"], "alice", "{source:#}");
        let name = source["name"]
            .as_str()
            .unwrap_or_else(|| panic!("source without a name: {source:#}"));
        let requests = source["requests"]
            .as_u64()
            .unwrap_or_else(|| panic!("requests count: {source:#}"));
        assert!(source["items"].as_u64().is_some(), "{source:#}");
        assert!(
            got_requests.insert(name, requests).is_none(),
            "source {name} listed twice"
        );
    }
    assert_eq!(got_requests, want_requests, "requests per source");
    let total: u64 = want_requests.values().sum();
    let requests = fake.requests();
    assert_eq!(
        total as usize,
        requests.len(),
        "the sources account for every request the fake saw"
    );
    // 12: 1 user lookup + 1 authored MRs + 1 review-requested MRs + 1 ProjectMergeRequests
    // (two projects, one request) + 2 Issues (author, assignee) + 1 ProjectIssues + 1 ProjectVisibility + 1 epic work
    // items page + 3 event lists (commented, approved, closed).
    assert_eq!(
        requests.len(),
        12,
        "requests made: {:#?}",
        requests
            .iter()
            .map(|r| format!("{} {}?{} {:?}", r.method, r.path, r.query, r.operation))
            .collect::<Vec<_>>()
    );

    // How the client talked to GitLab.
    assert_clean_traffic(&requests);
    let lookups = fake.requests_to("/api/v4/users");
    assert!(
        lookups.iter().any(|r| r.path.ends_with("/api/v4/users")
            && r.param("username").as_deref() == Some("alice")),
        "user looked up by username"
    );
    // A plain username stands in for the id, so the events need not wait for the lookup.
    let events = fake.requests_to("/api/v4/users/alice/events");
    let actions: BTreeSet<String> = events.iter().filter_map(|r| r.param("action")).collect();
    assert_eq!(
        actions,
        BTreeSet::from([
            "approved".to_string(),
            "closed".to_string(),
            "commented".to_string()
        ])
    );
    for r in &events {
        assert_eq!(
            r.param("after").as_deref(),
            Some("2026-06-30"),
            "after is exclusive: {}",
            r.query
        );
        assert_eq!(
            r.param("before").as_deref(),
            Some("2026-10-01"),
            "before is exclusive: {}",
            r.query
        );
        assert_eq!(r.param("sort").as_deref(), Some("asc"), "{}", r.query);
        assert_eq!(r.param("per_page").as_deref(), Some("100"), "{}", r.query);
    }
    for operation in ["AuthoredMergeRequests", "ReviewRequestedMergeRequests"] {
        let calls = fake.graphql_requests(operation);
        assert!(!calls.is_empty(), "{operation} was asked");
        for call in calls {
            let vars = call.variables().expect("variables");
            assert_eq!(vars["username"], "alice");
            assert_eq!(
                time(&vars["updatedAfter"]),
                crate::fake_gitlab::at("2026-07-01T00:00:00Z")
            );
            let before = time(&vars["createdBefore"]);
            assert!(
                before > crate::fake_gitlab::at("2026-09-30T23:59:00Z")
                    && before <= crate::fake_gitlab::at("2026-10-01T00:00:00Z"),
                "createdBefore {before} ends the period"
            );
            let first = vars["first"].as_u64().unwrap();
            assert!((1..=100).contains(&first), "first = {first}");
        }
    }
    let others: Vec<_> = requests
        .iter()
        .filter(|r| r.is_graphql())
        .filter_map(|r| r.operation.clone())
        .filter(|o| {
            ![
                "AuthoredMergeRequests",
                "ReviewRequestedMergeRequests",
                "ProjectMergeRequests",
                "Issues",
                "ProjectIssues",
                "ProjectVisibility",
                "GroupEpicWorkItems",
            ]
            .contains(&o.as_str())
        })
        .collect();
    assert!(
        others.is_empty(),
        "unexpected GraphQL operations {others:?}"
    );

    // The token appears nowhere it could leak.
    let text = read_text(&env.path("snapshot.json"));
    assert!(!text.contains(TOKEN), "the token is in the snapshot");
    run.stderr_lacks(TOKEN);
}

#[test]
fn items_from_private_projects_are_confidential() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let (_, snapshot) = harvest_alice_q3(&env, &fake, &[]);
    for (kind, title) in [("merge_request", TENANT_CACHE), ("review", RECOMMENDATIONS)] {
        let i = item(&snapshot, "alice", kind, title);
        assert_eq!(i["project"], "acme/secret-sauce");
        assert_eq!(
            i["confidential"], true,
            "{title} is from a private project: {i:#}"
        );
    }
    let public = item(&snapshot, "alice", "merge_request", RETRY_BUDGET);
    assert_ne!(public["confidential"], true, "{public:#}");
}

#[test]
fn harvest_collects_every_page() {
    for hide_totals in [false, true] {
        let env = TestEnv::new();
        let fake = FakeGitlab::start(
            scenario::busy(),
            Faults {
                hide_totals,
                // Long enough that pages asked together are in flight together.
                latency_ms: 30,
                ..Faults::default()
            },
        );
        let (_, snapshot) = harvest_alice_q3(&env, &fake, &[]);
        let context = if hide_totals { " (x-total hidden)" } else { "" };

        let authored: BTreeSet<String> = items(&snapshot)
            .iter()
            .filter(|i| i["kind"] == "merge_request")
            .map(|i| i["title"].as_str().unwrap().to_string())
            .collect();
        let want: BTreeSet<String> = (0..MANY_AUTHORED)
            .map(|n| format!("Busy change {n:03}"))
            .collect();
        assert!(
            authored == want,
            "authored MRs{context}: {} of {} (missing e.g. {:?})",
            authored.len(),
            want.len(),
            want.difference(&authored).take(3).collect::<Vec<_>>()
        );

        let reviews: Vec<&Value> = items(&snapshot)
            .iter()
            .filter(|i| i["kind"] == "review")
            .collect();
        assert_eq!(reviews.len(), MANY_REVIEWED as usize, "reviews{context}");
        let mut comments = 0;
        for n in 0..MANY_REVIEWED {
            let title = format!("Bob change {n:03}");
            let review = item(&snapshot, "alice", "review", &title);
            assert_eq!(review["role"], "commenter", "{review:#}");
            assert_eq!(
                review["comments"].as_u64(),
                Some(busy_comments_on(n)),
                "{title}{context}"
            );
            comments += busy_comments_on(n);
        }
        assert_eq!(comments, MANY_EVENTS);

        let pages: BTreeSet<String> = fake
            .requests_to("/events")
            .iter()
            .filter(|r| r.param("action").as_deref() == Some("commented"))
            .filter_map(|r| r.param("page").or(Some("1".to_string())))
            .collect();
        assert_eq!(
            pages,
            BTreeSet::from(["1".to_string(), "2".to_string(), "3".to_string()]),
            "events pages{context}"
        );
        // The pages x-total-pages announces are asked for together; without it, one by one.
        let page = |n: &str| {
            fake.requests_to("/events")
                .into_iter()
                .find(|r| {
                    r.param("action").as_deref() == Some("commented")
                        && r.param("page").as_deref() == Some(n)
                })
                .unwrap_or_else(|| panic!("page {n}{context}"))
        };
        let (second, third) = (page("2"), page("3"));
        assert_eq!(
            third.at < second.done,
            !hide_totals,
            "page 3 asked before page 2 was answered{context}"
        );
        let authored_calls = fake.graphql_requests("AuthoredMergeRequests");
        assert_eq!(
            authored_calls.len(),
            3,
            "230 authored MRs take 3 pages of 100{context}"
        );
        assert_clean_traffic(&fake.requests());
    }
}

#[test]
fn harvest_several_users_at_once() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let out = env.path("team.json");
    run(env
        .gl(&fake)
        .args([
            "harvest",
            "--user",
            "alice",
            "--user",
            "bob",
            "--quarter",
            "2026Q3",
            "--concurrency",
            "1",
            "--out",
        ])
        .arg(&out))
    .success();
    let snapshot = read_snapshot(&out);
    let names: Vec<&str> = snapshot["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["alice", "bob"]);

    let all = item_keys(&snapshot);
    let alice: BTreeSet<_> = all.iter().filter(|k| k.0 == "alice").cloned().collect();
    assert!(
        alice == scenario::alice_q3(),
        "{}",
        diff_keys(&alice, &scenario::alice_q3())
    );
    let bob_authored: BTreeSet<&str> = all
        .iter()
        .filter(|k| k.0 == "bob" && k.1 == "merge_request")
        .map(|k| k.3.as_str())
        .collect();
    assert_eq!(
        bob_authored,
        BTreeSet::from([SLO_DASHBOARDS, RECOMMENDATIONS, AUTOSCALER])
    );
    // Bob approved Alice's MR as a requested reviewer; GitLab says so without any event.
    let approval = item(&snapshot, "bob", "review", RETRY_BUDGET);
    assert_eq!(approval["role"], "approver");
    assert_eq!(approval["approved"], true);
    assert!(all.iter().all(|k| k.0 == "alice" || k.0 == "bob"));
    assert_sources_complete(&snapshot);
    let subjects: BTreeSet<&str> = sources(&snapshot)
        .iter()
        .map(|s| s["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, BTreeSet::from(["alice", "bob"]));
}

#[test]
fn explicit_dates_select_the_same_quarter() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let out = env.path("dates.json");
    run(env
        .gl(&fake)
        .args([
            "harvest",
            "--user",
            "alice",
            "--from",
            "2026-07-01",
            "--to",
            "2026-09-30",
            "--out",
        ])
        .arg(&out))
    .success();
    assert_alice_q3_items(&read_snapshot(&out));
}

#[test]
fn instance_under_a_path_prefix() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            base_path: "/gitlab".to_string(),
            ..Faults::default()
        },
    );
    assert!(fake.url.ends_with("/gitlab"));
    // Without --out the snapshot goes to stdout.
    let run = run(env
        .gl(&fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3"]));
    run.success();
    let snapshot = run.stdout_json();
    check_envelope(&snapshot);
    assert_alice_q3_items(&snapshot);
    let requests = fake.requests();
    assert_clean_traffic(&requests);
    for r in &requests {
        assert!(
            r.path.starts_with("/gitlab/api/"),
            "request outside the instance path: {}",
            r.path
        );
    }
    let retry = item(&snapshot, "alice", "merge_request", RETRY_BUDGET);
    assert_eq!(
        retry["web_url"],
        format!("{}/acme/platform/-/merge_requests/11", fake.url)
    );
}

#[test]
fn fiscal_quarter_maps_to_gitlab_fiscal_year() {
    // FY27-Q3 is August to October 2026 with GitLab's February fiscal start.
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let out = env.path("fy.json");
    run(env
        .gl(&fake)
        .args([
            "harvest",
            "--user",
            "alice",
            "--quarter",
            "FY27-Q3",
            "--out",
        ])
        .arg(&out))
    .success();
    let snapshot = read_snapshot(&out);
    assert_eq!(snapshot["period"]["from"], "2026-08-01");
    assert_eq!(snapshot["period"]["to"], "2026-10-31");
    let authored: BTreeSet<&str> = items(&snapshot)
        .iter()
        .filter(|i| i["kind"] == "merge_request")
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        authored,
        BTreeSet::from([
            SHARDED_CACHES,
            REMOVE_FLAG,
            TENANT_CACHE,
            Q4_LINKS,
            Q4_MIGRATION
        ])
    );
}

#[test]
fn usernames_are_matched_case_insensitively() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let out = env.path("upper.json");
    run(env
        .gl(&fake)
        .args(["harvest", "--user", "ALICE", "--quarter", "2026Q3", "--out"])
        .arg(&out))
    .success();
    let snapshot = read_snapshot(&out);
    assert_eq!(
        snapshot["subjects"][0]["username"], "alice",
        "GitLab's spelling"
    );
    assert_alice_q3_items(&snapshot);
}

#[test]
fn the_token_stays_out_of_the_most_verbose_log() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let run = run(env
        .gl(&fake)
        .args([
            "-vv",
            "harvest",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--out",
        ])
        .arg(env.path("snapshot.json")));
    run.success().stderr_lacks(TOKEN);
    assert!(!run.stdout.contains(TOKEN));
}

/// The largest number of requests the fake was answering at the same time.
fn most_in_flight(requests: &[RecordedRequest]) -> usize {
    requests
        .iter()
        .map(|a| {
            requests
                .iter()
                .filter(|b| b.at <= a.at && a.at < b.done)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn concurrency_bounds_requests_in_flight() {
    let slow = || Faults {
        latency_ms: 40,
        ..Faults::default()
    };
    let env = TestEnv::new();
    let serial = FakeGitlab::start(scenario::team(), slow());
    run(env
        .gl(&serial)
        .args([
            "--concurrency",
            "1",
            "harvest",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--out",
        ])
        .arg(env.path("serial.json")))
    .success();
    assert_eq!(most_in_flight(&serial.requests()), 1, "--concurrency 1");
    assert_alice_q3_items(&read_snapshot(&env.path("serial.json")));

    let parallel = FakeGitlab::start(scenario::team(), slow());
    run(env
        .gl(&parallel)
        .args([
            "--concurrency",
            "4",
            "harvest",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--out",
        ])
        .arg(env.path("parallel.json")))
    .success();
    let most = most_in_flight(&parallel.requests());
    assert!(
        (2..=4).contains(&most),
        "--concurrency 4 ran {most} at once"
    );
    assert_alice_q3_items(&read_snapshot(&env.path("parallel.json")));
}

/// The events can be asked by username, without waiting for the user lookup, but only when the
/// name is plain: GitLab could read `john.doe` as user `john` with a format `doe`.
#[test]
fn events_go_by_a_plain_username_and_by_id_otherwise() {
    let env = TestEnv::new();
    let data = scenario::team().user(777, "john.doe", "John Doe");
    let fake = FakeGitlab::start(data, Faults::default());
    for user in ["john.doe", "alice"] {
        run(env
            .gl(&fake)
            .args(["harvest", "--user", user, "--quarter", "2026Q3", "--out"])
            .arg(env.path(&format!("{user}.json"))))
        .success();
    }
    let paths: BTreeSet<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/events"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        paths,
        BTreeSet::from([
            "/api/v4/users/777/events".to_string(),
            "/api/v4/users/alice/events".to_string(),
        ])
    );
    // Read by name, the events still find her reviews, comments and closed issues.
    assert_alice_q3_items(&read_snapshot(&env.path("alice.json")));
}
