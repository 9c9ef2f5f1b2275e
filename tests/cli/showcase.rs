//! A showcase: one realistic quarter (2026Q3) in which Alice, a site reliability engineer, has
//! work of every kind the harvest knows, next to colleagues' work and that of a near namesake
//! (`alice2`) that must never be attributed to her.
//!
//! - [`everything`] builds the instance: merge requests she authored (a blueprint, a runbook, a
//!   corrective action, tech debt, an OKR draft, a private security change created before the
//!   period); reviews requested of her, found only through her approval, found only through her
//!   comments; issues she authored, was assigned, or closed; incidents she was assigned,
//!   authored (severity from a `severity::N` label) or only commented on (severity from the
//!   field); epics in the Premium group `acme` and its subgroup, with children; on-call shifts in
//!   `acme/production` (one across the period's start); interview work; a confidential issue.
//! - `showcase_harvest_and_brag_cover_every_kind` runs the one-shot `brag` against it and checks
//!   every kind lands, with the exact items, and prints a table of what was harvested (run with
//!   `--nocapture` to see it).
//! - `serve_showcase_for_manual_tries` (ignored) serves the same instance for up to ten minutes
//!   and prints the commands to try the CLI against it by hand:
//!   `cargo test --test cli serve_showcase -- --ignored --nocapture`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fake_gitlab::{
    Dataset, Epic, Event, FakeGitlab, Faults, Issue, MergeRequest, OncallRotation, OncallSchedule,
    TimelineEvent, TOKEN,
};
use crate::support::*;

// ---------------------------------------------------------------------------------------------
// The instance.

const PLATFORM: u64 = 201;
const TERRAFORM: u64 = 202;
const PRODUCTION: u64 = 203;
const RUNBOOKS: u64 = 204;
const GITLAB: u64 = 205;
const VAULT: u64 = 206;
const HIRING: u64 = 207;

/// The project whose on-call schedules hold the shifts (also the incident tracker).
pub const PRODUCTION_PATH: &str = "acme/production";
/// The Premium group searched for epics.
pub const EPIC_GROUP: &str = "acme";

// Alice's merge requests.
const BLUEPRINT: &str = "Add blueprint for regional database failover";
const REDIS_RUNBOOK: &str = "Redis cluster failover runbook";
const MISSING_INDEX: &str = "Add missing index for CI pipeline lookups";
const CONSUL: &str = "Remove deprecated Consul service discovery";
const AUTOSCALE: &str = "Draft: Autoscale runner managers on queue depth";
const VAULT_TOKENS: &str = "Rotate Vault root tokens automatically";
// Hers, but outside the period.
const TIDY_CI: &str = "Tidy CI cache keys";
const Q4_CAPACITY: &str = "Plan Q4 runner capacity";

// Reviews.
const THANOS: &str = "Add Thanos ruler for SLO recording rules";
const VPC: &str = "Migrate CI runners to the new VPC";
const PGBOUNCER: &str = "Upgrade PgBouncer to 1.23";
const CELLS: &str = "Blueprint: Cells topology service";

// Issues.
const REDIS_DOC: &str = "Document the Redis failover procedure";
const CERT_TOIL: &str = "Reduce toil in TLS certificate renewals";
const STALE_DNS: &str = "Stale DNS records after region migration";
const DEPLOY_TOKEN: &str = "Deploy token exposed in job logs";
const RETRY_LOOPS: &str = "Replace hand-rolled retry loops with the shared HTTP client";
const REPLICA_ALERT: &str = "Alert on Patroni replica lag";
// Not hers for the period: commented on (a comment on a plain issue is not evidence), or over
// before it.
const MANAGED_REDIS: &str = "Evaluate managed Redis offerings";
const CHEF_ROLES: &str = "Retire the legacy Chef roles";

// Incidents.
const API_5XX: &str = "Elevated 5xx error rate on the API fleet";
const SIDEKIQ_BACKLOG: &str = "Sidekiq urgent queue backlog";
const REPLICA_LAG: &str = "Patroni replica lag after failover";
const CACHE_EVICTIONS: &str = "Redis cache evictions during peak";

// Epics.
const DB_RESILIENCE: &str = "Database resilience for FY27";
const RUNNER_COST: &str = "Runner fleet cost reduction";
const SIDEKIQ_OBSERVABILITY: &str = "Observability for Sidekiq";
const CHEF_EPIC: &str = "Chef retirement";

// On-call.
const EOC: &str = "On-call: Infrastructure EOC / EMEA";

// Interview work.
const SHADOW_LOOPS: &str = "Interview training: shadow two SRE loops";
const PAIRING_RUBRIC: &str = "Rubric for the infrastructure pairing interview";

/// The near namesake's work, in every kind; none of it is Alice's.
const ALICE2_TITLES: [&str; 7] = [
    "Tune Sidekiq concurrency for urgent queues",
    "Add PgBouncer saturation dashboard",
    "Flaky QA smoke test on staging",
    "Canary deployment stuck on gprd",
    "Sidekiq queue routing rules",
    "Interview training: reverse shadow an SRE loop",
    "Ops on-call handover checklist",
];

/// Alice's 2026Q3, except on-call shifts (which share one title): `(kind, role, title)`.
const ALICE_Q3: [(&str, &str, &str); 24] = [
    ("merge_request", "author", BLUEPRINT),
    ("merge_request", "author", REDIS_RUNBOOK),
    ("merge_request", "author", MISSING_INDEX),
    ("merge_request", "author", CONSUL),
    ("merge_request", "author", AUTOSCALE),
    // Created in Q2, merged in Q3.
    ("merge_request", "author", VAULT_TOKENS),
    // Requested and approved.
    ("review", "approver", THANOS),
    // Requested, changes requested, not approved.
    ("review", "reviewer", VPC),
    // Not requested: found only through her approval event.
    ("review", "approver", PGBOUNCER),
    // Not requested: found only through her comments.
    ("review", "commenter", CELLS),
    ("issue", "author", REDIS_DOC),
    ("issue", "assignee", CERT_TOIL),
    // Carol's, closed by Alice.
    ("issue", "participant", STALE_DNS),
    ("issue", "author", DEPLOY_TOKEN),
    ("issue", "author", RETRY_LOOPS),
    ("issue", "author", REPLICA_ALERT),
    ("incident", "assignee", API_5XX),
    // Only commented on.
    ("incident", "participant", SIDEKIQ_BACKLOG),
    ("incident", "author", REPLICA_LAG),
    // Only wrote its timeline.
    ("incident", "participant", CACHE_EVICTIONS),
    ("epic", "author", DB_RESILIENCE),
    // In the subgroup acme/infra; created in Q2, closed in Q3.
    ("epic", "author", RUNNER_COST),
    // An issue labelled `Interview Training` she was assigned.
    ("interview", "interviewer", SHADOW_LOOPS),
    // A review of a merge request labelled `Interview Training`.
    ("interview", "interviewer", PAIRING_RUBRIC),
];

/// Alice's shifts in 2026Q3: `(starts_at, ends_at, hours)`, clipped to the period.
const ALICE_SHIFTS: [(&str, &str, f64); 3] = [
    // Across the period's start: 4 of its 8 hours are in Q3.
    ("2026-07-01T00:00:00Z", "2026-07-01T04:00:00Z", 4.0),
    ("2026-08-12T08:00:00Z", "2026-08-12T16:00:00Z", 8.0),
    ("2026-09-09T08:00:00Z", "2026-09-09T20:00:00Z", 12.0),
];

/// Items per kind: what the snapshot and the brag's summary must say.
const EXPECTED_COUNTS: [(&str, usize); 7] = [
    ("merge_request", 6),
    ("review", 4),
    ("issue", 6),
    ("incident", 4),
    ("epic", 2),
    ("oncall_shift", 3),
    ("interview", 2),
];

/// The source that holds each kind.
const SOURCE_OF: [(&str, &str); 7] = [
    ("merge_request", "merge_requests"),
    ("review", "reviews"),
    ("issue", "issues"),
    ("incident", "incidents"),
    ("epic", "epics"),
    ("oncall_shift", "oncall_shifts"),
    ("interview", "interviews"),
];

/// The brag's summary line for each kind, without the count.
const SUMMARY_LABEL: [(&str, &str); 7] = [
    ("merge_request", "merge requests authored"),
    ("review", "merge requests reviewed"),
    ("issue", "issues"),
    ("incident", "incidents"),
    ("epic", "epics"),
    ("oncall_shift", "on-call shifts"),
    ("interview", "interviews"),
];

/// One realistic quarter with every kind of evidence for `alice`, and work by others
/// (including `alice2`) around it.
pub fn everything() -> Dataset {
    let data = Dataset::new()
        .user(101, "alice", "Alice Liddell")
        .user(102, "alice2", "Alice Second")
        .user(104, "bob", "Bob Okafor")
        .user(105, "carol", "Carol Chen")
        .user(106, "dave", "Dave Moreau")
        .project(PLATFORM, "acme/platform", "public")
        .project(TERRAFORM, "acme/infra/terraform", "internal")
        .project(PRODUCTION, PRODUCTION_PATH, "public")
        .project(RUNBOOKS, "acme/runbooks", "public")
        .project(GITLAB, "acme/gitlab", "public")
        .project(VAULT, "acme/infra/vault", "private")
        .project(HIRING, "acme/hiring", "internal")
        .group(900, EPIC_GROUP, "public")
        .group(901, "acme/infra", "internal")
        .token_owner("alice");

    // ── Alice's merge requests ──────────────────────────────────────────────────────────────
    let redis_runbook = MergeRequest::new(
        5002,
        RUNBOOKS,
        31,
        REDIS_RUNBOOK,
        "alice",
        "2026-07-15T09:00:00Z",
    )
    .merged("2026-07-17T14:00:00Z")
    .labels(&["runbooks", "Service::Redis"])
    .reviewer("carol", true, "APPROVED")
    .approved_by("carol")
    .stats(180, 40, 2)
    .paths(&["docs/redis/failover.md", "docs/redis/README.md"]);
    let data = data
        .mr(MergeRequest::new(
            5001,
            GITLAB,
            101,
            BLUEPRINT,
            "alice",
            "2026-07-06T09:00:00Z",
        )
        .merged("2026-07-24T16:00:00Z")
        .labels(&["architecture blueprint", "database"])
        .reviewer("bob", true, "APPROVED")
        .approved_by("bob")
        .stats(410, 0, 2)
        .paths(&[
            "doc/architecture/blueprints/regional_database_failover/index.md",
            "doc/architecture/blueprints/regional_database_failover/decisions/001_patroni.md",
        ])
        .description(
            "Proposes promoting a replica in a second region. Alternatives considered: \
             cross-region streaming only, and managed failover; the trade-offs are in the \
             decision record.",
        ))
        .mr(redis_runbook.clone())
        .mr(MergeRequest::new(
            5003,
            PLATFORM,
            220,
            MISSING_INDEX,
            "alice",
            "2026-08-04T13:00:00Z",
        )
        .merged("2026-08-06T10:00:00Z")
        .labels(&["corrective action", "severity::2", "database"])
        .reviewer("dave", true, "APPROVED")
        .approved_by("dave")
        .stats(24, 1, 2)
        .paths(&[
            "db/migrate/20260804130000_add_index_ci_pipelines_on_project_id_and_ref.rb",
            "db/structure.sql",
        ]))
        .mr(
            MergeRequest::new(5004, TERRAFORM, 77, CONSUL, "alice", "2026-08-20T09:00:00Z")
                .merged("2026-09-02T11:00:00Z")
                .labels(&["tech debt"])
                .reviewer("carol", true, "APPROVED")
                .approved_by("carol")
                .stats(40, 680, 14),
        )
        .mr(MergeRequest::new(
            5005,
            PLATFORM,
            231,
            AUTOSCALE,
            "alice",
            "2026-09-14T10:00:00Z",
        )
        .labels(&["OKR", "automation"])
        .stats(260, 35, 3)
        .paths(&[
            ".gitlab-ci.yml",
            "autoscaler/queue_depth.go",
            "autoscaler/queue_depth_test.go",
        ]))
        .mr(MergeRequest::new(
            5006,
            VAULT,
            12,
            VAULT_TOKENS,
            "alice",
            "2026-06-15T10:00:00Z",
        )
        .merged("2026-07-08T09:30:00Z")
        .labels(&["security"])
        .reviewer("bob", true, "APPROVED")
        .approved_by("bob"))
        // Before the period.
        .mr(MergeRequest::new(
            5007,
            PLATFORM,
            150,
            TIDY_CI,
            "alice",
            "2026-04-01T10:00:00Z",
        )
        .merged("2026-04-03T10:00:00Z"))
        // After it.
        .mr(MergeRequest::new(
            5008,
            PLATFORM,
            240,
            Q4_CAPACITY,
            "alice",
            "2026-10-02T10:00:00Z",
        ));

    // ── Merge requests Alice reviewed ───────────────────────────────────────────────────────
    let thanos = MergeRequest::new(5101, PLATFORM, 210, THANOS, "bob", "2026-07-09T10:00:00Z")
        .merged("2026-07-16T15:00:00Z")
        .labels(&["observability"])
        .reviewer("alice", true, "APPROVED")
        .reviewer("carol", false, "UNREVIEWED")
        .approved_by("alice")
        .paths(&["dashboards/slo/api.jsonnet", "rules/slo.yml"]);
    let vpc = MergeRequest::new(5102, TERRAFORM, 80, VPC, "carol", "2026-08-11T09:00:00Z")
        .labels(&["infradev"])
        .reviewer("alice", false, "REQUESTED_CHANGES")
        .stats(320, 110, 9);
    let pgbouncer = MergeRequest::new(
        5103,
        PLATFORM,
        225,
        PGBOUNCER,
        "dave",
        "2026-08-18T09:00:00Z",
    )
    .merged("2026-08-20T12:00:00Z")
    .labels(&["database"])
    .reviewer("bob", true, "APPROVED")
    .approved_by("bob")
    .approved_by("alice");
    let cells = MergeRequest::new(5104, GITLAB, 130, CELLS, "carol", "2026-09-01T09:00:00Z")
        .labels(&["Cells"])
        .paths(&["doc/architecture/blueprints/cells/topology_service.md"]);
    let rubric = MergeRequest::new(
        5105,
        HIRING,
        14,
        PAIRING_RUBRIC,
        "bob",
        "2026-08-24T09:00:00Z",
    )
    .merged("2026-08-27T10:00:00Z")
    .labels(&["Interview Training"])
    .reviewer("alice", true, "APPROVED")
    .approved_by("alice");
    let data = data
        .mr(thanos.clone())
        .mr(vpc.clone())
        .mr(pgbouncer.clone())
        .mr(cells.clone())
        .mr(rubric.clone());

    // ── The near namesake's merge requests and review ───────────────────────────────────────
    let alice2_dashboard = MergeRequest::new(
        5202,
        PLATFORM,
        251,
        ALICE2_TITLES[1],
        "bob",
        "2026-07-27T09:00:00Z",
    )
    .merged("2026-07-29T09:00:00Z")
    .labels(&["observability"])
    .reviewer("alice2", true, "APPROVED")
    .approved_by("alice2")
    .paths(&["dashboards/pgbouncer/saturation.jsonnet"]);
    let data = data
        .mr(MergeRequest::new(
            5201,
            PLATFORM,
            250,
            ALICE2_TITLES[0],
            "alice2",
            "2026-07-20T09:00:00Z",
        )
        .merged("2026-07-22T09:00:00Z")
        .labels(&["performance"])
        .reviewer("bob", true, "APPROVED")
        .approved_by("bob"))
        .mr(alice2_dashboard.clone());

    // ── Issues ──────────────────────────────────────────────────────────────────────────────
    let stale_dns = Issue::new(
        8003,
        TERRAFORM,
        90,
        STALE_DNS,
        "carol",
        "2026-06-25T09:00:00Z",
    )
    .labels(&["infradev"])
    .closed("2026-08-28T16:00:00Z");
    let managed_redis = Issue::new(
        8007,
        PLATFORM,
        303,
        MANAGED_REDIS,
        "bob",
        "2026-07-21T09:00:00Z",
    )
    .updated("2026-07-22T10:00:00Z");
    let data = data
        .issue(
            Issue::new(
                8001,
                RUNBOOKS,
                40,
                REDIS_DOC,
                "alice",
                "2026-07-13T09:00:00Z",
            )
            .labels(&["documentation", "runbooks"])
            .closed("2026-07-18T10:00:00Z"),
        )
        .issue(
            Issue::new(
                8002,
                PLATFORM,
                300,
                CERT_TOIL,
                "bob",
                "2026-07-02T09:00:00Z",
            )
            .assignee("alice")
            .labels(&["toil", "OKR"])
            .closed("2026-09-10T15:00:00Z"),
        )
        .issue(stale_dns.clone())
        .issue(
            Issue::new(
                8004,
                PLATFORM,
                301,
                DEPLOY_TOKEN,
                "alice",
                "2026-09-03T08:00:00Z",
            )
            .labels(&["security", "severity::2"])
            .confidential()
            .description("A masked variable was echoed by a debug step; token revoked."),
        )
        .issue(
            Issue::new(
                8005,
                PLATFORM,
                302,
                RETRY_LOOPS,
                "alice",
                "2026-08-21T09:00:00Z",
            )
            .labels(&["tech debt"]),
        )
        .issue(
            Issue::new(
                8006,
                PRODUCTION,
                510,
                REPLICA_ALERT,
                "alice",
                "2026-08-05T09:00:00Z",
            )
            .labels(&["corrective action", "alerting"])
            .closed("2026-08-19T10:00:00Z"),
        )
        .issue(managed_redis.clone())
        // Over before the period.
        .issue(
            Issue::new(
                8008,
                PLATFORM,
                304,
                CHEF_ROLES,
                "alice",
                "2026-03-02T09:00:00Z",
            )
            .closed("2026-04-10T09:00:00Z"),
        );

    // ── Incidents ───────────────────────────────────────────────────────────────────────────
    let sidekiq_backlog = Issue::new(
        8102,
        PRODUCTION,
        501,
        SIDEKIQ_BACKLOG,
        "carol",
        "2026-08-13T07:40:00Z",
    )
    .of_type("INCIDENT")
    .severity("MEDIUM")
    .labels(&["incident", "Service::Sidekiq"])
    .closed("2026-08-14T09:00:00Z");
    let data = data
        .issue(
            Issue::new(
                8101,
                PRODUCTION,
                500,
                API_5XX,
                "bob",
                "2026-07-22T03:10:00Z",
            )
            .of_type("INCIDENT")
            .severity("HIGH")
            .assignee("alice")
            .labels(&["incident", "Service::API"])
            .closed("2026-07-23T11:00:00Z"),
        )
        .issue(sidekiq_backlog.clone())
        .issue(
            Issue::new(
                8103,
                PRODUCTION,
                502,
                REPLICA_LAG,
                "alice",
                "2026-08-04T02:15:00Z",
            )
            .of_type("INCIDENT")
            .labels(&["incident", "severity::1", "Service::Patroni"])
            .closed("2026-08-05T06:00:00Z"),
        )
        // Dave's incident: Alice kept its timeline, nothing else.
        .issue(
            Issue::new(
                8105,
                PRODUCTION,
                504,
                CACHE_EVICTIONS,
                "dave",
                "2026-09-03T21:05:00Z",
            )
            .of_type("INCIDENT")
            .severity("HIGH")
            .labels(&["incident", "Service::Redis"])
            .closed("2026-09-04T01:30:00Z"),
        )
        .timeline_event(TimelineEvent::new(1, 8105, "alice", "2026-09-03T21:10:00Z"))
        .timeline_event(TimelineEvent::new(2, 8105, "dave", "2026-09-03T21:25:00Z"))
        .timeline_event(TimelineEvent::new(3, 8105, "alice", "2026-09-03T22:00:00Z"))
        .timeline_event(TimelineEvent::new(4, 8105, "alice", "2026-09-04T01:20:00Z"))
        .timeline_event(TimelineEvent::new(5, 8103, "alice", "2026-08-04T02:30:00Z"));

    // ── Interview work ──────────────────────────────────────────────────────────────────────
    let data = data.issue(
        Issue::new(
            8201,
            HIRING,
            15,
            SHADOW_LOOPS,
            "bob",
            "2026-07-14T09:00:00Z",
        )
        .assignee("alice")
        .labels(&["Interview Training"]),
    );

    // ── The near namesake's issues, incident and interview work ─────────────────────────────
    let alice2_incident = Issue::new(
        8104,
        PRODUCTION,
        503,
        ALICE2_TITLES[3],
        "alice2",
        "2026-09-15T05:00:00Z",
    )
    .of_type("INCIDENT")
    .severity("LOW")
    .closed("2026-09-16T08:00:00Z");
    let data = data
        .issue(
            Issue::new(
                8203,
                PLATFORM,
                305,
                ALICE2_TITLES[2],
                "alice2",
                "2026-08-02T09:00:00Z",
            )
            .assignee("alice2"),
        )
        .issue(alice2_incident.clone())
        .issue(
            Issue::new(
                8202,
                HIRING,
                16,
                ALICE2_TITLES[5],
                "bob",
                "2026-08-03T09:00:00Z",
            )
            .assignee("alice2")
            .labels(&["Interview Training"]),
        )
        .issue(
            Issue::new(
                8204,
                PRODUCTION,
                511,
                ALICE2_TITLES[6],
                "alice2",
                "2026-09-20T09:00:00Z",
            )
            .labels(&["oncall"]),
        );

    // ── Epics ───────────────────────────────────────────────────────────────────────────────
    let data = data
        .epic(
            Epic::new(
                1,
                EPIC_GROUP,
                11,
                DB_RESILIENCE,
                "alice",
                "2026-07-02T09:00:00Z",
            )
            .labels(&["OKR", "database"])
            .children(3, 12)
            .description("Regional failover, replica lag alerting and backup restore drills."),
        )
        .epic(
            Epic::new(
                2,
                "acme/infra",
                12,
                RUNNER_COST,
                "alice",
                "2026-05-04T09:00:00Z",
            )
            .labels(&["capacity planning"])
            .children(0, 6)
            .closed("2026-09-15T12:00:00Z"),
        )
        .epic(Epic::new(
            3,
            EPIC_GROUP,
            13,
            SIDEKIQ_OBSERVABILITY,
            "bob",
            "2026-07-05T09:00:00Z",
        ))
        .epic(Epic::new(
            4,
            EPIC_GROUP,
            14,
            ALICE2_TITLES[4],
            "alice2",
            "2026-08-01T09:00:00Z",
        ))
        .epic(
            Epic::new(
                5,
                EPIC_GROUP,
                15,
                CHEF_EPIC,
                "alice",
                "2026-02-01T09:00:00Z",
            )
            .closed("2026-05-01T09:00:00Z")
            .updated("2026-07-03T09:00:00Z"),
        );

    // ── On-call ─────────────────────────────────────────────────────────────────────────────
    let data = data.oncall_schedule(
        OncallSchedule::new(PRODUCTION, 1, "Infrastructure EOC").rotation(
            OncallRotation::new(11, "EMEA")
                .shift("alice", "2026-06-23T08:00:00Z", "2026-06-23T16:00:00Z")
                .shift("alice", "2026-06-30T20:00:00Z", "2026-07-01T04:00:00Z")
                .shift("bob", "2026-07-01T04:00:00Z", "2026-07-01T12:00:00Z")
                .shift("alice", "2026-08-12T08:00:00Z", "2026-08-12T16:00:00Z")
                .shift("alice2", "2026-08-13T08:00:00Z", "2026-08-13T16:00:00Z")
                .shift("carol", "2026-08-13T16:00:00Z", "2026-08-14T00:00:00Z")
                .shift("alice", "2026-09-09T08:00:00Z", "2026-09-09T20:00:00Z")
                .shift("alice", "2026-10-07T08:00:00Z", "2026-10-07T16:00:00Z"),
        ),
    );

    // ── Contribution events, in time order ──────────────────────────────────────────────────
    let comment_on_own = Event::comment(
        "alice",
        &redis_runbook,
        "2026-07-16T10:00:00Z",
        "Applied the suggestions from the review.",
    );
    data.event(Event::diff_comment(
        "alice",
        &thanos,
        "2026-07-10T10:00:00Z",
        "This recording rule double counts 5xx from the canary.",
    ))
    .event(Event::diff_comment(
        "alice",
        &thanos,
        "2026-07-10T11:00:00Z",
        "Evaluation interval should match the scrape interval.",
    ))
    .event(Event::approved("alice", &thanos, "2026-07-11T09:00:00Z"))
    // On her own merge request: not a review.
    .event(comment_on_own)
    // On a plain issue: not evidence.
    .event(Event::comment_on_issue(
        "alice",
        &managed_redis,
        "2026-07-22T10:00:00Z",
        "We would lose control over failover timing; see the blueprint.",
    ))
    .event(Event::diff_comment(
        "alice2",
        &alice2_dashboard,
        "2026-07-28T09:00:00Z",
        "Use the pool name as a label.",
    ))
    .event(Event::approved(
        "alice2",
        &alice2_dashboard,
        "2026-07-28T10:00:00Z",
    ))
    .event(Event::diff_comment(
        "alice",
        &vpc,
        "2026-08-12T09:00:00Z",
        "The NAT gateway is a single point of failure here.",
    ))
    .event(Event::diff_comment(
        "alice",
        &vpc,
        "2026-08-12T09:30:00Z",
        "Peering routes are missing for the monitoring subnet.",
    ))
    .event(Event::comment(
        "alice",
        &vpc,
        "2026-08-12T10:00:00Z",
        "Requesting changes until the NAT question is settled.",
    ))
    .event(Event::comment_on_issue(
        "alice",
        &sidekiq_backlog,
        "2026-08-13T08:00:00Z",
        "Urgent-other is starved by the export jobs; moving them to a catchall shard.",
    ))
    .event(Event::comment_on_issue(
        "alice",
        &sidekiq_backlog,
        "2026-08-13T09:15:00Z",
        "Backlog draining, latency back under SLO.",
    ))
    .event(Event::approved("alice", &pgbouncer, "2026-08-19T14:00:00Z"))
    .event(Event::approved("alice", &rubric, "2026-08-26T11:00:00Z"))
    .event(Event::closed_issue(
        "alice",
        &stale_dns,
        "2026-08-28T16:00:00Z",
    ))
    .event(Event::diff_comment(
        "alice",
        &cells,
        "2026-09-02T09:00:00Z",
        "How does the topology service fail over?",
    ))
    .event(Event::diff_comment(
        "alice",
        &cells,
        "2026-09-02T09:20:00Z",
        "The lease TTL needs a justification.",
    ))
    .event(Event::diff_comment(
        "alice",
        &cells,
        "2026-09-03T10:00:00Z",
        "Please add a sequence diagram for claim conflicts.",
    ))
    .event(Event::comment(
        "alice",
        &cells,
        "2026-09-04T10:00:00Z",
        "Compared with the regional failover blueprint, this reads well.",
    ))
    .event(Event::comment(
        "alice",
        &cells,
        "2026-09-08T10:00:00Z",
        "Happy with the answers; leaving approval to the maintainers.",
    ))
    .event(Event::comment_on_issue(
        "alice2",
        &alice2_incident,
        "2026-09-15T05:30:00Z",
        "Rolled back the canary.",
    ))
    .event(Event::closed_issue(
        "alice2",
        &alice2_incident,
        "2026-09-16T08:00:00Z",
    ))
    // After the period: the events API does not return it.
    .event(Event::comment(
        "alice",
        &cells,
        "2026-10-02T09:00:00Z",
        "Follow-up for Q4.",
    ))
}

// ---------------------------------------------------------------------------------------------
// Reading the results.

fn kind_items<'s>(snapshot: &'s Value, kind: &str) -> Vec<&'s Value> {
    items(snapshot)
        .iter()
        .filter(|i| i["kind"] == kind)
        .collect()
}

fn source<'s>(snapshot: &'s Value, name: &str) -> &'s Value {
    let found: Vec<&Value> = sources(snapshot)
        .iter()
        .filter(|s| s["name"] == name && s["subject"] == "alice")
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one `{name}` source for alice: {:#}",
        snapshot["sources"]
    );
    found[0]
}

fn str_of<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key].as_str().unwrap_or("")
}

/// The time written the way the expectations are (`Z`, whole seconds).
fn canonical(value: &Value) -> String {
    crate::fake_gitlab::at(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a time: {value}")),
    )
    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The brag's `## Summary` section.
fn summary_section(markdown: &str) -> &str {
    let start = markdown
        .find("## Summary")
        .unwrap_or_else(|| panic!("no summary in the brag:\n{markdown}"));
    let rest = &markdown[start..];
    let end = rest[2..].find("\n## ").map_or(rest.len(), |i| i + 2);
    &rest[..end]
}

fn showcase_config() -> String {
    format!("[harvest]\noncall_projects = [{PRODUCTION_PATH:?}]\nepic_groups = [{EPIC_GROUP:?}]\n")
}

/// The table the showcase prints: items per kind, and per source its status, items and
/// requests.
fn table(snapshot: &Value, total_requests: usize, by_route: &BTreeMap<String, usize>) -> String {
    let mut out = String::new();
    out.push_str("\n=== showcase: alice, 2026Q3 ===\n");
    out.push_str(&format!("{:<14} {:>5} {:>8}\n", "kind", "items", "matched"));
    for (kind, _) in EXPECTED_COUNTS {
        let all = kind_items(snapshot, kind);
        let matched = all
            .iter()
            .filter(|i| i["competencies"].as_array().is_some_and(|c| !c.is_empty()))
            .count();
        out.push_str(&format!("{kind:<14} {:>5} {matched:>8}\n", all.len()));
    }
    out.push_str(&format!("{:<14} {:>5}\n", "total", items(snapshot).len()));
    out.push('\n');
    out.push_str(&format!(
        "{:<14} {:<8} {:>5} {:>8}\n",
        "source", "status", "items", "requests"
    ));
    let mut counted = 0;
    for s in sources(snapshot) {
        let requests = s["requests"].as_u64().unwrap_or(0);
        counted += requests;
        out.push_str(&format!(
            "{:<14} {:<8} {:>5} {requests:>8}\n",
            str_of(s, "name"),
            str_of(s, "status"),
            s["items"].as_u64().unwrap_or(0),
        ));
    }
    out.push_str(&format!("{:<14} {:<8} {:>5} {counted:>8}\n", "sum", "", ""));
    out.push('\n');
    out.push_str(&format!("requests the fake saw: {total_requests}\n"));
    for (route, n) in by_route {
        out.push_str(&format!("  {n:>3}  {route}\n"));
    }
    out
}

/// Requests by GraphQL operation or REST route (ids replaced by `:id`).
fn requests_by_route(fake: &FakeGitlab) -> BTreeMap<String, usize> {
    let mut by_route = BTreeMap::new();
    for r in fake.requests() {
        let route = match &r.operation {
            Some(op) => format!("POST graphql {op}"),
            None => {
                let path: Vec<String> = r
                    .path
                    .split('/')
                    .map(|s| {
                        if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
                            ":id".to_string()
                        } else {
                            s.to_string()
                        }
                    })
                    .collect();
                format!("{} {}", r.method, path.join("/"))
            }
        };
        *by_route.entry(route).or_insert(0) += 1;
    }
    by_route
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn showcase_harvest_and_brag_cover_every_kind() {
    let env = TestEnv::new();
    let data = everything();
    let fake = FakeGitlab::start(data.clone(), Faults::default());
    // `gl` passes `--config` with this file: the fast network settings plus the harvest's.
    env.write(
        "config.toml",
        &format!("{FAST_CONFIG}\n{}", showcase_config()),
    );
    let brag_path = env.path("brag.md");
    let snapshot_path = env.path("snapshot.json");
    let run = run(env
        .gl(&fake)
        .args(["brag", "--user", "alice", "--quarter", "2026Q3", "--out"])
        .arg(&brag_path)
        .arg("--snapshot-out")
        .arg(&snapshot_path));
    run.success();
    let snapshot = read_snapshot(&snapshot_path);
    let markdown = read_text(&brag_path);
    let by_route = requests_by_route(&fake);
    let total_requests = fake.requests().len();
    println!("{}", table(&snapshot, total_requests, &by_route));
    println!("--- brag.md (head) ---");
    for line in markdown.lines().take(25) {
        println!("{line}");
    }
    println!("--- stderr ---\n{}", run.stderr);

    // Every kind, with exactly the items expected.
    for (kind, want) in EXPECTED_COUNTS {
        let got = kind_items(&snapshot, kind);
        assert_eq!(
            got.len(),
            want,
            "{kind} items: {:#?}",
            got.iter().map(|i| &i["title"]).collect::<Vec<_>>()
        );
    }
    assert_eq!(
        items(&snapshot).len(),
        EXPECTED_COUNTS.iter().map(|(_, n)| n).sum::<usize>(),
        "no item of another kind"
    );
    let got: BTreeSet<(String, String, String, String)> = items(&snapshot)
        .iter()
        .filter(|i| i["kind"] != "oncall_shift")
        .map(|i| {
            (
                str_of(i, "subject").to_string(),
                str_of(i, "kind").to_string(),
                str_of(i, "role").to_string(),
                str_of(i, "title").to_string(),
            )
        })
        .collect();
    let want = keys_for("alice", &ALICE_Q3);
    assert!(got == want, "harvest differs:\n{}", diff_keys(&got, &want));

    // What some items carry: comments, approvals, severities, children, confidentiality.
    let one = |kind: &str, title: &str| item(&snapshot, "alice", kind, title).clone();
    assert_eq!(one("review", THANOS)["comments"], 2);
    assert_eq!(one("review", THANOS)["approved"], true);
    assert_eq!(one("review", VPC)["comments"], 3);
    assert_eq!(one("review", PGBOUNCER)["approved"], true);
    assert_eq!(one("review", CELLS)["comments"], 5, "the Q4 comment is out");
    assert_eq!(
        one("incident", API_5XX)["severity"],
        2,
        "HIGH, from the field"
    );
    assert_eq!(one("incident", SIDEKIQ_BACKLOG)["severity"], 3, "MEDIUM");
    assert_eq!(one("incident", SIDEKIQ_BACKLOG)["comments"], 2);
    assert_eq!(one("incident", CACHE_EVICTIONS)["timeline_events"], 3);
    assert_eq!(one("incident", REPLICA_LAG)["timeline_events"], 1);
    assert_eq!(
        one("incident", REPLICA_LAG)["severity"],
        1,
        "from the severity::1 label"
    );
    assert_eq!(one("epic", DB_RESILIENCE)["child_count"], 15);
    assert_eq!(one("epic", RUNNER_COST)["child_count"], 6);
    assert_eq!(one("issue", DEPLOY_TOKEN)["confidential"], true);
    assert_eq!(
        one("merge_request", VAULT_TOKENS)["confidential"],
        true,
        "a private project"
    );
    let confidential: BTreeSet<&str> = items(&snapshot)
        .iter()
        .filter(|i| i["confidential"] == true)
        .map(|i| str_of(i, "title"))
        .collect();
    assert_eq!(
        confidential,
        BTreeSet::from([DEPLOY_TOKEN, VAULT_TOKENS]),
        "only the confidential issue and the private project's work"
    );

    // On-call shifts: hers, clipped to the period, in acme/production.
    let shifts: BTreeSet<(String, String, String)> = kind_items(&snapshot, "oncall_shift")
        .into_iter()
        .map(|i| {
            assert_eq!(i["title"], EOC, "{i:#}");
            assert_eq!(i["role"], "oncall", "{i:#}");
            assert_eq!(i["project"], PRODUCTION_PATH, "{i:#}");
            (
                canonical(&i["starts_at"]),
                canonical(&i["ends_at"]),
                format!("{:.2}", i["duration_hours"].as_f64().unwrap_or(-1.0)),
            )
        })
        .collect();
    let want_shifts: BTreeSet<(String, String, String)> = ALICE_SHIFTS
        .iter()
        .map(|(from, to, hours)| (from.to_string(), to.to_string(), format!("{hours:.2}")))
        .collect();
    assert_eq!(shifts, want_shifts, "alice's shifts over 2026Q3");

    // Every source ok, counting the items of its kind; events count the events read.
    for (kind, name) in SOURCE_OF {
        let s = source(&snapshot, name);
        assert_eq!(s["status"], "ok", "{s:#}");
        assert_eq!(
            s["items"],
            kind_items(&snapshot, kind).len(),
            "the {name} source counts its {kind} items: {s:#}"
        );
    }
    let events = source(&snapshot, "events");
    assert_eq!(events["status"], "ok", "{events:#}");
    let alice_events_in_q3 = data
        .events
        .iter()
        .filter(|e| e.author == "alice")
        .filter(|e| {
            let day = e.created_at.date_naive().to_string();
            day.as_str() > "2026-06-30" && day.as_str() < "2026-10-01"
        })
        .count();
    assert_eq!(events["items"], alice_events_in_q3, "{events:#}");
    for s in sources(&snapshot) {
        assert_eq!(s["status"], "ok", "every source is ok: {s:#}");
    }
    assert_eq!(sources(&snapshot).len(), 8, "{:#}", snapshot["sources"]);

    // Nothing of the near namesake's.
    let snapshot_text = read_text(&snapshot_path);
    for title in ALICE2_TITLES {
        assert!(
            !snapshot_text.contains(title),
            "alice2's {title:?} leaked into the snapshot"
        );
        assert!(
            !markdown.contains(title),
            "alice2's {title:?} leaked into the brag"
        );
    }
    assert!(
        !snapshot_text.contains("alice2") && !markdown.contains("alice2"),
        "`alice2` appears in the snapshot or the brag"
    );
    for i in items(&snapshot) {
        assert_eq!(i["subject"], "alice", "{i:#}");
    }

    // The brag: a summary line per kind with its count, and a linked title of each kind.
    let summary = summary_section(&markdown);
    for ((kind, count), (label_kind, label)) in EXPECTED_COUNTS.iter().zip(SUMMARY_LABEL) {
        assert_eq!(*kind, label_kind);
        let line = format!("- {count} {label}\n");
        assert!(
            summary.contains(&line),
            "the summary lacks {line:?} for {kind}:\n{summary}"
        );
    }
    let total = EXPECTED_COUNTS.iter().map(|(_, n)| n).sum::<usize>();
    assert!(
        summary.contains(&format!("**{total} items in total**")),
        "{summary}"
    );
    for (kind, _) in EXPECTED_COUNTS {
        let linked: Vec<&str> = kind_items(&snapshot, kind)
            .into_iter()
            .filter(|i| {
                markdown.contains(&format!(
                    "[{}]({})",
                    str_of(i, "title"),
                    str_of(i, "web_url")
                ))
            })
            .map(|i| str_of(i, "title"))
            .collect();
        assert!(
            !linked.is_empty(),
            "no {kind} title is linked in the brag:\n{markdown}"
        );
    }
    // Every kind has evidence for the framework, not only an appendix entry.
    for (kind, _) in EXPECTED_COUNTS {
        assert!(
            kind_items(&snapshot, kind)
                .iter()
                .any(|i| i["competencies"].as_array().is_some_and(|c| !c.is_empty())),
            "no {kind} item evidences a competency"
        );
    }
    assert!(!markdown.contains(TOKEN), "the token is never written");
    assert!(
        !markdown.contains("Warning: the harvest was incomplete"),
        "{markdown}"
    );
}

/// How long `serve_showcase_for_manual_tries` serves: ten minutes, or fewer seconds from
/// `SHOWCASE_SERVE_SECS` (never more than ten minutes).
fn serve_for() -> Duration {
    let max = 600;
    let secs = std::env::var("SHOWCASE_SERVE_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(max)
        .min(max);
    Duration::from_secs(secs)
}

#[test]
#[ignore = "serves the showcase for manual tries; run with --ignored --nocapture"]
fn serve_showcase_for_manual_tries() {
    let fake = FakeGitlab::start(everything(), Faults::default());
    let dir = tempfile::Builder::new()
        .prefix("gl-evidence-showcase-")
        .tempdir()
        .expect("temporary directory");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, showcase_config()).expect("write config");
    let out = |name: &str| dir.path().join(name).display().to_string();
    let config = config.display().to_string();
    let env = format!("GITLAB_URL={} GITLAB_TOKEN={TOKEN}", fake.url);
    let limit = serve_for();

    println!();
    println!("Fake GitLab serving the showcase at {}", fake.url);
    println!("token: {TOKEN}   config: {config}");
    println!(
        "It stops by itself in {} s (or when this test is interrupted).",
        limit.as_secs()
    );
    println!();
    println!("In another terminal:");
    println!();
    println!("cd {}", env!("CARGO_MANIFEST_DIR"));
    println!(
        "{env} cargo run -- --config {config} brag --user alice --quarter 2026Q3 --out {} --snapshot-out {}",
        out("brag.md"),
        out("snapshot.json")
    );
    println!("less {}", out("brag.md"));
    println!(
        "{env} cargo run -- --config {config} harvest --user alice --quarter 2026Q3 --out {}",
        out("alice.json")
    );
    println!(
        "cargo run -- explain {} {}/acme/gitlab/-/merge_requests/101",
        out("snapshot.json"),
        fake.url
    );
    println!(
        "{env} cargo run -- --config {config} harvest --user alice --user bob --quarter 2026Q3 --out {}",
        out("team.json")
    );
    println!();

    let started = Instant::now();
    let mut seen = 0;
    while started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(500));
        let now = fake.requests().len();
        if now != seen {
            println!(
                "[{:>4} s] the fake has answered {now} requests",
                started.elapsed().as_secs()
            );
            seen = now;
        }
    }
    println!(
        "Stopping after {} s; {seen} requests answered.",
        limit.as_secs()
    );
}
