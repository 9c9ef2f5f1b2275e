//! Project issues through REST: listing, creating and updating, for publishing reports.
//!
//! Creating is the one request gl-evidence makes that is not idempotent, so it is retried only
//! when GitLab rate-limited it (and so surely did nothing); a caller that finds issues by a
//! marker first can simply be run again.

use serde::Serialize;

use super::types::ProjectIssue;
use super::{Auth, Client, GitlabError, Paged, RequestCounter};

/// `POST /projects/:id/issues`.
#[derive(Debug, Clone, Serialize)]
pub struct NewIssue {
    pub title: String,
    pub description: String,
    pub confidential: bool,
    /// Comma-separated label titles; GitLab creates missing labels.
    pub labels: String,
}

/// `PUT /projects/:id/issues/:iid`: only what gl-evidence owns.
#[derive(Debug, Clone, Serialize)]
pub struct IssueChange {
    pub title: String,
    pub description: String,
    pub confidential: bool,
    pub add_labels: String,
}

/// The REST id of a project given by full path (`group/sub/project`, URL-encoded in place of the
/// numeric id).
fn project_id(project: &str) -> String {
    url::form_urlencoded::byte_serialize(project.as_bytes()).collect()
}

impl Client {
    /// Every issue of `project` matching `query` (all pages).
    pub async fn project_issues(
        &self,
        project: &str,
        query: &[(&str, String)],
        counter: &RequestCounter,
    ) -> Paged<ProjectIssue> {
        let path = format!("projects/{}/issues", project_id(project));
        self.rest_get_all(&path, query, counter, |_| {}).await
    }

    pub async fn create_issue(
        &self,
        project: &str,
        issue: &NewIssue,
        counter: &RequestCounter,
    ) -> Result<ProjectIssue, GitlabError> {
        let path = format!("projects/{}/issues", project_id(project));
        self.rest_write(
            reqwest::Method::POST,
            &path,
            issue,
            counter,
            super::is_rate_limited,
        )
        .await
    }

    pub async fn update_issue(
        &self,
        project: &str,
        iid: u64,
        change: &IssueChange,
        counter: &RequestCounter,
    ) -> Result<ProjectIssue, GitlabError> {
        let path = format!("projects/{}/issues/{iid}", project_id(project));
        self.rest_write(
            reqwest::Method::PUT,
            &path,
            change,
            counter,
            super::is_retryable,
        )
        .await
    }

    /// Sends `body` as JSON with `method` and decodes the answer.
    async fn rest_write<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &impl Serialize,
        counter: &RequestCounter,
        may_retry: fn(&GitlabError) -> bool,
    ) -> Result<T, GitlabError> {
        let url = self.rest_url(path, &[]);
        let shown = format!("{method} {url}");
        let (value, _) = self
            .send_with(
                || {
                    self.authorize(
                        self.inner.http.request(method.clone(), url.clone()),
                        Auth::PrivateToken,
                    )
                    .header("Accept", "application/json")
                    .json(body)
                },
                &shown,
                counter,
                |bytes| {
                    serde_json::from_slice(bytes)
                        .map_err(|e| super::decode_error(&shown, &e, bytes))
                },
                may_retry,
                super::Priority::Urgent,
            )
            .await?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_paths_are_encoded_as_one_segment() {
        assert_eq!(project_id("acme/sre/brag-docs"), "acme%2Fsre%2Fbrag-docs");
        assert_eq!(project_id("a.b/c_d"), "a.b%2Fc_d");
    }
}
