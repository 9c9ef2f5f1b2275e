//! Snapshot format v1 (`format: "gl-evidence/snapshot"`): plain, versioned JSON holding what was
//! harvested and, once classified, the competencies each item evidences.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Period;

pub const SNAPSHOT_FORMAT: &str = "gl-evidence/snapshot";
pub const SNAPSHOT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid gl-evidence snapshot: {source}\n  hint: create one with `gl-evidence harvest --user USER --quarter 2026Q3 --out snapshot.json`")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "{path} is not a gl-evidence snapshot (format is {found:?}, expected {SNAPSHOT_FORMAT:?})"
    )]
    WrongFormat { path: String, found: String },
    #[error("{path} is snapshot version {found}, but this gl-evidence reads version {SNAPSHOT_VERSION}\n  hint: re-harvest it, or use the gl-evidence release that wrote it")]
    WrongVersion { path: String, found: u32 },
}

/// A harvest: who, when, from where, how each source went, and the items found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: String,
    pub version: u32,
    pub generated_at: DateTime<Utc>,
    pub gitlab_url: String,
    pub period: Period,
    pub subjects: Vec<Subject>,
    pub sources: Vec<Source>,
    pub items: Vec<Item>,
    /// Present once `classify` has run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
    /// Fields written by newer versions are kept, not rejected.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Snapshot {
    pub fn new(gitlab_url: String, period: Period, generated_at: DateTime<Utc>) -> Self {
        Snapshot {
            format: SNAPSHOT_FORMAT.to_string(),
            version: SNAPSHOT_VERSION,
            generated_at,
            gitlab_url,
            period,
            subjects: Vec::new(),
            sources: Vec::new(),
            items: Vec::new(),
            classification: None,
            extra: BTreeMap::new(),
        }
    }

    /// Parses and checks format and version; `origin` names the input in errors.
    pub fn from_json(text: &str, origin: &str) -> Result<Self, SnapshotError> {
        // Check the envelope first so a wrong file gets a precise message, not a missing field.
        let value: Value = serde_json::from_str(text).map_err(|source| SnapshotError::Parse {
            path: origin.to_string(),
            source,
        })?;
        let found = value.get("format").and_then(Value::as_str).unwrap_or("");
        if found != SNAPSHOT_FORMAT {
            return Err(SnapshotError::WrongFormat {
                path: origin.to_string(),
                found: found.to_string(),
            });
        }
        if let Some(v) = value.get("version").and_then(Value::as_u64) {
            if v != u64::from(SNAPSHOT_VERSION) {
                return Err(SnapshotError::WrongVersion {
                    path: origin.to_string(),
                    found: u32::try_from(v).unwrap_or(u32::MAX),
                });
            }
        }
        serde_json::from_value(value).map_err(|source| SnapshotError::Parse {
            path: origin.to_string(),
            source,
        })
    }

    pub fn read(path: &Path) -> Result<Self, SnapshotError> {
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    pub fn to_json(&self) -> String {
        let mut text = super::json_text::to_string_pretty(self).expect("snapshot serialises");
        text.push('\n');
        text
    }

    /// True when any source did not complete: the caller exits with code 3.
    pub fn is_partial(&self) -> bool {
        self.sources
            .iter()
            .any(|s| matches!(s.status, SourceStatus::Partial | SourceStatus::Failed))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
}

/// How one source (one kind of evidence for one subject) went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub name: String,
    pub subject: String,
    pub status: SourceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub items: usize,
    pub requests: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Ok,
    Partial,
    Skipped,
    Failed,
}

impl fmt::Display for SourceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceStatus::Ok => "ok",
            SourceStatus::Partial => "partial",
            SourceStatus::Skipped => "skipped",
            SourceStatus::Failed => "failed",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    MergeRequest,
    Review,
    Issue,
    Epic,
    Incident,
    OncallShift,
    Interview,
}

impl ItemKind {
    pub const ALL: [ItemKind; 7] = [
        ItemKind::MergeRequest,
        ItemKind::Review,
        ItemKind::Issue,
        ItemKind::Epic,
        ItemKind::Incident,
        ItemKind::OncallShift,
        ItemKind::Interview,
    ];

    /// The name used in snapshots, rules and templates.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::MergeRequest => "merge_request",
            ItemKind::Review => "review",
            ItemKind::Issue => "issue",
            ItemKind::Epic => "epic",
            ItemKind::Incident => "incident",
            ItemKind::OncallShift => "oncall_shift",
            ItemKind::Interview => "interview",
        }
    }

    /// Plural label for people.
    pub fn label(self) -> &'static str {
        match self {
            ItemKind::MergeRequest => "merge requests",
            ItemKind::Review => "reviews",
            ItemKind::Issue => "issues",
            ItemKind::Epic => "epics",
            ItemKind::Incident => "incidents",
            ItemKind::OncallShift => "on-call shifts",
            ItemKind::Interview => "interviews",
        }
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Author,
    Reviewer,
    Approver,
    Commenter,
    Assignee,
    Participant,
    Oncall,
    Interviewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Author => "author",
            Role::Reviewer => "reviewer",
            Role::Approver => "approver",
            Role::Commenter => "commenter",
            Role::Assignee => "assignee",
            Role::Participant => "participant",
            Role::Oncall => "oncall",
            Role::Interviewer => "interviewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of evidence. Optional fields are absent when unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub kind: ItemKind,
    pub role: Role,
    pub subject: String,
    pub id: String,
    pub web_url: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confidential: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additions: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletions: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<u8>,
    /// Incidents: the incident timeline events the subject wrote in the period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline_events: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_hours: Option<f64>,
    /// Added by `classify`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub competencies: Vec<CompetencyMatch>,
    /// What a person decided about the item, from a curation file (see `crate::curation`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curation: Option<ItemCuration>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl Item {
    /// A minimal item; callers fill in what they know.
    pub fn new(
        kind: ItemKind,
        role: Role,
        subject: &str,
        id: String,
        web_url: String,
        title: String,
    ) -> Self {
        Item {
            kind,
            role,
            subject: subject.to_string(),
            id,
            web_url,
            title,
            description: None,
            project: None,
            group: None,
            labels: Vec::new(),
            state: None,
            created_at: None,
            updated_at: None,
            merged_at: None,
            closed_at: None,
            confidential: false,
            comments: None,
            approved: None,
            additions: None,
            deletions: None,
            changed_paths: Vec::new(),
            child_count: None,
            severity: None,
            timeline_events: None,
            starts_at: None,
            ends_at: None,
            duration_hours: None,
            competencies: Vec::new(),
            curation: None,
            extra: BTreeMap::new(),
        }
    }

    /// The date an item is shown under: merged, else closed, else created, else shift start.
    pub fn date(&self) -> Option<DateTime<Utc>> {
        self.merged_at
            .or(self.closed_at)
            .or(self.created_at)
            .or(self.starts_at)
    }
}

/// One competency an item evidences, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompetencyMatch {
    pub id: String,
    pub score: f64,
    pub rule: String,
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// The `rule` of a competency match a person set in a curation file, not a rule.
pub const CURATED_RULE: &str = "curated";

/// A person's edits to one item, as applied to a snapshot. Competencies they added are in the
/// item's `competencies` under the rule `curated`; the rules' matches they removed or replaced
/// are kept here, so that applying a changed curation file restores them without classifying
/// again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemCuration {
    /// Left out of reports (and counted).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    /// Leads its competency sections and the summary.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub highlight: bool,
    /// The person's words: the impact, the context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The rules' matches the person removed, or replaced by their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<CompetencyMatch>,
}

/// Which framework and rules classified a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    pub framework: String,
    pub rules: String,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}
