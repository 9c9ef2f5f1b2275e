//! The `issues` and `incidents` sources: issues and incidents the subject authored or is assigned
//! to (GraphQL, two paged queries), plus those they closed or commented on (from their events,
//! fetched in batches per project). An incident is never also listed as an issue; a comment
//! makes the subject a participant of an incident, not of a plain issue.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::gitlab::graphql::{
    changed_work, issues, project_incidents, project_issues, project_visibility, Issues,
    ProjectIssues, ProjectVisibility,
};
use crate::gitlab::{Client, GitlabError, RequestCounter};
use crate::model::{Item, ItemKind, Period, Role, Subject};
use crate::progress::SubjectProgress;

use super::changes::{List, ASSIGNED_ISSUES, AUTHORED_ISSUES};
use super::convert::{cut, DESCRIPTION_LIMIT};
use super::events::{Activity, SubjectEvents, TargetKey};
use super::incremental::{Keyed, ListRead};
use super::paging::{
    fetch_missing_in_slots, five_slot_pages, five_slots, paginate, paginate_from, Page,
};
use super::shared::Visibility;
use super::timelines::UNAVAILABLE;
use super::{combine, Context, HarvestRequest, SourceOutcome};

/// An issue as the GraphQL `IssueFields` fragment describes it. Cached as JSON: a change of
/// shape needs a new `cache::SCHEMA_VERSION`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IssueRecord {
    pub id: String,
    pub iid: String,
    pub title: String,
    pub description: Option<String>,
    pub web_url: String,
    pub state: String,
    pub incident: bool,
    /// Issues, incidents and tasks are evidence; test cases, requirements and the like are not.
    pub relevant_type: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub confidential: bool,
    pub severity: Option<u8>,
    pub project: Option<String>,
    pub project_id: Option<u64>,
    pub author: Option<String>,
    pub assignees: Vec<String>,
    pub labels: Vec<String>,
}

macro_rules! impl_from_issue_fragment {
    ($module:ident) => {
        impl From<$module::IssueFields> for IssueRecord {
            fn from(issue: $module::IssueFields) -> Self {
                use $module::{IssuableSeverity, IssueType};
                let severity = match issue.severity {
                    Some(IssuableSeverity::CRITICAL) => Some(1),
                    Some(IssuableSeverity::HIGH) => Some(2),
                    Some(IssuableSeverity::MEDIUM) => Some(3),
                    Some(IssuableSeverity::LOW) => Some(4),
                    _ => None,
                };
                let labels: Vec<String> = issue
                    .labels
                    .and_then(|l| l.nodes)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|l| l.title)
                    .collect();
                IssueRecord {
                    id: issue.id,
                    iid: issue.iid,
                    title: issue.title,
                    description: issue.description,
                    web_url: issue.web_url,
                    state: format!("{:?}", issue.state).to_ascii_lowercase(),
                    incident: matches!(issue.type_, Some(IssueType::INCIDENT)),
                    relevant_type: matches!(
                        issue.type_,
                        None | Some(IssueType::ISSUE)
                            | Some(IssueType::INCIDENT)
                            | Some(IssueType::TASK)
                    ),
                    created_at: Some(issue.created_at),
                    updated_at: Some(issue.updated_at),
                    closed_at: issue.closed_at,
                    confidential: issue.confidential,
                    severity: severity.or_else(|| severity_label(&labels)),
                    project: project_of_reference(&issue.reference),
                    project_id: issue.project_id.and_then(|id| u64::try_from(id).ok()),
                    author: Some(issue.author.username),
                    assignees: issue
                        .assignees
                        .and_then(|a| a.nodes)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(|u| u.username)
                        .collect(),
                    labels,
                }
            }
        }
    };
}

impl Keyed for IssueRecord {
    fn key(&self) -> &str {
        &self.id
    }
}

impl_from_issue_fragment!(issues);
impl_from_issue_fragment!(project_issues);
impl_from_issue_fragment!(project_incidents);
impl_from_issue_fragment!(changed_work);

/// `gitlab-org/gitlab#123` → `gitlab-org/gitlab`.
fn project_of_reference(reference: &str) -> Option<String> {
    let (project, _) = reference.rsplit_once('#')?;
    (!project.is_empty()).then(|| project.to_string())
}

/// GitLab.com's incidents often carry severity as a scoped label (`severity::2`).
fn severity_label(labels: &[String]) -> Option<u8> {
    labels.iter().find_map(|l| {
        let (scope, value) = l.split_once("::")?;
        if !scope.trim().eq_ignore_ascii_case("severity") {
            return None;
        }
        let value = value.trim().trim_start_matches(['s', 'S']);
        value.parse().ok().filter(|n| (1..=4).contains(n))
    })
}

/// Issues fetched by iid because events name them, in the cache.
const BY_IID: &str = "issues/by_iid";

/// Projects asked in one `ProjectIssues` request (the slots of its document).
const PROJECTS_PER_REQUEST: usize = 5;

fn key_of(issue: &IssueRecord) -> Option<TargetKey> {
    Some((issue.project_id?, issue.iid.parse().ok()?))
}

/// Phase one: issues and incidents the subject authored or is assigned to.
pub(super) async fn fetch_involved(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    Context {
        memory, changes, ..
    }: Context<'_>,
    counter: &RequestCounter,
    progress: &SubjectProgress,
) -> (Vec<IssueRecord>, Option<GitlabError>) {
    let period = request.period;
    let page_size = i64::from(request.page_size);
    let fetch = async |author: Option<String>,
                       assignee: Option<Vec<String>>,
                       read: &ListRead<IssueRecord>,
                       list: List| {
        let updated_after = read.updated_after;
        // A re-run's first page may have come with the other lists' changes.
        let asking = (client, request, subject, counter);
        let first = changes.issues(list, read, asking).await;
        paginate_from(
            first,
            page_size,
            async |first, after| {
                let variables = issues::Variables {
                    author_username: author.clone(),
                    assignee_usernames: assignee.clone(),
                    types: Some(vec![
                        issues::IssueType::ISSUE,
                        issues::IssueType::INCIDENT,
                        issues::IssueType::TASK,
                    ]),
                    updated_after,
                    created_before: period.end_exclusive(),
                    first,
                    after,
                };
                let data = client.graphql::<Issues>(variables, counter).await?;
                Ok(Page::from_parts(data.issues.map(|c| {
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
            |n| progress.set("issues", n),
        )
        .await
    };
    let authored_read = ListRead::begin(memory, AUTHORED_ISSUES, &period);
    let assigned_read = ListRead::begin(memory, ASSIGNED_ISSUES, &period);
    let ((authored, authored_error), (assigned, assigned_error)) = tokio::join!(
        fetch(
            Some(subject.username.clone()),
            None,
            &authored_read,
            List::AuthoredIssues
        ),
        fetch(
            None,
            Some(vec![subject.username.clone()]),
            &assigned_read,
            List::AssignedIssues
        ),
    );
    let mut authored = authored_read.finish(memory, authored, authored_error.is_none());
    authored.extend(assigned_read.finish(memory, assigned, assigned_error.is_none()));
    (
        authored,
        combine(authored_error.into_iter().chain(assigned_error).collect()),
    )
}

/// Phase two: adds the issues the subject closed or commented on and the incidents whose
/// timelines they wrote in, and splits everything into the `issues` and `incidents` sources.
pub(super) async fn complete(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    involved: (Vec<IssueRecord>, Option<GitlabError>),
    events: &SubjectEvents,
    Context { memory, shared, .. }: Context<'_>,
    counter: &RequestCounter,
) -> (SourceOutcome, SourceOutcome) {
    let (mut records, involved_error) = involved;
    let mut errors: Vec<GitlabError> = involved_error.into_iter().collect();
    errors.extend(events.error.clone());

    let started = Utc::now();
    let known: HashSet<TargetKey> = records.iter().filter_map(key_of).collect();
    // Issues the events name beyond the subject's own: cached copies serve unless a new event
    // names them or they were still open; the rest are fetched.
    let cached = memory.recall::<IssueRecord>(BY_IID);
    let full_at = cached.as_ref().map_or(started, |c| c.full_at);
    let reused: Vec<IssueRecord> = cached
        .map(|c| c.records)
        .unwrap_or_default()
        .into_iter()
        .filter(|issue| {
            key_of(issue).is_some_and(|k| {
                !known.contains(&k)
                    && events.issues.contains_key(&k)
                    && !events.new_issues.contains(&k)
            }) && issue.state == "closed"
        })
        .collect();
    let have: HashSet<TargetKey> = known
        .iter()
        .copied()
        .chain(reused.iter().filter_map(key_of))
        .collect();
    let (fetched, fetch_errors) = fetch_missing_in_slots(
        &have,
        events.issues.keys(),
        i64::from(request.page_size),
        PROJECTS_PER_REQUEST,
        async |asks, first| {
            let variables = five_slots!(project_issues::Variables, asks, first);
            let data = client.graphql::<ProjectIssues>(variables, counter).await?;
            Ok(five_slot_pages!(data, asks, issues, IssueRecord))
        },
    )
    .await;
    let mut by_iid = reused;
    by_iid.extend(fetched);
    // A record store, not a list: what failed to arrive is simply fetched next time.
    memory.keep(BY_IID, started, full_at, &by_iid);
    records.extend(by_iid);
    errors.extend(fetch_errors);

    // Timelines: the configured incident and on-call projects, and those of the subject's own
    // incidents.
    let incident_projects: std::collections::BTreeSet<String> = request
        .incident_projects
        .iter()
        .chain(&request.oncall_projects)
        .cloned()
        .chain(
            records
                .iter()
                .filter(|r| r.incident)
                .filter_map(|r| r.project.clone()),
        )
        .collect();
    let written = shared
        .timelines
        .for_subject(
            client,
            &incident_projects,
            &subject.username,
            request,
            &shared.memory,
            counter,
        )
        .await;
    records.extend(written.incidents);

    // An issue can arrive by several ways, some from the cache: keep its latest copy.
    records.sort_by_key(|r| std::cmp::Reverse(r.updated_at));
    let mut seen = HashSet::new();
    records.retain(|r| seen.insert(r.id.clone()));
    let project_ids: Vec<u64> = records
        .iter()
        .filter_map(|r| r.project_id)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let (private, visibility_error) =
        private_projects(client, &shared.visibility, &project_ids, counter).await;
    errors.extend(visibility_error);
    let (mut plain, mut incidents) = (Vec::new(), Vec::new());
    for record in &records {
        let activity = key_of(record).and_then(|k| events.issues.get(&k));
        let timeline = written.counts.get(&record.id).copied();
        if let Some(mut item) = issue_item(
            record,
            &subject.username,
            activity,
            timeline,
            &request.period,
        ) {
            // Like merge requests: an item from a private project may not be for every audience.
            item.confidential |= record.project_id.is_some_and(|id| private.contains(&id));
            match item.kind {
                ItemKind::Incident => incidents.push(item),
                _ => plain.push(item),
            }
        }
    }
    let incidents_error = combine(errors.iter().cloned().chain(written.errors).collect());
    let mut incidents = SourceOutcome::new("incidents", incidents, incidents_error);
    let mut notes = Vec::new();
    if written.unavailable {
        notes.push(UNAVAILABLE.to_string());
    }
    // An unknown on-call project is the on-call source's to report.
    let missing: Vec<&str> = written
        .missing
        .iter()
        .filter(|m| {
            request
                .incident_projects
                .iter()
                .any(|p| p.eq_ignore_ascii_case(m))
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        notes.push(format!(
            "incident timelines not read for {}: no such project, or the token cannot see it (check harvest.incident_projects)",
            missing.join(", ")
        ));
    }
    incidents.note = (!notes.is_empty()).then(|| notes.join("; "));
    (
        SourceOutcome::new("issues", plain, combine(errors)),
        incidents,
    )
}

/// An issue is evidence when the subject authored it or is assigned to it and it was created or
/// closed in the period, or when they closed it in the period. An incident also counts when the
/// subject commented on it or wrote timeline entries (`timeline`: how many) in the period.
pub fn issue_item(
    issue: &IssueRecord,
    subject: &str,
    activity: Option<&Activity>,
    timeline: Option<u32>,
    period: &Period,
) -> Option<Item> {
    if !issue.relevant_type {
        return None;
    }
    let is = |name: &str| name.eq_ignore_ascii_case(subject);
    let authored = issue.author.as_deref().is_some_and(is);
    let assigned = issue.assignees.iter().any(|a| is(a));
    let active_in_period = activity
        .and_then(|a| a.last_at)
        .is_some_and(|at| period.contains(at));
    let closed_by_subject = activity.is_some_and(|a| a.closed) && active_in_period;
    let commented = activity.is_some_and(|a| a.comments > 0) && active_in_period;
    let wrote_timeline = timeline.is_some_and(|n| n > 0);
    let dated_in_period = [issue.created_at, issue.closed_at]
        .into_iter()
        .flatten()
        .any(|at| period.contains(at));
    let evidence = ((authored || assigned) && dated_in_period)
        || closed_by_subject
        || (issue.incident
            && (commented || wrote_timeline || ((authored || assigned) && active_in_period)));
    if !evidence {
        return None;
    }
    let kind = if issue.incident {
        ItemKind::Incident
    } else {
        ItemKind::Issue
    };
    let role = if authored {
        Role::Author
    } else if assigned {
        Role::Assignee
    } else {
        Role::Participant
    };
    let mut item = Item::new(
        kind,
        role,
        subject,
        issue.id.clone(),
        issue.web_url.clone(),
        issue.title.clone(),
    );
    item.description = issue
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| cut(d, DESCRIPTION_LIMIT));
    item.project = issue.project.clone();
    item.labels = issue.labels.clone();
    item.state = Some(issue.state.clone());
    item.created_at = issue.created_at;
    item.updated_at = issue.updated_at;
    item.closed_at = issue.closed_at;
    item.confidential = issue.confidential;
    if issue.incident {
        item.severity = issue.severity;
        item.timeline_events = timeline.filter(|n| *n > 0);
    }
    if let Some(comments) = activity.map(|a| a.comments).filter(|c| *c > 0) {
        item.comments = Some(comments);
    }
    Some(item)
}

/// Which of these projects are private: one request per hundred projects.
/// Projects another subject of the run already asked about are not asked again.
pub(super) async fn private_projects(
    client: &Client,
    shared: &Visibility,
    project_ids: &[u64],
    counter: &RequestCounter,
) -> (HashSet<u64>, Option<GitlabError>) {
    let mut known = shared.known.lock().await;
    let unknown: Vec<u64> = project_ids
        .iter()
        .copied()
        .filter(|id| !known.contains_key(id))
        .collect();
    let mut errors = Vec::new();
    for chunk in unknown.chunks(100) {
        let ids: Vec<String> = chunk
            .iter()
            .map(|id| format!("gid://gitlab/Project/{id}"))
            .collect();
        let (projects, error) = paginate(
            100,
            async |first, after| {
                let variables = project_visibility::Variables {
                    ids: ids.clone(),
                    first,
                    after,
                };
                let data = client
                    .graphql::<ProjectVisibility>(variables, counter)
                    .await?;
                Ok(Page::from_parts(data.projects.map(|c| {
                    (
                        c.nodes.into_iter().flatten().flatten().collect::<Vec<_>>(),
                        c.page_info.has_next_page,
                        c.page_info.end_cursor,
                    )
                })))
            },
            |_| {},
        )
        .await;
        if error.is_none() {
            // Not listed: not visible to the token, so nothing to hide it from.
            known.extend(chunk.iter().map(|id| (*id, false)));
        }
        known.extend(projects.iter().filter_map(|p| {
            let private = p.visibility.as_deref() == Some("private");
            Some((super::convert::numeric_id(&p.id)?, private))
        }));
        errors.extend(error);
    }
    let private = project_ids
        .iter()
        .copied()
        .filter(|id| known.get(id) == Some(&true))
        .collect();
    (private, combine(errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Option<DateTime<Utc>> {
        Some(s.parse().unwrap())
    }

    fn q3() -> Period {
        Period::parse_quarter("2026Q3", 2).unwrap()
    }

    fn issue(author: &str) -> IssueRecord {
        IssueRecord {
            id: "gid://gitlab/Issue/1".into(),
            iid: "12".into(),
            title: "Disk full on db-3".into(),
            web_url: "https://gl.example.com/g/p/-/issues/12".into(),
            state: "closed".into(),
            relevant_type: true,
            created_at: t("2026-07-10T00:00:00Z"),
            closed_at: t("2026-07-11T00:00:00Z"),
            project: Some("g/p".into()),
            project_id: Some(3),
            author: Some(author.into()),
            ..Default::default()
        }
    }

    #[test]
    fn references_and_severity_labels() {
        assert_eq!(
            project_of_reference("gitlab-org/gitlab#123").as_deref(),
            Some("gitlab-org/gitlab")
        );
        assert_eq!(project_of_reference("#123"), None);
        assert_eq!(severity_label(&["severity::2".into()]), Some(2));
        assert_eq!(severity_label(&["Severity::S1".into()]), Some(1));
        assert_eq!(severity_label(&["severity::9".into(), "bug".into()]), None);
    }

    #[test]
    fn authored_and_assigned_issues_by_date() {
        let i = issue("alice");
        assert_eq!(
            issue_item(&i, "alice", None, None, &q3()).unwrap().role,
            Role::Author
        );
        let mut assigned = issue("bob");
        assigned.assignees = vec!["Alice".into()];
        assert_eq!(
            issue_item(&assigned, "alice", None, None, &q3())
                .unwrap()
                .role,
            Role::Assignee
        );
        let mut old = issue("alice");
        old.created_at = t("2026-01-01T00:00:00Z");
        old.closed_at = None;
        assert!(issue_item(&old, "alice", None, None, &q3()).is_none());
        assert!(
            issue_item(&i, "alice2", None, None, &q3()).is_none(),
            "near-namesake"
        );
    }

    #[test]
    fn closing_makes_a_participant_but_commenting_on_an_issue_does_not() {
        let other = issue("bob");
        let closed = Activity {
            closed: true,
            last_at: t("2026-07-11T00:00:00Z"),
            ..Activity::default()
        };
        let item = issue_item(&other, "alice", Some(&closed), None, &q3()).unwrap();
        assert_eq!((item.kind, item.role), (ItemKind::Issue, Role::Participant));
        let commented = Activity {
            comments: 2,
            last_at: t("2026-07-11T00:00:00Z"),
            ..Activity::default()
        };
        assert!(issue_item(&other, "alice", Some(&commented), None, &q3()).is_none());
    }

    #[test]
    fn incidents_count_comments_and_carry_severity() {
        let mut incident = issue("bob");
        incident.incident = true;
        incident.severity = Some(2);
        incident.created_at = t("2026-06-01T00:00:00Z");
        incident.closed_at = t("2026-06-02T00:00:00Z");
        let commented = Activity {
            comments: 4,
            last_at: t("2026-07-01T00:00:00Z"),
            ..Activity::default()
        };
        let item = issue_item(&incident, "alice", Some(&commented), None, &q3()).unwrap();
        assert_eq!(
            (item.kind, item.role),
            (ItemKind::Incident, Role::Participant)
        );
        assert_eq!((item.severity, item.comments), (Some(2), Some(4)));
        assert!(issue_item(&incident, "alice", None, None, &q3()).is_none());
    }

    #[test]
    fn timeline_entries_make_a_participant_of_an_incident_but_not_of_an_issue() {
        let mut incident = issue("bob");
        incident.incident = true;
        incident.created_at = t("2026-06-01T00:00:00Z");
        let item = issue_item(&incident, "alice", None, Some(3), &q3()).unwrap();
        assert_eq!(
            (item.kind, item.role, item.timeline_events),
            (ItemKind::Incident, Role::Participant, Some(3))
        );
        let plain = issue("bob");
        assert!(issue_item(&plain, "alice", None, Some(3), &q3()).is_none());
    }

    #[test]
    fn other_work_item_types_are_not_issues() {
        let mut test_case = issue("alice");
        test_case.relevant_type = false;
        assert!(issue_item(&test_case, "alice", None, None, &q3()).is_none());
    }
}
