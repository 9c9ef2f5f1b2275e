//! `harvest --shard N/M` and `merge`: a team harvested in slices by parallel jobs and put back
//! together, end to end against the fake GitLab.

use std::path::PathBuf;

use serde_json::Value;

use crate::fake_gitlab::{FakeGitlab, Faults, GroupMember};
use crate::scenario::{self, ALICE_ID};
use crate::support::*;

const GROUP: &str = "acme/sre";

/// The scenario with `acme/sre` holding alice, bob and malice.
fn sre() -> crate::fake_gitlab::Dataset {
    scenario::team()
        .member(GROUP, GroupMember::new(ALICE_ID, "alice"))
        .member(GROUP, GroupMember::new(104, "bob"))
        .member(GROUP, GroupMember::new(103, "malice"))
}

fn subjects(snapshot: &Value) -> Vec<String> {
    snapshot["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["username"].as_str().unwrap().to_string())
        .collect()
}

/// Harvests shard `n` of `m` of the group for Q3 into `name`.
fn harvest_shard(env: &TestEnv, fake: &FakeGitlab, shard: &str, name: &str) -> PathBuf {
    let out = env.path(name);
    run(env
        .gl(fake)
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
    out
}

#[test]
fn shards_split_the_team_and_merge_back_into_the_whole_harvest() {
    let fake = FakeGitlab::start(sre(), Faults::default());
    let env = TestEnv::new();
    let whole = env.path("whole.json");
    run(env
        .gl(&fake)
        .args(["harvest", "--group", GROUP, "--quarter", "2026Q3", "--out"])
        .arg(&whole))
    .success();
    let one = harvest_shard(&env, &fake, "1/2", "shard-1.json");
    let two = harvest_shard(&env, &fake, "2/2", "shard-2.json");

    // Sorted alice, bob, malice: shard 1 takes positions 0 and 2, shard 2 position 1.
    let first = read_snapshot(&one);
    let second = read_snapshot(&two);
    assert_eq!(subjects(&first), ["alice", "malice"]);
    assert_eq!(subjects(&second), ["bob"]);
    assert_eq!(
        first["shard"],
        serde_json::json!({"index": 1, "total": 2, "members": ["alice", "bob", "malice"]})
    );
    assert_eq!(first["group"], GROUP);

    let all = env.path("all.json");
    let merged_run = run(env
        .command()
        .args(["merge"])
        .arg(&two)
        .arg(&one)
        .arg("--out")
        .arg(&all));
    merged_run
        .success()
        .stderr_has("merged 2 snapshots: 3 people")
        .stderr_has("(0 duplicates dropped)");
    let merged = read_snapshot(&all);
    let whole = read_snapshot(&whole);
    assert_eq!(subjects(&merged), ["alice", "bob", "malice"]);
    assert_eq!(item_keys(&merged), item_keys(&whole));
    assert_eq!(merged["group"], GROUP);
    assert!(merged.get("shard").is_none(), "{merged:#}");
    assert_eq!(merged["gitlab_url"], whole["gitlab_url"]);
    assert_eq!(merged["period"], whole["period"]);
    assert_eq!(sources(&merged).len(), sources(&whole).len());

    // The argument order does not matter: the same bytes either way.
    let again = env.path("again.json");
    run(env
        .command()
        .arg("merge")
        .arg(&one)
        .arg(&two)
        .arg("--out")
        .arg(&again))
    .success();
    assert_eq!(read_text(&again), read_text(&all));

    // Reports read the merged snapshot like any other (classifying it first).
    let report = env.path("team.md");
    run(env
        .command()
        .args(["report", "--kind", "team"])
        .arg(&all)
        .arg("--out")
        .arg(&report))
    .success();
    let text = read_text(&report);
    assert!(
        text.contains("Alice Liddell") && text.contains("Bob Okafor"),
        "{text}"
    );
}

#[test]
fn duplicates_are_dropped_and_a_missing_shard_is_refused() {
    let fake = FakeGitlab::start(sre(), Faults::default());
    let env = TestEnv::new();
    let one = harvest_shard(&env, &fake, "1/2", "shard-1.json");
    let items = items(&read_snapshot(&one)).len();
    assert!(items > 0);
    // A shard harvested twice (a retried job) counts once.
    let rerun = harvest_shard(&env, &fake, "1/2", "shard-1-rerun.json");
    let two = harvest_shard(&env, &fake, "2/2", "shard-2.json");
    let all = env.path("all.json");
    run(env
        .command()
        .arg("merge")
        .args([&one, &rerun, &two])
        .arg("--out")
        .arg(&all))
    .success()
    .stderr_has(&format!("({items} duplicates dropped)"))
    .stderr_has("note: alice is in ");
    let merged = read_snapshot(&all);
    item_keys(&merged); // no item twice

    let lonely = run(env.command().arg("merge").arg(&one).arg(&rerun));
    lonely
        .code(2)
        .stderr_has("shard 2 of 2 missing: only 1/2 given");
    assert!(lonely.stdout.is_empty(), "nothing written on error");
}

#[test]
fn snapshots_of_other_periods_or_instances_are_refused_naming_the_files() {
    let fake = FakeGitlab::start(sre(), Faults::default());
    let env = TestEnv::new();
    let q3 = env.path("q3.json");
    let q2 = env.path("q2.json");
    for (quarter, out) in [("2026Q3", &q3), ("2026Q2", &q2)] {
        run(env
            .gl(&fake)
            .args(["harvest", "--user", "alice", "--quarter", quarter, "--out"])
            .arg(out))
        .success();
    }
    let out = env.path("all.json");
    run(env
        .command()
        .arg("merge")
        .arg(&q3)
        .arg(&q2)
        .arg("--out")
        .arg(&out))
    .code(2)
    .stderr_has("q3.json")
    .stderr_has("q2.json")
    .stderr_has("different periods (2026-07-01..2026-09-30 and 2026-04-01..2026-06-30)");
    assert!(!out.exists(), "no output on error");

    let mut elsewhere = read_json(&q3);
    elsewhere["gitlab_url"] = Value::from("https://gitlab.other.example");
    let other = env.write("other.json", &elsewhere.to_string());
    run(env.command().arg("merge").arg(&q3).arg(&other))
        .code(2)
        .stderr_has("other.json")
        .stderr_has("different GitLab instances")
        .stderr_has("https://gitlab.other.example");

    // The same instance written differently is the same instance.
    let mut same = read_json(&q3);
    let url = format!("{}/", same["gitlab_url"].as_str().unwrap().to_uppercase());
    same["gitlab_url"] = Value::from(url.replace("HTTP://", "http://"));
    let same = env.write("same.json", &same.to_string());
    run(env.command().arg("merge").arg(&q3).arg(&same)).success();
}

#[test]
fn unreadable_or_invalid_snapshots_are_named() {
    let env = TestEnv::new();
    let good = env.write(
        "good.json",
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/demo/snapshot.json"
        ))
        .unwrap(),
    );
    let broken = env.write("broken.json", "{\"format\": \"gl-evidence/snapshot\", ");
    run(env.command().arg("merge").arg(&good).arg(&broken))
        .code(2)
        .stderr_has("broken.json is not a valid gl-evidence snapshot");
    let other = env.write("other.json", "{\"format\": \"something-else\"}");
    run(env.command().arg("merge").arg(&good).arg(&other))
        .code(2)
        .stderr_has("other.json is not a gl-evidence snapshot");
    run(env.command().arg("merge").arg(&good).arg("absent.json"))
        .code(2)
        .stderr_has("cannot read snapshot absent.json");
    run(env.command().arg("merge"))
        .code(2)
        .stderr_has("<SNAPSHOT>...");
}

#[test]
fn a_partial_shard_keeps_the_merge_partial_and_merge_says_so() {
    let env = TestEnv::new();
    let healthy = FakeGitlab::start(sre(), Faults::default());
    let one = harvest_shard(&env, &healthy, "1/2", "shard-1.json");
    // Shard 2 (bob) meets a server whose events API keeps failing.
    let failing = FakeGitlab::start(
        sre(),
        Faults {
            fail_first_n_with_5xx: usize::MAX,
            targets: vec!["/events".to_string()],
            ..Faults::default()
        },
    );
    let two = env.path("shard-2.json");
    run(env
        .gl(&failing)
        .args([
            "harvest",
            "--group",
            GROUP,
            "--quarter",
            "2026Q3",
            "--shard",
            "2/2",
            "--out",
        ])
        .arg(&two))
    .code(3);
    // Two fakes, two ports: make them one instance, as two jobs against one GitLab would be.
    let mut second = read_json(&two);
    second["gitlab_url"] = read_json(&one)["gitlab_url"].clone();
    std::fs::write(&two, second.to_string()).unwrap();

    let all = env.path("all.json");
    run(env
        .command()
        .arg("merge")
        .arg(&one)
        .arg(&two)
        .arg("--out")
        .arg(&all))
    .code(3)
    .stderr_has("warning: source `events` for bob is failed (from ")
    .stderr_has("shard-2.json")
    .stderr_has("the merged snapshot is partial");
    let merged = read_snapshot(&all);
    let events = sources(&merged)
        .iter()
        .find(|s| s["subject"] == "bob" && s["name"] == "events")
        .unwrap();
    assert_eq!(events["status"], "failed");
    assert_eq!(subjects(&merged), ["alice", "bob", "malice"]);
}

#[test]
fn bad_shard_syntax_is_a_usage_error() {
    let env = TestEnv::new();
    for (value, expected) in [
        ("3", "has no '/'"),
        ("0/3", "numbered from 1"),
        ("4/3", "no shard 4 of 3"),
        ("/", "parallel:"),
    ] {
        run(env.command().args([
            "harvest",
            "--group",
            GROUP,
            "--quarter",
            "2026Q3",
            "--shard",
            value,
        ]))
        .code(2)
        .stderr_has(expected);
    }
}

#[test]
fn a_shard_with_nobody_writes_an_empty_snapshot() {
    let fake = FakeGitlab::start(sre(), Faults::default());
    let env = TestEnv::new();
    let empty = env.path("shard-4.json");
    run(env
        .gl(&fake)
        .args([
            "harvest",
            "--group",
            GROUP,
            "--quarter",
            "2026Q3",
            "--shard",
            "4/4",
            "--out",
        ])
        .arg(&empty))
    .success()
    .stderr_has("shard 4/4 has nobody to harvest");
    let snapshot = read_snapshot(&empty);
    assert!(subjects(&snapshot).is_empty());
    assert!(items(&snapshot).is_empty());
}
