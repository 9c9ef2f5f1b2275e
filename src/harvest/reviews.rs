//! The `reviews` source: merge requests the subject reviewed, approved or commented on.
//!
//! Requested reviews come from GraphQL with every reviewer's approval state in the same page.
//! Approvals and comments outside a review request come from the subject's events (one paged
//! list each, never a request per comment); the merge requests they name are then fetched in
//! batches per project.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Days;
use futures::future::join_all;

use crate::gitlab::graphql::{
    project_merge_requests, review_requested_merge_requests, ProjectMergeRequests,
    ReviewRequestedMergeRequests,
};
use crate::gitlab::types::Event;
use crate::gitlab::{Client, GitlabError, RequestCounter};
use crate::model::Subject;
use crate::progress::SubjectProgress;

use super::convert::{review_item, MergeRequestRecord, ReviewActivity};
use super::paging::{paginate, Page};
use super::{HarvestRequest, SourceOutcome};

/// (project id, merge request iid): how events name a merge request.
type MergeRequestKey = (u64, u64);

pub(super) async fn harvest_reviews(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    counter: &RequestCounter,
    progress: &SubjectProgress,
) -> SourceOutcome {
    let period = request.period;
    let page_size = i64::from(request.page_size);
    let mut errors: Vec<GitlabError> = Vec::new();

    let requested = paginate(
        page_size,
        async |first, after| {
            let variables = review_requested_merge_requests::Variables {
                username: subject.username.clone(),
                updated_after: period.start(),
                created_before: period.end_exclusive(),
                first,
                after,
            };
            let data = client
                .graphql::<ReviewRequestedMergeRequests>(variables, counter)
                .await?;
            let connection = data.user.and_then(|u| u.review_requested_merge_requests);
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
        |n| progress.set("review requests", n),
    );
    let events = fetch_events(client, request, subject, counter);
    let ((mut records, requested_error), (activity, events_error)) =
        tokio::join!(requested, events);
    errors.extend(requested_error);
    errors.extend(events_error);

    // Merge requests the subject approved or commented on without a review request.
    let known: HashSet<MergeRequestKey> = records.iter().filter_map(key_of).collect();
    let mut missing: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for key in activity.keys().filter(|k| !known.contains(k)) {
        missing.entry(key.0).or_default().push(key.1);
    }
    let fetched = join_all(missing.into_iter().map(|(project_id, iids)| {
        fetch_project_merge_requests(client, project_id, iids, page_size, counter)
    }))
    .await;
    for (batch, error) in fetched {
        records.extend(batch);
        errors.extend(error);
    }
    progress.set("reviews", records.len());

    let base_url = client.base_url().as_str();
    let mut seen = HashSet::new();
    let items = records
        .iter()
        .filter(|mr| seen.insert(mr.id.clone()))
        .filter_map(|mr| {
            let activity = key_of(mr).and_then(|k| activity.get(&k));
            review_item(mr, &subject.username, activity, &period, base_url)
        })
        .collect();
    SourceOutcome::new("reviews", items, combine(errors))
}

fn key_of(mr: &MergeRequestRecord) -> Option<MergeRequestKey> {
    Some((mr.project_id?, mr.iid.parse().ok()?))
}

/// The subject's comments and approvals on merge requests in the period, from the events API.
async fn fetch_events(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    counter: &RequestCounter,
) -> (
    HashMap<MergeRequestKey, ReviewActivity>,
    Option<GitlabError>,
) {
    let Some(user_id) = subject.id else {
        return (HashMap::new(), None);
    };
    let path = format!("users/{user_id}/events");
    // The events API takes exclusive dates.
    let after = request.period.from - Days::new(1);
    let before = request.period.to + Days::new(1);
    let query = |action: &str| {
        vec![
            ("action", action.to_string()),
            ("after", after.to_string()),
            ("before", before.to_string()),
            ("sort", "asc".to_string()),
        ]
    };
    let (comment_query, approval_query) = (query("commented"), query("approved"));
    let (comments, approvals) = tokio::join!(
        client.rest_get_all::<Event>(&path, &comment_query, counter, |_| {}),
        client.rest_get_all::<Event>(&path, &approval_query, counter, |_| {}),
    );
    let activity = summarise_events(&comments.items, &approvals.items, &request.period);
    let error = combine(comments.error.into_iter().chain(approvals.error).collect());
    (activity, error)
}

/// Counts comments and notes approvals per merge request. Comments on issues and system notes
/// are not reviews.
pub(super) fn summarise_events(
    comments: &[Event],
    approvals: &[Event],
    period: &crate::model::Period,
) -> HashMap<MergeRequestKey, ReviewActivity> {
    let mut activity: HashMap<MergeRequestKey, ReviewActivity> = HashMap::new();
    for event in comments {
        let Some(note) = &event.note else { continue };
        if note.noteable_type.as_deref() != Some("MergeRequest") {
            continue;
        }
        if let (Some(project), Some(iid)) = (event.project_id, note.noteable_iid) {
            let at = event.created_at.or(note.created_at);
            touch(&mut activity, (project, iid), at, period).comments += 1;
        }
    }
    for event in approvals {
        let is_mr = event.target_type.as_deref() == Some("MergeRequest");
        let is_approval = event.action_name.as_deref() == Some("approved");
        if let (true, true, Some(project), Some(iid)) =
            (is_mr, is_approval, event.project_id, event.target_iid)
        {
            touch(&mut activity, (project, iid), event.created_at, period).approved = true;
        }
    }
    activity
}

/// The activity entry for a merge request, its last activity time advanced to `at`.
fn touch<'a>(
    activity: &'a mut HashMap<MergeRequestKey, ReviewActivity>,
    key: MergeRequestKey,
    at: Option<chrono::DateTime<chrono::Utc>>,
    period: &crate::model::Period,
) -> &'a mut ReviewActivity {
    let entry = activity.entry(key).or_default();
    if let Some(at) = at.filter(|at| period.contains(*at)) {
        entry.last_at = entry.last_at.max(Some(at));
    }
    entry
}

async fn fetch_project_merge_requests(
    client: &Client,
    project_id: u64,
    iids: Vec<u64>,
    page_size: i64,
    counter: &RequestCounter,
) -> (Vec<MergeRequestRecord>, Option<GitlabError>) {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    // `iids` is one argument list; keep each request's list within a page.
    for chunk in iids.chunks(100) {
        let iids: Vec<String> = chunk.iter().map(u64::to_string).collect();
        let (batch, error) = paginate(
            page_size,
            async |first, after| {
                let variables = project_merge_requests::Variables {
                    project_ids: vec![format!("gid://gitlab/Project/{project_id}")],
                    iids: iids.clone(),
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
            |_| {},
        )
        .await;
        records.extend(batch);
        errors.extend(error);
    }
    (records, combine(errors))
}

/// Keeps the first error, noting how many more there were.
fn combine(mut errors: Vec<GitlabError>) -> Option<GitlabError> {
    if errors.len() <= 1 {
        return errors.pop();
    }
    let more = errors.len() - 1;
    let first = errors.swap_remove(0);
    Some(GitlabError::GraphQl {
        operation: "several requests".into(),
        messages: format!("{first} (and {more} more failures)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::types::EventNote;
    use crate::model::Period;

    fn note_event(project: u64, iid: u64, kind: &str, at: &str) -> Event {
        Event {
            project_id: Some(project),
            action_name: Some("commented on".into()),
            target_type: Some("DiffNote".into()),
            target_iid: None,
            created_at: Some(at.parse().unwrap()),
            note: Some(EventNote {
                noteable_type: Some(kind.into()),
                noteable_iid: Some(iid),
                created_at: None,
            }),
        }
    }

    #[test]
    fn events_are_counted_per_merge_request() {
        let period = Period::parse_quarter("2026Q3", 2).unwrap();
        let comments = vec![
            note_event(1, 5, "MergeRequest", "2026-07-01T00:00:00Z"),
            note_event(1, 5, "MergeRequest", "2026-07-03T00:00:00Z"),
            note_event(2, 5, "MergeRequest", "2026-07-02T00:00:00Z"),
            note_event(1, 6, "Issue", "2026-07-02T00:00:00Z"),
        ];
        let approvals = vec![Event {
            project_id: Some(1),
            action_name: Some("approved".into()),
            target_type: Some("MergeRequest".into()),
            target_iid: Some(9),
            created_at: Some("2026-08-01T00:00:00Z".parse().unwrap()),
            note: None,
        }];
        let a = summarise_events(&comments, &approvals, &period);
        assert_eq!(a.len(), 3, "the issue comment is not a review: {a:?}");
        assert_eq!(a[&(1, 5)].comments, 2);
        assert_eq!(
            a[&(1, 5)].last_at,
            Some("2026-07-03T00:00:00Z".parse().unwrap())
        );
        assert_eq!(a[&(2, 5)].comments, 1);
        assert!(a[&(1, 9)].approved && a[&(1, 9)].comments == 0);
    }
}
