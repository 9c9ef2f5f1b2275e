//! Project issues over REST in the fake: `GET /projects/:id/issues` (filters `labels`, `scope`,
//! `state`, `search` with `in`, offset paging), `POST /projects/:id/issues` and
//! `PUT /projects/:id/issues/:iid`, for publishing reports.
//!
//! The issues of the dataset are there from the start; created ones are kept for the life of
//! the fake, so a second run sees what the first created. As in GitLab: `:id` is a numeric id
//! or the URL-encoded full path; `scope=created_by_me` means the token's owner; a description
//! over 1,048,576 characters is refused with 400; GitLab creates labels it does not know; a
//! token with `read_api` only gets `403 insufficient_scope` on writes
//! ([`super::Faults::read_only_token`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{paginate, rest_time, Answer, Dataset, Project, Shared};
use axum::http::{Method, StatusCode};

/// GitLab's limit on a description, in characters.
pub const DESCRIPTION_LIMIT: usize = 1_048_576;

/// An issue as the REST API keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct RestIssue {
    pub id: u64,
    pub project_id: u64,
    pub iid: u64,
    pub title: String,
    pub description: Option<String>,
    pub author: String,
    pub labels: Vec<String>,
    pub state: String,
    pub confidential: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The issues the REST API serves, shared by all requests.
#[derive(Debug, Default)]
pub struct Store {
    pub issues: Vec<RestIssue>,
}

impl Store {
    /// The dataset's issues, as REST sees them.
    pub fn from_dataset(data: &Dataset) -> Store {
        Store {
            issues: data
                .issues
                .iter()
                .map(|i| RestIssue {
                    id: i.id,
                    project_id: i.project_id,
                    iid: i.iid,
                    title: i.title.clone(),
                    description: i.description.clone(),
                    author: i.author.clone(),
                    labels: i.labels.clone(),
                    state: i.state.clone(),
                    confidential: i.confidential,
                    created_at: i.created_at,
                    updated_at: i.updated_at,
                })
                .collect(),
        }
    }
}

/// Answers the routes this module owns (`None`: not one of them).
pub fn route(
    shared: &Shared,
    method: &Method,
    segments: &[&str],
    params: &BTreeMap<String, String>,
    body: &str,
    request_url: &str,
) -> Option<Answer> {
    let (project, iid) = match segments {
        ["projects", project, "issues"] => (*project, None),
        ["projects", project, "issues", iid] => (*project, Some(*iid)),
        _ => return None,
    };
    let Some(project) = find_project(&shared.data, project) else {
        return Some(Answer::json(
            StatusCode::NOT_FOUND,
            &json!({"message": "404 Project Not Found"}),
        ));
    };
    let writing = *method == Method::POST || *method == Method::PUT;
    if writing && shared.faults.read_only_token {
        // What GitLab says to a `read_api` token that tries to write.
        return Some(Answer::json(
            StatusCode::FORBIDDEN,
            &json!({
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than provided by the access token.",
                "scope": "api",
            }),
        ));
    }
    Some(match (method.clone(), iid) {
        (Method::GET, None) => list(shared, project, params, request_url),
        (Method::POST, None) => create(shared, project, body),
        (Method::PUT, Some(iid)) => match iid.parse::<u64>() {
            Ok(iid) => update(shared, project, iid, body),
            Err(_) => Answer::not_found(),
        },
        _ => Answer::json(
            StatusCode::METHOD_NOT_ALLOWED,
            &json!({"message": "405 Method Not Allowed"}),
        ),
    })
}

/// A project by numeric id or URL-encoded full path.
fn find_project<'d>(data: &'d Dataset, id: &str) -> Option<&'d Project> {
    let decoded = id.replace("%2F", "/").replace("%2f", "/");
    data.projects
        .iter()
        .find(|p| p.id.to_string() == decoded || p.full_path == decoded)
}

fn token_owner(shared: &Shared) -> String {
    shared
        .data
        .token_owner
        .clone()
        .or_else(|| shared.data.users.first().map(|u| u.username.clone()))
        .unwrap_or_default()
}

fn issue_json(shared: &Shared, project: &Project, issue: &RestIssue) -> Value {
    let author = shared
        .data
        .users
        .iter()
        .find(|u| u.username == issue.author);
    json!({
        "id": issue.id,
        "iid": issue.iid,
        "project_id": issue.project_id,
        "title": issue.title,
        "description": issue.description,
        "state": issue.state,
        "created_at": rest_time(issue.created_at),
        "updated_at": rest_time(issue.updated_at),
        "labels": issue.labels,
        "author": {
            "id": author.map_or(0, |u| u.id),
            "username": issue.author,
            "name": author.map_or_else(|| issue.author.clone(), |u| u.name.clone()),
        },
        "confidential": issue.confidential,
        "issue_type": "issue",
        "web_url": format!("{}/{}/-/issues/{}", shared.url, project.full_path, issue.iid),
    })
}

fn bad_request(message: &str) -> Answer {
    Answer::json(StatusCode::BAD_REQUEST, &json!({"error": message}))
}

fn list(
    shared: &Shared,
    project: &Project,
    params: &BTreeMap<String, String>,
    request_url: &str,
) -> Answer {
    let owner = token_owner(shared);
    let scope = params.get("scope").map(String::as_str).unwrap_or("all");
    if !matches!(scope, "all" | "created_by_me" | "assigned_to_me") {
        return bad_request("scope does not have a valid value");
    }
    let state = params.get("state").map(String::as_str).unwrap_or("all");
    if !matches!(state, "all" | "opened" | "closed") {
        return bad_request("state does not have a valid value");
    }
    let labels: Vec<&str> = params
        .get("labels")
        .map(|l| {
            l.split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let search = params.get("search").map(|s| s.to_lowercase());
    let search_in: Vec<&str> = params
        .get("in")
        .map(|i| i.split(',').map(str::trim).collect())
        .unwrap_or_else(|| vec!["title", "description"]);
    if search_in
        .iter()
        .any(|field| !matches!(*field, "title" | "description"))
    {
        return bad_request("in does not have a valid value");
    }
    let store = shared.issues.lock().unwrap();
    let mut rows: Vec<&RestIssue> = store
        .issues
        .iter()
        .filter(|i| i.project_id == project.id)
        .filter(|i| scope != "created_by_me" || i.author.eq_ignore_ascii_case(&owner))
        .filter(|i| state == "all" || i.state == state)
        .filter(|i| labels.iter().all(|l| i.labels.iter().any(|have| have == l)))
        .filter(|i| {
            // GitLab matches a search term as a substring, ignoring case.
            search.as_ref().is_none_or(|term| {
                (search_in.contains(&"title") && i.title.to_lowercase().contains(term))
                    || (search_in.contains(&"description")
                        && i.description
                            .as_deref()
                            .is_some_and(|d| d.to_lowercase().contains(term)))
            })
        })
        .collect();
    // GitLab's default order: newest first.
    rows.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.iid.cmp(&a.iid)));
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|i| issue_json(shared, project, i))
        .collect();
    drop(store);
    paginate(shared, rows, params, request_url)
}

/// The fields of a JSON or form body.
fn fields(body: &str) -> BTreeMap<String, Value> {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        _ => url::form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect(),
    }
}

fn text_field(fields: &BTreeMap<String, Value>, name: &str) -> Option<String> {
    fields.get(name).and_then(Value::as_str).map(str::to_string)
}

fn bool_field(fields: &BTreeMap<String, Value>, name: &str) -> Result<Option<bool>, Answer> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" => Ok(Some(true)),
        Some(Value::String(s)) if s == "false" => Ok(Some(false)),
        Some(_) => Err(bad_request(&format!("{name} is invalid"))),
    }
}

fn label_field(fields: &BTreeMap<String, Value>, name: &str) -> Vec<String> {
    match fields.get(name) {
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn too_long(description: &Option<String>) -> Option<Answer> {
    let length = description.as_deref().map_or(0, |d| d.chars().count());
    (length > DESCRIPTION_LIMIT).then(|| {
        Answer::json(
            StatusCode::BAD_REQUEST,
            &json!({"message": {"description": [format!("is too long (maximum is {DESCRIPTION_LIMIT} characters)")]}}),
        )
    })
}

fn create(shared: &Shared, project: &Project, body: &str) -> Answer {
    let fields = fields(body);
    let Some(title) = text_field(&fields, "title").filter(|t| !t.trim().is_empty()) else {
        return bad_request("title is missing");
    };
    let description = text_field(&fields, "description");
    if let Some(answer) = too_long(&description) {
        return answer;
    }
    let confidential = match bool_field(&fields, "confidential") {
        Ok(c) => c.unwrap_or(false),
        Err(answer) => return answer,
    };
    let now = Utc::now();
    let mut store = shared.issues.lock().unwrap();
    let iid = store
        .issues
        .iter()
        .filter(|i| i.project_id == project.id)
        .map(|i| i.iid)
        .max()
        .unwrap_or(0)
        + 1;
    let id = 800_000 + store.issues.len() as u64;
    let issue = RestIssue {
        id,
        project_id: project.id,
        iid,
        title,
        description,
        author: token_owner(shared),
        labels: label_field(&fields, "labels"),
        state: "opened".into(),
        confidential,
        created_at: now,
        updated_at: now,
    };
    let answer = issue_json(shared, project, &issue);
    store.issues.push(issue);
    Answer::json(StatusCode::CREATED, &answer)
}

fn update(shared: &Shared, project: &Project, iid: u64, body: &str) -> Answer {
    let fields = fields(body);
    let mut store = shared.issues.lock().unwrap();
    let Some(issue) = store
        .issues
        .iter_mut()
        .find(|i| i.project_id == project.id && i.iid == iid)
    else {
        return Answer::json(StatusCode::NOT_FOUND, &json!({"message": "404 Not found"}));
    };
    let description = text_field(&fields, "description");
    if let Some(answer) = too_long(&description) {
        return answer;
    }
    let confidential = match bool_field(&fields, "confidential") {
        Ok(c) => c,
        Err(answer) => return answer,
    };
    if let Some(title) = text_field(&fields, "title") {
        issue.title = title;
    }
    if description.is_some() {
        issue.description = description;
    }
    if let Some(confidential) = confidential {
        issue.confidential = confidential;
    }
    for label in label_field(&fields, "add_labels") {
        if !issue.labels.contains(&label) {
            issue.labels.push(label);
        }
    }
    issue.updated_at = Utc::now();
    let issue = issue.clone();
    drop(store);
    Answer::json(StatusCode::OK, &issue_json(shared, project, &issue))
}
