//! `--publish issue:GROUP/PROJECT`: reports posted as confidential issues in the fake GitLab,
//! updated (never duplicated) on later runs for the same person or team and period.

use serde_json::Value;

use crate::fake_gitlab::{Dataset, FakeGitlab, Faults, GroupMember, Issue, RestIssue};
use crate::scenario::{self, ALICE_ID};
use crate::support::*;

const DOCS: u64 = 301;
const DOCS_PATH: &str = "acme/brag-docs";
const PUBLISH: &str = "issue:acme/brag-docs";
const GROUP: &str = "acme/sre";
const ALICE_MARKER: &str = "<!-- gl-evidence:brag:alice:2026-07-01..2026-09-30 -->";
const TEAM_MARKER: &str = "<!-- gl-evidence:team:acme/sre:2026-07-01..2026-09-30 -->";

/// The scenario (alice owns the token), a private project for the documents, and `acme/sre`.
fn world() -> Dataset {
    scenario::team()
        .project(DOCS, DOCS_PATH, "private")
        .member(GROUP, GroupMember::new(ALICE_ID, "alice"))
        .member(GROUP, GroupMember::new(104, "bob"))
}

fn docs(fake: &FakeGitlab) -> Vec<RestIssue> {
    fake.rest_issues()
        .into_iter()
        .filter(|i| i.project_id == DOCS)
        .collect()
}

fn writes(fake: &FakeGitlab, method: &str) -> Vec<crate::fake_gitlab::RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.method == method && r.path.contains("/issues"))
        .collect()
}

#[test]
fn brag_creates_a_confidential_issue_then_updates_it_instead_of_duplicating() {
    let fake = FakeGitlab::start(world(), Faults::default());
    let env = TestEnv::new();
    let out = env.path("brag.md");
    let brag = |env: &TestEnv| {
        run(env
            .gl(&fake)
            .args(["brag", "--user", "alice", "--quarter", "2026Q3", "--out"])
            .arg(&out)
            .args(["--publish", PUBLISH]))
    };

    brag(&env)
        .success()
        .stderr_has("published: created confidential issue #1 in acme/brag-docs")
        .stderr_has("/acme/brag-docs/-/issues/1");
    let issues = docs(&fake);
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let issue = &issues[0];
    assert!(issue.confidential);
    assert_eq!(issue.author, "alice", "created by the token's user");
    assert_eq!(issue.labels, ["gl-evidence"]);
    assert_eq!(
        issue.title,
        "Brag document: Alice Liddell (@alice), 2026-07-01 – 2026-09-30"
    );
    let report = read_text(&out);
    assert_eq!(
        issue.description.as_deref(),
        Some(format!("{ALICE_MARKER}\n\n{report}").as_str()),
        "the description is the marker and the Markdown report"
    );
    assert!(report.contains(scenario::RETRY_BUDGET), "{report}");
    let posts = writes(&fake, "POST");
    assert_eq!(posts.len(), 1);
    let body: Value = serde_json::from_str(&posts[0].body).unwrap();
    assert_eq!(body["confidential"], true);
    assert!(
        posts[0].header("private-token").is_some(),
        "the token travels in a header"
    );
    // It was looked for first, among the token user's labelled issues.
    let lookup = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "GET" && r.path.ends_with("/projects/acme%2Fbrag-docs/issues"))
        .expect("a lookup before creating");
    assert_eq!(lookup.param("labels").as_deref(), Some("gl-evidence"));
    assert_eq!(lookup.param("scope").as_deref(), Some("created_by_me"));

    // Someone edits the issue; the next run puts the report back, in the same issue.
    fake.edit_rest_issue(DOCS, 1, |i| {
        i.description = Some(format!("{ALICE_MARKER}\n\nedited by hand"));
        i.confidential = false;
    });
    brag(&env)
        .success()
        .stderr_has("published: updated issue #1 in acme/brag-docs (same report and period)");
    let issues = docs(&fake);
    assert_eq!(issues.len(), 1, "no duplicate: {issues:#?}");
    assert_eq!(
        issues[0].description.as_deref(),
        Some(format!("{ALICE_MARKER}\n\n{}", read_text(&out)).as_str())
    );
    assert!(issues[0].confidential, "made confidential again");
    assert_eq!(writes(&fake, "POST").len(), 1);
    let puts = writes(&fake, "PUT");
    assert_eq!(puts.len(), 1);
    assert!(puts[0]
        .path
        .ends_with("/projects/acme%2Fbrag-docs/issues/1"));
    let body: Value = serde_json::from_str(&puts[0].body).unwrap();
    assert_eq!(body["confidential"], true);

    // Another period is another issue.
    run(env.gl(&fake).args([
        "brag",
        "--user",
        "alice",
        "--quarter",
        "2026Q2",
        "--publish",
        PUBLISH,
    ]))
    .success()
    .stderr_has("created confidential issue #2");
    assert_eq!(docs(&fake).len(), 2);
}

#[test]
fn a_team_published_from_html_then_from_merged_shards_is_one_issue() {
    let fake = FakeGitlab::start(world(), Faults::default());
    let env = TestEnv::new();
    let html = env.path("team.html");
    run(env
        .gl(&fake)
        .args([
            "team",
            "--group",
            GROUP,
            "--quarter",
            "2026Q3",
            "--format",
            "html",
            "--out",
        ])
        .arg(&html)
        .args(["--publish", PUBLISH]))
    .success()
    .stderr_has("created confidential issue #1");
    let issue = &docs(&fake)[0];
    let description = issue.description.clone().unwrap();
    assert!(description.starts_with(TEAM_MARKER), "{description}");
    assert!(
        !description.contains("<html") && description.contains("# "),
        "Markdown is published, not the HTML: {description}"
    );
    assert!(read_text(&html).contains("<html"));
    assert_eq!(
        issue.title,
        "Team report: acme/sre, 2026-07-01 – 2026-09-30"
    );

    // The scaled-out way: shards, merge, report from the merged snapshot.
    let mut shards = Vec::new();
    for shard in ["1/2", "2/2"] {
        let out = env.path(&format!("shard-{}.json", &shard[..1]));
        run(env
            .gl(&fake)
            .args([
                "harvest",
                "--group",
                GROUP,
                "--quarter",
                "2026Q3",
                "--shard",
                shard,
                "--out",
            ])
            .arg(&out))
        .success();
        shards.push(out);
    }
    let all = env.path("all.json");
    run(env
        .command()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&all))
    .success();
    let report = env.path("team.md");
    let from_merged = |env: &TestEnv| {
        run(env
            .gl(&fake)
            .args(["report", "--kind", "team"])
            .arg(&all)
            .arg("--out")
            .arg(&report)
            .args(["--publish", PUBLISH]))
    };
    from_merged(&env).success().stderr_has("issue #1");
    let issues = docs(&fake);
    assert_eq!(issues.len(), 1, "the same team and period: {issues:#?}");
    assert_eq!(
        issues[0].description.as_deref(),
        Some(format!("{TEAM_MARKER}\n\n{}", read_text(&report)).as_str())
    );
    // The merged snapshot fixes the report's every byte: a second run changes nothing.
    let puts = writes(&fake, "PUT").len();
    from_merged(&env)
        .success()
        .stderr_has("published: issue #1 in acme/brag-docs is already up to date");
    assert_eq!(writes(&fake, "PUT").len(), puts);
}

#[test]
fn an_issue_whose_label_was_removed_is_still_found_by_its_marker() {
    let fake = FakeGitlab::start(world(), Faults::default());
    let env = TestEnv::new();
    let publish = |env: &TestEnv| {
        run(env.gl(&fake).args([
            "brag",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--publish",
            PUBLISH,
        ]))
    };
    publish(&env).success().stderr_has("created");
    fake.edit_rest_issue(DOCS, 1, |i| {
        i.labels.clear();
        i.description = Some(format!("{ALICE_MARKER}\n\nstale"));
    });
    publish(&env).success().stderr_has("updated issue #1");
    assert_eq!(docs(&fake).len(), 1);
    assert_eq!(docs(&fake)[0].labels, ["gl-evidence"], "labelled again");
    let search = fake
        .requests()
        .into_iter()
        .find(|r| r.param("search").is_some())
        .expect("a search by marker");
    assert_eq!(
        search.param("search").as_deref(),
        Some("gl-evidence:brag:alice:2026-07-01..2026-09-30")
    );
    assert_eq!(search.param("in").as_deref(), Some("description"));
    assert_eq!(search.param("scope").as_deref(), Some("created_by_me"));
}

#[test]
fn someone_else_s_issue_with_the_marker_is_left_alone() {
    let forged = Issue::new(600_001, DOCS, 7, "Not yours", "bob", "2026-09-01T10:00:00Z")
        .labels(&["gl-evidence"])
        .description(&format!("{ALICE_MARKER}\n\nbob wrote this"));
    let fake = FakeGitlab::start(world().issue(forged), Faults::default());
    let env = TestEnv::new();
    run(env.gl(&fake).args([
        "brag",
        "--user",
        "alice",
        "--quarter",
        "2026Q3",
        "--publish",
        PUBLISH,
    ]))
    .success()
    .stderr_has("created confidential issue #8");
    let bobs = docs(&fake).into_iter().find(|i| i.iid == 7).unwrap();
    assert_eq!(
        bobs.description.as_deref(),
        Some(format!("{ALICE_MARKER}\n\nbob wrote this").as_str())
    );
    assert!(writes(&fake, "PUT").is_empty());
}

#[test]
fn a_read_only_token_gets_a_clear_error_and_the_report_is_still_written() {
    let fake = FakeGitlab::start(
        world(),
        Faults {
            read_only_token: true,
            ..Faults::default()
        },
    );
    let env = TestEnv::new();
    let out = env.path("brag.md");
    run(env
        .gl(&fake)
        .args(["brag", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(&out)
        .args(["--publish", PUBLISH]))
    .code(1)
    .stderr_has(
        "GitLab refused to create an issue in acme/brag-docs (403 Forbidden: insufficient_scope)",
    )
    .stderr_has("needs a token with the `api` scope")
    .stderr_lacks(crate::fake_gitlab::TOKEN);
    assert!(read_text(&out).contains(scenario::RETRY_BUDGET));
    assert!(docs(&fake).is_empty());
}

#[test]
fn unknown_projects_bad_destinations_and_missing_tokens_are_explained() {
    let fake = FakeGitlab::start(world(), Faults::default());
    let env = TestEnv::new();
    run(env.gl(&fake).args([
        "brag",
        "--user",
        "alice",
        "--quarter",
        "2026Q3",
        "--publish",
        "issue:acme/nope",
    ]))
    .code(1)
    .stderr_has("project acme/nope not found, or the token's user cannot see it");

    for bad in ["acme/brag-docs", "issue:brag-docs", "mail:acme/x"] {
        run(env.command().args([
            "brag",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--publish",
            bad,
        ]))
        .code(2)
        .stderr_has("issue:GROUP/PROJECT");
    }

    let snapshot = env.path("demo.json");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo/snapshot.json"),
        &snapshot,
    )
    .unwrap();
    let out = env.path("brag.md");
    run(env
        .command()
        .arg("report")
        .arg(&snapshot)
        .arg("--out")
        .arg(&out)
        .args(["--publish", PUBLISH]))
    .code(2)
    .stderr_has("--publish issue:acme/brag-docs needs a GitLab token with the `api` scope");
    assert!(!out.exists(), "checked before rendering");
}

#[test]
fn duplicates_made_by_hand_are_named_and_the_oldest_is_updated() {
    let copy = |id, iid| {
        Issue::new(id, DOCS, iid, "Copy", "alice", "2026-09-01T10:00:00Z")
            .description(&format!("{ALICE_MARKER}\n\nold"))
    };
    let fake = FakeGitlab::start(
        world().issue(copy(600_005, 5)).issue(copy(600_003, 3)),
        Faults::default(),
    );
    let env = TestEnv::new();
    let out = env.path("brag.md");
    run(env
        .gl(&fake)
        .args(["brag", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(&out)
        .args(["--publish", PUBLISH]))
    .success()
    .stderr_has("updated issue #3")
    .stderr_has("warning: #5 in acme/brag-docs also carries this report's marker and was not updated: close it as a duplicate");
    // Alice wrote them in the quarter, but published reports are not evidence.
    let report = read_text(&out);
    assert!(report.contains(scenario::RETRY_BUDGET), "{report}");
    assert!(!report.contains("Copy"), "{report}");
    let five = docs(&fake).into_iter().find(|i| i.iid == 5).unwrap();
    assert_eq!(
        five.description.as_deref(),
        Some(format!("{ALICE_MARKER}\n\nold").as_str())
    );
}

#[test]
fn publishing_a_snapshot_of_another_instance_warns() {
    let fake = FakeGitlab::start(world(), Faults::default());
    let env = TestEnv::new();
    let snapshot = env.path("demo.json");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo/snapshot.json"),
        &snapshot,
    )
    .unwrap();
    let origin = read_json(&snapshot)["gitlab_url"]
        .as_str()
        .unwrap()
        .to_string();
    run(env
        .gl(&fake)
        .arg("report")
        .arg(&snapshot)
        .args(["--publish", PUBLISH]))
    .success()
    .stderr_has(&format!("but the snapshot comes from {origin}"))
    .stderr_has("created confidential issue #1");
}
