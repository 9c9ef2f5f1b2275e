//! Issues, incidents and interview work, harvested end to end against the fake.
//!
//! The world is the shared team (see `scenario`) plus issues and incidents laid out at the edges
//! of the 2026Q3 rules: created or closed in the period or only touched in it, created at the
//! first instant after it (`createdBefore` is inclusive), closed by Alice though someone else's,
//! closed by her just after the period, incidents she only commented on, severity from the field
//! and from a `severity::N` label, a confidential issue, types that are not evidence (a test
//! case), work by `alice2` and `malice`, and issues and merge requests labelled or filed as
//! interview work. The first tests check the fake answers the new requests like GitLab does.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::fake_gitlab::{at, Dataset, Event, FakeGitlab, Faults, Issue, MergeRequest, TOKEN};
use crate::scenario::{self, ALICE_ID, PLATFORM, SECRET, STAMPEDE, TERRAFORM};
use crate::support::*;

pub const HIRING: u64 = 204;
pub const HIRING_OLD: u64 = 205;

// Plain issues.
const DOCUMENT_BUDGET: &str = "Document the retry budget";
const ARM_RUNNERS: &str = "Flaky deploy on arm runners";
const HANDBOOK: &str = "Rewrite the on-call handbook";
const AUDIT_GAPS: &str = "Audit log gaps";
const Q4_CAPACITY: &str = "Plan Q4 capacity";
const OLD_RUNNERS: &str = "Retire old runners";
const RUNBOOK_INDEX: &str = "Update the runbook index";
const ZONE_TEST_CASE: &str = "Checkout survives a zone outage";
const SMOKE_TEST: &str = "Fix the flaky smoke test";
const TOKEN_LEAK: &str = "Token leak in job logs";
const DEBRIEF: &str = "Loop debrief notes";
const OLD_PIPELINE: &str = "Old hiring pipeline";

// Incidents.
const LATENCY: &str = "Checkout latency spike";
const FAILOVER: &str = "Database failover";
const CDN_CERT: &str = "CDN certificate expiry";
const BACKLOG: &str = "Queue backlog";
const EVICTION: &str = "Cache node eviction storm";
const DISK_PRESSURE: &str = "Disk pressure on runners";
const PORTAL_OUTAGE: &str = "Hiring portal outage";

// Near-namesakes' work.
const ALICE2_ISSUE: &str = "Alice2's flaky test";
const MALICE_INCIDENT: &str = "Malice's incident";
const EXPORTER: &str = "Audit exporter";

// Interview work.
const SHADOW_LOOPS: &str = "Interview training: shadow two loops";
const SYSTEM_DESIGN: &str = "Prepare the system design interview";
const TAKE_HOME: &str = "Add take-home exercise";
const RUBRIC: &str = "Rubric for the pairing interview";

// A merge request Alice closed (not a review, not an issue).
const ABANDONED: &str = "Abandoned experiment";

/// The team, with issues, incidents and interview work around Alice's 2026Q3.
fn world() -> Dataset {
    let data = scenario::team()
        .project(HIRING, "acme/hiring", "internal")
        .project(HIRING_OLD, "acme/hiring-old", "internal");

    // Plain issues.
    let audit = Issue::new(
        8104,
        PLATFORM,
        43,
        AUDIT_GAPS,
        "carol",
        "2026-05-01T10:00:00Z",
    )
    .closed("2026-09-30T23:00:00Z");
    let old_runners = Issue::new(
        8106,
        TERRAFORM,
        13,
        OLD_RUNNERS,
        "dave",
        "2026-05-01T10:00:00Z",
    )
    .closed("2026-10-01T09:00:00Z");
    let runbook = Issue::new(
        8108,
        PLATFORM,
        46,
        RUNBOOK_INDEX,
        "carol",
        "2026-06-01T10:00:00Z",
    )
    .of_type("TASK")
    .closed("2026-07-20T10:00:00Z");
    let test_case = Issue::new(
        8109,
        PLATFORM,
        47,
        ZONE_TEST_CASE,
        "carol",
        "2026-06-02T10:00:00Z",
    )
    .of_type("TEST_CASE")
    .closed("2026-07-21T10:00:00Z");
    let smoke = Issue::new(
        8110,
        PLATFORM,
        48,
        SMOKE_TEST,
        "alice",
        "2026-08-10T10:00:00Z",
    )
    .assignee("alice")
    .closed("2026-08-15T10:00:00Z");
    let data = data
        .issue(
            Issue::new(
                8101,
                PLATFORM,
                41,
                DOCUMENT_BUDGET,
                "alice",
                "2026-07-05T10:00:00Z",
            )
            // Severity labels mean nothing on a plain issue.
            .labels(&["documentation", "severity::1"])
            .description("Where the retry budget lives and how to tune it."),
        )
        .issue(
            Issue::new(
                8102,
                TERRAFORM,
                12,
                ARM_RUNNERS,
                "bob",
                "2026-06-10T10:00:00Z",
            )
            .assignee("carol")
            .assignee("alice")
            .closed("2026-08-20T10:00:00Z"),
        )
        // Created before the period and only touched in it: GitLab returns it, it is not hers
        // for the period.
        .issue(
            Issue::new(
                8103,
                PLATFORM,
                42,
                HANDBOOK,
                "alice",
                "2026-04-01T10:00:00Z",
            )
            .updated("2026-07-10T10:00:00Z"),
        )
        .issue(audit.clone())
        // The first instant after the period: `createdBefore` is inclusive, so GitLab returns it.
        .issue(Issue::new(
            8105,
            PLATFORM,
            44,
            Q4_CAPACITY,
            "alice",
            "2026-10-01T00:00:00Z",
        ))
        .issue(old_runners.clone())
        .issue(runbook.clone())
        .issue(test_case.clone())
        .issue(smoke.clone())
        .issue(
            Issue::new(8111, SECRET, 5, TOKEN_LEAK, "alice", "2026-09-02T10:00:00Z").confidential(),
        )
        .issue(
            Issue::new(8403, HIRING, 1, DEBRIEF, "bob", "2026-09-10T10:00:00Z").assignee("alice"),
        )
        .issue(Issue::new(
            8404,
            HIRING_OLD,
            1,
            OLD_PIPELINE,
            "alice",
            "2026-09-11T10:00:00Z",
        ));

    // Incidents.
    let cdn = Issue::new(
        8203,
        PLATFORM,
        61,
        CDN_CERT,
        "carol",
        "2026-06-28T10:00:00Z",
    )
    .of_type("INCIDENT")
    .severity("MEDIUM")
    .closed("2026-06-29T10:00:00Z")
    .updated("2026-07-02T12:00:00Z");
    let backlog = Issue::new(8204, PLATFORM, 62, BACKLOG, "dave", "2026-05-01T10:00:00Z")
        .of_type("INCIDENT")
        .severity("LOW")
        .assignee("alice")
        .closed("2026-05-02T10:00:00Z")
        .updated("2026-07-15T10:00:00Z");
    let disk = Issue::new(
        8206,
        TERRAFORM,
        21,
        DISK_PRESSURE,
        "bob",
        "2026-08-08T10:00:00Z",
    )
    .of_type("INCIDENT")
    // The field wins over a label.
    .severity("HIGH")
    .labels(&["severity::4"])
    .closed("2026-08-10T10:00:00Z");
    let data = data
        .issue(
            Issue::new(8201, PLATFORM, 60, LATENCY, "alice", "2026-08-03T10:00:00Z")
                .of_type("INCIDENT")
                .severity("CRITICAL")
                .closed("2026-08-04T10:00:00Z"),
        )
        .issue(
            Issue::new(8202, TERRAFORM, 20, FAILOVER, "bob", "2026-09-01T10:00:00Z")
                .of_type("INCIDENT")
                .assignee("alice")
                .labels(&["incident", "severity::2"]),
        )
        .issue(cdn.clone())
        .issue(backlog.clone())
        // Hers, over before the period, touched by someone else in it.
        .issue(
            Issue::new(
                8205,
                PLATFORM,
                63,
                EVICTION,
                "alice",
                "2026-04-02T10:00:00Z",
            )
            .of_type("INCIDENT")
            .severity("HIGH")
            .closed("2026-04-03T10:00:00Z")
            .updated("2026-07-20T10:00:00Z"),
        )
        .issue(disk.clone())
        // An incident is never interview work, whatever its labels.
        .issue(
            Issue::new(
                8207,
                PLATFORM,
                64,
                PORTAL_OUTAGE,
                "alice",
                "2026-09-05T10:00:00Z",
            )
            .of_type("INCIDENT")
            .labels(&["hiring"]),
        );

    // Near-namesakes.
    let malice_incident = Issue::new(
        8302,
        PLATFORM,
        71,
        MALICE_INCIDENT,
        "malice",
        "2026-07-11T10:00:00Z",
    )
    .of_type("INCIDENT")
    .severity("HIGH")
    .closed("2026-08-16T10:00:00Z");
    let exporter = Issue::new(
        8303,
        PLATFORM,
        72,
        EXPORTER,
        "carol",
        "2026-05-03T10:00:00Z",
    )
    .closed("2026-07-12T10:00:00Z");
    let data = data
        .issue(
            Issue::new(
                8301,
                PLATFORM,
                70,
                ALICE2_ISSUE,
                "alice2",
                "2026-07-10T10:00:00Z",
            )
            .assignee("malice"),
        )
        .issue(malice_incident.clone())
        .issue(exporter.clone());

    // Interview work.
    let rubric = MergeRequest::new(5302, PLATFORM, 41, RUBRIC, "bob", "2026-08-20T10:00:00Z")
        .merged("2026-08-22T10:00:00Z")
        .labels(&["Interview Training"])
        .reviewer("alice", true, "APPROVED")
        .approved_by("alice");
    let abandoned = MergeRequest::new(
        5303,
        PLATFORM,
        42,
        ABANDONED,
        "dave",
        "2026-07-01T10:00:00Z",
    )
    .closed("2026-08-05T10:00:00Z");
    let data = data
        .issue(
            Issue::new(
                8401,
                PLATFORM,
                80,
                SHADOW_LOOPS,
                "bob",
                "2026-07-14T10:00:00Z",
            )
            .assignee("alice")
            .labels(&["Interview Training"]),
        )
        .issue(
            Issue::new(
                8402,
                PLATFORM,
                81,
                SYSTEM_DESIGN,
                "alice",
                "2026-08-14T10:00:00Z",
            )
            .labels(&["interviewing"]),
        )
        .mr(MergeRequest::new(
            5301,
            PLATFORM,
            40,
            TAKE_HOME,
            "alice",
            "2026-07-20T10:00:00Z",
        )
        .merged("2026-07-25T10:00:00Z")
        .labels(&["hiring"]))
        .mr(rubric)
        .mr(abandoned.clone());

    // Events, in time order.
    data.event(Event::comment_on_issue(
        "alice",
        &cdn,
        "2026-07-02T09:00:00Z",
        "Timeline: the renewal job was disabled.",
    ))
    .event(Event::comment_on_issue(
        "alice",
        &cdn,
        "2026-07-02T10:00:00Z",
        "Root cause added.",
    ))
    .event(Event::comment_on_issue(
        "alice",
        &cdn,
        "2026-07-02T11:00:00Z",
        "Corrective actions filed.",
    ))
    .event(Event::comment_on_issue(
        "alice2",
        &malice_incident,
        "2026-07-11T11:00:00Z",
        "Paging the database team.",
    ))
    .event(Event::closed_issue(
        "alice2",
        &exporter,
        "2026-07-12T10:00:00Z",
    ))
    .event(Event::comment_on_issue(
        "alice",
        &backlog,
        "2026-07-15T10:00:00Z",
        "Postmortem draft is up.",
    ))
    .event(Event::closed_issue(
        "alice",
        &runbook,
        "2026-07-20T10:00:00Z",
    ))
    .event(Event::closed_issue(
        "alice",
        &test_case,
        "2026-07-21T10:00:00Z",
    ))
    .event(Event::closed_mr(
        "alice",
        &abandoned,
        "2026-08-05T10:00:00Z",
    ))
    .event(Event::closed_issue("alice", &disk, "2026-08-10T10:00:00Z"))
    .event(Event::closed_issue("alice", &smoke, "2026-08-15T10:00:00Z"))
    .event(Event::closed_issue(
        "malice",
        &malice_incident,
        "2026-08-16T10:00:00Z",
    ))
    .event(Event::closed_issue("alice", &audit, "2026-09-30T23:00:00Z"))
    .event(Event::closed_issue(
        "alice",
        &old_runners,
        "2026-10-01T09:00:00Z",
    ))
}

type Keys = BTreeSet<(String, String, String, String)>;

/// Alice's 2026Q3 in [`world`], beyond the team's merge requests and reviews.
fn alice_issue_work(interview_projects: bool) -> Keys {
    let debrief = if interview_projects {
        ("interview", "interviewer", DEBRIEF)
    } else {
        ("issue", "assignee", DEBRIEF)
    };
    let mut keys = scenario::alice_q3();
    keys.extend(keys_for(
        "alice",
        &[
            ("issue", "author", DOCUMENT_BUDGET),
            ("issue", "assignee", ARM_RUNNERS),
            // Someone else's, closed by her on the last evening of the period.
            ("issue", "participant", AUDIT_GAPS),
            // A task she closed is an issue.
            ("issue", "participant", RUNBOOK_INDEX),
            // Authored, assigned and closed by her: one item, as author.
            ("issue", "author", SMOKE_TEST),
            ("issue", "author", TOKEN_LEAK),
            ("issue", "author", OLD_PIPELINE),
            debrief,
            ("incident", "author", LATENCY),
            ("incident", "assignee", FAILOVER),
            // Only commented on, in the period.
            ("incident", "participant", CDN_CERT),
            // Assigned, over before the period, but she worked on it in the period.
            ("incident", "assignee", BACKLOG),
            // Closed by her.
            ("incident", "participant", DISK_PRESSURE),
            ("incident", "author", PORTAL_OUTAGE),
            ("interview", "interviewer", SHADOW_LOOPS),
            ("interview", "author", SYSTEM_DESIGN),
            ("interview", "author", TAKE_HOME),
            ("interview", "interviewer", RUBRIC),
        ],
    ));
    keys
}

fn harvest(env: &TestEnv, fake: &FakeGitlab, period: &[&str]) -> (Run, Value) {
    let out = env.path("snapshot.json");
    let run = run(env
        .gl(fake)
        .args(["harvest", "--user", "alice"])
        .args(period)
        .arg("--out")
        .arg(&out));
    run.success();
    let snapshot = read_snapshot(&out);
    (run, snapshot)
}

fn assert_items(snapshot: &Value, want: &Keys) {
    let got = item_keys(snapshot);
    assert!(got == *want, "harvest differs:\n{}", diff_keys(&got, want));
    // Each GitLab object appears once per subject, whatever found it and whatever it became.
    let mut ids = BTreeSet::new();
    for i in items(snapshot) {
        let id = i["id"].as_str().unwrap_or_else(|| panic!("no id: {i:#}"));
        assert!(
            ids.insert((i["subject"].as_str().unwrap(), id)),
            "{id} appears twice"
        );
    }
}

/// The source entry named `name` for alice.
fn source<'s>(snapshot: &'s Value, name: &str) -> &'s Value {
    let found: Vec<&Value> = sources(snapshot)
        .iter()
        .filter(|s| s["name"] == name && s["subject"] == "alice")
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one `{name}` source: {:#}",
        snapshot["sources"]
    );
    found[0]
}

fn count_of(snapshot: &Value, kind: &str) -> u64 {
    items(snapshot).iter().filter(|i| i["kind"] == kind).count() as u64
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

fn interview_config(env: &TestEnv) -> std::path::PathBuf {
    env.write(
        "interviews.toml",
        &format!("{FAST_CONFIG}\n[interview]\nprojects = [\"acme/hiring\"]\n"),
    )
}

// ---------------------------------------------------------------------------------------------
// The fake answers the new requests like GitLab.

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

async fn graphql(fake: &FakeGitlab, operation: &str, variables: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/api/graphql", fake.url))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .json(&json!({
            "query": document(operation),
            "variables": variables,
            "operationName": operation,
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("JSON")
}

fn q3_issue_vars(extra: Value) -> Value {
    let mut vars = json!({
        "types": ["ISSUE", "INCIDENT"],
        "updatedAfter": "2026-07-01T00:00:00Z",
        "createdBefore": "2026-10-01T00:00:00Z",
        "first": 100,
    });
    vars.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    vars
}

fn titles(body: &Value) -> Vec<String> {
    body["data"]["issues"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no issues: {body:#}"))
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn fake_filters_issues_like_gitlab() {
    let fake = FakeGitlab::start(world(), Faults::default());
    let authored = graphql(
        &fake,
        "Issues",
        q3_issue_vars(json!({"authorUsername": "ALICE"})),
    )
    .await;
    // Updated in the period, created up to and including the boundary instant, of the asked
    // types (no task or test case), newest first; usernames compare case-insensitively.
    assert_eq!(
        titles(&authored),
        vec![
            Q4_CAPACITY,
            OLD_PIPELINE,
            PORTAL_OUTAGE,
            TOKEN_LEAK,
            SYSTEM_DESIGN,
            SMOKE_TEST,
            LATENCY,
            DOCUMENT_BUDGET,
            EVICTION,
            HANDBOOK,
        ]
    );
    let assigned = graphql(
        &fake,
        "Issues",
        q3_issue_vars(json!({"assigneeUsernames": ["alice"]})),
    )
    .await;
    assert_eq!(
        titles(&assigned),
        vec![
            DEBRIEF,
            FAILOVER,
            SMOKE_TEST,
            SHADOW_LOOPS,
            ARM_RUNNERS,
            BACKLOG
        ]
    );
    let nobody = graphql(
        &fake,
        "Issues",
        q3_issue_vars(json!({"authorUsername": "alic"})),
    )
    .await;
    assert_eq!(titles(&nobody), Vec::<String>::new(), "no prefix match");
    let tasks = graphql(
        &fake,
        "Issues",
        q3_issue_vars(json!({"authorUsername": "carol", "types": ["TASK"], "updatedAfter": "2026-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(titles(&tasks), vec![RUNBOOK_INDEX]);

    // GitLab's shape, cut to what the document selects.
    let nodes = authored["data"]["issues"]["nodes"].as_array().unwrap();
    let latency = nodes.iter().find(|n| n["title"] == LATENCY).unwrap();
    assert_eq!(latency["id"], "gid://gitlab/Issue/8201");
    assert_eq!(latency["iid"], "60");
    assert_eq!(latency["type"], "INCIDENT");
    assert_eq!(latency["severity"], "CRITICAL");
    assert_eq!(latency["state"], "closed");
    assert_eq!(
        latency["reference"], "acme/platform#60",
        "reference(full: true)"
    );
    assert_eq!(latency["projectId"], PLATFORM);
    assert_eq!(latency["author"], json!({"username": "alice"}));
    assert_eq!(
        latency["webUrl"],
        format!("{}/acme/platform/-/issues/incident/60", fake.url)
    );
    let budget = nodes
        .iter()
        .find(|n| n["title"] == DOCUMENT_BUDGET)
        .unwrap();
    assert_eq!(budget["severity"], "UNKNOWN", "GitLab's default");
    assert_eq!(budget["closedAt"], Value::Null);
    assert_eq!(
        budget["labels"]["nodes"],
        json!([{"title": "documentation"}, {"title": "severity::1"}])
    );
    let leak = nodes.iter().find(|n| n["title"] == TOKEN_LEAK).unwrap();
    assert_eq!(leak["confidential"], true);
    assert!(
        latency.get("__typename").is_none(),
        "only what the document selects"
    );

    // Issues by iid, every type, in one project.
    let by_iid = graphql(
        &fake,
        "ProjectIssues",
        json!({
            "p0": [format!("gid://gitlab/Project/{PLATFORM}")],
            "i0": ["46", "47", "61", "999"],
            "use0": true,
            "first": 100,
        }),
    )
    .await;
    let project = &by_iid["data"]["s0"]["nodes"][0];
    let types: BTreeMap<&str, &str> = project["issues"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["iid"].as_str().unwrap(), n["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        BTreeMap::from([("46", "TASK"), ("47", "TEST_CASE"), ("61", "INCIDENT")])
    );
}

async fn get_events(fake: &FakeGitlab, query: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!(
            "{}/api/v4/users/{ALICE_ID}/events?{query}",
            fake.url
        ))
        .header("PRIVATE-TOKEN", TOKEN)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn fake_serves_close_events_and_forgets_old_ones_on_request() {
    let fake = FakeGitlab::start(world(), Faults::default());
    let closed = get_events(
        &fake,
        "action=closed&after=2026-06-30&before=2026-10-01&sort=asc",
    )
    .await;
    let seen: Vec<(String, u64)> = closed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["action_name"], "closed", "{e:#}");
            (
                e["target_type"].as_str().unwrap().to_string(),
                e["target_iid"].as_u64().unwrap(),
            )
        })
        .collect();
    // Alice's only (not malice's or alice2's), in the period (not the one on 1 October).
    let want: Vec<(String, u64)> = [
        ("Issue", 46),
        ("Issue", 47),
        ("MergeRequest", 42),
        ("Issue", 21),
        ("Issue", 48),
        ("Issue", 43),
    ]
    .iter()
    .map(|(t, i)| (t.to_string(), *i))
    .collect();
    assert_eq!(seen, want);
    let issues_only = get_events(&fake, "action=closed&target_type=issue").await;
    assert_eq!(issues_only.as_array().unwrap().len(), 6, "{issues_only:#}");

    // GitLab deletes events older than three years.
    let old = Dataset::new()
        .user(ALICE_ID, "alice", "Alice Liddell")
        .project(PLATFORM, "acme/platform", "public");
    let issue = Issue::new(1, PLATFORM, 1, "Old", "alice", "2020-01-01T00:00:00Z");
    let recent = (Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    let ancient = (Utc::now() - chrono::Duration::days(3 * 366)).to_rfc3339();
    let old = old
        .issue(issue.clone())
        .event(Event::closed_issue("alice", &issue, &ancient))
        .event(Event::closed_issue("alice", &issue, &recent));
    let keeping = FakeGitlab::start(old.clone(), Faults::default());
    assert_eq!(
        get_events(&keeping, "action=closed")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let forgetting = FakeGitlab::start(old.event_retention(3), Faults::default());
    assert_eq!(
        get_events(&forgetting, "action=closed")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

// ---------------------------------------------------------------------------------------------
// The harvest.

#[test]
fn issues_incidents_and_interviews_over_a_quarter() {
    let env = TestEnv::new();
    let data = world();
    let fake = FakeGitlab::start(data.clone(), Faults::default());
    let (run, snapshot) = harvest(&env, &fake, &["--quarter", "2026Q3"]);
    assert_items(&snapshot, &alice_issue_work(false));

    // What an issue item says.
    let budget = item(&snapshot, "alice", "issue", DOCUMENT_BUDGET);
    assert_eq!(budget["id"], "gid://gitlab/Issue/8101");
    assert_eq!(
        budget["web_url"],
        format!("{}/acme/platform/-/issues/41", fake.url)
    );
    assert_eq!(budget["project"], "acme/platform");
    assert_eq!(budget["state"], "opened");
    assert_eq!(time(&budget["created_at"]), at("2026-07-05T10:00:00Z"));
    assert_eq!(
        budget["labels"],
        json!(["documentation", "severity::1"]),
        "{budget:#}"
    );
    assert!(budget["description"]
        .as_str()
        .is_some_and(|d| d.contains("retry budget lives")));
    assert!(
        budget.get("severity").is_none(),
        "severity is for incidents: {budget:#}"
    );
    assert!(
        budget.get("confidential").is_none() || budget["confidential"] == false,
        "{budget:#}"
    );
    let runners = item(&snapshot, "alice", "issue", ARM_RUNNERS);
    assert_eq!(runners["state"], "closed");
    assert_eq!(time(&runners["closed_at"]), at("2026-08-20T10:00:00Z"));
    assert_eq!(runners["project"], "acme/infra/terraform");

    // Incidents: severity from the field (CRITICAL = 1 … LOW = 4), else from the label; the
    // subject's own comment count.
    let incident = |title: &str| item(&snapshot, "alice", "incident", title);
    let severity = |title: &str| incident(title)["severity"].as_u64();
    assert_eq!(severity(LATENCY), Some(1));
    assert_eq!(severity(FAILOVER), Some(2), "from severity::2");
    assert_eq!(severity(CDN_CERT), Some(3));
    assert_eq!(severity(BACKLOG), Some(4));
    assert_eq!(
        severity(DISK_PRESSURE),
        Some(2),
        "the field beats the label"
    );
    assert_eq!(severity(PORTAL_OUTAGE), None, "UNKNOWN and no label");
    assert_eq!(
        incident(CDN_CERT)["comments"],
        3,
        "{:#}",
        incident(CDN_CERT)
    );
    assert_eq!(incident(BACKLOG)["comments"], 1, "{:#}", incident(BACKLOG));
    assert_eq!(
        incident(LATENCY)["web_url"],
        format!("{}/acme/platform/-/issues/incident/60", fake.url)
    );

    // Interview work keeps what its source knew.
    let take_home = item(&snapshot, "alice", "interview", TAKE_HOME);
    assert_eq!(take_home["id"], "gid://gitlab/MergeRequest/5301");
    assert_eq!(take_home["labels"], json!(["hiring"]));
    let rubric = item(&snapshot, "alice", "interview", RUBRIC);
    assert_eq!(rubric["approved"], true, "{rubric:#}");

    // Each source counts its items; events count the events read, with no note for a recent
    // period.
    assert_eq!(
        source(&snapshot, "issues")["items"],
        count_of(&snapshot, "issue")
    );
    assert_eq!(count_of(&snapshot, "issue"), 8);
    assert_eq!(
        source(&snapshot, "incidents")["items"],
        count_of(&snapshot, "incident")
    );
    assert_eq!(count_of(&snapshot, "incident"), 6);
    assert_eq!(
        source(&snapshot, "interviews")["items"],
        count_of(&snapshot, "interview")
    );
    assert_eq!(count_of(&snapshot, "interview"), 4);
    let read = data
        .events
        .iter()
        .filter(|e| e.author == "alice")
        .filter(|e| {
            let day = e.created_at.date_naive().to_string();
            day.as_str() > "2026-06-30" && day.as_str() < "2026-10-01"
        })
        .count() as u64;
    let events = source(&snapshot, "events");
    assert_eq!(events["items"], read, "{events:#}");
    assert_eq!(events["status"], "ok");
    assert!(events["detail"].is_null(), "{events:#}");
    assert_sources_complete(&snapshot);
    run.stderr_lacks("source `events`");

    // The requests: two pages of issues (authored, assigned), one batch by iid per project for
    // the issues only the events name, with exactly those iids.
    let requests = fake.requests();
    for r in &requests {
        assert_eq!(
            r.status, 200,
            "{} {}?{} {:?}",
            r.method, r.path, r.query, r.operation
        );
    }
    let issue_calls = fake.graphql_requests("Issues");
    assert_eq!(issue_calls.len(), 2, "one page each, authored and assigned");
    let mut by_role = BTreeSet::new();
    for call in &issue_calls {
        let vars = call.variables().unwrap();
        let role = match (&vars["authorUsername"], &vars["assigneeUsernames"]) {
            (Value::String(a), Value::Null) if a == "alice" => "author",
            (Value::Null, assignees) if *assignees == json!(["alice"]) => "assignee",
            other => panic!("neither authored nor assigned: {other:?}"),
        };
        by_role.insert(role);
        let types = vars["types"].as_array().expect("types");
        for wanted in ["ISSUE", "INCIDENT"] {
            assert!(types.contains(&json!(wanted)), "{wanted} in {types:?}");
        }
        assert_eq!(time(&vars["updatedAfter"]), at("2026-07-01T00:00:00Z"));
        let before = time(&vars["createdBefore"]);
        assert!(
            before > at("2026-09-30T23:59:00Z") && before <= at("2026-10-01T00:00:00Z"),
            "createdBefore {before} ends the period"
        );
    }
    assert_eq!(by_role, BTreeSet::from(["assignee", "author"]));
    let calls = fake.graphql_requests("ProjectIssues");
    assert_eq!(calls.len(), 1, "both projects in one request");
    let vars = calls[0].variables().unwrap();
    let by_iid: BTreeMap<String, BTreeSet<String>> = (0..5)
        .filter(|k| vars[format!("use{k}")] == json!(true))
        .map(|k| {
            let ids = vars[format!("p{k}")].as_array().unwrap();
            assert_eq!(ids.len(), 1, "{vars:#}");
            let iids = vars[format!("i{k}")]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap().to_string())
                .collect();
            (ids[0].as_str().unwrap().to_string(), iids)
        })
        .collect();
    let set = |iids: &[&str]| iids.iter().map(|i| i.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        by_iid,
        BTreeMap::from([
            // #40 (Bob's issue she commented on), #43, #46, #47 (closed by her), #61
            // (incident she commented on); #48 and #62 are already known as hers.
            (
                format!("gid://gitlab/Project/{PLATFORM}"),
                set(&["40", "43", "46", "47", "61"])
            ),
            (format!("gid://gitlab/Project/{TERRAFORM}"), set(&["21"])),
        ]),
        "a slot per project"
    );
}

#[test]
fn a_comment_on_a_plain_issue_is_not_evidence() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(world(), Faults::default());
    let (_, snapshot) = harvest(&env, &fake, &["--quarter", "2026Q3"]);
    for i in items(&snapshot) {
        let title = i["title"].as_str().unwrap();
        for (excluded, why) in [
            (STAMPEDE, "she only commented on it"),
            (HANDBOOK, "only updated in the period"),
            (Q4_CAPACITY, "created just after the period"),
            (OLD_RUNNERS, "closed by her just after the period"),
            (ZONE_TEST_CASE, "a test case is not an issue"),
            (EVICTION, "her incident, over before the period"),
            (
                ABANDONED,
                "closing a merge request is neither a review nor an issue",
            ),
            (ALICE2_ISSUE, "alice2's"),
            (MALICE_INCIDENT, "malice's"),
            (EXPORTER, "closed by alice2"),
        ] {
            assert_ne!(title, excluded, "{why}: {i:#}");
        }
    }
}

#[test]
fn confidential_issues_are_kept_and_marked() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(world(), Faults::default());
    let (_, snapshot) = harvest(&env, &fake, &["--quarter", "2026Q3"]);
    let leak = item(&snapshot, "alice", "issue", TOKEN_LEAK);
    assert_eq!(leak["confidential"], true, "{leak:#}");
    assert_eq!(leak["project"], "acme/secret-sauce");
    for title in [DOCUMENT_BUDGET, SMOKE_TEST] {
        let public = item(&snapshot, "alice", "issue", title);
        assert_ne!(public["confidential"], true, "{public:#}");
    }
}

#[test]
fn near_namesakes_never_leak_in() {
    // alice2 and malice are harvested too: their work is theirs, Alice's is hers.
    let env = TestEnv::new();
    let fake = FakeGitlab::start(world(), Faults::default());
    let out = env.path("three.json");
    run(env
        .gl(&fake)
        .args([
            "harvest",
            "--user",
            "alice",
            "--user",
            "alice2",
            "--user",
            "malice",
            "--quarter",
            "2026Q3",
            "--out",
        ])
        .arg(&out))
    .success();
    let snapshot = read_snapshot(&out);
    let all = item_keys(&snapshot);
    let of = |who: &str| -> Keys { all.iter().filter(|k| k.0 == who).cloned().collect() };
    let alice = of("alice");
    let want = alice_issue_work(false);
    assert!(alice == want, "{}", diff_keys(&alice, &want));
    let issue_work = |who: &str| -> Keys {
        of(who)
            .into_iter()
            .filter(|k| ["issue", "incident", "interview"].contains(&k.1.as_str()))
            .collect()
    };
    let alice2 = issue_work("alice2");
    let want2 = keys_for(
        "alice2",
        &[
            ("issue", "author", ALICE2_ISSUE),
            ("issue", "participant", EXPORTER),
            ("incident", "participant", MALICE_INCIDENT),
        ],
    );
    assert!(alice2 == want2, "{}", diff_keys(&alice2, &want2));
    let malice = issue_work("malice");
    let want_malice = keys_for(
        "malice",
        &[
            ("issue", "assignee", ALICE2_ISSUE),
            ("incident", "author", MALICE_INCIDENT),
        ],
    );
    assert!(
        malice == want_malice,
        "{}",
        diff_keys(&malice, &want_malice)
    );
    assert_eq!(
        item(&snapshot, "alice2", "incident", MALICE_INCIDENT)["comments"],
        1
    );
}

#[test]
fn interview_projects_from_the_config() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(world(), Faults::default());
    let out = env.path("snapshot.json");
    run(env
        .command()
        .env("GITLAB_URL", &fake.url)
        .env("GITLAB_TOKEN", TOKEN)
        .arg("--config")
        .arg(interview_config(&env))
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
    // acme/hiring is interview work; acme/hiring-old only shares a prefix.
    assert_items(&snapshot, &alice_issue_work(true));
    assert_eq!(
        item(&snapshot, "alice", "interview", DEBRIEF)["project"],
        "acme/hiring"
    );
}

#[test]
fn authored_tasks_are_issues() {
    let env = TestEnv::new();
    let data = Dataset::new()
        .user(ALICE_ID, "alice", "Alice Liddell")
        .project(PLATFORM, "acme/platform", "public")
        .issue(
            Issue::new(
                1,
                PLATFORM,
                1,
                "Write the migration checklist",
                "alice",
                "2026-08-01T10:00:00Z",
            )
            .of_type("TASK"),
        )
        .issue(
            Issue::new(
                2,
                PLATFORM,
                2,
                "Pair on the cut-over",
                "carol",
                "2026-08-02T10:00:00Z",
            )
            .of_type("TASK")
            .assignee("alice"),
        );
    let fake = FakeGitlab::start(data, Faults::default());
    let (_, snapshot) = harvest(&env, &fake, &["--quarter", "2026Q3"]);
    assert_items(
        &snapshot,
        &keys_for(
            "alice",
            &[
                ("issue", "author", "Write the migration checklist"),
                ("issue", "assignee", "Pair on the cut-over"),
            ],
        ),
    );
}

#[test]
fn issues_from_private_projects_are_confidential() {
    // As for merge requests: the report's audience may not see a private project.
    let env = TestEnv::new();
    let data = Dataset::new()
        .user(ALICE_ID, "alice", "Alice Liddell")
        .project(SECRET, "acme/secret-sauce", "private")
        .issue(Issue::new(
            1,
            SECRET,
            1,
            "Tune the ranking model",
            "alice",
            "2026-08-01T10:00:00Z",
        ))
        .issue(
            Issue::new(
                2,
                SECRET,
                2,
                "Ranking outage",
                "alice",
                "2026-08-02T10:00:00Z",
            )
            .of_type("INCIDENT"),
        );
    let fake = FakeGitlab::start(data, Faults::default());
    let (_, snapshot) = harvest(&env, &fake, &["--quarter", "2026Q3"]);
    for (kind, title) in [
        ("issue", "Tune the ranking model"),
        ("incident", "Ranking outage"),
    ] {
        let i = item(&snapshot, "alice", kind, title);
        assert_eq!(
            i["confidential"], true,
            "{title} is in a private project: {i:#}"
        );
    }
}

#[test]
fn many_issues_take_several_pages() {
    const AUTHORED: u64 = 130;
    let mut data = Dataset::new()
        .user(ALICE_ID, "alice", "Alice Liddell")
        .project(PLATFORM, "acme/platform", "public");
    let start = at("2026-07-01T06:00:00Z");
    for n in 0..AUTHORED {
        let created = (start + chrono::Duration::hours(n as i64 * 5)).to_rfc3339();
        let issue = Issue::new(
            100 + n,
            PLATFORM,
            1 + n,
            &format!("Busy issue {n:03}"),
            "alice",
            &created,
        );
        // Every tenth is an incident.
        data = data.issue(if n % 10 == 0 {
            issue.of_type("INCIDENT")
        } else {
            issue
        });
    }
    let env = TestEnv::new();
    let fake = FakeGitlab::start(data, Faults::default());
    let (_, snapshot) = harvest(&env, &fake, &["--quarter", "2026Q3"]);
    let want: Keys = (0..AUTHORED)
        .map(|n| {
            let kind = if n % 10 == 0 { "incident" } else { "issue" };
            (
                "alice".to_string(),
                kind.to_string(),
                "author".to_string(),
                format!("Busy issue {n:03}"),
            )
        })
        .collect();
    assert_items(&snapshot, &want);
    let authored_pages = fake
        .graphql_requests("Issues")
        .iter()
        .filter(|r| r.variables().unwrap()["authorUsername"] == "alice")
        .count();
    assert_eq!(authored_pages, 2, "130 authored issues take 2 pages of 100");
}

#[test]
fn a_period_beyond_event_retention_says_what_is_missing() {
    // GitLab deletes events after three years: what only events show (an issue she closed, an
    // incident she commented on) is gone, and the snapshot says so; what GraphQL finds stays.
    let env = TestEnv::new();
    let closed = Issue::new(
        2,
        PLATFORM,
        2,
        "Replace the VPN",
        "carol",
        "2023-07-01T10:00:00Z",
    )
    .closed("2023-08-10T10:00:00Z");
    let incident = Issue::new(
        3,
        PLATFORM,
        3,
        "Mail queue stuck",
        "carol",
        "2023-08-11T10:00:00Z",
    )
    .of_type("INCIDENT")
    .closed("2023-08-12T10:00:00Z");
    let data = Dataset::new()
        .user(ALICE_ID, "alice", "Alice Liddell")
        .user(105, "carol", "Carol Chen")
        .project(PLATFORM, "acme/platform", "public")
        .event_retention(3)
        .issue(
            Issue::new(
                1,
                PLATFORM,
                1,
                "Migrate the build farm",
                "alice",
                "2023-08-01T10:00:00Z",
            )
            .closed("2023-08-20T10:00:00Z"),
        )
        .issue(closed.clone())
        .issue(incident.clone())
        .event(Event::closed_issue(
            "alice",
            &closed,
            "2023-08-10T10:00:00Z",
        ))
        .event(Event::comment_on_issue(
            "alice",
            &incident,
            "2023-08-11T11:00:00Z",
            "Restarted the relay.",
        ));
    let fake = FakeGitlab::start(data, Faults::default());
    let (run, snapshot) = harvest(&env, &fake, &["--quarter", "2023Q3"]);
    assert_items(
        &snapshot,
        &keys_for("alice", &[("issue", "author", "Migrate the build farm")]),
    );
    let events = source(&snapshot, "events");
    assert_eq!(events["status"], "ok", "a note, not a failure: {events:#}");
    assert_eq!(events["items"], 0, "{events:#}");
    let detail = events["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("no note: {events:#}"));
    for words in ["3 years", "events", "missing"] {
        assert!(detail.contains(words), "{words:?} in {detail:?}");
    }
    run.stderr_has("source `events`").stderr_has("3 years");
}
