//! The `merge_requests` source (merge requests the subject authored), and GraphQL cursor paging
//! of merge requests shared with the `reviews` source.

use std::collections::HashSet;

use crate::gitlab::graphql::{authored_merge_requests, AuthoredMergeRequests};
use crate::gitlab::{Client, GitlabError, RequestCounter};
use crate::model::Subject;
use crate::progress::SubjectProgress;

use super::convert::{authored_item, MergeRequestRecord};
use super::{HarvestRequest, SourceOutcome};

/// One page of merge requests.
pub(super) struct MergeRequestPage {
    pub records: Vec<MergeRequestRecord>,
    pub has_next: bool,
    pub end_cursor: Option<String>,
}

/// Smallest page tried when GitLab finds a query too complex.
const MIN_PAGE_SIZE: i64 = 10;

/// Follows cursors until the last page. Halves the page size when GitLab finds the query too
/// complex, and stops on a repeated cursor rather than loop forever. Records collected before an
/// error are returned with it.
pub(super) async fn paginate(
    mut page_size: i64,
    mut fetch: impl AsyncFnMut(i64, Option<String>) -> Result<MergeRequestPage, GitlabError>,
    mut on_page: impl FnMut(usize),
) -> (Vec<MergeRequestRecord>, Option<GitlabError>) {
    let mut records = Vec::new();
    let mut cursor: Option<String> = None;
    let mut seen_cursors = HashSet::new();
    loop {
        match fetch(page_size, cursor.clone()).await {
            Ok(page) => {
                records.extend(page.records);
                on_page(records.len());
                match (page.has_next, page.end_cursor) {
                    (true, Some(next)) => {
                        if !seen_cursors.insert(next.clone()) {
                            let error = GitlabError::RepeatedPage {
                                url: "GraphQL".into(),
                                page: format!("cursor {next}"),
                            };
                            return (records, Some(error));
                        }
                        cursor = Some(next);
                    }
                    _ => return (records, None),
                }
            }
            Err(GitlabError::TooComplex { .. }) if page_size > MIN_PAGE_SIZE => {
                page_size = (page_size / 2).max(MIN_PAGE_SIZE);
                tracing::info!(
                    "GitLab found the query too complex; retrying with pages of {page_size}"
                );
            }
            Err(error) => return (records, Some(error)),
        }
    }
}

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
                Some(c) => MergeRequestPage {
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
                None => MergeRequestPage {
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
    SourceOutcome {
        name: "merge_requests",
        items,
        error,
    }
}
