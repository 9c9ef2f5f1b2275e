//! GraphQL operations (one `.graphql` file per operation in `queries/`, checked at compile time
//! against the schema subset in `queries/schema.graphql`) and the one generic `post`.

use graphql_client::{GraphQLQuery, Response};

use super::{Auth, Client, GitlabError, RequestCounter};

/// GitLab's `Time` scalar: an ISO 8601 timestamp.
pub type Time = chrono::DateTime<chrono::Utc>;

/// GitLab's `WorkItemID` scalar: a work item's global id (`gid://gitlab/WorkItem/1`).
pub type WorkItemID = String;

/// GitLab's `IncidentManagementOncallRotationID` scalar: an on-call rotation's global id
/// (`gid://gitlab/IncidentManagement::OncallRotation/1`).
pub type IncidentManagementOncallRotationID = String;

/// GitLab's `IssueID` scalar: an issue's global id (`gid://gitlab/Issue/1`).
pub type IssueID = String;

/// GitLab's `IncidentManagementTimelineEventID` scalar: a timeline event's global id.
pub type IncidentManagementTimelineEventID = String;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/authored_merge_requests.graphql",
    response_derives = "Debug"
)]
pub struct AuthoredMergeRequests;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/review_requested_merge_requests.graphql",
    response_derives = "Debug"
)]
pub struct ReviewRequestedMergeRequests;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/project_merge_requests.graphql",
    response_derives = "Debug"
)]
pub struct ProjectMergeRequests;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/group_epic_work_items.graphql",
    response_derives = "Debug"
)]
pub struct GroupEpicWorkItems;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/group_epics_legacy.graphql",
    response_derives = "Debug"
)]
pub struct GroupEpicsLegacy;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/changed_work.graphql",
    response_derives = "Debug"
)]
pub struct ChangedWork;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/issues.graphql",
    response_derives = "Debug"
)]
pub struct Issues;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/project_issues.graphql",
    response_derives = "Debug"
)]
pub struct ProjectIssues;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/project_visibility.graphql",
    response_derives = "Debug"
)]
pub struct ProjectVisibility;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/oncall_shifts.graphql",
    response_derives = "Debug"
)]
pub struct OncallShifts;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/oncall_rotation_shifts.graphql",
    response_derives = "Debug"
)]
pub struct OncallRotationShifts;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/project_incidents.graphql",
    response_derives = "Debug"
)]
pub struct ProjectIncidents;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "queries/schema.graphql",
    query_path = "queries/incident_timeline_events.graphql",
    response_derives = "Debug"
)]
pub struct IncidentTimelineEvents;

impl Client {
    /// POSTs one operation; GraphQL `errors` become typed errors (an unknown field means an older
    /// or Community Edition server; a complexity error lets the caller shrink its page).
    pub async fn graphql<Q: GraphQLQuery>(
        &self,
        variables: Q::Variables,
        counter: &RequestCounter,
    ) -> Result<Q::ResponseData, GitlabError> {
        let body = Q::build_query(variables);
        let operation = body.operation_name.to_string();
        let url = self.inner.graphql.to_string();
        let shown = format!("{url} ({operation})");
        let (data, _) = self
            .send(
                || {
                    self.authorize(
                        self.inner.http.post(self.inner.graphql.clone()),
                        Auth::Bearer,
                    )
                    .json(&body)
                },
                &shown,
                counter,
                |bytes| {
                    let response: Response<Q::ResponseData> = serde_json::from_slice(bytes)
                        .map_err(|e| super::decode_error(&shown, &e, bytes))?;
                    let messages: Vec<(String, Option<String>)> = response
                        .errors
                        .unwrap_or_default()
                        .into_iter()
                        .map(|e| {
                            let code = e
                                .extensions
                                .as_ref()
                                .and_then(|x| x.get("code"))
                                .and_then(|c| c.as_str())
                                .map(str::to_string);
                            (super::sanitize_message(&e.message), code)
                        })
                        .collect();
                    if !messages.is_empty() {
                        return Err(classify_errors(&operation, &url, &messages));
                    }
                    response.data.ok_or_else(|| GitlabError::InvalidBody {
                        url: shown.clone(),
                        detail: "neither data nor errors".into(),
                    })
                },
            )
            .await?;
        Ok(data)
    }
}

/// Turns GraphQL `errors` into the most helpful error.
fn classify_errors(
    operation: &str,
    url: &str,
    messages: &[(String, Option<String>)],
) -> GitlabError {
    let find = |pred: &dyn Fn(&str, Option<&str>) -> bool| {
        messages
            .iter()
            .find(|(m, c)| pred(m, c.as_deref()))
            .map(|(m, _)| m.clone())
    };
    if find(&|m, _| m.eq_ignore_ascii_case("invalid token")).is_some() {
        return GitlabError::Unauthorized {
            url: url.to_string(),
        };
    }
    if let Some(message) = find(&|m, c| {
        c == Some("undefinedField")
            || c == Some("argumentNotAccepted")
            || m.contains("doesn't exist on type")
    }) {
        return GitlabError::UnknownField {
            operation: operation.to_string(),
            message,
        };
    }
    if let Some(message) = find(&|m, _| m.contains("complexity")) {
        return GitlabError::TooComplex {
            operation: operation.to_string(),
            message,
        };
    }
    GitlabError::GraphQl {
        operation: operation.to_string(),
        messages: messages
            .iter()
            .map(|(m, _)| m.as_str())
            .collect::<Vec<_>>()
            .join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(list: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        list.iter()
            .map(|(m, c)| (m.to_string(), c.map(str::to_string)))
            .collect()
    }

    #[test]
    fn errors_are_classified() {
        let e = classify_errors("Op", "u", &errs(&[("Invalid token", None)]));
        assert!(matches!(e, GitlabError::Unauthorized { .. }));
        let e = classify_errors(
            "Op",
            "u",
            &errs(&[(
                "Field 'epic' doesn't exist on type 'Issue'",
                Some("undefinedField"),
            )]),
        );
        assert!(matches!(e, GitlabError::UnknownField { .. }));
        assert!(e.to_string().contains("Community Edition"));
        let e = classify_errors(
            "Op",
            "u",
            &errs(&[(
                "Query has complexity of 301, which exceeds max complexity of 250",
                None,
            )]),
        );
        assert!(matches!(e, GitlabError::TooComplex { .. }));
        let e = classify_errors("Op", "u", &errs(&[("a", None), ("b", None)]));
        assert_eq!(e.to_string(), "GitLab answered Op with errors: a; b");
    }
}
