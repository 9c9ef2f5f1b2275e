//! The subcommands: each loads config, runs the pipeline steps it needs and delivers the output.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;

use crate::cache::CacheMode;
use crate::classify::{self, RuleSet};
use crate::config::{parse_gitlab_url, Config, Env, LoadedConfig};
use crate::curation::{self, Audience, CurationFile, Lookup};
use crate::deliver::{write_file, write_output};
use crate::email::{self, FileReport, Mailer, SnapshotReport};
use crate::error::{Error, Result};
use crate::framework::{self, Framework};
use crate::gitlab::{Client, ClientOptions, RetryPolicy};
use crate::harvest::{self, HarvestRequest};
use crate::model::{Period, Snapshot};
use crate::progress::Progress;
use crate::report::{Format, RenderOptions, Renderer, ReportKind};
use crate::shard::Shard;

mod caching;
mod merging;
mod publishing;

use crate::deliver::publish::PublishTarget;
use publishing::Publisher;

/// The bundled sample quarter for `gl-evidence demo`.
const DEMO_SNAPSHOT: &str = include_str!("../data/demo/snapshot.json");

/// Whose work to harvest: named users, and the members of a group.
#[derive(Debug, Clone, Default)]
pub struct People {
    pub users: Vec<String>,
    pub group: Option<String>,
    /// Only this slice of the people (`harvest --shard N/M`).
    pub shard: Option<Shard>,
}

/// Options that apply to every subcommand.
#[derive(Debug, Clone, Default)]
pub struct Global {
    pub config: Option<PathBuf>,
    pub gitlab_url: Option<String>,
    pub progress: bool,
    pub concurrency: Option<usize>,
    /// `--ca-cert`: a private certificate authority to trust for GitLab.
    pub ca_cert: Option<PathBuf>,
    /// What harvests do with the incremental cache.
    pub cache: CacheMode,
}

#[derive(Debug, Clone)]
pub enum PeriodSpec {
    Dates { from: String, to: String },
    Quarter(String),
    Missing,
}

/// Framework and rules overrides from flags (else config, else built in).
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub framework: Option<PathBuf>,
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Render {
    pub format: Format,
    pub template: Option<PathBuf>,
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub enum Action {
    Harvest {
        people: People,
        period: PeriodSpec,
        out: Option<PathBuf>,
    },
    Team {
        people: People,
        period: PeriodSpec,
        render: Render,
        mapping: Mapping,
        curation: Option<PathBuf>,
        snapshot_out: Option<PathBuf>,
        compare: Option<PathBuf>,
        include_confidential: bool,
        email: Vec<String>,
        publish: Option<PublishTarget>,
    },
    Classify {
        snapshot: PathBuf,
        mapping: Mapping,
        curation: Option<PathBuf>,
        out: Option<PathBuf>,
    },
    Report {
        snapshot: PathBuf,
        kind: ReportKind,
        render: Render,
        mapping: Mapping,
        curation: Option<PathBuf>,
        compare: Option<PathBuf>,
        include_confidential: bool,
        publish: Option<PublishTarget>,
    },
    Brag {
        user: String,
        period: PeriodSpec,
        render: Render,
        mapping: Mapping,
        curation: Option<PathBuf>,
        snapshot_out: Option<PathBuf>,
        email: Vec<String>,
        publish: Option<PublishTarget>,
    },
    /// Email a report file.
    Send {
        report: PathBuf,
        to: Vec<String>,
        subject: Option<String>,
        attach: Vec<PathBuf>,
    },
    Merge {
        snapshots: Vec<PathBuf>,
        out: Option<PathBuf>,
    },
    /// Edit a curation file from flags (or list it).
    Curate {
        snapshot: PathBuf,
        curation: Option<PathBuf>,
        framework: Option<PathBuf>,
        edits: curation::Edits,
    },
    /// Walk through a snapshot's items in the terminal, editing the curation file.
    Review {
        snapshot: PathBuf,
        curation: Option<PathBuf>,
        mapping: Mapping,
    },
    Explain {
        snapshot: PathBuf,
        item: String,
        all: bool,
        mapping: Mapping,
    },
    Evaluate {
        labelled: PathBuf,
        misses: bool,
        mapping: Mapping,
    },
    Demo {
        out_dir: PathBuf,
    },
    Framework {
        json: bool,
        framework: Option<PathBuf>,
    },
    Rules,
    Init {
        path: Option<PathBuf>,
        force: bool,
    },
}

/// How a successful run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Complete,
    /// Some source failed; what was collected was still written. Exit code 3.
    Partial,
}

/// Runs one subcommand.
pub fn run(global: Global, action: Action, env: &Env) -> Result<Outcome> {
    match action {
        Action::Init { path, force } => init(path, force),
        Action::Rules => {
            write_output(None, classify::BUILTIN_SOURCE)?;
            Ok(Outcome::Complete)
        }
        Action::Framework { json, framework } => {
            let loaded = Config::load(global.config.as_deref(), env)?;
            let framework = load_framework(framework.as_deref(), &loaded.config)?;
            let text = if json {
                let mut text =
                    serde_json::to_string_pretty(&framework).expect("framework serialises");
                text.push('\n');
                text
            } else {
                framework::render_markdown(&framework)
            };
            write_output(None, &text)?;
            Ok(Outcome::Complete)
        }
        Action::Demo { out_dir } => demo(&out_dir),
        Action::Send {
            report,
            to,
            subject,
            attach,
        } => {
            let loaded = Config::load(global.config.as_deref(), env)?;
            let subject = subject.as_deref().unwrap_or(email::compose::FILE_SUBJECT);
            let mailer = Mailer::prepare(&loaded.config.email, &env.email, &to, Some(subject))?;
            let sent = mailer.send_file(&FileReport {
                path: report,
                attach,
            })?;
            crate::say!("{sent}");
            Ok(Outcome::Complete)
        }
        Action::Merge { snapshots, out } => merging::run(&snapshots, out.as_deref()),
        Action::Curate {
            snapshot: path,
            curation,
            framework,
            edits,
        } => {
            let loaded = Config::load(global.config.as_deref(), env)?;
            let snapshot = Snapshot::read(&path)?;
            let framework = load_framework(framework.as_deref(), &loaded.config)?;
            let mut file = open_curation(curation, &loaded.config, &path)?;
            if edits.is_empty() {
                write_output(None, &curation::listing(&file, &snapshot))?;
            } else {
                let request = curation::CurateRequest {
                    snapshot: &snapshot,
                    framework: &framework,
                    edits: &edits,
                };
                for line in curation::curate(&mut file, &request)? {
                    crate::say!("{line}");
                }
            }
            Ok(Outcome::Complete)
        }
        Action::Review {
            snapshot: path,
            curation,
            mapping,
        } => {
            let loaded = Config::load(global.config.as_deref(), env)?;
            let mut snapshot = Snapshot::read(&path)?;
            let (framework, rules) = load_mapping(&mapping, &loaded.config)?;
            if snapshot.classification.is_none() {
                classify::classify(&mut snapshot, &framework, &rules)?;
            }
            let mut file = open_curation(curation, &loaded.config, &path)?;
            let request = curation::ReviewRequest {
                snapshot: &mut snapshot,
                framework: &framework,
            };
            curation::review(&mut file, request)?;
            Ok(Outcome::Complete)
        }
        Action::Evaluate {
            labelled,
            misses,
            mapping,
        } => {
            let loaded = Config::load(global.config.as_deref(), env)?;
            let mut snapshot = Snapshot::read(&labelled)?;
            let (framework, rules) = load_mapping(&mapping, &loaded.config)?;
            classify::classify(&mut snapshot, &framework, &rules)?;
            let evaluation = classify::evaluate::evaluate(&snapshot, &framework)?;
            write_output(
                None,
                &classify::evaluate::render(&evaluation, &framework, misses),
            )?;
            Ok(Outcome::Complete)
        }
        Action::Explain {
            snapshot,
            item,
            all,
            mapping,
        } => {
            let loaded = Config::load(global.config.as_deref(), env)?;
            let snapshot = Snapshot::read(&snapshot)?;
            let (framework, rules) = load_mapping(&mapping, &loaded.config)?;
            write_output(None, &explain(&snapshot, &item, all, &framework, &rules)?)?;
            Ok(Outcome::Complete)
        }
        Action::Classify {
            snapshot: path,
            mapping,
            curation,
            out,
        } => {
            let loaded = Config::load(global.config.as_deref(), env)?;
            let mut snapshot = Snapshot::read(&path)?;
            let (framework, rules) = load_mapping(&mapping, &loaded.config)?;
            classify::classify(&mut snapshot, &framework, &rules)?;
            let lookup = curation_lookup(curation, &loaded.config, Some(&path));
            curation::apply_for_report(&lookup, Audience::Owner, &framework, &mut snapshot, None)?;
            write_output(out.as_deref(), &snapshot.to_json())?;
            Ok(Outcome::Complete)
        }
        Action::Report {
            snapshot: path,
            kind,
            render,
            mapping,
            curation,
            compare,
            include_confidential,
            publish,
        } => {
            let loaded = Config::load(global.config.as_deref(), env)?;
            let publisher = Publisher::prepare(publish, &global, &loaded, env)?;
            let mut snapshot = Snapshot::read(&path)?;
            let (framework, rules) = load_mapping(&mapping, &loaded.config)?;
            if snapshot.classification.is_none() {
                tracing::info!(
                    "the snapshot is not classified yet: classifying it with {}",
                    rules.name
                );
                classify::classify(&mut snapshot, &framework, &rules)?;
            }
            let mut compare = read_previous(compare.as_deref(), &framework, &rules)?;
            let audience = match kind {
                ReportKind::Brag => Audience::Owner,
                ReportKind::Team => Audience::Team,
            };
            let lookup = curation_lookup(curation, &loaded.config, Some(&path));
            curation::apply_for_report(
                &lookup,
                audience,
                &framework,
                &mut snapshot,
                compare.as_mut(),
            )?;
            let options = RenderOptions {
                // A brag document is its owner's own: their confidential work belongs in it.
                include_confidential: include_confidential || kind == ReportKind::Brag,
                compare,
            };
            let text = renderer(&render, &loaded.config)?.render_with(
                kind,
                render.format,
                &snapshot,
                &framework,
                &options,
            )?;
            write_output(render.out.as_deref(), &text)?;
            if let Some(publisher) = publisher {
                publisher.publish(
                    kind, &snapshot, &framework, &options, &render, &text, &loaded,
                )?;
            }
            Ok(outcome_of(&snapshot))
        }
        Action::Harvest {
            people,
            period,
            out,
        } => {
            let loaded = Config::load(global.config.as_deref(), env)?;
            let period = resolve_period(&period, &loaded.config)?;
            let (snapshot, _cache) = harvest_snapshot(&global, &loaded, env, &people, period)?;
            write_output(out.as_deref(), &snapshot.to_json())?;
            Ok(outcome_of(&snapshot))
        }
        Action::Team {
            people,
            period,
            render,
            mapping,
            curation,
            snapshot_out,
            compare,
            include_confidential,
            email,
            publish,
        } => {
            let loaded = Config::load(global.config.as_deref(), env)?;
            let publisher = Publisher::prepare(publish, &global, &loaded, env)?;
            let period = resolve_period(&period, &loaded.config)?;
            let (framework, rules) = load_mapping(&mapping, &loaded.config)?;
            let renderer = renderer(&render, &loaded.config)?;
            let mailer = prepare_mailer(&email, &loaded.config, env)?;
            // A previous period is read and classified before the harvest: a bad file costs nothing.
            let mut previous = read_previous(compare.as_deref(), &framework, &rules)?;
            // Read before the harvest too: a bad curation file costs nothing.
            let lookup = curation_lookup(curation, &loaded.config, snapshot_out.as_deref());
            let file = lookup.load_checked(Audience::Team, &framework)?;
            let (mut snapshot, _cache) = harvest_snapshot(&global, &loaded, env, &people, period)?;
            classify::classify(&mut snapshot, &framework, &rules)?;
            curation::apply_loaded(
                file.as_ref(),
                &lookup,
                Audience::Team,
                &mut snapshot,
                previous.as_mut(),
            );
            if let Some(path) = &snapshot_out {
                write_file(path, &snapshot.to_json())?;
            }
            let options = RenderOptions {
                include_confidential,
                compare: previous,
            };
            let text = renderer.render_with(
                ReportKind::Team,
                render.format,
                &snapshot,
                &framework,
                &options,
            )?;
            write_output(render.out.as_deref(), &text)?;
            let outcome = outcome_of(&snapshot);
            let rendered = Rendered {
                kind: ReportKind::Team,
                snapshot: &snapshot,
                framework: &framework,
                options: &options,
                render: &render,
                text: &text,
                group: people.group.as_deref(),
            };
            deliver_rendered(&rendered, publisher, mailer.as_ref(), &loaded)?;
            Ok(outcome)
        }
        Action::Brag {
            user,
            period,
            render,
            mapping,
            curation,
            snapshot_out,
            email,
            publish,
        } => {
            let loaded = Config::load(global.config.as_deref(), env)?;
            let publisher = Publisher::prepare(publish, &global, &loaded, env)?;
            let period = resolve_period(&period, &loaded.config)?;
            // Check everything offline first, so a typo never costs a harvest.
            let (framework, rules) = load_mapping(&mapping, &loaded.config)?;
            let renderer = renderer(&render, &loaded.config)?;
            let mailer = prepare_mailer(&email, &loaded.config, env)?;
            let people = People {
                users: vec![user],
                ..People::default()
            };
            let lookup = curation_lookup(curation, &loaded.config, snapshot_out.as_deref());
            let file = lookup.load_checked(Audience::Owner, &framework)?;
            let (mut snapshot, _cache) = harvest_snapshot(&global, &loaded, env, &people, period)?;
            classify::classify(&mut snapshot, &framework, &rules)?;
            curation::apply_loaded(file.as_ref(), &lookup, Audience::Owner, &mut snapshot, None);
            if let Some(path) = &snapshot_out {
                write_file(path, &snapshot.to_json())?;
            }
            let text = renderer.render(ReportKind::Brag, render.format, &snapshot, &framework)?;
            write_output(render.out.as_deref(), &text)?;
            let outcome = outcome_of(&snapshot);
            let rendered = Rendered {
                kind: ReportKind::Brag,
                snapshot: &snapshot,
                framework: &framework,
                options: &RenderOptions::default(),
                render: &render,
                text: &text,
                group: None,
            };
            deliver_rendered(&rendered, publisher, mailer.as_ref(), &loaded)?;
            Ok(outcome)
        }
    }
}

/// A report just rendered, and what it was rendered from.
struct Rendered<'a> {
    kind: ReportKind,
    snapshot: &'a Snapshot,
    framework: &'a Framework,
    options: &'a RenderOptions,
    render: &'a Render,
    text: &'a str,
    /// The `--group` of a team report.
    group: Option<&'a str>,
}

/// Publishes the report to GitLab and emails it, as asked (after it was written).
fn deliver_rendered(
    report: &Rendered,
    publisher: Option<Publisher>,
    mailer: Option<&Mailer>,
    loaded: &crate::config::LoadedConfig,
) -> Result<()> {
    if let Some(publisher) = publisher {
        publisher.publish(
            report.kind,
            report.snapshot,
            report.framework,
            report.options,
            report.render,
            report.text,
            loaded,
        )?;
    }
    if let Some(mailer) = mailer {
        let builtin = Renderer::new(loaded.config.report.templates_dir.as_deref(), None)?;
        let sent = mailer.send_report(&SnapshotReport {
            kind: report.kind,
            snapshot: report.snapshot,
            framework: report.framework,
            options: report.options,
            renderer: &builtin,
            rendered: (report.render.format, report.text),
            group: report.group,
        })?;
        crate::say!("{sent}");
    }
    Ok(())
}

/// The mailer for `--email`, checked before any harvest; none without addresses.
fn prepare_mailer(to: &[String], config: &Config, env: &Env) -> Result<Option<Mailer>> {
    if to.is_empty() {
        return Ok(None);
    }
    Ok(Some(Mailer::prepare(&config.email, &env.email, to, None)?))
}

/// Says on stderr what did not go to plan, one line per source, and whether the run is partial.
/// The previous period's snapshot for `--compare`, classified with the same framework and rules
/// so the two periods are measured alike.
fn read_previous(
    path: Option<&Path>,
    framework: &Framework,
    rules: &RuleSet,
) -> Result<Option<Snapshot>> {
    let Some(path) = path else { return Ok(None) };
    let mut previous = Snapshot::read(path)?;
    classify::classify(&mut previous, framework, rules)?;
    Ok(Some(previous))
}

/// Where a command finds its curation file: `--curation`, the config, or beside the snapshot.
fn curation_lookup(flag: Option<PathBuf>, config: &Config, snapshot: Option<&Path>) -> Lookup {
    Lookup {
        flag,
        config: config.curation.file.clone(),
        snapshot: snapshot.map(Path::to_path_buf),
    }
}

/// The curation file `curate` and `review` edit, created on the first change.
fn open_curation(flag: Option<PathBuf>, config: &Config, snapshot: &Path) -> Result<CurationFile> {
    let lookup = curation_lookup(flag, config, Some(snapshot));
    let (path, _) = lookup
        .locate()
        .expect("a snapshot always gives a default curation file");
    Ok(CurationFile::open(&path)?)
}

fn outcome_of(snapshot: &Snapshot) -> Outcome {
    use crate::model::SourceStatus;
    for source in &snapshot.sources {
        // GitLab's own words may be in it: nothing that acts on a terminal.
        let detail = crate::logging::terminal_safe(source.detail.as_deref().unwrap_or("no detail"));
        match source.status {
            SourceStatus::Partial | SourceStatus::Failed => crate::say!(
                "warning: source `{}` for {} is {}: {detail}",
                source.name,
                source.subject,
                source.status
            ),
            SourceStatus::Skipped => crate::say!(
                "note: source `{}` for {} was skipped: {detail}",
                source.name,
                source.subject
            ),
            SourceStatus::Ok if source.detail.is_some() => {
                crate::say!(
                    "note: source `{}` for {}: {detail}",
                    source.name,
                    source.subject
                )
            }
            SourceStatus::Ok => {}
        }
    }
    if snapshot.is_partial() {
        Outcome::Partial
    } else {
        Outcome::Complete
    }
}

/// The rules that fired for one item and why; those that nearly did (one condition short);
/// with `all`, every rule.
fn explain(
    snapshot: &Snapshot,
    wanted: &str,
    all: bool,
    framework: &Framework,
    rules: &RuleSet,
) -> Result<String> {
    let wanted = wanted.trim().trim_end_matches('/');
    let items: Vec<&crate::model::Item> = snapshot
        .items
        .iter()
        .filter(|i| i.web_url.trim_end_matches('/') == wanted || i.id == wanted)
        .collect();
    if items.is_empty() {
        return Err(Error::Usage(format!(
            "no item with URL or id {wanted:?} in the snapshot\n  hint: copy the URL from the report, or list them with `jq '.items[].web_url' SNAPSHOT`"
        )));
    }
    let mut out = String::new();
    for item in items {
        out.push_str(&format!(
            "{} ({} · {} · {})\n{}\n",
            item.title, item.kind, item.role, item.subject, item.web_url
        ));
        let outcomes = classify::explain(item, rules);
        // Near misses: one condition short, and at least one signal (not just the item's kind
        // or role) already matched.
        let nearly = |o: &&classify::RuleOutcome| {
            !o.fired
                && o.failed.len() == 1
                && o.passed
                    .iter()
                    .any(|p| !p.starts_with("kind is ") && !p.starts_with("role is "))
        };
        let fired: Vec<_> = outcomes.iter().filter(|o| o.fired).collect();
        if fired.is_empty() {
            out.push_str("\nNo rule fired: this item evidences no competency.\n");
        } else {
            out.push_str("\nFired:\n");
            for outcome in &fired {
                out.push_str(&format!("  {outcome}\n"));
                for id in &outcome.competencies {
                    if let Some(c) = framework.competency(id) {
                        out.push_str(&format!("      {id}: {}\n", c.title));
                    }
                }
            }
        }
        let rest: Vec<_> = if all {
            outcomes.iter().filter(|o| !o.fired).collect()
        } else {
            outcomes.iter().filter(nearly).collect()
        };
        if !rest.is_empty() {
            out.push_str(if all {
                "\nDid not fire:\n"
            } else {
                "\nNearly fired (one condition short):\n"
            });
            for outcome in rest {
                out.push_str(&format!("  {outcome}\n"));
            }
        }
        out.push('\n');
    }
    Ok(out)
}

fn init(path: Option<PathBuf>, force: bool) -> Result<Outcome> {
    let path = match path.or_else(crate::config::default_path) {
        Some(path) => path,
        None => {
            return Err(Error::Usage(
                "cannot tell where your config folder is: pass --path FILE".into(),
            ))
        }
    };
    crate::config::write_example(&path, force)?;
    crate::say!("wrote {}", path.display());
    Ok(Outcome::Complete)
}

fn demo(out_dir: &Path) -> Result<Outcome> {
    let mut snapshot = Snapshot::from_json(DEMO_SNAPSHOT, "the bundled demo snapshot")?;
    let framework = Framework::builtin();
    let rules = RuleSet::builtin();
    classify::classify(&mut snapshot, &framework, &rules)?;
    let renderer = Renderer::new(None, None)?;
    let brag = renderer.render(ReportKind::Brag, Format::Markdown, &snapshot, &framework)?;
    let snapshot_path = out_dir.join("snapshot.json");
    let brag_path = out_dir.join("brag.md");
    write_file(&snapshot_path, &snapshot.to_json())?;
    write_file(&brag_path, &brag)?;
    let matched = snapshot
        .items
        .iter()
        .filter(|i| !i.competencies.is_empty())
        .count();
    let competencies: std::collections::BTreeSet<&str> = snapshot
        .items
        .iter()
        .flat_map(|i| i.competencies.iter().map(|c| c.id.as_str()))
        .collect();
    crate::say!(
        "Demo: {} items of a sample quarter, {} mapped to {} of {} competencies.\n  brag document:       {}\n  classified snapshot: {}\nCurate the draft with `gl-evidence review {}` (or `curate`), then `gl-evidence report {}`.",
        snapshot.items.len(),
        matched,
        competencies.len(),
        framework.competencies.len(),
        brag_path.display(),
        snapshot_path.display(),
        snapshot_path.display(),
        snapshot_path.display()
    );
    Ok(Outcome::Complete)
}

fn resolve_period(spec: &PeriodSpec, config: &Config) -> Result<Period> {
    Ok(match spec {
        PeriodSpec::Dates { from, to } => Period::from_dates(from, to)?,
        PeriodSpec::Quarter(q) => Period::parse_quarter(q, config.periods.fiscal_year_start_month)?,
        PeriodSpec::Missing => {
            return Err(Error::Usage(
                "a period is required: --quarter 2026Q3, or --from YYYY-MM-DD --to YYYY-MM-DD"
                    .into(),
            ))
        }
    })
}

fn load_framework(flag: Option<&Path>, config: &Config) -> Result<Framework> {
    Ok(match flag.or(config.classify.framework.as_deref()) {
        Some(path) => Framework::load(path)?,
        None => Framework::builtin(),
    })
}

fn load_mapping(mapping: &Mapping, config: &Config) -> Result<(Framework, RuleSet)> {
    let framework = load_framework(mapping.framework.as_deref(), config)?;
    let rules = match mapping
        .rules
        .as_deref()
        .or(config.classify.rules.as_deref())
    {
        Some(path) => RuleSet::load(path)?,
        None => RuleSet::builtin(),
    };
    rules.validate(&framework)?;
    Ok((framework, rules))
}

fn renderer(render: &Render, config: &Config) -> Result<Renderer> {
    Ok(Renderer::new(
        config.report.templates_dir.as_deref(),
        render.template.as_deref(),
    )?)
}

/// The client's settings from flags, environment and config.
fn client_options(global: &Global, config: &Config) -> Result<ClientOptions> {
    let url_text = global.gitlab_url.as_deref().unwrap_or(&config.gitlab_url);
    let base_url = parse_gitlab_url(url_text)
        .map_err(|m| Error::Usage(format!("invalid --gitlab-url: {m}")))?;
    let ca_certificates = match (&global.ca_cert, &config.network.ca_cert) {
        (Some(path), _) => crate::ca_cert::load(path, "--ca-cert")?,
        (None, Some(path)) => crate::ca_cert::load(path, "network.ca_cert in the config")?,
        (None, None) => Vec::new(),
    };
    Ok(ClientOptions {
        base_url,
        concurrency: global.concurrency.unwrap_or(config.harvest.concurrency),
        timeout: Duration::from_secs(config.network.timeout_secs),
        retry: RetryPolicy {
            max_retries: config.network.max_retries,
            base: Duration::from_millis(config.network.retry_base_ms),
            max_wait: Duration::from_secs(config.network.max_retry_wait_secs),
        },
        ca_certificates,
    })
}

/// Builds the client from flags, environment and config, and harvests on a fresh runtime.
fn harvest_snapshot(
    global: &Global,
    loaded: &LoadedConfig,
    env: &Env,
    people: &People,
    period: Period,
) -> Result<(Snapshot, caching::Closing)> {
    let config = &loaded.config;
    let options = client_options(global, config)?;
    let token = config.resolve_token(env)?;
    let cache = caching::open(global.cache, config, &options.base_url, &token);
    let closing = cache.clone();
    let mut request = HarvestRequest {
        usernames: people.users.clone(),
        period,
        page_size: config.harvest.page_size,
        generated_at: Utc::now(),
        known: Vec::new(),
        epic_groups: config.harvest.epic_groups.clone(),
        oncall_projects: config.harvest.oncall_projects.clone(),
        incident_projects: config.harvest.incident_projects.clone(),
        interview: config.interview.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| Error::Write {
            path: "the async runtime".into(),
            source,
        })?;
    let progress = Progress::new(global.progress);
    let watch = crate::interrupt::HarvestWatch::start();
    let harvest = async {
        let client = Client::new(options, token).map_err(harvest::HarvestError::from)?;
        if let Some(group) = &people.group {
            let members =
                harvest::team::group_members(&client, group, &config.team.exclude).await?;
            if members.is_empty() && request.usernames.is_empty() {
                return Err(Error::Usage(format!(
                    "group `{group}` has nobody to report on once bots, blocked and pending members and team.exclude are left out"
                )));
            }
            tracing::info!("group {group}: {} people", members.len());
            request
                .usernames
                .extend(members.iter().map(|m| m.username.clone()));
            request.known = members;
        }
        let shard_record = people.shard.map(|shard| {
            let (mine, record) = shard.select(&request.usernames);
            tracing::info!(
                "shard {shard}: {} of {} people",
                mine.len(),
                record.members.len()
            );
            if mine.is_empty() {
                crate::say!(
                    "note: shard {shard} has nobody to harvest ({} people for {} shards): writing an empty snapshot",
                    record.members.len(),
                    shard.total
                );
            }
            request.usernames = mine;
            record
        });
        let mut snapshot = harvest::harvest_with_cache(&client, &request, &progress, cache).await?;
        if let Some(record) = shard_record {
            let value = serde_json::to_value(record).expect("shard record serialises");
            snapshot
                .extra
                .insert(crate::shard::SHARD_KEY.to_string(), value);
        }
        // The snapshot is exactly this group's team: reports and publishing name it so.
        if let (Some(group), true) = (&people.group, people.users.is_empty()) {
            snapshot.extra.insert(
                crate::merge::GROUP_KEY.to_string(),
                serde_json::Value::String(group.clone()),
            );
        }
        Ok(snapshot)
    };
    let snapshot = runtime.block_on(async {
        tokio::select! {
            result = harvest => result,
            () = watch.pressed() => Err(Error::Interrupted(progress.collected())),
        }
    });
    if matches!(snapshot, Err(Error::Interrupted(_))) {
        // Requests still in flight are abandoned, not waited for.
        runtime.shutdown_background();
    }
    let snapshot = snapshot?;
    let total: u64 = snapshot.sources.iter().map(|s| s.requests).sum();
    tracing::info!(
        "harvested {} items for {} in {} requests",
        snapshot.items.len(),
        period,
        total
    );
    Ok((snapshot, caching::Closing::start(closing)))
}
