//! A long list read as several short ones at once. A connection sorted by creation time is a
//! chain of pages, each asked for with the cursor the one before returned: a year of review
//! requests is thirty round trips one after another. Its first page says how many records
//! there are (`count`); when the rest is many pages, the creation-time range left is split into
//! windows, each read as its own connection, all at once.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use futures::future::join_all;

use crate::gitlab::GitlabError;

use super::paging::{paginate, paginate_from, Page};

/// Pages a window holds at least: each window costs a part-filled last page, so splitting
/// finer saves less time than the extra requests cost GitLab.
const WINDOW_PAGES: usize = 5;

/// Most windows one list is split into.
const MAX_WINDOWS: usize = 12;

/// Creation times, both ends included (`createdAfter` and `createdBefore` are inclusive).
pub(crate) type Window = (DateTime<Utc>, DateTime<Utc>);

/// Reads a connection sorted by creation time (oldest first) that ends at `end`.
///
/// `fetch(window, first, cursor)` asks for one page of the records created in `window` (`None`:
/// the whole list) and returns it with the list's `count`, which only the first page of the
/// whole list needs to ask for. `created` and `id` read a record's creation time and identity:
/// windows share their edges, so a record on an edge comes twice and is kept once.
///
/// A first page another query already brought (`first`, a re-run's changes) is continued as a
/// plain chain: a list of changes is short. Records collected before an error are returned with
/// it, and every window keeps [`paginate`]'s guards against a server that pages wrongly.
pub(crate) async fn paginate_windows<T: std::fmt::Debug>(
    first: Option<Page<T>>,
    page_size: i64,
    end: DateTime<Utc>,
    fetch: impl AsyncFn(
        Option<Window>,
        i64,
        Option<String>,
    ) -> Result<(Page<T>, Option<usize>), GitlabError>,
    created: impl Fn(&T) -> Option<DateTime<Utc>>,
    id: impl Fn(&T) -> String,
    on_page: impl Fn(usize),
) -> (Vec<T>, Option<GitlabError>) {
    let chain = async |first, cursor| Ok(fetch(None, first, cursor).await?.0);
    if first.is_some() {
        return paginate_from(first, page_size, chain, &on_page).await;
    }
    let (probe, total) = match fetch(None, page_size, None).await {
        Ok(answer) => answer,
        // The chain shrinks its pages until GitLab accepts them.
        Err(GitlabError::TooComplex { .. }) => return paginate(page_size, chain, &on_page).await,
        Err(error) => return (Vec::new(), Some(error)),
    };
    let per_page = usize::try_from(page_size.max(1)).unwrap_or(100);
    let pages_left = total.map_or(0, |t| {
        t.saturating_sub(probe.records.len()).div_ceil(per_page)
    });
    let from = probe.records.last().and_then(&created);
    let (Some(from), true, true) = (from, probe.has_next, pages_left >= 2 * WINDOW_PAGES) else {
        // Few pages left, or no count to tell: the chain, from the page we have.
        return paginate_from(Some(probe), page_size, chain, &on_page).await;
    };
    if from >= end {
        return paginate_from(Some(probe), page_size, chain, &on_page).await;
    }
    let windows = split(from, end, (pages_left / WINDOW_PAGES).min(MAX_WINDOWS));
    let mut records = probe.records;
    on_page(records.len());
    let fetch = &fetch;
    let read = join_all(windows.into_iter().map(|window| async move {
        paginate(
            page_size,
            async |first, cursor| Ok(fetch(Some(window), first, cursor).await?.0),
            |_| {},
        )
        .await
    }))
    .await;
    let mut seen: HashSet<String> = records.iter().map(&id).collect();
    let mut error = None;
    for (window, window_error) in read {
        records.extend(window.into_iter().filter(|r| seen.insert(id(r))));
        error = error.or(window_error);
    }
    on_page(records.len());
    (records, error)
}

/// `count` windows of equal length covering `[from, end]`, each sharing its edges with its
/// neighbours.
fn split(from: DateTime<Utc>, end: DateTime<Utc>, count: usize) -> Vec<Window> {
    let count = i32::try_from(count.max(1)).unwrap_or(1);
    let span = (end - from) / count;
    (0..count)
        .map(|i| {
            let start = from + span * i;
            let stop = if i + 1 == count {
                end
            } else {
                from + span * (i + 1)
            };
            (start, stop)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// A record: its number and creation time.
    type Row = (usize, DateTime<Utc>);

    /// A server holding `n` records created an hour apart, answering windows and cursors like
    /// GitLab (inclusive creation-time bounds, oldest first); it logs what it was asked.
    struct Server {
        created: Vec<DateTime<Utc>>,
        asked: Mutex<Vec<(Option<Window>, Option<String>)>>,
    }

    impl Server {
        fn new(n: usize) -> Server {
            let start = t("2026-01-01T00:00:00Z");
            Server {
                created: (0..n)
                    .map(|i| start + chrono::Duration::hours(i as i64))
                    .collect(),
                asked: Mutex::new(Vec::new()),
            }
        }

        fn answer(
            &self,
            window: Option<Window>,
            first: i64,
            cursor: Option<String>,
        ) -> Result<(Page<Row>, Option<usize>), GitlabError> {
            self.asked.lock().unwrap().push((window, cursor.clone()));
            let rows: Vec<Row> = self
                .created
                .iter()
                .copied()
                .enumerate()
                .filter(|(_, c)| window.is_none_or(|(a, b)| a <= *c && *c <= b))
                .collect();
            let offset: usize = cursor.map_or(0, |c| c.parse().unwrap());
            let stop = (offset + first as usize).min(rows.len());
            Ok((
                Page {
                    records: rows[offset..stop].to_vec(),
                    has_next: stop < rows.len(),
                    end_cursor: Some(stop.to_string()),
                },
                Some(rows.len()),
            ))
        }
    }

    async fn read(server: &Server, end: DateTime<Utc>) -> Vec<Row> {
        let (records, error) = paginate_windows(
            None,
            10,
            end,
            async |window, first, cursor| server.answer(window, first, cursor),
            |r: &Row| Some(r.1),
            |r| r.0.to_string(),
            |_| {},
        )
        .await;
        assert!(error.is_none(), "{error:?}");
        records
    }

    #[tokio::test]
    async fn a_long_list_is_read_in_windows_each_record_once() {
        let server = Server::new(205);
        let end = t("2026-02-01T00:00:00Z");
        let mut records = read(&server, end).await;
        records.sort();
        assert_eq!(records.len(), 205, "every record, none twice");
        assert!(records.iter().enumerate().all(|(i, r)| r.0 == i));
        let asked = server.asked.lock().unwrap();
        let windows: HashSet<_> = asked.iter().filter_map(|(w, _)| *w).collect();
        // 195 records left at 10 a page: 20 pages, in windows of at least five.
        assert_eq!(windows.len(), 4, "{windows:?}");
        let (first, _) = asked[0];
        assert!(first.is_none(), "the first page is the whole list's");
        assert!(windows.iter().all(|(from, to)| from < to && *to <= end));
        assert!(
            asked.len() <= 21 + windows.len(),
            "{} requests for 21 pages",
            asked.len()
        );
    }

    #[tokio::test]
    async fn a_short_list_is_one_chain() {
        let server = Server::new(45);
        let records = read(&server, t("2026-02-01T00:00:00Z")).await;
        assert_eq!(records.len(), 45);
        let asked = server.asked.lock().unwrap();
        assert_eq!(asked.len(), 5);
        assert!(asked.iter().all(|(w, _)| w.is_none()));
    }

    #[tokio::test]
    async fn a_failing_window_keeps_what_the_others_read() {
        let server = Server::new(205);
        let (records, error) = paginate_windows(
            None,
            10,
            t("2026-02-01T00:00:00Z"),
            async |window: Option<Window>, first, cursor| match window {
                Some((from, _)) if from > t("2026-01-05T00:00:00Z") => Err(GitlabError::Status {
                    url: "GraphQL".into(),
                    status: 500,
                    message: "boom".into(),
                }),
                _ => server.answer(window, first, cursor),
            },
            |r: &Row| Some(r.1),
            |r| r.0.to_string(),
            |_| {},
        )
        .await;
        assert!(matches!(
            error,
            Some(GitlabError::Status { status: 500, .. })
        ));
        assert!(
            records.len() >= 10 && records.len() < 205,
            "{}",
            records.len()
        );
    }

    #[test]
    fn windows_cover_the_range_edge_to_edge() {
        let (from, end) = (t("2026-01-01T00:00:00Z"), t("2026-01-01T00:00:10Z"));
        let windows = split(from, end, 3);
        assert_eq!(windows.len(), 3);
        assert_eq!(windows[0].0, from);
        assert_eq!(windows[2].1, end);
        assert!(windows.windows(2).all(|w| w[0].1 == w[1].0));
    }
}
