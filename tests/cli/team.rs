//! `gl-evidence team` and `harvest --group`: a group's members become the team (bots, blocked
//! and pending members, and `team.exclude`, left out), harvested together and reported.

use std::collections::BTreeSet;

use crate::fake_gitlab::{FakeGitlab, Faults, GroupMember};
use crate::scenario::{self, ALICE_ID};
use crate::support::*;

const GROUP: &str = "acme/sre";

/// The scenario team, with `acme/sre` holding alice and bob as people, plus members a team
/// report must leave out.
fn sre() -> crate::fake_gitlab::Dataset {
    let mut blocked = GroupMember::new(105, "carol");
    blocked.state = "blocked".into();
    let mut pending = GroupMember::new(106, "dave");
    pending.membership_state = "awaiting".into();
    let mut flagged = GroupMember::new(401, "renovate");
    flagged.bot = Some(true);
    scenario::team()
        .member(GROUP, GroupMember::new(ALICE_ID, "alice"))
        .member(GROUP, GroupMember::new(104, "bob"))
        .member(GROUP, blocked)
        .member(GROUP, pending)
        .member(GROUP, flagged)
        .member(GROUP, GroupMember::new(402, "project_201_bot_7f3a"))
        .member(GROUP, GroupMember::new(103, "malice"))
}

fn subjects(snapshot: &serde_json::Value) -> BTreeSet<String> {
    snapshot["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["username"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn team_of_a_group_leaves_out_bots_blocked_pending_and_excluded_members() {
    let fake = FakeGitlab::start(sre(), Faults::default());
    let env = TestEnv::new();
    let config = format!(
        "{}\n[team]\nexclude = [\"MALICE\"]\n",
        read_text(&env.config())
    );
    env.write("config.toml", &config);
    let out = env.path("team.md");
    let snapshot_out = env.path("team.json");
    let run = run(env
        .gl(&fake)
        .args(["team", "--group", GROUP, "--quarter", "2026Q3", "--out"])
        .arg(&out)
        .arg("--snapshot-out")
        .arg(&snapshot_out));
    run.success();
    let snapshot = read_snapshot(&snapshot_out);
    assert_eq!(
        subjects(&snapshot),
        BTreeSet::from(["alice".to_string(), "bob".to_string()])
    );
    // Members come with their ids: no user lookup per person.
    let requests = fake.requests();
    assert!(
        requests.iter().all(|r| r.path != "/api/v4/users"),
        "members are not looked up again"
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.path.ends_with("/members/all"))
            .count(),
        1
    );
    let report = read_text(&out);
    assert!(report.contains("Alice Liddell"), "{report}");
    assert!(report.contains("Bob Okafor"), "{report}");
    for absent in ["carol", "dave", "renovate", "project_201_bot", "malice"] {
        assert!(
            !report.contains(absent),
            "{absent} is in the report:\n{report}"
        );
    }
}

#[test]
fn harvest_takes_a_group_and_users_together() {
    let fake = FakeGitlab::start(sre(), Faults::default());
    let env = TestEnv::new();
    let out = env.path("snapshot.json");
    run(env
        .gl(&fake)
        .args([
            "harvest",
            "--group",
            GROUP,
            "--user",
            "alice2",
            "--quarter",
            "2026Q3",
            "--out",
        ])
        .arg(&out))
    .success();
    let snapshot = read_snapshot(&out);
    assert_eq!(
        subjects(&snapshot),
        BTreeSet::from([
            "alice".into(),
            "alice2".into(),
            "bob".into(),
            "malice".into()
        ])
    );
}

#[test]
fn an_unknown_group_is_a_clear_error() {
    let fake = FakeGitlab::start(sre(), Faults::default());
    let env = TestEnv::new();
    run(env
        .gl(&fake)
        .args(["team", "--group", "acme/nope", "--quarter", "2026Q3"]))
    .code(1)
    .stderr_has("unknown GitLab group `acme/nope`");
}

/// Runs `team` for the group in `format`, with `extra` flags, and returns the output file's text.
fn team_report(fake: &FakeGitlab, env: &TestEnv, format: &str, extra: &[&str]) -> String {
    let out = env.path(&format!("team-{format}-{}.out", extra.len()));
    let run = run(env
        .gl(fake)
        .args([
            "team",
            "--group",
            GROUP,
            "--quarter",
            "2026Q3",
            "--format",
            format,
        ])
        .args(extra)
        .arg("--out")
        .arg(&out));
    run.success();
    read_text(&out)
}

#[test]
fn team_reports_in_every_format_leave_confidential_items_out_unless_asked() {
    let fake = FakeGitlab::start(sre(), Faults::default());
    let env = TestEnv::new();
    // Alice's merge request in the private project acme/secret-sauce is confidential.
    let secret = scenario::TENANT_CACHE;

    let html = team_report(&fake, &env, "html", &[]);
    assert!(
        html.starts_with("<!DOCTYPE html>") || html.starts_with("<!doctype html>"),
        "{}",
        &html[..80]
    );
    assert!(!html.contains("<script"), "self-contained, no script");
    assert!(html.contains("Alice Liddell") && html.contains("Bob Okafor"));
    assert!(
        !html.contains(secret),
        "a confidential title leaked into the HTML"
    );
    assert!(
        html.contains("--include-confidential"),
        "the report says how to show them"
    );

    let markdown = team_report(&fake, &env, "md", &[]);
    assert!(!markdown.contains(secret));
    assert!(markdown.contains("Alice Liddell"));

    let snapshot_out = env.path("team-snapshot.json");
    let snapshot_arg = snapshot_out.to_str().unwrap();
    let json = team_report(&fake, &env, "json", &["--snapshot-out", snapshot_arg]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["format"], "gl-evidence/team-overview");
    // The snapshot keeps every item; the report counts the confidential ones it left out.
    let snapshot = read_snapshot(&snapshot_out);
    let confidential = items(&snapshot)
        .iter()
        .filter(|i| i["confidential"] == true)
        .count();
    assert!(confidential >= 1);
    assert_eq!(json["hidden_confidential"], confidential, "{json:#}");
    let people: Vec<&str> = json["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["username"].as_str().unwrap())
        .collect();
    // malice is a member too (only the first test excludes her through the config).
    assert_eq!(people, ["alice", "bob", "malice"]);

    let csv = team_report(&fake, &env, "csv", &[]);
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("username,name,area,competency,title,strength,items,score_total"));
    // One row per person and competency of the framework.
    assert_eq!(lines.count(), 3 * 41, "{csv}");

    // With --include-confidential nothing is hidden, and the report does not offer the flag.
    let json = team_report(&fake, &env, "json", &["--include-confidential"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["hidden_confidential"], 0, "{json:#}");
    assert_eq!(json["include_confidential"], true);
    let html = team_report(&fake, &env, "html", &["--include-confidential"]);
    assert!(
        !html.contains("--include-confidential"),
        "nothing left out to mention"
    );
}
