//! The `reviews` source: merge requests the subject reviewed, approved or commented on.
//!
//! Requested reviews come from GraphQL with every reviewer's approval state in the same page.
//! Approvals and comments outside a review request come from the subject's events; the merge
//! requests they name are then fetched in batches per project.

use std::collections::HashSet;

use crate::gitlab::graphql::{
    project_merge_requests, review_requested_merge_requests, ProjectMergeRequests,
    ReviewRequestedMergeRequests,
};
use crate::gitlab::{Client, GitlabError, RequestCounter};
use crate::model::Subject;
use crate::progress::SubjectProgress;

use super::changes::{List, REQUESTED_MRS};
use super::convert::{review_item, MergeRequestRecord};
use super::events::{SubjectEvents, TargetKey};
use super::incremental::ListRead;
use super::merge_requests::refresh_visibility;
use super::paging::{fetch_missing_in_slots, five_slot_pages, five_slots, Page};
use super::windows::paginate_windows;
use super::{combine, Context, HarvestRequest, SourceOutcome};

/// Merge requests fetched by iid because events name them, in the cache.
const BY_IID: &str = "reviews/by_iid";

/// Projects asked in one `ProjectMergeRequests` request (the slots of its document).
const PROJECTS_PER_REQUEST: usize = 5;

/// Phase one's answer: merge requests where review of the subject is requested.
pub(super) struct Requested {
    pub records: Vec<MergeRequestRecord>,
    pub error: Option<GitlabError>,
    /// Some came from the cache.
    pub incremental: bool,
}

/// Phase one: merge requests where review of the subject is requested.
pub(super) async fn fetch_requested(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    Context {
        memory, changes, ..
    }: Context<'_>,
    counter: &RequestCounter,
    progress: &SubjectProgress,
) -> Requested {
    let period = request.period;
    let read = ListRead::begin(memory, REQUESTED_MRS, &period);
    let updated_after = read.updated_after;
    // A re-run's first page may have come with the other lists' changes.
    let asking = (client, request, subject, counter);
    let first = changes
        .merge_requests(List::RequestedMergeRequests, &read, asking)
        .await;
    let (records, error) = paginate_windows(
        first,
        i64::from(request.page_size),
        period.end_exclusive(),
        async |window, first, after| {
            let variables = review_requested_merge_requests::Variables {
                username: subject.username.clone(),
                updated_after,
                created_after: window.map(|(from, _)| from),
                created_before: window.map_or(period.end_exclusive(), |(_, to)| to),
                with_count: window.is_none() && after.is_none(),
                first,
                after,
            };
            let data = client
                .graphql::<ReviewRequestedMergeRequests>(variables, counter)
                .await?;
            let user = data.user;
            let count = user
                .as_ref()
                .and_then(|u| u.total.as_ref())
                .and_then(|t| usize::try_from(t.count).ok());
            let connection = user.and_then(|u| u.review_requested_merge_requests);
            let page = Page::from_parts(connection.map(|c| {
                (
                    c.nodes
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(Into::into)
                        .collect(),
                    c.page_info.has_next_page,
                    c.page_info.end_cursor,
                )
            }));
            Ok((page, count))
        },
        |mr: &MergeRequestRecord| mr.created_at,
        |mr: &MergeRequestRecord| mr.id.clone(),
        |n| progress.set("review requests", n),
    )
    .await;
    let incremental = read.is_incremental();
    Requested {
        records: read.finish(memory, records, error.is_none()),
        error,
        incremental,
    }
}

/// Phase two: adds the merge requests the subject approved or commented on without a review
/// request, and turns them all into items.
pub(super) async fn complete(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    requested: Requested,
    events: &SubjectEvents,
    Context { memory, shared, .. }: Context<'_>,
    counter: &RequestCounter,
) -> SourceOutcome {
    let Requested {
        mut records,
        error: requested_error,
        incremental,
    } = requested;
    let mut errors: Vec<GitlabError> = requested_error.into_iter().collect();
    errors.extend(events.error.clone());

    let started = chrono::Utc::now();
    let known: HashSet<TargetKey> = records.iter().filter_map(key_of).collect();
    // What the events name beyond the review requests: cached copies serve unless a new event
    // names them or they were still open; the rest are fetched.
    let cached = memory.recall::<MergeRequestRecord>(BY_IID);
    let full_at = cached.as_ref().map_or(started, |c| c.full_at);
    let reused: Vec<MergeRequestRecord> = cached
        .map(|c| c.records)
        .unwrap_or_default()
        .into_iter()
        .filter(|mr| {
            key_of(mr).is_some_and(|k| {
                !known.contains(&k)
                    && events.merge_requests.contains_key(&k)
                    && !events.new_merge_requests.contains(&k)
            }) && matches!(mr.state.as_str(), "merged" | "closed")
        })
        .collect();
    let have: HashSet<TargetKey> = known
        .iter()
        .copied()
        .chain(reused.iter().filter_map(key_of))
        .collect();
    let (fetched, fetch_errors) = fetch_missing_in_slots(
        &have,
        events.merge_requests.keys(),
        i64::from(request.page_size),
        PROJECTS_PER_REQUEST,
        async |asks, first| {
            let variables = five_slots!(project_merge_requests::Variables, asks, first);
            let data = client
                .graphql::<ProjectMergeRequests>(variables, counter)
                .await?;
            Ok(five_slot_pages!(
                data,
                asks,
                merge_requests,
                MergeRequestRecord
            ))
        },
    )
    .await;
    let from_cache = incremental || !reused.is_empty();
    let mut by_iid = reused;
    by_iid.extend(fetched);
    // A record store, not a list: what failed to arrive is simply fetched next time.
    memory.keep(BY_IID, started, full_at, &by_iid);
    records.extend(by_iid);
    errors.extend(fetch_errors);
    if from_cache {
        errors.extend(refresh_visibility(client, &shared.visibility, &mut records, counter).await);
    }

    let base_url = client.base_url().as_str();
    let mut seen = HashSet::new();
    let items = records
        .iter()
        .filter(|mr| seen.insert(mr.id.clone()))
        .filter_map(|mr| {
            let activity = key_of(mr).and_then(|k| events.merge_requests.get(&k));
            review_item(mr, &subject.username, activity, &request.period, base_url)
        })
        .collect();
    SourceOutcome::new("reviews", items, combine(errors))
}

fn key_of(mr: &MergeRequestRecord) -> Option<TargetKey> {
    Some((mr.project_id?, mr.iid.parse().ok()?))
}
