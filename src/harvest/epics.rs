//! The `epics` source: epics the subject authored in chosen groups and their subgroups.
//!
//! Epics are a Premium feature that GitLab moved to work items. The source asks for them as work
//! items (`group.workItems(types: [EPIC])`, one page per request with labels and child counts);
//! a server that rejects that query (older than 18.3) is asked through the legacy `group.epics`.
//! An instance or group without epics (Community Edition, a Free group) leaves the source
//! `skipped`, not `failed`: nothing went wrong, there is nothing to harvest. Groups GitLab does
//! not show (unknown, or answered 403/404) are noted and the others harvested.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::gitlab::graphql::{
    group_epic_work_items, group_epics_legacy, GroupEpicWorkItems, GroupEpicsLegacy,
};
use crate::gitlab::{Client, GitlabError, RequestCounter};
use crate::model::{Item, ItemKind, Period, Role, Subject};
use crate::progress::SubjectProgress;

use super::convert::{cut, DESCRIPTION_LIMIT};
use super::paging::{paginate, Page};
use super::{HarvestRequest, SourceOutcome};

const SOURCE: &str = "epics";

/// The skip reason when the instance knows neither epics API.
pub(crate) const NO_EPICS_ON_INSTANCE: &str =
    "epics need GitLab Premium or Ultimate; this instance does not offer them";

/// The skip reason when no group was given.
pub(crate) const NO_GROUPS: &str = "no groups to search for epics: set harvest.epic_groups";

/// An epic as either API describes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct EpicRecord {
    /// The global id: `gid://gitlab/WorkItem/…` or, from the legacy API, `gid://gitlab/Epic/…`.
    pub id: String,
    pub iid: String,
    pub title: String,
    pub description: Option<String>,
    pub web_url: Option<String>,
    /// `opened` or `closed`, whichever API said it.
    pub state: String,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub confidential: bool,
    pub author: Option<String>,
    /// The full path of the group the epic belongs to (a subgroup of the one searched, maybe).
    pub group: String,
    pub group_visibility: Option<String>,
    pub labels: Vec<String>,
    /// Direct children: child epics and issues.
    pub child_count: Option<u32>,
}

/// What a group's first page said about the group itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupState {
    /// The group answered; its epics (maybe none) are in the pages.
    Searched,
    /// `group: null`: no such group, or the token may not see it.
    Unknown,
    /// `availableFeatures.hasEpicsFeature: false`: the group's tier has no epics.
    NoEpics,
}

/// Which API the instance answers epics through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    WorkItems,
    Legacy,
}

/// Why a group gave nothing, for notes and skip reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unusable {
    Unknown,
    NoEpics,
    Forbidden,
    NotFound,
}

impl Unusable {
    fn describe(&self, group: &str) -> String {
        match self {
            Unusable::Unknown => {
                format!("group {group} does not exist or the token cannot see it")
            }
            Unusable::NoEpics => format!(
                "group {group} has no epics (they need GitLab Premium or Ultimate)"
            ),
            Unusable::Forbidden => format!("GitLab denied access (403) to group {group}"),
            Unusable::NotFound => format!("GitLab answered 404 for group {group}"),
        }
    }
}

/// Epics the subject authored in `groups` (full paths) during the period, with child_count.
pub(crate) async fn harvest_epics(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    groups: &[String],
    counter: &RequestCounter,
    progress: &SubjectProgress,
) -> SourceOutcome {
    let groups = distinct_groups(groups);
    if groups.is_empty() {
        tracing::info!("epics for {}: {NO_GROUPS}", subject.username);
        return SourceOutcome::skipped(SOURCE, NO_GROUPS);
    }
    // Groups the user named deserve a warning when they give nothing; groups guessed from the
    // subject's other items (often personal namespaces, which are no groups) only a note.
    let configured = !request.epic_groups.is_empty();

    let mut api = Api::WorkItems;
    let mut records: Vec<EpicRecord> = Vec::new();
    let mut unusable: Vec<(String, Unusable)> = Vec::new();
    let mut errors: Vec<GitlabError> = Vec::new();
    for group in &groups {
        let (mut found, mut state, mut error) =
            fetch_group(client, request, subject, group, api, counter).await;
        if api == Api::WorkItems && error.as_ref().is_some_and(is_unsupported) {
            // The schema is the instance's: once work item epics are unknown, they are unknown
            // for every group.
            tracing::debug!(
                "this GitLab does not answer epics as work items ({}); using the legacy epics API",
                error.as_ref().map(ToString::to_string).unwrap_or_default()
            );
            api = Api::Legacy;
            (found, state, error) =
                fetch_group(client, request, subject, group, api, counter).await;
        }
        if api == Api::Legacy && error.as_ref().is_some_and(is_unsupported) {
            tracing::warn!("epics for {} skipped: {NO_EPICS_ON_INSTANCE}", subject.username);
            return SourceOutcome::skipped(SOURCE, NO_EPICS_ON_INSTANCE);
        }
        records.extend(found);
        progress.set("epics", records.len());
        match (state, error) {
            (_, Some(GitlabError::Forbidden { .. })) => {
                unusable.push((group.clone(), Unusable::Forbidden))
            }
            (_, Some(GitlabError::NotFound { .. })) => {
                unusable.push((group.clone(), Unusable::NotFound))
            }
            (_, Some(error)) => errors.push(error),
            (Some(GroupState::Unknown), None) => unusable.push((group.clone(), Unusable::Unknown)),
            (Some(GroupState::NoEpics), None) => unusable.push((group.clone(), Unusable::NoEpics)),
            (Some(GroupState::Searched) | None, None) => {}
        }
    }

    if unusable.len() == groups.len() {
        let reason = skip_reason(&unusable);
        if configured || unusable.iter().any(|(_, u)| *u == Unusable::NoEpics) {
            tracing::warn!("epics for {} skipped: {reason}", subject.username);
        } else {
            tracing::info!("epics for {} skipped: {reason}", subject.username);
        }
        return SourceOutcome::skipped(SOURCE, reason);
    }
    for (group, why) in &unusable {
        if configured {
            tracing::warn!("epics: {}", why.describe(group));
        } else {
            tracing::info!("epics: {}", why.describe(group));
        }
    }

    let base_url = client.base_url().as_str();
    let mut seen = HashSet::new();
    let items = records
        .iter()
        // A group and its subgroup may both be searched: each epic once.
        .filter(|r| seen.insert(r.id.clone()))
        .filter_map(|r| epic_item(r, &subject.username, &request.period, base_url))
        .collect();
    SourceOutcome::new(SOURCE, items, combine(errors))
}

/// One group's epics through one API: the records, what the group said about itself, and the
/// error that stopped the paging, if any.
async fn fetch_group(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    group: &str,
    api: Api,
    counter: &RequestCounter,
) -> (Vec<EpicRecord>, Option<GroupState>, Option<GitlabError>) {
    let period = request.period;
    let mut state: Option<GroupState> = None;
    let (records, error) = paginate(
        i64::from(request.page_size),
        async |first, after| match api {
            Api::WorkItems => {
                let variables = group_epic_work_items::Variables {
                    full_path: group.to_string(),
                    username: subject.username.clone(),
                    updated_after: period.start(),
                    created_before: period.end_exclusive(),
                    first,
                    after,
                };
                let data = client
                    .graphql::<GroupEpicWorkItems>(variables, counter)
                    .await?;
                let (page, group_state) = work_items_page(data, group);
                state = Some(group_state);
                Ok(page)
            }
            Api::Legacy => {
                let variables = group_epics_legacy::Variables {
                    full_path: group.to_string(),
                    username: subject.username.clone(),
                    updated_after: period.start(),
                    created_before: period.end_exclusive(),
                    first,
                    after,
                };
                let data = client.graphql::<GroupEpicsLegacy>(variables, counter).await?;
                let (page, group_state) = legacy_page(data);
                state = Some(group_state);
                Ok(page)
            }
        },
        |_| {},
    )
    .await;
    (records, state, error)
}

/// Errors that mean "this server has no such API", as opposed to a failure: a field or argument
/// the schema lacks, or an enum value (`EPIC`, a widget type) it does not know.
fn is_unsupported(error: &GitlabError) -> bool {
    match error {
        GitlabError::UnknownField { .. } => true,
        GitlabError::GraphQl { messages, .. } => {
            messages.contains("IssueType") || messages.contains("WorkItemWidgetType")
        }
        _ => false,
    }
}

/// Trimmed, without empties and case-insensitive repeats (GitLab paths are case-insensitive),
/// in the order given.
fn distinct_groups(groups: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    groups
        .iter()
        .map(|g| g.trim().trim_matches('/').to_string())
        .filter(|g| !g.is_empty())
        .filter(|g| seen.insert(g.to_ascii_lowercase()))
        .collect()
}

/// One line saying why no group gave epics.
pub(crate) fn skip_reason(unusable: &[(String, Unusable)]) -> String {
    if !unusable.is_empty() && unusable.iter().all(|(_, u)| *u == Unusable::NoEpics) {
        let names: Vec<&str> = unusable.iter().map(|(g, _)| g.as_str()).collect();
        let (noun, verb) = if names.len() == 1 {
            ("group", "does")
        } else {
            ("groups", "do")
        };
        return format!(
            "epics need GitLab Premium or Ultimate; {noun} {} {verb} not have them",
            names.join(", ")
        );
    }
    let parts: Vec<String> = unusable.iter().map(|(g, u)| u.describe(g)).collect();
    format!("no group to search for epics: {}", parts.join("; "))
}

/// Keeps the first error, noting how many more there were.
fn combine(mut errors: Vec<GitlabError>) -> Option<GitlabError> {
    if errors.len() <= 1 {
        return errors.pop();
    }
    let more = errors.len() - 1;
    let first = errors.swap_remove(0);
    Some(GitlabError::GraphQl {
        operation: "several epic requests".into(),
        messages: format!("{first} (and {more} more failures)"),
    })
}

/// A page of the work items answer, and what it said about the group.
pub(crate) fn work_items_page(
    data: group_epic_work_items::ResponseData,
    searched: &str,
) -> (Page<EpicRecord>, GroupState) {
    let Some(group) = data.group else {
        return (Page::from_parts(None), GroupState::Unknown);
    };
    if !group.available_features.has_epics_feature {
        return (Page::from_parts(None), GroupState::NoEpics);
    }
    let page = Page::from_parts(group.work_items.map(|c| {
        (
            c.nodes
                .into_iter()
                .flatten()
                .flatten()
                .map(|node| work_item_record(node, searched))
                .collect(),
            c.page_info.has_next_page,
            c.page_info.end_cursor,
        )
    }));
    (page, GroupState::Searched)
}

/// A page of the legacy answer, and what it said about the group.
pub(crate) fn legacy_page(data: group_epics_legacy::ResponseData) -> (Page<EpicRecord>, GroupState) {
    let Some(group) = data.group else {
        return (Page::from_parts(None), GroupState::Unknown);
    };
    let page = Page::from_parts(group.epics.map(|c| {
        (
            c.nodes
                .into_iter()
                .flatten()
                .flatten()
                .map(legacy_record)
                .collect(),
            c.page_info.has_next_page,
            c.page_info.end_cursor,
        )
    }));
    (page, GroupState::Searched)
}

fn count(n: i64) -> Option<u32> {
    u32::try_from(n).ok()
}

fn work_item_state(state: &group_epic_work_items::WorkItemState) -> String {
    use group_epic_work_items::WorkItemState;
    match state {
        WorkItemState::OPEN => "opened".to_string(),
        WorkItemState::CLOSED => "closed".to_string(),
        WorkItemState::Other(other) => other.to_ascii_lowercase(),
    }
}

fn legacy_state(state: &group_epics_legacy::EpicState) -> String {
    use group_epics_legacy::EpicState;
    match state {
        EpicState::opened => "opened".to_string(),
        EpicState::closed => "closed".to_string(),
        EpicState::all => "all".to_string(),
        EpicState::Other(other) => other.to_ascii_lowercase(),
    }
}

/// `searched` stands in for the epic's group when GitLab does not name its namespace.
pub(crate) fn work_item_record(
    node: group_epic_work_items::GroupEpicWorkItemsGroupWorkItemsNodes,
    searched: &str,
) -> EpicRecord {
    use group_epic_work_items::GroupEpicWorkItemsGroupWorkItemsNodesWidgets as Widget;
    let mut labels = Vec::new();
    let mut child_count = None;
    for widget in node.widgets.into_iter().flatten() {
        match widget {
            Widget::WorkItemWidgetLabels(w) => labels.extend(
                w.labels
                    .and_then(|l| l.nodes)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|l| l.title),
            ),
            Widget::WorkItemWidgetHierarchy(w) => {
                child_count = w.children.and_then(|c| count(c.count));
            }
        }
    }
    let (group, group_visibility) = match node.namespace {
        Some(n) => (n.full_path, n.visibility),
        None => (searched.to_string(), None),
    };
    EpicRecord {
        state: work_item_state(&node.state),
        id: node.id,
        iid: node.iid,
        title: node.title,
        description: node.description,
        web_url: node.web_url,
        created_at: Some(node.created_at),
        updated_at: Some(node.updated_at),
        closed_at: node.closed_at,
        confidential: node.confidential,
        author: node.author.map(|a| a.username),
        group,
        group_visibility,
        labels,
        child_count,
    }
}

pub(crate) fn legacy_record(
    node: group_epics_legacy::GroupEpicsLegacyGroupEpicsNodes,
) -> EpicRecord {
    let children = node.children.and_then(|c| count(c.count));
    let issues = node.issues.and_then(|c| count(c.count));
    let child_count = match (children, issues) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    };
    EpicRecord {
        state: legacy_state(&node.state),
        title: node
            .title
            .unwrap_or_else(|| format!("Epic &{}", node.iid)),
        id: node.id,
        iid: node.iid,
        description: node.description,
        web_url: Some(node.web_url),
        created_at: node.created_at,
        updated_at: node.updated_at,
        closed_at: node.closed_at,
        confidential: node.confidential.unwrap_or(false),
        author: Some(node.author.username),
        group: node.group.full_path,
        group_visibility: node.group.visibility,
        labels: node
            .labels
            .and_then(|l| l.nodes)
            .into_iter()
            .flatten()
            .flatten()
            .map(|l| l.title)
            .collect(),
        child_count,
    }
}

/// An epic is evidence for the period if the subject authored it and created or closed it in
/// the period.
pub(crate) fn epic_item(
    epic: &EpicRecord,
    subject: &str,
    period: &Period,
    base_url: &str,
) -> Option<Item> {
    let by_subject = epic
        .author
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case(subject));
    let in_period = [epic.created_at, epic.closed_at]
        .into_iter()
        .flatten()
        .any(|at| period.contains(at));
    if !by_subject || !in_period {
        return None;
    }
    let web_url = epic.web_url.clone().unwrap_or_else(|| {
        format!(
            "{}/groups/{}/-/epics/{}",
            base_url.trim_end_matches('/'),
            epic.group,
            epic.iid
        )
    });
    let mut item = Item::new(
        ItemKind::Epic,
        Role::Author,
        subject,
        epic.id.clone(),
        web_url,
        epic.title.clone(),
    );
    item.description = epic
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| cut(d, DESCRIPTION_LIMIT));
    item.group = Some(epic.group.clone());
    item.labels = epic.labels.clone();
    item.state = Some(epic.state.clone());
    item.created_at = epic.created_at;
    item.updated_at = epic.updated_at;
    item.closed_at = epic.closed_at;
    // Epics of private groups may not be visible to a report's audience either.
    item.confidential = epic.confidential || epic.group_visibility.as_deref() == Some("private");
    item.child_count = epic.child_count;
    Some(item)
}
