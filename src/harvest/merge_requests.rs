//! The `merge_requests` source: merge requests the subject authored.

use crate::gitlab::graphql::{authored_merge_requests, AuthoredMergeRequests};
use crate::gitlab::{Client, RequestCounter};
use crate::model::Subject;
use crate::progress::SubjectProgress;

use super::convert::authored_item;
use super::paging::{paginate, Page};
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
    let (records, error) = paginate(
        i64::from(request.page_size),
        async |first, after| {
            let variables = authored_merge_requests::Variables {
                username: username.clone(),
                updated_after: period.start(),
                created_before: period.end_exclusive(),
                first,
                after,
            };
            let data = client
                .graphql::<AuthoredMergeRequests>(variables, counter)
                .await?;
            let connection = data.user.and_then(|u| u.authored_merge_requests);
            Ok(match connection {
                Some(c) => Page {
                    records: c
                        .nodes
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(Into::into)
                        .collect(),
                    has_next: c.page_info.has_next_page,
                    end_cursor: c.page_info.end_cursor,
                },
                None => Page {
                    records: Vec::new(),
                    has_next: false,
                    end_cursor: None,
                },
            })
        },
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
