//! A team from a GitLab group: its direct and inherited members, without bots, blocked or
//! pending members, and without the people the config excludes.

use crate::gitlab::types::Member;
use crate::gitlab::{Client, GitlabError, RequestCounter};
use crate::model::Subject;

use super::HarvestError;

/// The people of `group` (a full path), sorted by username.
pub async fn group_members(
    client: &Client,
    group: &str,
    exclude: &[String],
) -> Result<Vec<Subject>, HarvestError> {
    let counter = RequestCounter::default();
    // The REST API takes a group path URL-encoded in place of its id.
    let path = format!("groups/{}/members/all", group.replace('/', "%2F"));
    let paged = client
        .rest_get_all::<Member>(&path, &[], &counter, |_| {})
        .await;
    if let Some(error) = paged.error {
        return Err(match error {
            GitlabError::NotFound { .. } => HarvestError::UnknownGroup {
                group: group.to_string(),
            },
            other => HarvestError::Gitlab(other),
        });
    }
    Ok(people(paged.items, exclude))
}

/// Members who are people at work here: active, not bots, not excluded. A member listed twice
/// (direct and inherited) is kept once.
pub fn people(members: Vec<Member>, exclude: &[String]) -> Vec<Subject> {
    let mut people: Vec<Subject> = members
        .into_iter()
        .filter(|m| m.state.as_deref().is_none_or(|s| s == "active"))
        .filter(|m| m.membership_state.as_deref().is_none_or(|s| s == "active"))
        .filter(|m| !m.bot.unwrap_or(false) && !looks_like_bot(&m.username))
        .filter(|m| !exclude.iter().any(|e| e.eq_ignore_ascii_case(&m.username)))
        .map(|m| Subject {
            username: m.username,
            name: m.name,
            id: Some(m.id),
        })
        .collect();
    people.sort_by(|a, b| a.username.cmp(&b.username));
    people.dedup_by(|a, b| a.username.eq_ignore_ascii_case(&b.username));
    people
}

/// Bot users of access tokens (`project_12_bot_…`, `group_3_bot_…`) and GitLab's service users,
/// for older servers that do not say `bot: true`.
fn looks_like_bot(username: &str) -> bool {
    let lower = username.to_ascii_lowercase();
    let token_bot =
        (lower.starts_with("project_") || lower.starts_with("group_")) && lower.contains("_bot");
    token_bot
        || lower.ends_with("-bot")
        || lower.ends_with("_bot")
        || matches!(
            lower.as_str(),
            "ghost" | "alert-bot" | "support-bot" | "gitlab-bot"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: u64, username: &str) -> Member {
        Member {
            id,
            username: username.into(),
            name: Some(username.to_uppercase()),
            state: Some("active".into()),
            bot: None,
            membership_state: None,
        }
    }

    #[test]
    fn bots_blocked_pending_and_excluded_members_are_left_out() {
        let mut blocked = member(3, "carol");
        blocked.state = Some("blocked".into());
        let mut pending = member(4, "dave");
        pending.membership_state = Some("awaiting".into());
        let mut flagged_bot = member(5, "renovate");
        flagged_bot.bot = Some(true);
        let members = vec![
            member(2, "bob"),
            member(1, "alice"),
            blocked,
            pending,
            flagged_bot,
            member(6, "project_42_bot_3f9a"),
            member(7, "group_9_bot_1"),
            member(8, "deploy-bot"),
            member(9, "erin"),
            member(1, "alice"),
        ];
        let people = people(members, &["Erin".to_string()]);
        let names: Vec<&str> = people.iter().map(|p| p.username.as_str()).collect();
        assert_eq!(names, ["alice", "bob"]);
        assert_eq!(people[0].id, Some(1));
        assert_eq!(people[0].name.as_deref(), Some("ALICE"));
    }

    #[test]
    fn ordinary_names_are_not_bots() {
        for name in ["abbot", "robot-lover", "bottle", "project_lead", "groupie"] {
            assert!(!looks_like_bot(name), "{name}");
        }
    }
}
