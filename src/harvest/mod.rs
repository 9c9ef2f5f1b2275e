//! Harvesting: for each subject and source, turn GitLab's answers into evidence items.
//!
//! Sources run concurrently (the client bounds requests in flight). A source that fails keeps
//! what it collected and is marked `partial` or `failed` in the snapshot; only a failed user
//! lookup (bad token, unreachable server, unknown user) stops the whole harvest, before any
//! evidence was collected.

mod changes;
pub mod convert;
mod epics;
mod events;
pub mod incremental;
mod interview;
mod issues;
mod merge_requests;
mod oncall;
pub(crate) mod paging;
mod reviews;
mod shared;
pub mod team;
mod timelines;
mod windows;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::join_all;

use incremental::{Memory, RunCache};

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
    #[error("unknown GitLab group `{group}`, or the token cannot see it\n  hint: use the group's full path, as in its URL (e.g. gitlab-org/quality); check --gitlab-url")]
    UnknownGroup { group: String },
    #[error("{0}")]
    Gitlab(#[from] GitlabError),
}

#[derive(Debug, Clone)]
pub struct HarvestRequest {
    pub usernames: Vec<String>,
    /// People already resolved (e.g. from a group's members): no user lookup for them.
    pub known: Vec<Subject>,
    pub period: Period,
    pub page_size: u32,
    pub generated_at: DateTime<Utc>,
    /// Groups to search for epics; empty: the top-level groups of the subject's projects.
    pub epic_groups: Vec<String>,
    /// Projects whose on-call schedules to read; empty: on-call shifts are skipped.
    pub oncall_projects: Vec<String>,
    /// Projects whose incidents' timelines to read, beyond the on-call projects and the
    /// projects of the subject's own incidents.
    pub incident_projects: Vec<String>,
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
    /// Something the reader should know that is not a failure.
    pub note: Option<String>,
    /// Why it may lack items although its own requests succeeded: a source it draws its items
    /// from failed. Marks it `partial`.
    pub degraded: Option<String>,
    /// For sources whose items land elsewhere (events): how many they read.
    pub items_read: Option<usize>,
}

impl SourceOutcome {
    pub fn new(name: &'static str, items: Vec<Item>, error: Option<GitlabError>) -> Self {
        SourceOutcome {
            name,
            items,
            error,
            skipped: None,
            note: None,
            degraded: None,
            items_read: None,
        }
    }

    pub fn skipped(name: &'static str, reason: impl Into<String>) -> Self {
        SourceOutcome {
            name,
            items: Vec::new(),
            error: None,
            skipped: Some(reason.into()),
            note: None,
            degraded: None,
            items_read: None,
        }
    }

    fn status(&self) -> SourceStatus {
        let empty = self.items_read.map_or(self.items.is_empty(), |n| n == 0);
        match (&self.skipped, &self.error, empty) {
            (Some(_), _, _) => SourceStatus::Skipped,
            (None, None, _) if self.degraded.is_some() => SourceStatus::Partial,
            (None, None, _) => SourceStatus::Ok,
            (None, Some(_), true) => SourceStatus::Failed,
            (None, Some(_), false) => SourceStatus::Partial,
        }
    }
}

/// Reads the subjects of one run share (see [`shared`]).
#[derive(Default)]
pub(crate) struct RunShared {
    pub timelines: timelines::Timelines,
    pub oncall: oncall::SharedShifts,
    pub visibility: shared::Visibility,
    /// The cache's entries for the shared reads (on-call windows, incident timelines).
    pub memory: Memory,
    /// GitLab refused a subject's four lists in one request: the others ask them on their own.
    pub changed_work_refused: std::sync::atomic::AtomicBool,
}

/// What a subject's sources keep and share beyond the request: the subject's cache entries and
/// the run's shared reads.
#[derive(Clone, Copy)]
pub(crate) struct Context<'a> {
    pub memory: &'a Memory,
    pub shared: &'a RunShared,
    /// A re-run's first page of the subject's four lists, in one request.
    pub changes: &'a changes::Changes<'a>,
}

/// Harvests every subject's sources into one snapshot, reading everything from GitLab.
pub async fn harvest(
    client: &Client,
    request: &HarvestRequest,
    progress: &Progress,
) -> Result<Snapshot, HarvestError> {
    harvest_with_cache(client, request, progress, None).await
}

/// Harvests every subject's sources into one snapshot; with a cache, a re-run for the same
/// people and period asks GitLab only for what changed (see [`incremental`]).
pub async fn harvest_with_cache(
    client: &Client,
    request: &HarvestRequest,
    progress: &Progress,
    cache: Option<Arc<RunCache>>,
) -> Result<Snapshot, HarvestError> {
    let gitlab_url = client.base_url().as_str().trim_end_matches('/').to_string();
    let mut snapshot = Snapshot::new(gitlab_url.clone(), request.period, request.generated_at);
    let mut usernames: Vec<&String> = Vec::new();
    for username in &request.usernames {
        if !usernames.iter().any(|u| u.eq_ignore_ascii_case(username)) {
            usernames.push(username);
        }
    }
    let shared = RunShared {
        memory: Memory::load(cache.as_ref(), "shared".into(), &request.period),
        ..RunShared::default()
    };
    let results = join_all(usernames.iter().map(|username| {
        harvest_subject(
            client,
            request,
            username,
            &gitlab_url,
            &shared,
            cache.as_ref(),
            progress,
        )
    }))
    .await;
    shared.memory.save();
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
                    .or_else(|| outcome.skipped.clone())
                    .or_else(|| outcome.degraded.clone())
                    .or_else(|| outcome.note.clone()),
                items: outcome.items_read.unwrap_or(outcome.items.len()),
                requests,
            });
            snapshot.items.extend(outcome.items);
        }
        snapshot.subjects.push(subject);
    }
    // Reports gl-evidence published as issues (`--publish`) are its output, not evidence.
    snapshot
        .items
        .retain(|item| !crate::deliver::publish::is_published_report(item));
    sort_items(&mut snapshot.items);
    Ok(snapshot)
}

async fn harvest_subject(
    client: &Client,
    request: &HarvestRequest,
    username: &str,
    gitlab_url: &str,
    shared: &RunShared,
    cache: Option<&Arc<RunCache>>,
    progress: &Progress,
) -> Result<(Subject, Vec<(SourceOutcome, u64)>), HarvestError> {
    let known = request
        .known
        .iter()
        .find(|s| s.username.eq_ignore_ascii_case(username) && s.id.is_some());
    if let Some(subject) = known {
        let memory = subject_memory(cache, subject.id, &request.period);
        let outcomes = harvest_sources(
            client,
            request,
            subject,
            std::future::ready(subject.id.map(|id| id.to_string())),
            &memory,
            shared,
            progress,
        )
        .await;
        // One transaction for the subject: a crash leaves the cache as it was, or with all of it.
        memory.save();
        return Ok((subject.clone(), outcomes));
    }
    // The lists ask by username: only the events and the cache need the user's id (the cache
    // keys a subject by id: a renamed account keeps its entries, a reused name gets none). So the
    // lookup goes alongside the reads, with the id the cache remembers for the name, if any; a
    // name it does not know (a first run, a renamed account) is read whole.
    let lookup = RequestCounter::default();
    let provisional = Subject {
        username: username.to_string(),
        name: None,
        id: remembered_id(cache, &shared.memory, username),
    };
    let mut memory = subject_memory(cache, provisional.id, &request.period);
    let (found, outcomes) = {
        // Everything starts now; the events wait for the id only if the name cannot stand in.
        let (id_sender, id_receiver) = tokio::sync::oneshot::channel();
        let find = async {
            let found = find_user(client, username, gitlab_url, &lookup).await;
            if let Some(id) = found.as_ref().ok().and_then(|s| s.id) {
                let _ = id_sender.send(id);
            }
            found
        };
        // A plain username does for the events, which then need not wait either.
        let plain = events::path_name(username).map(str::to_string);
        let user_id = async move {
            match plain {
                Some(name) => Some(name),
                None => id_receiver.await.ok().map(|id: u64| id.to_string()),
            }
        };
        let sources = harvest_sources(
            client,
            request,
            &provisional,
            user_id,
            &memory,
            shared,
            progress,
        );
        // An unknown user stops the reads at once: nothing of theirs is worth waiting for.
        tokio::pin!(find, sources);
        tokio::select! {
            found = &mut find => {
                let found = found?;
                (found, sources.await)
            }
            outcomes = &mut sources => (find.await?, outcomes),
        }
    };
    let mut outcomes = if provisional.id.is_some() && provisional.id != found.id {
        // The name now belongs to another account: the remembered entries were someone else's.
        tracing::info!("@{username} is another account than last time: reading everything");
        memory = subject_memory(cache, found.id, &request.period).recalling(false);
        let user_id = std::future::ready(found.id.map(|id| id.to_string()));
        let mut again =
            harvest_sources(client, request, &found, user_id, &memory, shared, progress).await;
        // The first reads were made all the same: the sources account for them too.
        for ((_, requests), (_, before)) in again.iter_mut().zip(&outcomes) {
            *requests += before;
        }
        again
    } else {
        outcomes
    };
    if let Some(id) = found.id {
        memory.set_owner(format!("user:{id}"));
        remember_id(&shared.memory, &found.username, id);
    }
    // One transaction for the subject: a crash leaves the cache as it was, or with all of it.
    memory.save();
    // GitLab's spelling of the name, which may differ in case from the one asked for.
    for (outcome, _) in &mut outcomes {
        for item in &mut outcome.items {
            item.subject.clone_from(&found.username);
        }
    }
    // The user lookup serves every source; count it once, with the first.
    if let Some((_, requests)) = outcomes.first_mut() {
        *requests += lookup.get();
    }
    Ok((found, outcomes))
}

/// A subject's cache entries (`user:<id>`); an unknown id recalls nothing.
fn subject_memory(cache: Option<&Arc<RunCache>>, id: Option<u64>, period: &Period) -> Memory {
    let owner = id.map_or_else(|| "user:unknown".to_string(), |id| format!("user:{id}"));
    Memory::load(cache, owner, period).recalling(id.is_some())
}

/// The cache's stream naming the account a username belonged to when last read.
fn id_stream(username: &str) -> String {
    format!("people/{}", username.to_ascii_lowercase())
}

fn remembered_id(cache: Option<&Arc<RunCache>>, shared: &Memory, username: &str) -> Option<u64> {
    cache?;
    shared
        .recall::<u64>(&id_stream(username))
        .and_then(|r| r.records.first().copied())
}

fn remember_id(shared: &Memory, username: &str, id: u64) {
    let now = Utc::now();
    shared.keep(&id_stream(username), now, now, &[id]);
}

/// Every source of one subject: phase one, what needs only the subject; phase two, what the
/// events point at.
async fn harvest_sources(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    // Who the events are read for: the user's id, or a plain username (see `events::path_name`).
    events_user: impl std::future::Future<Output = Option<String>>,
    memory: &Memory,
    shared: &RunShared,
    progress: &Progress,
) -> Vec<(SourceOutcome, u64)> {
    let counters: [RequestCounter; 7] = Default::default();
    let [events_counter, mr_counter, review_counter, issue_counter, incident_counter, epic_counter, oncall_counter] =
        &counters;
    let bar = progress.subject(&subject.username);
    let changes = changes::Changes::new(memory, request, &shared.changed_work_refused);
    let context = Context {
        memory,
        shared,
        changes: &changes,
    };
    // Cached records carry their projects' visibility as it was: ask once for all of them,
    // while phase one reads, so that the sources find it known.
    let cached_projects = memory.cached_projects();
    let check_visibility = async {
        if !cached_projects.is_empty() {
            let _ =
                issues::private_projects(client, &shared.visibility, &cached_projects, mr_counter)
                    .await;
        }
    };

    // Phase one: everything that needs only the subject. Epics start once the lists name the
    // groups the work lives in, and the configured incident projects' timelines at once: neither
    // waits for the events, the longest read.
    let lists = async {
        let (authored, requested, involved) = tokio::join!(
            merge_requests::harvest_authored(client, request, subject, context, mr_counter, &bar),
            reviews::fetch_requested(client, request, subject, context, review_counter, &bar),
            issues::fetch_involved(client, request, subject, context, issue_counter, &bar),
        );
        let projects = authored
            .items
            .iter()
            .filter_map(|i| i.project.as_deref())
            .chain(requested.records.iter().map(|mr| mr.project.as_str()))
            .chain(involved.0.iter().filter_map(|i| i.project.as_deref()));
        let groups = epic_groups(&request.epic_groups, projects);
        let epics = epics::harvest_epics(
            client,
            request,
            subject,
            &groups,
            memory,
            epic_counter,
            &bar,
        )
        .await;
        (authored, requested, involved, epics)
    };
    let configured_incident_projects: std::collections::BTreeSet<String> = request
        .incident_projects
        .iter()
        .chain(&request.oncall_projects)
        .cloned()
        .collect();
    // Read once per run: `issues::complete` finds them read, or being read.
    let early_timelines = shared.timelines.for_subject(
        client,
        &configured_incident_projects,
        &subject.username,
        request,
        &shared.memory,
        incident_counter,
    );
    let (_, events, (authored, requested, involved, epics), shifts, _) = tokio::join!(
        check_visibility,
        events::fetch(client, request, events_user, memory, events_counter),
        lists,
        oncall::harvest_shifts(
            client,
            request,
            subject,
            &shared.oncall,
            &shared.memory,
            oncall_counter,
            &bar
        ),
        early_timelines,
    );
    // Phase two: what the events point at. Which projects are private is asked meanwhile, for
    // every project known by now, so that the issues find it known when they are done.
    let known_projects: Vec<u64> = involved
        .0
        .iter()
        .filter_map(|i| i.project_id)
        .chain(events.issues.keys().map(|(project, _)| *project))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let early_visibility = issues::private_projects(
        client,
        &shared.visibility,
        &known_projects,
        incident_counter,
    );
    let (reviewed, (issues, incidents), _) = tokio::join!(
        reviews::complete(
            client,
            request,
            subject,
            requested,
            &events,
            context,
            review_counter
        ),
        issues::complete(
            client,
            request,
            subject,
            involved,
            &events,
            context,
            incident_counter
        ),
        early_visibility,
    );
    bar.finish();

    let mut outcomes = vec![
        // The user lookup serves every source; count it once, with the first.
        (authored, mr_counter.get()),
        (reviewed, review_counter.get()),
        (issues, issue_counter.get()),
        (incidents, incident_counter.get()),
        (epics, epic_counter.get()),
        (shifts, oncall_counter.get()),
    ];
    let interviews = separate_interviews(&mut outcomes, &request.interview);
    outcomes.push((interviews, 0));
    outcomes.push((events_outcome(events, request), events_counter.get()));
    outcomes
}

/// Moves interview work out of the sources that found it into the `interviews` source, which is
/// then only as complete as they are.
fn separate_interviews(
    outcomes: &mut [(SourceOutcome, u64)],
    config: &crate::config::InterviewConfig,
) -> SourceOutcome {
    let mut found = Vec::new();
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|(o, _)| o.error.is_some())
        .map(|(o, _)| o.name)
        .collect();
    let degraded = (!failed.is_empty()).then(|| {
        format!(
            "interview work is found among the other sources' items, and {} did not complete: some may be missing",
            failed.join(", ")
        )
    });
    for (outcome, _) in outcomes.iter_mut() {
        let (interviews, rest): (Vec<Item>, Vec<Item>) = std::mem::take(&mut outcome.items)
            .into_iter()
            .partition(|item| interview::is_interview(item, config));
        outcome.items = rest;
        found.extend(interviews.into_iter().map(interview::into_interview));
    }
    let mut outcome = SourceOutcome::new("interviews", found, None);
    outcome.degraded = degraded;
    outcome
}

/// The `events` entry: how reading the subject's events went. Reviews, issues and incidents
/// use them; its `items` count the events read.
fn events_outcome(events: events::SubjectEvents, request: &HarvestRequest) -> SourceOutcome {
    let mut outcome = SourceOutcome::new("events", Vec::new(), events.error);
    outcome.items_read = Some(events.count);
    if events::beyond_retention(&request.period, request.generated_at.date_naive()) {
        outcome.note = Some(format!(
            "the period starts more than {} years ago and GitLab deletes older events: comments, approvals and closed issues from before then are missing",
            events::RETENTION_YEARS
        ));
    }
    outcome
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

/// The groups to search for epics: the configured ones, else the top-level groups of the
/// projects the subject's other evidence lives in (sorted, without duplicates).
fn epic_groups<'a>(configured: &[String], projects: impl Iterator<Item = &'a str>) -> Vec<String> {
    if !configured.is_empty() {
        return configured.to_vec();
    }
    let groups: std::collections::BTreeSet<String> = projects
        .filter_map(|p| p.split('/').next())
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect();
    groups.into_iter().collect()
}

/// Keeps the first error, noting how many more there were.
pub(crate) fn combine(mut errors: Vec<GitlabError>) -> Option<GitlabError> {
    if errors.len() <= 1 {
        return errors.pop();
    }
    let more = errors.len() - 1;
    let first = errors.swap_remove(0);
    Some(GitlabError::GraphQl {
        operation: "several requests".into(),
        messages: format!("{first} (and {more} more failures)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epic_groups_come_from_config_else_top_level_groups() {
        let projects = [
            "gitlab-org/gitlab",
            "gitlab-com/runbooks",
            "gitlab-com/gl-infra/production",
        ];
        assert_eq!(
            epic_groups(&[], projects.into_iter()),
            vec!["gitlab-com".to_string(), "gitlab-org".to_string()]
        );
        let configured = vec!["gitlab-com/gl-infra".to_string()];
        assert_eq!(epic_groups(&configured, projects.into_iter()), configured);
        assert!(epic_groups(&[], std::iter::empty()).is_empty());
    }
}
