//! A fake GitLab on loopback that the tests point the real `gl-evidence` binary at.
//!
//! It serves a [`Dataset`] through exactly the requests the client is meant to make (user lookup,
//! user events, the token owner, and GraphQL operations answered by `operationName`), with
//! GitLab's headers and quirks: offset paging with `x-next-page`/`Link` (and `x-total` omitted
//! past 10,000 rows), `RateLimit-*` on every answer, exclusive `after`/`before` dates on events
//! (and, on request, the three-year retention that deletes older ones), inclusive
//! `createdBefore` on merge requests and issues, GraphQL cursor paging capped at 100 per page.
//! Issues of every type (incidents, tasks, test cases, …) live in one list, as in GitLab, and
//! are served by the top-level `issues` and `Project.issues` connections; REST lists, creates
//! and updates project issues (`fake_gitlab/project_issues.rs`), for publishing reports.
//! GraphQL answers are cut down to exactly what the query document selects (aliases and
//! fragments included); a selected field the fake does not know is an error naming it, so a
//! changed query shows at once where the fake must grow. Anything else gets GitLab's
//! `404 Not Found` and is recorded, so a test can prove the client asked for nothing it should
//! not. [`Faults`] injects latency, 429s, 5xx, bodies cut off mid-transfer, GraphQL errors and
//! a path prefix, optionally only on chosen routes or operations.
//!
//! Each [`FakeGitlab`] runs its own tokio runtime on a background thread, because the tests
//! drive a separate process and block on it; dropping the handle stops the server.
//!
//! Shapes follow the real answers in `../shared/gitlab/fixtures/` (the events API, REST and
//! GraphQL errors, GraphQL connections); all data here is made up.

#![allow(dead_code)] // Not every test uses every knob.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{json, Value};

mod chaos;
mod complexity;
mod epics;
mod incidents;
mod oncall;
mod project_issues;

pub use chaos::{Chaos, ChaosFault, PagingFault};
use complexity::included;
pub use complexity::{complexity_score, GITLAB_COMPLEXITY_LIMIT};
pub use epics::{Epic, EpicEdition, GroupAccess};
pub use incidents::TimelineEvent;
pub use oncall::{oncall_window_accepted, OncallRotation, OncallSchedule};
pub use project_issues::RestIssue;

/// The token the fake accepts unless a test says otherwise.
pub const TOKEN: &str = "test-token";

/// Parses an RFC 3339 time written in a test (`"2026-07-03T10:00:00Z"`).
pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("bad time {text:?} in test data: {e}"))
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------------------------
// The data a fake instance holds.

#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub username: String,
    pub name: String,
    /// `active`, `blocked`, …
    pub state: String,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub id: u64,
    pub full_path: String,
    /// `public`, `internal` or `private`.
    pub visibility: String,
}

/// A requested reviewer and where their review stands.
#[derive(Debug, Clone)]
pub struct Reviewer {
    pub username: String,
    pub approved: bool,
    /// `MergeRequestReviewState`: `UNREVIEWED`, `REVIEWED`, `REQUESTED_CHANGES`, `APPROVED`, …
    pub review_state: String,
}

#[derive(Debug, Clone)]
pub struct MergeRequest {
    /// The global id (`gid://gitlab/MergeRequest/{id}`).
    pub id: u64,
    pub project_id: u64,
    pub iid: u64,
    pub title: String,
    pub description: Option<String>,
    pub author: String,
    pub reviewers: Vec<Reviewer>,
    pub approved_by: Vec<String>,
    pub labels: Vec<String>,
    /// `opened`, `merged`, `closed` or `locked`.
    pub state: String,
    pub draft: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub merged_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub additions: u64,
    pub deletions: u64,
    pub file_count: u64,
    /// Paths the diff touches; synthetic ones (`file-1.txt`, …) when empty.
    pub paths: Vec<String>,
}

impl MergeRequest {
    /// An open merge request, last updated when it was created.
    pub fn new(
        id: u64,
        project_id: u64,
        iid: u64,
        title: &str,
        author: &str,
        created: &str,
    ) -> Self {
        let created_at = at(created);
        MergeRequest {
            id,
            project_id,
            iid,
            title: title.to_string(),
            description: Some(format!("Description of {title}.")),
            author: author.to_string(),
            reviewers: Vec::new(),
            approved_by: Vec::new(),
            labels: Vec::new(),
            state: "opened".to_string(),
            draft: title.starts_with("Draft:"),
            created_at,
            updated_at: created_at,
            merged_at: None,
            closed_at: None,
            additions: 10,
            deletions: 2,
            file_count: 1,
            paths: Vec::new(),
        }
    }

    /// Merged (and so closed to change) at `when`; updated then too.
    pub fn merged(mut self, when: &str) -> Self {
        let t = at(when);
        self.state = "merged".to_string();
        self.merged_at = Some(t);
        self.updated_at = self.updated_at.max(t);
        self
    }

    /// Closed without merging at `when`.
    pub fn closed(mut self, when: &str) -> Self {
        let t = at(when);
        self.state = "closed".to_string();
        self.closed_at = Some(t);
        self.updated_at = self.updated_at.max(t);
        self
    }

    /// Touched later (a label, a late comment) without changing state.
    pub fn updated(mut self, when: &str) -> Self {
        self.updated_at = at(when);
        self
    }

    pub fn reviewer(mut self, username: &str, approved: bool, review_state: &str) -> Self {
        self.reviewers.push(Reviewer {
            username: username.to_string(),
            approved,
            review_state: review_state.to_string(),
        });
        self
    }

    pub fn approved_by(mut self, username: &str) -> Self {
        self.approved_by.push(username.to_string());
        self
    }

    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.labels = labels.iter().map(|l| l.to_string()).collect();
        self
    }

    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }

    pub fn stats(mut self, additions: u64, deletions: u64, file_count: u64) -> Self {
        self.additions = additions;
        self.deletions = deletions;
        self.file_count = file_count;
        self
    }

    /// The files the diff touches (also sets the file count).
    pub fn paths(mut self, paths: &[&str]) -> Self {
        self.paths = paths.iter().map(|p| p.to_string()).collect();
        self.file_count = paths.len() as u64;
        self
    }

    /// Per-file stats, splitting the totals over the files.
    fn diff_stats(&self) -> Vec<(String, u64, u64)> {
        let paths: Vec<String> = if self.paths.is_empty() {
            (1..=self.file_count)
                .map(|i| format!("file-{i}.txt"))
                .collect()
        } else {
            self.paths.clone()
        };
        let n = paths.len().max(1) as u64;
        paths
            .into_iter()
            .enumerate()
            .map(|(i, path)| {
                let share = |total: u64| total / n + u64::from((i as u64) < total % n);
                (path, share(self.additions), share(self.deletions))
            })
            .collect()
    }

    pub fn gid(&self) -> String {
        format!("gid://gitlab/MergeRequest/{}", self.id)
    }
}

/// An issue of any type (`ISSUE`, `INCIDENT`, `TASK`, `TEST_CASE`, …): GitLab keeps them all in
/// one table and serves them through the same `issues` connections.
#[derive(Debug, Clone)]
pub struct Issue {
    /// The global id (`gid://gitlab/Issue/{id}`); events call it `target_id`.
    pub id: u64,
    pub project_id: u64,
    pub iid: u64,
    pub title: String,
    pub description: Option<String>,
    /// GraphQL `IssueType`: `ISSUE`, `INCIDENT`, `TASK`, `TEST_CASE`, `REQUIREMENT`, …
    pub issue_type: String,
    pub author: String,
    pub assignees: Vec<String>,
    pub labels: Vec<String>,
    /// `opened` or `closed`.
    pub state: String,
    pub confidential: bool,
    /// `IssuableSeverity` as set; GitLab answers `UNKNOWN` for any issue without one.
    pub severity: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Issue {
    /// An open plain issue (type `ISSUE`), last updated when it was created.
    pub fn new(
        id: u64,
        project_id: u64,
        iid: u64,
        title: &str,
        author: &str,
        created: &str,
    ) -> Self {
        let created_at = at(created);
        Issue {
            id,
            project_id,
            iid,
            title: title.to_string(),
            description: Some(format!("Description of {title}.")),
            issue_type: "ISSUE".to_string(),
            author: author.to_string(),
            assignees: Vec::new(),
            labels: Vec::new(),
            state: "opened".to_string(),
            confidential: false,
            severity: None,
            created_at,
            updated_at: created_at,
            closed_at: None,
        }
    }

    /// The same, of another `IssueType` (`INCIDENT`, `TASK`, `TEST_CASE`, …).
    pub fn of_type(mut self, issue_type: &str) -> Self {
        self.issue_type = issue_type.to_string();
        self
    }

    /// Closed at `when`; updated then too.
    pub fn closed(mut self, when: &str) -> Self {
        let t = at(when);
        self.state = "closed".to_string();
        self.closed_at = Some(t);
        self.updated_at = self.updated_at.max(t);
        self
    }

    /// Touched later (a comment, a label) without changing state.
    pub fn updated(mut self, when: &str) -> Self {
        self.updated_at = at(when);
        self
    }

    pub fn assignee(mut self, username: &str) -> Self {
        self.assignees.push(username.to_string());
        self
    }

    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.labels = labels.iter().map(|l| l.to_string()).collect();
        self
    }

    pub fn confidential(mut self) -> Self {
        self.confidential = true;
        self
    }

    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW` or `UNKNOWN`.
    pub fn severity(mut self, severity: &str) -> Self {
        self.severity = Some(severity.to_string());
        self
    }

    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }

    pub fn gid(&self) -> String {
        format!("gid://gitlab/Issue/{}", self.id)
    }
}

/// What a comment was left on.
#[derive(Debug, Clone)]
pub enum Noteable {
    MergeRequest { id: u64, iid: u64 },
    Issue { id: u64, iid: u64 },
}

#[derive(Debug, Clone)]
pub enum EventAction {
    /// `action_name: "commented on"`, target a `Note` or (`diff`) a `DiffNote`.
    Comment {
        note_id: u64,
        body: String,
        noteable: Noteable,
        diff: bool,
    },
    /// `action_name: "approved"`, target the merge request.
    Approved {
        target_id: u64,
        target_iid: u64,
        title: String,
    },
    /// `action_name: "closed"`, target an issue (`"Issue"`, incidents included) or a merge
    /// request (`"MergeRequest"`).
    Closed {
        target_type: &'static str,
        target_id: u64,
        target_iid: u64,
        title: String,
    },
}

/// One entry of a user's contribution events (`GET /users/:id/events`).
#[derive(Debug, Clone)]
pub struct Event {
    /// Assigned by [`Dataset::event`] when 0, in insertion order (GitLab sorts events by id).
    pub id: u64,
    pub project_id: u64,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub action: EventAction,
}

impl Event {
    /// A general comment on a merge request.
    pub fn comment(author: &str, mr: &MergeRequest, when: &str, body: &str) -> Self {
        Self::note(author, mr, when, body, false)
    }

    /// A review comment on a merge request's diff.
    pub fn diff_comment(author: &str, mr: &MergeRequest, when: &str, body: &str) -> Self {
        Self::note(author, mr, when, body, true)
    }

    fn note(author: &str, mr: &MergeRequest, when: &str, body: &str, diff: bool) -> Self {
        Event {
            id: 0,
            project_id: mr.project_id,
            author: author.to_string(),
            created_at: at(when),
            action: EventAction::Comment {
                note_id: 0,
                body: body.to_string(),
                noteable: Noteable::MergeRequest {
                    id: mr.id,
                    iid: mr.iid,
                },
                diff,
            },
        }
    }

    /// A comment on an issue (not review evidence).
    pub fn issue_comment(
        author: &str,
        project_id: u64,
        issue_id: u64,
        issue_iid: u64,
        when: &str,
        body: &str,
    ) -> Self {
        Event {
            id: 0,
            project_id,
            author: author.to_string(),
            created_at: at(when),
            action: EventAction::Comment {
                note_id: 0,
                body: body.to_string(),
                noteable: Noteable::Issue {
                    id: issue_id,
                    iid: issue_iid,
                },
                diff: false,
            },
        }
    }

    /// A comment on an issue or incident of the dataset.
    pub fn comment_on_issue(author: &str, issue: &Issue, when: &str, body: &str) -> Self {
        Self::issue_comment(author, issue.project_id, issue.id, issue.iid, when, body)
    }

    /// Closing an issue (or incident, task, …).
    pub fn closed_issue(author: &str, issue: &Issue, when: &str) -> Self {
        Event {
            id: 0,
            project_id: issue.project_id,
            author: author.to_string(),
            created_at: at(when),
            action: EventAction::Closed {
                target_type: "Issue",
                target_id: issue.id,
                target_iid: issue.iid,
                title: issue.title.clone(),
            },
        }
    }

    /// Closing a merge request without merging it.
    pub fn closed_mr(author: &str, mr: &MergeRequest, when: &str) -> Self {
        Event {
            id: 0,
            project_id: mr.project_id,
            author: author.to_string(),
            created_at: at(when),
            action: EventAction::Closed {
                target_type: "MergeRequest",
                target_id: mr.id,
                target_iid: mr.iid,
                title: mr.title.clone(),
            },
        }
    }

    pub fn approved(author: &str, mr: &MergeRequest, when: &str) -> Self {
        Event {
            id: 0,
            project_id: mr.project_id,
            author: author.to_string(),
            created_at: at(when),
            action: EventAction::Approved {
                target_id: mr.id,
                target_iid: mr.iid,
                title: mr.title.clone(),
            },
        }
    }
}

/// Everything a fake instance knows.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub users: Vec<User>,
    pub projects: Vec<Project>,
    pub merge_requests: Vec<MergeRequest>,
    pub events: Vec<Event>,
    /// Who `GET /user` says owns the token; the first user when unset.
    pub token_owner: Option<String>,
    /// Issues, incidents, tasks and other issue types.
    pub issues: Vec<Issue>,
    /// When set, the events API forgets events older than this many years before now, as
    /// GitLab does after three; off by default so dated test data never expires.
    pub event_retention_years: Option<u32>,
    /// On-call schedules, their rotations and shifts (a Premium feature).
    pub oncall_schedules: Vec<OncallSchedule>,
    /// The instance's time zone as hours from UTC (0: UTC, GitLab's default).
    pub time_zone_offset_hours: i32,
    /// Groups, epics and which epics API the instance has (`fake_gitlab/epics.rs`).
    pub epic_data: epics::EpicData,
    /// `GET /groups/:id/members/all`, by group path.
    pub group_members: BTreeMap<String, Vec<GroupMember>>,
    /// Entries of incidents' timelines (`fake_gitlab/incidents.rs`).
    pub timeline_events: Vec<TimelineEvent>,
}

/// A member as `/groups/:id/members/all` lists them.
#[derive(Debug, Clone)]
pub struct GroupMember {
    pub id: u64,
    pub username: String,
    /// `active`, `blocked`, …
    pub state: String,
    /// `active`, or `awaiting` for an invitation not yet accepted.
    pub membership_state: String,
    /// Newer servers say `bot: true` for bot users; older ones say nothing.
    pub bot: Option<bool>,
}

impl GroupMember {
    pub fn new(id: u64, username: &str) -> Self {
        GroupMember {
            id,
            username: username.to_string(),
            state: "active".into(),
            membership_state: "active".into(),
            bot: None,
        }
    }
}

impl Dataset {
    pub fn new() -> Self {
        Self::default()
    }

    /// Lists `member` among the direct or inherited members of group `path`.
    pub fn member(mut self, path: &str, member: GroupMember) -> Self {
        self.group_members
            .entry(path.to_string())
            .or_default()
            .push(member);
        self
    }

    pub fn user(mut self, id: u64, username: &str, name: &str) -> Self {
        self.users.push(User {
            id,
            username: username.to_string(),
            name: name.to_string(),
            state: "active".to_string(),
        });
        self
    }

    pub fn project(mut self, id: u64, full_path: &str, visibility: &str) -> Self {
        self.projects.push(Project {
            id,
            full_path: full_path.to_string(),
            visibility: visibility.to_string(),
        });
        self
    }

    pub fn mr(mut self, mr: MergeRequest) -> Self {
        assert!(
            self.projects.iter().any(|p| p.id == mr.project_id),
            "test data: MR {:?} names unknown project {}",
            mr.title,
            mr.project_id
        );
        self.merge_requests.push(mr);
        self
    }

    pub fn issue(mut self, issue: Issue) -> Self {
        assert!(
            self.projects.iter().any(|p| p.id == issue.project_id),
            "test data: issue {:?} names unknown project {}",
            issue.title,
            issue.project_id
        );
        assert!(
            !self
                .issues
                .iter()
                .any(|i| i.id == issue.id || (i.project_id, i.iid) == (issue.project_id, issue.iid)),
            "test data: issue {:?} reuses an id or iid",
            issue.title
        );
        self.issues.push(issue);
        self
    }

    pub fn timeline_event(mut self, event: TimelineEvent) -> Self {
        assert!(
            self.issues
                .iter()
                .any(|i| i.id == event.incident_id && i.issue_type == "INCIDENT"),
            "test data: timeline event {} names no incident",
            event.id
        );
        self.timeline_events.push(event);
        self
    }

    /// GitLab's events retention: events older than `years` before now are gone.
    pub fn event_retention(mut self, years: u32) -> Self {
        self.event_retention_years = Some(years);
        self
    }

    pub fn event(mut self, mut event: Event) -> Self {
        if event.id == 0 {
            event.id = 70_000 + self.events.len() as u64;
        }
        if let EventAction::Comment { note_id, .. } = &mut event.action {
            if *note_id == 0 {
                *note_id = 900_000 + event.id;
            }
        }
        self.events.push(event);
        self
    }

    pub fn token_owner(mut self, username: &str) -> Self {
        self.token_owner = Some(username.to_string());
        self
    }

    /// The merge request with this title (test data helper).
    pub fn mr_titled(&self, title: &str) -> &MergeRequest {
        self.merge_requests
            .iter()
            .find(|m| m.title == title)
            .unwrap_or_else(|| panic!("no MR titled {title:?} in the dataset"))
    }

    /// The issue with this title (test data helper).
    pub fn issue_titled(&self, title: &str) -> &Issue {
        self.issues
            .iter()
            .find(|i| i.title == title)
            .unwrap_or_else(|| panic!("no issue titled {title:?} in the dataset"))
    }

    /// GitLab matches usernames case-insensitively.
    fn user_named(&self, username: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    fn project_by_id(&self, id: u64) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }
}

// ---------------------------------------------------------------------------------------------
// Faults.

/// A GraphQL answer that is not the data asked for.
#[derive(Debug, Clone)]
pub enum GraphqlFault {
    /// What a CE or older server says about a field its schema lacks (HTTP 200, no `data`).
    UndefinedField { type_name: String, field: String },
    /// The complexity limit (HTTP 200, no `data`).
    Complexity { score: u32, limit: u32 },
    /// GitLab's complexity limit, enforced: a query scored over `limit` as GitLab scores it
    /// (`fake_gitlab/complexity.rs`; GitLab's own limit is [`GITLAB_COMPLEXITY_LIMIT`]) gets
    /// the complexity error, others their data.
    ComplexityLimit { limit: u32 },
    /// The data, plus an `errors` entry saying part of it could not be resolved.
    PartialData { message: String },
}

/// What can go wrong, on demand. `Faults::default()` is a healthy instance at the root.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Time from a request's arrival to its answer, the fake's own work included.
    pub latency_ms: u64,
    /// The first N targeted requests get `500 Internal Server Error` (after any 429s).
    pub fail_first_n_with_5xx: usize,
    /// The first N targeted requests get `429 Too Many Requests` with `Retry-After`.
    pub fail_first_n_with_429: usize,
    /// The `Retry-After` sent with a 429, in seconds.
    pub retry_after_secs: u64,
    /// The Nth targeted request (1-based) has its body cut off halfway: the server sends part
    /// of it and then drops the connection, as a proxy dying mid-answer would.
    pub truncate_body_on_request: Option<usize>,
    /// A prefix such as `/gitlab`, emulating an instance served under a path; requests
    /// outside it get 404.
    pub base_path: String,
    /// The only token accepted.
    pub required_token: String,
    /// When not empty, 429/5xx/truncation/GraphQL faults hit only requests whose path contains
    /// one of these or whose GraphQL `operationName` equals one (`"/events"`,
    /// `"AuthoredMergeRequests"`); the counts above count those requests only.
    pub targets: Vec<String>,
    /// Behave as if every list held more than 10,000 rows: no `x-total`, `x-total-pages` or
    /// `rel="last"`, as GitLab does past that count.
    pub hide_totals: bool,
    /// Answer targeted GraphQL requests with this instead of (or beside) the data.
    pub graphql: Option<GraphqlFault>,
    /// The token has `read_api` only: REST writes get `403 insufficient_scope`.
    pub read_only_token: bool,
    /// Enforce a rate limit on every request, as Rack::Attack does on GitLab.com.
    pub rate_limit: Option<RateLimit>,
    /// Seeded random faults on a share of the targeted requests (`fake_gitlab/chaos.rs`).
    pub chaos: Option<Chaos>,
    /// Targeted REST lists repeat themselves: every page asked for gets the first page's rows,
    /// and the headers always announce one more page (no totals), as a proxy that drops the
    /// query string would answer.
    pub repeat_rest_page: bool,
    /// Targeted GraphQL connections page wrongly (see [`PagingFault`]).
    pub graphql_paging: Option<PagingFault>,
}

/// At most `limit` requests per window of `window_secs`, windows aligned to the epoch (as
/// Rack::Attack's fixed windows are); more get `429` with `Retry-After` until the next window.
/// Every answer carries `RateLimit-Limit`, `-Remaining` and `-Reset` for the window.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub limit: usize,
    pub window_secs: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency_ms: 0,
            fail_first_n_with_5xx: 0,
            fail_first_n_with_429: 0,
            retry_after_secs: 1,
            truncate_body_on_request: None,
            base_path: String::new(),
            required_token: TOKEN.to_string(),
            targets: Vec::new(),
            hide_totals: false,
            graphql: None,
            read_only_token: false,
            rate_limit: None,
            chaos: None,
            repeat_rest_page: false,
            graphql_paging: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The recorded traffic.

/// One request as the fake received it, with the status it answered.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// As received, including any base path.
    pub path: String,
    /// The raw query string (`""` when absent).
    pub query: String,
    /// The GraphQL `operationName`, for GraphQL requests.
    pub operation: Option<String>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status answered; 0 when the connection was reset instead.
    pub status: u16,
    /// When it arrived.
    pub at: Instant,
    /// When its answer was ready (after any injected latency).
    pub done: Instant,
    /// Under a [`RateLimit`]: the window the request was counted in.
    pub window: Option<u64>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A decoded query-string parameter (the first, when repeated).
    pub fn param(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The GraphQL `variables`, for GraphQL requests.
    pub fn variables(&self) -> Option<Value> {
        let body: Value = serde_json::from_str(&self.body).ok()?;
        body.get("variables").cloned()
    }

    pub fn is_graphql(&self) -> bool {
        self.path.ends_with("/api/graphql")
    }
}

// ---------------------------------------------------------------------------------------------
// The server.

/// A running fake instance; stops when dropped.
pub struct FakeGitlab {
    /// The instance URL to hand to the client, with the base path (no trailing slash).
    pub url: String,
    live: Arc<Live>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// The instance as requests find it: its data can be replaced between runs
/// ([`FakeGitlab::replace_data`]); each request works on the data current when it arrived.
struct Live {
    current: RwLock<Arc<Shared>>,
}

struct Shared {
    data: Dataset,
    faults: Faults,
    /// Scheme, host and port: `Link` headers are absolute.
    origin: String,
    /// `origin` plus the base path: what `web_url`s start with.
    url: String,
    state: Arc<Mutex<Traffic>>,
    /// Project issues over REST, created and updated by requests (`fake_gitlab/project_issues.rs`).
    issues: Arc<Mutex<project_issues::Store>>,
}

#[derive(Default)]
struct Traffic {
    requests: Vec<RecordedRequest>,
    /// Requests the faults apply to, so far.
    targeted: usize,
    /// Under a [`RateLimit`]: the current window's number and the requests counted in it.
    window: (u64, usize),
    /// Attempts so far at each distinct request, for [`Chaos`].
    attempts: BTreeMap<String, usize>,
    /// The faults [`Chaos`] dealt, when it decided (a slow answer the client gave up on is
    /// never recorded as a request).
    chaos_hits: Vec<ChaosFault>,
}

impl FakeGitlab {
    pub fn start(data: Dataset, faults: Faults) -> FakeGitlab {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr: SocketAddr = listener.local_addr().expect("local address");
        let origin = format!("http://{addr}");
        let base = faults.base_path.trim_end_matches('/').to_string();
        assert!(
            base.is_empty() || base.starts_with('/'),
            "base_path must start with '/': {base:?}"
        );
        let url = format!("{origin}{base}");
        let shared = Arc::new(Shared {
            issues: Arc::new(Mutex::new(project_issues::Store::from_dataset(&data))),
            data,
            faults,
            origin,
            url: url.clone(),
            state: Arc::new(Mutex::new(Traffic::default())),
        });
        let live = Arc::new(Live {
            current: RwLock::new(shared),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new().fallback(handle).with_state(Arc::clone(&live));
        let app = app.into_make_service_with_connect_info::<chaos::Conn>();
        let thread = std::thread::Builder::new()
            .name(format!("fake-gitlab-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                runtime.block_on(async move {
                    let listener = chaos::ResettableListener(
                        tokio::net::TcpListener::from_std(listener).expect("tokio listener"),
                    );
                    tokio::select! {
                        result = axum::serve(listener, app) => {
                            if let Err(e) = result {
                                eprintln!("fake GitLab stopped: {e}");
                            }
                        }
                        _ = stopped => {}
                    }
                });
                // Connections the client left open must not keep the test waiting.
                runtime.shutdown_timeout(Duration::from_millis(100));
            })
            .expect("spawn fake GitLab thread");
        FakeGitlab {
            url,
            live,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.live.current.read().unwrap())
    }

    /// The data the instance serves now.
    pub fn data(&self) -> Dataset {
        self.shared().data.clone()
    }

    /// Replaces the data the instance serves, as if people had worked since (new merge
    /// requests, comments, edits); the traffic recorded so far and the REST issues are kept.
    pub fn replace_data(&self, data: Dataset) {
        let mut current = self.live.current.write().unwrap();
        let old = Arc::clone(&current);
        *current = Arc::new(Shared {
            data,
            faults: old.faults.clone(),
            origin: old.origin.clone(),
            url: old.url.clone(),
            state: Arc::clone(&old.state),
            issues: Arc::clone(&old.issues),
        });
    }

    /// Replaces the faults, as if the instance recovered (or broke) between runs; the data and
    /// the traffic recorded so far are kept, the targeted requests counted so far still count,
    /// and the base path stays the one the instance started with.
    pub fn replace_faults(&self, faults: Faults) {
        let mut current = self.live.current.write().unwrap();
        let old = Arc::clone(&current);
        *current = Arc::new(Shared {
            data: old.data.clone(),
            faults,
            origin: old.origin.clone(),
            url: old.url.clone(),
            state: Arc::clone(&old.state),
            issues: Arc::clone(&old.issues),
        });
    }

    /// Everything received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared().state.lock().unwrap().requests.clone()
    }

    /// The faults [`Chaos`] dealt so far, in order.
    pub fn chaos_hits(&self) -> Vec<ChaosFault> {
        self.shared().state.lock().unwrap().chaos_hits.clone()
    }

    /// Received GraphQL requests for one operation.
    pub fn graphql_requests(&self, operation: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.operation.as_deref() == Some(operation))
            .collect()
    }

    /// The project issues the REST API holds now, those created by requests included.
    pub fn rest_issues(&self) -> Vec<RestIssue> {
        self.shared().issues.lock().unwrap().issues.clone()
    }

    /// Changes a project issue in place, as a person in the web UI would.
    pub fn edit_rest_issue(&self, project_id: u64, iid: u64, edit: impl FnOnce(&mut RestIssue)) {
        let shared = self.shared();
        let mut store = shared.issues.lock().unwrap();
        let issue = store
            .issues
            .iter_mut()
            .find(|i| i.project_id == project_id && i.iid == iid)
            .unwrap_or_else(|| panic!("no issue {project_id}#{iid} in the fake"));
        edit(issue);
    }

    /// Received requests whose path contains `fragment`.
    pub fn requests_to(&self, fragment: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.contains(fragment))
            .collect()
    }
}

impl Drop for FakeGitlab {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The body of an answer: whole, or cut off after some bytes (a dropped connection).
enum Payload {
    Whole(Vec<u8>),
    Cut(Vec<u8>),
}

struct Answer {
    status: StatusCode,
    headers: Vec<(String, String)>,
    content_type: &'static str,
    payload: Payload,
}

impl Answer {
    fn json(status: StatusCode, value: &Value) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            content_type: "application/json",
            payload: Payload::Whole(serde_json::to_vec(value).expect("json")),
        }
    }

    fn not_found() -> Answer {
        Answer::json(StatusCode::NOT_FOUND, &json!({"message": "404 Not Found"}))
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Answer {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

async fn handle(State(live): State<Arc<Live>>, request: Request) -> Response {
    let shared = Arc::clone(&live.current.read().unwrap());
    let arrived = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let headers = request.headers().clone();
    let conn = request
        .extensions()
        .get::<axum::extract::ConnectInfo<chaos::Conn>>()
        .map(|info| info.0.clone());
    let body = axum::body::to_bytes(request.into_body(), 16 * 1024 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let operation = if path.ends_with("/api/graphql") {
        graphql_operation_name(&body)
    } else {
        None
    };

    let targets = &shared.faults.targets;
    let targeted = targets.is_empty()
        || targets
            .iter()
            .any(|t| path.contains(t.as_str()) || operation.as_deref() == Some(t.as_str()));
    let request_key = format!("{method} {path}?{query} {body}");
    let (nth_targeted, request_count, attempt) = {
        let mut traffic = shared.state.lock().unwrap();
        if targeted {
            traffic.targeted += 1;
        }
        let attempts = traffic.attempts.entry(request_key.clone()).or_default();
        let attempt = *attempts;
        *attempts += 1;
        (traffic.targeted, traffic.requests.len() + 1, attempt)
    };
    let chaos = match &shared.faults.chaos {
        Some(chaos) if targeted => chaos.decide(&request_key, attempt),
        _ => None,
    };
    if let Some(fault) = chaos {
        shared.state.lock().unwrap().chaos_hits.push(fault);
    }
    if let Some(ChaosFault::Slow { ms }) = chaos {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    // A repeating server answers the first page whatever was asked (and says there is more).
    let repeat_rest = targeted
        && shared.faults.repeat_rest_page
        && method == Method::GET
        && path.contains("/api/v4/");
    let (claimed_page, route_query) = if repeat_rest {
        chaos::first_page_query(&query)
    } else {
        (0, query.clone())
    };
    let paging = shared.faults.graphql_paging.filter(|_| targeted);
    let route_body = match paging {
        Some(_) if operation.is_some() => chaos::without_cursor(&body),
        _ => body.clone(),
    };

    let limited = shared.faults.rate_limit.map(|rate| {
        let now = Utc::now();
        let secs = now.timestamp() as u64;
        let number = secs / rate.window_secs;
        let reset = (number + 1) * rate.window_secs;
        let mut traffic = shared.state.lock().unwrap();
        if traffic.window.0 != number {
            traffic.window = (number, 0);
        }
        let allowed = traffic.window.1 < rate.limit;
        if allowed {
            traffic.window.1 += 1;
        }
        let remaining = rate.limit - traffic.window.1;
        // Whole seconds until the window ends, rounded up, as GitLab's Retry-After.
        let wait = (reset as f64 - now.timestamp_millis() as f64 / 1000.0).ceil() as u64;
        (allowed, rate.limit, remaining, reset, wait.max(1), number)
    });
    let mut answer = if let Some((false, limit, _, reset, wait, _)) = limited {
        rate_limited(limit, reset, wait)
    } else if let (Some(chaos), Some(fault)) = (&shared.faults.chaos, chaos) {
        match fault {
            ChaosFault::ServerError => chaos.server_error(&request_key, attempt),
            ChaosFault::TooManyRequests => too_many_requests(&shared),
            ChaosFault::NotJson => chaos::html_page(),
            ChaosFault::WrongShape => {
                Answer::json(StatusCode::OK, &json!({"unexpected": "an object"}))
            }
            _ => route(
                &shared,
                &method,
                &path,
                &route_query,
                &headers,
                &route_body,
                operation.as_deref(),
                targeted,
            ),
        }
    } else if targeted && nth_targeted <= shared.faults.fail_first_n_with_429 {
        too_many_requests(&shared)
    } else if targeted
        && nth_targeted
            <= shared
                .faults
                .fail_first_n_with_429
                .saturating_add(shared.faults.fail_first_n_with_5xx)
    {
        Answer::json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"message": "500 Internal Server Error"}),
        )
    } else {
        route(
            &shared,
            &method,
            &path,
            &route_query,
            &headers,
            &route_body,
            operation.as_deref(),
            targeted,
        )
    };
    if let Some((true, limit, remaining, reset, _, _)) = limited {
        answer = answer
            .header("ratelimit-limit", limit.to_string())
            .header("ratelimit-remaining", remaining.to_string())
            .header("ratelimit-reset", reset.to_string());
    }
    let cut = shared.faults.truncate_body_on_request == Some(nth_targeted)
        || chaos == Some(ChaosFault::CutBody);
    if targeted && cut {
        if let Payload::Whole(bytes) = answer.payload {
            answer.payload = Payload::Cut(bytes);
        }
    }
    if chaos == Some(ChaosFault::TruncatedJson) {
        chaos::truncate_json(&mut answer);
    }
    if repeat_rest {
        chaos::endless_page_headers(&mut answer, claimed_page);
    }
    if let Some(fault) = paging.filter(|_| operation.is_some()) {
        chaos::rewrite_page_info(&mut answer, fault, request_count);
    }
    let reset = chaos == Some(ChaosFault::Reset);
    if reset {
        if let Some(conn) = &conn {
            conn.reset();
        }
    }

    // The round trip takes the latency, the fake's own work included: with many requests in
    // flight, the answers computed in the meantime are not queued behind one another.
    if shared.faults.latency_ms > 0 {
        tokio::time::sleep_until(
            (arrived + Duration::from_millis(shared.faults.latency_ms)).into(),
        )
        .await;
    }
    shared.state.lock().unwrap().requests.push(RecordedRequest {
        method: method.to_string(),
        path,
        query,
        operation,
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        status: if reset { 0 } else { answer.status.as_u16() },
        at: arrived,
        done: Instant::now(),
        window: limited.map(|l| l.5),
    });
    respond(answer, request_count)
}

fn respond(answer: Answer, request_count: usize) -> Response {
    let mut builder = Response::builder()
        .status(answer.status)
        .header("content-type", answer.content_type);
    // GitLab.com's authenticated API limit; every answer says how much is left.
    let limit = 2000usize;
    let reset = Utc::now().timestamp() + 60;
    let is_429 = answer.status == StatusCode::TOO_MANY_REQUESTS;
    let remaining = if is_429 {
        0
    } else {
        limit.saturating_sub(request_count)
    };
    let defaults = [
        ("ratelimit-name", "throttle_authenticated_api".to_string()),
        ("ratelimit-limit", limit.to_string()),
        ("ratelimit-observed", request_count.min(limit).to_string()),
        ("ratelimit-remaining", remaining.to_string()),
        ("ratelimit-reset", reset.to_string()),
    ];
    // An answer's own figures (a rate limit under test, a 429's reset) win.
    for (name, value) in defaults {
        if !answer.headers.iter().any(|(n, _)| n == name) {
            builder = builder.header(name, value);
        }
    }
    for (name, value) in &answer.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match answer.payload {
        Payload::Whole(bytes) => Body::from(bytes),
        Payload::Cut(bytes) => {
            // Headers and half the body go out; then the connection dies mid-body.
            let half = Bytes::from(bytes[..bytes.len() / 2].to_vec());
            let stream = futures::stream::unfold(Some(half), |state| async move {
                match state {
                    Some(chunk) => Some((Ok(chunk), None)),
                    None => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        let cut = std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "fake GitLab cut the body short",
                        );
                        Some((Err::<Bytes, _>(cut), None))
                    }
                }
            });
            Body::from_stream(stream)
        }
    };
    builder.body(body).expect("response")
}

/// Refused by a [`RateLimit`]: the window is spent until `reset`.
fn rate_limited(limit: usize, reset: u64, wait: u64) -> Answer {
    Answer {
        status: StatusCode::TOO_MANY_REQUESTS,
        headers: vec![
            ("retry-after".to_string(), wait.to_string()),
            ("ratelimit-limit".to_string(), limit.to_string()),
            ("ratelimit-remaining".to_string(), "0".to_string()),
            ("ratelimit-reset".to_string(), reset.to_string()),
        ],
        content_type: "text/plain",
        payload: Payload::Whole(b"Retry later\n".to_vec()),
    }
}

fn too_many_requests(shared: &Shared) -> Answer {
    let retry_after = shared.faults.retry_after_secs;
    let reset_at = Utc::now() + chrono::Duration::seconds(retry_after as i64);
    Answer {
        status: StatusCode::TOO_MANY_REQUESTS,
        // As Rack::Attack does: the window resets when the client may retry.
        headers: vec![
            ("retry-after".to_string(), retry_after.to_string()),
            (
                "ratelimit-reset".to_string(),
                reset_at.timestamp().to_string(),
            ),
            (
                "ratelimit-resettime".to_string(),
                reset_at.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
            ),
        ],
        content_type: "text/plain",
        payload: Payload::Whole(b"Retry later\n".to_vec()),
    }
}

/// `operationName`, or the name after `query` in the document when the client left it out.
fn graphql_operation_name(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    if let Some(name) = value.get("operationName").and_then(Value::as_str) {
        return Some(name.to_string());
    }
    let text = value.get("query")?.as_str()?;
    let rest = text.trim_start().strip_prefix("query")?;
    let name: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The token a request carries: `PRIVATE-TOKEN`, `Authorization: Bearer` or (as GitLab also
/// allows, though a client should never) a `private_token`/`access_token` query parameter.
fn presented_token(headers: &HeaderMap, query: &str) -> Option<String> {
    if let Some(v) = headers.get("private-token").and_then(|v| v.to_str().ok()) {
        return Some(v.to_string());
    }
    if let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        if let Some(token) = v.strip_prefix("Bearer ") {
            return Some(token.to_string());
        }
    }
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "private_token" || k == "access_token")
        .map(|(_, v)| v.into_owned())
}

#[allow(clippy::too_many_arguments)]
fn route(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &str,
    operation: Option<&str>,
    targeted: bool,
) -> Answer {
    let base = shared.faults.base_path.trim_end_matches('/');
    let Some(rest) = path.strip_prefix(base) else {
        return Answer::not_found();
    };
    let authorised =
        presented_token(headers, query).as_deref() == Some(shared.faults.required_token.as_str());
    let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();

    if rest == "/api/graphql" && method == Method::POST {
        if !authorised {
            return Answer::json(
                StatusCode::UNAUTHORIZED,
                &json!({"errors": [{"message": "Invalid token"}]}),
            );
        }
        return graphql(shared, body, operation, targeted);
    }
    if let Some(api) = rest.strip_prefix("/api/v4/") {
        let segments: Vec<&str> = api.split('/').collect();
        if segments.first() == Some(&"projects") {
            if !authorised {
                return Answer::json(
                    StatusCode::UNAUTHORIZED,
                    &json!({"message": "401 Unauthorized"}),
                );
            }
            let request_url = format!("{}{}", shared.origin, path);
            if let Some(answer) =
                project_issues::route(shared, method, &segments, &params, body, &request_url)
            {
                return answer;
            }
        }
    }
    if method != Method::GET || !rest.starts_with("/api/v4/") {
        return Answer::not_found();
    }
    let segments: Vec<&str> = rest["/api/v4/".len()..].split('/').collect();
    let known = matches!(
        segments.as_slice(),
        ["user"] | ["users"] | ["users", _, "events"] | ["groups", _, "members", "all"]
    );
    if !known {
        return Answer::not_found();
    }
    if !authorised {
        return Answer::json(
            StatusCode::UNAUTHORIZED,
            &json!({"message": "401 Unauthorized"}),
        );
    }
    let request_url = format!("{}{}", shared.origin, path);
    match segments.as_slice() {
        ["user"] => token_owner(shared),
        ["users"] => users(shared, &params, &request_url),
        ["users", id, "events"] => events(shared, id, &params, &request_url),
        ["groups", group, "members", "all"] => group_members(shared, group, &params, &request_url),
        _ => Answer::not_found(),
    }
}

// ---------------------------------------------------------------------------------------------
// REST.

fn rest_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn user_json(shared: &Shared, user: &User) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "public_email": null,
        "name": user.name,
        "state": user.state,
        "locked": false,
        "avatar_url": format!("https://secure.gravatar.com/avatar/{}?s=80&d=identicon", user.id),
        "web_url": format!("{}/{}", shared.url, user.username),
    })
}

fn token_owner(shared: &Shared) -> Answer {
    let owner = match &shared.data.token_owner {
        Some(name) => shared.data.user_named(name),
        None => shared.data.users.first(),
    };
    let Some(owner) = owner else {
        return Answer::json(
            StatusCode::UNAUTHORIZED,
            &json!({"message": "401 Unauthorized"}),
        );
    };
    let mut value = user_json(shared, owner);
    let extra = json!({
        "created_at": "2020-01-06T09:00:00.000Z",
        "bio": "",
        "bot": false,
        "email": format!("{}@example.com", owner.username),
        "two_factor_enabled": true,
        "external": false,
        "private_profile": false,
    });
    value
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    Answer::json(StatusCode::OK, &value)
}

fn users(shared: &Shared, params: &BTreeMap<String, String>, request_url: &str) -> Answer {
    let Some(username) = params.get("username") else {
        // Listing every user is not something the client should do.
        return Answer::json(
            StatusCode::BAD_REQUEST,
            &json!({"error": "fake GitLab only answers GET /users?username="}),
        );
    };
    let rows: Vec<Value> = shared
        .data
        .user_named(username)
        .map(|u| user_json(shared, u))
        .into_iter()
        .collect();
    paginate(shared, rows, params, request_url)
}

const EVENT_ACTIONS: [&str; 12] = [
    "created",
    "updated",
    "closed",
    "reopened",
    "pushed",
    "commented",
    "merged",
    "joined",
    "left",
    "destroyed",
    "expired",
    "approved",
];
const EVENT_TARGET_TYPES: [(&str, &str); 7] = [
    ("issue", "Issue"),
    ("milestone", "Milestone"),
    ("merge_request", "MergeRequest"),
    ("note", "Note"),
    ("project", "Project"),
    ("snippet", "Snippet"),
    ("user", "User"),
];

/// `GET /groups/:id/members/all`: direct and inherited members, the id a URL-encoded path.
fn group_members(
    shared: &Shared,
    group: &str,
    params: &BTreeMap<String, String>,
    request_url: &str,
) -> Answer {
    let path = group.replace("%2F", "/").replace("%2f", "/");
    let Some(members) = shared.data.group_members.get(&path) else {
        return Answer::json(
            StatusCode::NOT_FOUND,
            &json!({"message": "404 Group Not Found"}),
        );
    };
    let rows: Vec<Value> = members
        .iter()
        .map(|m| {
            let user = shared.data.users.iter().find(|u| u.username == m.username);
            let mut row = json!({
                "id": user.map_or(m.id, |u| u.id),
                "username": m.username,
                "name": user.map_or_else(|| m.username.clone(), |u| u.name.clone()),
                "state": m.state,
                "access_level": 30,
                "membership_state": m.membership_state,
                "web_url": format!("{}/{}", shared.origin, m.username),
            });
            if let Some(bot) = m.bot {
                row["bot"] = json!(bot);
            }
            row
        })
        .collect();
    paginate(shared, rows, params, request_url)
}

fn events(
    shared: &Shared,
    id: &str,
    params: &BTreeMap<String, String>,
    request_url: &str,
) -> Answer {
    // `:id` is the id or the username (any case), as GitLab's `find_user` reads it.
    let user = match id.parse::<u64>() {
        Ok(id) => shared.data.users.iter().find(|u| u.id == id),
        Err(_) => shared.data.user_named(id),
    };
    let Some(user) = user else {
        return Answer::json(
            StatusCode::NOT_FOUND,
            &json!({"message": "404 User Not Found"}),
        );
    };
    let bad = |message: &str| Answer::json(StatusCode::BAD_REQUEST, &json!({"error": message}));
    let action = params.get("action").map(String::as_str);
    if let Some(a) = action {
        if !EVENT_ACTIONS.contains(&a) {
            return bad("action does not have a valid value");
        }
    }
    let target_type = match params.get("target_type") {
        None => None,
        Some(t) => match EVENT_TARGET_TYPES.iter().find(|(k, _)| k == t) {
            Some((_, class)) => Some(*class),
            None => return bad("target_type does not have a valid value"),
        },
    };
    let mut dates = [None, None];
    for (slot, name) in dates.iter_mut().zip(["after", "before"]) {
        if let Some(text) = params.get(name) {
            match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(d) => *slot = Some(d),
                Err(_) => return bad(&format!("{name} is invalid")),
            }
        }
    }
    let [after, before] = dates;
    let sort = params.get("sort").map(String::as_str).unwrap_or("desc");
    if sort != "asc" && sort != "desc" {
        return bad("sort does not have a valid value");
    }

    let mut selected: Vec<&Event> = shared
        .data
        .events
        .iter()
        .filter(|e| e.author.eq_ignore_ascii_case(&user.username))
        .filter(|e| {
            matches!(
                (action, &e.action),
                (None, _)
                    | (Some("commented"), EventAction::Comment { .. })
                    | (Some("approved"), EventAction::Approved { .. })
                    | (Some("closed"), EventAction::Closed { .. })
            )
        })
        // GitLab deletes events older than its retention (three years).
        .filter(|e| {
            shared.data.event_retention_years.is_none_or(|years| {
                Utc::now()
                    .date_naive()
                    .checked_sub_months(chrono::Months::new(12 * years))
                    .is_none_or(|horizon| e.created_at.date_naive() >= horizon)
            })
        })
        // Both dates are exclusive: events strictly after the end of `after` and strictly
        // before the start of `before`.
        .filter(|e| after.is_none_or(|d| e.created_at.date_naive() > d))
        .filter(|e| before.is_none_or(|d| e.created_at.date_naive() < d))
        .filter(|e| target_type.is_none_or(|t| event_target_type(e) == t))
        .collect();
    // GitLab orders events by id.
    selected.sort_by_key(|e| e.id);
    if sort == "desc" {
        selected.reverse();
    }
    paginate_rows(
        shared,
        &selected,
        |e| event_json(shared, user, e),
        params,
        request_url,
    )
}

fn event_target_type(event: &Event) -> &'static str {
    match &event.action {
        EventAction::Comment { diff: true, .. } => "DiffNote",
        EventAction::Comment { diff: false, .. } => "Note",
        EventAction::Approved { .. } => "MergeRequest",
        EventAction::Closed { target_type, .. } => target_type,
    }
}

fn event_json(shared: &Shared, user: &User, event: &Event) -> Value {
    let author = user_json(shared, user);
    let created = rest_time(event.created_at);
    match &event.action {
        EventAction::Comment {
            note_id,
            body,
            noteable,
            diff,
        } => {
            let (noteable_type, noteable_id, noteable_iid) = match noteable {
                Noteable::MergeRequest { id, iid } => ("MergeRequest", id, iid),
                Noteable::Issue { id, iid } => ("Issue", id, iid),
            };
            json!({
                "id": event.id,
                "project_id": event.project_id,
                "action_name": "commented on",
                "target_id": note_id,
                "target_iid": null,
                "target_type": event_target_type(event),
                "author_id": user.id,
                "target_title": null,
                "created_at": created,
                "note": {
                    "id": note_id,
                    "type": if *diff { json!("DiffNote") } else { Value::Null },
                    "body": body,
                    "attachment": null,
                    "author": author,
                    "created_at": created,
                    "updated_at": created,
                    "system": false,
                    "noteable_id": noteable_id,
                    "noteable_type": noteable_type,
                    "project_id": event.project_id,
                    "resolvable": *diff,
                    "confidential": false,
                    "internal": false,
                    "imported": false,
                    "imported_from": "none",
                    "noteable_iid": noteable_iid,
                    "commands_changes": {},
                },
                "author": author,
                "author_username": user.username,
                "imported": false,
                "imported_from": "none",
            })
        }
        EventAction::Approved {
            target_id,
            target_iid,
            title,
        } => json!({
            "id": event.id,
            "project_id": event.project_id,
            "action_name": "approved",
            "target_id": target_id,
            "target_iid": target_iid,
            "target_type": "MergeRequest",
            "author_id": user.id,
            "target_title": title,
            "created_at": created,
            "author": author,
            "author_username": user.username,
            "imported": false,
            "imported_from": "none",
        }),
        EventAction::Closed {
            target_type,
            target_id,
            target_iid,
            title,
        } => json!({
            "id": event.id,
            "project_id": event.project_id,
            "action_name": "closed",
            "target_id": target_id,
            "target_iid": target_iid,
            "target_type": target_type,
            "author_id": user.id,
            "target_title": title,
            "created_at": created,
            "author": author,
            "author_username": user.username,
            "imported": false,
            "imported_from": "none",
        }),
    }
}

/// GitLab's offset paging over a full list of rows, with its headers.
fn paginate(
    shared: &Shared,
    rows: Vec<Value>,
    params: &BTreeMap<String, String>,
    request_url: &str,
) -> Answer {
    paginate_rows(shared, &rows, Value::clone, params, request_url)
}

/// [`paginate`], turning only the page's rows into JSON: a benchmark reads thousands of rows,
/// and the fake should not be what it measures.
fn paginate_rows<T>(
    shared: &Shared,
    rows: &[T],
    to_json: impl Fn(&T) -> Value,
    params: &BTreeMap<String, String>,
    request_url: &str,
) -> Answer {
    let per_page = params
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(20)
        .min(100);
    let page = params
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    let total = rows.len();
    let total_pages = total.div_ceil(per_page).max(1);
    let start = (page - 1).saturating_mul(per_page).min(total);
    let end = (start + per_page).min(total);
    let body = Value::Array(rows[start..end].iter().map(to_json).collect());
    let hide_totals = shared.faults.hide_totals || total > 10_000;
    let has_next = end < total;

    let link_to = |n: usize| {
        let mut pairs: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k.as_str() != "page")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.push(("page".to_string(), n.to_string()));
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{request_url}?{query}")
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", link_to(page - 1)));
    }
    if has_next {
        links.push(format!("<{}>; rel=\"next\"", link_to(page + 1)));
    }
    links.push(format!("<{}>; rel=\"first\"", link_to(1)));
    if !hide_totals {
        links.push(format!("<{}>; rel=\"last\"", link_to(total_pages)));
    }

    let mut answer = Answer::json(StatusCode::OK, &body)
        .header("x-page", page.to_string())
        .header("x-per-page", per_page.to_string())
        .header(
            "x-next-page",
            if has_next {
                (page + 1).to_string()
            } else {
                String::new()
            },
        )
        .header(
            "x-prev-page",
            if page > 1 {
                (page - 1).to_string()
            } else {
                String::new()
            },
        )
        .header("link", links.join(", "));
    if !hide_totals {
        answer = answer
            .header("x-total", total.to_string())
            .header("x-total-pages", total_pages.to_string());
    }
    answer
}

// ---------------------------------------------------------------------------------------------
// GraphQL.

fn graphql_errors(messages: Value) -> Answer {
    Answer::json(StatusCode::OK, &json!({ "errors": messages }))
}

fn graphql(shared: &Shared, body: &str, operation: Option<&str>, targeted: bool) -> Answer {
    let Ok(request) = serde_json::from_str::<Value>(body) else {
        return Answer::json(
            StatusCode::BAD_REQUEST,
            &json!({"errors": [{"message": "Invalid JSON in request body"}]}),
        );
    };
    if request
        .get("query")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return graphql_errors(json!([{"message": "No query string was present"}]));
    }
    let variables = request.get("variables").cloned().unwrap_or(json!({}));
    let fault = if targeted {
        shared.faults.graphql.clone()
    } else {
        None
    };
    match &fault {
        Some(GraphqlFault::UndefinedField { type_name, field }) => {
            return graphql_errors(json!([{
                "message": format!("Field '{field}' doesn't exist on type '{type_name}'"),
                "locations": [{"line": 12, "column": 7}],
                "path": [format!("query {}", operation.unwrap_or("")), "user", field],
                "extensions": {"code": "undefinedField", "typeName": type_name, "fieldName": field},
            }]));
        }
        Some(GraphqlFault::Complexity { score, limit }) => {
            return graphql_errors(json!([{
                "message": format!("Query has complexity of {score}, which exceeds max complexity of {limit}"),
            }]));
        }
        Some(GraphqlFault::ComplexityLimit { limit }) => {
            let query = request["query"].as_str().unwrap_or("");
            match complexity_score(query, operation, &variables) {
                Ok(score) if score > *limit => {
                    return graphql_errors(json!([{
                        "message": format!("Query has complexity of {score}, which exceeds max complexity of {limit}"),
                    }]));
                }
                Ok(_) => {}
                Err(message) => return graphql_errors(json!([{ "message": message }])),
            }
        }
        _ => {}
    }
    if let Some(refused) = epics::refused(shared, operation, &variables) {
        return refused;
    }
    let result = match operation {
        Some("AuthoredMergeRequests") => {
            user_merge_requests(shared, &variables, "authoredMergeRequests")
        }
        Some("ReviewRequestedMergeRequests") => {
            user_merge_requests(shared, &variables, "reviewRequestedMergeRequests")
        }
        Some("ProjectMergeRequests") => project_merge_requests(shared, &variables),
        Some("Issues") => top_level_issues(shared, &variables),
        Some("ChangedWork") => changed_work(shared, &variables),
        Some("ProjectIssues") => project_issues(shared, &variables),
        Some("ProjectVisibility") => project_visibility(shared, &variables),
        Some("ProjectIncidents") => incidents::project_incidents(shared, &variables),
        Some("IncidentTimelineEvents") => incidents::timeline_events(shared, &variables),
        Some("OncallShifts") => oncall::shifts(shared, &variables, false),
        Some("OncallRotationShifts") => oncall::shifts(shared, &variables, true),
        Some("GroupEpicWorkItems") => {
            epics::work_items(shared, &variables, request["query"].as_str().unwrap_or(""))
        }
        Some("GroupEpicsLegacy") => {
            epics::legacy(shared, &variables, request["query"].as_str().unwrap_or(""))
        }
        other => Err(json!([{
            "message": format!("fake GitLab cannot answer GraphQL operation {other:?}"),
        }])),
    };
    let query = request["query"].as_str().unwrap_or("");
    let result = result.and_then(|full| select(&full, query, operation, &variables));
    match (result, fault) {
        (Err(errors), _) => graphql_errors(errors),
        (Ok(data), Some(GraphqlFault::PartialData { message })) => Answer::json(
            StatusCode::OK,
            &json!({
                "data": data,
                "errors": [{
                    "message": message,
                    "locations": [{"line": 3, "column": 3}],
                    "path": ["user", "authoredMergeRequests"],
                }],
            }),
        ),
        (Ok(data), _) => Answer::json(StatusCode::OK, &json!({ "data": data })),
    }
}

/// Cuts the fake's full answer down to what the query document selects, as a real server
/// answers: aliases renamed, fragments expanded, nothing extra. A selected field the fake does
/// not know is an error naming it, so a changed query shows where the fake must grow.
fn select(
    full: &Value,
    query: &str,
    operation: Option<&str>,
    variables: &Value,
) -> Result<Value, Value> {
    use graphql_parser::query as q;
    let doc = q::parse_query::<String>(query).map_err(|e| {
        json!([{"message": format!("Parse error: {e}"), "extensions": {"code": "syntaxError"}}])
    })?;
    let mut fragments = BTreeMap::new();
    let mut operations = Vec::new();
    for definition in &doc.definitions {
        match definition {
            q::Definition::Fragment(f) => {
                fragments.insert(f.name.clone(), f.selection_set.clone());
            }
            q::Definition::Operation(q::OperationDefinition::Query(op)) => {
                operations.push((op.name.clone(), op.selection_set.clone()));
            }
            q::Definition::Operation(q::OperationDefinition::SelectionSet(set)) => {
                operations.push((None, set.clone()));
            }
            q::Definition::Operation(_) => {
                return Err(json!([{"message": "fake GitLab answers queries only"}]));
            }
        }
    }
    let chosen = match operation {
        Some(name) => operations.iter().find(|(n, _)| n.as_deref() == Some(name)),
        None if operations.len() == 1 => operations.first(),
        None => None,
    };
    let Some((_, selection)) = chosen else {
        return Err(json!([{"message": format!("No operation named {operation:?}")}]));
    };
    let mut missing = Vec::new();
    let context = Selecting {
        fragments: &fragments,
        variables,
    };
    let data = project(full, selection, &context, "", &mut missing);
    if missing.is_empty() {
        Ok(data)
    } else {
        Err(json!([{
            "message": format!(
                "fake GitLab does not serve {}: add it to tests/cli/fake_gitlab.rs",
                missing.join(", ")
            ),
        }]))
    }
}

/// What a selection is read with: the document's fragments and the request's variables.
struct Selecting<'a, 'q> {
    fragments: &'a BTreeMap<String, graphql_parser::query::SelectionSet<'q, String>>,
    variables: &'a Value,
}

impl Selecting<'_, '_> {
    fn wanted(&self, directives: &[graphql_parser::query::Directive<'_, String>]) -> bool {
        included(directives, self.variables)
    }
}

fn project(
    value: &Value,
    selection: &graphql_parser::query::SelectionSet<'_, String>,
    context: &Selecting<'_, '_>,
    path: &str,
    missing: &mut Vec<String>,
) -> Value {
    use graphql_parser::query as q;
    match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| project(v, selection, context, path, missing))
                .collect(),
        ),
        Value::Object(object) => {
            let mut out = serde_json::Map::new();
            for item in &selection.items {
                match item {
                    q::Selection::Field(field) => {
                        if !context.wanted(&field.directives) {
                            continue;
                        }
                        let key = field.alias.clone().unwrap_or_else(|| field.name.clone());
                        let here = format!("{path}.{}", field.name);
                        // A field whose answer depends on a literal argument is stored under
                        // `name(arg: value)` (`reference(full: true)`); others under the name.
                        let with_arguments = (!field.arguments.is_empty()).then(|| {
                            let arguments: Vec<String> = field
                                .arguments
                                .iter()
                                .map(|(name, value)| format!("{name}: {value}"))
                                .collect();
                            format!("{}({})", field.name, arguments.join(", "))
                        });
                        let Some(inner) = with_arguments
                            .and_then(|k| object.get(&k))
                            .or_else(|| object.get(&field.name))
                        else {
                            missing.push(format!("`{}`", here.trim_start_matches('.')));
                            continue;
                        };
                        let answer = if field.selection_set.items.is_empty() {
                            inner.clone()
                        } else {
                            project(inner, &field.selection_set, context, &here, missing)
                        };
                        out.insert(key, answer);
                    }
                    q::Selection::FragmentSpread(spread) => {
                        match context.fragments.get(&spread.fragment_name) {
                            Some(set) => {
                                if let Value::Object(part) =
                                    project(value, set, context, path, missing)
                                {
                                    out.extend(part);
                                }
                            }
                            None => missing.push(format!("fragment `{}`", spread.fragment_name)),
                        }
                    }
                    q::Selection::InlineFragment(inline) => {
                        let applies = match &inline.type_condition {
                            Some(q::TypeCondition::On(t)) => {
                                object.get("__typename").and_then(Value::as_str) == Some(t.as_str())
                            }
                            None => true,
                        };
                        if applies {
                            if let Value::Object(part) =
                                project(value, &inline.selection_set, context, path, missing)
                            {
                                out.extend(part);
                            }
                        }
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn invalid_variable(name: &str, ty: &str, value: Option<&Value>) -> Value {
    json!([{
        "message": format!(
            "Variable ${name} of type {ty} was provided invalid value",
        ),
        "locations": [{"line": 1, "column": 1}],
        "extensions": {
            "value": value.cloned().unwrap_or(Value::Null),
            "problems": [{"path": [], "explanation": "Expected value to not be null"}],
        },
    }])
}

fn string_var<'v>(vars: &'v Value, name: &str, ty: &str) -> Result<&'v str, Value> {
    vars.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid_variable(name, ty, vars.get(name)))
}

/// GitLab's `Time` scalar is documented as ISO 8601 but parsed leniently (Ruby's `Time.parse`):
/// a bare date means midnight UTC on the instance. Text with no time in it is rejected.
fn time_var(vars: &Value, name: &str) -> Result<DateTime<Utc>, Value> {
    let text = string_var(vars, name, "Time!")?;
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|t| t.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        });
    parsed.ok_or_else(|| {
        json!([{
            "message": format!("Variable ${name} of type Time! was provided invalid value"),
            "locations": [{"line": 1, "column": 1}],
            "extensions": {
                "value": text,
                "problems": [{"path": [], "explanation": format!("no time information in {text:?}")}],
            },
        }])
    })
}

/// `first` is required by our documents; GitLab caps page sizes at 100 silently.
fn page_size(vars: &Value) -> Result<usize, Value> {
    let first = vars
        .get("first")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid_variable("first", "Int!", vars.get("first")))?;
    if first < 0 {
        return Err(json!([{"message": "first must be greater than or equal to 0"}]));
    }
    Ok((first as usize).min(100))
}

/// Opaque to clients; here the offset of the next row, hex-encoded like nothing in particular.
fn cursor_for(offset: usize) -> String {
    format!("ZmFrZQ{:x}", offset * 7 + 3)
}

fn offset_of(cursor: &str) -> Option<usize> {
    let n = usize::from_str_radix(cursor.strip_prefix("ZmFrZQ")?, 16).ok()?;
    (n >= 3 && (n - 3) % 7 == 0).then(|| (n - 3) / 7)
}

/// One page of `rows` after `after`, as a GitLab connection.
fn connection(shared: &Shared, rows: &[&MergeRequest], vars: &Value) -> Result<Value, Value> {
    let size = page_size(vars)?;
    let start = match vars.get("after") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => match offset_of(c) {
            Some(n) if n <= rows.len() => n,
            _ => return Err(json!([{"message": "Please provide a valid cursor"}])),
        },
        Some(other) => return Err(invalid_variable("after", "String", Some(other))),
    };
    let end = (start + size).min(rows.len());
    let nodes: Vec<Value> = rows[start..end]
        .iter()
        .map(|mr| merge_request_json(shared, mr))
        .collect();
    Ok(json!({
        "pageInfo": {
            "hasNextPage": end < rows.len(),
            "hasPreviousPage": start > 0,
            "startCursor": if end > start { json!(cursor_for(start)) } else { Value::Null },
            "endCursor": if end > start { json!(cursor_for(end)) } else { Value::Null },
        },
        "count": rows.len(),
        "nodes": nodes,
    }))
}

fn graphql_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn merge_request_json(shared: &Shared, mr: &MergeRequest) -> Value {
    let project = shared
        .data
        .project_by_id(mr.project_id)
        .expect("dataset MR project exists");
    let user = |username: &str| {
        let id = shared
            .data
            .user_named(username)
            .map(|u| u.id)
            .unwrap_or_default();
        let name = shared
            .data
            .user_named(username)
            .map(|u| u.name.clone())
            .unwrap_or_default();
        json!({
            "__typename": "UserCore",
            "id": format!("gid://gitlab/User/{id}"),
            "username": username,
            "name": name,
            "webUrl": format!("{}/{username}", shared.url),
        })
    };
    let mut author = user(&mr.author);
    author["__typename"] = json!("MergeRequestAuthor");
    json!({
        "__typename": "MergeRequest",
        "id": mr.gid(),
        "iid": mr.iid.to_string(),
        "title": mr.title,
        "description": mr.description,
        "webUrl": format!("{}/{}/-/merge_requests/{}", shared.url, project.full_path, mr.iid),
        "state": mr.state,
        "draft": mr.draft,
        "createdAt": graphql_time(mr.created_at),
        "updatedAt": graphql_time(mr.updated_at),
        "mergedAt": mr.merged_at.map(graphql_time),
        "closedAt": mr.closed_at.map(graphql_time),
        "sourceBranch": format!("{}-{}", mr.author, mr.iid),
        "targetBranch": "main",
        "author": author,
        "project": {
            "__typename": "Project",
            "id": format!("gid://gitlab/Project/{}", project.id),
            "fullPath": project.full_path,
            "name": project.full_path.rsplit('/').next().unwrap_or_default(),
            "visibility": project.visibility,
            "webUrl": format!("{}/{}", shared.url, project.full_path),
        },
        "labels": {"nodes": mr.labels.iter().map(|l| json!({"__typename": "Label", "title": l})).collect::<Vec<_>>()},
        "diffStatsSummary": {
            "__typename": "DiffStatsSummary",
            "additions": mr.additions,
            "deletions": mr.deletions,
            "changes": mr.additions + mr.deletions,
            "fileCount": mr.file_count,
        },
        "diffStats": mr.diff_stats().into_iter().map(|(path, additions, deletions)| json!({
            "__typename": "DiffStats",
            "path": path,
            "additions": additions,
            "deletions": deletions,
        })).collect::<Vec<_>>(),
        "reviewers": {"nodes": mr.reviewers.iter().map(|r| {
            let mut reviewer = user(&r.username);
            reviewer["__typename"] = json!("MergeRequestReviewer");
            reviewer["mergeRequestInteraction"] = json!({
                "approved": r.approved,
                "reviewState": r.review_state,
                "reviewed": r.review_state != "UNREVIEWED",
            });
            reviewer
        }).collect::<Vec<_>>()},
        "approvedBy": {"nodes": mr.approved_by.iter().map(|u| user(u)).collect::<Vec<_>>()},
    })
}

/// `user(username:) { authoredMergeRequests | reviewRequestedMergeRequests (...) }`.
fn user_merge_requests(
    shared: &Shared,
    vars: &Value,
    connection_name: &str,
) -> Result<Value, Value> {
    let username = string_var(vars, "username", "String!")?;
    let updated_after = time_var(vars, "updatedAfter")?;
    let created_before = time_var(vars, "createdBefore")?;
    let created_after = match vars.get("createdAfter") {
        None | Some(Value::Null) => None,
        Some(_) => Some(time_var(vars, "createdAfter")?),
    };
    let Some(user) = shared.data.user_named(username) else {
        return Ok(json!({"user": null}));
    };
    let mut rows: Vec<&MergeRequest> = shared
        .data
        .merge_requests
        .iter()
        .filter(|mr| match connection_name {
            "authoredMergeRequests" => mr.author == user.username,
            _ => mr.reviewers.iter().any(|r| r.username == user.username),
        })
        // GitLab's finders: `updated_after` is `>=`, `created_before` is `<=` (inclusive).
        .filter(|mr| mr.updated_at >= updated_after && mr.created_at <= created_before)
        .collect();
    // `total: <connection>(…) @include(if: $withCount) { count }`: the list without the window.
    let total = rows.len();
    rows.retain(|mr| created_after.is_none_or(|after| mr.created_at >= after));
    rows.sort_by_key(|mr| (mr.created_at, mr.id));
    let page = connection(shared, &rows, vars)?;
    let mut user = json!({
        "__typename": "UserCore",
        "id": format!("gid://gitlab/User/{}", user.id),
        "username": user.username,
        "name": user.name,
        connection_name: page,
    });
    if vars.get("withCount") == Some(&Value::Bool(true)) {
        // `total: <connection>(…)`, stored as the document writes the field.
        let field = format!(
            "{connection_name}(updatedAfter: $updatedAfter, createdBefore: $createdBefore)"
        );
        user[field] = json!({ "count": total });
    }
    Ok(json!({ "user": user }))
}

/// `ChangedWork`: a re-run's four lists in one request, each answered as its own operation
/// would answer it (`AuthoredMergeRequests`, `ReviewRequestedMergeRequests`, `Issues` twice);
/// the two `issues` fields are told apart by their arguments, as the document writes them.
fn changed_work(shared: &Shared, vars: &Value) -> Result<Value, Value> {
    let username = string_var(vars, "username", "String!")?.to_string();
    let mut user = user_merge_requests(shared, vars, "authoredMergeRequests")?;
    let requested = user_merge_requests(shared, vars, "reviewRequestedMergeRequests")?;
    if let (Some(user), Some(page)) = (
        user["user"].as_object_mut(),
        requested["user"].get("reviewRequestedMergeRequests"),
    ) {
        user.insert("reviewRequestedMergeRequests".into(), page.clone());
    }
    let mut by_author = vars.clone();
    by_author["authorUsername"] = json!(username);
    let mut by_assignee = vars.clone();
    by_assignee["assigneeUsernames"] = vars.get("assignees").cloned().unwrap_or(Value::Null);
    let authored = top_level_issues(shared, &by_author)?;
    let assigned = top_level_issues(shared, &by_assignee)?;
    let rest =
        "types: $types, updatedAfter: $updatedAfter, createdBefore: $createdBefore, first: $first";
    Ok(json!({
        "user": user["user"],
        format!("issues(authorUsername: $username, {rest})"): authored["issues"],
        format!("issues(assigneeUsernames: $assignees, {rest})"): assigned["issues"],
    }))
}

/// `projects(ids:, first: 1) { nodes { mergeRequests(iids:, first:, after:) } }`.
/// `ProjectMergeRequests`: slots `s0`… each `projects(ids: $pK, first: 1) @include(if: $useK)
/// { nodes { mergeRequests(iids: $iK, first: $first, after: $aK) } }`.
fn project_merge_requests(shared: &Shared, vars: &Value) -> Result<Value, Value> {
    project_slots(shared, vars, project_merge_requests_slot)
}

/// A document of project slots (`ProjectMergeRequests`, `ProjectIssues`): each slot switched on
/// is answered as its own one-project query with `projectIds`, `iids`, `first` and `after`; a
/// slot switched off is left out of the answer, as GitLab leaves it.
fn project_slots(
    shared: &Shared,
    vars: &Value,
    answer: fn(&Shared, &Value) -> Result<Value, Value>,
) -> Result<Value, Value> {
    let mut answers = serde_json::Map::new();
    for k in 0.. {
        let Some(switch) = vars.get(format!("use{k}")) else {
            break;
        };
        if switch != &Value::Bool(true) {
            continue;
        }
        let slot = json!({
            "projectIds": vars.get(format!("p{k}")).cloned().unwrap_or(Value::Null),
            "iids": vars.get(format!("i{k}")).cloned().unwrap_or(Value::Null),
            "first": vars.get("first").cloned().unwrap_or(Value::Null),
            "after": vars.get(format!("a{k}")).cloned().unwrap_or(Value::Null),
        });
        // Stored as the document writes the field, which its alias then names.
        answers.insert(
            format!("projects(ids: $p{k}, first: 1)"),
            answer(shared, &slot)?,
        );
    }
    Ok(Value::Object(answers))
}

/// One slot of `ProjectMergeRequests`: a project's merge requests by iid.
fn project_merge_requests_slot(shared: &Shared, vars: &Value) -> Result<Value, Value> {
    let ids = vars
        .get("projectIds")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid_variable("projectIds", "[ID!]!", vars.get("projectIds")))?;
    let iids: Vec<String> = vars
        .get("iids")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid_variable("iids", "[String!]!", vars.get("iids")))?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| invalid_variable("iids", "[String!]!", Some(v)))
        })
        .collect::<Result<_, _>>()?;
    let mut nodes = Vec::new();
    for id in ids {
        let gid = id.as_str().unwrap_or("");
        let Some(project_id) = gid
            .strip_prefix("gid://gitlab/Project/")
            .and_then(|n| n.parse::<u64>().ok())
        else {
            return Err(json!([{"message": format!("\"{gid}\" is not a valid Global ID")}]));
        };
        let Some(project) = shared.data.project_by_id(project_id) else {
            continue;
        };
        let mut rows: Vec<&MergeRequest> = shared
            .data
            .merge_requests
            .iter()
            .filter(|mr| mr.project_id == project.id && iids.contains(&mr.iid.to_string()))
            .collect();
        // `Project.mergeRequests` sorts by creation, newest first, by default.
        rows.sort_by_key(|mr| std::cmp::Reverse((mr.created_at, mr.id)));
        nodes.push(json!({
            "__typename": "Project",
            "id": format!("gid://gitlab/Project/{}", project.id),
            "fullPath": project.full_path,
            "visibility": project.visibility,
            "mergeRequests": connection(shared, &rows, vars)?,
        }));
        // The documents ask for `first: 1` project.
        break;
    }
    Ok(json!({"nodes": nodes}))
}

// ---------------------------------------------------------------------------------------------
// GraphQL: issues (every issue type; the documents filter with `types`).

/// GitLab's `IssueType` enum.
const ISSUE_TYPES: [&str; 9] = [
    "ISSUE",
    "INCIDENT",
    "TEST_CASE",
    "REQUIREMENT",
    "TASK",
    "OBJECTIVE",
    "KEY_RESULT",
    "EPIC",
    "TICKET",
];

/// One page of already-built `nodes` after `after`, as a GitLab connection.
fn node_connection(nodes: Vec<Value>, vars: &Value) -> Result<Value, Value> {
    node_connection_of(&nodes, Value::clone, vars)
}

/// [`node_connection`], turning only the page's rows into JSON (see [`paginate_rows`]).
fn node_connection_of<T>(
    rows: &[T],
    to_json: impl Fn(&T) -> Value,
    vars: &Value,
) -> Result<Value, Value> {
    let size = page_size(vars)?;
    let start = match vars.get("after") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => match offset_of(c) {
            Some(n) if n <= rows.len() => n,
            _ => return Err(json!([{"message": "Please provide a valid cursor"}])),
        },
        Some(other) => return Err(invalid_variable("after", "String", Some(other))),
    };
    let end = (start + size).min(rows.len());
    let nodes: Vec<Value> = rows[start..end].iter().map(to_json).collect();
    Ok(json!({
        "pageInfo": {
            "hasNextPage": end < rows.len(),
            "hasPreviousPage": start > 0,
            "startCursor": if end > start { json!(cursor_for(start)) } else { Value::Null },
            "endCursor": if end > start { json!(cursor_for(end)) } else { Value::Null },
        },
        "count": rows.len(),
        "nodes": nodes,
    }))
}

fn user_core_json(shared: &Shared, username: &str) -> Value {
    let user = shared.data.user_named(username);
    json!({
        "__typename": "UserCore",
        "id": format!("gid://gitlab/User/{}", user.map(|u| u.id).unwrap_or_default()),
        "username": username,
        "name": user.map(|u| u.name.clone()).unwrap_or_default(),
        "webUrl": format!("{}/{username}", shared.url),
    })
}

fn issue_json(shared: &Shared, issue: &Issue) -> Value {
    let project = shared
        .data
        .project_by_id(issue.project_id)
        .expect("dataset issue project exists");
    // Incidents have their own page.
    let page = if issue.issue_type == "INCIDENT" {
        format!("-/issues/incident/{}", issue.iid)
    } else {
        format!("-/issues/{}", issue.iid)
    };
    json!({
        "__typename": "Issue",
        "id": issue.gid(),
        "iid": issue.iid.to_string(),
        "title": issue.title,
        "description": issue.description,
        "webUrl": format!("{}/{}/{page}", shared.url, project.full_path),
        "state": issue.state,
        "type": issue.issue_type,
        "createdAt": graphql_time(issue.created_at),
        "updatedAt": graphql_time(issue.updated_at),
        "closedAt": issue.closed_at.map(graphql_time),
        "confidential": issue.confidential,
        "severity": issue.severity.as_deref().unwrap_or("UNKNOWN"),
        // `reference` is short unless asked for in full.
        "reference": format!("#{}", issue.iid),
        "reference(full: true)": format!("{}#{}", project.full_path, issue.iid),
        "projectId": project.id,
        "author": user_core_json(shared, &issue.author),
        "assignees": {"nodes": issue.assignees.iter().map(|u| user_core_json(shared, u)).collect::<Vec<_>>()},
        "labels": {"nodes": issue.labels.iter().map(|l| json!({"__typename": "Label", "title": l})).collect::<Vec<_>>()},
    })
}

/// An optional list-of-strings variable.
fn string_list_var(vars: &Value, name: &str, ty: &str) -> Result<Option<Vec<String>>, Value> {
    match vars.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid_variable(name, ty, Some(v)))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(invalid_variable(name, ty, Some(other))),
    }
}

/// Top-level `issues(authorUsername:, assigneeUsernames:, types:, updatedAfter:,
/// createdBefore:, first:, after:)`: every issue the token can see, newest first.
fn top_level_issues(shared: &Shared, vars: &Value) -> Result<Value, Value> {
    let author = match vars.get("authorUsername") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.as_str()),
        Some(other) => return Err(invalid_variable("authorUsername", "String", Some(other))),
    };
    let assignees = string_list_var(vars, "assigneeUsernames", "[String!]")?;
    let types = string_list_var(vars, "types", "[IssueType!]")?;
    if let Some(bad) = types
        .iter()
        .flatten()
        .find(|t| !ISSUE_TYPES.contains(&t.as_str()))
    {
        return Err(json!([{
            "message": format!(
                "Variable $types of type [IssueType!] was provided invalid value for 0 (Expected \"{bad}\" to be one of: {})",
                ISSUE_TYPES.join(", ")
            ),
        }]));
    }
    let updated_after = time_var(vars, "updatedAfter")?;
    let created_before = time_var(vars, "createdBefore")?;
    let mut rows: Vec<&Issue> = shared
        .data
        .issues
        .iter()
        .filter(|i| author.is_none_or(|a| i.author.eq_ignore_ascii_case(a)))
        // Every listed user must be an assignee.
        .filter(|i| {
            assignees
                .iter()
                .flatten()
                .all(|wanted| i.assignees.iter().any(|a| a.eq_ignore_ascii_case(wanted)))
        })
        .filter(|i| types.as_ref().is_none_or(|t| t.contains(&i.issue_type)))
        // As for merge requests: `updated_after` is `>=`, `created_before` is `<=` (inclusive).
        .filter(|i| i.updated_at >= updated_after && i.created_at <= created_before)
        .collect();
    // `created_desc`, GitLab's default order for issues.
    rows.sort_by_key(|i| std::cmp::Reverse((i.created_at, i.id)));
    let issues = node_connection_of(&rows, |i| issue_json(shared, i), vars)?;
    Ok(json!({ "issues": issues }))
}

/// `projects(ids:, first:, after:) { nodes { id visibility } }`: the projects with those ids
/// that exist, in the order asked.
fn project_visibility(shared: &Shared, vars: &Value) -> Result<Value, Value> {
    let ids = vars
        .get("ids")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid_variable("ids", "[ID!]!", vars.get("ids")))?;
    let mut nodes = Vec::new();
    for id in ids {
        let gid = id.as_str().unwrap_or("");
        let Some(project_id) = gid
            .strip_prefix("gid://gitlab/Project/")
            .and_then(|n| n.parse::<u64>().ok())
        else {
            return Err(json!([{"message": format!("\"{gid}\" is not a valid Global ID")}]));
        };
        if let Some(project) = shared.data.project_by_id(project_id) {
            nodes.push(json!({
                "__typename": "Project",
                "id": format!("gid://gitlab/Project/{}", project.id),
                "fullPath": project.full_path,
                "visibility": project.visibility,
            }));
        }
    }
    Ok(json!({"projects": node_connection(nodes, vars)?}))
}

/// `projects(ids:, first: 1) { nodes { issues(iids:, first:, after:) } }`: issues of every
/// type with those iids.
/// `ProjectIssues`: slots `s0`… each `projects(ids: $pK, first: 1) @include(if: $useK)
/// { nodes { issues(iids: $iK, first: $first, after: $aK) } }`.
fn project_issues(shared: &Shared, vars: &Value) -> Result<Value, Value> {
    project_slots(shared, vars, project_issues_slot)
}

/// One slot of `ProjectIssues`: a project's issues by iid, every type.
fn project_issues_slot(shared: &Shared, vars: &Value) -> Result<Value, Value> {
    let ids = vars
        .get("projectIds")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid_variable("projectIds", "[ID!]!", vars.get("projectIds")))?;
    let iids = string_list_var(vars, "iids", "[String!]!")?
        .ok_or_else(|| invalid_variable("iids", "[String!]!", vars.get("iids")))?;
    let mut nodes = Vec::new();
    for id in ids {
        let gid = id.as_str().unwrap_or("");
        let Some(project_id) = gid
            .strip_prefix("gid://gitlab/Project/")
            .and_then(|n| n.parse::<u64>().ok())
        else {
            return Err(json!([{"message": format!("\"{gid}\" is not a valid Global ID")}]));
        };
        let Some(project) = shared.data.project_by_id(project_id) else {
            continue;
        };
        let mut rows: Vec<&Issue> = shared
            .data
            .issues
            .iter()
            .filter(|i| i.project_id == project.id && iids.contains(&i.iid.to_string()))
            .collect();
        rows.sort_by_key(|i| std::cmp::Reverse((i.created_at, i.id)));
        let issues = rows.iter().map(|i| issue_json(shared, i)).collect();
        nodes.push(json!({
            "__typename": "Project",
            "id": format!("gid://gitlab/Project/{}", project.id),
            "fullPath": project.full_path,
            "visibility": project.visibility,
            "issues": node_connection(issues, vars)?,
        }));
        // The documents ask for `first: 1` project.
        break;
    }
    Ok(json!({"nodes": nodes}))
}
