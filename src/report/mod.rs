//! Reports: a classified snapshot rendered as GitLab-flavoured Markdown or self-contained HTML
//! through handlebars templates, or as JSON or CSV.
//!
//! Templates are built in (`templates/*.hbs`), replaced by same-named files in the configured
//! `templates_dir`, and for one run by `--template FILE`. `view` and `team_view` group, sort and
//! summarise the snapshot in Rust, so templates only lay out; `helpers` holds the escaping that
//! makes every `{{value}}` from GitLab safe by default — Markdown escaping for `*.md.hbs`, HTML
//! escaping for `*.html.hbs`, in two registries so one never gets the other's. Dates come from
//! the snapshot, never the clock, so the same snapshot always renders the same report.
//!
//! [`RenderOptions`] carry what depends on the audience: team reports leave confidential items
//! out unless asked, and say how many they left out.

mod csv;
mod helpers;
mod team_view;
mod view;

#[cfg(test)]
mod curation_tests;
#[cfg(test)]
mod team_tests;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use handlebars::{Handlebars, RenderError, TemplateError};

use crate::framework::Framework;
use crate::model::Snapshot;

pub use helpers::{
    code_span, csv_field, escape_html, escape_markdown, html_link, is_bidi_control, markdown_link,
    safe_url, strength_colors,
};
pub use team_view::{TeamOverview, TeamView, TEAM_OVERVIEW_FORMAT};
pub use view::BragView;

/// The templates shipped in the binary, by file name. Users copy them to start their own.
const BUILTIN_TEMPLATES: &[(&str, &str)] = &[
    ("brag.md.hbs", include_str!("../../templates/brag.md.hbs")),
    ("team.md.hbs", include_str!("../../templates/team.md.hbs")),
    ("item.md.hbs", include_str!("../../templates/item.md.hbs")),
    (
        "brag.html.hbs",
        include_str!("../../templates/brag.html.hbs"),
    ),
    (
        "team.html.hbs",
        include_str!("../../templates/team.html.hbs"),
    ),
    (
        "item.html.hbs",
        include_str!("../../templates/item.html.hbs"),
    ),
    (
        "style.html.hbs",
        include_str!("../../templates/style.html.hbs"),
    ),
];

/// The registry name of the `--template FILE` template (not a valid file stem, so it cannot
/// collide with a template from `templates_dir`).
const OVERRIDE_NAME: &str = "--template";

/// The built-in templates as `(file name, contents)`, e.g. for writing them out to customise.
pub fn builtin_templates() -> &'static [(&'static str, &'static str)] {
    BUILTIN_TEMPLATES
}

/// What a rendering depends on besides the snapshot: its audience, and what to compare with.
///
/// `Default` is what [`Renderer::render`] does: everything included, no comparison (a brag
/// document for its own subject). [`RenderOptions::for_audience`] gives each kind's default.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Show confidential items (confidential issues and epics, items from private projects).
    /// When false they are left out of every format, and the report says how many were hidden,
    /// per person and in total.
    pub include_confidential: bool,
    /// The previous period's classified snapshot: team reports then show what changed, per
    /// person and per area. Ignored by brag reports.
    pub compare: Option<Snapshot>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            include_confidential: true,
            compare: None,
        }
    }
}

impl RenderOptions {
    /// The default for a report kind: a brag document is for its subject and shows everything;
    /// a team report goes to a wider audience and leaves confidential items out.
    pub fn for_audience(kind: ReportKind) -> Self {
        RenderOptions {
            include_confidential: kind == ReportKind::Brag,
            compare: None,
        }
    }
}

/// Which report to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// One person's evidence, by competency (a brag document).
    Brag,
    /// Several people side by side.
    Team,
}

impl ReportKind {
    /// The name used on the command line (`--kind brag`) and for templates (`brag.md.hbs`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Brag => "brag",
            ReportKind::Team => "team",
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportKind {
    type Err = ReportError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "brag" => Ok(ReportKind::Brag),
            "team" => Ok(ReportKind::Team),
            _ => Err(ReportError::UnknownKind {
                value: value.to_string(),
            }),
        }
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
    Html,
    Csv,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Markdown, Format::Json, Format::Html, Format::Csv];

    /// File extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Json => "json",
            Format::Html => "html",
            Format::Csv => "csv",
        }
    }

    /// The name used on the command line (`--format md`); the same as the extension.
    pub fn as_str(self) -> &'static str {
        self.extension()
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = ReportError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            "html" => Ok(Format::Html),
            "csv" => Ok(Format::Csv),
            _ => Err(ReportError::UnknownFormat {
                value: value.to_string(),
            }),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read template {path}: {source}\n  hint: check the --template path or the `templates_dir` setting")]
    ReadTemplate {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read the templates directory {path}: {source}\n  hint: create it, or fix or remove `templates_dir` in the config file")]
    ReadTemplatesDir {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: template files must be named NAME.md.hbs or NAME.html.hbs (brag, team and item for either, style.html.hbs, or a partial of your own)\n  hint: rename the file, or move it out of the templates directory")]
    TemplateName { path: String },
    #[error("{path}{}: invalid template: {reason}\n  hint: fix the handlebars syntax there, or remove the file to use the built-in template", location(.line, .column))]
    Template {
        path: String,
        line: Option<usize>,
        column: Option<usize>,
        reason: String,
    },
    #[error("{path}{}: cannot render: {reason}\n  hint: compare the variable and helper names with the built-in template (see `templates/` in the gl-evidence sources)", location(.line, .column))]
    Render {
        path: String,
        line: Option<usize>,
        column: Option<usize>,
        reason: String,
    },
    #[error("--template cannot be used with --format json: the JSON output is data, not a template\n  hint: drop --template, or use --format md or html")]
    TemplateWithJson,
    #[error("--template cannot be used with --format csv: the CSV columns are fixed\n  hint: drop --template, or use --format md or html")]
    TemplateWithCsv,
    #[error("unknown report format {value:?}: use md, json, html or csv")]
    UnknownFormat { value: String },
    #[error("unknown report kind {value:?}: use brag or team")]
    UnknownKind { value: String },
}

/// `:line:column`, as far as known.
fn location(line: &Option<usize>, column: &Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(":{line}:{column}"),
        (Some(line), None) => format!(":{line}"),
        _ => String::new(),
    }
}

/// Renders snapshots with the built-in templates and the user's overrides.
#[derive(Debug)]
pub struct Renderer {
    /// Markdown templates: `{{value}}` is Markdown-escaped, not HTML-escaped.
    markdown: Handlebars<'static>,
    /// HTML templates: `{{value}}` is HTML-escaped, never Markdown-escaped.
    html: Handlebars<'static>,
    /// Registry name → where the template came from (a path, or `built-in templates/…`).
    origins: HashMap<String, String>,
    /// Whether `--template FILE` replaces the kind's template for this run.
    has_override: bool,
}

impl Renderer {
    /// Built-in templates (from `templates/`), overridden by same-named files in `templates_dir`
    /// (config `templates_dir`), and for this run by `template_file` (`--template FILE`) for the
    /// chosen kind and format.
    pub fn new(
        templates_dir: Option<&Path>,
        template_file: Option<&Path>,
    ) -> Result<Renderer, ReportError> {
        let mut markdown = Handlebars::new();
        // A misspelt variable in a user template should fail loudly, not leave a hole.
        markdown.set_strict_mode(true);
        markdown.register_escape_fn(helpers::escape_markdown);
        helpers::register(&mut markdown);
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        html.register_escape_fn(helpers::escape_html);
        helpers::register_html(&mut html);
        let mut renderer = Renderer {
            markdown,
            html,
            origins: HashMap::new(),
            has_override: false,
        };

        for (file, source) in BUILTIN_TEMPLATES {
            let name = file.trim_end_matches(".hbs");
            renderer.add(name, source, format!("built-in templates/{file}"))?;
        }
        if let Some(dir) = templates_dir {
            for (name, path) in template_files(dir)? {
                let source = read_template(&path)?;
                renderer.add(&name, &source, path.display().to_string())?;
            }
        }
        if let Some(path) = template_file {
            // The format is chosen per render, so the file is ready in both registries.
            let source = read_template(path)?;
            let origin = path.display().to_string();
            for registry in [&mut renderer.markdown, &mut renderer.html] {
                registry
                    .register_template_string(OVERRIDE_NAME, &source)
                    .map_err(|e| template_error(&origin, &e))?;
            }
            renderer.origins.insert(OVERRIDE_NAME.to_string(), origin);
            renderer.has_override = true;
        }
        Ok(renderer)
    }

    /// Renders `snapshot` (normally classified) as a `kind` report in `format`, with everything
    /// included: [`RenderOptions::default`].
    pub fn render(
        &self,
        kind: ReportKind,
        format: Format,
        snapshot: &Snapshot,
        framework: &Framework,
    ) -> Result<String, ReportError> {
        self.render_with(kind, format, snapshot, framework, &RenderOptions::default())
    }

    /// Renders `snapshot` as a `kind` report in `format` for an audience: see [`RenderOptions`].
    ///
    /// | kind | md, html | json | csv |
    /// |---|---|---|---|
    /// | brag | `brag.*.hbs` over [`BragView`] | the snapshot (less hidden items) | one row per item |
    /// | team | `team.*.hbs` over [`TeamView`] | [`TeamOverview`] | one row per person × competency |
    pub fn render_with(
        &self,
        kind: ReportKind,
        format: Format,
        snapshot: &Snapshot,
        framework: &Framework,
        options: &RenderOptions,
    ) -> Result<String, ReportError> {
        match format {
            Format::Json if self.has_override => return Err(ReportError::TemplateWithJson),
            Format::Csv if self.has_override => return Err(ReportError::TemplateWithCsv),
            _ => {}
        }
        let scope = view::Scope::new(snapshot, options.include_confidential);
        match kind {
            ReportKind::Brag => match format {
                Format::Json => Ok(brag_json(snapshot, &scope)),
                Format::Csv => Ok(csv::brag(&scope)),
                Format::Markdown | Format::Html => {
                    self.template(kind, format, &view::brag(&scope, framework))
                }
            },
            ReportKind::Team => {
                let previous = options
                    .compare
                    .as_ref()
                    .map(|p| view::Scope::new(p, options.include_confidential));
                let team = team_view::team(&scope, framework, previous.as_ref());
                match format {
                    Format::Json => {
                        let mut text = crate::model::json_text::to_string_pretty(&team.overview())
                            .expect("the team overview serialises");
                        text.push('\n');
                        Ok(text)
                    }
                    Format::Csv => Ok(csv::team(&team)),
                    Format::Markdown | Format::Html => self.template(kind, format, &team),
                }
            }
        }
    }

    /// Lays out a view model with the kind's template for `format` (Markdown or HTML).
    fn template(
        &self,
        kind: ReportKind,
        format: Format,
        view: &impl serde::Serialize,
    ) -> Result<String, ReportError> {
        let data = serde_json::to_value(view).expect("view models serialise");
        let registry = match format {
            Format::Html => &self.html,
            _ => &self.markdown,
        };
        let name = if self.has_override {
            OVERRIDE_NAME.to_string()
        } else {
            format!("{kind}.{}", format.extension())
        };
        let text = registry
            .render(&name, &data)
            .map_err(|e| self.render_error(&name, e))?;
        Ok(match format {
            Format::Html => tidy_html(&text),
            _ => tidy_markdown(&text),
        })
    }

    fn add(&mut self, name: &str, source: &str, origin: String) -> Result<(), ReportError> {
        let registry = if name.ends_with(".html") {
            &mut self.html
        } else {
            &mut self.markdown
        };
        registry
            .register_template_string(name, source)
            .map_err(|e| template_error(&origin, &e))?;
        self.origins.insert(name.to_string(), origin);
        Ok(())
    }

    fn render_error(&self, name: &str, e: RenderError) -> ReportError {
        // The failing template may be a partial, not the one asked for.
        let failed = e.template_name.as_deref().unwrap_or(name);
        ReportError::Render {
            path: self
                .origins
                .get(failed)
                .cloned()
                .unwrap_or_else(|| failed.to_string()),
            line: e.line_no,
            column: e.column_no,
            reason: e.reason().to_string(),
        }
    }
}

fn template_error(origin: &str, e: &TemplateError) -> ReportError {
    let (line, column) = match e.pos() {
        Some((line, column)) => (Some(line), Some(column)),
        None => (None, None),
    };
    ReportError::Template {
        path: origin.to_string(),
        line,
        column,
        reason: e.reason().to_string(),
    }
}

fn read_template(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|source| ReportError::ReadTemplate {
        path: path.display().to_string(),
        source,
    })
}

/// The `*.hbs` files of a templates directory as `(registry name, path)`, sorted so that loading
/// (and the first error reported) is the same on every machine. Other files are ignored.
fn template_files(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, ReportError> {
    let dir_error = |source| ReportError::ReadTemplatesDir {
        path: dir.display().to_string(),
        source,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(dir_error)? {
        let path = entry.map_err(dir_error)?.path();
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(name) = file.strip_suffix(".hbs") else {
            continue;
        };
        if !path.is_file() {
            continue;
        }
        let kind = name.trim_end_matches(".md").trim_end_matches(".html");
        if !(name.ends_with(".md") || name.ends_with(".html")) || kind.is_empty() {
            return Err(ReportError::TemplateName {
                path: path.display().to_string(),
            });
        }
        found.push((name.to_string(), path.clone()));
    }
    found.sort();
    Ok(found)
}

/// The brag JSON: the classified snapshot, less the items the audience may not see and those
/// hidden in the curation file; the numbers left out are recorded as `hidden_confidential` and
/// `hidden_curated` so a reader knows the list is not complete.
fn brag_json(snapshot: &Snapshot, scope: &view::Scope<'_>) -> String {
    let hidden = scope.hidden_total();
    let curated = scope.hidden_curated_total();
    if hidden == 0 && curated == 0 {
        return snapshot.to_json();
    }
    let mut shown = snapshot.clone();
    shown.items = scope.items().cloned().collect();
    for (key, count) in [("hidden_confidential", hidden), ("hidden_curated", curated)] {
        if count > 0 {
            shown
                .extra
                .insert(key.into(), serde_json::Value::from(count));
        }
    }
    shown.to_json()
}

/// Drops the whitespace-only lines that template control lines leave behind (HTML does not
/// need them, and the file diffs cleanly) and ends the text with one newline.
fn tidy_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Collapses the blank lines that template control lines leave behind and ends the text with
/// exactly one newline; Markdown renders the same, and the file diffs cleanly.
fn tidy_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.trim_start_matches('\n').lines() {
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
            out.push('\n');
        } else {
            blank_run = 0;
            out.push_str(line);
            out.push('\n');
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
