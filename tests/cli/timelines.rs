//! Incident timeline events: an incident the subject wrote timeline entries for is evidence,
//! with the count, though they neither opened, were assigned to, nor commented on it.
//!
//! The world is the shared team plus incidents in `acme/platform` (where Alice has an incident
//! of her own, so its incidents are read) and in `acme/ops` (read only when configured): entries
//! by Alice in the period, before it, and by `malice`; fifteen incidents, read in one request;
//! and an incident whose timeline needs a second page.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::fake_gitlab::{Dataset, FakeGitlab, Faults, GraphqlFault, Issue, TimelineEvent};
use crate::scenario::{self, PLATFORM};
use crate::support::*;

const OPS: u64 = 206;

const SATURATION: &str = "Runner fleet saturation";
const OBJECT_STORAGE: &str = "Object storage 5xx";
const STALE_DNS: &str = "Stale DNS cache";
const CONSUMER_LAG: &str = "Queue consumer lag";
const FAILOVER_DRILL: &str = "Region failover drill";

fn noise(n: u64) -> String {
    format!("Paging noise #{n}")
}

fn world() -> Dataset {
    let mut data = scenario::team()
        .project(OPS, "acme/ops", "internal")
        .issue(
            Issue::new(
                8601,
                PLATFORM,
                90,
                SATURATION,
                "bob",
                "2026-07-10T10:00:00Z",
            )
            .of_type("INCIDENT")
            .severity("HIGH")
            .closed("2026-07-10T14:00:00Z"),
        )
        .issue(
            Issue::new(
                8602,
                PLATFORM,
                91,
                OBJECT_STORAGE,
                "alice",
                "2026-08-01T09:00:00Z",
            )
            .of_type("INCIDENT")
            .severity("MEDIUM"),
        )
        .issue(
            Issue::new(
                8603,
                PLATFORM,
                92,
                STALE_DNS,
                "carol",
                "2026-06-20T10:00:00Z",
            )
            .of_type("INCIDENT")
            .updated("2026-07-01T10:00:00Z"),
        )
        .issue(
            Issue::new(
                8604,
                PLATFORM,
                93,
                CONSUMER_LAG,
                "dave",
                "2026-08-20T10:00:00Z",
            )
            .of_type("INCIDENT"),
        )
        .issue(
            Issue::new(
                8620,
                OPS,
                1,
                FAILOVER_DRILL,
                "carol",
                "2026-09-01T10:00:00Z",
            )
            .of_type("INCIDENT"),
        );
    for n in 1..=11 {
        data = data.issue(
            Issue::new(
                8604 + n,
                PLATFORM,
                93 + n,
                &noise(n),
                "carol",
                "2026-09-10T10:00:00Z",
            )
            .of_type("INCIDENT"),
        );
    }
    let entry = |id, incident, author, at| TimelineEvent::new(id, incident, author, at);
    let mut data = data
        // Three by Alice: two pages at page size 2.
        .timeline_event(entry(1, 8601, "alice", "2026-07-10T10:05:00Z"))
        .timeline_event(entry(2, 8601, "alice", "2026-07-10T10:20:00Z"))
        .timeline_event(entry(3, 8601, "bob", "2026-07-10T10:30:00Z"))
        .timeline_event(entry(4, 8601, "alice", "2026-07-10T11:00:00Z"))
        .timeline_event(entry(5, 8602, "alice", "2026-08-01T09:10:00Z"))
        // Alice's entry is from before the period.
        .timeline_event(entry(6, 8603, "alice", "2026-06-20T10:10:00Z"))
        .timeline_event(entry(7, 8603, "carol", "2026-07-01T10:00:00Z"))
        // A near-namesake's.
        .timeline_event(entry(8, 8604, "malice", "2026-08-20T10:10:00Z"))
        .timeline_event(entry(9, 8604, "bob", "2026-08-20T10:20:00Z"))
        .timeline_event(entry(10, 8620, "alice", "2026-09-01T10:05:00Z"))
        .timeline_event(entry(11, 8620, "alice", "2026-09-01T10:15:00Z"));
    for n in 1..=11 {
        data = data.timeline_event(entry(100 + n, 8604 + n, "carol", "2026-09-10T10:01:00Z"));
    }
    // On the last of the noise.
    data.timeline_event(entry(200, 8615, "alice", "2026-09-10T10:02:00Z"))
}

fn config(env: &TestEnv, incident_projects: &[&str], page_size: u32) -> std::path::PathBuf {
    let list: Vec<String> = incident_projects.iter().map(|p| format!("{p:?}")).collect();
    env.write(
        "timelines.toml",
        &format!(
            "{FAST_CONFIG}\n[harvest]\npage_size = {page_size}\nincident_projects = [{}]\n",
            list.join(", ")
        ),
    )
}

fn harvest(env: &TestEnv, fake: &FakeGitlab, config: &std::path::Path, users: &[&str]) -> Run {
    let mut cmd = env.command();
    cmd.env("GITLAB_URL", &fake.url)
        .env("GITLAB_TOKEN", crate::fake_gitlab::TOKEN)
        .arg("--config")
        .arg(config)
        .arg("--no-progress")
        .arg("harvest");
    for user in users {
        cmd.args(["--user", user]);
    }
    cmd.args(["--quarter", "2026Q3", "--out"])
        .arg(env.path("snapshot.json"));
    run(&mut cmd)
}

/// (role, title, timeline_events) of a subject's incidents.
fn incidents(snapshot: &Value, subject: &str) -> BTreeSet<(String, String, Option<u64>)> {
    items(snapshot)
        .iter()
        .filter(|i| i["subject"] == subject && i["kind"] == "incident")
        .map(|i| {
            (
                i["role"].as_str().unwrap().to_string(),
                i["title"].as_str().unwrap().to_string(),
                i["timeline_events"].as_u64(),
            )
        })
        .collect()
}

fn expect(rows: &[(&str, &str, Option<u64>)]) -> BTreeSet<(String, String, Option<u64>)> {
    rows.iter()
        .map(|(role, title, n)| (role.to_string(), title.to_string(), *n))
        .collect()
}

fn source<'s>(snapshot: &'s Value, subject: &str, name: &str) -> &'s Value {
    sources(snapshot)
        .iter()
        .find(|s| s["subject"] == subject && s["name"] == name)
        .unwrap_or_else(|| panic!("no source {name} for {subject}"))
}

fn timeline_requests_for(fake: &FakeGitlab, project: &str) -> usize {
    fake.graphql_requests("IncidentTimelineEvents")
        .iter()
        .filter(|r| r.body.contains(&format!("\"fullPath\":\"{project}\"")))
        .count()
}

#[test]
fn timeline_entries_make_an_incident_evidence() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(world(), Faults::default());
    harvest(&env, &fake, &config(&env, &["acme/ops"], 2), &["alice"]).success();
    let snapshot = read_snapshot(&env.path("snapshot.json"));

    let noise_11 = noise(11);
    assert_eq!(
        incidents(&snapshot, "alice"),
        expect(&[
            ("participant", SATURATION, Some(3)),
            ("author", OBJECT_STORAGE, Some(1)),
            ("participant", &noise_11, Some(1)),
            ("participant", FAILOVER_DRILL, Some(2)),
        ])
    );
    assert_eq!(source(&snapshot, "alice", "incidents")["status"], "ok");
    assert_eq!(source(&snapshot, "alice", "issues")["status"], "ok");

    // Fifteen platform incidents: one request for all their timelines, then the second page of
    // the one with more entries than a page; one request for the ops incident.
    assert_eq!(timeline_requests_for(&fake, "acme/platform"), 2);
    assert_eq!(timeline_requests_for(&fake, "acme/ops"), 1);
    assert_eq!(
        fake.graphql_requests("ProjectIncidents").len(),
        // acme/platform: 15 incidents at 2 a page; acme/ops: one page.
        8 + 1
    );

    // The count reaches the mapping and the report.
    let brag = env.path("brag.md");
    run(env
        .command()
        .args(["report", "--kind", "brag", "--out"])
        .arg(&brag)
        .arg(env.path("snapshot.json")))
    .success();
    let text = read_text(&brag);
    assert!(
        text.contains("wrote 3 entries of the incident timeline"),
        "{text}"
    );
    assert!(text.contains("3 timeline events"), "{text}");
}

#[test]
fn a_project_is_read_once_for_the_whole_team() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(world(), Faults::default());
    harvest(&env, &fake, &config(&env, &[], 100), &["alice", "bob"]).success();
    let snapshot = read_snapshot(&env.path("snapshot.json"));
    assert!(incidents(&snapshot, "alice").contains(&(
        "participant".to_string(),
        SATURATION.to_string(),
        Some(3)
    )));
    // Bob wrote one entry on Dave's incident; Malice's entry there is not Alice's.
    assert!(incidents(&snapshot, "bob").contains(&(
        "participant".to_string(),
        CONSUMER_LAG.to_string(),
        Some(1)
    )));
    assert!(!incidents(&snapshot, "alice")
        .iter()
        .any(|(_, title, _)| title == CONSUMER_LAG || title == STALE_DNS));
    // Not configured, and no incident of theirs there: acme/ops is not read.
    assert_eq!(timeline_requests_for(&fake, "acme/ops"), 0);
    assert_eq!(fake.graphql_requests("ProjectIncidents").len(), 1);
    assert_eq!(timeline_requests_for(&fake, "acme/platform"), 1);
}

#[test]
fn an_instance_without_timelines_keeps_the_other_incidents() {
    let env = TestEnv::new();
    let faults = Faults {
        targets: vec!["IncidentTimelineEvents".into()],
        graphql: Some(GraphqlFault::UndefinedField {
            type_name: "Project".into(),
            field: "incidentManagementTimelineEvents".into(),
        }),
        ..Faults::default()
    };
    let fake = FakeGitlab::start(world(), faults);
    let run = harvest(&env, &fake, &config(&env, &[], 100), &["alice"]);
    run.success();
    let snapshot = read_snapshot(&env.path("snapshot.json"));
    assert_eq!(
        incidents(&snapshot, "alice"),
        expect(&[("author", OBJECT_STORAGE, None)])
    );
    let source = source(&snapshot, "alice", "incidents");
    assert_eq!(source["status"], "ok", "{source:#}");
    assert!(
        source["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no incident timeline events")),
        "{source:#}"
    );
    assert_eq!(
        run.stderr.matches("no incident timeline events").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_incident_project_is_named_once() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(world(), Faults::default());
    let run = harvest(&env, &fake, &config(&env, &["acme/nope"], 100), &["alice"]);
    run.success();
    assert_eq!(run.stderr.matches("acme/nope").count(), 1, "{}", run.stderr);
    let snapshot = read_snapshot(&env.path("snapshot.json"));
    let source = source(&snapshot, "alice", "incidents");
    assert_eq!(source["status"], "ok", "{source:#}");
    assert!(incidents(&snapshot, "alice").contains(&(
        "participant".to_string(),
        SATURATION.to_string(),
        Some(3)
    )));
}

#[test]
fn timelines_that_cannot_be_read_make_the_incidents_partial_only() {
    let env = TestEnv::new();
    let faults = Faults {
        targets: vec!["IncidentTimelineEvents".into()],
        fail_first_n_with_5xx: 1000,
        ..Faults::default()
    };
    let fake = FakeGitlab::start(world(), faults);
    let run = harvest(&env, &fake, &config(&env, &[], 100), &["alice"]);
    run.code(3);
    run.stderr_mentions("incidents");
    let snapshot = read_snapshot(&env.path("snapshot.json"));
    assert_eq!(source(&snapshot, "alice", "incidents")["status"], "partial");
    assert_eq!(source(&snapshot, "alice", "issues")["status"], "ok");
    // What the other reads found is kept.
    assert!(incidents(&snapshot, "alice").contains(&(
        "author".to_string(),
        OBJECT_STORAGE.to_string(),
        None
    )));
}
