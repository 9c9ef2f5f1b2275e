//! Incident timelines in the fake: `ProjectIncidents` (`project(fullPath:) { issues(types:
//! [INCIDENT], updatedAfter:, createdBefore:) }`) and `IncidentTimelineEvents` (up to twenty
//! `incidentManagementTimelineEvents(incidentId:)` fields of one project, aliased `e0`…`e19`, each
//! with its own `after` and switched on by `@include`). As in GitLab, a timeline event names
//! its author and when it was written; writing one leaves nothing in the events API. An
//! instance without timelines (before 15.2) is `Faults::graphql` with an `UndefinedField` on
//! `Project.incidentManagementTimelineEvents`, targeted at `IncidentTimelineEvents`.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{
    at, graphql_time, issue_json, node_connection, string_var, time_var, user_core_json, Shared,
};

/// An entry of an incident's timeline.
#[derive(Debug, Clone)]
pub struct TimelineEvent {
    pub id: u64,
    /// The incident's global id number (`Issue::id`).
    pub incident_id: u64,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

impl TimelineEvent {
    pub fn new(id: u64, incident_id: u64, author: &str, created: &str) -> Self {
        TimelineEvent {
            id,
            incident_id,
            author: author.to_string(),
            created_at: at(created),
        }
    }
}

/// The project's incidents created by `createdBefore` (inclusive) and updated since
/// `updatedAfter`, newest first.
pub(super) fn project_incidents(shared: &Shared, vars: &Value) -> Result<Value, Value> {
    let path = string_var(vars, "fullPath", "ID!")?;
    let updated_after = time_var(vars, "updatedAfter")?;
    let created_before = time_var(vars, "createdBefore")?;
    let Some(project) = shared
        .data
        .projects
        .iter()
        .find(|p| p.full_path.eq_ignore_ascii_case(path))
    else {
        return Ok(json!({ "project": null }));
    };
    let mut rows: Vec<_> = shared
        .data
        .issues
        .iter()
        .filter(|i| i.project_id == project.id && i.issue_type == "INCIDENT")
        .filter(|i| i.updated_at >= updated_after && i.created_at <= created_before)
        .collect();
    rows.sort_by_key(|i| std::cmp::Reverse((i.created_at, i.id)));
    let nodes = rows.iter().map(|i| issue_json(shared, i)).collect();
    Ok(json!({ "project": { "__typename": "Project", "issues": node_connection(nodes, vars)? } }))
}

/// Each switched-on slot's page of its incident's timeline, oldest entry first. The answer is
/// stored under the field with its arguments as the document writes them, so that each alias
/// gets its own.
pub(super) fn timeline_events(shared: &Shared, vars: &Value) -> Result<Value, Value> {
    let path = string_var(vars, "fullPath", "ID!")?;
    let Some(project) = shared
        .data
        .projects
        .iter()
        .find(|p| p.full_path.eq_ignore_ascii_case(path))
    else {
        return Ok(json!({ "project": null }));
    };
    let mut answer = serde_json::Map::new();
    answer.insert("__typename".into(), json!("Project"));
    for slot in 0..20 {
        if vars.get(format!("use{slot}")).and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let gid = string_var(vars, &format!("i{slot}"), "IssueID!")?;
        let incident = gid
            .strip_prefix("gid://gitlab/Issue/")
            .and_then(|n| n.parse::<u64>().ok())
            .and_then(|id| shared.data.issues.iter().find(|i| i.id == id))
            .filter(|i| i.project_id == project.id);
        let key = format!(
            "incidentManagementTimelineEvents(incidentId: $i{slot}, first: $first, after: $a{slot})"
        );
        let Some(incident) = incident else {
            answer.insert(key, Value::Null);
            continue;
        };
        let mut events: Vec<_> = shared
            .data
            .timeline_events
            .iter()
            .filter(|e| e.incident_id == incident.id)
            .collect();
        events.sort_by_key(|e| (e.created_at, e.id));
        let nodes = events
            .iter()
            .map(|e| {
                json!({
                    "__typename": "TimelineEventType",
                    "id": format!("gid://gitlab/IncidentManagement::TimelineEvent/{}", e.id),
                    "createdAt": graphql_time(e.created_at),
                    "occurredAt": graphql_time(e.created_at),
                    "author": user_core_json(shared, &e.author),
                })
            })
            .collect();
        let paging = json!({
            "first": vars.get("first").cloned().unwrap_or(Value::Null),
            "after": vars.get(format!("a{slot}")).cloned().unwrap_or(Value::Null),
        });
        answer.insert(key, node_connection(nodes, &paging)?);
    }
    Ok(json!({ "project": answer }))
}
