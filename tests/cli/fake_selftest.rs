//! Checks that the fake GitLab answers like GitLab does, talking to it with plain HTTP.
//!
//! The CLI tests only mean something if the fake is faithful: these pin the paging headers,
//! the exclusive event dates, inclusive `createdBefore`, cursor paging, auth errors and each
//! injected fault. They need no `gl-evidence` binary.

use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use crate::fake_gitlab::{FakeGitlab, Faults, GraphqlFault, TOKEN};
use crate::scenario::{self, ALICE_ID};

struct Reply {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

async fn get(url: &str, token: Option<&str>) -> Reply {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.header("PRIVATE-TOKEN", token);
    }
    let response = request.send().await.expect("request");
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.expect("body"),
    }
}

/// The project's own document for `operation` (from `queries/`), as the client sends it.
fn document(operation: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    std::fs::read_dir(&dir)
        .expect("queries/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "graphql"))
        .map(|p| std::fs::read_to_string(p).expect("read query"))
        .find(|text| text.contains(&format!("query {operation}(")))
        .unwrap_or_else(|| panic!("no document in queries/ defines {operation}"))
}

async fn graphql(fake: &FakeGitlab, operation: &str, variables: Value, token: &str) -> Reply {
    graphql_text(fake, operation, &document(operation), variables, token).await
}

async fn graphql_text(
    fake: &FakeGitlab,
    operation: &str,
    query: &str,
    variables: Value,
    token: &str,
) -> Reply {
    let response = reqwest::Client::new()
        .post(format!("{}/api/graphql", fake.url))
        .header("Authorization", format!("Bearer {token}"))
        .json(&json!({
            "query": query,
            "variables": variables,
            "operationName": operation,
        }))
        .send()
        .await
        .expect("request");
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.expect("body"),
    }
}

fn q3_vars(username: &str, first: u64, after: Option<&str>) -> Value {
    json!({
        "username": username,
        "updatedAfter": "2026-07-01T00:00:00Z",
        "createdBefore": "2026-10-01T00:00:00Z",
        "first": first,
        "after": after,
    })
}

#[tokio::test]
async fn user_lookup_is_exact_case_insensitive_and_authenticated() {
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let found = get(
        &format!("{}/api/v4/users?username=ALICE", fake.url),
        Some(TOKEN),
    )
    .await;
    assert_eq!(found.status, 200);
    let users = found.json();
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    assert_eq!(users[0]["username"], "alice");
    assert_eq!(users[0]["id"], ALICE_ID);
    for key in ["name", "state", "web_url", "avatar_url"] {
        assert!(users[0].get(key).is_some(), "user lacks {key}");
    }
    assert_eq!(found.header("x-total"), Some("1"));
    assert_eq!(found.header("ratelimit-limit"), Some("2000"));
    assert!(found.header("ratelimit-remaining").is_some());
    assert!(found.header("ratelimit-reset").is_some());

    let unknown = get(
        &format!("{}/api/v4/users?username=alic", fake.url),
        Some(TOKEN),
    )
    .await;
    assert_eq!(unknown.json(), json!([]));

    let denied = get(
        &format!("{}/api/v4/users?username=alice", fake.url),
        Some("nope"),
    )
    .await;
    assert_eq!(denied.status, 401);
    assert_eq!(denied.json(), json!({"message": "401 Unauthorized"}));
    assert!(
        denied.header("ratelimit-limit").is_some(),
        "RateLimit-* on errors too"
    );

    let owner = get(&format!("{}/api/v4/user", fake.url), Some(TOKEN)).await;
    assert_eq!(owner.json()["username"], "alice");
}

#[tokio::test]
async fn unknown_routes_get_gitlabs_404_and_are_recorded() {
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let reply = get(
        &format!("{}/api/v4/merge_requests?scope=created_by_me", fake.url),
        Some(TOKEN),
    )
    .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json(), json!({"message": "404 Not Found"}));
    let recorded = fake.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].path, "/api/v4/merge_requests");
    assert_eq!(recorded[0].param("scope").as_deref(), Some("created_by_me"));
    assert_eq!(recorded[0].status, 404);
    assert_eq!(recorded[0].header("private-token"), Some(TOKEN));
}

#[tokio::test]
async fn events_use_exclusive_dates_and_filter_by_action() {
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let url = |action: &str| {
        format!(
            "{}/api/v4/users/{ALICE_ID}/events?action={action}&after=2026-06-30&before=2026-10-01&sort=asc&per_page=100&page=1",
            fake.url
        )
    };
    let comments = get(&url("commented"), Some(TOKEN)).await.json();
    let times: Vec<&str> = comments
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["created_at"].as_str().unwrap())
        .collect();
    assert_eq!(times.len(), 9, "{times:?}");
    assert_eq!(times.first().copied(), Some("2026-07-01T08:00:00.000Z"));
    assert_eq!(times.last().copied(), Some("2026-09-30T20:00:00.000Z"));
    let first = &comments[0];
    assert_eq!(first["action_name"], "commented on");
    assert_eq!(first["target_type"], "Note");
    assert_eq!(first["author_username"], "alice");
    assert_eq!(first["note"]["noteable_type"], "MergeRequest");
    assert_eq!(first["note"]["noteable_iid"], 22);
    assert!(comments
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["target_type"] == "DiffNote"));

    let approvals = get(&url("approved"), Some(TOKEN)).await.json();
    let approved: Vec<(u64, u64)> = approvals
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["target_type"], "MergeRequest");
            (
                e["project_id"].as_u64().unwrap(),
                e["target_iid"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(approved, vec![(201, 20), (201, 21)]);

    let bad = get(&url("reviewed"), Some(TOKEN)).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn rest_paging_headers_and_hidden_totals() {
    for hide_totals in [false, true] {
        let fake = FakeGitlab::start(
            scenario::busy(),
            Faults {
                hide_totals,
                ..Faults::default()
            },
        );
        let mut url = format!(
            "{}/api/v4/users/{ALICE_ID}/events?action=commented&sort=asc&per_page=100",
            fake.url
        );
        let mut sizes = Vec::new();
        loop {
            let reply = get(&url, Some(TOKEN)).await;
            sizes.push(reply.json().as_array().unwrap().len());
            assert_eq!(reply.header("x-per-page"), Some("100"));
            let link = reply.header("link").unwrap().to_string();
            assert!(link.contains("rel=\"first\""), "{link}");
            if hide_totals {
                assert_eq!(reply.header("x-total"), None);
                assert_eq!(reply.header("x-total-pages"), None);
                assert!(!link.contains("rel=\"last\""), "{link}");
            } else {
                assert_eq!(reply.header("x-total"), Some("250"));
                assert_eq!(reply.header("x-total-pages"), Some("3"));
                assert!(link.contains("rel=\"last\""), "{link}");
            }
            let next = reply.header("x-next-page").unwrap().to_string();
            if next.is_empty() {
                assert!(!link.contains("rel=\"next\""), "{link}");
                break;
            }
            // Follow `Link` like a client would; it is absolute and keeps every filter.
            let next_link = link
                .split(", ")
                .find(|l| l.ends_with("rel=\"next\""))
                .expect("rel=next");
            url = next_link[1..next_link.find('>').unwrap()].to_string();
            assert!(
                url.starts_with(&fake.url) && url.contains("action=commented"),
                "{url}"
            );
            assert!(url.contains(&format!("page={next}")), "{url}");
        }
        assert_eq!(sizes, vec![100, 100, 50]);
    }
}

#[tokio::test]
async fn graphql_cursor_paging_caps_pages_at_100() {
    let fake = FakeGitlab::start(scenario::busy(), Faults::default());
    let mut after: Option<String> = None;
    let mut titles = Vec::new();
    let mut pages = 0;
    loop {
        let reply = graphql(
            &fake,
            "AuthoredMergeRequests",
            q3_vars("alice", 500, after.as_deref()),
            TOKEN,
        )
        .await;
        let body = reply.json();
        let connection = &body["data"]["user"]["authoredMergeRequests"];
        let nodes = connection["nodes"].as_array().expect("nodes");
        assert!(nodes.len() <= 100);
        titles.extend(
            nodes
                .iter()
                .map(|n| n["title"].as_str().unwrap().to_string()),
        );
        pages += 1;
        if connection["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = Some(
            connection["pageInfo"]["endCursor"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(pages, 3);
    assert_eq!(titles.len(), scenario::MANY_AUTHORED as usize);
    assert_eq!(titles[0], "Busy change 000");
}

#[tokio::test]
async fn graphql_answers_in_gitlabs_shape() {
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let body = graphql(
        &fake,
        "AuthoredMergeRequests",
        q3_vars("alice", 100, None),
        TOKEN,
    )
    .await
    .json();
    let nodes = body["data"]["user"]["authoredMergeRequests"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let titles: Vec<&str> = nodes.iter().map(|n| n["title"].as_str().unwrap()).collect();
    // Updated in the period, created up to and including the boundary instant, oldest first.
    assert_eq!(
        titles,
        vec![
            scenario::UPGRADE_LOGGING,
            scenario::ROTATE_CREDENTIALS,
            scenario::REMOVE_FLAG,
            scenario::RETRY_BUDGET,
            scenario::SHARDED_CACHES,
            scenario::TENANT_CACHE,
            scenario::Q4_LINKS,
        ]
    );
    let retry = nodes
        .iter()
        .find(|n| n["title"] == scenario::RETRY_BUDGET)
        .unwrap();
    assert_eq!(retry["id"], "gid://gitlab/MergeRequest/5001");
    assert_eq!(retry["iid"], "11");
    assert_eq!(
        retry["webUrl"],
        format!("{}/acme/platform/-/merge_requests/11", fake.url)
    );
    assert_eq!(retry["state"], "merged");
    assert_eq!(retry["mergedAt"], "2026-07-10T15:30:00Z");
    assert_eq!(retry["closedAt"], Value::Null);
    assert_eq!(retry["labels"]["nodes"][0]["title"], "type::feature");
    assert_eq!(
        retry["reviewers"]["nodes"][0]["mergeRequestInteraction"]["reviewState"],
        "APPROVED"
    );
    assert_eq!(retry["approvedBy"]["nodes"][0]["username"], "bob");
    assert_eq!(retry["diffStatsSummary"]["fileCount"], 6);
    assert_eq!(retry["project"]["fullPath"], "acme/platform");

    let reviews = graphql(
        &fake,
        "ReviewRequestedMergeRequests",
        q3_vars("alice", 100, None),
        TOKEN,
    )
    .await
    .json();
    let titles: Vec<Value> = reviews["data"]["user"]["reviewRequestedMergeRequests"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].clone())
        .collect();
    assert_eq!(
        titles,
        vec![
            json!(scenario::SLO_DASHBOARDS),
            json!(scenario::STATE_BACKEND),
            json!(scenario::DRIFT_DETECTION)
        ]
    );

    let nobody = graphql(
        &fake,
        "AuthoredMergeRequests",
        q3_vars("nobody", 100, None),
        TOKEN,
    )
    .await
    .json();
    assert_eq!(nobody, json!({"data": {"user": null}}));

    let by_iid = graphql(
        &fake,
        "ProjectMergeRequests",
        json!({"p0": ["gid://gitlab/Project/201"], "i0": ["21", "22", "999"], "use0": true, "first": 100}),
        TOKEN,
    )
    .await
    .json();
    let projects = by_iid["data"]["s0"]["nodes"].as_array().unwrap();
    assert_eq!(projects.len(), 1);
    let mut titles: Vec<&str> = projects[0]["mergeRequests"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    titles.sort();
    assert_eq!(titles, vec![scenario::CANARY, scenario::TLS_MINIMUM]);

    let bad_time = graphql(
        &fake,
        "AuthoredMergeRequests",
        // A bare date is a time to GitLab; "soon" is not.
        json!({"username": "alice", "updatedAfter": "2026-07-01", "createdBefore": "soon", "first": 10}),
        TOKEN,
    )
    .await
    .json();
    assert_eq!(
        bad_time["errors"][0]["message"],
        "Variable $createdBefore of type Time! was provided invalid value",
        "{bad_time}"
    );

    let denied = graphql(
        &fake,
        "AuthoredMergeRequests",
        q3_vars("alice", 10, None),
        "nope",
    )
    .await;
    assert_eq!(denied.status, 401);
    assert_eq!(
        denied.json(),
        json!({"errors": [{"message": "Invalid token"}]})
    );
    assert_eq!(
        fake.requests().last().unwrap().operation.as_deref(),
        Some("AuthoredMergeRequests")
    );
}

#[tokio::test]
async fn faults_429_then_5xx_then_success() {
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            fail_first_n_with_429: 1,
            fail_first_n_with_5xx: 2,
            retry_after_secs: 7,
            ..Faults::default()
        },
    );
    let url = format!("{}/api/v4/users?username=alice", fake.url);
    let first = get(&url, Some(TOKEN)).await;
    assert_eq!(first.status, 429);
    assert_eq!(first.header("retry-after"), Some("7"));
    assert_eq!(first.header("ratelimit-remaining"), Some("0"));
    assert!(first
        .header("ratelimit-resettime")
        .unwrap()
        .ends_with(" GMT"));
    assert_eq!(first.body, "Retry later\n");
    assert_eq!(get(&url, Some(TOKEN)).await.status, 500);
    assert_eq!(get(&url, Some(TOKEN)).await.status, 500);
    assert_eq!(get(&url, Some(TOKEN)).await.status, 200);
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 500, 500, 200]);
}

#[tokio::test]
async fn faults_target_one_route_and_base_path() {
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            fail_first_n_with_5xx: usize::MAX,
            targets: vec!["/events".to_string()],
            base_path: "/gitlab".to_string(),
            ..Faults::default()
        },
    );
    assert!(fake.url.ends_with("/gitlab"), "{}", fake.url);
    let ok = get(
        &format!("{}/api/v4/users?username=alice", fake.url),
        Some(TOKEN),
    )
    .await;
    assert_eq!(ok.status, 200);
    assert!(ok.json()[0]["web_url"]
        .as_str()
        .unwrap()
        .starts_with(&fake.url));
    let events = get(
        &format!("{}/api/v4/users/{ALICE_ID}/events", fake.url),
        Some(TOKEN),
    )
    .await;
    assert_eq!(events.status, 500);
    let origin = fake.url.trim_end_matches("/gitlab");
    let outside = get(
        &format!("{origin}/api/v4/users?username=alice"),
        Some(TOKEN),
    )
    .await;
    assert_eq!(outside.status, 404);
}

#[tokio::test]
async fn fault_truncated_body_breaks_the_transfer() {
    let fake = FakeGitlab::start(
        scenario::team(),
        Faults {
            truncate_body_on_request: Some(1),
            ..Faults::default()
        },
    );
    let url = format!("{}/api/v4/users?username=alice", fake.url);
    let response = reqwest::Client::new()
        .get(&url)
        .header("PRIVATE-TOKEN", TOKEN)
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.text().await.is_err(),
        "the body must not arrive whole"
    );
    assert_eq!(get(&url, Some(TOKEN)).await.json()[0]["username"], "alice");
}

#[tokio::test]
async fn graphql_faults() {
    let undefined = FakeGitlab::start(
        scenario::team(),
        Faults {
            graphql: Some(GraphqlFault::UndefinedField {
                type_name: "MergeRequest".to_string(),
                field: "diffStatsSummary".to_string(),
            }),
            ..Faults::default()
        },
    );
    let body = graphql(
        &undefined,
        "AuthoredMergeRequests",
        q3_vars("alice", 10, None),
        TOKEN,
    )
    .await
    .json();
    assert!(body.get("data").is_none());
    assert_eq!(
        body["errors"][0]["message"],
        "Field 'diffStatsSummary' doesn't exist on type 'MergeRequest'"
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "undefinedField");

    let complexity = FakeGitlab::start(
        scenario::team(),
        Faults {
            graphql: Some(GraphqlFault::Complexity {
                score: 310,
                limit: 250,
            }),
            targets: vec!["ReviewRequestedMergeRequests".to_string()],
            ..Faults::default()
        },
    );
    let fine = graphql(
        &complexity,
        "AuthoredMergeRequests",
        q3_vars("alice", 10, None),
        TOKEN,
    )
    .await
    .json();
    assert!(fine.get("errors").is_none(), "{fine}");
    let body = graphql(
        &complexity,
        "ReviewRequestedMergeRequests",
        q3_vars("alice", 10, None),
        TOKEN,
    )
    .await
    .json();
    assert_eq!(
        body["errors"][0]["message"],
        "Query has complexity of 310, which exceeds max complexity of 250"
    );

    let partial = FakeGitlab::start(
        scenario::team(),
        Faults {
            graphql: Some(GraphqlFault::PartialData {
                message: "Timeout on MergeRequest.diffStatsSummary".to_string(),
            }),
            ..Faults::default()
        },
    );
    let body = graphql(
        &partial,
        "AuthoredMergeRequests",
        q3_vars("alice", 10, None),
        TOKEN,
    )
    .await
    .json();
    assert!(body["data"]["user"]["authoredMergeRequests"]["nodes"].is_array());
    assert_eq!(
        body["errors"][0]["message"],
        "Timeout on MergeRequest.diffStatsSummary"
    );
}

#[tokio::test]
async fn graphql_answers_only_what_the_document_selects() {
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let query = r#"
        query AuthoredMergeRequests($username: String!, $updatedAfter: Time!, $createdBefore: Time!, $first: Int!) {
          user(username: $username) {
            mrs: authoredMergeRequests(updatedAfter: $updatedAfter, createdBefore: $createdBefore, first: $first) {
              nodes { ...Bits author { username } }
            }
          }
        }
        fragment Bits on MergeRequest { iid title }
    "#;
    let body = graphql_text(
        &fake,
        "AuthoredMergeRequests",
        query,
        q3_vars("alice", 1, None),
        TOKEN,
    )
    .await
    .json();
    assert_eq!(
        body,
        json!({"data": {"user": {"mrs": {"nodes": [
            {"iid": "4", "title": scenario::UPGRADE_LOGGING, "author": {"username": "alice"}}
        ]}}}})
    );
    let unknown = graphql_text(
        &fake,
        "AuthoredMergeRequests",
        &query.replace("iid title", "iid title squashCommitSha"),
        q3_vars("alice", 1, None),
        TOKEN,
    )
    .await
    .json();
    let message = unknown["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("user.authoredMergeRequests.nodes.squashCommitSha"),
        "{message}"
    );
}

/// `OncallShifts` variables with the windows in `on` switched on (slot K = window K) and the
/// other slots repeating the first window, switched off, as the client sends them.
fn oncall_vars(on: &[(&str, &str)], first: u64) -> Value {
    oncall_vars_paged(on, first, 100, 100)
}

/// [`oncall_vars`] with pages of `schedules` schedules and `rotations` rotations.
fn oncall_vars_paged(on: &[(&str, &str)], first: u64, schedules: u64, rotations: u64) -> Value {
    let mut vars = json!({
        "fullPath": "acme/ops",
        "first": first,
        "schedules": schedules,
        "rotations": rotations,
    });
    for k in 0..14 {
        let (start, end) = on.get(k).unwrap_or(&on[0]);
        vars[format!("start{k}")] = json!(start);
        vars[format!("end{k}")] = json!(end);
        vars[format!("with{k}")] = json!(k < on.len());
    }
    vars
}

#[tokio::test]
async fn oncall_windows_are_answered_slot_by_slot() {
    use crate::fake_gitlab::{Dataset, OncallRotation, OncallSchedule};
    let data = Dataset::new()
        .user(101, "alice", "Alice")
        .project(901, "acme/ops", "private")
        .oncall_schedule(
            OncallSchedule::new(901, 1, "Ops").rotation(
                OncallRotation::new(31, "Primary")
                    .shift("alice", "2026-07-05T09:00:00Z", "2026-07-05T17:00:00Z")
                    // Across the boundary of the first two windows.
                    .shift("alice", "2026-07-28T20:00:00Z", "2026-07-29T08:00:00Z")
                    .shift("alice", "2026-08-10T09:00:00Z", "2026-08-10T17:00:00Z"),
            ),
        );
    let fake = FakeGitlab::start(data, Faults::default());
    let windows = [
        ("2026-07-01T00:00:00Z", "2026-07-29T00:00:00Z"),
        ("2026-07-29T00:00:00Z", "2026-08-26T00:00:00Z"),
    ];
    let body = graphql(&fake, "OncallShifts", oncall_vars(&windows, 100), TOKEN)
        .await
        .json();
    let rotation = &body["data"]["project"]["incidentManagementOncallSchedules"]["nodes"][0]
        ["rotations"]["nodes"][0];
    let starts = |slot: &str| -> Vec<String> {
        rotation[slot]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{slot} in {body}"))
            .iter()
            .map(|n| n["startsAt"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        starts("w0"),
        ["2026-07-05T09:00:00Z", "2026-07-28T20:00:00Z"]
    );
    assert_eq!(
        starts("w1"),
        ["2026-07-28T20:00:00Z", "2026-08-10T09:00:00Z"],
        "a shift across the boundary comes whole in both windows"
    );
    assert!(
        rotation.get("w2").is_none(),
        "a slot switched off is left out: {rotation}"
    );

    // A window GitLab refuses fails its own field, naming its alias; the others are fine.
    let too_long = [
        ("2026-07-01T00:00:00Z", "2026-07-29T00:00:00Z"),
        ("2026-07-01T00:00:00Z", "2026-08-03T00:00:00Z"),
    ];
    let body = graphql(&fake, "OncallShifts", oncall_vars(&too_long, 100), TOKEN)
        .await
        .json();
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(
        errors[0]["message"],
        "`end_time` should not exceed one month after `start_time`"
    );
    assert_eq!(errors[0]["path"].as_array().unwrap().last().unwrap(), "w1");

    // A slot's times are required even when it is off.
    let mut missing = oncall_vars(&windows, 100);
    missing.as_object_mut().unwrap().remove("end13");
    let body = graphql(&fake, "OncallShifts", missing, TOKEN).await.json();
    assert_eq!(
        body["errors"][0]["message"],
        "Variable $end13 of type Time! was provided invalid value"
    );
}

#[tokio::test]
async fn oncall_schedules_and_rotations_come_a_page_at_a_time() {
    use crate::fake_gitlab::{Dataset, OncallRotation, OncallSchedule};
    let schedule = |iid: u64, rotations: u64| {
        (0..rotations).fold(
            OncallSchedule::new(901, iid, &format!("S{iid}")),
            |schedule, r| schedule.rotation(OncallRotation::new(iid * 10 + r, &format!("R{r}"))),
        )
    };
    let data = Dataset::new()
        .project(901, "acme/ops", "private")
        .oncall_schedule(schedule(1, 1))
        .oncall_schedule(schedule(2, 3))
        .oncall_schedule(schedule(3, 2));
    let fake = FakeGitlab::start(data, Faults::default());
    let window = [("2026-07-01T00:00:00Z", "2026-07-29T00:00:00Z")];
    let served = &fake;
    let lists = |schedules: u64, rotations: u64| async move {
        let vars = oncall_vars_paged(&window, 100, schedules, rotations);
        let body = graphql(served, "OncallShifts", vars, TOKEN).await.json();
        let list = body["data"]["project"]["incidentManagementOncallSchedules"].clone();
        assert!(list.is_object(), "{body}");
        let seen: Vec<(String, usize, bool)> = list["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["name"].as_str().unwrap().to_string(),
                    s["rotations"]["nodes"].as_array().unwrap().len(),
                    s["rotations"]["pageInfo"]["hasNextPage"] == true,
                )
            })
            .collect();
        (seen, list["pageInfo"]["hasNextPage"] == true)
    };
    let s = |name: &str, rotations: usize, more: bool| (name.to_string(), rotations, more);
    assert_eq!(
        lists(2, 2).await,
        (vec![s("S1", 1, false), s("S2", 2, true)], true)
    );
    assert_eq!(
        lists(3, 3).await,
        (
            vec![s("S1", 1, false), s("S2", 3, false), s("S3", 2, false)],
            false
        )
    );
    assert_eq!(
        lists(500, 500).await,
        lists(100, 100).await,
        "at most 100 a page"
    );
    let mut missing = oncall_vars(&window, 100);
    missing.as_object_mut().unwrap().remove("rotations");
    let body = graphql(&fake, "OncallShifts", missing, TOKEN).await.json();
    assert_eq!(
        body["errors"][0]["message"],
        "Variable $rotations of type Int! was provided invalid value"
    );
}

#[tokio::test]
async fn complexity_is_scored_as_gitlab_scores_it() {
    use crate::fake_gitlab::{complexity_score, GITLAB_COMPLEXITY_LIMIT};
    let query = document("OncallShifts");
    let window = ("2026-07-01T00:00:00Z", "2026-07-29T00:00:00Z");
    let score = |windows: usize, first: u64| {
        complexity_score(
            &query,
            Some("OncallShifts"),
            &oncall_vars(&vec![window; windows], first),
        )
        .unwrap()
    };
    // Schedules and rotations (pages of 100, multiplier 0.01) double what they hold; shifts
    // (multiplier 0.005) cost 10 × 1.5 at pages of 100. Switched-off slots cost nothing.
    for windows in 1..=14 {
        assert_eq!(score(windows, 100), 45 + 60 * windows as u32, "{windows}");
    }
    assert_eq!(score(1, 50), 93, "12.5 rounds down to 12, × 4, + 45");
    assert!(score(3, 100) <= GITLAB_COMPLEXITY_LIMIT);
    assert!(score(4, 100) > GITLAB_COMPLEXITY_LIMIT);
    // Smaller list pages: the lists' multipliers shrink towards 1.
    let paged = |windows: usize, schedules: u64, rotations: u64| {
        complexity_score(
            &query,
            Some("OncallShifts"),
            &oncall_vars_paged(&vec![window; windows], 100, schedules, rotations),
        )
        .unwrap()
    };
    // 14 windows of 15: rotations (7 + 210) × 1.02 → 221; schedules (7 + 221) × 1.01 → 230; + 3.
    assert_eq!(paged(14, 1, 2), 233);
    assert_eq!(paged(14, 5, 5), 248);
    assert_eq!(paged(14, 6, 6), 254);
    assert_eq!(paged(3, 100, 100), score(3, 100));

    let limited = FakeGitlab::start(
        scenario::team(),
        Faults {
            graphql: Some(GraphqlFault::ComplexityLimit { limit: 250 }),
            ..Faults::default()
        },
    );
    let refused = graphql(
        &limited,
        "OncallShifts",
        oncall_vars(&[window; 4], 100),
        TOKEN,
    )
    .await
    .json();
    assert!(refused.get("data").is_none());
    assert_eq!(
        refused["errors"][0]["message"],
        "Query has complexity of 285, which exceeds max complexity of 250"
    );
    let fine = graphql(
        &limited,
        "OncallShifts",
        oncall_vars(&[window; 3], 100),
        TOKEN,
    )
    .await
    .json();
    assert!(fine.get("errors").is_none(), "{fine}");
}
