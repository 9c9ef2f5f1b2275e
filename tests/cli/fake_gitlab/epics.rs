//! Groups and epics (GitLab Premium) in the fake, and instances that lack them.
//!
//! Serves `GroupEpicWorkItems` (`group(fullPath:) { availableFeatures, workItems(types: [EPIC],
//! authorUsername:, includeDescendants: true, …) }`) and `GroupEpicsLegacy` (`group.epics`). What
//! a real server does with each document depends on its version and edition ([`EpicEdition`]):
//! a field its schema lacks rejects the whole document with `undefinedField` (no `data`), as in
//! `../shared/gitlab/fixtures/graphql_error_undefined_field.sveltia-issue257.json`; a group the
//! token cannot see is `group: null`; a group can also be made to answer HTTP 403 or 404
//! ([`GroupAccess`]). Widgets honour `onlyTypes`, and without it include a widget type the client
//! does not model, as GitLab does.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{
    at, graphql_time, invalid_variable, offset_of, page_size, string_var, time_var, Answer,
    Dataset, Shared,
};

/// Which epics API the instance has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EpicEdition {
    /// Enterprise Edition 18.3 or later: epics as work items, `availableFeatures`, and the
    /// deprecated `Group.epics`.
    #[default]
    Current,
    /// Enterprise Edition before 18.3: no `Group.availableFeatures` (so the work items document
    /// is rejected whole); `Group.epics` answers.
    LegacyOnly,
    /// Community Edition 18.3 or later: `hasEpicsFeature` is false and epic work item lists are
    /// empty; `Group.epics` does not exist.
    Community,
    /// Community Edition before 18.3: neither `Group.availableFeatures` nor `Group.epics`.
    OldCommunity,
}

/// How a group answers a token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GroupAccess {
    #[default]
    Visible,
    /// HTTP 403 to any epics request naming the group.
    Forbidden,
    /// HTTP 404 to any epics request naming the group.
    NotFound,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: u64,
    pub full_path: String,
    /// `public`, `internal` or `private`.
    pub visibility: String,
    /// Whether the group's tier has epics (Premium or Ultimate).
    pub premium: bool,
    pub access: GroupAccess,
}

#[derive(Debug, Clone)]
pub struct Epic {
    /// The work item id (`gid://gitlab/WorkItem/{id}`).
    pub id: u64,
    /// The legacy epic id (`gid://gitlab/Epic/{legacy_id}`).
    pub legacy_id: u64,
    pub iid: u64,
    /// The full path of the (sub)group it belongs to.
    pub group: String,
    pub title: String,
    pub description: Option<String>,
    pub author: String,
    /// `opened` or `closed`.
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub confidential: bool,
    pub labels: Vec<String>,
    pub child_epics: u32,
    pub child_issues: u32,
}

impl Epic {
    /// An open epic, last updated when it was created; its legacy id is `id + 100_000`.
    pub fn new(id: u64, group: &str, iid: u64, title: &str, author: &str, created: &str) -> Self {
        let created_at = at(created);
        Epic {
            id,
            legacy_id: id + 100_000,
            iid,
            group: group.to_string(),
            title: title.to_string(),
            description: Some(format!("Description of {title}.")),
            author: author.to_string(),
            state: "opened".to_string(),
            created_at,
            updated_at: created_at,
            closed_at: None,
            confidential: false,
            labels: Vec::new(),
            child_epics: 0,
            child_issues: 0,
        }
    }

    pub fn closed(mut self, when: &str) -> Self {
        let t = at(when);
        self.state = "closed".to_string();
        self.closed_at = Some(t);
        self.updated_at = self.updated_at.max(t);
        self
    }

    pub fn updated(mut self, when: &str) -> Self {
        self.updated_at = at(when);
        self
    }

    pub fn confidential(mut self) -> Self {
        self.confidential = true;
        self
    }

    pub fn labels(mut self, labels: &[&str]) -> Self {
        self.labels = labels.iter().map(|l| l.to_string()).collect();
        self
    }

    pub fn description(mut self, text: &str) -> Self {
        self.description = Some(text.to_string());
        self
    }

    /// Direct children: child epics and issues.
    pub fn children(mut self, epics: u32, issues: u32) -> Self {
        self.child_epics = epics;
        self.child_issues = issues;
        self
    }

    pub fn work_item_gid(&self) -> String {
        format!("gid://gitlab/WorkItem/{}", self.id)
    }

    pub fn legacy_gid(&self) -> String {
        format!("gid://gitlab/Epic/{}", self.legacy_id)
    }
}

/// Groups, epics and the instance's epics API.
#[derive(Debug, Clone, Default)]
pub struct EpicData {
    pub edition: EpicEdition,
    pub groups: Vec<Group>,
    pub epics: Vec<Epic>,
}

impl Dataset {
    /// A Premium group.
    pub fn group(mut self, id: u64, full_path: &str, visibility: &str) -> Self {
        self.epic_data.groups.push(Group {
            id,
            full_path: full_path.to_string(),
            visibility: visibility.to_string(),
            premium: true,
            access: GroupAccess::Visible,
        });
        self
    }

    /// A group on the Free tier (of an Enterprise Edition instance such as GitLab.com).
    pub fn free_group(mut self, id: u64, full_path: &str) -> Self {
        self = self.group(id, full_path, "public");
        self.epic_data.groups.last_mut().unwrap().premium = false;
        self
    }

    /// How a group (added before) answers.
    pub fn group_access(mut self, full_path: &str, access: GroupAccess) -> Self {
        let group = self
            .epic_data
            .groups
            .iter_mut()
            .find(|g| g.full_path == full_path)
            .unwrap_or_else(|| panic!("test data: no group {full_path:?}"));
        group.access = access;
        self
    }

    pub fn epic(mut self, epic: Epic) -> Self {
        assert!(
            self.epic_data
                .groups
                .iter()
                .any(|g| g.full_path == epic.group),
            "test data: epic {:?} names unknown group {}",
            epic.title,
            epic.group
        );
        self.epic_data.epics.push(epic);
        self
    }

    pub fn epic_edition(mut self, edition: EpicEdition) -> Self {
        self.epic_data.edition = edition;
        self
    }
}

fn group_named<'d>(shared: &'d Shared, full_path: &str) -> Option<&'d Group> {
    // GitLab finds namespaces by path case-insensitively.
    shared
        .data
        .epic_data
        .groups
        .iter()
        .find(|g| g.full_path.eq_ignore_ascii_case(full_path))
}

/// HTTP 403/404 for an epics request naming a group set up to refuse; `None` otherwise.
pub(super) fn refused(shared: &Shared, operation: Option<&str>, vars: &Value) -> Option<Answer> {
    if !matches!(operation, Some("GroupEpicWorkItems" | "GroupEpicsLegacy")) {
        return None;
    }
    let group = group_named(shared, vars.get("fullPath")?.as_str()?)?;
    match group.access {
        GroupAccess::Visible => None,
        GroupAccess::Forbidden => Some(Answer::json(
            axum::http::StatusCode::FORBIDDEN,
            &json!({"message": "403 Forbidden"}),
        )),
        GroupAccess::NotFound => Some(Answer::not_found()),
    }
}

/// GitLab's validation error for a field its schema lacks: the whole document is rejected.
fn undefined_field(operation: &str, type_name: &str, field: &str) -> Value {
    json!([{
        "message": format!("Field '{field}' doesn't exist on type '{type_name}'"),
        "locations": [{"line": 20, "column": 5}],
        "path": [format!("query {operation}"), "group", field],
        "extensions": {"code": "undefinedField", "typeName": type_name, "fieldName": field},
    }])
}

/// Every field named `name` the document selects, at any depth (fragments included).
fn fields_named<'q>(
    doc: &'q graphql_parser::query::Document<'q, String>,
    name: &str,
) -> Vec<&'q graphql_parser::query::Field<'q, String>> {
    use graphql_parser::query as q;
    fn walk<'q>(
        set: &'q q::SelectionSet<'q, String>,
        name: &str,
        out: &mut Vec<&'q q::Field<'q, String>>,
    ) {
        for item in &set.items {
            match item {
                q::Selection::Field(f) => {
                    if f.name == name {
                        out.push(f);
                    }
                    walk(&f.selection_set, name, out);
                }
                q::Selection::InlineFragment(inline) => walk(&inline.selection_set, name, out),
                q::Selection::FragmentSpread(_) => {}
            }
        }
    }
    let mut out = Vec::new();
    for definition in &doc.definitions {
        match definition {
            q::Definition::Fragment(f) => walk(&f.selection_set, name, &mut out),
            q::Definition::Operation(q::OperationDefinition::Query(op)) => {
                walk(&op.selection_set, name, &mut out)
            }
            q::Definition::Operation(q::OperationDefinition::SelectionSet(set)) => {
                walk(set, name, &mut out)
            }
            q::Definition::Operation(_) => {}
        }
    }
    out
}

/// What the document asks of the schema that matters here: whether it selects
/// `availableFeatures` and `epics`, and the `onlyTypes` of `widgets` (when given).
struct Asked {
    available_features: bool,
    epics: bool,
    only_widget_types: Option<Vec<String>>,
}

fn asked(query: &str) -> Asked {
    use graphql_parser::query as q;
    let Ok(doc) = q::parse_query::<String>(query) else {
        // `select` reports the parse error.
        return Asked {
            available_features: false,
            epics: false,
            only_widget_types: None,
        };
    };
    let only_widget_types = fields_named(&doc, "widgets").first().and_then(|w| {
        w.arguments
            .iter()
            .find(|(name, _)| name == "onlyTypes")
            .map(|(_, value)| match value {
                q::Value::List(values) => values
                    .iter()
                    .filter_map(|v| match v {
                        q::Value::Enum(e) => Some(e.clone()),
                        _ => None,
                    })
                    .collect(),
                q::Value::Enum(e) => vec![e.clone()],
                _ => Vec::new(),
            })
    });
    Asked {
        available_features: !fields_named(&doc, "availableFeatures").is_empty(),
        epics: !fields_named(&doc, "epics").is_empty(),
        only_widget_types,
    }
}

/// The epics a search of `group` (and its subgroups) by `username` over the period finds, newest
/// first: `authorUsername` matches case-insensitively and whole; `updatedAfter` is `>=`,
/// `createdBefore` is `<=` (inclusive), as GitLab's finders do.
fn found<'d>(shared: &'d Shared, group: &Group, vars: &Value) -> Result<Vec<&'d Epic>, Value> {
    let username = string_var(vars, "username", "String!")?;
    let updated_after = time_var(vars, "updatedAfter")?;
    let created_before = time_var(vars, "createdBefore")?;
    let prefix = format!("{}/", group.full_path.to_ascii_lowercase());
    let mut rows: Vec<&Epic> = shared
        .data
        .epic_data
        .epics
        .iter()
        .filter(|e| {
            let path = e.group.to_ascii_lowercase();
            path == group.full_path.to_ascii_lowercase() || path.starts_with(&prefix)
        })
        .filter(|e| e.author.eq_ignore_ascii_case(username))
        .filter(|e| e.updated_at >= updated_after && e.created_at <= created_before)
        .collect();
    rows.sort_by_key(|e| std::cmp::Reverse((e.created_at, e.id)));
    Ok(rows)
}

/// One page of `rows` after `after`, as a GitLab connection.
fn page(rows: &[&Epic], vars: &Value, node: impl Fn(&Epic) -> Value) -> Result<Value, Value> {
    let size = page_size(vars)?;
    let start = match vars.get("after") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => match offset_of(c) {
            Some(n) if n <= rows.len() => n,
            _ => return Err(json!([{"message": "Please provide a valid cursor"}])),
        },
        Some(other) => return Err(invalid_variable("after", "String", Some(other))),
    };
    let end = (start + size).min(rows.len());
    let nodes: Vec<Value> = rows[start..end].iter().map(|e| node(e)).collect();
    Ok(json!({
        "pageInfo": {
            "hasNextPage": end < rows.len(),
            "hasPreviousPage": start > 0,
            "startCursor": if end > start { json!(super::cursor_for(start)) } else { Value::Null },
            "endCursor": if end > start { json!(super::cursor_for(end)) } else { Value::Null },
        },
        "count": rows.len(),
        "nodes": nodes,
    }))
}

fn user_json(shared: &Shared, username: &str) -> Value {
    let user = shared
        .data
        .users
        .iter()
        .find(|u| u.username.eq_ignore_ascii_case(username));
    json!({
        "__typename": "UserCore",
        "id": format!("gid://gitlab/User/{}", user.map(|u| u.id).unwrap_or_default()),
        "username": user.map(|u| u.username.as_str()).unwrap_or(username),
        "name": user.map(|u| u.name.as_str()).unwrap_or(""),
        "webUrl": format!("{}/{username}", shared.url),
    })
}

fn group_json(shared: &Shared, group: &Group, has_epics: bool) -> Value {
    json!({
        "__typename": "Group",
        "id": format!("gid://gitlab/Group/{}", group.id),
        "fullPath": group.full_path,
        "name": group.full_path.rsplit('/').next().unwrap_or_default(),
        "visibility": group.visibility,
        "webUrl": format!("{}/groups/{}", shared.url, group.full_path),
        "availableFeatures": {
            "__typename": "NamespaceAvailableFeatures",
            "hasEpicsFeature": has_epics,
            "hasSubepicsFeature": has_epics,
            "hasScopedLabelsFeature": has_epics,
        },
    })
}

fn labels_json(epic: &Epic) -> Value {
    json!({
        "__typename": "LabelConnection",
        "count": epic.labels.len(),
        "nodes": epic.labels.iter().map(|l| json!({"__typename": "Label", "title": l})).collect::<Vec<_>>(),
    })
}

fn epic_group<'d>(shared: &'d Shared, epic: &Epic) -> &'d Group {
    group_named(shared, &epic.group).expect("dataset epic group exists")
}

fn web_url(shared: &Shared, epic: &Epic) -> String {
    format!("{}/groups/{}/-/epics/{}", shared.url, epic.group, epic.iid)
}

fn work_item_json(shared: &Shared, epic: &Epic, only: Option<&[String]>) -> Value {
    let group = epic_group(shared, epic);
    let widgets = [
        json!({
            "__typename": "WorkItemWidgetAssignees",
            "type": "ASSIGNEES",
            "assignees": {"nodes": []},
        }),
        json!({
            "__typename": "WorkItemWidgetLabels",
            "type": "LABELS",
            "allowsScopedLabels": true,
            "labels": labels_json(epic),
        }),
        json!({
            "__typename": "WorkItemWidgetHierarchy",
            "type": "HIERARCHY",
            "hasChildren": epic.child_epics + epic.child_issues > 0,
            "hasParent": false,
            "parent": null,
            "children": {"__typename": "WorkItemConnection", "count": epic.child_epics + epic.child_issues},
        }),
    ];
    let widgets: Vec<Value> = widgets
        .into_iter()
        .filter(|w| only.is_none_or(|types| types.iter().any(|t| w["type"] == t.as_str())))
        .collect();
    json!({
        "__typename": "WorkItem",
        "id": epic.work_item_gid(),
        "iid": epic.iid.to_string(),
        "title": epic.title,
        "description": epic.description,
        "webUrl": web_url(shared, epic),
        "state": if epic.state == "closed" { "CLOSED" } else { "OPEN" },
        "createdAt": graphql_time(epic.created_at),
        "updatedAt": graphql_time(epic.updated_at),
        "closedAt": epic.closed_at.map(graphql_time),
        "confidential": epic.confidential,
        "author": user_json(shared, &epic.author),
        "namespace": {
            "__typename": "Namespace",
            "id": format!("gid://gitlab/Group/{}", group.id),
            "fullPath": group.full_path,
            "visibility": group.visibility,
        },
        "workItemType": {"__typename": "WorkItemType", "name": "Epic"},
        "widgets": widgets,
    })
}

fn legacy_epic_json(shared: &Shared, epic: &Epic) -> Value {
    let group = epic_group(shared, epic);
    json!({
        "__typename": "Epic",
        "id": epic.legacy_gid(),
        "iid": epic.iid.to_string(),
        "workItemId": epic.work_item_gid(),
        "title": epic.title,
        "description": epic.description,
        "webUrl": web_url(shared, epic),
        "state": epic.state,
        "createdAt": graphql_time(epic.created_at),
        "updatedAt": graphql_time(epic.updated_at),
        "closedAt": epic.closed_at.map(graphql_time),
        "confidential": epic.confidential,
        "author": user_json(shared, &epic.author),
        "group": group_json(shared, group, true),
        "labels": labels_json(epic),
        "children": {"__typename": "EpicConnection", "count": epic.child_epics},
        "issues": {"__typename": "EpicIssueConnection", "count": epic.child_issues},
    })
}

/// `GroupEpicWorkItems`.
pub(super) fn work_items(shared: &Shared, vars: &Value, query: &str) -> Result<Value, Value> {
    let edition = shared.data.epic_data.edition;
    let asked = asked(query);
    if asked.available_features
        && matches!(edition, EpicEdition::LegacyOnly | EpicEdition::OldCommunity)
    {
        return Err(undefined_field(
            "GroupEpicWorkItems",
            "Group",
            "availableFeatures",
        ));
    }
    let full_path = string_var(vars, "fullPath", "ID!")?;
    let Some(group) = group_named(shared, full_path) else {
        return Ok(json!({"group": null}));
    };
    let has_epics = group.premium && edition == EpicEdition::Current;
    let rows = if has_epics {
        found(shared, group, vars)?
    } else {
        Vec::new()
    };
    let only = asked.only_widget_types;
    let mut answer = group_json(shared, group, has_epics);
    answer["workItems"] = page(&rows, vars, |e| work_item_json(shared, e, only.as_deref()))?;
    Ok(json!({ "group": answer }))
}

/// `GroupEpicsLegacy`.
pub(super) fn legacy(shared: &Shared, vars: &Value, query: &str) -> Result<Value, Value> {
    let edition = shared.data.epic_data.edition;
    if asked(query).epics && matches!(edition, EpicEdition::Community | EpicEdition::OldCommunity) {
        return Err(undefined_field("GroupEpicsLegacy", "Group", "epics"));
    }
    let full_path = string_var(vars, "fullPath", "ID!")?;
    let Some(group) = group_named(shared, full_path) else {
        return Ok(json!({"group": null}));
    };
    // An Enterprise Edition group without the feature lists no epics.
    let rows = if group.premium {
        found(shared, group, vars)?
    } else {
        Vec::new()
    };
    let mut answer = group_json(shared, group, group.premium);
    answer["epics"] = page(&rows, vars, |e| legacy_epic_json(shared, e))?;
    Ok(json!({ "group": answer }))
}
