//! GraphQL cursor paging shared by every source.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use chrono::{DateTime, Utc};
use futures::future::join_all;

use crate::gitlab::GitlabError;

use super::events::TargetKey;

/// One page of a GraphQL connection.
pub(crate) struct Page<T> {
    pub records: Vec<T>,
    pub has_next: bool,
    pub end_cursor: Option<String>,
}

/// Smallest page tried when GitLab finds a query too complex.
const MIN_PAGE_SIZE: i64 = 10;

/// Longest cursor chain followed: a last guard against a server that never says "last page".
const MAX_PAGES: usize = 10_000;

/// Follows cursors until the last page. Halves the page size when GitLab finds the query too
/// complex. A server that pages wrongly is caught rather than followed forever: a cursor seen
/// before, a page whose records were all seen before (a server ignoring `after`; the page is
/// dropped, so nothing is counted twice), more pages announced without a cursor to ask for
/// them. Records collected before an error are returned with it.
pub(crate) async fn paginate<T: std::fmt::Debug>(
    page_size: i64,
    fetch: impl AsyncFnMut(i64, Option<String>) -> Result<Page<T>, GitlabError>,
    on_page: impl FnMut(usize),
) -> (Vec<T>, Option<GitlabError>) {
    paginate_from(page_size, None, fetch, on_page).await
}

/// [`paginate`] from `cursor` on.
async fn paginate_from<T: std::fmt::Debug>(
    mut page_size: i64,
    mut cursor: Option<String>,
    mut fetch: impl AsyncFnMut(i64, Option<String>) -> Result<Page<T>, GitlabError>,
    mut on_page: impl FnMut(usize),
) -> (Vec<T>, Option<GitlabError>) {
    let mut records = Vec::new();
    // A cursor we start from counts as seen: a server answering it again is caught.
    let mut seen_cursors: HashSet<String> = cursor.iter().cloned().collect();
    // Fingerprints of the records read so far (their whole content, as Debug shows it).
    let mut seen_records = HashSet::new();
    let mut pages = 0;
    loop {
        match fetch(page_size, cursor.clone()).await {
            Ok(page) => {
                pages += 1;
                let fingerprints: Vec<u64> = page.records.iter().map(fingerprint).collect();
                if !fingerprints.is_empty() && fingerprints.iter().all(|f| seen_records.contains(f))
                {
                    let error = GitlabError::RepeatedPage {
                        url: "GraphQL".into(),
                        page: format!("after cursor {}", cursor.as_deref().unwrap_or("(none)")),
                    };
                    return (records, Some(error));
                }
                seen_records.extend(fingerprints);
                records.extend(page.records);
                on_page(records.len());
                match (page.has_next, page.end_cursor) {
                    (true, Some(next)) => {
                        if !seen_cursors.insert(next.clone()) || pages >= MAX_PAGES {
                            let error = GitlabError::RepeatedPage {
                                url: "GraphQL".into(),
                                page: format!("cursor {next}"),
                            };
                            return (records, Some(error));
                        }
                        cursor = Some(next);
                    }
                    (true, None) => {
                        let error = GitlabError::MissingCursor {
                            url: "GraphQL".into(),
                        };
                        return (records, Some(error));
                    }
                    (false, _) => return (records, None),
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

fn fingerprint<T: std::fmt::Debug>(record: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    format!("{record:?}").hash(&mut hasher);
    hasher.finish()
}

/// Pages a window of [`WINDOW_PAGES`] pages or more is worth splitting off: fewer, and the extra
/// part-filled page each window costs outweighs the time saved.
const WINDOW_PAGES: usize = 4;

/// Most windows a connection is split into.
const MAX_WINDOWS: usize = 12;

/// A connection sorted by creation time, read as fast as its size allows: the first page says
/// how many records there are (`count`); when that is many pages, the rest of the creation-time
/// range is split into windows read in parallel, each following its own cursors, instead of one
/// long chain of pages. `fetch(window, first, cursor)` asks for one page of records created in
/// `window` (both ends included; the whole range when `None`) and returns it with the total
/// count; `created` and `id` read a record's creation time and identity (windows share their
/// edges, so a record on an edge comes twice and is kept once).
pub(crate) async fn paginate_windows<T: std::fmt::Debug>(
    page_size: i64,
    end: DateTime<Utc>,
    fetch: impl AsyncFn(
        Option<(DateTime<Utc>, DateTime<Utc>)>,
        i64,
        Option<String>,
    ) -> Result<(Page<T>, Option<usize>), GitlabError>,
    created: impl Fn(&T) -> Option<DateTime<Utc>>,
    id: impl Fn(&T) -> String,
    on_page: impl Fn(usize),
) -> (Vec<T>, Option<GitlabError>) {
    let (probe, total) = match fetch(None, page_size, None).await {
        Ok(answer) => answer,
        // The plain chain shrinks its pages until GitLab accepts them.
        Err(GitlabError::TooComplex { .. }) => {
            let chain = async |first, cursor| Ok(fetch(None, first, cursor).await?.0);
            return paginate(page_size / 2, chain, on_page).await;
        }
        Err(error) => return (Vec::new(), Some(error)),
    };
    let mut records = probe.records;
    on_page(records.len());
    let cursor = match (probe.has_next, probe.end_cursor) {
        (false, _) => return (records, None),
        (true, Some(cursor)) => cursor,
        (true, None) => {
            let error = GitlabError::MissingCursor {
                url: "GraphQL".into(),
            };
            return (records, Some(error));
        }
    };
    let per_page = usize::try_from(page_size.max(1)).unwrap_or(100);
    let left_pages = total
        .map(|t| t.saturating_sub(records.len()).div_ceil(per_page))
        .unwrap_or(0);
    let from = records.last().and_then(&created);
    let (Some(from), true) = (from, left_pages > WINDOW_PAGES) else {
        // Few pages left, or no count: the chain.
        let (rest, error) = paginate_from(
            page_size,
            Some(cursor),
            async |first, cursor| Ok(fetch(None, first, cursor).await?.0),
            |n| on_page(records.len() + n),
        )
        .await;
        // A server that ignores the cursor answers the first page again: keep each record once.
        let mut seen: HashSet<String> = records.iter().map(&id).collect();
        records.extend(rest.into_iter().filter(|r| seen.insert(id(r))));
        return (records, error);
    };
    let windows = left_pages.div_ceil(WINDOW_PAGES).min(MAX_WINDOWS);
    let span = (end - from) / i32::try_from(windows).unwrap_or(1);
    let edges: Vec<DateTime<Utc>> = (0..windows)
        .map(|i| from + span * i32::try_from(i).unwrap_or(0))
        .collect();
    let fetch = &fetch;
    let read = join_all(edges.iter().enumerate().map(|(i, start)| {
        let window = (*start, edges.get(i + 1).copied().unwrap_or(end));
        async move {
            paginate(
                page_size,
                async |first, cursor| Ok(fetch(Some(window), first, cursor).await?.0),
                |_| {},
            )
            .await
        }
    }))
    .await;
    let mut error = None;
    let mut seen: HashSet<String> = records.iter().map(&id).collect();
    for (window, window_error) in read {
        records.extend(window.into_iter().filter(|r| seen.insert(id(r))));
        error = error.or(window_error);
    }
    on_page(records.len());
    (records, error)
}

/// Fetches what the events name that the first queries did not find: per project
/// (concurrently; the client bounds requests in flight), a hundred iids per request list, every
/// page. `fetch(project_id, iids, first, after)` asks GitLab for one page.
pub(crate) async fn fetch_missing<'k, T: std::fmt::Debug>(
    known: &HashSet<TargetKey>,
    wanted: impl Iterator<Item = &'k TargetKey>,
    page_size: i64,
    fetch: impl AsyncFn(u64, Vec<String>, i64, Option<String>) -> Result<Page<T>, GitlabError>,
) -> (Vec<T>, Vec<GitlabError>) {
    let mut missing: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (project_id, iid) in wanted.filter(|k| !known.contains(k)) {
        missing.entry(*project_id).or_default().push(*iid);
    }
    let fetch = &fetch;
    let per_project = join_all(
        missing
            .into_iter()
            .map(|(project_id, mut iids)| async move {
                iids.sort_unstable();
                let mut records = Vec::new();
                let mut errors = Vec::new();
                for chunk in iids.chunks(100) {
                    let iids: Vec<String> = chunk.iter().map(u64::to_string).collect();
                    let (batch, error) = paginate(
                        page_size,
                        async |first, after| fetch(project_id, iids.clone(), first, after).await,
                        |_| {},
                    )
                    .await;
                    records.extend(batch);
                    errors.extend(error);
                }
                (records, errors)
            }),
    )
    .await;
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for (batch, batch_errors) in per_project {
        records.extend(batch);
        errors.extend(batch_errors);
    }
    (records, errors)
}

impl<T> Page<T> {
    /// A connection's nodes and page info, or an empty last page when the connection is absent
    /// (an unknown user or project answers `null`).
    pub fn from_parts(parts: Option<(Vec<T>, bool, Option<String>)>) -> Self {
        let (records, has_next, end_cursor) = parts.unwrap_or_else(|| (Vec::new(), false, None));
        Page {
            records,
            has_next,
            end_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn follows_cursors_and_halves_pages_on_complexity_errors() {
        let mut calls = Vec::new();
        let (items, error) = paginate(
            100,
            async |first, after: Option<String>| {
                calls.push((first, after.clone()));
                match (calls.len(), after.as_deref()) {
                    (1, None) => Err(GitlabError::TooComplex {
                        operation: "Op".into(),
                        message: "too complex".into(),
                    }),
                    (_, None) => Ok(Page {
                        records: vec![1, 2],
                        has_next: true,
                        end_cursor: Some("a".into()),
                    }),
                    (_, Some("a")) => Ok(Page {
                        records: vec![3],
                        has_next: false,
                        end_cursor: None,
                    }),
                    _ => unreachable!(),
                }
            },
            |_| {},
        )
        .await;
        assert_eq!(items, vec![1, 2, 3]);
        assert!(error.is_none());
        assert_eq!(
            calls,
            vec![(100, None), (50, None), (50, Some("a".to_string()))]
        );
    }

    #[tokio::test]
    async fn a_repeated_cursor_stops_with_an_error_and_keeps_items() {
        let (items, error) = paginate(
            100,
            async |_, _| {
                Ok(Page {
                    records: vec![7],
                    has_next: true,
                    end_cursor: Some("same".into()),
                })
            },
            |_| {},
        )
        .await;
        assert_eq!(items, vec![7], "the repeat is detected, and not kept");
        assert!(matches!(error, Some(GitlabError::RepeatedPage { .. })));
    }

    #[tokio::test]
    async fn a_server_ignoring_the_cursor_is_caught_by_its_repeated_records() {
        let mut calls = 0;
        let (items, error) = paginate(
            100,
            async |_, _| {
                calls += 1;
                Ok(Page {
                    records: vec![1, 2],
                    has_next: true,
                    end_cursor: Some(format!("fresh-{calls}")),
                })
            },
            |_| {},
        )
        .await;
        assert_eq!(items, vec![1, 2]);
        assert_eq!(calls, 2);
        assert!(matches!(error, Some(GitlabError::RepeatedPage { .. })));
    }

    #[tokio::test]
    async fn more_pages_without_a_cursor_is_an_error_not_the_end() {
        let (items, error) = paginate(
            100,
            async |_, _| {
                Ok(Page {
                    records: vec![1],
                    has_next: true,
                    end_cursor: None,
                })
            },
            |_| {},
        )
        .await;
        assert_eq!(items, vec![1]);
        assert!(matches!(error, Some(GitlabError::MissingCursor { .. })));
    }
}
