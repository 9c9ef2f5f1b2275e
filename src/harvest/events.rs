//! The subject's contribution events (REST `/users/:id/events`): comments, approvals and closed
//! issues in the period, read once as three paged lists and shared by the sources that need
//! them, so no source makes a request per comment.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Days, Utc};
use futures::future::join_all;

use crate::gitlab::types::Event;
use crate::gitlab::{Client, GitlabError, RequestCounter};
use crate::model::Period;

use super::incremental::{Memory, Recalled, MARGIN};
use super::HarvestRequest;

/// (project id, iid): how events name a merge request or an issue.
pub(crate) type TargetKey = (u64, u64);

/// What the subject did on one merge request or issue within the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Activity {
    pub comments: u32,
    pub approved: bool,
    pub closed: bool,
    /// When the subject last commented on, approved or closed it.
    pub last_at: Option<DateTime<Utc>>,
}

/// The subject's events, grouped by what they touched.
#[derive(Debug, Default)]
pub(crate) struct SubjectEvents {
    pub merge_requests: HashMap<TargetKey, Activity>,
    pub issues: HashMap<TargetKey, Activity>,
    /// Events read, for the `events` source entry.
    pub count: usize,
    pub error: Option<GitlabError>,
    /// Targets named by events the cache did not hold (all of them on a cold run): their
    /// records may have changed since they were cached.
    pub new_merge_requests: HashSet<TargetKey>,
    pub new_issues: HashSet<TargetKey>,
}

/// GitLab deletes events older than three years.
pub const RETENTION_YEARS: u32 = 3;

/// True when the period starts before GitLab's event retention: event-based evidence
/// (comments, approvals, closed issues) may be missing.
pub fn beyond_retention(period: &Period, today: chrono::NaiveDate) -> bool {
    let horizon = today
        .checked_sub_months(chrono::Months::new(12 * RETENTION_YEARS))
        .unwrap_or(today);
    period.from < horizon
}

/// The action streams, as the events API names them, and the `action_name` their events carry.
const ACTIONS: [(&str, &str); 3] = [
    ("commented", "commented on"),
    ("approved", "approved"),
    ("closed", "closed"),
];

pub(crate) async fn fetch(
    client: &Client,
    request: &HarvestRequest,
    user: impl std::future::Future<Output = Option<String>>,
    memory: &Memory,
    counter: &RequestCounter,
) -> SubjectEvents {
    // The user's id, or their username (see [`path_name`]).
    let Some(user) = user.await else {
        return SubjectEvents::default();
    };
    let path = format!("users/{user}/events");
    let [comments, approvals, closes] =
        read_actions(client, &path, &request.period, memory, counter).await;
    let mut events = summarise(
        &comments.events,
        &approvals.events,
        &closes.events,
        &request.period,
    );
    let new = summarise(&comments.new, &approvals.new, &closes.new, &request.period);
    events.new_merge_requests = new.merge_requests.into_keys().collect();
    events.new_issues = new.issues.into_keys().collect();
    events.count = comments.events.len() + approvals.events.len() + closes.events.len();
    events.error = comments.error.or(approvals.error).or(closes.error);
    events
}

/// The username as GitLab's `users/:id/...` paths take it in place of the id, when it is plain
/// letters, digits, `-` and `_`: a dot could be read as a format extension (`john.doe` as
/// `john`, format `doe`), and anything else is no username at all. Otherwise the id is needed.
pub(crate) fn path_name(username: &str) -> Option<&str> {
    let plain = !username.is_empty()
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plain.then_some(username)
}

/// One action's events in the period.
#[derive(Default)]
struct ActionRead {
    events: Vec<Event>,
    /// Those the cache did not hold.
    new: Vec<Event>,
    error: Option<GitlabError>,
}

fn stream(action: &str) -> String {
    format!("events/{action}")
}

/// The three actions' events in the period. A first run asks for each action's events; a
/// re-run asks for all the subject's events from the day of the earliest cached read on (the
/// API's dates are exclusive: one day earlier), in one list that is usually one page, and
/// sorts them by action, merging by event id; once the period ended before the cached reads,
/// it asks nothing.
async fn read_actions(
    client: &Client,
    path: &str,
    period: &Period,
    memory: &Memory,
    counter: &RequestCounter,
) -> [ActionRead; 3] {
    let started = Utc::now();
    let priors = ACTIONS.map(|(action, _)| {
        memory
            .recall::<Event>(&stream(action))
            .filter(|p| p.records.iter().all(|e| e.id.is_some()))
    });
    let before = period.to + Days::new(1);
    let query = |action: Option<&str>, after: chrono::NaiveDate| {
        let mut query = vec![
            ("after", after.to_string()),
            ("before", before.to_string()),
            ("sort", "asc".to_string()),
        ];
        query.extend(action.map(|a| ("action", a.to_string())));
        query
    };
    let [Some(a), Some(b), Some(c)] = priors else {
        // A first read (or an incomplete cache): each action's events in the period.
        let after = period.from - Days::new(1);
        let reads = join_all(ACTIONS.map(|(action, _)| {
            let query = query(Some(action), after);
            async move {
                let read = client
                    .rest_get_all::<Event>(path, &query, counter, |_| {})
                    .await;
                if read.error.is_none() && read.items.iter().all(|e| e.id.is_some()) {
                    memory.keep(&stream(action), started, started, &read.items);
                }
                ActionRead {
                    new: read.items.clone(),
                    events: read.items,
                    error: read.error,
                }
            }
        }))
        .await;
        let mut reads = reads.into_iter();
        return std::array::from_fn(|_| reads.next().unwrap_or_default());
    };
    let priors: [Recalled<Event>; 3] = [a, b, c];
    let since = priors.iter().map(|p| p.read_at).min().unwrap_or(started) - MARGIN;
    if since >= period.end_exclusive() {
        // Nothing dated in the period can appear any more.
        return priors.map(|p| ActionRead {
            events: p.records,
            new: Vec::new(),
            error: None,
        });
    }
    let after = (period.from - Days::new(1)).max(since.date_naive() - Days::new(1));
    let read = client
        .rest_get_all::<Event>(path, &query(None, after), counter, |_| {})
        .await;
    let mut complete = read.error.is_none();
    let mut fresh: [Vec<Event>; 3] = Default::default();
    for event in read.items {
        if event.id.is_none() {
            complete = false;
            continue;
        }
        let action = event.action_name.as_deref();
        if let Some(i) = ACTIONS.iter().position(|(_, name)| Some(*name) == action) {
            fresh[i].push(event);
        }
    }
    let mut fresh = fresh.into_iter();
    let mut index = 0;
    priors.map(|prior| {
        let (action, _) = ACTIONS[index];
        index += 1;
        let mut by_id: std::collections::BTreeMap<u64, Event> = prior
            .records
            .into_iter()
            .filter_map(|e| Some((e.id?, e)))
            .collect();
        let mut new = Vec::new();
        for event in fresh.next().unwrap_or_default() {
            if let Some(id) = event.id {
                if by_id.insert(id, event.clone()).is_none() {
                    new.push(event);
                }
            }
        }
        let events: Vec<Event> = by_id.into_values().collect();
        if complete {
            memory.keep(&stream(action), started, prior.full_at, &events);
        }
        ActionRead {
            events,
            new,
            error: read.error.clone(),
        }
    })
}

/// Groups events per merge request and issue. System notes and other targets are ignored.
pub(crate) fn summarise(
    comments: &[Event],
    approvals: &[Event],
    closes: &[Event],
    period: &Period,
) -> SubjectEvents {
    let mut events = SubjectEvents::default();
    for event in comments {
        let Some(note) = &event.note else { continue };
        let (Some(project), Some(iid)) = (event.project_id, note.noteable_iid) else {
            continue;
        };
        let map = match note.noteable_type.as_deref() {
            Some("MergeRequest") => &mut events.merge_requests,
            Some("Issue") => &mut events.issues,
            _ => continue,
        };
        touch(
            map,
            (project, iid),
            event.created_at.or(note.created_at),
            period,
        )
        .comments += 1;
    }
    for event in approvals {
        if event.action_name.as_deref() != Some("approved")
            || event.target_type.as_deref() != Some("MergeRequest")
        {
            continue;
        }
        if let (Some(project), Some(iid)) = (event.project_id, event.target_iid) {
            touch(
                &mut events.merge_requests,
                (project, iid),
                event.created_at,
                period,
            )
            .approved = true;
        }
    }
    for event in closes {
        // Closing a task may be recorded against a work item; its iid is the issue's.
        if event.action_name.as_deref() != Some("closed")
            || !matches!(event.target_type.as_deref(), Some("Issue" | "WorkItem"))
        {
            continue;
        }
        if let (Some(project), Some(iid)) = (event.project_id, event.target_iid) {
            touch(&mut events.issues, (project, iid), event.created_at, period).closed = true;
        }
    }
    events
}

/// The activity entry for a target, its last activity time advanced to `at` (within the period).
fn touch<'a>(
    map: &'a mut HashMap<TargetKey, Activity>,
    key: TargetKey,
    at: Option<DateTime<Utc>>,
    period: &Period,
) -> &'a mut Activity {
    let entry = map.entry(key).or_default();
    if let Some(at) = at.filter(|at| period.contains(*at)) {
        entry.last_at = entry.last_at.max(Some(at));
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_usernames_stand_in_for_the_id() {
        assert_eq!(path_name("alice"), Some("alice"));
        assert_eq!(path_name("Bob_O-k2"), Some("Bob_O-k2"));
        for name in ["john.doe", "", "a/b", "../x", "é", "a b", "a%2F"] {
            assert_eq!(path_name(name), None, "{name}");
        }
    }
    use crate::gitlab::types::EventNote;

    fn note_event(project: u64, iid: u64, kind: &str, at: &str) -> Event {
        Event {
            id: None,
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

    fn target_event(action: &str, target: &str, project: u64, iid: u64, at: &str) -> Event {
        Event {
            id: None,
            project_id: Some(project),
            action_name: Some(action.into()),
            target_type: Some(target.into()),
            target_iid: Some(iid),
            created_at: Some(at.parse().unwrap()),
            note: None,
        }
    }

    #[test]
    fn events_are_grouped_per_target() {
        let period = Period::parse_quarter("2026Q3", 2).unwrap();
        let comments = vec![
            note_event(1, 5, "MergeRequest", "2026-07-01T00:00:00Z"),
            note_event(1, 5, "MergeRequest", "2026-07-03T00:00:00Z"),
            note_event(2, 5, "MergeRequest", "2026-07-02T00:00:00Z"),
            note_event(1, 6, "Issue", "2026-07-02T00:00:00Z"),
            note_event(1, 7, "Snippet", "2026-07-02T00:00:00Z"),
        ];
        let approvals = vec![target_event(
            "approved",
            "MergeRequest",
            1,
            9,
            "2026-08-01T00:00:00Z",
        )];
        let closes = vec![
            target_event("closed", "Issue", 1, 6, "2026-08-02T00:00:00Z"),
            target_event("closed", "MergeRequest", 1, 5, "2026-08-02T00:00:00Z"),
        ];
        let e = summarise(&comments, &approvals, &closes, &period);
        assert_eq!(e.merge_requests.len(), 3, "{:?}", e.merge_requests);
        assert_eq!(e.merge_requests[&(1, 5)].comments, 2);
        assert_eq!(
            e.merge_requests[&(1, 5)].last_at,
            Some("2026-07-03T00:00:00Z".parse().unwrap())
        );
        assert!(
            !e.merge_requests[&(1, 5)].closed,
            "closing an MR is not a review"
        );
        assert!(e.merge_requests[&(1, 9)].approved);
        assert_eq!(e.issues.len(), 1);
        let issue = &e.issues[&(1, 6)];
        assert_eq!((issue.comments, issue.closed), (1, true));
        assert_eq!(issue.last_at, Some("2026-08-02T00:00:00Z".parse().unwrap()));
    }

    #[test]
    fn retention_horizon_is_three_years() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let recent = Period::parse_quarter("2026Q3", 2).unwrap();
        assert!(!beyond_retention(&recent, today));
        let old = Period::parse_quarter("2023Q3", 2).unwrap();
        assert!(beyond_retention(&old, today));
    }
}
