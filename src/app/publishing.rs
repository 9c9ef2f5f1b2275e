//! `--publish issue:GROUP/PROJECT` on `brag`, `team` and `report`: the Markdown report posted as
//! a confidential issue, through [`crate::deliver::publish`].

use super::{client_options, Global, Render};
use crate::config::{ConfigError, Env, LoadedConfig, Secret};
use crate::deliver::publish::{self, Publication, PublishTarget, Published};
use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::gitlab::ClientOptions;
use crate::merge::normalise_url;
use crate::model::Snapshot;
use crate::report::{Format, RenderOptions, Renderer, ReportKind};

/// Everything publishing needs, checked before any harvest or rendering so a missing token or
/// a bad URL costs nothing.
pub(super) struct Publisher {
    target: PublishTarget,
    options: ClientOptions,
    token: Secret,
}

impl Publisher {
    pub(super) fn prepare(
        target: Option<PublishTarget>,
        global: &Global,
        loaded: &LoadedConfig,
        env: &Env,
    ) -> Result<Option<Publisher>> {
        let Some(target) = target else {
            return Ok(None);
        };
        let token = loaded.config.resolve_token(env).map_err(|e| match e {
            ConfigError::NoToken => Error::Usage(format!(
                "--publish {target} needs a GitLab token with the `api` scope: set GITLAB_TOKEN (or GL_EVIDENCE_TOKEN), or `token_command` in the config file"
            )),
            other => other.into(),
        })?;
        Ok(Some(Publisher {
            target,
            options: client_options(global, &loaded.config)?,
            token,
        }))
    }

    /// Publishes the report as Markdown: `text` itself when it is Markdown, else the same report
    /// rendered again as Markdown (with the configured templates, not a `--template` written
    /// for another format).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn publish(
        self,
        kind: ReportKind,
        snapshot: &Snapshot,
        framework: &Framework,
        options: &RenderOptions,
        render: &Render,
        text: &str,
        loaded: &LoadedConfig,
    ) -> Result<()> {
        let markdown = if render.format == Format::Markdown {
            text.to_string()
        } else {
            Renderer::new(loaded.config.report.templates_dir.as_deref(), None)?.render_with(
                kind,
                Format::Markdown,
                snapshot,
                framework,
                options,
            )?
        };
        let instance = self.options.base_url.as_str();
        if normalise_url(instance) != normalise_url(&snapshot.gitlab_url) {
            crate::say!(
                "warning: publishing to {instance}, but the snapshot comes from {}: set --gitlab-url or GITLAB_URL to publish there",
                snapshot.gitlab_url
            );
        }
        let publication = Publication::new(kind, snapshot, markdown);
        let PublishTarget::Issue { project } = &self.target;
        let outcome = publish::publish(self.options, self.token, &self.target, &publication)?;
        match &outcome.published {
            Published::Created { iid, web_url } => {
                crate::say!("published: created confidential issue #{iid} in {project}: {web_url}")
            }
            Published::Updated { iid, web_url } => crate::say!(
                "published: updated issue #{iid} in {project} (same report and period): {web_url}"
            ),
            Published::Unchanged { iid, web_url } => {
                crate::say!("published: issue #{iid} in {project} is already up to date: {web_url}")
            }
        }
        if !outcome.also_marked.is_empty() {
            let others: Vec<String> = outcome
                .also_marked
                .iter()
                .map(|iid| format!("#{iid}"))
                .collect();
            crate::say!(
                "warning: {} in {project} also carr{} this report's marker and {} not updated: close {} as a duplicate",
                others.join(", "),
                if others.len() == 1 { "ies" } else { "y" },
                if others.len() == 1 { "was" } else { "were" },
                if others.len() == 1 { "it" } else { "them" },
            );
        }
        Ok(())
    }
}
