//! The `merge_requests` source: merge requests the subject authored.

use crate::gitlab::graphql::{authored_merge_requests, AuthoredMergeRequests};
use crate::gitlab::{Client, RequestCounter};
use crate::model::Subject;
use crate::progress::SubjectProgress;

use super::convert::{authored_item, MergeRequestRecord};
use super::paging::{paginate_windows, Page};
use super::{HarvestRequest, SourceOutcome};

pub(super) async fn harvest_authored(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    counter: &RequestCounter,
    progress: &SubjectProgress,
) -> SourceOutcome {
    let period = request.period;
    let username = subject.username.clone();
    let (records, error) = paginate_windows(
        i64::from(request.page_size),
        period.end_exclusive(),
        async |window, first, after| {
            let variables = authored_merge_requests::Variables {
                username: username.clone(),
                updated_after: period.start(),
                created_after: window.map(|(from, _)| from),
                created_before: window.map_or(period.end_exclusive(), |(_, to)| to),
                first,
                after,
            };
            let data = client
                .graphql::<AuthoredMergeRequests>(variables, counter)
                .await?;
            let connection = data.user.and_then(|u| u.authored_merge_requests);
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
        |n| progress.set("merge requests", n),
    )
    .await;
    let base_url = client.base_url().as_str();
    let items = records
        .iter()
        .filter_map(|mr| authored_item(mr, &subject.username, &period, base_url))
        .collect();
    SourceOutcome::new("merge_requests", items, error)
}
