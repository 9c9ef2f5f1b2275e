//! The made-up GitLab instance most tests harvest, and what a harvest of it must contain.
//!
//! The period is 2026Q3 (2026-07-01 to 2026-09-30). Alice's work is laid out so that every rule
//! of "what belongs in the period" is exercised at its edge: merge requests created, merged or
//! closed inside it (including one created before and merged inside), ones only touched inside
//! it, one created at the very first instant after it (GitLab's `createdBefore` is inclusive),
//! comments on the first and last days and just outside them (the events API's dates are
//! exclusive), reviews found only through approvals or only through comments, her comments on
//! her own merge request and on an issue (neither is a review), and users whose names contain
//! hers (`alice2`, `malice`) whose work must never be attributed to her.

#![allow(dead_code)]

use std::collections::BTreeSet;

use crate::fake_gitlab::{Dataset, Event, Issue, MergeRequest};
use crate::support::keys_for;

pub const ALICE_ID: u64 = 101;

pub const PLATFORM: u64 = 201;
pub const TERRAFORM: u64 = 202;
pub const SECRET: u64 = 203;

// Alice's merge requests.
pub const RETRY_BUDGET: &str = "Add retry budget to deploy pipeline";
pub const ROTATE_CREDENTIALS: &str = "Rotate database credentials automatically";
pub const SHARDED_CACHES: &str = "Draft: spike on sharded caches";
pub const REMOVE_FLAG: &str = "Remove legacy feature flag";
pub const TENANT_CACHE: &str = "Cache model features per tenant";
pub const TIDY_CI: &str = "Tidy CI cache keys";
pub const UPGRADE_LOGGING: &str = "Upgrade logging library";
pub const Q4_LINKS: &str = "Prepare Q4 roadmap doc links";
pub const Q4_MIGRATION: &str = "Start Q4 migration";

// Other people's merge requests.
pub const SLO_DASHBOARDS: &str = "Introduce SLO dashboards";
pub const STATE_BACKEND: &str = "Migrate state backend to object storage";
pub const TLS_MINIMUM: &str = "Bump TLS minimum version";
pub const RECOMMENDATIONS: &str = "Speed up recommendation batch";
pub const CANARY: &str = "Add canary stage";
pub const AUTOSCALER: &str = "Tune autoscaler thresholds";
pub const METRICS_NAMESPACE: &str = "Rename metrics namespace";
pub const OLD_REVIEW: &str = "Refresh base images";
pub const DRIFT_DETECTION: &str = "Add drift detection job";
pub const CACHE_WARMERS: &str = "Add cache warmers";
pub const LINT_RULES: &str = "Enforce lint rules";

// Bob's issue Alice commented on (a comment on a plain issue is not evidence).
pub const STAMPEDE: &str = "Cache stampede after deploy";

/// The instance: six people, three projects (public, internal, private).
pub fn team() -> Dataset {
    let data = Dataset::new()
        .user(ALICE_ID, "alice", "Alice Liddell")
        .user(102, "alice2", "Alice Second")
        .user(103, "malice", "Mal Ice")
        .user(104, "bob", "Bob Okafor")
        .user(105, "carol", "Carol Chen")
        .user(106, "dave", "Dave Moreau")
        .project(PLATFORM, "acme/platform", "public")
        .project(TERRAFORM, "acme/infra/terraform", "internal")
        .project(SECRET, "acme/secret-sauce", "private")
        // The top-level group of those projects, searched for epics by default (it has none).
        .group(900, "acme", "public")
        .token_owner("alice");

    // Alice's own work.
    let data = data
        .mr(MergeRequest::new(
            5001,
            PLATFORM,
            11,
            RETRY_BUDGET,
            "alice",
            "2026-07-03T09:00:00Z",
        )
        .merged("2026-07-10T15:30:00Z")
        .labels(&["type::feature", "reliability"])
        .reviewer("bob", true, "APPROVED")
        .approved_by("bob")
        .stats(120, 30, 6)
        .paths(&[
            ".gitlab-ci.yml",
            "deploy/retry_budget.go",
            "deploy/retry_budget_test.go",
            "deploy/train.go",
            "docs/deploy.md",
            "deploy/metrics.go",
        ])
        .description("Caps retries per deploy so a flapping check cannot stall the train."))
        .mr(MergeRequest::new(
            5002,
            TERRAFORM,
            5,
            ROTATE_CREDENTIALS,
            "alice",
            "2026-05-20T10:00:00Z",
        )
        .merged("2026-07-02T08:00:00Z")
        .labels(&["security"])
        .reviewer("carol", true, "APPROVED")
        .approved_by("carol"))
        .mr(MergeRequest::new(
            5003,
            PLATFORM,
            12,
            SHARDED_CACHES,
            "alice",
            "2026-08-15T12:00:00Z",
        ))
        .mr(MergeRequest::new(
            5004,
            PLATFORM,
            13,
            REMOVE_FLAG,
            "alice",
            "2026-06-01T10:00:00Z",
        )
        .closed("2026-09-29T17:00:00Z"))
        .mr(MergeRequest::new(
            5009,
            SECRET,
            7,
            TENANT_CACHE,
            "alice",
            "2026-09-10T10:00:00Z",
        )
        .merged("2026-09-20T10:00:00Z"))
        // Entirely before the period.
        .mr(
            MergeRequest::new(5005, PLATFORM, 3, TIDY_CI, "alice", "2026-03-01T10:00:00Z")
                .merged("2026-03-05T10:00:00Z"),
        )
        // Created and merged in Q2, only touched in Q3: GitLab returns it, the harvest drops it.
        .mr(MergeRequest::new(
            5006,
            PLATFORM,
            4,
            UPGRADE_LOGGING,
            "alice",
            "2026-04-10T10:00:00Z",
        )
        .merged("2026-04-20T10:00:00Z")
        .updated("2026-07-15T10:00:00Z"))
        // The first instant after the period: `createdBefore` is inclusive, so GitLab returns it.
        .mr(MergeRequest::new(
            5007,
            PLATFORM,
            14,
            Q4_LINKS,
            "alice",
            "2026-10-01T00:00:00Z",
        ))
        .mr(MergeRequest::new(
            5008,
            PLATFORM,
            15,
            Q4_MIGRATION,
            "alice",
            "2026-10-05T10:00:00Z",
        ));

    // Other people's merge requests Alice reviewed, approved or discussed (or did not).
    let slo = MergeRequest::new(
        5101,
        PLATFORM,
        20,
        SLO_DASHBOARDS,
        "bob",
        "2026-07-05T10:00:00Z",
    )
    .merged("2026-07-20T10:00:00Z")
    .reviewer("alice", true, "APPROVED")
    .reviewer("carol", false, "UNREVIEWED")
    .approved_by("alice")
    .labels(&["observability"]);
    let state_backend = MergeRequest::new(
        5102,
        TERRAFORM,
        8,
        STATE_BACKEND,
        "carol",
        "2026-08-01T09:00:00Z",
    )
    .reviewer("alice", false, "REQUESTED_CHANGES");
    let tls = MergeRequest::new(
        5103,
        PLATFORM,
        21,
        TLS_MINIMUM,
        "dave",
        "2026-08-10T10:00:00Z",
    )
    .merged("2026-08-12T10:00:00Z")
    .reviewer("bob", true, "APPROVED")
    .approved_by("bob")
    .approved_by("alice");
    let recommendations = MergeRequest::new(
        5104,
        SECRET,
        2,
        RECOMMENDATIONS,
        "bob",
        "2026-09-01T10:00:00Z",
    )
    .reviewer("carol", false, "UNREVIEWED");
    let canary = MergeRequest::new(5105, PLATFORM, 22, CANARY, "carol", "2026-06-20T10:00:00Z")
        .merged("2026-07-01T12:00:00Z")
        .reviewer("dave", true, "APPROVED")
        .approved_by("dave");
    let autoscaler = MergeRequest::new(
        5106,
        PLATFORM,
        23,
        AUTOSCALER,
        "bob",
        "2026-06-10T10:00:00Z",
    )
    .merged("2026-07-03T10:00:00Z");
    let metrics = MergeRequest::new(
        5107,
        PLATFORM,
        24,
        METRICS_NAMESPACE,
        "malice",
        "2026-07-12T10:00:00Z",
    )
    .reviewer("alice2", true, "APPROVED")
    .approved_by("alice2");
    let old_review = MergeRequest::new(
        5108,
        PLATFORM,
        25,
        OLD_REVIEW,
        "bob",
        "2026-04-01T10:00:00Z",
    )
    .merged("2026-04-05T10:00:00Z")
    .reviewer("alice", true, "APPROVED")
    .approved_by("alice");
    let drift = MergeRequest::new(
        5109,
        TERRAFORM,
        9,
        DRIFT_DETECTION,
        "dave",
        "2026-09-15T10:00:00Z",
    )
    .reviewer("alice", false, "UNREVIEWED");
    let warmers = MergeRequest::new(
        5201,
        PLATFORM,
        30,
        CACHE_WARMERS,
        "alice2",
        "2026-07-20T10:00:00Z",
    )
    .merged("2026-07-22T10:00:00Z")
    .reviewer("bob", true, "APPROVED")
    .approved_by("bob");
    let lint = MergeRequest::new(
        5202,
        PLATFORM,
        31,
        LINT_RULES,
        "malice",
        "2026-08-20T10:00:00Z",
    )
    .reviewer("bob", false, "REVIEWED");

    let retry_budget = data.mr_titled(RETRY_BUDGET).clone();
    let data = data
        .mr(slo.clone())
        .mr(state_backend.clone())
        .mr(tls.clone())
        .mr(recommendations.clone())
        .mr(canary.clone())
        .mr(autoscaler.clone())
        .mr(metrics.clone())
        .mr(old_review)
        .mr(drift)
        .mr(warmers)
        .mr(lint);

    // The issue Alice comments on below; hers neither as a review nor as an issue.
    let data = data.issue(Issue::new(
        8001,
        PLATFORM,
        40,
        STAMPEDE,
        "bob",
        "2026-07-08T10:00:00Z",
    ));

    // Contribution events, in id (= time) order.
    data.event(Event::comment(
        "alice",
        &autoscaler,
        "2026-06-30T22:00:00Z",
        "Too late for this one, sorry.",
    ))
    .event(Event::comment(
        "alice",
        &canary,
        "2026-07-01T08:00:00Z",
        "Can we gate on error budget?",
    ))
    .event(Event::comment(
        "alice",
        &retry_budget,
        "2026-07-04T09:00:00Z",
        "Addressed the feedback.",
    ))
    .event(Event::comment(
        "malice",
        &retry_budget,
        "2026-07-04T10:00:00Z",
        "Nice.",
    ))
    .event(Event::diff_comment(
        "alice",
        &slo,
        "2026-07-06T10:00:00Z",
        "This panel double counts retries.",
    ))
    .event(Event::diff_comment(
        "alice2",
        &slo,
        "2026-07-06T11:00:00Z",
        "Agree with the above.",
    ))
    .event(Event::diff_comment(
        "alice",
        &slo,
        "2026-07-07T10:00:00Z",
        "Use the recording rule here.",
    ))
    .event(Event::approved("alice", &slo, "2026-07-08T10:00:00Z"))
    .event(Event::issue_comment(
        "alice",
        PLATFORM,
        8001,
        40,
        "2026-07-09T10:00:00Z",
        "Repro steps attached.",
    ))
    .event(Event::approved("alice2", &metrics, "2026-07-13T10:00:00Z"))
    .event(Event::diff_comment(
        "alice",
        &state_backend,
        "2026-08-02T10:00:00Z",
        "Lock table needs a TTL.",
    ))
    .event(Event::diff_comment(
        "alice",
        &state_backend,
        "2026-08-02T11:00:00Z",
        "Missing encryption flag.",
    ))
    .event(Event::comment(
        "alice",
        &state_backend,
        "2026-08-03T10:00:00Z",
        "Requesting changes until the lock question is settled.",
    ))
    .event(Event::approved("alice", &tls, "2026-08-11T10:00:00Z"))
    .event(Event::comment(
        "alice",
        &recommendations,
        "2026-09-30T20:00:00Z",
        "Batch size 500 halves the runtime here.",
    ))
    .event(Event::comment(
        "alice",
        &autoscaler,
        "2026-10-01T09:00:00Z",
        "Follow-up in Q4.",
    ))
}

/// Everything a harvest of Alice over 2026Q3 contains: `(subject, kind, role, title)`.
pub fn alice_q3() -> BTreeSet<(String, String, String, String)> {
    keys_for(
        "alice",
        &[
            ("merge_request", "author", RETRY_BUDGET),
            ("merge_request", "author", ROTATE_CREDENTIALS),
            ("merge_request", "author", SHARDED_CACHES),
            ("merge_request", "author", REMOVE_FLAG),
            ("merge_request", "author", TENANT_CACHE),
            ("review", "approver", SLO_DASHBOARDS),
            ("review", "reviewer", STATE_BACKEND),
            ("review", "approver", TLS_MINIMUM),
            ("review", "commenter", RECOMMENDATIONS),
            ("review", "commenter", CANARY),
            ("review", "reviewer", DRIFT_DETECTION),
        ],
    )
}

/// A busy quarter: more authored merge requests and more events than one page holds.
pub const MANY_AUTHORED: u64 = 230;
pub const MANY_REVIEWED: u64 = 120;
/// Comment events on the reviewed merge requests (two on most, one on some).
pub const MANY_EVENTS: u64 = 250;

pub fn busy() -> Dataset {
    let mut data = Dataset::new()
        .user(ALICE_ID, "alice", "Alice Liddell")
        .user(104, "bob", "Bob Okafor")
        .project(PLATFORM, "acme/platform", "public");
    let start = crate::fake_gitlab::at("2026-07-01T06:00:00Z");
    let stamp = |hours: u64| {
        (start + chrono::Duration::hours(hours as i64))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    for n in 0..MANY_AUTHORED {
        data = data.mr(MergeRequest::new(
            10_000 + n,
            PLATFORM,
            1000 + n,
            &format!("Busy change {n:03}"),
            "alice",
            &stamp(n),
        )
        .merged(&stamp(n + 2)));
    }
    let mut reviewed = Vec::new();
    for n in 0..MANY_REVIEWED {
        let mr = MergeRequest::new(
            20_000 + n,
            PLATFORM,
            3000 + n,
            &format!("Bob change {n:03}"),
            "bob",
            &stamp(n),
        )
        .merged(&stamp(n + 5));
        reviewed.push(mr.clone());
        data = data.mr(mr);
    }
    for n in 0..MANY_EVENTS {
        let mr = &reviewed[(n % MANY_REVIEWED) as usize];
        data = data.event(Event::comment(
            "alice",
            mr,
            &stamp(n + 1),
            &format!("Comment {n}"),
        ));
    }
    data
}

/// The number of comments the busy dataset gives Alice on reviewed MR `n`.
pub fn busy_comments_on(n: u64) -> u64 {
    (0..MANY_EVENTS).filter(|e| e % MANY_REVIEWED == n).count() as u64
}
