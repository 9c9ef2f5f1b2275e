//! Incident timeline events: which incidents a subject wrote timeline entries for, and how many.
//!
//! GitLab lists timeline events per incident only (`project.incidentManagementTimelineEvents`,
//! GitLab 15.2+, every tier), and writing one leaves no trace in the user's events. So the
//! projects where incidents are handled are read whole: their incidents active in the period,
//! then the timelines of twenty incidents per request. A project is read once per run, however
//! many subjects ask for it, and each subject then counts their own entries.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use futures::future::join_all;

use crate::gitlab::graphql::{
    incident_timeline_events, project_incidents, IncidentTimelineEvents, ProjectIncidents,
};
use crate::gitlab::{Client, GitlabError, RequestCounter};
use crate::model::Period;

use super::incremental::{Keyed, ListRead, Memory};
use super::issues::IssueRecord;
use super::paging::{paginate, Page};
use super::shared::OncePerRun;
use super::HarvestRequest;

/// Incidents whose timelines one request reads at most (the slots of
/// `incident_timeline_events.graphql`); fewer if GitLab finds that too complex.
const SLOTS: usize = 20;

/// Timeline entries asked per incident and request. GitLab scores a connection by its page
/// size: twenty incidents at pages of a hundred score 361 against its limit of 250, at pages of
/// twenty 201. Most incidents have fewer entries; the others continue in a next round.
const TIMELINE_PAGE: i64 = 20;

/// Fewest slots and smallest page tried when GitLab finds the query too complex.
const MIN_SLOTS: usize = 5;
const MIN_PAGE_SIZE: i64 = 10;

/// Said when the instance predates timeline events.
pub(crate) const UNAVAILABLE: &str = "this GitLab instance has no incident timeline events (GitLab 15.2 or newer has them): incidents are found by authorship, assignment and comments only";

/// One timeline entry: who wrote it and when.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    pub author: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What reading one project gave.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProjectTimelines {
    /// Each incident active in the period, with its timeline.
    pub incidents: Vec<(IssueRecord, Vec<Entry>)>,
    pub error: Option<GitlabError>,
    /// The instance has no timeline events at all.
    pub unavailable: bool,
    /// The project does not exist, or the token cannot see it.
    pub missing: bool,
}

/// The projects read so far in this run, shared by every subject.
#[derive(Debug, Default)]
pub(crate) struct Timelines {
    projects: OncePerRun<String, ProjectTimelines>,
}

/// One subject's part: the incidents they wrote timeline entries for in the period.
#[derive(Debug, Default)]
pub(crate) struct SubjectTimelines {
    pub incidents: Vec<IssueRecord>,
    /// Entries written in the period, by incident global id.
    pub counts: HashMap<String, u32>,
    pub errors: Vec<GitlabError>,
    pub unavailable: bool,
    /// Projects that do not exist or that the token cannot see.
    pub missing: Vec<String>,
}

impl Timelines {
    /// The subject's timeline entries in `projects`, reading each project at most once per run.
    pub(crate) async fn for_subject(
        &self,
        client: &Client,
        projects: &BTreeSet<String>,
        username: &str,
        request: &HarvestRequest,
        memory: &Memory,
        counter: &RequestCounter,
    ) -> SubjectTimelines {
        let (period, page_size) = (&request.period, i64::from(request.page_size));
        let read = join_all(projects.iter().map(|path| {
            self.projects.get(path.to_ascii_lowercase(), async {
                read_project(client, path, period, page_size, memory, counter).await
            })
        }))
        .await;
        let mut mine = SubjectTimelines::default();
        for (path, project) in projects.iter().zip(read) {
            if project.missing {
                mine.missing.push(path.clone());
            }
            mine.unavailable |= project.unavailable;
            mine.errors.extend(project.error.clone());
            for (incident, entries) in &project.incidents {
                let written = entries
                    .iter()
                    .filter(|e| {
                        e.author
                            .as_deref()
                            .is_some_and(|a| a.eq_ignore_ascii_case(username))
                            && period.contains(e.created_at)
                    })
                    .count();
                if written > 0 {
                    let written = u32::try_from(written).unwrap_or(u32::MAX);
                    mine.counts.insert(incident.id.clone(), written);
                    mine.incidents.push(incident.clone());
                }
            }
        }
        mine
    }
}

/// An incident and its timeline, as the cache keeps them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct CachedIncident {
    pub incident: IssueRecord,
    pub entries: Vec<Entry>,
}

impl Keyed for CachedIncident {
    fn key(&self) -> &str {
        &self.incident.id
    }
}

/// A project's incidents active in the period and their timelines. On a re-run, only the
/// incidents updated since the cached read are asked for, with their timelines (a new
/// timeline entry leaves a system note on its incident, which updates it).
async fn read_project(
    client: &Client,
    path: &str,
    period: &Period,
    page_size: i64,
    memory: &Memory,
    counter: &RequestCounter,
) -> ProjectTimelines {
    let read = ListRead::<CachedIncident>::begin(
        memory,
        format!("timelines/{}", path.to_ascii_lowercase()),
        period,
    );
    let updated_after = read.updated_after;
    let (incidents, error) = paginate(
        page_size,
        async |first, after| {
            let variables = project_incidents::Variables {
                full_path: path.to_string(),
                updated_after,
                created_before: period.end_exclusive(),
                first,
                after,
            };
            let data = client
                .graphql::<ProjectIncidents>(variables, counter)
                .await?;
            let Some(project) = data.project else {
                return Err(GitlabError::NotFound {
                    url: format!("project {path}"),
                });
            };
            Ok(Page::from_parts(project.issues.map(|c| {
                (
                    c.nodes
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(IssueRecord::from)
                        .collect::<Vec<_>>(),
                    c.page_info.has_next_page,
                    c.page_info.end_cursor,
                )
            })))
        },
        |_| {},
    )
    .await;
    if matches!(error, Some(GitlabError::NotFound { .. })) {
        return ProjectTimelines {
            missing: true,
            ..ProjectTimelines::default()
        };
    }
    let incidents: Vec<IssueRecord> = incidents.into_iter().filter(|i| i.incident).collect();
    let (entries, timeline_error) = read_timelines(
        client,
        path,
        &incidents,
        page_size.min(TIMELINE_PAGE),
        counter,
    )
    .await;
    let unavailable = matches!(timeline_error, Some(GitlabError::UnknownField { .. }));
    let complete = error.is_none() && timeline_error.is_none();
    let error = error.or(timeline_error.filter(|_| !unavailable));
    let fresh = incidents
        .into_iter()
        .zip(entries)
        .map(|(incident, entries)| CachedIncident { incident, entries })
        .collect();
    ProjectTimelines {
        incidents: read
            .finish(memory, fresh, complete)
            .into_iter()
            .map(|c| (c.incident, c.entries))
            .collect(),
        error,
        unavailable,
        missing: false,
    }
}

fn unknown_project(path: &str) -> GitlabError {
    GitlabError::GraphQl {
        operation: "IncidentTimelineEvents".into(),
        messages: format!(
            "project `{path}` does not exist or the token cannot see it (check harvest.incident_projects and harvest.oncall_projects)"
        ),
    }
}

/// Where one incident's timeline stands: the next page to ask for, and the cursors seen.
struct Pending {
    incident: usize,
    after: Option<String>,
}

/// Every incident's timeline entries (indexed like `incidents`), [`SLOTS`] incidents per
/// request, in rounds: the first page of each, then the next pages of the few that have more.
async fn read_timelines(
    client: &Client,
    path: &str,
    incidents: &[IssueRecord],
    page_size: i64,
    counter: &RequestCounter,
) -> (Vec<Vec<Entry>>, Option<GitlabError>) {
    let mut entries: Vec<Vec<Entry>> = vec![Vec::new(); incidents.len()];
    let mut seen_cursors: Vec<BTreeSet<String>> = vec![BTreeSet::new(); incidents.len()];
    let mut pending: Vec<Pending> = (0..incidents.len())
        .map(|incident| Pending {
            incident,
            after: None,
        })
        .collect();
    let mut first = page_size;
    let mut slots = SLOTS;
    while !pending.is_empty() {
        let answers = join_all(
            pending
                .chunks(slots)
                .map(|batch| read_batch(client, path, incidents, batch, first, counter)),
        )
        .await;
        let mut next = Vec::new();
        let mut too_complex = false;
        let mut failure = None;
        for (batch, answer) in pending.chunks(slots).zip(answers) {
            match answer {
                Ok(pages) => {
                    for (slot, page) in batch.iter().zip(pages) {
                        entries[slot.incident].extend(page.records);
                        if let (true, Some(cursor)) = (page.has_next, page.end_cursor) {
                            if !seen_cursors[slot.incident].insert(cursor.clone()) {
                                failure.get_or_insert(GitlabError::RepeatedPage {
                                    url: "GraphQL (IncidentTimelineEvents)".into(),
                                    page: format!("cursor {cursor}"),
                                });
                                continue;
                            }
                            next.push(Pending {
                                incident: slot.incident,
                                after: Some(cursor),
                            });
                        }
                    }
                }
                Err(GitlabError::TooComplex { .. })
                    if slots > MIN_SLOTS || first > MIN_PAGE_SIZE =>
                {
                    too_complex = true;
                    next.extend(batch.iter().map(|p| Pending {
                        incident: p.incident,
                        after: p.after.clone(),
                    }));
                }
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
        }
        if let Some(error) = failure {
            return (entries, Some(error));
        }
        if too_complex {
            // Fewer incidents per request first, then smaller pages.
            if slots > MIN_SLOTS {
                slots = (slots / 2).max(MIN_SLOTS);
            } else {
                first = (first / 2).max(MIN_PAGE_SIZE);
            }
            tracing::info!(
                "GitLab found the timeline query too complex; retrying with {slots} incidents and pages of {first}"
            );
        }
        pending = next;
    }
    (entries, None)
}

/// One request: the next page of up to [`SLOTS`] incidents' timelines.
async fn read_batch(
    client: &Client,
    path: &str,
    incidents: &[IssueRecord],
    batch: &[Pending],
    first: i64,
    counter: &RequestCounter,
) -> Result<Vec<Page<Entry>>, GitlabError> {
    // Unused slots repeat the first incident, switched off.
    let slot = |k: usize| {
        let pending = batch.get(k).unwrap_or(&batch[0]);
        (
            incidents[pending.incident].id.clone(),
            batch.get(k).and_then(|p| p.after.clone()),
            k < batch.len(),
        )
    };
    let [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16, s17, s18, s19] =
        std::array::from_fn(slot);
    let variables = incident_timeline_events::Variables {
        full_path: path.to_string(),
        first,
        i0: s0.0,
        a0: s0.1,
        use0: s0.2,
        i1: s1.0,
        a1: s1.1,
        use1: s1.2,
        i2: s2.0,
        a2: s2.1,
        use2: s2.2,
        i3: s3.0,
        a3: s3.1,
        use3: s3.2,
        i4: s4.0,
        a4: s4.1,
        use4: s4.2,
        i5: s5.0,
        a5: s5.1,
        use5: s5.2,
        i6: s6.0,
        a6: s6.1,
        use6: s6.2,
        i7: s7.0,
        a7: s7.1,
        use7: s7.2,
        i8: s8.0,
        a8: s8.1,
        use8: s8.2,
        i9: s9.0,
        a9: s9.1,
        use9: s9.2,
        i10: s10.0,
        a10: s10.1,
        use10: s10.2,
        i11: s11.0,
        a11: s11.1,
        use11: s11.2,
        i12: s12.0,
        a12: s12.1,
        use12: s12.2,
        i13: s13.0,
        a13: s13.1,
        use13: s13.2,
        i14: s14.0,
        a14: s14.1,
        use14: s14.2,
        i15: s15.0,
        a15: s15.1,
        use15: s15.2,
        i16: s16.0,
        a16: s16.1,
        use16: s16.2,
        i17: s17.0,
        a17: s17.1,
        use17: s17.2,
        i18: s18.0,
        a18: s18.1,
        use18: s18.2,
        i19: s19.0,
        a19: s19.1,
        use19: s19.2,
    };
    let data = client
        .graphql::<IncidentTimelineEvents>(variables, counter)
        .await?;
    let Some(project) = data.project else {
        return Err(unknown_project(path));
    };
    let slots = [
        project.e0,
        project.e1,
        project.e2,
        project.e3,
        project.e4,
        project.e5,
        project.e6,
        project.e7,
        project.e8,
        project.e9,
        project.e10,
        project.e11,
        project.e12,
        project.e13,
        project.e14,
        project.e15,
        project.e16,
        project.e17,
        project.e18,
        project.e19,
    ];
    Ok(slots
        .into_iter()
        .take(batch.len())
        .map(|connection| {
            // A timeline GitLab does not show (the incident is gone) is an empty one.
            let Some(c) = connection else {
                return Page {
                    records: Vec::new(),
                    has_next: false,
                    end_cursor: None,
                };
            };
            Page {
                records: c
                    .nodes
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|event| Entry {
                        author: event.author.map(|a| a.username),
                        created_at: event.created_at,
                    })
                    .collect(),
                has_next: c.page_info.has_next_page,
                end_cursor: c.page_info.end_cursor,
            }
        })
        .collect())
}
