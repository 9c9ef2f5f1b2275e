//! Curation end to end, as a new user would try it: harvest, curate a few items with
//! `curate` and in `review` (driven in a pseudo-terminal), harvest again, and every report still
//! shows every edit. Also: team reports use only `--curation`, entries for other periods are
//! reported and kept, and mistakes are clear errors.

use std::path::Path;

use serde_json::Value;

use crate::fake_gitlab::{FakeGitlab, Faults};
use crate::scenario::{self, REMOVE_FLAG, RETRY_BUDGET, ROTATE_CREDENTIALS};
use crate::support::*;

/// An item's URL in a snapshot.
fn url_of(snapshot: &Value, subject: &str, kind: &str, title: &str) -> String {
    item(snapshot, subject, kind, title)["web_url"]
        .as_str()
        .expect("items have a web_url")
        .to_string()
}

/// Harvests alice's 2026Q3 from `fake` into `out` (item URLs start with the fake's URL, so a
/// re-harvest uses the same instance).
fn harvest_alice(env: &TestEnv, fake: &FakeGitlab, out: &Path) {
    run(env
        .gl(fake)
        .args(["harvest", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(out))
    .success();
}

/// The lines of the Markdown section that starts with `heading`, up to the next heading.
fn section(text: &str, heading: &str) -> Vec<String> {
    let start = text
        .lines()
        .position(|l| l.starts_with(heading))
        .unwrap_or_else(|| panic!("no {heading:?} in\n{text}"));
    text.lines()
        .skip(start + 1)
        .take_while(|l| !l.starts_with('#'))
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(unix)]
mod pty {
    //! Driving `gl-evidence review` in a pseudo-terminal, key by key, as a person would.

    use rexpect::session::PtySession;

    /// Waits for `text` on the terminal, with the session's output so far on failure.
    pub fn expect(session: &mut PtySession, text: &str) {
        if let Err(e) = session.exp_string(text) {
            panic!("review did not show {text:?}: {e}");
        }
    }

    /// Sends keys as typed.
    pub fn keys(session: &mut PtySession, keys: &str) {
        session.send(keys).expect("send keys to the terminal");
        session.flush().expect("flush the terminal");
    }

    /// Waits for the process to end and checks it exited 0.
    pub fn exits_ok(mut session: PtySession) {
        session.exp_eof().expect("review ends");
        // rexpect does not re-export nix's WaitStatus: read its Debug form, `Exited(Pid(n), 0)`.
        let status = format!("{:?}", session.process().wait());
        assert!(
            status.starts_with("Ok(Exited(") && status.ends_with(", 0))"),
            "review should exit 0, got {status}"
        );
    }
}

#[cfg(unix)]
#[test]
fn curated_edits_survive_a_re_harvest_and_reach_every_report() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
    let snapshot_path = env.path("alice.json");
    harvest_alice(&env, &fake, &snapshot_path);
    let snapshot = read_snapshot(&snapshot_path);
    let retry = url_of(&snapshot, "alice", "merge_request", RETRY_BUDGET);
    let rotate = url_of(&snapshot, "alice", "merge_request", ROTATE_CREDENTIALS);
    let flag = url_of(&snapshot, "alice", "merge_request", REMOVE_FLAG);

    // A competency the rules give to the credentials MR, for the user to disagree with.
    let classified = run(env.command().arg("classify").arg(&snapshot_path))
        .success()
        .stdout_json();
    let rotate_item = item(&classified, "alice", "merge_request", ROTATE_CREDENTIALS);
    let ruled: Vec<String> = rotate_item["competencies"]
        .as_array()
        .expect("the rules map the credentials MR")
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    let disagreed = ruled[0].clone();

    // By command: hide one, note and a competency on another, remove the rules' one.
    let curated = run(env
        .command()
        .args(["curate"])
        .arg(&snapshot_path)
        .args(["--hide", &flag])
        .args(["--note", &retry, "Cut failed deploys from 9 to 2 a week."])
        .args(["--add", &retry, "credibility-3"])
        .args(["--remove", &rotate, &disagreed]));
    curated.success().stderr_has("wrote ");
    let curation_path = env.path("alice.curation.toml");
    let text = read_text(&curation_path);
    assert!(
        text.contains("note = \"Cut failed deploys from 9 to 2 a week.\""),
        "{text}"
    );

    // In the terminal: walk to the retry-budget MR and highlight it.
    let order: Vec<String> = {
        let mut items: Vec<&Value> = items(&snapshot).iter().collect();
        items.sort_by_key(|i| {
            (
                i["merged_at"]
                    .as_str()
                    .or(i["closed_at"].as_str())
                    .or(i["created_at"].as_str())
                    .unwrap_or("~")
                    .to_string(),
                i["title"].as_str().unwrap_or("").to_string(),
            )
        });
        items
            .iter()
            .map(|i| i["web_url"].as_str().unwrap().to_string())
            .collect()
    };
    let at = order
        .iter()
        .position(|u| *u == retry)
        .expect("the MR is walked");
    let total = order.len();
    let mut review = env.std_command();
    review.arg("review").arg(&snapshot_path);
    let mut session = rexpect::session::spawn_command(review, Some(20_000)).expect("spawn review");
    pty::expect(&mut session, &format!("[1/{total}]"));
    pty::keys(&mut session, &" ".repeat(at));
    pty::expect(&mut session, &format!("[{}/{total}]", at + 1));
    pty::expect(&mut session, RETRY_BUDGET);
    pty::expect(
        &mut session,
        "credibility-3 Engineering and review standards (added by you)",
    );
    pty::expect(&mut session, "Note: Cut failed deploys from 9 to 2 a week.");
    pty::keys(&mut session, "*");
    pty::expect(&mut session, "saved ");
    pty::keys(&mut session, "q");
    pty::expect(&mut session, "1 change saved to");
    pty::exits_ok(session);

    // Harvest again, over the same snapshot: the curation file is the user's and untouched.
    let curated_text = read_text(&curation_path);
    assert!(curated_text.contains("highlight = true"), "{curated_text}");
    harvest_alice(&env, &fake, &snapshot_path);
    assert_eq!(read_text(&curation_path), curated_text);

    let check = |md: &str, origin: &str| {
        assert!(
            !md.contains(REMOVE_FLAG),
            "{origin}: the hidden MR is gone\n{md}"
        );
        assert!(
            md.contains("**1 item hidden** in your curation file"),
            "{origin}\n{md}"
        );
        let summary = section(md, "## Summary");
        assert_eq!(summary[0], "**Highlights**", "{origin}");
        assert!(
            summary[1].starts_with(&format!("- ★ [{RETRY_BUDGET}]")),
            "{origin}: {summary:#?}"
        );
        assert_eq!(
            summary[2], "  - note: Cut failed deploys from 9 to 2 a week.",
            "{origin}"
        );
        let engineering = section(md, "#### credibility-3");
        assert!(
            engineering
                .iter()
                .any(|l| l.starts_with(&format!("- ★ [{RETRY_BUDGET}]"))),
            "{origin}: {engineering:#?}"
        );
        assert!(
            engineering.iter().any(|l| l
                == "  - why: added by you (set by a person in the curation file, not by a rule)"),
            "{origin}: {engineering:#?}"
        );
        if let Some(start) = md.find(&format!("#### {disagreed}")) {
            let rest = &md[start..];
            let end = rest[1..].find("\n#").map_or(rest.len(), |n| n + 1);
            assert!(
                !rest[..end].contains(ROTATE_CREDENTIALS),
                "{origin}: {disagreed} was removed\n{md}"
            );
        }
    };

    // report on the raw snapshot: classified, then curated with the file beside it.
    let md = run(env.command().arg("report").arg(&snapshot_path))
        .success()
        .stdout
        .clone();
    check(&md, "report");

    // classify keeps the curation in the classified snapshot; report on that uses it.
    let classified_path = env.path("alice.classified.json");
    run(env
        .command()
        .arg("classify")
        .arg(&snapshot_path)
        .arg("--out")
        .arg(&classified_path))
    .success();
    let classified = read_snapshot(&classified_path);
    let retry_item = item(&classified, "alice", "merge_request", RETRY_BUDGET);
    assert_eq!(retry_item["curation"]["highlight"], true);
    assert!(retry_item["competencies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == "credibility-3" && m["rule"] == "curated" && m["score"] == 1.0));
    let md = run(env.command().arg("report").arg(&classified_path))
        .success()
        .stdout
        .clone();
    check(&md, "report of the classified snapshot");

    // The one-shot brag with the file named.
    let md = run(env
        .gl(&fake)
        .args([
            "brag",
            "--user",
            "alice",
            "--quarter",
            "2026Q3",
            "--curation",
        ])
        .arg(&curation_path))
    .success()
    .stdout
    .clone();
    check(&md, "brag");

    // Listing the file says what each entry does.
    let listing = run(env.command().arg("curate").arg(&snapshot_path))
        .success()
        .stdout
        .clone();
    assert!(listing.starts_with("3 curation entries in "), "{listing}");
    assert!(listing.contains(&format!("★ {RETRY_BUDGET}")), "{listing}");
    assert!(
        listing.contains(&format!("\u{2212}{disagreed}")),
        "{listing}"
    );
}

#[cfg(unix)]
#[test]
fn review_walks_the_demo_in_a_terminal() {
    let env = TestEnv::new();
    run(env.command().args(["demo", "--out-dir", "demo"])).success();
    let snapshot_path = env.path("demo/snapshot.json");
    let mut review = env.std_command();
    review.arg("review").arg(&snapshot_path);
    let mut s = rexpect::session::spawn_command(review, Some(20_000)).expect("spawn review");
    pty::expect(&mut s, "Reviewing 40 items");
    // rexpect reads bytes as Latin-1: expect ASCII only.
    pty::expect(&mut s, "[1/40] merge request (author) ");
    pty::expect(&mut s, "Add runbook for Patroni replica lag alerts");
    pty::expect(
        &mut s,
        "1. accountability-1 On-call standards (rule runbook-change",
    );
    // Item 1: remove the rules' first competency by number.
    pty::keys(&mut s, "r");
    pty::expect(&mut s, "Remove competency");
    pty::keys(&mut s, "1\r");
    pty::expect(&mut s, "removed accountability-1");
    pty::expect(&mut s, "Removed by you: accountability-1");
    // Item 2: hide. Item 3: highlight (with `l`), a note typed with a correction, an id typo
    // then the right one, all in one burst as a fast typist would.
    pty::keys(&mut s, " h");
    pty::expect(&mut s, "HIDDEN");
    pty::keys(&mut s, " lnShipped in a dat\u{7f}y.\racredibilty-3\r");
    pty::expect(&mut s, "did you mean \"credibility-3\"?");
    pty::keys(&mut s, "credibility-3\r");
    pty::expect(&mut s, "added credibility-3");
    pty::expect(&mut s, "Note: Shipped in a day.");
    // Back one, forward, help, quit.
    pty::keys(&mut s, "p");
    pty::expect(&mut s, "[2/40]");
    pty::keys(&mut s, "?");
    pty::expect(&mut s, "every change is already saved");
    pty::keys(&mut s, "q");
    pty::expect(&mut s, "Stopped: 3 of 40 items seen, 5 changes saved to");
    pty::exits_ok(s);

    let text = read_text(&env.path("demo/snapshot.curation.toml"));
    let snapshot = read_snapshot(&snapshot_path);
    let urls: Vec<&str> = ["8112", "4419", "8119"]
        .iter()
        .map(|n| {
            items(&snapshot)
                .iter()
                .map(|i| i["web_url"].as_str().unwrap())
                .find(|u| u.ends_with(&format!("/merge_requests/{n}")))
                .unwrap()
        })
        .collect();
    let expected = format!(
        "[\"{}\"]\nhide = true\n\n[\"{}\"]\nremove = [\"accountability-1\"]\n\n[\"{}\"]\nhighlight = true\nnote = \"Shipped in a day.\"\nadd = [\"credibility-3\"]\n",
        urls[1], urls[0], urls[2]
    );
    assert!(text.ends_with(&expected), "{text}");

    let md = run(env.command().arg("report").arg(&snapshot_path))
        .success()
        .stdout
        .clone();
    assert!(md.contains("**1 item hidden**"), "{md}");
    assert!(md.contains("  - note: Shipped in a day."), "{md}");
}

#[test]
fn review_without_a_terminal_stops_at_once_with_a_hint() {
    let env = TestEnv::new();
    run(env.command().args(["demo", "--out-dir", "demo"])).success();
    run(env
        .command()
        .args(["review", "demo/snapshot.json"])
        .write_stdin(""))
    .code(2)
    .stderr_has("needs a terminal: standard input is not one")
    .stderr_has("gl-evidence curate");
    assert!(!env.path("demo/snapshot.curation.toml").exists());
}

#[test]
fn team_reports_use_only_the_curation_file_passed_for_them() {
    let env = TestEnv::new();
    let team = env.path("team.json");
    let fake = FakeGitlab::start(scenario::team(), Faults::default());
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
            "--out",
        ])
        .arg(&team))
    .success();
    let snapshot = read_snapshot(&team);
    let retry = url_of(&snapshot, "alice", "merge_request", RETRY_BUDGET);
    // Alice's private file, beside the snapshot, and the config's file.
    env.write(
        "team.curation.toml",
        &format!("[\"{retry}\"]\nhide = true\nnote = \"private to alice\"\n"),
    );
    let json =
        run(env
            .command()
            .args(["report", "team.json", "--kind", "team", "--format", "json"]))
        .success()
        .stderr_has(
            "team.curation.toml not applied: team reports use only the file given with --curation",
        )
        .stdout_json();
    assert_eq!(json["hidden_curated"], 0);
    let md = run(env
        .command()
        .args(["report", "team.json", "--kind", "team"]))
    .success()
    .stdout
    .clone();
    assert!(!md.contains("private to alice"), "{md}");

    // The manager's own file, passed on purpose.
    env.write(
        "manager.toml",
        &format!("[\"{retry}\"]\nhighlight = true\nnote = \"Unblocked the Q3 release\"\n"),
    );
    let md = run(env.command().args([
        "report",
        "team.json",
        "--kind",
        "team",
        "--curation",
        "manager.toml",
    ]))
    .success()
    .stdout
    .clone();
    assert!(md.contains("  - note: Unblocked the Q3 release"), "{md}");
    assert!(!md.contains("private to alice"), "{md}");

    // The one-shot team command follows the same rule.
    let md = run(env
        .gl(&fake)
        .args([
            "team",
            "--user",
            "alice",
            "--user",
            "bob",
            "--quarter",
            "2026Q3",
            "--curation",
        ])
        .arg(env.path("team.curation.toml")))
    .success()
    .stdout
    .clone();
    assert!(md.contains("1 item hidden in curation."), "{md}");
}

#[test]
fn entries_for_other_periods_are_reported_and_kept() {
    let env = TestEnv::new();
    run(env.command().args(["demo", "--out-dir", "demo"])).success();
    let gone = [
        "https://gitlab.example.com/g/p/-/merge_requests/1",
        "https://gitlab.example.com/g/p/-/merge_requests/2",
        "https://gitlab.example.com/g/p/-/issues/3",
    ];
    let mut text = String::from("# Last quarter's edits stay here.\n\n");
    for url in gone {
        text.push_str(&format!("[\"{url}\"]\nhighlight = true\n\n"));
    }
    env.write("demo/snapshot.curation.toml", &text);
    run(env.command().args(["report", "demo/snapshot.json"]))
        .success()
        .stderr_has("note: 3 curation entries in demo/snapshot.curation.toml match no item in this period (kept): https://gitlab.example.com/g/p/-/issues/3, ");

    let snapshot = read_snapshot(&env.path("demo/snapshot.json"));
    let first = items(&snapshot)[0]["web_url"].as_str().unwrap().to_string();
    run(env
        .command()
        .args(["curate", "demo/snapshot.json", "--highlight", &first]))
    .success()
    .stderr_has("3 curation entries");
    let after = read_text(&env.path("demo/snapshot.curation.toml"));
    assert!(
        after.starts_with("# Last quarter's edits stay here.\n\n"),
        "{after}"
    );
    for url in gone {
        assert!(after.contains(url), "{url} kept\n{after}");
    }
    assert!(after.contains(&first));
}

#[test]
fn curation_mistakes_are_clear_errors() {
    let env = TestEnv::new();
    run(env.command().args(["demo", "--out-dir", "demo"])).success();
    let snapshot = read_snapshot(&env.path("demo/snapshot.json"));
    let url = items(&snapshot)[0]["web_url"].as_str().unwrap().to_string();

    env.write(
        "typo.toml",
        &format!("[\"{url}\"]\nadd = [\"credibilty-3\"]\n"),
    );
    run(env
        .command()
        .args(["report", "demo/snapshot.json", "--curation", "typo.toml"]))
    .code(2)
    .stderr_has("typo.toml names competencies the")
    .stderr_has("did you mean \"credibility-3\"?")
    .stderr_has("gl-evidence framework");

    env.write("bad.toml", &format!("[\"{url}\"]\nhiglight = true\n"));
    run(env
        .command()
        .args(["classify", "demo/snapshot.json", "--curation", "bad.toml"]))
    .code(2)
    .stderr_has("bad.toml:2: entry")
    .stderr_has("unknown key `higlight`: did you mean \"highlight\"?");

    run(env
        .command()
        .args(["report", "demo/snapshot.json", "--curation", "missing.toml"]))
    .code(2)
    .stderr_has("curation file missing.toml does not exist");

    run(env.command().args([
        "curate",
        "demo/snapshot.json",
        "--add",
        &url,
        "leadership-42",
    ]))
    .code(2)
    .stderr_has("unknown competency id \"leadership-42\"");
    run(env.command().args([
        "curate",
        "demo/snapshot.json",
        "--hide",
        "https://nowhere.example/1",
    ]))
    .code(2)
    .stderr_has("no item with URL or id");
    run(env
        .command()
        .args(["curate", "demo/snapshot.json", "--note", &url]))
    .code(2);
    assert!(
        !env.path("demo/snapshot.curation.toml").exists(),
        "nothing written"
    );
}
