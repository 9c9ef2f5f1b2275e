//! A re-run's first look at a subject's four lists — merge requests authored and
//! review-requested, issues authored and assigned — in one `ChangedWork` request instead of
//! four, from the earliest of their cached reads. Only when all four come from the cache; a list
//! with more changes than the page holds goes on with its own query from the cursor (the
//! arguments, and so the cursors, are the same), and an answer that fails (GitLab finding four
//! lists too complex, say) leaves each list to its own query.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;

use crate::gitlab::graphql::{changed_work, ChangedWork};
use crate::gitlab::{Client, RequestCounter};
use crate::model::Subject;

use super::convert::MergeRequestRecord;
use super::incremental::{ListRead, Memory, MARGIN};
use super::issues::IssueRecord;
use super::paging::Page;
use super::HarvestRequest;

/// The four lists' streams in the cache.
pub(crate) const AUTHORED_MRS: &str = "merge_requests/authored";
pub(crate) const REQUESTED_MRS: &str = "reviews/requested";
pub(crate) const AUTHORED_ISSUES: &str = "issues/authored";
pub(crate) const ASSIGNED_ISSUES: &str = "issues/assigned";

/// Changes per list and request: few, and four connections of them must stay well under
/// GitLab's complexity limit.
const PAGE_SIZE: i64 = 20;

/// The first page of each list's changes.
struct ChangedPages {
    authored_mrs: Mutex<Option<Page<MergeRequestRecord>>>,
    requested_mrs: Mutex<Option<Page<MergeRequestRecord>>>,
    authored_issues: Mutex<Option<Page<IssueRecord>>>,
    assigned_issues: Mutex<Option<Page<IssueRecord>>>,
}

/// A subject's one `ChangedWork` request, made when the first list asks for it.
pub(crate) struct Changes<'a> {
    /// From when it asks; none when not all four lists are cached.
    since: Option<DateTime<Utc>>,
    pages: OnceCell<Option<ChangedPages>>,
    /// Set for the whole run once GitLab refused it: the next subjects do not try again.
    refused: &'a AtomicBool,
}

/// Who asks GitLab, for whom, counted where.
pub(crate) type Asking<'a> = (
    &'a Client,
    &'a HarvestRequest,
    &'a Subject,
    &'a RequestCounter,
);

/// Which list a source wants.
#[derive(Clone, Copy)]
pub(crate) enum List {
    AuthoredMergeRequests,
    RequestedMergeRequests,
    AuthoredIssues,
    AssignedIssues,
}

impl<'a> Changes<'a> {
    pub(crate) fn new(
        memory: &Memory,
        request: &HarvestRequest,
        refused: &'a AtomicBool,
    ) -> Changes<'a> {
        let read_at: Option<Vec<DateTime<Utc>>> = [
            AUTHORED_MRS,
            REQUESTED_MRS,
            AUTHORED_ISSUES,
            ASSIGNED_ISSUES,
        ]
        .iter()
        .map(|stream| memory.read_at(stream))
        .collect();
        let since = read_at
            .and_then(|times| times.into_iter().min())
            .map(|earliest| request.period.start().max(earliest - MARGIN));
        Changes {
            since,
            pages: OnceCell::new(),
            refused,
        }
    }

    /// The first page of the changes to a merge request list that `read` asks for; none when
    /// the list must ask on its own.
    pub(crate) async fn merge_requests(
        &self,
        list: List,
        read: &ListRead<MergeRequestRecord>,
        (client, request, subject, counter): Asking<'_>,
    ) -> Option<Page<MergeRequestRecord>> {
        if !read.is_incremental() {
            return None;
        }
        let pages = self
            .pages(read.updated_after, client, request, subject, counter)
            .await?;
        let slot = match list {
            List::AuthoredMergeRequests => &pages.authored_mrs,
            List::RequestedMergeRequests => &pages.requested_mrs,
            List::AuthoredIssues | List::AssignedIssues => return None,
        };
        slot.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// The same for an issue list.
    pub(crate) async fn issues(
        &self,
        list: List,
        read: &ListRead<IssueRecord>,
        (client, request, subject, counter): Asking<'_>,
    ) -> Option<Page<IssueRecord>> {
        if !read.is_incremental() {
            return None;
        }
        let pages = self
            .pages(read.updated_after, client, request, subject, counter)
            .await?;
        let slot = match list {
            List::AuthoredIssues => &pages.authored_issues,
            List::AssignedIssues => &pages.assigned_issues,
            List::AuthoredMergeRequests | List::RequestedMergeRequests => return None,
        };
        slot.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    async fn pages(
        &self,
        updated_after: DateTime<Utc>,
        client: &Client,
        request: &HarvestRequest,
        subject: &Subject,
        counter: &RequestCounter,
    ) -> Option<&ChangedPages> {
        // The answer must reach back at least as far as the list asks.
        let since = self.since.filter(|since| *since <= updated_after)?;
        self.pages
            .get_or_init(|| async {
                if self.refused.load(Ordering::Relaxed) {
                    return None;
                }
                let pages = read(client, request, subject, since, counter).await;
                if pages.is_none() {
                    self.refused.store(true, Ordering::Relaxed);
                }
                pages
            })
            .await
            .as_ref()
    }
}

async fn read(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    since: DateTime<Utc>,
    counter: &RequestCounter,
) -> Option<ChangedPages> {
    use changed_work::IssueType;
    let variables = changed_work::Variables {
        username: subject.username.clone(),
        assignees: Some(vec![subject.username.clone()]),
        types: Some(vec![IssueType::ISSUE, IssueType::INCIDENT, IssueType::TASK]),
        updated_after: since,
        created_before: request.period.end_exclusive(),
        first: PAGE_SIZE.min(i64::from(request.page_size)),
    };
    let data = match client.graphql::<ChangedWork>(variables, counter).await {
        Ok(data) => data,
        Err(e) => {
            tracing::debug!(
                "changes for {} in one request failed ({e}); asking each list on its own",
                subject.username
            );
            return None;
        }
    };
    macro_rules! page {
        ($connection:expr) => {
            Mutex::new(Some(Page::from_parts($connection.map(|c| {
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
            }))))
        };
    }
    let (authored_mrs, requested_mrs) = match data.user {
        Some(user) => (
            page!(user.authored_merge_requests),
            page!(user.review_requested_merge_requests),
        ),
        None => (
            Mutex::new(Some(Page::from_parts(None))),
            Mutex::new(Some(Page::from_parts(None))),
        ),
    };
    Some(ChangedPages {
        authored_mrs,
        requested_mrs,
        authored_issues: page!(data.authored),
        assigned_issues: page!(data.assigned),
    })
}
