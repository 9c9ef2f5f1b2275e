//! GraphQL cursor paging shared by every source.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

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
    paginate_from(None, page_size, fetch, on_page).await
}

/// [`paginate`], from a first page another query already brought (`None`: from the start).
pub(crate) async fn paginate_from<T: std::fmt::Debug>(
    first: Option<Page<T>>,
    mut page_size: i64,
    mut fetch: impl AsyncFnMut(i64, Option<String>) -> Result<Page<T>, GitlabError>,
    mut on_page: impl FnMut(usize),
) -> (Vec<T>, Option<GitlabError>) {
    let mut records = Vec::new();
    let mut cursor: Option<String> = None;
    let mut seen_cursors = HashSet::new();
    // Fingerprints of the records read so far (their whole content, as Debug shows it).
    let mut seen_records = HashSet::new();
    if let Some(page) = first {
        seen_records.extend(page.records.iter().map(fingerprint));
        records.extend(page.records);
        on_page(records.len());
        match (page.has_next, page.end_cursor) {
            (true, Some(next)) => {
                seen_cursors.insert(next.clone());
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

/// One project's part of a batched request: which iids, and the page after which cursor.
#[derive(Debug, Clone)]
pub(crate) struct SlotAsk {
    pub project_id: u64,
    pub iids: Vec<String>,
    pub after: Option<String>,
}

/// [`fetch_missing`], several projects to a request: `fetch(asks, first)` asks GitLab for one
/// page of each ask (at most `slots` of them) and answers a page per ask, in order. Asks with
/// more pages go again in the next round, with their cursors. When GitLab finds a request too
/// complex, fewer asks go to a request, then smaller pages.
pub(crate) async fn fetch_missing_in_slots<'k, T: std::fmt::Debug>(
    known: &HashSet<TargetKey>,
    wanted: impl Iterator<Item = &'k TargetKey>,
    page_size: i64,
    slots: usize,
    fetch: impl AsyncFn(&[SlotAsk], i64) -> Result<Vec<Page<T>>, GitlabError>,
) -> (Vec<T>, Vec<GitlabError>) {
    let mut missing: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (project_id, iid) in wanted.filter(|k| !known.contains(k)) {
        missing.entry(*project_id).or_default().push(*iid);
    }
    let mut pending: Vec<SlotAsk> = Vec::new();
    for (project_id, mut iids) in missing {
        iids.sort_unstable();
        pending.extend(iids.chunks(100).map(|chunk| SlotAsk {
            project_id,
            iids: chunk.iter().map(u64::to_string).collect(),
            after: None,
        }));
    }
    let (mut slots, mut first) = (slots.max(1), page_size);
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut seen_cursors = HashSet::new();
    let mut rounds = 0;
    while !pending.is_empty() && rounds < MAX_PAGES {
        rounds += 1;
        let answers = join_all(pending.chunks(slots).map(|batch| fetch(batch, first))).await;
        let mut next = Vec::new();
        let mut too_complex = false;
        for (batch, answer) in pending.chunks(slots).zip(answers) {
            match answer {
                Ok(pages) => {
                    for (ask, page) in batch.iter().zip(pages) {
                        records.extend(page.records);
                        match (page.has_next, page.end_cursor) {
                            (false, _) => {}
                            (true, Some(cursor)) if seen_cursors.insert(cursor.clone()) => {
                                next.push(SlotAsk {
                                    after: Some(cursor),
                                    ..ask.clone()
                                });
                            }
                            (true, Some(cursor)) => errors.push(GitlabError::RepeatedPage {
                                url: "GraphQL".into(),
                                page: format!("cursor {cursor}"),
                            }),
                            (true, None) => errors.push(GitlabError::MissingCursor {
                                url: "GraphQL".into(),
                            }),
                        }
                    }
                }
                Err(GitlabError::TooComplex { .. }) if slots > 1 || first > MIN_PAGE_SIZE => {
                    too_complex = true;
                    next.extend(batch.iter().cloned());
                }
                Err(error) => errors.push(error),
            }
        }
        if too_complex {
            if slots > 1 {
                slots /= 2;
            } else {
                first = (first / 2).max(MIN_PAGE_SIZE);
            }
            tracing::info!(
                "GitLab found the query too complex; retrying with {slots} projects and pages of {first}"
            );
        }
        pending = next;
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
