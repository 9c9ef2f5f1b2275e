//! On-call schedules (GitLab Premium) in the fake: `OncallShifts` (`project(fullPath:) {
//! incidentManagementOncallSchedules(first: $schedules) { rotations(first: $rotations) { wK:
//! shifts(startTime: $startK, endTime: $endK) @include(if: $withK) } } }`, one aliased `shifts`
//! field per window; the first `$schedules` schedules and `$rotations` rotations of each, at
//! most 100, with `hasNextPage` when more follow) and `OncallRotationShifts` (one rotation's
//! later pages in one window). Shifts come whole, as GitLab returns every shift
//! overlapping the window; a window longer than GitLab allows, judged by date in the instance's
//! time zone ([`Dataset::time_zone_offset`]), gets GitLab's own error, for each `shifts` field
//! that asks for it. An instance without the feature (Community Edition) is `Faults::graphql`
//! with an `UndefinedField` on `Project.incidentManagementOncallSchedules`, targeted at these
//! operations.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{
    at, cursor_for, graphql_time, invalid_variable, offset_of, page_size, string_var, time_var,
    Dataset, Shared,
};

/// One shift of a rotation, whole (GitLab returns every shift overlapping the window asked
/// about, not cut to it).
#[derive(Debug, Clone)]
pub struct OncallShift {
    pub username: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct OncallRotation {
    /// The global id (`gid://gitlab/IncidentManagement::OncallRotation/{id}`).
    pub id: u64,
    pub name: String,
    pub shifts: Vec<OncallShift>,
}

impl OncallRotation {
    pub fn new(id: u64, name: &str) -> Self {
        OncallRotation {
            id,
            name: name.to_string(),
            shifts: Vec::new(),
        }
    }

    /// `username` is on call from `from` to `to`.
    pub fn shift(mut self, username: &str, from: &str, to: &str) -> Self {
        let (starts_at, ends_at) = (at(from), at(to));
        assert!(
            starts_at < ends_at,
            "test data: shift {from}..{to} ends before it starts"
        );
        self.shifts.push(OncallShift {
            username: username.to_string(),
            starts_at,
            ends_at,
        });
        self
    }

    pub fn gid(&self) -> String {
        format!(
            "gid://gitlab/IncidentManagement::OncallRotation/{}",
            self.id
        )
    }
}

#[derive(Debug, Clone)]
pub struct OncallSchedule {
    pub project_id: u64,
    pub iid: u64,
    pub name: String,
    pub rotations: Vec<OncallRotation>,
}

impl OncallSchedule {
    pub fn new(project_id: u64, iid: u64, name: &str) -> Self {
        OncallSchedule {
            project_id,
            iid,
            name: name.to_string(),
            rotations: Vec::new(),
        }
    }

    pub fn rotation(mut self, rotation: OncallRotation) -> Self {
        self.rotations.push(rotation);
        self
    }
}

impl Dataset {
    pub fn oncall_schedule(mut self, schedule: OncallSchedule) -> Self {
        assert!(
            self.projects.iter().any(|p| p.id == schedule.project_id),
            "test data: on-call schedule {:?} names unknown project {}",
            schedule.name,
            schedule.project_id
        );
        self.oncall_schedules.push(schedule);
        self
    }

    /// The instance's time zone (`gitlab_rails['time_zone']`) as whole hours from UTC; GitLab
    /// compares the dates of an on-call shifts window in it.
    pub fn time_zone_offset(mut self, hours: i32) -> Self {
        self.time_zone_offset_hours = hours;
        self
    }
}

/// GitLab's limit on a shifts window (`IncidentManagement::OncallShifts::ReadService`):
/// `end_time.to_date <= start_time.to_date + 1.month`, dates in the instance's zone, months
/// added as Rails does (31 January + 1 month = the last day of February).
pub fn oncall_window_accepted(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    time_zone_offset_hours: i32,
) -> bool {
    let zone = chrono::FixedOffset::east_opt(time_zone_offset_hours * 3600)
        .expect("a time zone offset within a day");
    let start = start.with_timezone(&zone).date_naive();
    let end = end.with_timezone(&zone).date_naive();
    end <= start
        .checked_add_months(chrono::Months::new(1))
        .expect("a representable date")
}

/// One window asked about: the `shifts` field that asks (as the document writes it, with its
/// arguments, which is where the answer is stored for the selection to find), the name GitLab's
/// error paths give it (its alias), and the window.
struct Slot {
    field: String,
    alias: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// `OncallShifts`' windows: slot K (`$startK`, `$endK`, `$withK`, for K = 0, 1, … as long as the
/// variables go on) when `$withK` is true. Every slot's times are checked, as GitLab checks
/// every declared non-null variable, used or not.
fn window_slots(vars: &Value) -> Result<Vec<Slot>, Value> {
    let mut slots = Vec::new();
    for k in 0.. {
        let name = format!("with{k}");
        let Some(with) = vars.get(&name) else {
            break;
        };
        let with = with
            .as_bool()
            .ok_or_else(|| invalid_variable(&name, "Boolean!", Some(with)))?;
        let start = time_var(vars, &format!("start{k}"))?;
        let end = time_var(vars, &format!("end{k}"))?;
        if with {
            slots.push(Slot {
                field: format!("shifts(startTime: $start{k}, endTime: $end{k}, first: $first)"),
                alias: format!("w{k}"),
                start,
                end,
            });
        }
    }
    Ok(slots)
}

/// GitLab's refusal of a window, if it refuses it.
fn window_refusal(shared: &Shared, slot: &Slot) -> Option<&'static str> {
    if slot.start >= slot.end {
        Some("`start_time` should precede `end_time`")
    } else if !oncall_window_accepted(slot.start, slot.end, shared.data.time_zone_offset_hours) {
        Some("`end_time` should not exceed one month after `start_time`")
    } else {
        None
    }
}

/// `OncallShifts` (every schedule and rotation of a project, one page of shifts in each window
/// asked) and, with `one_rotation`, `OncallRotationShifts` (one rotation of one schedule, a page
/// of one window after `after`). Shifts overlapping a window come whole, in start order; a window
/// GitLab refuses gets GitLab's error once per rotation, as each of its `shifts` fields fails.
pub(super) fn shifts(shared: &Shared, vars: &Value, one_rotation: bool) -> Result<Value, Value> {
    let full_path = string_var(vars, "fullPath", "ID!")?;
    let size = page_size(vars)?;
    let offset = match vars.get("after") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => {
            offset_of(c).ok_or_else(|| json!([{"message": "Please provide a valid cursor"}]))?
        }
        Some(other) => return Err(invalid_variable("after", "String", Some(other))),
    };
    // OncallRotationShifts names its schedule and rotation; OncallShifts pages both lists.
    let (schedules_page, rotations_page) = if one_rotation {
        (usize::MAX, usize::MAX)
    } else {
        (list_page(vars, "schedules")?, list_page(vars, "rotations")?)
    };
    let (schedule_iid, rotation_id, slots) = if one_rotation {
        (
            Some(string_var(vars, "scheduleIid", "ID!")?),
            Some(string_var(
                vars,
                "rotationId",
                "IncidentManagementOncallRotationID!",
            )?),
            vec![Slot {
                field: "shifts".into(),
                alias: "shifts".into(),
                start: time_var(vars, "startTime")?,
                end: time_var(vars, "endTime")?,
            }],
        )
    } else {
        (None, None, window_slots(vars)?)
    };
    let Some(project) = shared
        .data
        .projects
        .iter()
        .find(|p| p.full_path.eq_ignore_ascii_case(full_path))
    else {
        return Ok(json!({"project": null}));
    };
    let mut errors = Vec::new();
    let mut schedules = Vec::new();
    let chosen: Vec<&OncallSchedule> = shared
        .data
        .oncall_schedules
        .iter()
        .filter(|s| {
            s.project_id == project.id && schedule_iid.is_none_or(|iid| iid == s.iid.to_string())
        })
        .collect();
    let more_schedules = chosen.len() > schedules_page;
    for (i, schedule) in chosen.into_iter().take(schedules_page).enumerate() {
        let mut rotations = Vec::new();
        let rows: Vec<&OncallRotation> = schedule
            .rotations
            .iter()
            .filter(|r| rotation_id.is_none_or(|id| id == r.gid()))
            .collect();
        let more_rotations = rows.len() > rotations_page;
        for (j, rotation) in rows.into_iter().take(rotations_page).enumerate() {
            let mut node = json!({
                "__typename": "IncidentManagementOncallRotation",
                "id": rotation.gid(),
                "name": rotation.name,
            });
            for slot in &slots {
                let shifts = if let Some(message) = window_refusal(shared, slot) {
                    let path = if one_rotation {
                        json!([
                            "project",
                            "incidentManagementOncallSchedules",
                            "nodes",
                            i,
                            "rotation",
                            slot.alias
                        ])
                    } else {
                        json!([
                            "project",
                            "incidentManagementOncallSchedules",
                            "nodes",
                            i,
                            "rotations",
                            "nodes",
                            j,
                            slot.alias
                        ])
                    };
                    errors.push(json!({
                        "message": message,
                        "locations": [{"line": 30, "column": 13}],
                        "path": path,
                    }));
                    Value::Null
                } else {
                    oncall_shift_page(shared, rotation, slot.start, slot.end, offset, size)
                };
                node[&slot.field] = shifts;
            }
            rotations.push(node);
        }
        let mut node = json!({
            "__typename": "IncidentManagementOncallSchedule",
            "iid": schedule.iid.to_string(),
            "name": schedule.name,
            "timezone": "Etc/UTC",
        });
        if one_rotation {
            node["rotation"] = rotations.pop().unwrap_or(Value::Null);
        } else {
            node["rotations"] = oncall_list(rotations, more_rotations);
        }
        schedules.push(node);
    }
    if !errors.is_empty() {
        // GitLab also sends `data` with those `shifts` null; the client reads only the errors.
        return Err(Value::Array(errors));
    }
    Ok(json!({"project": {
        "__typename": "Project",
        "id": format!("gid://gitlab/Project/{}", project.id),
        "fullPath": project.full_path,
        "visibility": project.visibility,
        "incidentManagementOncallSchedules": oncall_list(schedules, more_schedules),
    }}))
}

/// `$schedules` or `$rotations`: a list's page, at most 100 as GitLab serves it.
fn list_page(vars: &Value, name: &str) -> Result<usize, Value> {
    match vars.get(name).and_then(Value::as_i64) {
        Some(first) if first >= 0 => Ok((first as usize).min(100)),
        Some(_) => Err(json!([{"message": "first must be greater than or equal to 0"}])),
        None => Err(invalid_variable(name, "Int!", vars.get(name))),
    }
}

/// The first page of a list of schedules or rotations, `more` when others follow (the harvest
/// asks for no later page: it asks again with a larger first one).
fn oncall_list(nodes: Vec<Value>, more: bool) -> Value {
    json!({
        "pageInfo": {
            "hasNextPage": more,
            "hasPreviousPage": false,
            "endCursor": if nodes.is_empty() { Value::Null } else { json!(cursor_for(nodes.len())) },
        },
        "nodes": nodes,
    })
}

/// One page of a rotation's shifts overlapping `[start, end)`, after `offset`.
fn oncall_shift_page(
    shared: &Shared,
    rotation: &OncallRotation,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    offset: usize,
    size: usize,
) -> Value {
    let mut rows: Vec<&OncallShift> = rotation
        .shifts
        .iter()
        .filter(|s| s.starts_at < end && s.ends_at > start)
        .collect();
    rows.sort_by_key(|s| s.starts_at);
    let from = offset.min(rows.len());
    let to = (from + size).min(rows.len());
    let nodes: Vec<Value> = rows[from..to]
        .iter()
        .map(|s| {
            let (id, username) = match shared.data.user_named(&s.username) {
                Some(u) => (u.id, u.username.clone()),
                None => (0, s.username.clone()),
            };
            json!({
                "__typename": "IncidentManagementOncallShift",
                "startsAt": graphql_time(s.starts_at),
                "endsAt": graphql_time(s.ends_at),
                "participant": {
                    "__typename": "OncallParticipantType",
                    "id": format!("gid://gitlab/IncidentManagement::OncallParticipant/{}{id}", rotation.id),
                    "user": {
                        "__typename": "UserCore",
                        "id": format!("gid://gitlab/User/{id}"),
                        "username": username,
                    },
                },
            })
        })
        .collect();
    json!({
        "pageInfo": {
            "hasNextPage": to < rows.len(),
            "hasPreviousPage": from > 0,
            "startCursor": if to > from { json!(cursor_for(from)) } else { Value::Null },
            "endCursor": if to > from { json!(cursor_for(to)) } else { Value::Null },
        },
        "nodes": nodes,
    })
}
