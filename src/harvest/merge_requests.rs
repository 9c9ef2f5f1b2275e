//! The `merge_requests` source: merge requests the subject authored.

use crate::gitlab::graphql::{authored_merge_requests, AuthoredMergeRequests};
use crate::gitlab::{Client, RequestCounter};
use crate::model::Subject;
use crate::progress::SubjectProgress;

use super::changes::{List, AUTHORED_MRS};
use super::convert::{authored_item, MergeRequestRecord};
use super::incremental::ListRead;
use super::paging::Page;
use super::shared::Visibility;
use super::windows::paginate_windows;
use super::{combine, Context, HarvestRequest, SourceOutcome};

pub(super) async fn harvest_authored(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    Context {
        memory,
        shared,
        changes,
    }: Context<'_>,
    counter: &RequestCounter,
    progress: &SubjectProgress,
) -> SourceOutcome {
    let period = request.period;
    let username = subject.username.clone();
    let read = ListRead::begin(memory, AUTHORED_MRS, &period);
    let updated_after = read.updated_after;
    // A re-run's first page may have come with the other lists' changes.
    let asking = (client, request, subject, counter);
    let first = changes
        .merge_requests(List::AuthoredMergeRequests, &read, asking)
        .await;
    let (records, error) = paginate_windows(
        first,
        i64::from(request.page_size),
        period.end_exclusive(),
        async |window, first, after| {
            let variables = authored_merge_requests::Variables {
                username: username.clone(),
                updated_after,
                created_after: window.map(|(from, _)| from),
                created_before: window.map_or(period.end_exclusive(), |(_, to)| to),
                with_count: window.is_none() && after.is_none(),
                first,
                after,
            };
            let data = client
                .graphql::<AuthoredMergeRequests>(variables, counter)
                .await?;
            let user = data.user;
            let count = user
                .as_ref()
                .and_then(|u| u.total.as_ref())
                .and_then(|t| usize::try_from(t.count).ok());
            let connection = user.and_then(|u| u.authored_merge_requests);
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
        |n| progress.set("merge requests", n),
    )
    .await;
    let incremental = read.is_incremental();
    let mut records = read.finish(memory, records, error.is_none());
    let mut errors: Vec<_> = error.into_iter().collect();
    if incremental {
        errors.extend(refresh_visibility(client, &shared.visibility, &mut records, counter).await);
    }
    let base_url = client.base_url().as_str();
    let items = records
        .iter()
        .filter_map(|mr| authored_item(mr, &subject.username, &period, base_url))
        .collect();
    SourceOutcome::new("merge_requests", items, combine(errors))
}

/// Cached merge requests carry their project's visibility as it was when they were read: ask
/// again (once per run for each project), so that a project made private since makes its items
/// confidential.
pub(super) async fn refresh_visibility(
    client: &Client,
    visibility: &Visibility,
    records: &mut [MergeRequestRecord],
    counter: &RequestCounter,
) -> Option<crate::gitlab::GitlabError> {
    let projects: Vec<u64> = records
        .iter()
        .filter_map(|r| r.project_id)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let (private, error) =
        super::issues::private_projects(client, visibility, &projects, counter).await;
    if error.is_some() {
        // Unknown is not public: keep what the cache said.
        return error;
    }
    for record in records.iter_mut() {
        if let Some(id) = record.project_id {
            record.set_private(private.contains(&id));
        }
    }
    None
}
