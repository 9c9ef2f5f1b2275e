//! Pure conversions from GitLab's answers to evidence items, unit-tested without a server.

use chrono::{DateTime, Utc};

use crate::gitlab::graphql::{
    authored_merge_requests, changed_work, project_merge_requests, review_requested_merge_requests,
};
use crate::model::{Item, ItemKind, Period, Role};

use super::events::Activity;

/// Descriptions are cut to this many bytes: enough for the rules, small snapshots.
pub const DESCRIPTION_LIMIT: usize = 4096;

/// Changed paths kept per merge request: enough for path rules, bounded for huge refactors.
pub const CHANGED_PATHS_LIMIT: usize = 300;

/// A merge request as the GraphQL `MergeRequestFields` fragment describes it, independent of
/// which generated query type carried it. Cached as JSON: a change of shape needs a new
/// `cache::SCHEMA_VERSION`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MergeRequestRecord {
    pub id: String,
    pub iid: String,
    pub title: String,
    pub description: Option<String>,
    pub web_url: Option<String>,
    pub state: String,
    pub draft: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub merged_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub author: Option<String>,
    pub project: String,
    /// GitLab's numeric project id, to match events (which name projects by id).
    pub project_id: Option<u64>,
    pub visibility: Option<String>,
    pub labels: Vec<String>,
    pub additions: Option<u64>,
    pub deletions: Option<u64>,
    pub changed_paths: Vec<String>,
    pub reviewers: Vec<ReviewerRecord>,
    pub approved_by: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReviewerRecord {
    pub username: String,
    pub approved: bool,
    pub review_state: Option<String>,
}

/// Generated lists are `Option<Vec<Option<T>>>`: flatten them once, here.
fn flat<T>(list: Option<Vec<Option<T>>>) -> impl Iterator<Item = T> {
    list.into_iter().flatten().flatten()
}

/// The number at the end of a global id: `gid://gitlab/Project/15` → 15.
pub fn numeric_id(global_id: &str) -> Option<u64> {
    global_id.rsplit('/').next()?.parse().ok()
}

/// Each query module has its own copy of the fragment's types with the same fields; one macro
/// writes the same conversion for each.
macro_rules! impl_from_fragment {
    ($module:ident) => {
        impl From<$module::MergeRequestFields> for MergeRequestRecord {
            fn from(mr: $module::MergeRequestFields) -> Self {
                MergeRequestRecord {
                    id: mr.id,
                    iid: mr.iid,
                    title: mr.title,
                    description: mr.description,
                    web_url: mr.web_url,
                    state: format!("{:?}", mr.state).to_ascii_lowercase(),
                    draft: mr.draft,
                    created_at: Some(mr.created_at),
                    updated_at: Some(mr.updated_at),
                    merged_at: mr.merged_at,
                    closed_at: mr.closed_at,
                    author: mr.author.map(|a| a.username),
                    project_id: numeric_id(&mr.project.id),
                    project: mr.project.full_path,
                    visibility: mr.project.visibility,
                    labels: flat(mr.labels.and_then(|l| l.nodes))
                        .map(|l| l.title)
                        .collect(),
                    additions: mr
                        .diff_stats_summary
                        .as_ref()
                        .and_then(|d| u64::try_from(d.additions).ok()),
                    deletions: mr
                        .diff_stats_summary
                        .as_ref()
                        .and_then(|d| u64::try_from(d.deletions).ok()),
                    changed_paths: mr
                        .diff_stats
                        .into_iter()
                        .flatten()
                        .map(|d| d.path)
                        .take(CHANGED_PATHS_LIMIT)
                        .collect(),
                    reviewers: flat(mr.reviewers.and_then(|r| r.nodes))
                        .map(|r| ReviewerRecord {
                            username: r.username,
                            approved: r
                                .merge_request_interaction
                                .as_ref()
                                .is_some_and(|i| i.approved),
                            review_state: r
                                .merge_request_interaction
                                .and_then(|i| i.review_state)
                                .map(|s| format!("{s:?}").to_ascii_lowercase()),
                        })
                        .collect(),
                    approved_by: flat(mr.approved_by.and_then(|a| a.nodes))
                        .map(|u| u.username)
                        .collect(),
                }
            }
        }
    };
}

impl super::incremental::Keyed for MergeRequestRecord {
    fn key(&self) -> &str {
        &self.id
    }
}

impl_from_fragment!(authored_merge_requests);
impl_from_fragment!(review_requested_merge_requests);
impl_from_fragment!(project_merge_requests);
impl_from_fragment!(changed_work);

impl MergeRequestRecord {
    /// What GitLab says now of the record's project: private or not.
    pub fn set_private(&mut self, private: bool) {
        if private {
            self.visibility = Some("private".into());
        } else if self.visibility.as_deref() == Some("private") {
            self.visibility = None;
        }
    }

    fn is_by(&self, username: &str) -> bool {
        self.author
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(username))
    }

    fn base_item(&self, kind: ItemKind, role: Role, subject: &str, base_url: &str) -> Item {
        let web_url = self.web_url.clone().unwrap_or_else(|| {
            format!(
                "{}/{}/-/merge_requests/{}",
                base_url.trim_end_matches('/'),
                self.project,
                self.iid
            )
        });
        let mut item = Item::new(
            kind,
            role,
            subject,
            self.id.clone(),
            web_url,
            self.title.clone(),
        );
        item.description = self
            .description
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .map(|d| cut(d, DESCRIPTION_LIMIT));
        item.project = Some(self.project.clone());
        item.labels = self.labels.clone();
        item.state = Some(self.state.clone());
        item.created_at = self.created_at;
        item.updated_at = self.updated_at;
        item.merged_at = self.merged_at;
        item.closed_at = self.closed_at;
        // Items from private projects may not be visible to a report's audience.
        item.confidential = self.visibility.as_deref() == Some("private");
        item.additions = self.additions;
        item.deletions = self.deletions;
        item.changed_paths = self.changed_paths.clone();
        item
    }
}

/// An authored merge request is evidence for the period if it was created, merged or closed in it.
pub fn authored_item(
    mr: &MergeRequestRecord,
    subject: &str,
    period: &Period,
    base_url: &str,
) -> Option<Item> {
    if !mr.is_by(subject) {
        return None;
    }
    let in_period = [mr.created_at, mr.merged_at, mr.closed_at]
        .into_iter()
        .flatten()
        .any(|at| period.contains(at));
    in_period.then(|| mr.base_item(ItemKind::MergeRequest, Role::Author, subject, base_url))
}

/// A review is evidence for the period if the subject's review activity, or the merge request's
/// creation or merge, falls in it. A subject's own merge request is never their review.
pub fn review_item(
    mr: &MergeRequestRecord,
    subject: &str,
    activity: Option<&Activity>,
    period: &Period,
    base_url: &str,
) -> Option<Item> {
    if mr.is_by(subject) {
        return None;
    }
    let reviewer = mr
        .reviewers
        .iter()
        .find(|r| r.username.eq_ignore_ascii_case(subject));
    let approved = reviewer.is_some_and(|r| r.approved)
        || mr
            .approved_by
            .iter()
            .any(|u| u.eq_ignore_ascii_case(subject))
        || activity.is_some_and(|a| a.approved);
    let comments = activity.map_or(0, |a| a.comments);
    if reviewer.is_none() && !approved && comments == 0 {
        return None;
    }
    let active_in_period = activity
        .and_then(|a| a.last_at)
        .is_some_and(|at| period.contains(at));
    let mr_in_period = [mr.created_at, mr.merged_at]
        .into_iter()
        .flatten()
        .any(|at| period.contains(at));
    if !active_in_period && !mr_in_period {
        return None;
    }
    let role = if approved {
        Role::Approver
    } else if reviewer.is_some() {
        Role::Reviewer
    } else {
        Role::Commenter
    };
    let mut item = mr.base_item(ItemKind::Review, role, subject, base_url);
    item.comments = Some(comments);
    item.approved = Some(approved);
    Some(item)
}

/// Cuts text to at most `limit` bytes on a character boundary, marking the cut.
pub fn cut(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_string();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Option<DateTime<Utc>> {
        Some(s.parse().unwrap())
    }

    fn q3() -> Period {
        Period::parse_quarter("2026Q3", 2).unwrap()
    }

    fn mr(author: &str) -> MergeRequestRecord {
        MergeRequestRecord {
            id: "gid://gitlab/MergeRequest/1".into(),
            iid: "7".into(),
            title: "Add runbook".into(),
            web_url: Some("https://gl.example.com/g/p/-/merge_requests/7".into()),
            state: "merged".into(),
            created_at: t("2026-06-20T10:00:00Z"),
            updated_at: t("2026-07-02T10:00:00Z"),
            merged_at: t("2026-07-02T10:00:00Z"),
            author: Some(author.into()),
            project: "g/p".into(),
            visibility: Some("public".into()),
            ..Default::default()
        }
    }

    #[test]
    fn authored_in_period_by_creation_merge_or_close() {
        let m = mr("alice");
        assert!(
            authored_item(&m, "alice", &q3(), "").is_some(),
            "merged in period"
        );
        let mut outside = mr("alice");
        outside.merged_at = t("2026-06-30T23:59:59Z");
        assert!(authored_item(&outside, "alice", &q3(), "").is_none());
        outside.closed_at = t("2026-09-30T23:00:00Z");
        assert!(
            authored_item(&outside, "alice", &q3(), "").is_some(),
            "closed in period"
        );
        assert!(
            authored_item(&m, "alice2", &q3(), "").is_none(),
            "similar name"
        );
        assert!(
            authored_item(&m, "ALICE", &q3(), "").is_some(),
            "usernames are case-insensitive"
        );
    }

    #[test]
    fn private_projects_are_confidential_and_descriptions_cut() {
        let mut m = mr("alice");
        m.visibility = Some("private".into());
        m.description = Some("é".repeat(3000));
        let item = authored_item(&m, "alice", &q3(), "").unwrap();
        assert!(item.confidential);
        let d = item.description.unwrap();
        assert!(d.len() <= DESCRIPTION_LIMIT + "…".len());
        assert!(d.ends_with('…'));
    }

    #[test]
    fn review_roles_and_exclusions() {
        let mut m = mr("bob");
        m.reviewers = vec![ReviewerRecord {
            username: "alice".into(),
            approved: false,
            review_state: Some("reviewed".into()),
        }];
        let item = review_item(&m, "alice", None, &q3(), "").unwrap();
        assert_eq!((item.kind, item.role), (ItemKind::Review, Role::Reviewer));
        assert_eq!((item.comments, item.approved), (Some(0), Some(false)));

        m.approved_by = vec!["alice".into()];
        assert_eq!(
            review_item(&m, "alice", None, &q3(), "").unwrap().role,
            Role::Approver
        );

        let own = mr("alice");
        let activity = Activity {
            comments: 3,
            last_at: t("2026-07-10T00:00:00Z"),
            ..Activity::default()
        };
        assert!(
            review_item(&own, "alice", Some(&activity), &q3(), "").is_none(),
            "own MR"
        );

        let other = mr("carol");
        assert!(
            review_item(&other, "alice", None, &q3(), "").is_none(),
            "no involvement"
        );
        let item = review_item(&other, "alice", Some(&activity), &q3(), "").unwrap();
        assert_eq!((item.role, item.comments), (Role::Commenter, Some(3)));
    }

    #[test]
    fn review_period_uses_activity_or_mr_dates() {
        let mut old = mr("bob");
        old.created_at = t("2026-01-01T00:00:00Z");
        old.merged_at = t("2026-10-05T00:00:00Z");
        let late = Activity {
            comments: 1,
            last_at: t("2026-08-01T00:00:00Z"),
            ..Activity::default()
        };
        assert!(review_item(&old, "alice", Some(&late), &q3(), "").is_some());
        let early = Activity {
            last_at: t("2026-05-01T00:00:00Z"),
            ..late
        };
        assert!(review_item(&old, "alice", Some(&early), &q3(), "").is_none());
    }
}
