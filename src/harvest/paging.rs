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

/// One project's part of a batched request: which iids, and the page after which cursor.
#[derive(Debug, Clone)]
pub(crate) struct SlotAsk {
    pub project_id: u64,
    pub iids: Vec<String>,
    pub after: Option<String>,
}

/// Fetches what the events name that the first queries did not find (`wanted` less `known`),
/// several projects to a request, a hundred iids to a project's ask: `fetch(asks, first)` asks
/// GitLab for one page of each ask (at most `slots` of them) and answers a page per ask, in
/// order. Asks with
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

/// The variables of a request whose document has five project slots (`$pK` the project, `$iK`
/// its iids, `$aK` the cursor, `$useK` the switch; `ProjectMergeRequests`, `ProjectIssues`): a
/// slot per ask, the rest switched off, repeating the first ask as the types want every slot
/// filled.
macro_rules! five_slots {
    ($variables:path, $asks:expr, $first:expr) => {{
        let asks: &[$crate::harvest::paging::SlotAsk] = $asks;
        let slot = |k: usize| {
            let ask = asks.get(k).unwrap_or(&asks[0]);
            (
                vec![format!("gid://gitlab/Project/{}", ask.project_id)],
                ask.iids.clone(),
                asks.get(k).and_then(|a| a.after.clone()),
                k < asks.len(),
            )
        };
        let [(p0, i0, a0, use0), (p1, i1, a1, use1), (p2, i2, a2, use2), (p3, i3, a3, use3), (p4, i4, a4, use4)] =
            std::array::from_fn(slot);
        $variables {
            first: $first,
            p0,
            i0,
            a0,
            use0,
            p1,
            i1,
            a1,
            use1,
            p2,
            i2,
            a2,
            use2,
            p3,
            i3,
            a3,
            use3,
            p4,
            i4,
            a4,
            use4,
        }
    }};
}

/// The pages of a five-slot answer (see [`five_slots`]), one per ask: slot `sK`'s one project's
/// `$connection`, its nodes turned into `$record`s. Each slot has a type of its own, hence a
/// macro.
macro_rules! five_slot_pages {
    ($data:expr, $asks:expr, $connection:ident, $record:ty) => {{
        macro_rules! page {
            ($slot:expr) => {{
                let connection = $slot
                    .and_then(|p| p.nodes)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .next()
                    .and_then(|p| p.$connection);
                $crate::harvest::paging::Page::from_parts(connection.map(|c| {
                    (
                        c.nodes
                            .into_iter()
                            .flatten()
                            .flatten()
                            .map(<$record>::from)
                            .collect(),
                        c.page_info.has_next_page,
                        c.page_info.end_cursor,
                    )
                }))
            }};
        }
        let data = $data;
        let pages = [
            page!(data.s0),
            page!(data.s1),
            page!(data.s2),
            page!(data.s3),
            page!(data.s4),
        ];
        pages.into_iter().take($asks.len()).collect::<Vec<_>>()
    }};
}

pub(crate) use {five_slot_pages, five_slots};

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn missing_items_go_several_projects_to_a_request_and_follow_their_pages() {
        // Seven projects with one wanted iid each, project 3 with a second page; the first
        // request is refused as too complex.
        let wanted: Vec<TargetKey> = (1..=7).map(|p| (p, 10)).collect();
        let known = HashSet::from([(7, 10)]);
        let calls = std::sync::Mutex::new(Vec::new());
        let (records, errors) = fetch_missing_in_slots(
            &known,
            wanted.iter(),
            100,
            4,
            async |asks: &[SlotAsk], _first| {
                let mut calls = calls.lock().unwrap();
                calls.push(asks.len());
                if calls.len() == 1 {
                    return Err(GitlabError::TooComplex {
                        operation: "Op".into(),
                        message: "too complex".into(),
                    });
                }
                Ok(asks
                    .iter()
                    .map(|ask| match (ask.project_id, ask.after.as_deref()) {
                        (3, None) => Page {
                            records: vec![(3, 1)],
                            has_next: true,
                            end_cursor: Some("3-more".into()),
                        },
                        (3, Some("3-more")) => Page {
                            records: vec![(3, 2)],
                            has_next: false,
                            end_cursor: None,
                        },
                        (project, _) => Page {
                            records: vec![(project, 1)],
                            has_next: false,
                            end_cursor: None,
                        },
                    })
                    .collect())
            },
        )
        .await;
        assert!(errors.is_empty(), "{errors:?}");
        let mut records = records;
        records.sort();
        assert_eq!(
            records,
            vec![(1, 1), (2, 1), (3, 1), (3, 2), (4, 1), (5, 1), (6, 1)],
            "every project's records, the known one not asked"
        );
        // Four refused (the other two, asked alongside, went through), then two to a request,
        // then project 3's second page alone.
        assert_eq!(*calls.lock().unwrap(), vec![4, 2, 2, 2, 1]);
    }

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
