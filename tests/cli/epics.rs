//! The `epics` source end to end: which epics a quarter holds, what each item says, the fallback
//! to legacy epics on older servers, and `skipped` (never `failed`) where epics do not exist.
//!
//! Every run is `gl-evidence --config CFG harvest --user alice --quarter 2026Q3` with
//! `[harvest] epic_groups` in CFG. The first tests check the fake itself over plain HTTP, so the
//! CLI tests can trust it.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::fake_gitlab::{Dataset, Epic, EpicEdition, FakeGitlab, Faults, GroupAccess, TOKEN};
use crate::support::*;

pub const CAPACITY: &str = "Capacity planning for the storage fleet";
pub const CLOSED_IN_SUBGROUP: &str = "Retire the old load balancers";
pub const FIRST_INSTANT: &str = "Quarter kickoff: on-call health";
pub const CONFIDENTIAL: &str = "Security hardening roadmap";

/// The epics alice authored in `gl-infra` (and its subgroups) that 2026Q3 holds.
const ALICE_Q3: [&str; 4] = [CAPACITY, CLOSED_IN_SUBGROUP, FIRST_INSTANT, CONFIDENTIAL];

/// Groups, users and epics around the edges of 2026Q3 (2026-07-01 to 2026-09-30, UTC).
pub fn epics_data() -> Dataset {
    Dataset::new()
        .user(1, "alice", "Alice Liddell")
        .user(2, "alice2", "Alice Twin")
        .user(3, "bob", "Bob Builder")
        .group(10, "gl-infra", "public")
        .group(11, "gl-infra/sre", "internal")
        .group(12, "elsewhere", "public")
        .group(13, "secret", "private")
        .group(14, "gone", "public")
        .free_group(15, "free-tier")
        // In the quarter.
        .epic(
            Epic::new(1, "gl-infra", 21, CAPACITY, "alice", "2026-07-10T09:00:00Z")
                .labels(&["team::sre", "planning"])
                .children(1, 3)
                .description("Plan storage capacity for the next two quarters."),
        )
        .epic(
            Epic::new(
                2,
                "gl-infra/sre",
                22,
                CLOSED_IN_SUBGROUP,
                "alice",
                "2026-03-02T10:00:00Z",
            )
            .closed("2026-09-30T23:59:59Z"),
        )
        .epic(Epic::new(
            3,
            "gl-infra",
            23,
            FIRST_INSTANT,
            "alice",
            "2026-07-01T00:00:00Z",
        ))
        .epic(
            Epic::new(
                4,
                "gl-infra",
                24,
                CONFIDENTIAL,
                "alice",
                "2026-08-01T12:00:00Z",
            )
            .confidential()
            .children(0, 2),
        )
        // Not in the quarter, or not alice's, or not in the groups searched.
        .epic(
            Epic::new(
                5,
                "gl-infra",
                25,
                "Created a second early",
                "alice",
                "2026-06-30T23:59:59Z",
            )
            .updated("2026-07-05T00:00:00Z"),
        )
        .epic(Epic::new(
            6,
            "gl-infra",
            26,
            "Created as the quarter ended",
            "alice",
            "2026-10-01T00:00:00Z",
        ))
        .epic(Epic::new(
            7,
            "gl-infra",
            27,
            "Bob's epic",
            "bob",
            "2026-07-15T00:00:00Z",
        ))
        .epic(Epic::new(
            8,
            "gl-infra",
            28,
            "The namesake's epic",
            "alice2",
            "2026-07-15T00:00:00Z",
        ))
        .epic(
            Epic::new(
                9,
                "gl-infra",
                29,
                "Closed before the quarter",
                "alice",
                "2026-01-05T00:00:00Z",
            )
            .closed("2026-06-15T00:00:00Z")
            .updated("2026-07-02T00:00:00Z"),
        )
        .epic(Epic::new(
            10,
            "elsewhere",
            1,
            "Epic in a group not searched",
            "alice",
            "2026-07-15T00:00:00Z",
        ))
        .epic(Epic::new(
            11,
            "secret",
            1,
            "Epic in a refusing group",
            "alice",
            "2026-07-20T00:00:00Z",
        ))
}

fn config(env: &TestEnv, groups: &[&str], extra: &str) {
    let list: Vec<String> = groups.iter().map(|g| format!("{g:?}")).collect();
    env.write(
        "config.toml",
        &format!(
            "{FAST_CONFIG}\n[harvest]\nepic_groups = [{}]\n{extra}",
            list.join(", ")
        ),
    );
}

/// Runs the harvest with `groups` configured and returns the run and the snapshot it printed.
fn harvest(env: &TestEnv, fake: &FakeGitlab, groups: &[&str], extra: &str) -> (Run, Value) {
    config(env, groups, extra);
    let run = run(env
        .gl(fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3"]));
    run.code_in(&[0, 3]);
    let snapshot = run.stdout_json();
    check_envelope(&snapshot);
    (run, snapshot)
}

fn epic_items(snapshot: &Value) -> Vec<&Value> {
    items(snapshot)
        .iter()
        .filter(|i| i["kind"] == "epic")
        .collect()
}

fn epic_titles(snapshot: &Value) -> BTreeSet<String> {
    let items = epic_items(snapshot);
    let titles: BTreeSet<String> = items
        .iter()
        .map(|i| i["title"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        titles.len(),
        items.len(),
        "an epic appears twice: {items:#?}"
    );
    titles
}

fn want(titles: &[&str]) -> BTreeSet<String> {
    titles.iter().map(|t| t.to_string()).collect()
}

/// The one `epics` source of the snapshot.
fn epics_source(snapshot: &Value) -> &Value {
    let found: Vec<&Value> = sources(snapshot)
        .iter()
        .filter(|s| s["name"] == "epics")
        .collect();
    assert_eq!(found.len(), 1, "one epics source: {:#?}", sources(snapshot));
    found[0]
}

/// Lines of stderr that talk about epics.
fn epic_lines(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| l.to_lowercase().contains("epic"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The fake speaks GitLab's dialect.

fn document(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("queries")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn post(fake: &FakeGitlab, operation: &str, query: &str, variables: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/graphql", fake.url))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .json(&json!({"query": query, "variables": variables, "operationName": operation}))
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, body)
}

fn q3_vars(group: &str, first: u64) -> Value {
    json!({
        "fullPath": group,
        "username": "ALICE",
        "updatedAfter": "2026-07-01T00:00:00Z",
        "createdBefore": "2026-10-01T00:00:00Z",
        "first": first,
        "after": null,
    })
}

#[tokio::test]
async fn the_fake_answers_epic_queries_like_gitlab() {
    let fake = FakeGitlab::start(epics_data(), Faults::default());
    let work_items = document("group_epic_work_items.graphql");
    let (status, body) = post(
        &fake,
        "GroupEpicWorkItems",
        &work_items,
        q3_vars("gl-infra", 100),
    )
    .await;
    assert_eq!(status, 200);
    let group = &body["data"]["group"];
    assert_eq!(group["availableFeatures"], json!({"hasEpicsFeature": true}));
    let nodes = group["workItems"]["nodes"].as_array().unwrap();
    let titles: BTreeSet<&str> = nodes.iter().map(|n| n["title"].as_str().unwrap()).collect();
    // The subgroup's epic is included; the finders' filters are inclusive and whole-username.
    assert!(titles.contains(CLOSED_IN_SUBGROUP) && titles.contains("Created as the quarter ended"));
    assert!(!titles.contains("The namesake's epic") && !titles.contains("Bob's epic"));
    let capacity = nodes.iter().find(|n| n["title"] == CAPACITY).unwrap();
    assert_eq!(capacity["id"], "gid://gitlab/WorkItem/1");
    assert_eq!(capacity["state"], "OPEN");
    assert_eq!(
        capacity["widgets"],
        json!([
            {"__typename": "WorkItemWidgetLabels", "labels": {"nodes": [{"title": "team::sre"}, {"title": "planning"}]}},
            {"__typename": "WorkItemWidgetHierarchy", "children": {"count": 4}},
        ]),
        "only the widget types asked for"
    );

    // Without `onlyTypes` GitLab sends every widget, types the client does not model included.
    let all_widgets = work_items.replace("widgets(onlyTypes: [LABELS, HIERARCHY])", "widgets");
    let (_, body) = post(
        &fake,
        "GroupEpicWorkItems",
        &all_widgets,
        q3_vars("gl-infra", 1),
    )
    .await;
    let widgets = &body["data"]["group"]["workItems"]["nodes"][0]["widgets"];
    assert_eq!(
        widgets[0]["__typename"], "WorkItemWidgetAssignees",
        "{widgets}"
    );

    let (_, body) = post(
        &fake,
        "GroupEpicWorkItems",
        &work_items,
        q3_vars("no-such-group", 10),
    )
    .await;
    assert_eq!(body, json!({"data": {"group": null}}));
    let (_, body) = post(
        &fake,
        "GroupEpicWorkItems",
        &work_items,
        q3_vars("free-tier", 10),
    )
    .await;
    assert_eq!(
        body["data"]["group"]["availableFeatures"]["hasEpicsFeature"],
        false
    );

    let legacy = document("group_epics_legacy.graphql");
    let (_, body) = post(&fake, "GroupEpicsLegacy", &legacy, q3_vars("gl-infra", 2)).await;
    let epics = &body["data"]["group"]["epics"];
    assert_eq!(epics["pageInfo"]["hasNextPage"], true);
    assert!(epics["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with("gid://gitlab/Epic/"));
}

#[tokio::test]
async fn the_fake_rejects_what_an_older_or_community_server_lacks() {
    let community = FakeGitlab::start(
        epics_data().epic_edition(EpicEdition::Community),
        Faults::default(),
    );
    let (status, body) = post(
        &community,
        "GroupEpicsLegacy",
        &document("group_epics_legacy.graphql"),
        q3_vars("gl-infra", 10),
    )
    .await;
    assert_eq!(status, 200, "GraphQL validation errors are HTTP 200");
    assert!(body.get("data").is_none(), "rejected whole: {body}");
    assert_eq!(
        body["errors"][0]["message"],
        "Field 'epics' doesn't exist on type 'Group'"
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "undefinedField");
    let (_, body) = post(
        &community,
        "GroupEpicWorkItems",
        &document("group_epic_work_items.graphql"),
        q3_vars("gl-infra", 10),
    )
    .await;
    let group = &body["data"]["group"];
    assert_eq!(group["availableFeatures"]["hasEpicsFeature"], false);
    assert_eq!(group["workItems"]["nodes"], json!([]), "CE lists no epics");

    let old = FakeGitlab::start(
        epics_data().epic_edition(EpicEdition::LegacyOnly),
        Faults::default(),
    );
    let (_, body) = post(
        &old,
        "GroupEpicWorkItems",
        &document("group_epic_work_items.graphql"),
        q3_vars("gl-infra", 10),
    )
    .await;
    assert_eq!(
        body["errors"][0]["message"],
        "Field 'availableFeatures' doesn't exist on type 'Group'"
    );

    let refusing = FakeGitlab::start(
        epics_data()
            .group_access("secret", GroupAccess::Forbidden)
            .group_access("gone", GroupAccess::NotFound),
        Faults::default(),
    );
    let doc = document("group_epic_work_items.graphql");
    let (status, _) = post(&refusing, "GroupEpicWorkItems", &doc, q3_vars("secret", 10)).await;
    assert_eq!(status, 403);
    let (status, _) = post(&refusing, "GroupEpicWorkItems", &doc, q3_vars("gone", 10)).await;
    assert_eq!(status, 404);
}

// ---------------------------------------------------------------------------------------------
// The CLI.

#[test]
fn epics_alice_authored_in_the_quarter_as_work_items() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(epics_data(), Faults::default());
    let (run, snapshot) = harvest(&env, &fake, &["gl-infra"], "");
    run.success();
    assert_eq!(epic_titles(&snapshot), want(&ALICE_Q3));
    assert!(
        epic_lines(&run).is_empty(),
        "no epic warnings: {}",
        run.stderr
    );

    let source = epics_source(&snapshot);
    assert_eq!(source["status"], "ok", "{source:#}");
    assert_eq!(source["subject"], "alice");
    assert_eq!(source["items"], 4);
    assert!(source["requests"].as_u64().unwrap() >= 1, "{source:#}");

    let capacity = item(&snapshot, "alice", "epic", CAPACITY);
    assert_eq!(capacity["role"], "author");
    assert_eq!(capacity["id"], "gid://gitlab/WorkItem/1");
    assert_eq!(
        capacity["web_url"],
        format!("{}/groups/gl-infra/-/epics/21", fake.url)
    );
    assert_eq!(capacity["group"], "gl-infra");
    assert!(
        capacity.get("project").is_none(),
        "epics belong to groups: {capacity:#}"
    );
    assert_eq!(
        capacity["child_count"], 4,
        "one child epic and three issues"
    );
    assert_eq!(capacity["labels"], json!(["team::sre", "planning"]));
    assert_eq!(capacity["state"], "opened");
    assert_eq!(capacity["created_at"], "2026-07-10T09:00:00Z");
    assert_eq!(
        capacity["description"],
        "Plan storage capacity for the next two quarters."
    );
    assert!(capacity.get("confidential").is_none_or(|c| *c == false));

    let closed = item(&snapshot, "alice", "epic", CLOSED_IN_SUBGROUP);
    assert_eq!(closed["group"], "gl-infra/sre", "the subgroup it lives in");
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["closed_at"], "2026-09-30T23:59:59Z");
    assert_eq!(closed["child_count"], 0);

    let secret = item(&snapshot, "alice", "epic", CONFIDENTIAL);
    assert_eq!(secret["confidential"], true);
    assert_eq!(secret["child_count"], 2);

    // One request per group and page, all to the work items API.
    let requests = fake.graphql_requests("GroupEpicWorkItems");
    assert_eq!(requests.len(), 1, "one page for one group");
    let vars = requests[0].variables().unwrap();
    assert_eq!(vars["fullPath"], "gl-infra");
    assert_eq!(vars["username"], "alice");
    assert!(fake.graphql_requests("GroupEpicsLegacy").is_empty());
}

#[test]
fn epics_are_paged() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(epics_data(), Faults::default());
    let (run, snapshot) = harvest(&env, &fake, &["gl-infra"], "page_size = 2\n");
    run.success();
    assert_eq!(epic_titles(&snapshot), want(&ALICE_Q3));
    let requests = fake.graphql_requests("GroupEpicWorkItems");
    // Eight epics of alice's match the finder's filters in gl-infra and gl-infra/sre.
    assert!(requests.len() >= 3, "{} pages", requests.len());
    let cursors: BTreeSet<String> = requests
        .iter()
        .filter_map(|r| r.variables()?["after"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        cursors.len(),
        requests.len() - 1,
        "each page after the first has its own cursor"
    );
}

#[test]
fn an_epic_found_through_two_groups_is_listed_once() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(epics_data(), Faults::default());
    let (run, snapshot) = harvest(&env, &fake, &["gl-infra", "gl-infra/sre"], "");
    run.success();
    assert_eq!(epic_titles(&snapshot), want(&ALICE_Q3));
    assert_eq!(fake.graphql_requests("GroupEpicWorkItems").len(), 2);
}

#[test]
fn older_servers_fall_back_to_legacy_epics() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        epics_data().epic_edition(EpicEdition::LegacyOnly),
        Faults::default(),
    );
    let (run, snapshot) = harvest(&env, &fake, &["gl-infra"], "");
    run.success();
    assert_eq!(epic_titles(&snapshot), want(&ALICE_Q3));
    assert_eq!(epics_source(&snapshot)["status"], "ok");
    assert!(
        epic_lines(&run).is_empty(),
        "a fallback is no warning: {}",
        run.stderr
    );

    let capacity = item(&snapshot, "alice", "epic", CAPACITY);
    assert_eq!(
        capacity["id"], "gid://gitlab/Epic/100001",
        "the legacy epic's global id"
    );
    assert_eq!(
        capacity["child_count"], 4,
        "child epics plus issues, as work items count"
    );
    assert_eq!(capacity["group"], "gl-infra");
    assert_eq!(capacity["labels"], json!(["team::sre", "planning"]));
    assert_eq!(
        item(&snapshot, "alice", "epic", CONFIDENTIAL)["confidential"],
        true
    );

    assert_eq!(
        fake.graphql_requests("GroupEpicWorkItems").len(),
        1,
        "the work items API is tried once, not per group or page"
    );
    assert!(!fake.graphql_requests("GroupEpicsLegacy").is_empty());
}

#[test]
fn community_edition_skips_epics_with_one_warning() {
    for (edition, reason) in [
        (
            EpicEdition::Community,
            "epics need GitLab Premium or Ultimate; group gl-infra does not have them",
        ),
        (
            EpicEdition::OldCommunity,
            "epics need GitLab Premium or Ultimate; this instance does not offer them",
        ),
    ] {
        let env = TestEnv::new();
        let fake = FakeGitlab::start(epics_data().epic_edition(edition), Faults::default());
        let (run, snapshot) = harvest(&env, &fake, &["gl-infra"], "");
        run.success();
        let source = epics_source(&snapshot);
        assert_eq!(source["status"], "skipped", "{edition:?}: {source:#}");
        assert_eq!(source["detail"], reason, "{edition:?}");
        assert_eq!(source["items"], 0);
        assert!(epic_items(&snapshot).is_empty());
        let lines = epic_lines(&run);
        assert_eq!(
            lines.len(),
            1,
            "{edition:?}: one warning line: {}",
            run.stderr
        );
        assert!(lines[0].contains("Premium"), "{}", lines[0]);
    }
}

#[test]
fn a_free_group_on_an_enterprise_instance_skips_epics() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(epics_data(), Faults::default());
    let (run, snapshot) = harvest(&env, &fake, &["free-tier"], "");
    run.success();
    let source = epics_source(&snapshot);
    assert_eq!(source["status"], "skipped");
    assert_eq!(
        source["detail"],
        "epics need GitLab Premium or Ultimate; group free-tier does not have them"
    );
    assert_eq!(epic_lines(&run).len(), 1, "{}", run.stderr);
}

#[test]
fn unknown_and_refusing_groups_are_noted_and_the_others_harvested() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        epics_data()
            .group_access("secret", GroupAccess::Forbidden)
            .group_access("gone", GroupAccess::NotFound),
        Faults::default(),
    );
    let (run, snapshot) = harvest(
        &env,
        &fake,
        &["no-such-group", "secret", "gl-infra", "gone"],
        "",
    );
    run.success();
    assert_eq!(epic_titles(&snapshot), want(&ALICE_Q3));
    assert_eq!(epics_source(&snapshot)["status"], "ok");
    for group in ["no-such-group", "secret", "gone"] {
        assert!(
            run.stderr.lines().any(|l| l.contains(group)),
            "a note names {group}: {}",
            run.stderr
        );
    }
}

#[test]
fn only_refusing_groups_skip_the_source_rather_than_fail_it() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        epics_data()
            .group_access("secret", GroupAccess::Forbidden)
            .group_access("gone", GroupAccess::NotFound),
        Faults::default(),
    );
    let (run, snapshot) = harvest(&env, &fake, &["secret", "gone", "no-such-group"], "");
    run.success();
    let source = epics_source(&snapshot);
    assert_eq!(source["status"], "skipped", "{source:#}");
    let detail = source["detail"].as_str().unwrap();
    assert!(!detail.contains('\n'), "one line: {detail:?}");
    for part in [
        "(403) to group secret",
        "404 for group gone",
        "no-such-group",
    ] {
        assert!(detail.contains(part), "{detail}");
    }
    assert_eq!(epic_lines(&run).len(), 1, "{}", run.stderr);
}

#[test]
fn a_server_error_fails_the_source() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        epics_data(),
        Faults {
            fail_first_n_with_5xx: 1000,
            targets: vec!["GroupEpicWorkItems".to_string()],
            ..Faults::default()
        },
    );
    let (run, snapshot) = harvest(&env, &fake, &["gl-infra"], "");
    run.code(3);
    let source = epics_source(&snapshot);
    assert_eq!(source["status"], "failed", "{source:#}");
    assert!(
        source["detail"].as_str().unwrap().contains("500"),
        "{source:#}"
    );
    run.stderr_mentions("epics");
}
