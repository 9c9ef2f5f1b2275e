//! The `oncall_shifts` source end to end: the subject's shifts from the schedules of the
//! configured projects, clipped to the period, each once, read in windows GitLab accepts, many
//! windows to a request, sized to GitLab's complexity limit (a year in one); lists longer than
//! the first request asked for; a lower limit read from GitLab's refusal; re-runs that ask only
//! for the windows the cache lacks; and the honest degradations (Community Edition, an unknown
//! project, nothing configured, a failing server).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::Value;

use crate::fake_gitlab::{
    at, complexity_score, oncall_window_accepted, Dataset, FakeGitlab, Faults, GraphqlFault,
    OncallRotation, OncallSchedule, RecordedRequest, GITLAB_COMPLEXITY_LIMIT,
};
use crate::support::*;

const PRODUCTION: &str = "gitlab-com/gl-infra/production";
const PRODUCTION_ID: u64 = 900;
const OPS: &str = "acme/ops";
const OPS_ID: u64 = 901;
const EOC: &str = "On-call: Infrastructure EOC / EMEA";
const DATABASE: &str = "On-call: Database on-call / Weekly";
const NOT_OFFERED: &str =
    "on-call schedules need GitLab Premium or Ultimate; this instance does not offer them";

/// Alice's shifts around 2026Q3, with a colleague's and a near namesake's among them. The
/// harvest reads Q3 in the windows [07-01, 07-29), [07-29, 08-26), [08-26, 09-23),
/// [09-23, 10-01): two of Alice's shifts straddle a window boundary, two the period's edges.
fn dataset() -> Dataset {
    Dataset::new()
        .user(101, "alice", "Alice Liddell")
        .user(102, "alice2", "Alice Other")
        .user(103, "bob", "Bob Builder")
        .project(PRODUCTION_ID, PRODUCTION, "public")
        .project(OPS_ID, OPS, "private")
        .oncall_schedule(
            OncallSchedule::new(PRODUCTION_ID, 1, "Infrastructure EOC").rotation(
                OncallRotation::new(11, "EMEA")
                    .shift("alice", "2026-06-20T08:00:00Z", "2026-06-20T16:00:00Z")
                    // Across the period's start: 4 of its 8 hours are in Q3.
                    .shift("alice", "2026-06-30T20:00:00Z", "2026-07-01T04:00:00Z")
                    .shift("bob", "2026-07-01T04:00:00Z", "2026-07-01T12:00:00Z")
                    .shift("alice", "2026-07-14T08:00:00Z", "2026-07-14T16:00:00Z")
                    .shift("alice2", "2026-07-15T08:00:00Z", "2026-07-15T16:00:00Z")
                    // Across the first window boundary: both windows return it.
                    .shift("alice", "2026-07-28T20:00:00Z", "2026-07-29T08:00:00Z")
                    .shift("bob", "2026-07-29T08:00:00Z", "2026-07-29T20:00:00Z")
                    // Across the period's end: 4 of its 8 hours are in Q3.
                    .shift("alice", "2026-09-30T20:00:00Z", "2026-10-01T04:00:00Z")
                    .shift("alice", "2026-10-05T08:00:00Z", "2026-10-05T16:00:00Z"),
            ),
        )
        .oncall_schedule(
            OncallSchedule::new(PRODUCTION_ID, 2, "Database on-call").rotation(
                OncallRotation::new(21, "Weekly")
                    .shift("bob", "2026-08-17T00:00:00Z", "2026-08-24T00:00:00Z")
                    // A week across the second window boundary (26 August).
                    .shift("alice", "2026-08-24T00:00:00Z", "2026-08-31T00:00:00Z")
                    .shift("alice2", "2026-08-31T00:00:00Z", "2026-09-07T00:00:00Z"),
            ),
        )
        .oncall_schedule(OncallSchedule::new(OPS_ID, 1, "Ops").rotation(
            OncallRotation::new(31, "Primary").shift(
                "alice",
                "2026-08-05T09:00:00Z",
                "2026-08-05T17:00:00Z",
            ),
        ))
}

/// `(title, starts_at, ends_at, duration_hours, id)` of Alice's shifts in Q3 in production.
fn expected_production() -> BTreeSet<(String, String, String, String, String)> {
    let emea = "gid://gitlab/IncidentManagement::OncallRotation/11";
    let weekly = "gid://gitlab/IncidentManagement::OncallRotation/21";
    [
        (
            EOC,
            "2026-07-01T00:00:00Z",
            "2026-07-01T04:00:00Z",
            4.0,
            format!("{emea}/2026-06-30T20:00:00Z"),
        ),
        (
            EOC,
            "2026-07-14T08:00:00Z",
            "2026-07-14T16:00:00Z",
            8.0,
            format!("{emea}/2026-07-14T08:00:00Z"),
        ),
        (
            EOC,
            "2026-07-28T20:00:00Z",
            "2026-07-29T08:00:00Z",
            12.0,
            format!("{emea}/2026-07-28T20:00:00Z"),
        ),
        (
            EOC,
            "2026-09-30T20:00:00Z",
            "2026-10-01T00:00:00Z",
            4.0,
            format!("{emea}/2026-09-30T20:00:00Z"),
        ),
        (
            DATABASE,
            "2026-08-24T00:00:00Z",
            "2026-08-31T00:00:00Z",
            168.0,
            format!("{weekly}/2026-08-24T00:00:00Z"),
        ),
    ]
    .into_iter()
    .map(|(title, from, to, hours, id)| {
        (
            title.to_string(),
            from.to_string(),
            to.to_string(),
            format!("{hours:.2}"),
            id,
        )
    })
    .collect()
}

fn config(env: &TestEnv, projects: &[&str], extra: &str) -> std::path::PathBuf {
    let list: Vec<String> = projects.iter().map(|p| format!("{p:?}")).collect();
    env.write(
        "oncall.toml",
        &format!(
            "{FAST_CONFIG}\n[harvest]\noncall_projects = [{}]\n{extra}",
            list.join(", ")
        ),
    )
}

/// `gl-evidence --config CFG harvest --user alice --quarter 2026Q3`, the snapshot on stdout.
fn harvest(env: &TestEnv, fake: &FakeGitlab, config: &std::path::Path) -> Run {
    harvest_period(env, fake, config, &["--quarter", "2026Q3"])
}

/// `gl-evidence --config CFG harvest --user alice PERIOD`, the snapshot on stdout.
fn harvest_period(
    env: &TestEnv,
    fake: &FakeGitlab,
    config: &std::path::Path,
    period: &[&str],
) -> Run {
    let mut cmd = env.command();
    cmd.env("GITLAB_URL", &fake.url)
        .env("GITLAB_TOKEN", crate::fake_gitlab::TOKEN)
        .arg("--config")
        .arg(config)
        .arg("--no-progress")
        .args(["harvest", "--user", "alice"])
        .args(period);
    run(&mut cmd)
}

fn time(value: &Value) -> DateTime<Utc> {
    at(value
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {value}")))
}

/// The same instant written the way the expectations are (`Z`, whole seconds).
fn canonical(value: &Value) -> String {
    time(value)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        .to_string()
}

fn shifts(snapshot: &Value) -> Vec<&Value> {
    items(snapshot)
        .iter()
        .filter(|i| i["kind"] == "oncall_shift")
        .collect()
}

fn shift_keys(
    snapshot: &Value,
    project: &str,
) -> BTreeSet<(String, String, String, String, String)> {
    let all: Vec<_> = shifts(snapshot)
        .into_iter()
        .filter(|i| i["project"] == project)
        .map(|i| {
            (
                i["title"].as_str().unwrap_or("").to_string(),
                canonical(&i["starts_at"]),
                canonical(&i["ends_at"]),
                format!(
                    "{:.2}",
                    i["duration_hours"]
                        .as_f64()
                        .unwrap_or_else(|| panic!("duration_hours: {i:#}"))
                ),
                i["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let set: BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(set.len(), all.len(), "a shift appears twice: {all:#?}");
    set
}

fn source<'s>(snapshot: &'s Value, name: &str) -> &'s Value {
    let found: Vec<&Value> = sources(snapshot)
        .iter()
        .filter(|s| s["name"] == name && s["subject"] == "alice")
        .collect();
    assert_eq!(found.len(), 1, "one `{name}` source for alice: {found:#?}");
    found[0]
}

/// The windows one on-call request asks about: OncallShifts' switched-on slots in slot order,
/// or OncallRotationShifts' one window.
fn windows_of(request: &RecordedRequest) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let vars = request.variables().expect("GraphQL variables");
    if request.operation.as_deref() == Some("OncallRotationShifts") {
        return vec![(time(&vars["startTime"]), time(&vars["endTime"]))];
    }
    let mut windows = Vec::new();
    for k in 0.. {
        match vars.get(format!("with{k}")) {
            None => break,
            Some(Value::Bool(true)) => windows.push((
                time(&vars[format!("start{k}")]),
                time(&vars[format!("end{k}")]),
            )),
            Some(_) => {}
        }
    }
    assert_eq!(
        declared_slots(&vars),
        14,
        "every request declares the 14 slots: {vars}"
    );
    windows
}

/// How many window slots a request's variables declare.
fn declared_slots(vars: &Value) -> usize {
    (0..)
        .take_while(|k| vars.get(format!("with{k}")).is_some())
        .count()
}

fn oncall_requests(fake: &FakeGitlab) -> Vec<RecordedRequest> {
    let mut requests = fake.graphql_requests("OncallShifts");
    requests.extend(fake.graphql_requests("OncallRotationShifts"));
    requests
}

/// Every window is one GitLab accepts (even in the given instance zone), and together the
/// windows of the OncallShifts requests cover `[from, to)` exactly, each asked once.
fn assert_windows_cover(fake: &FakeGitlab, zone_hours: i32, from: &str, to: &str) {
    let requests = fake.graphql_requests("OncallShifts");
    assert!(!requests.is_empty(), "no OncallShifts request");
    for r in oncall_requests(fake) {
        let windows = windows_of(&r);
        assert!(!windows.is_empty(), "a request with no window");
        for (start, end) in windows {
            assert!(start < end, "empty window {start}..{end}");
            assert!(
                oncall_window_accepted(start, end, zone_hours),
                "window {start}..{end} is longer than GitLab allows"
            );
        }
        assert_eq!(r.status, 200);
    }
    let asked: Vec<(DateTime<Utc>, DateTime<Utc>)> = requests.iter().flat_map(windows_of).collect();
    let windows: BTreeSet<(DateTime<Utc>, DateTime<Utc>)> = asked.iter().copied().collect();
    assert_eq!(
        asked.len(),
        windows.len(),
        "each window of the project is asked once"
    );
    let mut expected_start = at(from);
    for (start, end) in &windows {
        assert_eq!(
            *start, expected_start,
            "windows are contiguous: {windows:?}"
        );
        expected_start = *end;
    }
    assert_eq!(expected_start, at(to), "{windows:?}");
}

fn assert_windows_cover_q3(fake: &FakeGitlab, zone_hours: i32) {
    assert_windows_cover(
        fake,
        zone_hours,
        "2026-07-01T00:00:00Z",
        "2026-10-01T00:00:00Z",
    );
}

#[test]
fn the_subjects_shifts_clipped_to_the_period_and_each_once() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(dataset(), Faults::default());
    let run = harvest(&env, &fake, &config(&env, &[PRODUCTION], ""));
    run.success().stderr_lacks("oncall_shifts");
    let snapshot = run.stdout_json();
    check_envelope(&snapshot);

    let got = shift_keys(&snapshot, PRODUCTION);
    let want = expected_production();
    assert_eq!(got, want, "alice's shifts over 2026Q3");
    assert_eq!(shifts(&snapshot).len(), want.len(), "only production's");
    for item in shifts(&snapshot) {
        assert_eq!(item["subject"], "alice");
        assert_eq!(item["role"], "oncall");
        assert_eq!(item["project"], PRODUCTION);
        assert_eq!(
            item["web_url"],
            format!("{}/{PRODUCTION}/-/oncall_schedules", fake.url)
        );
        assert!(
            item.get("confidential").is_none_or(|c| c == false),
            "a public project: {item:#}"
        );
    }
    let oncall = source(&snapshot, "oncall_shifts");
    assert_eq!(oncall["status"], "ok", "{oncall:#}");
    assert_eq!(oncall["items"], want.len());
    assert_eq!(
        oncall["requests"],
        oncall_requests(&fake).len(),
        "the source counts its requests"
    );
    assert_windows_cover_q3(&fake, 0);
    let asked = fake.graphql_requests("OncallShifts");
    assert_eq!(asked.len(), 1, "a quarter's four windows in one request");
    assert_eq!(windows_of(&asked[0]).len(), 4);
    assert!(
        fake.graphql_requests("OncallRotationShifts").is_empty(),
        "every rotation's shifts fit in one page of the default size"
    );
}

#[test]
fn small_pages_continue_one_rotation_at_a_time() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(dataset(), Faults::default());
    let run = harvest(&env, &fake, &config(&env, &[PRODUCTION], "page_size = 2\n"));
    run.success();
    let snapshot = run.stdout_json();
    assert_eq!(shift_keys(&snapshot, PRODUCTION), expected_production());
    let continued = fake.graphql_requests("OncallRotationShifts");
    assert!(
        !continued.is_empty(),
        "the EMEA rotation has 5 shifts in the first window: pages of 2 need more requests"
    );
    for r in &continued {
        let vars = r.variables().unwrap();
        assert!(
            vars["after"].is_string(),
            "a continuation has a cursor: {vars}"
        );
        assert_eq!(vars["fullPath"], PRODUCTION);
        assert!(
            vars["rotationId"]
                .as_str()
                .unwrap()
                .starts_with("gid://gitlab/IncidentManagement::OncallRotation/"),
            "{vars}"
        );
    }
    assert_windows_cover_q3(&fake, 0);
}

#[test]
fn windows_are_accepted_by_an_instance_west_of_utc() {
    // GitLab compares a window's dates in the instance's zone: a UTC calendar month is too long
    // in Pacific time (July starts on 30 June there, and 30 June + 1 month is 30 July).
    assert!(!oncall_window_accepted(
        at("2026-07-01T00:00:00Z"),
        at("2026-08-01T00:00:00Z"),
        -8
    ));
    let env = TestEnv::new();
    let fake = FakeGitlab::start(dataset().time_zone_offset(-8), Faults::default());
    let run = harvest(&env, &fake, &config(&env, &[PRODUCTION], ""));
    run.success();
    let snapshot = run.stdout_json();
    assert_eq!(shift_keys(&snapshot, PRODUCTION), expected_production());
    assert_windows_cover_q3(&fake, -8);
}

#[test]
fn community_edition_skips_the_source_with_one_line() {
    let env = TestEnv::new();
    let faults = Faults {
        graphql: Some(GraphqlFault::UndefinedField {
            type_name: "Project".into(),
            field: "incidentManagementOncallSchedules".into(),
        }),
        targets: vec!["OncallShifts".into(), "OncallRotationShifts".into()],
        ..Faults::default()
    };
    let fake = FakeGitlab::start(dataset(), faults);
    let run = harvest(&env, &fake, &config(&env, &[PRODUCTION, OPS], ""));
    run.success();
    let snapshot = run.stdout_json();
    assert!(shifts(&snapshot).is_empty());
    let oncall = source(&snapshot, "oncall_shifts");
    assert_eq!(oncall["status"], "skipped", "{oncall:#}");
    assert_eq!(oncall["detail"], NOT_OFFERED);
    assert_eq!(oncall["items"], 0);
    for other in sources(&snapshot)
        .iter()
        .filter(|s| s["name"] != "oncall_shifts")
    {
        assert_ne!(other["status"], "failed", "{other:#}");
        assert_ne!(other["status"], "partial", "{other:#}");
    }
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("oncall_shifts") || l.contains("on-call"))
        .collect();
    assert_eq!(lines.len(), 1, "one line on stderr:\n{}", run.stderr);
    assert!(
        lines[0].contains("oncall_shifts") && lines[0].contains(NOT_OFFERED),
        "{}",
        lines[0]
    );
    // One probe per project tells; the other windows are not asked.
    assert_eq!(fake.graphql_requests("OncallShifts").len(), 2);
}

#[test]
fn an_unknown_project_is_named_and_the_others_read() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(dataset(), Faults::default());

    // Only an unknown project: nothing to read, so skipped, naming it.
    let run1 = harvest(&env, &fake, &config(&env, &["nope/missing"], ""));
    run1.success();
    let snapshot = run1.stdout_json();
    let oncall = source(&snapshot, "oncall_shifts");
    assert_eq!(oncall["status"], "skipped", "{oncall:#}");
    let detail = oncall["detail"].as_str().unwrap();
    assert!(detail.contains("nope/missing"), "{detail}");
    assert!(!detail.contains('\n'), "one line: {detail:?}");
    assert_eq!(
        run1.stderr.matches("nope/missing").count(),
        1,
        "{}",
        run1.stderr
    );

    // Beside readable projects: their shifts, and a warning naming the unknown one.
    let run2 = harvest(
        &env,
        &fake,
        &config(&env, &[PRODUCTION, "nope/missing", OPS], ""),
    );
    run2.success().stderr_has("nope/missing");
    let snapshot = run2.stdout_json();
    let oncall = source(&snapshot, "oncall_shifts");
    assert_eq!(oncall["status"], "ok", "{oncall:#}");
    let detail = oncall["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("nope/missing"),
        "a note names it: {oncall:#}"
    );
    assert_eq!(
        run2.stderr.matches("nope/missing").count(),
        1,
        "{}",
        run2.stderr
    );
    assert_eq!(shift_keys(&snapshot, PRODUCTION), expected_production());
    let ops: Vec<&Value> = shifts(&snapshot)
        .into_iter()
        .filter(|i| i["project"] == OPS)
        .collect();
    assert_eq!(ops.len(), 1, "{ops:#?}");
    assert_eq!(ops[0]["title"], "On-call: Ops / Primary");
    assert_eq!(ops[0]["duration_hours"], 8.0);
    assert_eq!(ops[0]["confidential"], true, "a private project's shift");
}

#[test]
fn no_projects_configured_is_skipped_without_a_request() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(dataset(), Faults::default());
    let run = harvest(&env, &fake, &env.config());
    run.success();
    let snapshot = run.stdout_json();
    let oncall = source(&snapshot, "oncall_shifts");
    assert_eq!(oncall["status"], "skipped", "{oncall:#}");
    assert_eq!(
        oncall["detail"],
        "no on-call projects configured: set harvest.oncall_projects"
    );
    assert_eq!(oncall["requests"], 0);
    assert!(oncall_requests(&fake).is_empty());
}

#[test]
fn a_failing_server_fails_the_source_and_only_it() {
    let env = TestEnv::new();
    let faults = Faults {
        fail_first_n_with_5xx: 1000,
        targets: vec!["OncallShifts".into()],
        ..Faults::default()
    };
    let fake = FakeGitlab::start(dataset(), faults);
    let run = harvest(&env, &fake, &config(&env, &[PRODUCTION], ""));
    run.code(3).stderr_has("oncall_shifts");
    let snapshot = run.stdout_json();
    let oncall = source(&snapshot, "oncall_shifts");
    assert_eq!(oncall["status"], "failed", "{oncall:#}");
    assert!(
        oncall["detail"].as_str().unwrap_or("").contains("500"),
        "{oncall:#}"
    );
    let merge_requests = source(&snapshot, "merge_requests");
    assert_eq!(merge_requests["status"], "ok", "{merge_requests:#}");
}

// ---------------------------------------------------------------------------------------------
// A year: fourteen windows, one request.

const YEAR: [&str; 4] = ["--from", "2025-01-01", "--to", "2025-12-31"];
/// [`YEAR`] with `-v`: the harvest logs its own complexity estimate of each request.
const YEAR_VERBOSE: [&str; 5] = ["-v", "--from", "2025-01-01", "--to", "2025-12-31"];
const YEAR_START: &str = "2025-01-01T00:00:00Z";
const YEAR_END: &str = "2026-01-01T00:00:00Z";
const WEEKLY: &str = "On-call: SRE / Weekly";
const WEEKLY_ID: u64 = 41;

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Alice is on call every Tuesday night (20:00 to 08:00) of 2025, from the night across New
/// Year's Eve 2024 (8 of its 12 hours in 2025) to the one across New Year's Eve 2025 (4 hours
/// in it), and covers two days besides (3 March, 20 August). Bob is on call every Thursday
/// night in another rotation. 2025's 28-day windows begin on Wednesdays at midnight, so every
/// fourth Tuesday night lies across two windows: a window holds five of Alice's shifts, six
/// where she covered a day.
fn year_dataset() -> Dataset {
    year_dataset_after(0, 0)
}

/// [`year_dataset`] with `schedules` schedules before SRE, and `rotations` rotations in SRE
/// before Alice's and Bob's, all without shifts: lists longer than the first request asks for.
fn year_dataset_after(schedules: u64, rotations: u64) -> Dataset {
    let first = at("2024-12-31T20:00:00Z");
    let mut weekly = OncallRotation::new(WEEKLY_ID, "Weekly");
    let mut backup = OncallRotation::new(42, "Backup");
    for week in 0..53 {
        let tuesday = first + Duration::weeks(week);
        weekly = weekly.shift(
            "alice",
            &stamp(tuesday),
            &stamp(tuesday + Duration::hours(12)),
        );
        let thursday = tuesday + Duration::days(2);
        backup = backup.shift(
            "bob",
            &stamp(thursday),
            &stamp(thursday + Duration::hours(12)),
        );
    }
    let weekly = weekly
        .shift("alice", "2025-03-03T08:00:00Z", "2025-03-03T16:00:00Z")
        .shift("alice", "2025-08-20T08:00:00Z", "2025-08-20T16:00:00Z")
        .shift("alice", "2025-12-31T20:00:00Z", "2026-01-01T04:00:00Z");
    let mut sre = OncallSchedule::new(PRODUCTION_ID, schedules + 1, "SRE");
    for r in 0..rotations {
        sre = sre.rotation(OncallRotation::new(100 + r, &format!("Spare {r}")));
    }
    let mut data = Dataset::new()
        .user(101, "alice", "Alice Liddell")
        .user(103, "bob", "Bob Builder")
        .project(PRODUCTION_ID, PRODUCTION, "public");
    for s in 0..schedules {
        data = data.oncall_schedule(OncallSchedule::new(
            PRODUCTION_ID,
            s + 1,
            &format!("Team {s}"),
        ));
    }
    data.oncall_schedule(sre.rotation(weekly).rotation(backup))
}

/// `(title, starts_at, ends_at, duration_hours, id)` of Alice's 56 shifts in 2025.
fn expected_year() -> BTreeSet<(String, String, String, String, String)> {
    let id = |start: &str| {
        format!("gid://gitlab/IncidentManagement::OncallRotation/{WEEKLY_ID}/{start}")
    };
    let key = |from: String, to: String, hours: f64, start: String| {
        (
            WEEKLY.to_string(),
            from,
            to,
            format!("{hours:.2}"),
            id(&start),
        )
    };
    let mut want = BTreeSet::new();
    // Across New Year's Eve 2024: from midnight on.
    want.insert(key(
        YEAR_START.into(),
        "2025-01-01T08:00:00Z".into(),
        8.0,
        "2024-12-31T20:00:00Z".into(),
    ));
    for week in 1..53 {
        let start = at("2024-12-31T20:00:00Z") + Duration::weeks(week);
        let end = start + Duration::hours(12);
        want.insert(key(stamp(start), stamp(end), 12.0, stamp(start)));
    }
    for (from, to, hours) in [
        ("2025-03-03T08:00:00Z", "2025-03-03T16:00:00Z", 8.0),
        ("2025-08-20T08:00:00Z", "2025-08-20T16:00:00Z", 8.0),
        ("2025-12-31T20:00:00Z", YEAR_END, 4.0),
    ] {
        want.insert(key(from.into(), to.into(), hours, from.into()));
    }
    assert_eq!(want.len(), 56);
    want
}

/// The number of windows each OncallShifts request carried, in the order they arrived.
fn slots_per_request(fake: &FakeGitlab) -> Vec<usize> {
    fake.graphql_requests("OncallShifts")
        .iter()
        .map(|r| windows_of(r).len())
        .collect()
}

/// The `oncall_shifts` source is `ok` and counted every on-call request.
fn assert_read_whole(snapshot: &Value, fake: &FakeGitlab) {
    let oncall = source(snapshot, "oncall_shifts");
    assert_eq!(oncall["status"], "ok", "{oncall:#}");
    assert_eq!(oncall["items"], 56);
    assert_eq!(
        oncall["requests"],
        oncall_requests(fake).len(),
        "{oncall:#}"
    );
}

#[test]
fn a_year_of_shifts_is_one_request() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(year_dataset(), Faults::default());
    let run = harvest_period(&env, &fake, &config(&env, &[PRODUCTION], ""), &YEAR);
    run.success().stderr_lacks("oncall_shifts");
    let snapshot = run.stdout_json();
    assert_eq!(shift_keys(&snapshot, PRODUCTION), expected_year());
    assert_read_whole(&snapshot, &fake);
    assert_eq!(
        slots_per_request(&fake),
        vec![14],
        "one request, fourteen windows"
    );
    assert!(fake.graphql_requests("OncallRotationShifts").is_empty());
    assert_windows_cover(&fake, 0, YEAR_START, YEAR_END);
}

/// GitLab's score of a recorded request, by the fake's scorer: GitLab refuses it when over its
/// limit.
fn score(request: &RecordedRequest) -> u32 {
    let body: Value = serde_json::from_str(&request.body).expect("a JSON body");
    let query = body["query"].as_str().expect("a query");
    let vars = request.variables().expect("variables");
    complexity_score(query, request.operation.as_deref(), &vars).expect("a scored query")
}

/// `(windows, schedules, rotations, shifts)` a page of each OncallShifts request, in order.
fn shapes(fake: &FakeGitlab) -> Vec<(usize, i64, i64, i64)> {
    fake.graphql_requests("OncallShifts")
        .iter()
        .map(|r| {
            let vars = r.variables().unwrap();
            let int = |name: &str| vars[name].as_i64().unwrap_or_else(|| panic!("{name}"));
            (
                windows_of(r).len(),
                int("schedules"),
                int("rotations"),
                int("first"),
            )
        })
        .collect()
}

/// The harvest's own estimate of each OncallShifts request's complexity (logged at `-v`) is the
/// fake GitLab's score of a request it received, one for one.
fn assert_model_agrees(run: &Run, fake: &FakeGitlab) {
    let mut estimates: Vec<u32> = run
        .stderr
        .lines()
        .filter(|l| l.contains("OncallShifts for "))
        .map(|l| {
            let (_, estimate) = l.rsplit_once("; complexity ").expect("an estimate");
            let number = estimate.split(' ').next().unwrap_or("");
            number.parse().unwrap_or_else(|_| panic!("{l}"))
        })
        .collect();
    let mut scores: Vec<u32> = fake
        .graphql_requests("OncallShifts")
        .iter()
        .map(score)
        .collect();
    assert!(!scores.is_empty());
    estimates.sort_unstable();
    scores.sort_unstable();
    assert_eq!(estimates, scores, "{}", run.stderr);
}

/// Every on-call request is within GitLab's limit: none was refused.
fn assert_none_refused(fake: &FakeGitlab) {
    for r in oncall_requests(fake) {
        let score = score(&r);
        assert!(
            score <= GITLAB_COMPLEXITY_LIMIT,
            "{:?} scores {score}: refused",
            r.operation
        );
    }
}

fn gitlabs_limit(limit: u32) -> Faults {
    Faults {
        graphql: Some(GraphqlFault::ComplexityLimit { limit }),
        targets: vec!["OncallShifts".into(), "OncallRotationShifts".into()],
        ..Faults::default()
    }
}

#[test]
fn within_gitlabs_complexity_limit_a_year_is_one_request() {
    // The probe knows no list yet: fourteen windows fit at pages of five schedules and five
    // rotations (GitLab scores 248), which hold this project's one schedule of two rotations.
    let env = TestEnv::new();
    let fake = FakeGitlab::start(year_dataset(), gitlabs_limit(GITLAB_COMPLEXITY_LIMIT));
    let config = config(&env, &[PRODUCTION], "");
    let run = harvest_period(&env, &fake, &config, &YEAR_VERBOSE);
    run.success();
    let snapshot = run.stdout_json();
    assert_eq!(shift_keys(&snapshot, PRODUCTION), expected_year());
    assert_read_whole(&snapshot, &fake);
    assert_eq!(shapes(&fake), vec![(14, 5, 5, 100)]);
    assert_none_refused(&fake);
    assert_model_agrees(&run, &fake);
    assert!(
        run.stderr.contains(
            "14 windows, 100 shifts, 5 schedules and 5 rotations a page; complexity 248 of 250"
        ),
        "{}",
        run.stderr
    );
    assert!(fake.graphql_requests("OncallRotationShifts").is_empty());
    assert_windows_cover(&fake, 0, YEAR_START, YEAR_END);
}

#[test]
fn within_gitlabs_complexity_limit_a_quarter_is_one_request() {
    let env = TestEnv::new();
    let fake = FakeGitlab::start(dataset(), gitlabs_limit(GITLAB_COMPLEXITY_LIMIT));
    let run = harvest(&env, &fake, &config(&env, &[PRODUCTION], ""));
    run.success().stderr_lacks("oncall_shifts");
    let snapshot = run.stdout_json();
    assert_eq!(shift_keys(&snapshot, PRODUCTION), expected_production());
    // Four windows leave room for pages of 87 schedules and rotations (GitLab scores 249).
    assert_eq!(shapes(&fake), vec![(4, 87, 87, 100)]);
    assert_none_refused(&fake);
    assert_windows_cover_q3(&fake, 0);
}

#[test]
fn lists_longer_than_the_probe_asked_for_are_asked_again_then_sized_to_fit() {
    // Six rotations, Alice's the sixth: the probe's page of five misses it. Asked again with
    // pages of 100 rotations, seven windows fit; the lists are then known (one schedule, six
    // rotations) and the other seven go in one request.
    let env = TestEnv::new();
    let fake = FakeGitlab::start(
        year_dataset_after(0, 4),
        gitlabs_limit(GITLAB_COMPLEXITY_LIMIT),
    );
    let run = harvest_period(&env, &fake, &config(&env, &[PRODUCTION], ""), &YEAR_VERBOSE);
    run.success();
    assert_model_agrees(&run, &fake);
    let snapshot = run.stdout_json();
    assert_eq!(shift_keys(&snapshot, PRODUCTION), expected_year());
    assert_read_whole(&snapshot, &fake);
    assert_eq!(
        shapes(&fake),
        vec![(14, 5, 5, 100), (7, 1, 100, 100), (7, 1, 6, 100)]
    );
    assert_none_refused(&fake);
    let accepted = &fake.graphql_requests("OncallShifts")[1..];
    let asked: Vec<_> = accepted.iter().flat_map(windows_of).collect();
    let once: BTreeSet<_> = asked.iter().copied().collect();
    assert_eq!(
        (asked.len(), once.len()),
        (14, 14),
        "the year once after the probe"
    );

    // Six schedules, SRE the sixth: the probe's page misses it, and the rotations of the
    // schedules past the page could be any number, so both lists are asked at pages of 100
    // (three windows); then six schedules of at most two rotations take the other eleven.
    let fake = FakeGitlab::start(
        year_dataset_after(5, 0),
        gitlabs_limit(GITLAB_COMPLEXITY_LIMIT),
    );
    let run = harvest_period(&env, &fake, &config(&env, &[PRODUCTION], ""), &YEAR_VERBOSE);
    run.success();
    assert_model_agrees(&run, &fake);
    let snapshot = run.stdout_json();
    assert_eq!(shift_keys(&snapshot, PRODUCTION), expected_year());
    assert_read_whole(&snapshot, &fake);
    assert_eq!(
        shapes(&fake),
        vec![(14, 5, 5, 100), (3, 100, 100, 100), (11, 6, 2, 100)]
    );
    assert_none_refused(&fake);
}

#[test]
fn a_lower_limit_is_read_from_gitlabs_refusal_and_every_shift_is_read() {
    // A GitLab with a limit of 100 refuses the probe (248), saying so; the probe is sized to
    // 100 at once: one window at pages of 100 needs a page of 79 shifts (97). The lists known,
    // five windows fit a request: the other thirteen take three, together.
    let env = TestEnv::new();
    let fake = FakeGitlab::start(year_dataset(), gitlabs_limit(100));
    let run = harvest_period(&env, &fake, &config(&env, &[PRODUCTION], ""), &YEAR_VERBOSE);
    run.success();
    assert_model_agrees(&run, &fake);
    let snapshot = run.stdout_json();
    assert_eq!(shift_keys(&snapshot, PRODUCTION), expected_year());
    assert_read_whole(&snapshot, &fake);
    let requests = fake.graphql_requests("OncallShifts");
    let scores: Vec<u32> = requests.iter().map(score).collect();
    assert_eq!(scores[0], 248, "the probe, refused");
    assert!(scores[1..].iter().all(|s| *s <= 100), "{scores:?}");
    let shapes = shapes(&fake);
    assert_eq!(
        shapes[..2],
        [(14, 5, 5, 100), (1, 100, 100, 79)],
        "{shapes:?}"
    );
    let mut rest = shapes[2..].to_vec();
    rest.sort_unstable();
    assert_eq!(
        rest,
        vec![(3, 1, 2, 100), (5, 1, 2, 100), (5, 1, 2, 100)],
        "{shapes:?}"
    );
    let accepted: Vec<_> = requests[1..].iter().flat_map(windows_of).collect();
    let once: BTreeSet<_> = accepted.iter().copied().collect();
    assert_eq!((accepted.len(), once.len()), (14, 14));
}

#[test]
fn refusals_without_end_shrink_the_request_then_fail_the_source() {
    // A GitLab whose every answer is a refusal (a model far off, say): each refusal sizes the
    // next request smaller, then halving takes over; when nothing smaller is left the source
    // fails with GitLab's message.
    let env = TestEnv::new();
    let faults = Faults {
        graphql: Some(GraphqlFault::Complexity {
            score: 300,
            limit: 250,
        }),
        targets: vec!["OncallShifts".into()],
        ..Faults::default()
    };
    let fake = FakeGitlab::start(year_dataset(), faults);
    let run = harvest_period(&env, &fake, &config(&env, &[PRODUCTION], ""), &YEAR);
    run.code(3).stderr_has("oncall_shifts");
    let snapshot = run.stdout_json();
    let oncall = source(&snapshot, "oncall_shifts");
    assert_eq!(oncall["status"], "failed", "{oncall:#}");
    let detail = oncall["detail"].as_str().unwrap_or("");
    assert!(detail.contains("exceeds max complexity of 250"), "{detail}");
    let scores: Vec<u32> = fake
        .graphql_requests("OncallShifts")
        .iter()
        .map(score)
        .collect();
    // Budgets 250 × 248/300 = 206 (two windows), 137 (one), 87 (a page of shifts smaller),
    // 70 (nothing fits; a smaller page would score the same): four tries.
    assert_eq!(scores, vec![248, 165, 105, 85]);
}

#[test]
fn a_re_run_asks_only_for_the_windows_the_cache_lacks() {
    let env = TestEnv::new();
    // Pages of five: the two windows where Alice covered a day hold six of her shifts, and
    // their second pages fail.
    let broken = Faults {
        fail_first_n_with_5xx: 1000,
        targets: vec!["OncallRotationShifts".into()],
        ..Faults::default()
    };
    let fake = FakeGitlab::start(year_dataset(), broken);
    let config = config(&env, &[PRODUCTION], "page_size = 5\n");
    let first = harvest_period(&env, &fake, &config, &YEAR);
    first.code(3);
    let oncall = source(&first.stdout_json(), "oncall_shifts").clone();
    assert_eq!(oncall["status"], "partial", "{oncall:#}");
    assert_eq!(slots_per_request(&fake), vec![14]);
    let continued: BTreeSet<(DateTime<Utc>, DateTime<Utc>)> = fake
        .graphql_requests("OncallRotationShifts")
        .iter()
        .flat_map(windows_of)
        .collect();
    let covered = [
        (at("2025-02-26T00:00:00Z"), at("2025-03-26T00:00:00Z")),
        (at("2025-08-13T00:00:00Z"), at("2025-09-10T00:00:00Z")),
    ];
    assert_eq!(continued, covered.into_iter().collect(), "only they go on");

    // GitLab recovered: the twelve windows read whole come from the cache; the other two are
    // asked for in one request.
    fake.replace_faults(Faults::default());
    let before = fake.requests().len();
    let second = harvest_period(&env, &fake, &config, &YEAR);
    second.success();
    let snapshot = second.stdout_json();
    assert_eq!(shift_keys(&snapshot, PRODUCTION), expected_year());
    let asked: Vec<RecordedRequest> = fake.requests()[before..]
        .iter()
        .filter(|r| r.operation.as_deref() == Some("OncallShifts"))
        .cloned()
        .collect();
    assert_eq!(asked.len(), 1, "one request for both windows");
    assert_eq!(windows_of(&asked[0]), covered.to_vec());
    let oncall = source(&snapshot, "oncall_shifts");
    assert_eq!(oncall["status"], "ok", "{oncall:#}");
    assert_eq!(
        oncall["requests"], 3,
        "one request and a second page per window"
    );

    // Every window of the past year is in the cache now: nothing to ask.
    let before = fake.requests().len();
    let third = harvest_period(&env, &fake, &config, &YEAR);
    third.success();
    let snapshot = third.stdout_json();
    assert_eq!(shift_keys(&snapshot, PRODUCTION), expected_year());
    let oncall_asked = fake.requests()[before..]
        .iter()
        .filter(|r| {
            r.operation
                .as_deref()
                .is_some_and(|o| o.starts_with("Oncall"))
        })
        .count();
    assert_eq!(oncall_asked, 0);
    assert_eq!(source(&snapshot, "oncall_shifts")["requests"], 0);
}
