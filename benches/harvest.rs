//! How close a harvest comes to the limits of the GitLab API: requests against the fewest pages
//! the data needs, and wall time against what the round trips allow.
//!
//! Starts the tests' fake GitLab (`tests/cli/fake_gitlab.rs`) with a round-trip latency L,
//! GitLab's query complexity limit and synthetic data, runs the release `gl-evidence harvest` against it, and prints for each
//! scenario: requests made; the lower bound (for each source, ceil(items / 100) pages, summed);
//! wall time; the latency bound (lower bound × L / concurrency, or the chain of dependent
//! requests × L if larger); their ratios; the process's peak memory; and the same run at
//! `--concurrency 1`, with the speed-up. The first run writes the incremental cache (in the
//! temporary `HOME`); the same harvest is then run again with it, and the re-run's requests are
//! printed against the first run's (the run at `--concurrency 1` uses no cache).
//!
//! `cargo bench --bench harvest` (L = 50 ms); `HARVEST_BENCH_LATENCY_MS=20` for another L;
//! `HARVEST_BENCH_TRACE=dir` writes every request's start, end and route there.
//! Scenarios: a prolific engineer over a year (1,200 authored merge requests, 3,000 reviews, 800
//! issues, 150 incidents, 60 epics, weekly on-call), and a team of 40 over a quarter.

// The tests' fake, with its submodules where the tests keep them.
#[path = "../tests/cli"]
mod cli {
    #[allow(unused_imports)]
    pub mod fake_gitlab;
}

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Span, SecondsFormat, Utc};
use serde_json::Value;

use cli::fake_gitlab::{
    at, Dataset, Epic, Event, FakeGitlab, Faults, GraphqlFault, GroupMember, Issue, MergeRequest,
    OncallRotation, OncallSchedule, TimelineEvent, GITLAB_COMPLEXITY_LIMIT, TOKEN,
};

const CONCURRENCY: u16 = 8;
/// Requests that must follow one another whatever the concurrency: the user lookup, a first
/// page of everything, the pages that depend on it (items the events name, visibility,
/// timelines).
const DEPENDENT_CHAIN: u64 = 4;

fn main() {
    let latency_ms: u64 = std::env::var("HARVEST_BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_gl-evidence"));
    let work = tempfile::tempdir().expect("temporary directory");
    println!("harvest benchmark: fake GitLab with {latency_ms} ms per request\n");

    let prolific = Scenario {
        name: "prolific engineer, one year",
        data: prolific(),
        people: vec!["--user".into(), "alice".into()],
        period: vec![
            "--from".into(),
            "2025-12-01".into(),
            "--to".into(),
            "2026-11-30".into(),
        ],
        rerun_target: Some(0.10),
    };
    let team = Scenario {
        name: "team of 40, one quarter",
        data: team(),
        people: vec!["--group".into(), "acme/team".into()],
        period: vec!["--quarter".into(), "2026Q3".into()],
        // Forty people's few pages each: a re-run still asks each person's lists once.
        rerun_target: None,
    };
    let mut all_within = true;
    for scenario in [prolific, team] {
        all_within &= scenario.measure(&binary, work.path(), latency_ms);
    }
    println!(
        "\n{}",
        if all_within {
            "all figures within target"
        } else {
            "SOME FIGURES ARE OUTSIDE THE TARGET"
        }
    );
}

struct Scenario {
    name: &'static str,
    data: Dataset,
    people: Vec<String>,
    period: Vec<String>,
    /// The largest share of the first run's requests a re-run with the cache may make.
    rerun_target: Option<f64>,
}

struct Measured {
    requests: u64,
    /// Per REST route or GraphQL operation: requests, and when the first arrived and the last
    /// was answered, in seconds from the first request of the run.
    routes: std::collections::BTreeMap<String, (u64, f64, f64)>,
    wall: Duration,
    peak_rss_mb: f64,
    /// Requests in flight on average, from the first request to the last answer.
    in_flight: f64,
    /// From the start of the process to its first request, and from the last answer to its exit.
    lead_in: Duration,
    lead_out: Duration,
    /// CPU time gl-evidence used (user and system).
    cpu: Duration,
    snapshot: Value,
}

impl Scenario {
    fn start(&self, latency_ms: u64) -> FakeGitlab {
        FakeGitlab::start(
            self.data.clone(),
            Faults {
                latency_ms,
                // GitLab refuses a query its formula scores over 250: so does the fake, and a
                // refused request counts like any other.
                graphql: Some(GraphqlFault::ComplexityLimit {
                    limit: GITLAB_COMPLEXITY_LIMIT,
                }),
                ..Faults::default()
            },
        )
    }

    /// One harvest against `fake`, with `flags` (`--refresh`, `--no-cache`, or none).
    fn run(
        &self,
        binary: &Path,
        dir: &Path,
        fake: &FakeGitlab,
        concurrency: u16,
        flags: &[&str],
    ) -> Measured {
        let config = dir.join("bench.toml");
        std::fs::write(
            &config,
            "[harvest]\noncall_projects = [\"acme/production\"]\n",
        )
        .expect("write config");
        let out = dir.join(format!("snapshot-{concurrency}{}.json", flags.join("")));
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("HOME", dir)
            .env("GITLAB_URL", &fake.url)
            .env("GITLAB_TOKEN", TOKEN)
            .arg("--config")
            .arg(&config)
            .args(["--no-progress", "--quiet", "--concurrency"])
            .stderr(std::process::Stdio::null())
            .arg(concurrency.to_string())
            .arg("harvest")
            .args(&self.people)
            .args(&self.period)
            .args(flags)
            .arg("--out")
            .arg(&out);
        let before = fake.requests().len();
        let started = Instant::now();
        let (status, peak_rss_kb, cpu) = run_measuring_memory(&mut command);
        let wall = started.elapsed();
        assert!(
            status == 0,
            "{}: gl-evidence exited with {status}",
            self.name
        );
        let snapshot: Value =
            serde_json::from_str(&std::fs::read_to_string(&out).expect("snapshot written"))
                .expect("snapshot is JSON");
        let mut routes = std::collections::BTreeMap::<String, (u64, f64, f64)>::new();
        let requests = fake.requests().split_off(before);
        let count = requests.len() as u64;
        let origin = requests.iter().map(|r| r.at).min();
        let last = requests.iter().map(|r| r.done).max();
        let busy: f64 = requests.iter().map(|r| (r.done - r.at).as_secs_f64()).sum();
        let in_flight = match (origin, last) {
            (Some(first), Some(last)) if last > first => busy / (last - first).as_secs_f64(),
            _ => 0.0,
        };
        let mut trace = String::new();
        for r in requests {
            let since = |t: Instant| origin.map_or(0.0, |o| (t - o).as_secs_f64());
            let route = match &r.operation {
                Some(operation) => format!("graphql {operation}"),
                None => r
                    .path
                    .split('/')
                    .map(|part| {
                        if part.chars().all(|c| c.is_ascii_digit()) && !part.is_empty() {
                            ":id"
                        } else {
                            part
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("/"),
            };
            trace.push_str(&format!(
                "{:.3} {:.3} {route}\n",
                since(r.at),
                since(r.done)
            ));
            let entry = routes.entry(route).or_insert((0, f64::MAX, 0.0));
            entry.0 += 1;
            entry.1 = entry.1.min(since(r.at));
            entry.2 = entry.2.max(since(r.done));
        }
        // Every request's start, end and route, for a closer look at the schedule.
        if let Some(dir) = std::env::var_os("HARVEST_BENCH_TRACE") {
            let name = format!("{}-{concurrency}{}.txt", self.name, flags.join(""));
            let _ = std::fs::write(Path::new(&dir).join(name.replace([' ', ','], "_")), &trace);
        }
        Measured {
            routes,
            requests: count,
            wall,
            peak_rss_mb: peak_rss_kb as f64 / 1024.0,
            in_flight,
            lead_in: origin.map_or(Duration::ZERO, |o| o.saturating_duration_since(started)),
            lead_out: last.map_or(Duration::ZERO, |l| {
                (started + wall).saturating_duration_since(l)
            }),
            cpu,
            snapshot,
        }
    }

    /// Prints the figures; true when all are within target.
    fn measure(&self, binary: &Path, dir: &Path, latency_ms: u64) -> bool {
        let fake = self.start(latency_ms);
        // A first run: everything is read, and kept in the cache.
        let fast = self.run(binary, dir, &fake, CONCURRENCY, &["--refresh"]);
        let rerun = self.run(binary, dir, &fake, CONCURRENCY, &[]);
        assert_eq!(
            rerun.snapshot["items"], fast.snapshot["items"],
            "{}: the re-run's items are the first run's",
            self.name
        );
        let slow = self.run(binary, dir, &self.start(latency_ms), 1, &["--no-cache"]);
        let lower_bound = lower_bound(&fast.snapshot);
        let latency = Duration::from_millis(latency_ms);
        let latency_bound = (latency * lower_bound as u32 / u32::from(CONCURRENCY))
            .max(latency * DEPENDENT_CHAIN as u32);
        let request_ratio = fast.requests as f64 / lower_bound as f64;
        let request_target = (1.2 * lower_bound as f64 + 10.0).floor() as u64;
        let time_ratio = fast.wall.as_secs_f64() / latency_bound.as_secs_f64();
        let speed_up = slow.wall.as_secs_f64() / fast.wall.as_secs_f64();
        let items = fast.snapshot["items"].as_array().map_or(0, Vec::len);
        let within = |ok: bool| if ok { "ok" } else { "OVER TARGET" };
        let rerun_share = rerun.requests as f64 / fast.requests as f64;
        let checks = [
            fast.requests <= request_target,
            time_ratio <= 1.5,
            fast.peak_rss_mb <= 200.0,
            speed_up >= 5.0,
            self.rerun_target.is_none_or(|target| rerun_share <= target),
        ];
        println!("== {} ({items} items)", self.name);
        println!(
            "  requests:       {:>8}   lower bound {lower_bound} pages   ratio {request_ratio:.2}   target <= {request_target} ({})",
            fast.requests,
            within(checks[0])
        );
        println!(
            "  wall time:      {:>7.2}s   latency bound {:.2}s   ratio {time_ratio:.2}   target <= 1.5 ({})",
            fast.wall.as_secs_f64(),
            latency_bound.as_secs_f64(),
            within(checks[1])
        );
        println!(
            "  cpu time:       {:>7.2}s   gl-evidence's own (user + system); requests in flight: {:.1} on average",
            fast.cpu.as_secs_f64(),
            fast.in_flight
        );
        println!(
            "  outside GitLab: {:>7.2}s   before the first request, {:.2}s after the last answer",
            fast.lead_in.as_secs_f64(),
            fast.lead_out.as_secs_f64()
        );
        println!(
            "  peak memory:    {:>6.1} MB   target <= 200 MB ({})",
            fast.peak_rss_mb,
            within(checks[2])
        );
        println!(
            "  concurrency 1:  {:>7.2}s   {} requests   speed-up at {CONCURRENCY}: {speed_up:.1}x   target >= 5x ({})",
            slow.wall.as_secs_f64(),
            slow.requests,
            within(checks[3])
        );
        let rerun_verdict = match self.rerun_target {
            Some(target) => format!("target <= {:.0}% ({})", target * 100.0, within(checks[4])),
            None => "no target".to_string(),
        };
        println!(
            "  re-run requests: {} ({:.1}% of cold)   wall {:.2}s   with the cache, nothing changed   {rerun_verdict}",
            rerun.requests,
            rerun_share * 100.0,
            rerun.wall.as_secs_f64(),
        );
        println!("  per source (pages at 100 a page):");
        for (name, items) in items_per_source(&fast.snapshot) {
            println!(
                "    {name:<15} {items:>6} items  {:>4} pages",
                items.div_ceil(100)
            );
        }
        println!("  requests by route (count, from, to in seconds):");
        for (route, (n, from, to)) in &fast.routes {
            println!("    {route:<40} {n:>5}  {from:>5.2} {to:>5.2}");
        }
        println!("  re-run requests by route:");
        for (route, (n, _, _)) in &rerun.routes {
            println!("    {route:<40} {n:>5}");
        }
        checks.iter().all(|ok| *ok)
    }
}

/// For each source of each person, ceil(items / 100) pages, summed.
fn lower_bound(snapshot: &Value) -> u64 {
    snapshot["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["items"].as_u64().unwrap_or(0).div_ceil(100))
        .sum()
}

fn items_per_source(snapshot: &Value) -> Vec<(String, u64)> {
    let mut totals: std::collections::BTreeMap<String, u64> = Default::default();
    for s in snapshot["sources"].as_array().into_iter().flatten() {
        *totals
            .entry(s["name"].as_str().unwrap_or("?").to_string())
            .or_default() += s["items"].as_u64().unwrap_or(0);
    }
    totals.into_iter().collect()
}

/// Runs the command to its end; its exit code and its peak resident memory in KiB, read from
/// the kernel's accounting of that one child (`wait4`).
fn run_measuring_memory(command: &mut Command) -> (i32, i64, Duration) {
    // Reaped by wait4 below, which also reports the child's memory.
    #[allow(clippy::zombie_processes)]
    let child = command.spawn().expect("start gl-evidence");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; the pid is our own child, reaped here
    // once (the `Child` handle is never waited on).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (
        code,
        usage.ru_maxrss,
        time(usage.ru_utime) + time(usage.ru_stime),
    )
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Alice's year, 2025-12-01 to 2026-11-30, and the colleagues and projects around it.
fn prolific() -> Dataset {
    let start = at("2025-12-01T08:00:00Z");
    let year = Span::days(364);
    let when = |i: u64, n: u64| start + year * (i as i32) / (n as i32);
    let mut data = Dataset::new()
        .user(101, "alice", "Alice Liddell")
        .user(102, "bob", "Bob Okafor")
        .user(103, "carol", "Carol Chen")
        .group(900, "acme", "public")
        .token_owner("alice");
    for p in 0..10u64 {
        data = data.project(201 + p, &format!("acme/service-{p}"), "public");
    }
    data = data.project(220, "acme/production", "public");
    let project = |i: u64| 201 + i % 10;
    let mut iid = [0u64; 11];
    let mut next_iid = |project: u64| {
        let slot = if project == 220 {
            10
        } else {
            (project - 201) as usize
        };
        iid[slot] += 1;
        iid[slot]
    };

    // 1,200 merge requests she authored.
    for i in 0..1200 {
        let created = when(i, 1200);
        let p = project(i);
        data = data.mr(MergeRequest::new(
            10_000 + i,
            p,
            next_iid(p),
            &format!("Change {i}"),
            "alice",
            &stamp(created),
        )
        .merged(&stamp(created + Span::hours(20)))
        .stats(40, 10, 3));
    }
    // 3,000 reviews: 2,700 requested of her (half approved, with a comment each), 300 found
    // only through her comments.
    let mut events = Vec::new();
    for i in 0..3000 {
        let created = when(i, 3000);
        let p = project(i + 3);
        let author = if i % 2 == 0 { "bob" } else { "carol" };
        let mut mr = MergeRequest::new(
            20_000 + i,
            p,
            next_iid(p),
            &format!("Review {i}"),
            author,
            &stamp(created),
        )
        .merged(&stamp(created + Span::hours(30)));
        if i < 2700 {
            mr = mr.reviewer(
                "alice",
                i % 2 == 0,
                if i % 2 == 0 { "APPROVED" } else { "REVIEWED" },
            );
            if i % 2 == 0 {
                mr = mr.approved_by("alice");
                events.push(Event::approved(
                    "alice",
                    &mr,
                    &stamp(created + Span::hours(5)),
                ));
            }
        }
        events.push(Event::comment(
            "alice",
            &mr,
            &stamp(created + Span::hours(4)),
            "Looks good",
        ));
        data = data.mr(mr);
    }
    // 800 issues: 500 authored, 300 assigned; she closed 200 of them.
    for i in 0..800 {
        let created = when(i, 800);
        let p = project(i + 5);
        let mut issue = Issue::new(
            30_000 + i,
            p,
            next_iid(p),
            &format!("Issue {i}"),
            if i < 500 { "alice" } else { "bob" },
            &stamp(created),
        );
        if i >= 500 {
            issue = issue.assignee("alice");
        }
        if i % 4 == 0 {
            issue = issue.closed(&stamp(created + Span::days(2)));
            events.push(Event::closed_issue(
                "alice",
                &issue,
                &stamp(created + Span::days(2)),
            ));
        }
        data = data.issue(issue);
    }
    // 150 incidents in acme/production: 50 authored, 50 assigned, 50 only commented on; she
    // kept the timeline of 100.
    for i in 0..150 {
        let created = when(i, 150);
        let author = if i < 50 { "alice" } else { "carol" };
        let mut incident = Issue::new(
            40_000 + i,
            220,
            next_iid(220),
            &format!("Incident {i}"),
            author,
            &stamp(created),
        )
        .of_type("INCIDENT")
        .severity("HIGH")
        .closed(&stamp(created + Span::hours(6)));
        if (50..100).contains(&i) {
            incident = incident.assignee("alice");
        }
        if i >= 100 {
            events.push(Event::comment_on_issue(
                "alice",
                &incident,
                &stamp(created + Span::hours(1)),
                "Mitigated",
            ));
        }
        data = data.issue(incident);
        if i % 3 != 0 {
            data = data.timeline_event(TimelineEvent::new(
                50_000 + i,
                40_000 + i,
                "alice",
                &stamp(created + Span::minutes(10)),
            ));
        }
    }
    // 60 epics in acme.
    for i in 0..60 {
        let created = when(i, 60);
        data = data.epic(
            Epic::new(
                60_000 + i,
                "acme",
                i + 1,
                &format!("Epic {i}"),
                "alice",
                &stamp(created),
            )
            .children(2, 8),
        );
    }
    // Weekly on-call: one 12-hour shift a week.
    let mut rotation = OncallRotation::new(1, "Primary");
    for week in 0..52 {
        let from = start + Span::weeks(week);
        rotation = rotation.shift("alice", &stamp(from), &stamp(from + Span::hours(12)));
    }
    data = data.oncall_schedule(OncallSchedule::new(220, 1, "SRE").rotation(rotation));
    for event in events {
        data = data.event(event);
    }
    data
}

/// Forty engineers in `acme/team`, each with a quarter's work: 25 merge requests, 50 reviews of
/// teammates' merge requests (approved, with a comment), 15 issues, 2 incidents, an epic.
fn team() -> Dataset {
    let start = at("2026-07-01T08:00:00Z");
    let quarter = Span::days(90);
    let mut data = Dataset::new()
        .group(900, "acme", "public")
        .token_owner("lead");
    data = data.user(99, "lead", "Team Lead");
    for p in 0..10u64 {
        data = data.project(201 + p, &format!("acme/service-{p}"), "public");
    }
    data = data.project(220, "acme/production", "public");
    let names: Vec<String> = (1..=40).map(|n| format!("eng{n:02}")).collect();
    for (n, name) in names.iter().enumerate() {
        data = data
            .user(1000 + n as u64, name, &format!("Engineer {n}"))
            .member("acme/team", GroupMember::new(1000 + n as u64, name));
    }
    let mut events = Vec::new();
    let mut id = 100_000u64;
    let mut iids = [0u64; 11];
    for (n, name) in names.iter().enumerate() {
        let reviewer = &names[(n + 1) % names.len()];
        for i in 0..75u64 {
            id += 1;
            let p = 201 + (i + n as u64) % 10;
            iids[(p - 201) as usize] += 1;
            let created = start + quarter * (i as i32) / 75;
            let mut mr = MergeRequest::new(
                id,
                p,
                iids[(p - 201) as usize],
                &format!("{name} change {i}"),
                name,
                &stamp(created),
            )
            .merged(&stamp(created + Span::hours(20)));
            // Two of every three are reviewed by the next engineer: 50 reviews each.
            if i % 3 != 2 {
                mr = mr
                    .reviewer(reviewer, true, "APPROVED")
                    .approved_by(reviewer);
                events.push(Event::approved(
                    reviewer,
                    &mr,
                    &stamp(created + Span::hours(3)),
                ));
                events.push(Event::comment(
                    reviewer,
                    &mr,
                    &stamp(created + Span::hours(2)),
                    "Nit",
                ));
            }
            data = data.mr(mr);
        }
        for i in 0..15u64 {
            id += 1;
            let p = 201 + (i + n as u64) % 10;
            iids[(p - 201) as usize] += 1;
            let created = start + quarter * (i as i32) / 15;
            data = data.issue(Issue::new(
                id,
                p,
                iids[(p - 201) as usize],
                &format!("{name} issue {i}"),
                name,
                &stamp(created),
            ));
        }
        for i in 0..2u64 {
            id += 1;
            iids[10] += 1;
            let created = start + quarter * (i as i32 + n as i32) / 50;
            data = data.issue(
                Issue::new(
                    id,
                    220,
                    iids[10],
                    &format!("{name} incident {i}"),
                    name,
                    &stamp(created),
                )
                .of_type("INCIDENT")
                .severity("MEDIUM")
                .closed(&stamp(created + Span::hours(3))),
            );
        }
        id += 1;
        data = data.epic(Epic::new(
            id,
            "acme",
            id,
            &format!("{name} epic"),
            name,
            &stamp(start + Span::days(n as i64)),
        ));
    }
    // Each engineer one 12-hour shift in the quarter.
    let mut rotation = OncallRotation::new(2, "Team");
    for (n, name) in names.iter().enumerate() {
        let from = start + Span::hours(12 * 4 * n as i64);
        rotation = rotation.shift(name, &stamp(from), &stamp(from + Span::hours(12)));
    }
    data = data.oncall_schedule(OncallSchedule::new(220, 1, "SRE").rotation(rotation));
    for event in events {
        data = data.event(event);
    }
    data
}
