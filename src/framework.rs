//! Career frameworks as data: areas and competencies with stable ids. The default (GitLab's
//! Staff level, Infrastructure department) is built in; users can load their own TOML file.
//!
//! A framework knows nothing about GitLab: `classify` maps items to its competency ids and
//! `report` groups them by area.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The built-in framework file, as shipped. Users copy it as a starting point for their own.
pub const BUILTIN_SOURCE: &str = include_str!("../data/framework/staff-infrastructure.toml");
const BUILTIN_ORIGIN: &str = "built-in framework (data/framework/staff-infrastructure.toml)";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub id: String,
    pub name: String,
    pub areas: Vec<Area>,
    pub competencies: Vec<Competency>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Area {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Competency {
    pub id: String,
    /// The id of the [`Area`] it belongs to.
    pub area: String,
    /// A few words, for headings and tables.
    pub title: String,
    /// The full text from the framework.
    pub statement: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FrameworkError {
    #[error(
        "cannot read framework file {path}: {source}\n  hint: check the path given to --framework"
    )]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid framework file: {}\n  hint: the file needs `id`, `name`, `[[areas]]` (id, title) and `[[competencies]]` (id, area, title, statement); data/framework/staff-infrastructure.toml in the gl-evidence sources is a complete example", .source.to_string().trim_end())]
    Parse {
        path: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("{path} is not a usable framework:{}", bullets(.problems))]
    Invalid { path: String, problems: Vec<String> },
}

fn bullets(problems: &[String]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

impl Framework {
    /// The default framework, parsed from the embedded file (once per process).
    pub fn builtin() -> Framework {
        static BUILTIN: OnceLock<Framework> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                Framework::from_toml_str(BUILTIN_SOURCE, BUILTIN_ORIGIN)
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .clone()
    }

    /// Reads and validates a user framework file.
    pub fn load(path: &Path) -> Result<Framework, FrameworkError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FrameworkError::Read {
            path: shown.clone(),
            source,
        })?;
        Framework::from_toml_str(&text, &shown)
    }

    /// Parses and validates framework TOML; `origin` names the input in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Framework, FrameworkError> {
        let framework: Framework =
            toml::from_str(text).map_err(|source| FrameworkError::Parse {
                path: origin.to_string(),
                source,
            })?;
        let problems = framework.problems();
        if problems.is_empty() {
            Ok(framework)
        } else {
            Err(FrameworkError::Invalid {
                path: origin.to_string(),
                problems,
            })
        }
    }

    pub fn competency(&self, id: &str) -> Option<&Competency> {
        self.competencies.iter().find(|c| c.id == id)
    }

    pub fn area(&self, id: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.id == id)
    }

    /// The competencies of one area, in framework order.
    pub fn competencies_in<'a>(
        &'a self,
        area: &'a str,
    ) -> impl Iterator<Item = &'a Competency> + 'a {
        self.competencies.iter().filter(move |c| c.area == area)
    }

    /// Everything wrong with the framework, all at once so a user fixes the file in one pass.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.id.trim().is_empty() {
            problems.push(
                "`id` is empty: give the framework a short id, e.g. id = \"staff-sre\"".to_string(),
            );
        }
        if self.name.trim().is_empty() {
            problems.push("`name` is empty: give the framework a display name".to_string());
        }
        if self.areas.is_empty() {
            problems.push("no `[[areas]]`: add at least one, with `id` and `title`".to_string());
        }
        if self.competencies.is_empty() {
            problems.push(
                "no `[[competencies]]`: add at least one, with `id`, `area`, `title` and `statement`"
                    .to_string(),
            );
        }
        let mut area_ids = HashSet::new();
        for area in &self.areas {
            check_id(&mut problems, "area", &area.id);
            if !area_ids.insert(area.id.as_str()) {
                problems.push(format!(
                    "area id `{}` is used twice: area ids must be unique",
                    area.id
                ));
            }
            if area.title.trim().is_empty() {
                problems.push(format!("area `{}` has an empty `title`", area.id));
            }
        }
        let mut competency_ids = HashSet::new();
        for competency in &self.competencies {
            check_id(&mut problems, "competency", &competency.id);
            if !competency_ids.insert(competency.id.as_str()) {
                problems.push(format!(
                    "competency id `{}` is used twice: competency ids must be unique",
                    competency.id
                ));
            }
            if !area_ids.contains(competency.area.as_str()) {
                problems.push(format!(
                    "competency `{}` has area `{}`, which is not one of the `[[areas]]` ids ({})",
                    competency.id,
                    competency.area,
                    self.areas
                        .iter()
                        .map(|a| a.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if competency.title.trim().is_empty() {
                problems.push(format!(
                    "competency `{}` has an empty `title`",
                    competency.id
                ));
            }
            if competency.statement.trim().is_empty() {
                problems.push(format!(
                    "competency `{}` has an empty `statement`",
                    competency.id
                ));
            }
        }
        for area in &self.areas {
            if !self.competencies.iter().any(|c| c.area == area.id) {
                problems.push(format!(
                    "area `{}` has no competencies: remove it or add competencies with area = \"{}\"",
                    area.id, area.id
                ));
            }
        }
        problems
    }
}

/// Ids appear in rule files, snapshots and template lookups, so keep them to a safe alphabet.
fn check_id(problems: &mut Vec<String>, what: &str, id: &str) {
    if id.is_empty() {
        problems.push(format!("a {what} has an empty `id`"));
    } else if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        problems.push(format!(
            "{what} id `{id}` may only use letters, digits, `-`, `_` and `.` (e.g. `on-call-1`)"
        ));
    }
}

/// The framework as Markdown, for `gl-evidence framework`: a heading per area, then one line
/// per competency with its id, title and statement.
pub fn render_markdown(framework: &Framework) -> String {
    let mut out = format!("# {}\n\nFramework id: `{}`\n", framework.name, framework.id);
    for area in &framework.areas {
        let _ = write!(out, "\n## {}\n\n", area.title);
        for c in framework.competencies_in(&area.id) {
            let _ = writeln!(out, "- **{}** — {}: {}", c.id, c.title, c.statement.trim());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_with_expected_areas_and_counts() {
        let fw = Framework::builtin();
        assert_eq!(fw.id, "staff-infrastructure");
        assert_eq!(fw.competencies.len(), 41);
        let expected = [
            ("accountability", 6),
            ("credibility", 6),
            ("autonomy", 6),
            ("team-building", 8),
            ("leadership", 8),
            ("technical", 7),
        ];
        let areas: Vec<&str> = fw.areas.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(areas, expected.map(|(a, _)| a));
        for (area, count) in expected {
            let ids: Vec<String> = fw.competencies_in(area).map(|c| c.id.clone()).collect();
            let numbered: Vec<String> = (1..=count).map(|n| format!("{area}-{n}")).collect();
            assert_eq!(ids, numbered, "area {area}: ids in text order");
        }
        let unique: HashSet<&str> = fw.competencies.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(unique.len(), fw.competencies.len());
        for c in &fw.competencies {
            let words = c.title.split_whitespace().count();
            assert!(
                (2..=6).contains(&words),
                "{}: title {:?} should be short",
                c.id,
                c.title
            );
        }
        assert_eq!(fw.area("team-building").unwrap().title, "Team building");
        assert_eq!(
            fw.competency("accountability-1").unwrap().title,
            "On-call standards"
        );
        assert!(fw.competency("accountability-7").is_none());
    }

    fn normalise(text: &str) -> String {
        text.replace('’', "'")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn statements_are_verbatim_from_the_seed() {
        let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/seeds/staff-infrastructure-career-framework.txt");
        let Ok(text) = std::fs::read_to_string(&seed) else {
            eprintln!(
                "note: {} is absent; skipping the verbatim check",
                seed.display()
            );
            return;
        };
        let text = normalise(&text);
        for c in &Framework::builtin().competencies {
            assert!(
                text.contains(&normalise(&c.statement)),
                "{}: statement not found in the seed: {}",
                c.id,
                c.statement
            );
        }
    }

    #[test]
    fn markdown_has_a_heading_per_area_and_a_line_per_competency() {
        let md = render_markdown(&Framework::builtin());
        assert!(md.starts_with("# GitLab Staff, Infrastructure department\n"));
        assert_eq!(md.matches("\n## ").count(), 6);
        assert_eq!(md.matches("\n- **").count(), 41);
        assert!(md.contains(
            "## Team building\n\n- **team-building-1** — Team culture and values: Creates"
        ));
    }

    #[test]
    fn load_reads_a_valid_file_and_reports_a_missing_one() {
        let dir = std::env::temp_dir().join(format!("gl-evidence-fw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fw.toml");
        std::fs::write(
            &path,
            "id = \"mine\"\nname = \"Mine\"\n[[areas]]\nid = \"a\"\ntitle = \"A\"\n\
             [[competencies]]\nid = \"a-1\"\narea = \"a\"\ntitle = \"T\"\nstatement = \"S\"\n",
        )
        .unwrap();
        let fw = Framework::load(&path).unwrap();
        assert_eq!(fw.competency("a-1").unwrap().statement, "S");
        let missing = dir.join("missing.toml");
        let err = Framework::load(&missing).unwrap_err().to_string();
        assert!(err.contains("missing.toml"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_files_are_rejected_with_every_problem_named() {
        let err = Framework::from_toml_str(
            "id = \"x\"\nname = \"X\"\n[[areas]]\nid = \"a\"\ntitle = \"A\"\n[[areas]]\nid = \"b\"\ntitle = \"B\"\n\
             [[competencies]]\nid = \"a-1\"\narea = \"a\"\ntitle = \"T\"\nstatement = \"S\"\n\
             [[competencies]]\nid = \"a-1\"\narea = \"zz\"\ntitle = \"T\"\nstatement = \"\"\n",
            "fw.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("fw.toml is not a usable framework:"),
            "{err}"
        );
        for needle in [
            "`a-1` is used twice",
            "area `zz`, which is not one of the `[[areas]]` ids (a, b)",
            "`a-1` has an empty `statement`",
            "area `b` has no competencies",
        ] {
            assert!(err.contains(needle), "missing {needle:?} in {err}");
        }

        let err = Framework::from_toml_str(
            "id = \"x\"\nname = \"X\"\nareas = []\ncompetencies = []\ncolour = 1\n",
            "fw.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("fw.toml is not a valid framework file")
                && err.contains("unknown field `colour`"),
            "{err}"
        );

        let err = Framework::from_toml_str(
            "id = \"x\"\nname = \"X\"\nareas = []\ncompetencies = []\n",
            "fw.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("no `[[areas]]`") && err.contains("no `[[competencies]]`"),
            "{err}"
        );

        let err = Framework::from_toml_str("id = \"x\"\nname = \"X\"\n[[areas]]\nid = \"has space\"\ntitle = \"A\"\n[[competencies]]\nid = \"c\"\narea = \"has space\"\ntitle = \"T\"\nstatement = \"S\"\n", "fw.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("area id `has space` may only use"), "{err}");
    }
}
