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
use super::incremental::{Keyed, ListRead, Memory};
use super::paging::{paginate, Page};
use super::{combine, HarvestRequest, SourceOutcome};

const SOURCE: &str = "epics";

/// The skip reason when the instance knows neither epics API.
pub(crate) const NO_EPICS_ON_INSTANCE: &str =
    "epics need GitLab Premium or Ultimate; this instance does not offer them";

/// The skip reason when no group was given.
pub(crate) const NO_GROUPS: &str = "no groups to search for epics: set harvest.epic_groups";

/// An epic as either API describes it. Cached as JSON: a change of shape needs a new
/// `cache::SCHEMA_VERSION`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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

impl Keyed for EpicRecord {
    fn key(&self) -> &str {
        &self.id
    }
}

/// What a group's answer said about the group itself.
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
            Unusable::NoEpics => {
                format!("group {group} has no epics (they need GitLab Premium or Ultimate)")
            }
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
    memory: &Memory,
    counter: &RequestCounter,
    progress: &SubjectProgress,
) -> SourceOutcome {
    let groups = distinct_groups(groups);
    if groups.is_empty() {
        tracing::info!("epics for {}: {NO_GROUPS}", subject.username);
        return SourceOutcome::skipped(SOURCE, NO_GROUPS);
    }
    let configured = !request.epic_groups.is_empty();

    let mut api = Api::WorkItems;
    let mut records: Vec<EpicRecord> = Vec::new();
    let mut unusable: Vec<(String, Unusable)> = Vec::new();
    let mut errors: Vec<GitlabError> = Vec::new();
    for group in &groups {
        let mut read = ListRead::begin(memory, stream(api, group), &request.period);
        let (mut found, mut state, mut error) = fetch_group(
            client,
            request,
            subject,
            group,
            api,
            read.updated_after,
            counter,
        )
        .await;
        if api == Api::WorkItems && error.as_ref().is_some_and(is_unsupported) {
            // The schema is the instance's: once work item epics are unknown, they are unknown
            // for every group.
            tracing::debug!(
                "this GitLab does not answer epics as work items ({}); using the legacy epics API",
                error.as_ref().map(ToString::to_string).unwrap_or_default()
            );
            api = Api::Legacy;
            read = ListRead::begin(memory, stream(api, group), &request.period);
            (found, state, error) = fetch_group(
                client,
                request,
                subject,
                group,
                api,
                read.updated_after,
                counter,
            )
            .await;
        }
        if api == Api::Legacy && error.as_ref().is_some_and(is_unsupported) {
            tracing::info!("epics for {}: {NO_EPICS_ON_INSTANCE}", subject.username);
            return SourceOutcome::skipped(SOURCE, NO_EPICS_ON_INSTANCE);
        }
        // Cached epics stand only for a group that answered; one that is gone or refused
        // gives nothing, as on a first run.
        if state == Some(GroupState::Searched) {
            found = read.finish(memory, found, error.is_none());
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

    // The caller prints a skipped source's reason and an ok source's note, one line each.
    if unusable.len() == groups.len() {
        let reason = skip_reason(&unusable, configured);
        tracing::info!("epics for {}: {reason}", subject.username);
        return SourceOutcome::skipped(SOURCE, reason);
    }
    let notes: Vec<String> = unusable.iter().map(|(g, u)| u.describe(g)).collect();
    for note in &notes {
        tracing::info!("epics for {}: {note}", subject.username);
    }

    let base_url = client.base_url().as_str();
    let mut seen = HashSet::new();
    let items = records
        .iter()
        // A group and its subgroup may both be searched: each epic once.
        .filter(|r| seen.insert(r.id.clone()))
        .filter_map(|r| epic_item(r, &subject.username, &request.period, base_url))
        .collect();
    let mut outcome = SourceOutcome::new(SOURCE, items, combine(errors));
    // Groups the user named deserve a word when they give nothing; groups guessed from the
    // subject's other items (often personal namespaces, which are no groups) do not.
    if configured && !notes.is_empty() {
        outcome.note = Some(notes.join("; "));
    }
    outcome
}

/// One group's epics through one API: the records, what the group said about itself, and the
/// error that stopped the paging, if any.
async fn fetch_group(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    group: &str,
    api: Api,
    updated_after: DateTime<Utc>,
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
                    updated_after,
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
                    updated_after,
                    created_before: period.end_exclusive(),
                    first,
                    after,
                };
                let data = client
                    .graphql::<GroupEpicsLegacy>(variables, counter)
                    .await?;
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

/// The cache's name for a group's epics through one API (their ids differ between the two).
fn stream(api: Api, group: &str) -> String {
    let api = match api {
        Api::WorkItems => "work_items",
        Api::Legacy => "legacy",
    };
    format!("epics/{api}/{}", group.to_ascii_lowercase())
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

/// One line saying why no group gave epics; `configured`: the user chose the groups.
pub(crate) fn skip_reason(unusable: &[(String, Unusable)], configured: bool) -> String {
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
    let hint = if configured {
        ""
    } else {
        " (groups taken from the subject's projects; set harvest.epic_groups to choose)"
    };
    format!("no group to search for epics: {}{hint}", parts.join("; "))
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
pub(crate) fn legacy_page(
    data: group_epics_legacy::ResponseData,
) -> (Page<EpicRecord>, GroupState) {
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
        title: node.title.unwrap_or_else(|| format!("Epic &{}", node.iid)),
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn t(s: &str) -> Option<DateTime<Utc>> {
        Some(s.parse().unwrap())
    }

    fn q3() -> Period {
        Period::parse_quarter("2026Q3", 2).unwrap()
    }

    /// A `group.workItems` answer shaped like GitLab's (global ids, string iids, widgets tagged
    /// with `__typename`).
    fn work_items_answer(has_epics: bool, nodes: serde_json::Value) -> serde_json::Value {
        json!({
            "group": {
                "fullPath": "gl-infra",
                "availableFeatures": {"hasEpicsFeature": has_epics},
                "workItems": {
                    "pageInfo": {"hasNextPage": true, "endCursor": "eyJpZCI6IjE1NDg3Nzg2OCJ9"},
                    "nodes": nodes,
                },
            },
        })
    }

    fn work_item_node() -> serde_json::Value {
        json!({
            "id": "gid://gitlab/WorkItem/154888575",
            "iid": "15596",
            "title": "Capacity planning",
            "description": "Plan the quarter.",
            "webUrl": "https://gitlab.example.com/groups/gl-infra/sre/-/epics/15596",
            "state": "OPEN",
            "createdAt": "2026-07-10T09:00:00Z",
            "updatedAt": "2026-07-12T09:00:00Z",
            "closedAt": null,
            "confidential": false,
            "author": {"username": "alice"},
            "namespace": {"fullPath": "gl-infra/sre", "visibility": "public"},
            "widgets": [
                {"__typename": "WorkItemWidgetLabels",
                 "labels": {"nodes": [{"title": "team::sre"}, {"title": "capacity"}]}},
                {"__typename": "WorkItemWidgetHierarchy", "children": {"count": 4}},
            ],
        })
    }

    fn work_items(value: serde_json::Value) -> group_epic_work_items::ResponseData {
        serde_json::from_value(value).expect("a work items answer")
    }

    fn legacy(value: serde_json::Value) -> group_epics_legacy::ResponseData {
        serde_json::from_value(value).expect("a legacy epics answer")
    }

    fn record(author: &str) -> EpicRecord {
        EpicRecord {
            id: "gid://gitlab/WorkItem/1".into(),
            iid: "7".into(),
            title: "Capacity planning".into(),
            state: "opened".into(),
            created_at: t("2026-07-10T09:00:00Z"),
            updated_at: t("2026-07-10T09:00:00Z"),
            author: Some(author.into()),
            group: "gl-infra".into(),
            group_visibility: Some("public".into()),
            ..Default::default()
        }
    }

    #[test]
    fn work_items_become_records_with_labels_and_child_count() {
        let (page, state) = work_items_page(
            work_items(work_items_answer(true, json!([work_item_node(), null]))),
            "gl-infra",
        );
        assert_eq!(state, GroupState::Searched);
        assert!(page.has_next);
        assert_eq!(page.end_cursor.as_deref(), Some("eyJpZCI6IjE1NDg3Nzg2OCJ9"));
        assert_eq!(page.records.len(), 1, "null nodes are dropped");
        let r = &page.records[0];
        assert_eq!(r.id, "gid://gitlab/WorkItem/154888575");
        assert_eq!(r.iid, "15596");
        assert_eq!(r.state, "opened");
        assert_eq!(r.group, "gl-infra/sre", "the epic's own (sub)group");
        assert_eq!(r.labels, vec!["team::sre", "capacity"]);
        assert_eq!(r.child_count, Some(4));
        assert_eq!(r.author.as_deref(), Some("alice"));
        assert_eq!(r.created_at, t("2026-07-10T09:00:00Z"));
    }

    #[test]
    fn work_items_without_namespace_or_widgets_still_convert() {
        let mut node = work_item_node();
        node["namespace"] = json!(null);
        node["widgets"] = json!(null);
        node["state"] = json!("CLOSED");
        node["closedAt"] = json!("2026-08-01T00:00:00Z");
        let (page, _) = work_items_page(
            work_items(work_items_answer(true, json!([node]))),
            "gl-infra",
        );
        let r = &page.records[0];
        assert_eq!(r.group, "gl-infra", "the group searched stands in");
        assert_eq!((r.child_count, r.labels.len()), (None, 0));
        assert_eq!(r.state, "closed");
    }

    #[test]
    fn a_missing_group_or_a_group_without_epics_is_told_apart() {
        let (page, state) = work_items_page(work_items(json!({"group": null})), "nope");
        assert_eq!(state, GroupState::Unknown);
        assert!(page.records.is_empty() && !page.has_next);

        // Free tier or Community Edition: whatever the list holds, the group has no epics.
        let (page, state) =
            work_items_page(work_items(work_items_answer(false, json!([]))), "gl-infra");
        assert_eq!(state, GroupState::NoEpics);
        assert!(page.records.is_empty() && !page.has_next, "no further page");

        let (_, state) = legacy_page(legacy(json!({"group": null})));
        assert_eq!(state, GroupState::Unknown);
    }

    #[test]
    fn legacy_epics_count_child_epics_and_issues() {
        let answer = json!({
            "group": {
                "fullPath": "gl-infra",
                "epics": {
                    "pageInfo": {"hasNextPage": false, "endCursor": null},
                    "nodes": [{
                        "id": "gid://gitlab/Epic/812",
                        "iid": "42",
                        "title": null,
                        "description": "Old API.",
                        "webUrl": "https://gitlab.example.com/groups/gl-infra/-/epics/42",
                        "state": "closed",
                        "createdAt": "2026-07-02T00:00:00Z",
                        "updatedAt": "2026-07-03T00:00:00Z",
                        "closedAt": "2026-07-03T00:00:00Z",
                        "confidential": null,
                        "author": {"username": "Alice"},
                        "group": {"fullPath": "gl-infra", "visibility": "private"},
                        "labels": {"nodes": [{"title": "roadmap"}]},
                        "children": {"count": 2},
                        "issues": {"count": 5},
                    }],
                },
            },
        });
        let (page, state) = legacy_page(legacy(answer));
        assert_eq!(state, GroupState::Searched);
        assert!(!page.has_next);
        let r = &page.records[0];
        assert_eq!(r.id, "gid://gitlab/Epic/812");
        assert_eq!(
            r.title, "Epic &42",
            "a title GitLab left out is made up, not empty"
        );
        assert_eq!(r.state, "closed");
        assert_eq!(r.child_count, Some(7), "child epics plus issues");
        assert!(!r.confidential);
        assert_eq!(r.group_visibility.as_deref(), Some("private"));
        assert_eq!(r.labels, vec!["roadmap"]);
    }

    #[test]
    fn epic_items_need_the_subject_as_author_and_the_period() {
        let base = "https://gitlab.example.com";
        assert!(epic_item(&record("alice"), "alice", &q3(), base).is_some());
        assert!(
            epic_item(&record("alice"), "ALICE", &q3(), base).is_some(),
            "usernames are case-insensitive"
        );
        assert!(
            epic_item(&record("alice2"), "alice", &q3(), base).is_none(),
            "a near namesake"
        );
        assert!(
            epic_item(&record("alice"), "alice2", &q3(), base).is_none(),
            "never a prefix"
        );
        let mut none = record("alice");
        none.author = None;
        assert!(epic_item(&none, "alice", &q3(), base).is_none());

        let mut edge = record("alice");
        edge.created_at = t("2026-07-01T00:00:00Z");
        assert!(
            epic_item(&edge, "alice", &q3(), base).is_some(),
            "first instant"
        );
        edge.created_at = t("2026-10-01T00:00:00Z");
        assert!(
            epic_item(&edge, "alice", &q3(), base).is_none(),
            "after the end"
        );
        edge.created_at = t("2026-06-30T23:59:59Z");
        edge.updated_at = t("2026-08-01T00:00:00Z");
        assert!(
            epic_item(&edge, "alice", &q3(), base).is_none(),
            "only updated in the period"
        );
        edge.closed_at = t("2026-09-30T23:59:59Z");
        assert!(
            epic_item(&edge, "alice", &q3(), base).is_some(),
            "closed at the last second"
        );
    }

    #[test]
    fn epic_items_carry_group_child_count_and_confidentiality() {
        let mut r = record("alice");
        r.description = Some("é".repeat(3000));
        r.labels = vec!["severity::2".into()];
        r.child_count = Some(3);
        let item = epic_item(&r, "alice", &q3(), "https://gl.example.com/").unwrap();
        assert_eq!((item.kind, item.role), (ItemKind::Epic, Role::Author));
        assert_eq!(item.group.as_deref(), Some("gl-infra"));
        assert_eq!(item.project, None, "epics belong to groups");
        assert_eq!(item.child_count, Some(3));
        assert_eq!(item.labels, vec!["severity::2"]);
        assert_eq!(item.state.as_deref(), Some("opened"));
        assert_eq!(item.id, "gid://gitlab/WorkItem/1");
        assert_eq!(
            item.web_url, "https://gl.example.com/groups/gl-infra/-/epics/7",
            "made from the group when GitLab gives none"
        );
        assert!(!item.confidential);
        let d = item.description.unwrap();
        assert!(d.len() <= DESCRIPTION_LIMIT + "…".len() && d.ends_with('…'));

        r.confidential = true;
        assert!(epic_item(&r, "alice", &q3(), "").unwrap().confidential);
        r.confidential = false;
        r.group_visibility = Some("private".into());
        assert!(
            epic_item(&r, "alice", &q3(), "").unwrap().confidential,
            "a private group's epic"
        );
        r.description = Some("  \n".into());
        assert_eq!(epic_item(&r, "alice", &q3(), "").unwrap().description, None);
    }

    #[test]
    fn a_missing_api_is_told_from_a_failure() {
        let unknown = GitlabError::UnknownField {
            operation: "GroupEpicsLegacy".into(),
            message: "Field 'epics' doesn't exist on type 'Group'".into(),
        };
        assert!(is_unsupported(&unknown));
        let old_enum = GitlabError::GraphQl {
            operation: "GroupEpicWorkItems".into(),
            messages: "Argument 'types' on Field 'workItems' has an invalid value ([EPIC]). \
                       Expected type '[IssueType!]'."
                .into(),
        };
        assert!(is_unsupported(&old_enum));
        for failure in [
            GitlabError::Status {
                url: "u".into(),
                status: 500,
                message: "500 Internal Server Error".into(),
            },
            GitlabError::Forbidden {
                url: "u".into(),
                message: "403 Forbidden".into(),
            },
            GitlabError::GraphQl {
                operation: "GroupEpicWorkItems".into(),
                messages: "Internal server error".into(),
            },
        ] {
            assert!(!is_unsupported(&failure), "{failure}");
        }
    }

    #[test]
    fn skip_reasons_are_one_line_and_say_why() {
        let reason = skip_reason(&[("gl-infra".into(), Unusable::NoEpics)], true);
        assert_eq!(
            reason,
            "epics need GitLab Premium or Ultimate; group gl-infra does not have them"
        );
        let reason = skip_reason(
            &[
                ("a".into(), Unusable::NoEpics),
                ("b".into(), Unusable::NoEpics),
            ],
            false,
        );
        assert!(reason.contains("groups a, b do not"), "{reason}");
        let unusable = [
            ("nope".into(), Unusable::Unknown),
            ("secret".into(), Unusable::Forbidden),
            ("gone".into(), Unusable::NotFound),
        ];
        let reason = skip_reason(&unusable, true);
        for part in [
            "nope does not exist",
            "(403) to group secret",
            "404 for group gone",
        ] {
            assert!(reason.contains(part), "{reason}");
        }
        assert!(!reason.contains("harvest.epic_groups"), "{reason}");
        let guessed = skip_reason(&unusable, false);
        assert!(
            guessed.contains("set harvest.epic_groups"),
            "guessed groups: say how to choose: {guessed}"
        );
        for text in [&reason, &guessed, NO_EPICS_ON_INSTANCE, NO_GROUPS] {
            assert!(!text.contains('\n'), "{text:?}");
        }
    }

    #[test]
    fn groups_are_searched_once_each() {
        let groups: Vec<String> = ["gl-infra", " GL-Infra/ ", "", "gl-infra/sre"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(distinct_groups(&groups), vec!["gl-infra", "gl-infra/sre"]);
    }
}
