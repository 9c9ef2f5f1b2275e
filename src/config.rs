//! Configuration: the commented `config.example.toml` is the built-in default; a user file and the
//! environment are layered over it, and the result is validated into a [`Config`].

mod permissions;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};
use url::Url;

/// The shipped example, also the built-in default and what `gl-evidence init` writes.
pub const EXAMPLE_CONFIG: &str = include_str!("../config.example.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("invalid config value `{key}` in {origin}: {message}")]
    Invalid {
        origin: String,
        key: String,
        message: String,
    },
    #[error("no GitLab token: set GITLAB_TOKEN (or GL_EVIDENCE_TOKEN) to a personal access token with the `read_api` scope, or set `token_command` in the config file")]
    NoToken,
    #[error("token_command `{command}` failed: {message}")]
    TokenCommand {
        /// The program's name only: the rest of the command may hold a secret.
        command: String,
        message: String,
    },
    #[error("{path} already exists: pass --force to overwrite it")]
    Exists { path: String },
    #[error(transparent)]
    Write(#[from] crate::deliver::WriteError),
}

/// The whole configuration, as read from TOML. Every field has the default shown in
/// `config.example.toml`; a test keeps the two equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub gitlab_url: String,
    pub token_command: Option<String>,
    pub harvest: HarvestConfig,
    pub network: NetworkConfig,
    pub interview: InterviewConfig,
    pub team: TeamConfig,
    pub periods: PeriodsConfig,
    pub classify: ClassifyConfig,
    pub report: ReportConfig,
    pub email: crate::email::EmailConfig,
    pub curation: CurationConfig,
    pub cache: CacheConfig,
}

/// The incremental cache (see `crate::cache`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    pub enabled: bool,
    /// Default: `$XDG_CACHE_HOME/gl-evidence` or `~/.cache/gl-evidence`.
    pub dir: Option<PathBuf>,
    pub max_age_days: u32,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            dir: None,
            max_age_days: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HarvestConfig {
    pub concurrency: usize,
    pub page_size: u32,
    pub epic_groups: Vec<String>,
    pub oncall_projects: Vec<String>,
    pub incident_projects: Vec<String>,
}

/// Who a group's team report leaves out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TeamConfig {
    pub exclude: Vec<String>,
}

/// Which issues and merge requests are interview work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InterviewConfig {
    pub labels: Vec<String>,
    pub projects: Vec<String>,
}

impl Default for InterviewConfig {
    fn default() -> Self {
        InterviewConfig {
            labels: [
                "interview",
                "Interview Training",
                "interviewer",
                "interviewing",
                "hiring",
            ]
            .map(String::from)
            .to_vec(),
            projects: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    pub timeout_secs: u64,
    pub max_retries: u32,
    pub retry_base_ms: u64,
    pub max_retry_wait_secs: u64,
    /// A PEM file of CA certificates to trust besides the system's (`--ca-cert`).
    pub ca_cert: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PeriodsConfig {
    pub fiscal_year_start_month: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifyConfig {
    pub framework: Option<PathBuf>,
    pub rules: Option<PathBuf>,
    pub extra_rules: Vec<PathBuf>,
    pub disable: Vec<String>,
    pub weights: std::collections::BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    pub templates_dir: Option<PathBuf>,
}

/// The person's own curation file, for brag documents (see `crate::curation`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CurationConfig {
    pub file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gitlab_url: "https://gitlab.com".to_string(),
            token_command: None,
            harvest: HarvestConfig::default(),
            network: NetworkConfig::default(),
            interview: InterviewConfig::default(),
            team: TeamConfig::default(),
            periods: PeriodsConfig::default(),
            classify: ClassifyConfig::default(),
            report: ReportConfig::default(),
            email: crate::email::EmailConfig::default(),
            curation: CurationConfig::default(),
            cache: CacheConfig::default(),
        }
    }
}

impl Default for HarvestConfig {
    fn default() -> Self {
        HarvestConfig {
            concurrency: 8,
            page_size: 100,
            epic_groups: Vec::new(),
            oncall_projects: Vec::new(),
            incident_projects: Vec::new(),
        }
    }
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            timeout_secs: 30,
            max_retries: 5,
            retry_base_ms: 500,
            max_retry_wait_secs: 120,
            ca_cert: None,
        }
    }
}

impl Default for PeriodsConfig {
    fn default() -> Self {
        PeriodsConfig {
            fiscal_year_start_month: 2,
        }
    }
}

/// The environment variables gl-evidence reads, captured once so tests can supply their own.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub gitlab_url: Option<String>,
    pub ci_server_url: Option<String>,
    /// GitLab CI's `CI_API_V4_URL` (`https://host/prefix/api/v4`): the instance is its root.
    pub ci_api_v4_url: Option<String>,
    pub token: Option<String>,
    pub email: crate::email::EmailEnv,
}

impl Env {
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Env {
            gitlab_url: var("GITLAB_URL"),
            ci_server_url: var("CI_SERVER_URL"),
            ci_api_v4_url: var("CI_API_V4_URL"),
            token: var("GITLAB_TOKEN").or_else(|| var("GL_EVIDENCE_TOKEN")),
            email: crate::email::EmailEnv::from_process(),
        }
    }

    /// The instance URL the environment names, and the variable it came from: `GITLAB_URL`,
    /// else GitLab CI's `CI_API_V4_URL` (the API root less `/api/v4`, exact even for an instance
    /// under a path), else `CI_SERVER_URL`.
    pub fn instance_url(&self) -> Result<Option<(&'static str, String)>, ConfigError> {
        if let Some(url) = &self.gitlab_url {
            return Ok(Some(("GITLAB_URL", url.clone())));
        }
        if let Some(api) = &self.ci_api_v4_url {
            let root = api.trim().trim_end_matches('/');
            return match root.strip_suffix("/api/v4") {
                Some(instance) if !instance.is_empty() => {
                    Ok(Some(("CI_API_V4_URL", instance.to_string())))
                }
                _ => Err(ConfigError::Invalid {
                    origin: "the environment".into(),
                    key: "CI_API_V4_URL".into(),
                    message: format!(
                        "{api:?} does not end with /api/v4: unset it, or set GITLAB_URL to the instance URL"
                    ),
                }),
            };
        }
        Ok(self
            .ci_server_url
            .as_ref()
            .map(|url| ("CI_SERVER_URL", url.clone())))
    }
}

/// Where the config came from, for messages.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: Option<PathBuf>,
}

impl Config {
    /// Parses TOML text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            message: describe_toml_error(&e, text),
        })?;
        config.validate(origin)?;
        Ok(config)
    }

    /// Loads `explicit` (`--config` or `$GL_EVIDENCE_CONFIG`; it must exist), else the user
    /// config file if there is one, else the built-in default; then applies the environment.
    pub fn load(explicit: Option<&Path>, env: &Env) -> Result<LoadedConfig, ConfigError> {
        let path = match explicit {
            Some(path) => Some(path.to_path_buf()),
            None => default_path().filter(|p| p.is_file()),
        };
        let mut config = match &path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                let config = Config::parse(&text, &path.display().to_string())?;
                if let Some(warning) =
                    permissions::warning(path, &text, config.token_command.is_some())
                {
                    tracing::warn!("{warning}");
                }
                config
            }
            None => Config::default(),
        };
        if let Some((variable, url)) = env.instance_url()? {
            config.gitlab_url = url;
            config.validate(&format!("the environment ({variable})"))?;
        }
        Ok(LoadedConfig { config, path })
    }

    fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            origin: origin.to_string(),
            key: key.to_string(),
            message,
        };
        parse_gitlab_url(&self.gitlab_url).map_err(|m| invalid("gitlab_url", m))?;
        if !(1..=64).contains(&self.harvest.concurrency) {
            return Err(invalid(
                "harvest.concurrency",
                format!("{} is out of range: use 1 to 64", self.harvest.concurrency),
            ));
        }
        if !(1..=100).contains(&self.harvest.page_size) {
            return Err(invalid(
                "harvest.page_size",
                format!(
                    "{} is out of range: GitLab allows 1 to 100",
                    self.harvest.page_size
                ),
            ));
        }
        for (key, paths) in [
            ("harvest.epic_groups", &self.harvest.epic_groups),
            ("harvest.oncall_projects", &self.harvest.oncall_projects),
            ("harvest.incident_projects", &self.harvest.incident_projects),
            ("interview.projects", &self.interview.projects),
        ] {
            if let Some(bad) = paths.iter().find(|p| !is_full_path(p)) {
                return Err(invalid(
                    key,
                    format!("{bad:?} is not a full path: use e.g. \"gitlab-com/gl-infra\" (no URL, no leading slash)"),
                ));
            }
        }
        if !(1..=365).contains(&self.cache.max_age_days) {
            return Err(invalid(
                "cache.max_age_days",
                format!(
                    "{} is out of range: use 1 to 365 (or cache.enabled = false)",
                    self.cache.max_age_days
                ),
            ));
        }
        if self.network.timeout_secs == 0 {
            return Err(invalid("network.timeout_secs", "must be at least 1".into()));
        }
        if !(1..=12).contains(&self.periods.fiscal_year_start_month) {
            return Err(invalid(
                "periods.fiscal_year_start_month",
                format!(
                    "{} is not a month: use 1 to 12",
                    self.periods.fiscal_year_start_month
                ),
            ));
        }
        self.email
            .validate()
            .map_err(|(key, message)| invalid(key, message))?;
        if let Some(cmd) = &self.token_command {
            if cmd.trim().is_empty() {
                return Err(invalid(
                    "token_command",
                    "is empty: remove it or name a command".into(),
                ));
            }
        }
        Ok(())
    }

    /// The token from the environment, else from `token_command`.
    pub fn resolve_token(&self, env: &Env) -> Result<Secret, ConfigError> {
        if let Some(token) = &env.token {
            return Ok(Secret::new(token.trim().to_string()));
        }
        let Some(command) = &self.token_command else {
            return Err(ConfigError::NoToken);
        };
        let failed = |message: String| ConfigError::TokenCommand {
            command: program_name(command),
            message,
        };
        let output = Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| failed(e.to_string()))?;
        if !output.status.success() {
            // Its stderr is the user's own tool talking; its stdout might be a token, so never show it.
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(failed(format!(
                "exited with {}: {}",
                output.status,
                stderr.trim()
            )));
        }
        let token = String::from_utf8(output.stdout)
            .map_err(|_| failed("printed something that is not UTF-8".into()))?;
        let token = token.trim();
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err(failed(
                "did not print a single token on standard output".into(),
            ));
        }
        Ok(Secret::new(token.to_string()))
    }
}

/// The first word of a command, with `…` when more follows: enough to recognise it in a message
/// without repeating an argument that may be a secret (`echo glpat-…`).
fn program_name(command: &str) -> String {
    let mut words = command.split_whitespace();
    let first = words.next().unwrap_or("");
    if words.next().is_some() {
        format!("{first} …")
    } else {
        first.to_string()
    }
}

/// Checks a GitLab base URL: http(s), no query, no credentials.
pub fn parse_gitlab_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value.trim()).map_err(|e| {
        format!("{value:?} is not a URL ({e}): use e.g. https://gitlab.example.com")
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{value:?} must start with https:// (or http://)"));
    }
    if url.host_str().is_none() {
        return Err(format!("{value:?} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials: pass the token through GITLAB_TOKEN".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{value:?} must not have a query or fragment"));
    }
    Ok(url)
}

/// A GitLab namespace or project path: `group/sub/project`, no scheme, no leading slash.
fn is_full_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
}

/// `~/.config/gl-evidence/config.toml` (or the platform's equivalent).
pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("gl-evidence").join("config.toml"))
}

/// Writes the commented example config for `gl-evidence init`.
pub fn write_example(path: &Path, force: bool) -> Result<(), ConfigError> {
    if path.exists() && !force {
        return Err(ConfigError::Exists {
            path: path.display().to_string(),
        });
    }
    crate::deliver::write_atomically(path, EXAMPLE_CONFIG.as_bytes())?;
    Ok(())
}

/// toml's own message, with the line and column of the offending key.
fn describe_toml_error(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

/// A token: never printed, logged or serialised.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The value, for the one place that builds the Authorization header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_is_the_default() {
        let parsed = Config::parse(EXAMPLE_CONFIG, "config.example.toml").unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::parse("[network]\nretries = 3\n", "my.toml").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("my.toml"), "{text}");
        assert!(text.contains("retries"), "{text}");
    }

    #[test]
    fn partial_files_keep_defaults() {
        let c = Config::parse("[harvest]\nconcurrency = 3\n", "x").unwrap();
        assert_eq!(c.harvest.concurrency, 3);
        assert_eq!(c.harvest.page_size, 100);
        assert_eq!(c.periods.fiscal_year_start_month, 2);
    }

    #[test]
    fn bad_values_are_rejected_with_the_key() {
        for (text, key) in [
            ("[harvest]\nconcurrency = 0\n", "harvest.concurrency"),
            ("[harvest]\npage_size = 500\n", "harvest.page_size"),
            (
                "[periods]\nfiscal_year_start_month = 13\n",
                "periods.fiscal_year_start_month",
            ),
            ("gitlab_url = \"ftp://x\"\n", "gitlab_url"),
            ("gitlab_url = \"https://user:pw@x\"\n", "gitlab_url"),
            (
                "[harvest]\noncall_projects = [\"https://gitlab.com/a/b\"]\n",
                "harvest.oncall_projects",
            ),
            ("[interview]\nprojects = [\"/a\"]\n", "interview.projects"),
        ] {
            let err = Config::parse(text, "f.toml").unwrap_err().to_string();
            assert!(err.contains(key), "{text}: {err}");
        }
    }

    #[test]
    fn environment_overrides_file_and_gitlab_url_wins_over_ci() {
        let env = Env {
            gitlab_url: Some("https://gl.example.com/gitlab".into()),
            ci_server_url: Some("https://ci.example.com".into()),
            ..Env::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "gitlab_url = \"https://file.example.com\"\n").unwrap();
        let loaded = Config::load(Some(&path), &env).unwrap();
        assert_eq!(loaded.config.gitlab_url, "https://gl.example.com/gitlab");
        let env = Env {
            ci_server_url: Some("https://ci.example.com".into()),
            ..Env::default()
        };
        let loaded = Config::load(Some(&path), &env).unwrap();
        assert_eq!(loaded.config.gitlab_url, "https://ci.example.com");
    }

    #[test]
    fn gitlab_ci_api_url_names_the_instance() {
        let env = Env {
            ci_server_url: Some("https://ci.example.com".into()),
            ci_api_v4_url: Some("https://ci.example.com/gitlab/api/v4/".into()),
            ..Env::default()
        };
        let loaded = Config::load(None, &env).unwrap();
        assert_eq!(loaded.config.gitlab_url, "https://ci.example.com/gitlab");
        let env = Env {
            gitlab_url: Some("https://mine.example.com".into()),
            ..env
        };
        assert_eq!(
            Config::load(None, &env).unwrap().config.gitlab_url,
            "https://mine.example.com"
        );
        let env = Env {
            ci_api_v4_url: Some("https://ci.example.com/api/v3".into()),
            ..Env::default()
        };
        let err = Config::load(None, &env).unwrap_err().to_string();
        assert!(
            err.contains("CI_API_V4_URL") && err.contains("does not end with /api/v4"),
            "{err}"
        );
        let env = Env {
            ci_api_v4_url: Some("ftp://ci.example.com/api/v4".into()),
            ..Env::default()
        };
        let err = Config::load(None, &env).unwrap_err().to_string();
        assert!(err.contains("CI_API_V4_URL"), "{err}");
    }

    #[test]
    fn token_command_is_used_and_its_failure_explained() {
        let mut c = Config {
            token_command: Some("echo glpat-from-command".into()),
            ..Config::default()
        };
        let t = c.resolve_token(&Env::default()).unwrap();
        assert_eq!(t.expose(), "glpat-from-command");
        assert_eq!(format!("{t:?}"), "Secret(***)");
        c.token_command = Some("echo nope >&2; exit 4".into());
        let err = c.resolve_token(&Env::default()).unwrap_err().to_string();
        assert!(err.contains("nope") && err.contains("exit"), "{err}");
        c.token_command = None;
        assert!(matches!(
            c.resolve_token(&Env::default()),
            Err(ConfigError::NoToken)
        ));
    }

    #[test]
    fn init_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        write_example(&path, false).unwrap();
        assert!(matches!(
            write_example(&path, false),
            Err(ConfigError::Exists { .. })
        ));
        write_example(&path, true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), EXAMPLE_CONFIG);
    }
}
