//! The `oncall_shifts` source: the subject's on-call shifts in the schedules of the projects named
//! in `harvest.oncall_projects`.
//!
//! GitLab answers shifts only for a window of at most one month, so the period is read in
//! windows of [`WINDOW_DAYS`]; but one request may ask for many windows, each an aliased
//! `shifts` field of its own (`queries/oncall_shifts.graphql`, [`SLOTS`] of them, each switched
//! on or off by a variable). Every request is sized by GitLab's complexity arithmetic
//! ([`sizing`]) to stay within its limit: the first request for a project, the probe, carries
//! as many windows as fit at list pages small enough (a year at pages of five schedules and
//! five rotations); its answer says whether the instance offers schedules at all (a Community
//! Edition server rejects the field), whether the project is visible, and how many schedules and
//! rotations it has. A probe whose pages were too small for the lists is asked again with pages
//! of 100; the windows left over then go together, at pages that hold the lists, as many to a
//! request as fit. Should GitLab still find a request too complex (a lower limit), its refusal
//! names its score and limit, and the request is sized down to that; without those numbers it
//! is halved, down to one window, then smaller pages of shifts. A rotation with more shifts in a
//! window than a page holds is continued on its own (`OncallRotationShifts`).
//!
//! A shift overlapping two windows comes back in both, unclipped, so shifts are deduplicated by
//! rotation and start, then clipped to the period and to the harvest time (a shift not yet
//! worked is a plan, not evidence). Each window is cached on its own once it is over.
//!
//! Not offered by the instance, or nothing to read in any project: the source is `skipped`, with
//! the reason. Other errors keep what was read and make the source `partial` or `failed`.

use std::collections::HashSet;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use futures::future::join_all;

use crate::gitlab::graphql::{
    oncall_rotation_shifts, oncall_shifts, OncallRotationShifts, OncallShifts,
};
use crate::gitlab::{Client, GitlabError, RequestCounter};
use crate::model::{Item, ItemKind, Role, Subject};
use crate::progress::SubjectProgress;

use super::incremental::{Memory, MARGIN};
use super::paging::{paginate, Page};
use super::shared::OncePerRun;
use super::{combine, HarvestRequest, SourceOutcome};
use sizing::{ListPages, Plan, Shape, LIST_LIMIT};

mod sizing;

/// Each on-call project's shifts in the period's windows, read once per run: a rotation's
/// shifts are the same whoever asks.
pub(crate) type SharedShifts = OncePerRun<String, ProjectRead>;

const SOURCE: &str = "oncall_shifts";

/// Longest window asked for, in days. GitLab accepts a window when
/// `end_time.to_date <= start_time.to_date + 1.month`, both dates taken in the instance's time
/// zone. A UTC calendar month fails that on an instance west of UTC whenever the month before is
/// shorter: July 2026 in UTC starts on 30 June in Pacific time, and 30 June + 1 month is 30 July,
/// before 31 July. Four weeks lie within one month of any date, in any zone, so a quarter is four
/// windows instead of three, and never a rejected one.
pub(crate) const WINDOW_DAYS: i64 = 28;

pub(crate) const NOT_OFFERED: &str =
    "on-call schedules need GitLab Premium or Ultimate; this instance does not offer them";

pub(crate) const NOT_CONFIGURED: &str =
    "no on-call projects configured: set harvest.oncall_projects";

/// The subject's on-call shifts in the period, from the schedules of `request.oncall_projects`.
pub(crate) async fn harvest_shifts(
    client: &Client,
    request: &HarvestRequest,
    subject: &Subject,
    shared: &SharedShifts,
    memory: &Memory,
    counter: &RequestCounter,
    progress: &SubjectProgress,
) -> SourceOutcome {
    if request.oncall_projects.is_empty() {
        return SourceOutcome::skipped(SOURCE, NOT_CONFIGURED);
    }
    let from = request.period.start();
    let to = request.period.end_exclusive().min(request.generated_at);
    let windows = windows(from, to);
    let page_size = i64::from(request.page_size);
    let reads = join_all(request.oncall_projects.iter().map(|project| {
        shared.get(project.to_ascii_lowercase(), async {
            read_project(client, project, &windows, page_size, memory, counter).await
        })
    }))
    .await;

    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut unavailable = Vec::new();
    let mut read_any = false;
    for read in reads {
        match read {
            ProjectRead::NotOffered => return SourceOutcome::skipped(SOURCE, NOT_OFFERED),
            ProjectRead::Unavailable(reason) => unavailable.push(reason),
            ProjectRead::Read { shifts, error } => {
                read_any = true;
                records.extend(shifts);
                errors.extend(error);
            }
        }
    }
    if !read_any && errors.is_empty() && !unavailable.is_empty() {
        return SourceOutcome::skipped(SOURCE, unavailable.join("; "));
    }
    let base_url = client.base_url().as_str();
    let items = shift_items(&records, &subject.username, from, to, base_url);
    progress.set("on-call shifts", items.len());
    let mut outcome = SourceOutcome::new(SOURCE, items, combine(errors));
    // Some projects were read: the others are a note on the source, not a reason to skip it.
    if !unavailable.is_empty() {
        let note = unavailable.join("; ");
        if outcome.error.is_some() {
            // The snapshot's detail shows the error; say this too.
            tracing::warn!("on-call shifts for {}: {note}", subject.username);
        }
        outcome.note = Some(note);
    }
    outcome
}

/// Consecutive windows covering `[from, to)`, each at most [`WINDOW_DAYS`] long; none when the
/// range is empty.
pub(crate) fn windows(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Window> {
    let step = Duration::days(WINDOW_DAYS);
    let mut windows = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + step).min(to);
        windows.push(Window { start, end });
        start = end;
    }
    windows
}

/// A span of time asked about in one request: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Where a shift belongs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Rotation {
    pub project: String,
    /// Items from private projects may not be visible to a report's audience.
    pub private: bool,
    pub schedule_iid: String,
    pub schedule: String,
    /// The rotation's global id (`gid://gitlab/IncidentManagement::OncallRotation/1`).
    pub id: String,
    pub name: String,
}

/// One shift as GitLab reported it: whole, even where it reaches outside the window. Cached as
/// JSON: a change of shape needs a new `cache::SCHEMA_VERSION`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ShiftRecord {
    pub rotation: Rotation,
    pub username: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The subject's shifts as items: their own only (exact username, any case), each once, clipped
/// to `[from, to)`; shifts with nothing left after clipping are dropped.
pub(crate) fn shift_items(
    records: &[ShiftRecord],
    subject: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    base_url: &str,
) -> Vec<Item> {
    let mut seen = HashSet::new();
    records
        .iter()
        .filter(|r| {
            r.username
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(subject))
        })
        .filter(|r| seen.insert((r.rotation.id.clone(), r.starts_at)))
        .filter_map(|r| shift_item(r, subject, from, to, base_url))
        .collect()
}

/// One shift as an item, clipped to `[from, to)`; `None` when nothing of it lies there.
pub(crate) fn shift_item(
    record: &ShiftRecord,
    subject: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    base_url: &str,
) -> Option<Item> {
    let starts_at = record.starts_at.max(from);
    let ends_at = record.ends_at.min(to);
    if ends_at <= starts_at {
        return None;
    }
    let rotation = &record.rotation;
    // The original start keeps the id stable whatever period clips the shift.
    let id = format!(
        "{}/{}",
        rotation.id,
        record.starts_at.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    let web_url = format!(
        "{}/{}/-/oncall_schedules",
        base_url.trim_end_matches('/'),
        rotation.project
    );
    let title = format!("On-call: {} / {}", rotation.schedule, rotation.name);
    let mut item = Item::new(
        ItemKind::OncallShift,
        Role::Oncall,
        subject,
        id,
        web_url,
        title,
    );
    item.project = Some(rotation.project.clone());
    item.confidential = rotation.private;
    item.starts_at = Some(starts_at);
    item.ends_at = Some(ends_at);
    item.duration_hours = Some(hours(ends_at - starts_at));
    Some(item)
}

/// Hours to two decimals (a 20-minute shift is 0.33 h).
fn hours(span: Duration) -> f64 {
    (span.num_seconds() as f64 / 36.0).round() / 100.0
}

// ---------------------------------------------------------------------------------------------
// Reading GitLab.

/// A shift as either operation returns it, before it is placed in its rotation.
struct Shift {
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    username: Option<String>,
}

/// Both operations' shift connections have the same fields but distinct generated types:
/// `(shifts, has next page, end cursor)`.
macro_rules! shift_page {
    ($connection:expr) => {{
        let connection = $connection;
        let shifts: Vec<Shift> = connection
            .nodes
            .into_iter()
            .flatten()
            .flatten()
            .map(|s| Shift {
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                username: s.participant.map(|p| p.user.username),
            })
            .collect();
        (
            shifts,
            connection.page_info.has_next_page,
            connection.page_info.end_cursor,
        )
    }};
}

/// How one project went.
#[derive(Debug, Clone)]
pub(crate) enum ProjectRead {
    /// Its schedules were read; `error` says what is missing, if anything.
    Read {
        shifts: Vec<ShiftRecord>,
        error: Option<GitlabError>,
    },
    /// The instance has no on-call schedules at all (Community Edition, Free).
    NotOffered,
    /// Nothing to read in this project, and why (one line, naming the project).
    Unavailable(String),
}

/// An answer that means "nothing to read here" rather than a failure.
#[derive(Debug, PartialEq)]
pub(crate) enum Refusal {
    NotOffered,
    Unavailable(String),
}

/// Which errors are refusals: an unknown field (Community Edition or Free), 403 and 404, and
/// GitLab's own refusals to show shifts (no licence for the project, no permission).
pub(crate) fn refusal(error: &GitlabError, project: &str) -> Option<Refusal> {
    let unavailable = |why: String| Some(Refusal::Unavailable(format!("{project}: {why}")));
    match error {
        GitlabError::UnknownField { .. } => Some(Refusal::NotOffered),
        GitlabError::NotFound { .. } => {
            unavailable("GitLab answered 404 Not Found for its on-call schedules".into())
        }
        GitlabError::Forbidden { message, .. } => unavailable(format!(
            "GitLab denied access to its on-call schedules (403 Forbidden: {message})"
        )),
        GitlabError::GraphQl { messages, .. } if messages.contains("license does not support") => {
            unavailable(
                "on-call schedules need GitLab Premium or Ultimate; the project's plan does not include them"
                    .into(),
            )
        }
        GitlabError::GraphQl { messages, .. } if messages.contains("insufficient permissions") => {
            unavailable("the token's user may not view its on-call shifts".into())
        }
        _ => None,
    }
}

/// A project's shifts in `windows`. Windows that had ended before a cached read are history and
/// come from the cache. The others are read in requests sized to GitLab's complexity limit: the
/// first is the probe of the project; the rest go out together, sized by what it found.
async fn read_project(
    client: &Client,
    project: &str,
    windows: &[Window],
    page_size: i64,
    memory: &Memory,
    counter: &RequestCounter,
) -> ProjectRead {
    let started = Utc::now();
    let mut cached = Vec::new();
    let mut to_read = Vec::new();
    for window in windows {
        match memory.recall::<ShiftRecord>(&window_stream(project, window)) {
            Some(c) if window.end <= c.read_at - MARGIN => cached.extend(c.records),
            _ => to_read.push(*window),
        }
    }
    if to_read.is_empty() {
        return ProjectRead::Read {
            shifts: cached,
            error: None,
        };
    }
    let probe = match read_batch(client, project, &to_read, Plan::new(page_size), counter).await {
        Ok(read) => read,
        Err(error) => {
            return match refusal(&error, project) {
                Some(Refusal::NotOffered) => ProjectRead::NotOffered,
                Some(Refusal::Unavailable(reason)) => ProjectRead::Unavailable(reason),
                None => ProjectRead::Read {
                    shifts: cached,
                    error: Some(error),
                },
            }
        }
    };
    if !probe.found {
        return ProjectRead::Unavailable(format!(
            "{project}: no such project, or the token cannot see it"
        ));
    }
    if probe.schedules == 0 {
        return ProjectRead::Unavailable(format!(
            "{project}: no on-call schedules visible (it has none, its plan lacks them, or the token's user may not see them)"
        ));
    }
    let private = probe.private;
    let plan = probe.plan;
    let rest = &to_read[probe.windows.len()..];
    let per_request = plan.shape(rest.len()).slots;
    let others = join_all(
        rest.chunks(per_request)
            .map(|chunk| read_windows(client, project, chunk, plan, counter)),
    )
    .await;
    let mut shifts = Vec::new();
    let mut errors: Vec<GitlabError> = Vec::new();
    for batch in std::iter::once(Ok(probe)).chain(others.into_iter().flatten()) {
        let batch = match batch {
            Ok(batch) => batch,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        let complete = batch.truncated.is_none();
        errors.extend(batch.truncated);
        for read in batch.windows {
            // Only a window over before this read began holds every shift it will ever hold.
            if complete && read.error.is_none() && read.window.end <= started - MARGIN {
                memory.keep(
                    &window_stream(project, &read.window),
                    started,
                    started,
                    &read.shifts,
                );
            }
            shifts.extend(read.shifts);
            errors.extend(read.error);
        }
    }
    // The project's visibility as GitLab says it now, for the shifts from the cache too.
    for shift in &mut cached {
        shift.rotation.private = private;
    }
    cached.extend(shifts);
    ProjectRead::Read {
        shifts: cached,
        error: combine(errors),
    }
}

/// The cache's name for one project's shifts in one window.
fn window_stream(project: &str, window: &Window) -> String {
    format!(
        "oncall/{}/{}/{}",
        project.to_ascii_lowercase(),
        window.start.to_rfc3339_opts(SecondsFormat::Secs, true),
        window.end.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

/// Windows one OncallShifts request reads at most: the slots of `queries/oncall_shifts.graphql`.
/// Fourteen windows of [`WINDOW_DAYS`] are 392 days, so a year (365 or 366 days: 14 windows,
/// the last a day or two long) can be one request, and so can any shorter period (GitLab's
/// complexity limit admits that for a project of a few schedules and rotations: [`sizing`]).
/// More slots would lengthen the query text (GitLab takes at most 10,000 characters) for periods
/// longer than anyone reviews; fewer would make a year two requests.
pub(crate) const SLOTS: usize = 14;

/// What one OncallShifts request (and its rotations' later pages) brought.
#[derive(Debug)]
struct BatchRead {
    /// False when GitLab answered `project: null`: no such project, or not visible.
    found: bool,
    schedules: usize,
    /// The project is private.
    private: bool,
    /// How the project's later requests are sized, after this one.
    plan: Plan,
    /// The windows asked, in order: the first of those offered.
    windows: Vec<WindowRead>,
    /// Schedules or rotations beyond GitLab's largest page, which were not read: no window of
    /// the request is complete.
    truncated: Option<GitlabError>,
}

/// One window of a request.
#[derive(Debug)]
struct WindowRead {
    window: Window,
    shifts: Vec<ShiftRecord>,
    /// Later pages that could not be read.
    error: Option<GitlabError>,
}

/// `windows` in requests sized by `plan`, one after another: one request, unless GitLab finds
/// it too complex after all. Stops at the first failure.
async fn read_windows(
    client: &Client,
    project: &str,
    windows: &[Window],
    mut plan: Plan,
    counter: &RequestCounter,
) -> Vec<Result<BatchRead, GitlabError>> {
    let mut reads = Vec::new();
    let mut left = windows;
    while !left.is_empty() {
        match read_batch(client, project, left, plan, counter).await {
            Ok(read) => {
                left = &left[read.windows.len()..];
                plan = read.plan;
                reads.push(Ok(read));
            }
            Err(error) => {
                reads.push(Err(error));
                break;
            }
        }
    }
    reads
}

/// One OncallShifts request for the first windows of `windows` (not empty), as many as `plan`
/// fits in GitLab's complexity limit; asked again with pages for every schedule and rotation
/// when the project's lists were longer than the pages asked, and sized down while GitLab finds
/// it too complex; then the later pages of every rotation with more shifts in a window than one
/// page.
async fn read_batch(
    client: &Client,
    project: &str,
    windows: &[Window],
    mut plan: Plan,
    counter: &RequestCounter,
) -> Result<BatchRead, GitlabError> {
    let mut shape = plan.shape(windows.len());
    let answer = loop {
        let batch = &windows[..shape.slots];
        tracing::debug!(
            "OncallShifts for {project}: {} windows, {} shifts, {} schedules and {} rotations a page; complexity {} of {}",
            shape.slots,
            shape.first,
            shape.lists.schedules,
            shape.lists.rotations,
            shape.complexity(),
            plan.budget
        );
        let error = match client
            .graphql::<OncallShifts>(variables(project, batch, shape), counter)
            .await
        {
            Ok(data) => {
                let answer = batch_answer(data, shape.slots, shape.lists);
                if !answer.found {
                    break answer;
                }
                plan.lists = Some(answer.lists);
                if !answer.short {
                    break answer;
                }
                // Its windows are missing the schedules or rotations past the pages.
                shape = plan.shape(windows.len());
                tracing::info!(
                    "{project} has more on-call schedules or rotations than the first request asked for; asking again for {} schedules and {} rotations a page",
                    shape.lists.schedules,
                    shape.lists.rotations
                );
                continue;
            }
            Err(error) => error,
        };
        let next = match &error {
            GitlabError::TooComplex { message, .. } => {
                plan.after_refusal(shape, windows.len(), message)
            }
            _ => None,
        };
        let Some(next) = next else {
            return Err(error);
        };
        shape = next;
        tracing::info!(
            "GitLab found the on-call query too complex; retrying with {} windows per request and pages of {}",
            shape.slots,
            shape.first
        );
    };
    let batch = &windows[..shape.slots];
    let reads = join_all(
        batch
            .iter()
            .zip(answer.windows)
            .map(|(window, slot)| async move {
                let rest = join_all(slot.continued.iter().map(|(rotation, cursor)| {
                    read_rotation(client, rotation, cursor, *window, shape.first, counter)
                }))
                .await;
                let mut shifts = slot.shifts;
                let mut errors = Vec::new();
                for (more, error) in rest {
                    shifts.extend(more);
                    errors.extend(error);
                }
                WindowRead {
                    window: *window,
                    shifts,
                    error: combine(errors),
                }
            }),
    )
    .await;
    Ok(BatchRead {
        found: answer.found,
        schedules: answer.schedules,
        private: answer.private,
        plan,
        windows: reads,
        truncated: answer.truncated.map(|messages| GitlabError::GraphQl {
            operation: "OncallShifts".into(),
            messages,
        }),
    })
}

/// The variables of one OncallShifts request for `batch` (1 to [`SLOTS`] windows) as `shape`
/// asks: slot K reads window K; unused slots repeat the first window, switched off.
fn variables(project: &str, batch: &[Window], shape: Shape) -> oncall_shifts::Variables {
    let slot = |k: usize| {
        let window = batch.get(k).unwrap_or(&batch[0]);
        (window.start, window.end, k < batch.len())
    };
    let [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13] = std::array::from_fn(slot);
    oncall_shifts::Variables {
        full_path: project.to_string(),
        schedules: shape.lists.schedules,
        rotations: shape.lists.rotations,
        first: shape.first,
        start0: s0.0,
        end0: s0.1,
        with0: s0.2,
        start1: s1.0,
        end1: s1.1,
        with1: s1.2,
        start2: s2.0,
        end2: s2.1,
        with2: s2.2,
        start3: s3.0,
        end3: s3.1,
        with3: s3.2,
        start4: s4.0,
        end4: s4.1,
        with4: s4.2,
        start5: s5.0,
        end5: s5.1,
        with5: s5.2,
        start6: s6.0,
        end6: s6.1,
        with6: s6.2,
        start7: s7.0,
        end7: s7.1,
        with7: s7.2,
        start8: s8.0,
        end8: s8.1,
        with8: s8.2,
        start9: s9.0,
        end9: s9.1,
        with9: s9.2,
        start10: s10.0,
        end10: s10.1,
        with10: s10.2,
        start11: s11.0,
        end11: s11.1,
        with11: s11.2,
        start12: s12.0,
        end12: s12.1,
        with12: s12.2,
        start13: s13.0,
        end13: s13.1,
        with13: s13.2,
    }
}

/// The pages after `cursor` of one rotation's shifts in one window.
async fn read_rotation(
    client: &Client,
    rotation: &Rotation,
    cursor: &str,
    window: Window,
    page_size: i64,
    counter: &RequestCounter,
) -> (Vec<ShiftRecord>, Option<GitlabError>) {
    paginate(
        page_size,
        async |first, after: Option<String>| {
            let variables = oncall_rotation_shifts::Variables {
                full_path: rotation.project.clone(),
                schedule_iid: rotation.schedule_iid.clone(),
                rotation_id: rotation.id.clone(),
                start_time: window.start,
                end_time: window.end,
                first,
                // The first page here is the one after the page OncallShifts brought.
                after: after.or_else(|| Some(cursor.to_string())),
            };
            let data = client
                .graphql::<OncallRotationShifts>(variables, counter)
                .await?;
            let connection = data
                .project
                .and_then(|p| p.incident_management_oncall_schedules)
                .and_then(|s| s.nodes)
                .into_iter()
                .flatten()
                .flatten()
                .next()
                .and_then(|s| s.rotation)
                .and_then(|r| r.shifts);
            Ok(Page::from_parts(connection.map(|c| {
                let (shifts, has_next, end_cursor) = shift_page!(c);
                (records(rotation, shifts), has_next, end_cursor)
            })))
        },
        |_| {},
    )
    .await
}

/// Shifts placed in their rotation; a shift without both ends cannot be placed in time.
fn records(rotation: &Rotation, shifts: Vec<Shift>) -> Vec<ShiftRecord> {
    shifts
        .into_iter()
        .filter_map(|s| {
            Some(ShiftRecord {
                rotation: rotation.clone(),
                username: s.username,
                starts_at: s.starts_at?,
                ends_at: s.ends_at?,
            })
        })
        .collect()
}

/// What one OncallShifts answer says about a project.
#[derive(Debug)]
pub(crate) struct BatchAnswer {
    /// False when GitLab answered `project: null`: no such project, or not visible.
    pub found: bool,
    /// The project is private.
    pub private: bool,
    pub schedules: usize,
    /// Pages that hold every schedule and every schedule's rotations, as far as the answer
    /// shows: as many as it holds, or GitLab's largest page where a list went on.
    pub lists: ListPages,
    /// A list went on past a page smaller than GitLab's largest: the windows lack the rest, and
    /// are to be asked again with pages of `lists`.
    pub short: bool,
    /// One per window asked, in slot order.
    pub windows: Vec<SlotAnswer>,
    /// Schedules or rotations beyond GitLab's largest page, which were not read.
    pub truncated: Option<String>,
}

/// The shifts of one window (one slot) of an OncallShifts answer.
#[derive(Debug, Default)]
pub(crate) struct SlotAnswer {
    pub shifts: Vec<ShiftRecord>,
    /// Rotations with more shifts in the window than the page held, and where to go on.
    pub continued: Vec<(Rotation, String)>,
}

/// An OncallShifts answer whose first `slots` slots were switched on, asked with list pages
/// `asked`.
pub(crate) fn batch_answer(
    data: oncall_shifts::ResponseData,
    slots: usize,
    asked: ListPages,
) -> BatchAnswer {
    let mut answer = BatchAnswer {
        found: false,
        private: false,
        schedules: 0,
        lists: ListPages::new(1, 1),
        short: false,
        windows: (0..slots).map(|_| SlotAnswer::default()).collect(),
        truncated: None,
    };
    let Some(project) = data.project else {
        return answer;
    };
    answer.found = true;
    let private = project.visibility.as_deref() == Some("private");
    answer.private = private;
    let Some(schedules) = project.incident_management_oncall_schedules else {
        return answer;
    };
    let mut truncated = Vec::new();
    let more_schedules = schedules.page_info.has_next_page;
    if more_schedules && asked.schedules >= LIST_LIMIT {
        truncated.push(format!(
            "{} has more than {LIST_LIMIT} on-call schedules; only the first {LIST_LIMIT} were read",
            project.full_path
        ));
    }
    let schedules = schedules.nodes.unwrap_or_default();
    let mut more_rotations = false;
    let mut most_rotations = 1;
    answer.lists.schedules = (schedules.len() as i64).max(1);
    for schedule in schedules.into_iter().flatten() {
        answer.schedules += 1;
        if schedule.rotations.page_info.has_next_page {
            more_rotations = true;
            if asked.rotations >= LIST_LIMIT {
                truncated.push(format!(
                    "schedule {:?} of {} has more than {LIST_LIMIT} rotations; only the first {LIST_LIMIT} were read",
                    schedule.name, project.full_path
                ));
            }
        }
        let rotations = schedule.rotations.nodes.unwrap_or_default();
        most_rotations = most_rotations.max(rotations.len() as i64);
        for rotation in rotations.into_iter().flatten() {
            let place = Rotation {
                project: project.full_path.clone(),
                private,
                schedule_iid: schedule.iid.clone(),
                schedule: schedule.name.clone(),
                id: rotation.id,
                name: rotation.name,
            };
            let connections = [
                rotation.w0,
                rotation.w1,
                rotation.w2,
                rotation.w3,
                rotation.w4,
                rotation.w5,
                rotation.w6,
                rotation.w7,
                rotation.w8,
                rotation.w9,
                rotation.w10,
                rotation.w11,
                rotation.w12,
                rotation.w13,
            ];
            for (window, connection) in answer.windows.iter_mut().zip(connections) {
                // GitLab leaves out a switched-off slot, and may answer null for a window.
                let Some(connection) = connection else {
                    continue;
                };
                let (shifts, has_next, end_cursor) = shift_page!(connection);
                window.shifts.extend(records(&place, shifts));
                if let (true, Some(cursor)) = (has_next, end_cursor) {
                    window.continued.push((place.clone(), cursor));
                }
            }
        }
    }
    // The schedules past the page may have any number of rotations.
    answer.lists = ListPages::new(
        if more_schedules {
            LIST_LIMIT
        } else {
            answer.lists.schedules
        },
        if more_schedules || more_rotations {
            LIST_LIMIT
        } else {
            most_rotations
        },
    );
    answer.short = (more_schedules && asked.schedules < LIST_LIMIT)
        || (more_rotations && asked.rotations < LIST_LIMIT);
    if !truncated.is_empty() && !answer.short {
        answer.truncated = Some(truncated.join("; "));
    }
    answer
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, Months, NaiveDate};
    use serde_json::json;

    use super::*;
    use crate::model::Period;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// GitLab's check (`IncidentManagement::OncallShifts::ReadService#under_max_timeframe?`):
    /// both times taken in the instance's zone, then compared by date, with Rails' month
    /// arithmetic (31 January + 1 month = 28 or 29 February).
    fn gitlab_accepts(window: Window, utc_offset_hours: i32) -> bool {
        let zone = FixedOffset::east_opt(utc_offset_hours * 3600).unwrap();
        let start = window.start.with_timezone(&zone).date_naive();
        let end = window.end.with_timezone(&zone).date_naive();
        window.start < window.end && end <= start.checked_add_months(Months::new(1)).unwrap()
    }

    #[test]
    fn a_quarter_is_read_in_four_contiguous_windows() {
        let q3 = Period::parse_quarter("2026Q3", 2).unwrap();
        let w = windows(q3.start(), q3.end_exclusive());
        let bounds: Vec<(DateTime<Utc>, DateTime<Utc>)> =
            w.iter().map(|w| (w.start, w.end)).collect();
        assert_eq!(
            bounds,
            vec![
                (t("2026-07-01T00:00:00Z"), t("2026-07-29T00:00:00Z")),
                (t("2026-07-29T00:00:00Z"), t("2026-08-26T00:00:00Z")),
                (t("2026-08-26T00:00:00Z"), t("2026-09-23T00:00:00Z")),
                (t("2026-09-23T00:00:00Z"), t("2026-10-01T00:00:00Z")),
            ]
        );
        assert!(windows(q3.start(), q3.start()).is_empty());
        assert!(windows(q3.end_exclusive(), q3.start()).is_empty());
        let short = windows(t("2026-07-01T00:00:00Z"), t("2026-07-01T06:30:00Z"));
        assert_eq!(short.len(), 1);
    }

    #[test]
    fn every_window_is_within_a_month_in_every_time_zone() {
        // Periods starting on every day of 2027 and around month ends of a leap year, a quarter
        // or a year long; GitLab's check in every zone from UTC-12 to UTC+14.
        let mut starts: Vec<NaiveDate> = (0..365)
            .map(|d| NaiveDate::from_ymd_opt(2027, 1, 1).unwrap() + chrono::Days::new(d))
            .collect();
        starts.extend(
            ["2028-01-31", "2028-02-28", "2028-02-29", "2028-03-31"]
                .iter()
                .map(|d| d.parse::<NaiveDate>().unwrap()),
        );
        for from in starts {
            for months in [3, 12] {
                let to = (from + Months::new(months)).pred_opt().unwrap();
                let period = Period::new(from, to).unwrap();
                let w = windows(period.start(), period.end_exclusive());
                assert_eq!(w.first().unwrap().start, period.start());
                assert_eq!(w.last().unwrap().end, period.end_exclusive());
                for pair in w.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start, "windows are contiguous");
                }
                for window in &w {
                    for offset in -12..=14 {
                        assert!(
                            gitlab_accepts(*window, offset),
                            "{window:?} at UTC{offset:+}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_calendar_month_would_be_refused_west_of_utc() {
        // Why the windows are four weeks, not calendar months.
        let july = Window {
            start: t("2026-07-01T00:00:00Z"),
            end: t("2026-08-01T00:00:00Z"),
        };
        assert!(gitlab_accepts(july, 0));
        assert!(gitlab_accepts(july, 9));
        assert!(!gitlab_accepts(july, -7), "30 June + 1 month < 31 July");
    }

    fn rotation(id: u32, name: &str) -> Rotation {
        Rotation {
            project: "gitlab-com/gl-infra/production".into(),
            private: false,
            schedule_iid: "1".into(),
            schedule: "Infrastructure EOC".into(),
            id: format!("gid://gitlab/IncidentManagement::OncallRotation/{id}"),
            name: name.into(),
        }
    }

    fn shift(rotation: &Rotation, user: &str, from: &str, to: &str) -> ShiftRecord {
        ShiftRecord {
            rotation: rotation.clone(),
            username: Some(user.into()),
            starts_at: t(from),
            ends_at: t(to),
        }
    }

    fn q3() -> (DateTime<Utc>, DateTime<Utc>) {
        let q3 = Period::parse_quarter("2026Q3", 2).unwrap();
        (q3.start(), q3.end_exclusive())
    }

    #[test]
    fn a_shift_across_the_period_start_is_clipped() {
        let emea = rotation(11, "EMEA");
        let (from, to) = q3();
        let record = shift(
            &emea,
            "alice",
            "2026-06-30T20:00:00Z",
            "2026-07-01T04:00:00Z",
        );
        let item = shift_item(&record, "alice", from, to, "https://gl.example.com/").unwrap();
        assert_eq!(
            (item.kind, item.role),
            (ItemKind::OncallShift, Role::Oncall)
        );
        assert_eq!(item.starts_at, Some(t("2026-07-01T00:00:00Z")));
        assert_eq!(item.ends_at, Some(t("2026-07-01T04:00:00Z")));
        assert_eq!(item.duration_hours, Some(4.0));
        assert_eq!(
            item.id, "gid://gitlab/IncidentManagement::OncallRotation/11/2026-06-30T20:00:00Z",
            "the id keeps GitLab's start"
        );
        assert_eq!(item.title, "On-call: Infrastructure EOC / EMEA");
        assert_eq!(
            item.web_url,
            "https://gl.example.com/gitlab-com/gl-infra/production/-/oncall_schedules"
        );
        assert_eq!(
            item.project.as_deref(),
            Some("gitlab-com/gl-infra/production")
        );
        assert_eq!(item.date(), Some(t("2026-07-01T00:00:00Z")));
        assert!(!item.confidential);
    }

    #[test]
    fn shifts_are_clipped_at_the_end_and_dropped_outside() {
        let emea = rotation(11, "EMEA");
        let (from, to) = q3();
        let late = shift(
            &emea,
            "alice",
            "2026-09-30T20:00:00Z",
            "2026-10-01T04:00:00Z",
        );
        let item = shift_item(&late, "alice", from, to, "").unwrap();
        assert_eq!(item.ends_at, Some(t("2026-10-01T00:00:00Z")));
        assert_eq!(item.duration_hours, Some(4.0));
        let before = shift(
            &emea,
            "alice",
            "2026-06-30T16:00:00Z",
            "2026-07-01T00:00:00Z",
        );
        assert!(
            shift_item(&before, "alice", from, to, "").is_none(),
            "ends at the start"
        );
        let after = shift(
            &emea,
            "alice",
            "2026-10-01T00:00:00Z",
            "2026-10-01T08:00:00Z",
        );
        assert!(shift_item(&after, "alice", from, to, "").is_none());
        let odd = shift(
            &emea,
            "alice",
            "2026-07-02T00:00:00Z",
            "2026-07-02T00:20:00Z",
        );
        assert_eq!(
            shift_item(&odd, "alice", from, to, "")
                .unwrap()
                .duration_hours,
            Some(0.33)
        );
        let mut private = emea.clone();
        private.private = true;
        let hidden = shift(
            &private,
            "alice",
            "2026-07-02T00:00:00Z",
            "2026-07-02T08:00:00Z",
        );
        assert!(
            shift_item(&hidden, "alice", from, to, "")
                .unwrap()
                .confidential
        );
    }

    #[test]
    fn only_the_subjects_shifts_each_once() {
        let emea = rotation(11, "EMEA");
        let apac = rotation(12, "APAC");
        let (from, to) = q3();
        let across = shift(
            &emea,
            "alice",
            "2026-07-28T20:00:00Z",
            "2026-07-29T08:00:00Z",
        );
        let records = vec![
            // Returned by the windows on both sides of 29 July.
            across.clone(),
            shift(&emea, "bob", "2026-07-29T08:00:00Z", "2026-07-29T16:00:00Z"),
            shift(
                &emea,
                "alice2",
                "2026-07-30T08:00:00Z",
                "2026-07-30T16:00:00Z",
            ),
            across,
            // Same start, another rotation: another shift.
            shift(
                &apac,
                "ALICE",
                "2026-07-28T20:00:00Z",
                "2026-07-29T04:00:00Z",
            ),
            ShiftRecord {
                username: None,
                ..shift(&emea, "x", "2026-08-01T00:00:00Z", "2026-08-01T08:00:00Z")
            },
        ];
        let items = shift_items(&records, "alice", from, to, "");
        let got: Vec<(String, Option<f64>)> = items
            .iter()
            .map(|i| (i.title.clone(), i.duration_hours))
            .collect();
        assert_eq!(
            got,
            vec![
                ("On-call: Infrastructure EOC / EMEA".to_string(), Some(12.0)),
                ("On-call: Infrastructure EOC / APAC".to_string(), Some(8.0)),
            ]
        );
        assert!(items.iter().all(|i| i.subject == "alice"));
    }

    #[test]
    fn the_harvest_time_ends_the_period() {
        // A shift in progress counts up to the harvest; later ones are plans, not evidence.
        let emea = rotation(11, "EMEA");
        let (from, _) = q3();
        let now = t("2026-08-15T12:00:00Z");
        let records = vec![
            shift(
                &emea,
                "alice",
                "2026-08-15T08:00:00Z",
                "2026-08-15T16:00:00Z",
            ),
            shift(
                &emea,
                "alice",
                "2026-08-16T08:00:00Z",
                "2026-08-16T16:00:00Z",
            ),
        ];
        let items = shift_items(&records, "alice", from, now, "");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].duration_hours, Some(4.0));
    }

    fn shifts_json(nodes: serde_json::Value, next: Option<&str>) -> serde_json::Value {
        json!({
            "pageInfo": {"hasNextPage": next.is_some(), "endCursor": next},
            "nodes": nodes,
        })
    }

    #[test]
    fn answers_convert_to_records_and_continuations_per_window() {
        // Two windows asked (w0, w1); w2 was switched off, so GitLab left it out.
        let data: oncall_shifts::ResponseData = serde_json::from_value(json!({
            "project": {
                "fullPath": "gitlab-com/gl-infra/production",
                "visibility": "private",
                "incidentManagementOncallSchedules": {
                    "pageInfo": {"hasNextPage": false, "endCursor": "s1"},
                    "nodes": [{
                        "iid": "1",
                        "name": "Infrastructure EOC",
                        "rotations": {
                            "pageInfo": {"hasNextPage": false, "endCursor": null},
                            "nodes": [
                                {
                                    "id": "gid://gitlab/IncidentManagement::OncallRotation/11",
                                    "name": "EMEA",
                                    "w0": shifts_json(json!([
                                        {"startsAt": "2026-07-01T08:00:00Z", "endsAt": "2026-07-01T16:00:00+00:00",
                                         "participant": {"user": {"username": "alice"}}},
                                        {"startsAt": "2026-07-02T08:00:00Z", "endsAt": null, "participant": null},
                                    ]), Some("c2")),
                                    "w1": shifts_json(json!([
                                        {"startsAt": "2026-07-29T08:00:00Z", "endsAt": "2026-07-29T16:00:00Z",
                                         "participant": {"user": {"username": "bob"}}},
                                    ]), None),
                                },
                                {
                                    "id": "gid://gitlab/IncidentManagement::OncallRotation/12",
                                    "name": "APAC",
                                    "w0": null,
                                    "w1": shifts_json(json!([]), Some("a9")),
                                },
                            ],
                        },
                    }],
                },
            },
        }))
        .unwrap();
        let answer = batch_answer(data, 2, ListPages::new(1, 2));
        assert!(answer.found);
        assert!(answer.private);
        assert_eq!(answer.schedules, 1);
        assert_eq!(answer.windows.len(), 2);
        let (first, second) = (&answer.windows[0], &answer.windows[1]);
        assert_eq!(first.shifts.len(), 1, "a shift without an end is dropped");
        let record = &first.shifts[0];
        assert_eq!(record.username.as_deref(), Some("alice"));
        assert_eq!(record.ends_at, t("2026-07-01T16:00:00Z"));
        assert!(record.rotation.private);
        assert_eq!(record.rotation.schedule_iid, "1");
        assert_eq!(record.rotation.name, "EMEA");
        let continued: Vec<(&str, &str)> = first
            .continued
            .iter()
            .map(|(r, c)| (r.name.as_str(), c.as_str()))
            .collect();
        assert_eq!(continued, vec![("EMEA", "c2")]);
        let names: Vec<(&str, Option<&str>)> = second
            .shifts
            .iter()
            .map(|s| (s.rotation.name.as_str(), s.username.as_deref()))
            .collect();
        assert_eq!(names, vec![("EMEA", Some("bob"))]);
        let continued: Vec<(&str, &str)> = second
            .continued
            .iter()
            .map(|(r, c)| (r.name.as_str(), c.as_str()))
            .collect();
        assert_eq!(continued, vec![("APAC", "a9")], "each window goes on alone");
        assert!(answer.truncated.is_none());
        assert_eq!(
            answer.lists,
            ListPages::new(1, 2),
            "one schedule of two rotations"
        );
        assert!(!answer.short);

        let missing: oncall_shifts::ResponseData =
            serde_json::from_value(json!({"project": null})).unwrap();
        let answer = batch_answer(missing, 3, ListPages::LARGEST);
        assert!(!answer.found && answer.schedules == 0);
        assert_eq!(answer.windows.len(), 3);
        assert!(answer.windows.iter().all(|w| w.shifts.is_empty()));
    }

    #[test]
    fn more_than_a_page_of_schedules_is_reported() {
        let data: oncall_shifts::ResponseData = serde_json::from_value(json!({
            "project": {
                "fullPath": "g/p",
                "visibility": "public",
                "incidentManagementOncallSchedules": {
                    "pageInfo": {"hasNextPage": true, "endCursor": "s100"},
                    "nodes": [],
                },
            },
        }))
        .unwrap();
        let truncated = batch_answer(data, 1, ListPages::LARGEST).truncated.unwrap();
        assert!(
            truncated.contains("more than 100 on-call schedules"),
            "{truncated}"
        );
    }

    /// An answer with `schedules` schedules of `rotations` rotations each, saying whether more
    /// schedules, and more rotations in each, follow.
    fn lists_answer(
        schedules: usize,
        more_schedules: bool,
        rotations: usize,
        more_rotations: bool,
    ) -> oncall_shifts::ResponseData {
        let schedule = |s: usize| {
            let nodes: Vec<serde_json::Value> = (0..rotations)
                .map(|r| json!({"id": format!("gid://gitlab/IncidentManagement::OncallRotation/{s}{r}"), "name": "R"}))
                .collect();
            json!({
                "iid": s.to_string(),
                "name": format!("S{s}"),
                "rotations": {
                    "pageInfo": {"hasNextPage": more_rotations, "endCursor": "r"},
                    "nodes": nodes,
                },
            })
        };
        let nodes: Vec<serde_json::Value> = (0..schedules).map(schedule).collect();
        serde_json::from_value(json!({
            "project": {
                "fullPath": "g/p",
                "visibility": "public",
                "incidentManagementOncallSchedules": {
                    "pageInfo": {"hasNextPage": more_schedules, "endCursor": "s"},
                    "nodes": nodes,
                },
            },
        }))
        .unwrap()
    }

    #[test]
    fn lists_longer_than_the_pages_asked_are_asked_again_not_reported() {
        let probe = ListPages::new(4, 4);
        // Everything on the pages: their lengths are the pages to ask with.
        let whole = batch_answer(lists_answer(2, false, 3, false), 1, probe);
        assert_eq!((whole.lists, whole.short), (ListPages::new(2, 3), false));
        assert!(whole.truncated.is_none());
        // More rotations in a schedule: the schedules are known, the rotations are not.
        let rotations = batch_answer(lists_answer(2, false, 4, true), 1, probe);
        assert_eq!(
            (rotations.lists, rotations.short),
            (ListPages::new(2, 100), true)
        );
        assert!(rotations.truncated.is_none(), "{:?}", rotations.truncated);
        // More schedules: neither is known (the others may have any number of rotations).
        let schedules = batch_answer(lists_answer(4, true, 1, false), 1, probe);
        assert_eq!(
            (schedules.lists, schedules.short),
            (ListPages::LARGEST, true)
        );
        assert!(schedules.truncated.is_none());
        // Past GitLab's largest page: reported, not asked again.
        let asked = ListPages::new(3, 100);
        let beyond = batch_answer(lists_answer(3, false, 100, true), 1, asked);
        assert!(!beyond.short);
        let truncated = beyond.truncated.unwrap();
        assert!(truncated.contains("more than 100 rotations"), "{truncated}");
    }

    #[test]
    fn a_year_fits_the_slots_and_a_quarter_leaves_them_off() {
        for year in [2026, 2028] {
            let from = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
            let to = NaiveDate::from_ymd_opt(year, 12, 31).unwrap();
            let period = Period::new(from, to).unwrap();
            let w = windows(period.start(), period.end_exclusive());
            assert_eq!(w.len(), SLOTS, "{year}: one request");
        }
        let (from, to) = q3();
        let quarter = windows(from, to);
        let shape = Shape {
            slots: quarter.len(),
            first: 50,
            lists: ListPages::new(3, 7),
        };
        let vars = serde_json::to_value(variables("g/p", &quarter, shape)).unwrap();
        assert_eq!(vars["fullPath"], "g/p");
        assert_eq!(vars["first"], 50);
        assert_eq!(
            (&vars["schedules"], &vars["rotations"]),
            (&json!(3), &json!(7))
        );
        for k in 0..SLOTS {
            let window = quarter.get(k).unwrap_or(&quarter[0]);
            assert_eq!(vars[format!("with{k}")], k < quarter.len(), "slot {k}");
            let start: DateTime<Utc> = vars[format!("start{k}")].as_str().unwrap().parse().unwrap();
            let end: DateTime<Utc> = vars[format!("end{k}")].as_str().unwrap().parse().unwrap();
            assert_eq!((start, end), (window.start, window.end), "slot {k}");
        }
        assert!(vars.get(format!("with{SLOTS}")).is_none());
    }

    #[test]
    fn refusals_are_told_apart_from_failures() {
        let p = "g/p";
        let unknown = GitlabError::UnknownField {
            operation: "OncallShifts".into(),
            message: "Field 'incidentManagementOncallSchedules' doesn't exist on type 'Project'"
                .into(),
        };
        assert_eq!(refusal(&unknown, p), Some(Refusal::NotOffered));
        let forbidden = GitlabError::Forbidden {
            url: "u".into(),
            message: "403 Forbidden".into(),
        };
        let not_found = GitlabError::NotFound { url: "u".into() };
        let license = GitlabError::GraphQl {
            operation: "OncallShifts".into(),
            messages: "Your license does not support on-call rotations".into(),
        };
        for error in [forbidden, not_found, license] {
            match refusal(&error, p) {
                Some(Refusal::Unavailable(reason)) => {
                    assert!(reason.starts_with("g/p: "), "{reason}");
                    assert!(!reason.contains('\n'), "one line: {reason}");
                }
                other => panic!("{error:?} → {other:?}"),
            }
        }
        let too_long = GitlabError::GraphQl {
            operation: "OncallShifts".into(),
            messages: "`end_time` should not exceed one month after `start_time`".into(),
        };
        assert_eq!(refusal(&too_long, p), None);
        let server = GitlabError::Status {
            url: "u".into(),
            status: 502,
            message: "Bad Gateway".into(),
        };
        assert_eq!(refusal(&server, p), None);
        assert_eq!(NOT_OFFERED.lines().count(), 1);
    }
}
