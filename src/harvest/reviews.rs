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

use super::convert::{review_item, MergeRequestRecord};
use super::events::{SubjectEvents, TargetKey};
use super::paging::{fetch_missing, paginate_windows, Page};
use super::{combine, HarvestRequest, SourceOutcome};

/// Phase one: merge requests where review of the subject is requested.
pub(super) async fn fetch_requested(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    counter: &RequestCounter,
    progress: &SubjectProgress,
) -> (Vec<MergeRequestRecord>, Option<GitlabError>) {
    let period = request.period;
    paginate_windows(
        i64::from(request.page_size),
        period.end_exclusive(),
        async |window, first, after| {
            let variables = review_requested_merge_requests::Variables {
                username: subject.username.clone(),
                updated_after: period.start(),
                created_after: window.map(|(from, _)| from),
                created_before: window.map_or(period.end_exclusive(), |(_, to)| to),
                first,
                after,
            };
            let data = client
                .graphql::<ReviewRequestedMergeRequests>(variables, counter)
                .await?;
            let connection = data.user.and_then(|u| u.review_requested_merge_requests);
            let total = connection
                .as_ref()
                .and_then(|c| usize::try_from(c.count).ok());
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
            Ok((page, total))
        },
        |mr: &MergeRequestRecord| mr.created_at,
        |mr: &MergeRequestRecord| mr.id.clone(),
        |n| progress.set("review requests", n),
    )
    .await
}

/// Phase two: adds the merge requests the subject approved or commented on without a review
/// request, and turns them all into items.
pub(super) async fn complete(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    requested: (Vec<MergeRequestRecord>, Option<GitlabError>),
    events: &SubjectEvents,
    counter: &RequestCounter,
) -> SourceOutcome {
    let (mut records, requested_error) = requested;
    let mut errors: Vec<GitlabError> = requested_error.into_iter().collect();
    errors.extend(events.error.clone());

    let known: HashSet<TargetKey> = records.iter().filter_map(key_of).collect();
    let (fetched, fetch_errors) = fetch_missing(
        &known,
        events.merge_requests.keys(),
        i64::from(request.page_size),
        async |project_id, iids, first, after| {
            let variables = project_merge_requests::Variables {
                project_ids: vec![format!("gid://gitlab/Project/{project_id}")],
                iids,
                first,
                after,
            };
            let data = client
                .graphql::<ProjectMergeRequests>(variables, counter)
                .await?;
            let connection = data
                .projects
                .and_then(|p| p.nodes)
                .into_iter()
                .flatten()
                .flatten()
                .next()
                .and_then(|p| p.merge_requests);
            Ok(Page::from_parts(connection.map(|c| {
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
            })))
        },
    )
    .await;
    records.extend(fetched);
    errors.extend(fetch_errors);

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
