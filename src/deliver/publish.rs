//! Publishing a Markdown report as a confidential GitLab issue (`--publish issue:GROUP/PROJECT`),
//! updated in place on the next run for the same report and period instead of duplicated.
//!
//! The issue is found again by a hidden marker at the top of its description
//! (`<!-- gl-evidence:brag:alice:2026-07-01..2026-09-30 -->`), among the issues the token's own
//! user created: first those labelled `gl-evidence`, then, in case someone removed the label, by
//! searching descriptions for the marker. Only an exact marker match counts.

use std::fmt;
use std::str::FromStr;

use crate::config::Secret;
use crate::gitlab::types::ProjectIssue;
use crate::gitlab::{Client, ClientOptions, GitlabError, IssueChange, NewIssue, RequestCounter};
use crate::model::{Period, Snapshot};
use crate::report::ReportKind;

/// GitLab's limit on an issue description, in characters.
pub const DESCRIPTION_LIMIT: usize = 1_048_576;
/// GitLab's limit on an issue title, in characters.
const TITLE_LIMIT: usize = 255;
/// The label every published issue carries, to find it again.
pub const LABEL: &str = "gl-evidence";
/// How every marker starts.
const MARKER_PREFIX: &str = "<!-- gl-evidence:";
/// Past this many characters a list of people in a marker becomes a count and a digest.
const KEY_LIMIT: usize = 120;

/// Where to publish: `issue:GROUP/PROJECT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishTarget {
    Issue { project: String },
}

impl FromStr for PublishTarget {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let usage = "use issue:GROUP/PROJECT, the full path of the project to create the issue in, e.g. issue:my-org/brag-docs";
        let Some(project) = value.trim().strip_prefix("issue:") else {
            return Err(format!("{value:?} is not a destination: {usage}"));
        };
        let project = project.trim().trim_matches('/');
        let valid = project.contains('/')
            && project.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
            });
        if !valid {
            return Err(format!(
                "{project:?} is not a project's full path (no URL, no spaces): {usage}"
            ));
        }
        Ok(PublishTarget::Issue {
            project: project.to_string(),
        })
    }
}

impl fmt::Display for PublishTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublishTarget::Issue { project } => write!(f, "issue:{project}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("GitLab refused to {action} an issue in {project} (403 Forbidden: {message})\n  hint: --publish needs a token with the `api` scope (`read_api` cannot write), whose user may create issues in {project}")]
    Forbidden {
        action: &'static str,
        project: String,
        message: String,
    },
    #[error("project {project} not found, or the token's user cannot see it\n  hint: check the path in --publish issue:GROUP/PROJECT and the user's membership")]
    UnknownProject { project: String },
    #[error("GitLab refused the issue for {project}: {message}")]
    Refused { project: String, message: String },
    #[error("cannot publish to {project}: {source}")]
    Gitlab {
        project: String,
        source: GitlabError,
    },
    #[error("cannot start the network runtime: {0}")]
    Runtime(std::io::Error),
}

/// What to publish: one report of one kind, for one person or team and one period.
#[derive(Debug, Clone)]
pub struct Publication {
    pub kind: ReportKind,
    /// Whose report: a username, a group path, or a list of people.
    pub key: String,
    pub period: Period,
    pub title: String,
    pub markdown: String,
}

impl Publication {
    /// The report of `kind` over `snapshot`: a team is its group when the snapshot is exactly
    /// a group's team, else its people; a brag document is its person (or people).
    pub fn new(kind: ReportKind, snapshot: &Snapshot, markdown: String) -> Publication {
        let group = snapshot
            .extra
            .get(crate::merge::GROUP_KEY)
            .and_then(|v| v.as_str())
            .filter(|_| kind == ReportKind::Team);
        let mut people: Vec<String> = snapshot
            .subjects
            .iter()
            .map(|s| s.username.to_ascii_lowercase())
            .collect();
        people.sort();
        people.dedup();
        let key = match group {
            Some(group) => group.to_string(),
            None => people_key(&people),
        };
        let period = format!("{} – {}", snapshot.period.from, snapshot.period.to);
        let title = match (kind, group) {
            (ReportKind::Team, Some(group)) => format!("Team report: {group}, {period}"),
            (ReportKind::Team, None) => format!(
                "Team report: {} {}, {period}",
                people.len(),
                if people.len() == 1 {
                    "person"
                } else {
                    "people"
                }
            ),
            (ReportKind::Brag, _) => {
                let who = match snapshot.subjects.as_slice() {
                    [one] => match &one.name {
                        Some(name) => format!("{name} (@{})", one.username),
                        None => format!("@{}", one.username),
                    },
                    many => format!("{} people", many.len()),
                };
                format!("Brag document: {who}, {period}")
            }
        };
        Publication {
            kind,
            key,
            period: snapshot.period,
            title: cut_chars(&title, TITLE_LIMIT).to_string(),
            markdown,
        }
    }

    /// The hidden line that identifies this report's issue.
    pub fn marker(&self) -> String {
        let key: String = self
            .key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '+' | ',') {
                    c.to_string()
                } else {
                    // Keeps `-->` and anything unusual out of the comment.
                    let mut buf = [0u8; 4];
                    c.encode_utf8(&mut buf)
                        .bytes()
                        .map(|b| format!("%{b:02X}"))
                        .collect()
                }
            })
            .collect();
        format!(
            "{MARKER_PREFIX}{}:{}:{}..{} -->",
            self.kind, key, self.period.from, self.period.to
        )
    }

    /// The issue description: the marker, then the report, cut to `limit` characters with a
    /// note when it is longer.
    pub fn description(&self, limit: usize) -> String {
        let marker = self.marker();
        let whole = format!("{marker}\n\n{}", self.markdown);
        let length = whole.chars().count();
        if length <= limit {
            return whole;
        }
        let note = format!(
            "\n\n---\n\n**Cut short:** this report is {length} characters long, more than GitLab allows in an issue description ({limit}). The whole report is in the file gl-evidence wrote (in CI, the job's artifacts).\n"
        );
        let room = limit.saturating_sub(note.chars().count());
        let mut kept = cut_chars(&whole, room);
        // End on a whole line, when one ends near the cut, so no link or table row is torn.
        if let Some(newline) = kept.rfind('\n') {
            if newline > marker.len() && kept.len() - newline < 2_000 {
                kept = &kept[..newline];
            }
        }
        format!("{kept}{note}")
    }
}

/// Whether `item` is a report gl-evidence published: an issue whose description starts with a
/// marker.
pub fn is_published_report(item: &crate::model::Item) -> bool {
    matches!(item.kind, crate::model::ItemKind::Issue)
        && item
            .description
            .as_deref()
            .is_some_and(|d| d.trim_start().starts_with(MARKER_PREFIX))
}

/// A list of people as a marker key: their names while short, else a count and a digest.
fn people_key(people: &[String]) -> String {
    let joined = people.join(",");
    if joined.len() <= KEY_LIMIT {
        return joined;
    }
    // FNV-1a: stable across releases and platforms, unlike std's hasher.
    let digest = joined.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{}-people-{digest:016x}", people.len())
}

/// The first `max` characters of `text`.
fn cut_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// What publishing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    Created { iid: u64, web_url: String },
    Updated { iid: u64, web_url: String },
    Unchanged { iid: u64, web_url: String },
}

/// The outcome and the other issues that carry the same marker (duplicates made by hand or by
/// an interrupted run), for a warning.
#[derive(Debug, Clone)]
pub struct PublishOutcome {
    pub published: Published,
    pub also_marked: Vec<u64>,
}

/// Publishes `publication` to `target`: updates the token user's issue with the same marker, or
/// creates a confidential one.
pub fn publish(
    options: ClientOptions,
    token: Secret,
    target: &PublishTarget,
    publication: &Publication,
) -> Result<PublishOutcome, PublishError> {
    let PublishTarget::Issue { project } = target;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(PublishError::Runtime)?;
    let gitlab = |source: GitlabError| PublishError::Gitlab {
        project: project.clone(),
        source,
    };
    runtime.block_on(async {
        let client = Client::new(options, token).map_err(gitlab)?;
        publish_issue(&client, project, publication).await
    })
}

async fn publish_issue(
    client: &Client,
    project: &str,
    publication: &Publication,
) -> Result<PublishOutcome, PublishError> {
    let counter = RequestCounter::default();
    let marker = publication.marker();
    let description = publication.description(DESCRIPTION_LIMIT);
    let fail =
        |action: &'static str| move |error: GitlabError| classify_error(error, action, project);

    let mut found = find_marked(
        client,
        project,
        &[("labels", LABEL.to_string())],
        &marker,
        &counter,
    )
    .await
    .map_err(fail("read"))?;
    if found.is_empty() {
        // The label may have been removed by hand: search the descriptions themselves.
        let inner = marker
            .trim_start_matches("<!-- ")
            .trim_end_matches(" -->")
            .to_string();
        found = find_marked(
            client,
            project,
            &[("search", inner), ("in", "description".to_string())],
            &marker,
            &counter,
        )
        .await
        .map_err(fail("read"))?;
    }
    found.sort_by_key(|i| i.iid);
    let also_marked = found.iter().skip(1).map(|i| i.iid).collect();

    let published = match found.first() {
        Some(existing) => {
            let web_url = existing.web_url.clone().unwrap_or_default();
            let same = existing.description.as_deref() == Some(description.as_str())
                && existing.title.as_deref() == Some(publication.title.as_str())
                && existing.confidential == Some(true);
            if same {
                Published::Unchanged {
                    iid: existing.iid,
                    web_url,
                }
            } else {
                let change = IssueChange {
                    title: publication.title.clone(),
                    description,
                    confidential: true,
                    add_labels: LABEL.to_string(),
                };
                let updated = client
                    .update_issue(project, existing.iid, &change, &counter)
                    .await
                    .map_err(fail("update"))?;
                Published::Updated {
                    iid: updated.iid,
                    web_url: updated.web_url.unwrap_or(web_url),
                }
            }
        }
        None => {
            let issue = NewIssue {
                title: publication.title.clone(),
                description,
                confidential: true,
                labels: LABEL.to_string(),
            };
            let created = client
                .create_issue(project, &issue, &counter)
                .await
                .map_err(fail("create"))?;
            Published::Created {
                iid: created.iid,
                web_url: created.web_url.unwrap_or_default(),
            }
        }
    };
    tracing::info!("publishing took {} requests", counter.get());
    Ok(PublishOutcome {
        published,
        also_marked,
    })
}

/// The token user's issues in `project` matching `query` whose description carries `marker`.
async fn find_marked(
    client: &Client,
    project: &str,
    query: &[(&str, String)],
    marker: &str,
    counter: &RequestCounter,
) -> Result<Vec<ProjectIssue>, GitlabError> {
    let mut query = query.to_vec();
    query.push(("scope", "created_by_me".to_string()));
    query.push(("state", "all".to_string()));
    let paged = client.project_issues(project, &query, counter).await;
    if let Some(error) = paged.error {
        return Err(error);
    }
    Ok(paged
        .items
        .into_iter()
        .filter(|i| {
            i.description
                .as_deref()
                .is_some_and(|d| d.lines().any(|line| line.trim() == marker))
        })
        .collect())
}

fn classify_error(error: GitlabError, action: &'static str, project: &str) -> PublishError {
    let inner = match &error {
        GitlabError::RetriesExhausted { last, .. } => last.as_ref(),
        other => other,
    };
    match inner {
        GitlabError::Forbidden { message, .. } => PublishError::Forbidden {
            action,
            project: project.to_string(),
            message: message.clone(),
        },
        GitlabError::NotFound { .. } => PublishError::UnknownProject {
            project: project.to_string(),
        },
        GitlabError::Status {
            status: 400 | 422,
            message,
            ..
        } => PublishError::Refused {
            project: project.to_string(),
            message: message.clone(),
        },
        _ => PublishError::Gitlab {
            project: project.to_string(),
            source: error,
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Utc};
    use serde_json::json;

    use super::*;
    use crate::model::Subject;

    fn q3() -> Period {
        Period::new(
            NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 9, 30).unwrap(),
        )
        .unwrap()
    }

    fn snapshot(people: &[(&str, Option<&str>)]) -> Snapshot {
        let mut s = Snapshot::new("https://gitlab.example.com".into(), q3(), Utc::now());
        for (username, name) in people {
            s.subjects.push(Subject {
                username: username.to_string(),
                name: name.map(str::to_string),
                id: None,
            });
        }
        s
    }

    #[test]
    fn targets_are_parsed_and_bad_ones_explained() {
        assert_eq!(
            "issue:acme/brag-docs".parse::<PublishTarget>().unwrap(),
            PublishTarget::Issue {
                project: "acme/brag-docs".into()
            }
        );
        assert_eq!(
            "issue:acme/sub/p"
                .parse::<PublishTarget>()
                .unwrap()
                .to_string(),
            "issue:acme/sub/p"
        );
        for bad in [
            "acme/brag-docs",
            "email:acme/p",
            "issue:",
            "issue:brag-docs",
            "issue:https://gitlab.com/a/b",
            "issue:a//b",
            "issue:a/b c",
        ] {
            let err = bad.parse::<PublishTarget>().unwrap_err();
            assert!(err.contains("issue:GROUP/PROJECT"), "{bad}: {err}");
        }
    }

    #[test]
    fn markers_name_the_kind_the_person_or_team_and_the_period() {
        let alice = snapshot(&[("Alice", Some("Alice Liddell"))]);
        let brag = Publication::new(ReportKind::Brag, &alice, "# Brag\n".into());
        assert_eq!(
            brag.marker(),
            "<!-- gl-evidence:brag:alice:2026-07-01..2026-09-30 -->"
        );
        assert_eq!(
            brag.title,
            "Brag document: Alice Liddell (@Alice), 2026-07-01 – 2026-09-30"
        );

        let mut team = snapshot(&[("bob", None), ("alice", None)]);
        let by_people = Publication::new(ReportKind::Team, &team, String::new());
        assert_eq!(
            by_people.marker(),
            "<!-- gl-evidence:team:alice,bob:2026-07-01..2026-09-30 -->"
        );
        assert_eq!(
            by_people.title,
            "Team report: 2 people, 2026-07-01 – 2026-09-30"
        );
        team.extra
            .insert(crate::merge::GROUP_KEY.into(), json!("acme/sre"));
        let by_group = Publication::new(ReportKind::Team, &team, String::new());
        assert_eq!(
            by_group.marker(),
            "<!-- gl-evidence:team:acme/sre:2026-07-01..2026-09-30 -->"
        );
        assert_eq!(
            by_group.title,
            "Team report: acme/sre, 2026-07-01 – 2026-09-30"
        );
        // A brag document is its person's, group or not.
        let brag = Publication::new(ReportKind::Brag, &team, String::new());
        assert!(
            brag.marker().contains(":brag:alice,bob:"),
            "{}",
            brag.marker()
        );
    }

    #[test]
    fn long_people_lists_and_odd_characters_stay_short_and_inert() {
        let names: Vec<String> = (0..100).map(|i| format!("person{i:03}")).collect();
        let people: Vec<(&str, Option<&str>)> = names.iter().map(|n| (n.as_str(), None)).collect();
        let big = Publication::new(ReportKind::Team, &snapshot(&people), String::new());
        let marker = big.marker();
        assert!(marker.contains(":team:100-people-"), "{marker}");
        assert!(marker.len() < 100, "{marker}");
        let mut fewer = people.clone();
        fewer.pop();
        let other = Publication::new(ReportKind::Team, &snapshot(&fewer), String::new());
        assert_ne!(other.marker(), marker, "another team, another issue");

        let mut odd = Publication::new(ReportKind::Brag, &snapshot(&[("x", None)]), String::new());
        odd.key = "evil --> <b>".into();
        assert_eq!(
            odd.marker(),
            "<!-- gl-evidence:brag:evil%20--%3E%20%3Cb%3E:2026-07-01..2026-09-30 -->"
        );
    }

    #[test]
    fn descriptions_start_with_the_marker_and_are_cut_to_the_limit_with_a_note() {
        let report: String = (0..400).map(|i| format!("- line {i} ünïcödé\n")).collect();
        let publication = Publication::new(
            ReportKind::Brag,
            &snapshot(&[("alice", None)]),
            report.clone(),
        );
        let whole = publication.description(DESCRIPTION_LIMIT);
        assert_eq!(
            whole,
            format!("{}\n\n{report}", publication.marker()),
            "short reports are published whole"
        );
        let limit = 2_000;
        let cut = publication.description(limit);
        assert!(cut.chars().count() <= limit, "{}", cut.chars().count());
        assert!(cut.starts_with(&publication.marker()));
        assert!(cut.contains("**Cut short:**"), "{cut}");
        let length = whole.chars().count();
        assert!(
            cut.contains(&format!("this report is {length} characters long")),
            "{cut}"
        );
        // Whole lines only.
        let body = cut.split("\n\n---\n\n").next().unwrap();
        assert!(body.ends_with("ünïcödé"), "{body:?}");
    }

    #[test]
    fn titles_respect_gitlab_s_limit() {
        let long_name = "N".repeat(400);
        let p = Publication::new(
            ReportKind::Brag,
            &snapshot(&[("alice", Some(&long_name))]),
            String::new(),
        );
        assert_eq!(p.title.chars().count(), TITLE_LIMIT);
    }
}
