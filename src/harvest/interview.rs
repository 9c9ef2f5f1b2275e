//! Interview work. GitLab has no interview object, so issues, merge requests and reviews with an
//! interview label or in an interview project (config `[interview]`) become `interview` items:
//! the same item under another kind, so it is never listed twice.

use crate::config::InterviewConfig;
use crate::model::{Item, ItemKind, Role};

/// Labels compare case-insensitively, with `-`, `_` and spaces equal.
fn normalise(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c == '-' || c == '_' {
                ' '
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A project path prefix ending at a `/` boundary.
fn in_project(project: &str, prefix: &str) -> bool {
    let (project, prefix) = (project.to_ascii_lowercase(), prefix.to_ascii_lowercase());
    project == prefix || project.starts_with(&format!("{}/", prefix.trim_end_matches('/')))
}

pub fn is_interview(item: &Item, config: &InterviewConfig) -> bool {
    if !matches!(
        item.kind,
        ItemKind::Issue | ItemKind::MergeRequest | ItemKind::Review
    ) {
        return false;
    }
    let labels: Vec<String> = config.labels.iter().map(|l| normalise(l)).collect();
    let labelled = item.labels.iter().any(|l| labels.contains(&normalise(l)));
    let in_interview_project = item
        .project
        .as_deref()
        .is_some_and(|p| config.projects.iter().any(|prefix| in_project(p, prefix)));
    labelled || in_interview_project
}

/// Turns an item into interview work: its author keeps the `author` role, anyone else who
/// worked on it (reviewer, assignee, participant) was an interviewer.
pub fn into_interview(mut item: Item) -> Item {
    item.kind = ItemKind::Interview;
    if item.role != Role::Author {
        item.role = Role::Interviewer;
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(kind: ItemKind, role: Role, labels: &[&str], project: &str) -> Item {
        let mut i = Item::new(
            kind,
            role,
            "alice",
            "gid://x/1".into(),
            "https://x".into(),
            "t".into(),
        );
        i.labels = labels.iter().map(|l| l.to_string()).collect();
        i.project = Some(project.into());
        i
    }

    #[test]
    fn labels_and_projects_mark_interviews() {
        let config = InterviewConfig {
            labels: vec!["Interview Training".into()],
            projects: vec!["gitlab-com/people-group/hiring".into()],
        };
        assert!(is_interview(
            &item(
                ItemKind::Issue,
                Role::Assignee,
                &["interview-training"],
                "a/b"
            ),
            &config
        ));
        assert!(is_interview(
            &item(
                ItemKind::Review,
                Role::Reviewer,
                &[],
                "gitlab-com/people-group/hiring/backend"
            ),
            &config
        ));
        assert!(!is_interview(
            &item(
                ItemKind::Review,
                Role::Reviewer,
                &[],
                "gitlab-com/people-group/hiring-old"
            ),
            &config
        ));
        assert!(!is_interview(
            &item(ItemKind::Issue, Role::Author, &["interviews"], "a/b"),
            &config
        ));
        assert!(!is_interview(
            &item(
                ItemKind::Incident,
                Role::Author,
                &["interview training"],
                "a/b"
            ),
            &config
        ));
    }

    #[test]
    fn roles_become_interviewer_unless_author() {
        assert_eq!(
            into_interview(item(ItemKind::Review, Role::Approver, &[], "a")).role,
            Role::Interviewer
        );
        let authored = into_interview(item(ItemKind::MergeRequest, Role::Author, &[], "a"));
        assert_eq!(
            (authored.kind, authored.role),
            (ItemKind::Interview, Role::Author)
        );
    }
}
