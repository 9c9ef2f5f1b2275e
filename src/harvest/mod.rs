//! Harvesting: for each subject and source, turn GitLab's answers into evidence items.
//!
//! Sources run concurrently (the client bounds requests in flight). A source that fails keeps
//! what it collected and is marked `partial` or `failed` in the snapshot; only a failed user
//! lookup (bad token, unreachable server, unknown user) stops the whole harvest, before any
//! evidence was collected.

pub mod convert;
mod merge_requests;
pub(crate) mod paging;
mod reviews;

use chrono::{DateTime, Utc};
use futures::future::join_all;

use crate::gitlab::{Client, GitlabError, RequestCounter};
use crate::model::{Item, Period, Snapshot, Source, SourceStatus, Subject};
use crate::progress::Progress;

#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    #[error("unknown GitLab user `{username}` on {gitlab_url}\n  hint: use the username (as in @{username}), not the display name; check --gitlab-url")]
    UnknownUser {
        username: String,
        gitlab_url: String,
    },
    #[error("{0}")]
    Gitlab(#[from] GitlabError),
}

#[derive(Debug, Clone)]
pub struct HarvestRequest {
    pub usernames: Vec<String>,
    pub period: Period,
    pub page_size: u32,
    pub generated_at: DateTime<Utc>,
    /// Groups to search for epics; empty: the top-level groups of the subject's projects.
    pub epic_groups: Vec<String>,
    /// Projects whose on-call schedules to read; empty: on-call shifts are skipped.
    pub oncall_projects: Vec<String>,
    pub interview: crate::config::InterviewConfig,
}

/// What one source collected.
pub(crate) struct SourceOutcome {
    pub name: &'static str,
    pub items: Vec<Item>,
    /// The error that stopped it early; what was collected before is kept.
    pub error: Option<GitlabError>,
    /// Why it was not harvested at all: a feature this instance lacks (Free, Community Edition,
    /// an older version) or nothing configured. Not a failure.
    pub skipped: Option<String>,
}

impl SourceOutcome {
    pub fn new(name: &'static str, items: Vec<Item>, error: Option<GitlabError>) -> Self {
        SourceOutcome {
            name,
            items,
            error,
            skipped: None,
        }
    }

    pub fn skipped(name: &'static str, reason: impl Into<String>) -> Self {
        SourceOutcome {
            name,
            items: Vec::new(),
            error: None,
            skipped: Some(reason.into()),
        }
    }

    fn status(&self) -> SourceStatus {
        match (&self.skipped, &self.error, self.items.is_empty()) {
            (Some(_), _, _) => SourceStatus::Skipped,
            (None, None, _) => SourceStatus::Ok,
            (None, Some(_), true) => SourceStatus::Failed,
            (None, Some(_), false) => SourceStatus::Partial,
        }
    }
}

/// Harvests every subject's sources into one snapshot.
pub async fn harvest(
    client: &Client,
    request: &HarvestRequest,
    progress: &Progress,
) -> Result<Snapshot, HarvestError> {
    let gitlab_url = client.base_url().as_str().trim_end_matches('/').to_string();
    let mut snapshot = Snapshot::new(gitlab_url.clone(), request.period, request.generated_at);
    let mut usernames: Vec<&String> = Vec::new();
    for username in &request.usernames {
        if !usernames.iter().any(|u| u.eq_ignore_ascii_case(username)) {
            usernames.push(username);
        }
    }
    let results = join_all(
        usernames
            .iter()
            .map(|username| harvest_subject(client, request, username, &gitlab_url, progress)),
    )
    .await;
    for result in results {
        let (subject, outcomes) = result?;
        for (outcome, requests) in outcomes {
            snapshot.sources.push(Source {
                name: outcome.name.to_string(),
                subject: subject.username.clone(),
                status: outcome.status(),
                detail: outcome
                    .error
                    .as_ref()
                    .map(|e| e.to_string())
                    .or_else(|| outcome.skipped.clone()),
                items: outcome.items.len(),
                requests,
            });
            snapshot.items.extend(outcome.items);
        }
        snapshot.subjects.push(subject);
    }
    sort_items(&mut snapshot.items);
    Ok(snapshot)
}

async fn harvest_subject(
    client: &Client,
    request: &HarvestRequest,
    username: &str,
    gitlab_url: &str,
    progress: &Progress,
) -> Result<(Subject, Vec<(SourceOutcome, u64)>), HarvestError> {
    let lookup = RequestCounter::default();
    let subject = find_user(client, username, gitlab_url, &lookup).await?;
    let mr_counter = RequestCounter::default();
    let review_counter = RequestCounter::default();
    let bar = progress.subject(&subject.username);
    let (authored, reviewed) = tokio::join!(
        merge_requests::harvest_authored(client, request, &subject, &mr_counter, &bar),
        reviews::harvest_reviews(client, request, &subject, &review_counter, &bar),
    );
    bar.finish();
    Ok((
        subject,
        vec![
            // The user lookup serves both sources; count it once, with the first.
            (authored, mr_counter.get() + lookup.get()),
            (reviewed, review_counter.get()),
        ],
    ))
}

/// Resolves a username exactly (GitLab matches usernames case-insensitively; never a prefix).
async fn find_user(
    client: &Client,
    username: &str,
    gitlab_url: &str,
    counter: &RequestCounter,
) -> Result<Subject, HarvestError> {
    let users: Vec<crate::gitlab::types::User> = client
        .rest_get("users", &[("username", username.to_string())], counter)
        .await?;
    let user = users
        .into_iter()
        .find(|u| u.username.eq_ignore_ascii_case(username))
        .ok_or_else(|| HarvestError::UnknownUser {
            username: username.to_string(),
            gitlab_url: gitlab_url.to_string(),
        })?;
    Ok(Subject {
        username: user.username,
        name: user.name,
        id: Some(user.id),
    })
}

/// Stable order: by subject, kind, date, id; so snapshots diff well.
fn sort_items(items: &mut [Item]) {
    items.sort_by(|a, b| {
        (&a.subject, a.kind, a.date(), &a.id).cmp(&(&b.subject, b.kind, b.date(), &b.id))
    });
}
