//! REST v4 response types: only the fields gl-evidence reads, mostly optional, kept apart from
//! our model; `harvest` converts them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `GET /users?username=` (<https://docs.gitlab.com/api/users/#list-users>).
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    pub id: u64,
    pub username: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
}

/// `GET /groups/:id/members/all` (<https://docs.gitlab.com/api/members/>): direct and inherited
/// members.
#[derive(Debug, Clone, Deserialize)]
pub struct Member {
    pub id: u64,
    pub username: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `active`, `blocked`, `deactivated`, …
    #[serde(default)]
    pub state: Option<String>,
    /// Present on newer versions for bot users (project and group access tokens, service bots).
    #[serde(default)]
    pub bot: Option<bool>,
    /// `active`, or `awaiting` for invitations not yet accepted.
    #[serde(default)]
    pub membership_state: Option<String>,
}

/// `GET /users/:id/events` (<https://docs.gitlab.com/api/events/>). Serialisable for the
/// incremental cache.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Event {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub project_id: Option<u64>,
    #[serde(default)]
    pub action_name: Option<String>,
    #[serde(default)]
    pub target_type: Option<String>,
    #[serde(default)]
    pub target_iid: Option<u64>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub note: Option<EventNote>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EventNote {
    #[serde(default)]
    pub noteable_type: Option<String>,
    #[serde(default)]
    pub noteable_iid: Option<u64>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// An issue as `GET/POST/PUT /projects/:id/issues` answer it
/// (<https://docs.gitlab.com/api/issues/>).
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectIssue {
    pub id: u64,
    pub iid: u64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub web_url: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub confidential: Option<bool>,
}
