//! Command-line flags (clap). Nothing here decides anything: flags become the plain
//! [`crate::app`] options that the library runs.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

use crate::app::{self, Action, Global, PeriodSpec};
use crate::cache::CacheMode;
use crate::deliver::publish::PublishTarget;
use crate::report::{Format, ReportKind};
use crate::shard::Shard;

const EXAMPLES: &str = "\
Examples:
  gl-evidence demo                                        # try it offline on bundled data
  GITLAB_TOKEN=glpat-… gl-evidence brag --user alice --quarter 2026Q3 --out brag.md
  gl-evidence harvest --user alice --quarter FY27-Q3 --out alice.json
  gl-evidence classify alice.json --out alice.classified.json
  gl-evidence report alice.classified.json --kind brag --out brag.md
  gl-evidence team --group my-org/my-team --quarter FY27-Q3 --format html --out team.html
  gl-evidence harvest --group my-org/my-team --quarter FY27-Q3 --shard 2/4 --out shard-2.json
  gl-evidence merge shard-*.json --out team.json
  gl-evidence brag --user alice --quarter 2026Q3 --publish issue:my-org/brag-docs
  gl-evidence explain alice.json https://gitlab.com/group/project/-/merge_requests/12
  gl-evidence curate alice.json --highlight URL --note URL \"Cut p99 latency by 30%\"
  gl-evidence review alice.json                           # walk the items, one key per edit
  gl-evidence framework
  gl-evidence brag --user alice --quarter 2026Q3 --format html --out brag.html --email alice@example.com
  gl-evidence send team.html --to manager@example.com --subject \"Team evidence, Q3\"

The token (scope read_api; api for --publish) comes from GITLAB_TOKEN or GL_EVIDENCE_TOKEN,
or the config's token_command. The instance from --gitlab-url, GITLAB_URL, GitLab CI's
CI_API_V4_URL or CI_SERVER_URL, or the config.
Email: the config's [email] section or GL_EVIDENCE_SMTP_URL, the password in
GL_EVIDENCE_SMTP_PASSWORD.
Exit codes: 0 ok, 1 runtime failure, 2 usage or config error, 3 partial harvest.";

/// Evidence of your GitLab work, mapped to your career framework.
///
/// Harvests merge requests, reviews, issues, epics, incidents, on-call shifts and interview
/// work from GitLab (REST and GraphQL), maps each item to the competencies of a career
/// framework (by default GitLab's Staff, Infrastructure framework) with the reason for every
/// match, and renders a brag document.
#[derive(Debug, Parser)]
#[command(name = "gl-evidence", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Config file (default: ~/.config/gl-evidence/config.toml if it exists).
    #[arg(long, global = true, value_name = "FILE", env = "GL_EVIDENCE_CONFIG")]
    pub config: Option<PathBuf>,

    /// GitLab instance URL [env: GITLAB_URL, then CI_API_V4_URL less /api/v4, then CI_SERVER_URL;
    /// default https://gitlab.com].
    #[arg(long, global = true, value_name = "URL")]
    pub gitlab_url: Option<String>,

    /// More output on stderr: -v shows each request, -vv everything.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// No progress display, even on a terminal.
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// A PEM file of CA certificates to trust for GitLab besides the system's, for a
    /// self-managed instance with a private certificate authority (config: network.ca_cert).
    /// Certificates are always verified.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Requests in flight at once (default 8, from the config's harvest.concurrency).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect people's GitLab work for a period into a snapshot (JSON).
    #[command(
        after_help = "Example:\n  gl-evidence harvest --user alice --quarter 2026Q3 --out alice.json"
    )]
    Harvest(HarvestArgs),
    /// Map every item of a snapshot to competencies, offline.
    #[command(
        after_help = "Example:\n  gl-evidence classify alice.json --out alice.classified.json"
    )]
    Classify(ClassifyArgs),
    /// Render a report from a snapshot, offline (classifying it first if needed).
    #[command(after_help = "Example:\n  gl-evidence report alice.json --kind brag --out brag.md")]
    Report(ReportArgs),
    /// A manager's overview of a team (a group's members or a list of users) for a period.
    #[command(
        after_help = "Examples:\n  gl-evidence team --group gitlab-com/gl-infra/reliability --quarter FY27-Q3 --format html --out team.html\n  gl-evidence team --user alice --user bob --quarter 2026Q3 --format csv --out team.csv --compare last-quarter.json"
    )]
    Team(TeamArgs),
    /// Harvest, classify and render a brag document in one go.
    #[command(
        after_help = "Example:\n  gl-evidence brag --user alice --quarter 2026Q3 --out brag.md"
    )]
    Brag(BragArgs),
    /// Email a report file (HTML as the message, Markdown as text; attached either way).
    #[command(
        after_help = "Examples:\n  gl-evidence send brag.html --to alice@example.com\n  gl-evidence send team.md --to lead@example.com --to manager@example.com --subject \"Team evidence, {{file}}\" --attach team.csv\n\nThe server and sender come from the config's [email] section or GL_EVIDENCE_SMTP_URL and\nGL_EVIDENCE_EMAIL_FROM; the password only from GL_EVIDENCE_SMTP_PASSWORD."
    )]
    Send(SendArgs),
    /// Merge snapshots of one instance and period (e.g. the shards of a team's harvest) into one.
    #[command(
        after_help = "Example:\n  gl-evidence merge shards/*.json --out team.json\n\nItems harvested twice are kept once (the copy GitLab updated last); the merged snapshot is\nunclassified: `report` classifies it. Exit code 3 when a source of an input did not complete."
    )]
    Merge(MergeArgs),
    /// Edit the draft: hide, highlight, annotate items or change their competencies. The edits
    /// go to a curation file that every later run applies.
    #[command(after_help = CURATE_HELP)]
    Curate(CurateArgs),
    /// Walk through a snapshot's items in the terminal and curate them, one key per edit.
    #[command(after_help = REVIEW_HELP)]
    Review(ReviewArgs),
    /// Show, for one item of a snapshot, the rules that fired and why, and those that nearly did.
    #[command(
        after_help = "Example:\n  gl-evidence explain alice.json https://gitlab.com/gitlab-org/gitlab/-/merge_requests/1234"
    )]
    Explain(ExplainArgs),
    /// Measure the mapping's precision and recall on a labelled evaluation set.
    #[command(after_help = "Example:\n  gl-evidence evaluate tests/eval/labelled.json --misses")]
    Evaluate(EvaluateArgs),
    /// Run classify and report on a bundled sample quarter: no network, no token.
    #[command(after_help = "Example:\n  gl-evidence demo --out-dir demo")]
    Demo(DemoArgs),
    /// List the competencies of the career framework and their ids.
    #[command(after_help = "Example:\n  gl-evidence framework --format json")]
    Framework(FrameworkArgs),
    /// Print the built-in rules (TOML), to copy and adapt with --rules or [classify] extra_rules.
    #[command(after_help = "Example:\n  gl-evidence rules > my-rules.toml")]
    Rules,
    /// Write a commented config file.
    #[command(after_help = "Example:\n  gl-evidence init --path ./gl-evidence.toml")]
    Init(InitArgs),
}

const CURATE_HELP: &str = "\
URL is an item's web URL as reports show it (or its id). Every flag can be repeated.
The curation file is --curation FILE, else the config's curation.file, else SNAPSHOT's name
with .curation.toml beside it (alice.json → alice.curation.toml). Without edits, curate lists it.

Examples:
  gl-evidence curate alice.json --highlight https://gitlab.com/g/p/-/merge_requests/12 \\
      --note https://gitlab.com/g/p/-/merge_requests/12 \"Cut p99 latency by 30%\"
  gl-evidence curate alice.json --hide https://gitlab.com/g/p/-/issues/7
  gl-evidence curate alice.json --add URL credibility-3 --remove URL accountability-1
  gl-evidence curate alice.json                 # list the curation";

const REVIEW_HELP: &str = "\
Keys: h hide · l or * highlight · n note · a add competency · r remove competency ·
space or enter next · p previous · q quit. Every change is saved at once to the curation file
(the same one `curate` uses). Needs a terminal; in scripts use `gl-evidence curate`.

Example:
  gl-evidence review alice.json";

/// The reporting period: explicit dates or a quarter.
#[derive(Debug, Args)]
#[group(required = true, multiple = true)]
pub struct PeriodArgs {
    /// First day, inclusive (UTC), YYYY-MM-DD.
    #[arg(
        long,
        value_name = "YYYY-MM-DD",
        requires = "to",
        conflicts_with = "quarter"
    )]
    pub from: Option<String>,
    /// Last day, inclusive (UTC), YYYY-MM-DD.
    #[arg(
        long,
        value_name = "YYYY-MM-DD",
        requires = "from",
        conflicts_with = "quarter"
    )]
    pub to: Option<String>,
    /// A calendar quarter (2026Q3) or fiscal quarter (FY27-Q3; the fiscal year starts in
    /// February unless the config says otherwise).
    #[arg(long, value_name = "QUARTER")]
    pub quarter: Option<String>,
}

/// Whose work: usernames, a group's members, or both.
#[derive(Debug, Args)]
#[group(required = true, multiple = true)]
pub struct PeopleArgs {
    /// GitLab username (repeat for several people).
    #[arg(long = "user", value_name = "USERNAME")]
    pub users: Vec<String>,
    /// A group's full path: its direct and inherited members (bots, blocked and pending members,
    /// and the config's team.exclude, left out).
    #[arg(long, value_name = "GROUP_PATH")]
    pub group: Option<String>,
}

#[derive(Debug, Args)]
pub struct HarvestArgs {
    #[command(flatten)]
    pub people: PeopleArgs,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Harvest only slice N of M of the sorted list of people, for parallel jobs (on GitLab CI:
    /// "$CI_NODE_INDEX/$CI_NODE_TOTAL"); `merge` puts the slices back together.
    #[arg(long, value_name = "N/M", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Where to write the snapshot (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// The incremental cache, for the commands that harvest.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// Read everything from GitLab and rewrite the cache, ignoring what it holds.
    #[arg(long)]
    pub refresh: bool,
    /// Neither read nor write the cache: read everything from GitLab.
    #[arg(long, conflicts_with = "refresh")]
    pub no_cache: bool,
}

impl CacheArgs {
    fn mode(&self) -> CacheMode {
        match (self.refresh, self.no_cache) {
            (_, true) => CacheMode::Off,
            (true, false) => CacheMode::Refresh,
            (false, false) => CacheMode::Use,
        }
    }
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Snapshots to merge (at least one), e.g. the shards of one harvest.
    #[arg(value_name = "SNAPSHOT", required = true, num_args = 1..)]
    pub snapshots: Vec<PathBuf>,
    /// Where to write the merged snapshot (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn parse_publish(value: &str) -> Result<PublishTarget, String> {
    value.parse()
}

fn parse_shard(value: &str) -> Result<Shard, String> {
    value
        .parse()
        .map_err(|e: crate::shard::ShardError| e.to_string())
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// A snapshot written by `harvest`.
    #[arg(value_name = "SNAPSHOT")]
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub mapping: MappingArgs,
    #[command(flatten)]
    pub curation: CurationArgs,
    /// Where to write the classified snapshot (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Which curation file a report applies.
#[derive(Debug, Args)]
pub struct CurationArgs {
    /// Curation file to apply (hidden, highlighted and annotated items, edited competencies).
    /// Default: the config's curation.file, else the snapshot's name with .curation.toml beside
    /// it (SNAPSHOT, or --snapshot-out). Team reports use only this flag, never a default.
    #[arg(long, value_name = "FILE")]
    pub curation: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CurateArgs {
    /// The snapshot whose items you curate (harvested or classified).
    #[arg(value_name = "SNAPSHOT")]
    pub snapshot: PathBuf,
    /// The curation file to edit (created if needed).
    #[arg(long, value_name = "FILE")]
    pub curation: Option<PathBuf>,
    /// Leave the item out of reports; they say how many items were hidden.
    #[arg(long, value_name = "URL")]
    pub hide: Vec<String>,
    /// Show a hidden item again.
    #[arg(long, value_name = "URL")]
    pub unhide: Vec<String>,
    /// Put the item first in its competencies and in the summary.
    #[arg(long, value_name = "URL")]
    pub highlight: Vec<String>,
    /// Undo --highlight.
    #[arg(long, value_name = "URL")]
    pub unhighlight: Vec<String>,
    /// A note shown under the item: the impact, the context (replaces an earlier note).
    #[arg(long, num_args = 2, value_names = ["URL", "TEXT"], allow_hyphen_values = true)]
    pub note: Vec<String>,
    /// Remove the item's note.
    #[arg(long, value_name = "URL")]
    pub clear_note: Vec<String>,
    /// The item evidences this competency, whatever the rules say.
    #[arg(long, num_args = 2, value_names = ["URL", "ID"])]
    pub add: Vec<String>,
    /// The item does not evidence this competency, whatever the rules say.
    #[arg(long, num_args = 2, value_names = ["URL", "ID"])]
    pub remove: Vec<String>,
    /// Undo --add or --remove: the rules decide about this competency again.
    #[arg(long, num_args = 2, value_names = ["URL", "ID"])]
    pub reset: Vec<String>,
    /// Drop every edit of the item.
    #[arg(long, value_name = "URL")]
    pub clear: Vec<String>,
    /// A career framework file instead of the built-in one (competency ids are checked against it).
    #[arg(long, value_name = "FILE")]
    pub framework: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The snapshot whose items you review (classified first if it is not).
    #[arg(value_name = "SNAPSHOT")]
    pub snapshot: PathBuf,
    /// The curation file to edit (created if needed).
    #[arg(long, value_name = "FILE")]
    pub curation: Option<PathBuf>,
    #[command(flatten)]
    pub mapping: MappingArgs,
}

#[derive(Debug, Args)]
pub struct MappingArgs {
    /// A career framework file instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub framework: Option<PathBuf>,
    /// A rules file instead of the built-in rules.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Md)]
    pub format: FormatArg,
    /// A handlebars template to use instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Where to write the report (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A snapshot, classified or not.
    #[arg(value_name = "SNAPSHOT")]
    pub snapshot: PathBuf,
    /// Which report.
    #[arg(long, value_enum, default_value_t = KindArg::Brag)]
    pub kind: KindArg,
    #[command(flatten)]
    pub render: RenderArgs,
    #[command(flatten)]
    pub mapping: MappingArgs,
    #[command(flatten)]
    pub curation: CurationArgs,
    /// Team reports: a snapshot of an earlier period, to show the change since then.
    #[arg(long, value_name = "PREVIOUS_SNAPSHOT")]
    pub compare: Option<PathBuf>,
    /// Team reports: keep confidential items (left out and counted by default).
    #[arg(long)]
    pub include_confidential: bool,
    /// Also publish the Markdown report as a confidential issue in this project (created, or
    /// updated on later runs for the same person or team and period); the token needs the
    /// `api` scope.
    #[arg(long, value_name = "issue:GROUP/PROJECT", value_parser = parse_publish)]
    pub publish: Option<PublishTarget>,
}

#[derive(Debug, Args)]
pub struct TeamArgs {
    #[command(flatten)]
    pub people: PeopleArgs,
    #[command(flatten)]
    pub period: PeriodArgs,
    #[command(flatten)]
    pub render: RenderArgs,
    #[command(flatten)]
    pub mapping: MappingArgs,
    #[command(flatten)]
    pub curation: CurationArgs,
    /// A snapshot of an earlier period: show the change since then, per person and area.
    #[arg(long, value_name = "PREVIOUS_SNAPSHOT")]
    pub compare: Option<PathBuf>,
    /// Keep confidential items (confidential issues, private projects) in the report; by
    /// default they are left out and counted.
    #[arg(long)]
    pub include_confidential: bool,
    /// Also keep the classified snapshot here.
    #[arg(long, value_name = "FILE")]
    pub snapshot_out: Option<PathBuf>,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Email the report to this address too (repeat for several): HTML and text in the message,
    /// the formats of the config's email.attach attached.
    #[arg(long = "email", value_name = "ADDR")]
    pub email: Vec<String>,
    /// Also publish the Markdown report as a confidential issue in this project (created, or
    /// updated on later runs for the same person or team and period); the token needs the
    /// `api` scope.
    #[arg(long, value_name = "issue:GROUP/PROJECT", value_parser = parse_publish)]
    pub publish: Option<PublishTarget>,
}

#[derive(Debug, Args)]
pub struct BragArgs {
    /// GitLab username.
    #[arg(long = "user", value_name = "USERNAME")]
    pub user: String,
    #[command(flatten)]
    pub period: PeriodArgs,
    #[command(flatten)]
    pub render: RenderArgs,
    #[command(flatten)]
    pub mapping: MappingArgs,
    #[command(flatten)]
    pub curation: CurationArgs,
    /// Also keep the classified snapshot here.
    #[arg(long, value_name = "FILE")]
    pub snapshot_out: Option<PathBuf>,
    #[command(flatten)]
    pub cache: CacheArgs,
    /// Email the brag document to this address too (repeat for several): HTML and text in the
    /// message, the formats of the config's email.attach attached.
    #[arg(long = "email", value_name = "ADDR")]
    pub email: Vec<String>,
    /// Also publish the Markdown report as a confidential issue in this project (created, or
    /// updated on later runs for the same person or team and period); the token needs the
    /// `api` scope.
    #[arg(long, value_name = "issue:GROUP/PROJECT", value_parser = parse_publish)]
    pub publish: Option<PublishTarget>,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The report to send: .html becomes the message, .md (or .txt) its text; any file is
    /// attached as it is.
    #[arg(value_name = "REPORT_FILE")]
    pub report: PathBuf,
    /// Recipient (repeat for several): alice@example.com or "Alice <alice@example.com>".
    #[arg(long = "to", value_name = "ADDR", required = true)]
    pub to: Vec<String>,
    /// The subject (a handlebars template: {{title}} is the report's title, {{file}} its file
    /// name); default: the report's title.
    #[arg(long, value_name = "TEMPLATE")]
    pub subject: Option<String>,
    /// Another file to attach (repeat for several).
    #[arg(long, value_name = "FILE")]
    pub attach: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A snapshot, classified or not.
    #[arg(value_name = "SNAPSHOT")]
    pub snapshot: PathBuf,
    /// The item's web URL (or its id, e.g. gid://gitlab/MergeRequest/123).
    #[arg(value_name = "URL")]
    pub item: String,
    /// List every rule, not only those that fired or nearly did.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub mapping: MappingArgs,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// A snapshot whose items each carry `"expect": {"must": [...], "acceptable": [...]}`.
    #[arg(value_name = "LABELLED_SNAPSHOT")]
    pub labelled: PathBuf,
    /// Also list the items the rules got wrong.
    #[arg(long)]
    pub misses: bool,
    #[command(flatten)]
    pub mapping: MappingArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the outputs.
    #[arg(long, value_name = "DIR", default_value = "gl-evidence-demo")]
    pub out_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct FrameworkArgs {
    #[arg(long, value_enum, default_value_t = ListFormatArg::Md)]
    pub format: ListFormatArg,
    /// A framework file to list instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    pub framework: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write it (default: ~/.config/gl-evidence/config.toml).
    #[arg(long, value_name = "FILE")]
    pub path: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Md,
    Json,
    Html,
    Csv,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ListFormatArg {
    Md,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Brag,
    Team,
}

impl Cli {
    /// The plain options the library runs.
    pub fn into_invocation(self) -> (Global, Action) {
        let cache = match &self.command {
            Command::Harvest(a) => a.cache.mode(),
            Command::Team(a) => a.cache.mode(),
            Command::Brag(a) => a.cache.mode(),
            _ => CacheMode::default(),
        };
        let global = Global {
            config: self.config,
            gitlab_url: self.gitlab_url,
            progress: !self.no_progress && !self.quiet,
            concurrency: self.concurrency.map(usize::from),
            ca_cert: self.ca_cert,
            cache,
        };
        let action = match self.command {
            Command::Harvest(a) => Action::Harvest {
                people: app::People {
                    shard: a.shard,
                    ..a.people.into()
                },
                period: a.period.into(),
                out: a.out,
            },
            Command::Merge(a) => Action::Merge {
                snapshots: a.snapshots,
                out: a.out,
            },
            Command::Classify(a) => Action::Classify {
                snapshot: a.snapshot,
                mapping: a.mapping.into(),
                curation: a.curation.curation,
                out: a.out,
            },
            Command::Report(a) => Action::Report {
                snapshot: a.snapshot,
                kind: a.kind.into(),
                render: a.render.into(),
                mapping: a.mapping.into(),
                curation: a.curation.curation,
                compare: a.compare,
                include_confidential: a.include_confidential,
                publish: a.publish,
            },
            Command::Team(a) => Action::Team {
                people: a.people.into(),
                period: a.period.into(),
                render: a.render.into(),
                mapping: a.mapping.into(),
                curation: a.curation.curation,
                snapshot_out: a.snapshot_out,
                compare: a.compare,
                include_confidential: a.include_confidential,
                email: a.email,
                publish: a.publish,
            },
            Command::Brag(a) => Action::Brag {
                user: a.user,
                period: a.period.into(),
                render: a.render.into(),
                mapping: a.mapping.into(),
                curation: a.curation.curation,
                snapshot_out: a.snapshot_out,
                email: a.email,
                publish: a.publish,
            },
            Command::Send(a) => Action::Send {
                report: a.report,
                to: a.to,
                subject: a.subject,
                attach: a.attach,
            },
            Command::Curate(a) => Action::Curate {
                edits: a.edits(),
                snapshot: a.snapshot,
                curation: a.curation,
                framework: a.framework,
            },
            Command::Review(a) => Action::Review {
                snapshot: a.snapshot,
                curation: a.curation,
                mapping: a.mapping.into(),
            },
            Command::Explain(a) => Action::Explain {
                snapshot: a.snapshot,
                item: a.item,
                all: a.all,
                mapping: a.mapping.into(),
            },
            Command::Evaluate(a) => Action::Evaluate {
                labelled: a.labelled,
                misses: a.misses,
                mapping: a.mapping.into(),
            },
            Command::Demo(a) => Action::Demo { out_dir: a.out_dir },
            Command::Framework(a) => Action::Framework {
                json: matches!(a.format, ListFormatArg::Json),
                framework: a.framework,
            },
            Command::Rules => Action::Rules,
            Command::Init(a) => Action::Init {
                path: a.path,
                force: a.force,
            },
        };
        (global, action)
    }
}

impl CurateArgs {
    /// The edits, with `--note URL TEXT` and `--add URL ID` paired up.
    fn edits(&self) -> crate::curation::Edits {
        // clap's `num_args = 2` guarantees whole pairs.
        let pairs = |values: &[String]| -> Vec<(String, String)> {
            values
                .chunks_exact(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect()
        };
        crate::curation::Edits {
            hide: self.hide.clone(),
            unhide: self.unhide.clone(),
            highlight: self.highlight.clone(),
            unhighlight: self.unhighlight.clone(),
            note: pairs(&self.note),
            clear_note: self.clear_note.clone(),
            add: pairs(&self.add),
            remove: pairs(&self.remove),
            reset: pairs(&self.reset),
            clear: self.clear.clone(),
        }
    }
}

impl From<PeriodArgs> for PeriodSpec {
    fn from(p: PeriodArgs) -> Self {
        match (p.quarter, p.from, p.to) {
            (Some(q), _, _) => PeriodSpec::Quarter(q),
            (None, Some(from), Some(to)) => PeriodSpec::Dates { from, to },
            // clap's group and `requires` rules make this unreachable; say so plainly if not.
            _ => PeriodSpec::Missing,
        }
    }
}

impl From<PeopleArgs> for app::People {
    fn from(p: PeopleArgs) -> Self {
        app::People {
            users: p.users,
            group: p.group,
            shard: None,
        }
    }
}

impl From<MappingArgs> for app::Mapping {
    fn from(m: MappingArgs) -> Self {
        app::Mapping {
            framework: m.framework,
            rules: m.rules,
        }
    }
}

impl From<RenderArgs> for app::Render {
    fn from(r: RenderArgs) -> Self {
        app::Render {
            format: match r.format {
                FormatArg::Md => Format::Markdown,
                FormatArg::Json => Format::Json,
                FormatArg::Html => Format::Html,
                FormatArg::Csv => Format::Csv,
            },
            template: r.template,
            out: r.out,
        }
    }
}

impl From<KindArg> for ReportKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Brag => ReportKind::Brag,
            KindArg::Team => ReportKind::Team,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn period_flags_are_exclusive() {
        let parse = |args: &[&str]| Cli::try_parse_from(args);
        assert!(parse(&[
            "gl-evidence",
            "harvest",
            "--user",
            "a",
            "--quarter",
            "2026Q3"
        ])
        .is_ok());
        assert!(parse(&[
            "gl-evidence",
            "harvest",
            "--user",
            "a",
            "--from",
            "2026-01-01",
            "--to",
            "2026-02-01"
        ])
        .is_ok());
        assert!(
            parse(&["gl-evidence", "harvest", "--user", "a"]).is_err(),
            "a period is required"
        );
        assert!(parse(&[
            "gl-evidence",
            "harvest",
            "--user",
            "a",
            "--from",
            "2026-01-01"
        ])
        .is_err());
        assert!(parse(&[
            "gl-evidence",
            "harvest",
            "--user",
            "a",
            "--quarter",
            "2026Q3",
            "--from",
            "2026-01-01",
            "--to",
            "2026-02-01"
        ])
        .is_err());
        assert!(
            parse(&["gl-evidence", "harvest", "--quarter", "2026Q3"]).is_err(),
            "a user is required"
        );
        assert!(parse(&[
            "gl-evidence",
            "harvest",
            "--group",
            "g/t",
            "--quarter",
            "2026Q3"
        ])
        .is_ok());
        let team = [
            "gl-evidence",
            "team",
            "--group",
            "g/t",
            "--user",
            "x",
            "--quarter",
            "2026Q3",
        ];
        assert!(parse(&team).is_ok());
        assert!(
            parse(&["gl-evidence", "team", "--quarter", "2026Q3"]).is_err(),
            "a group or users are required"
        );
        assert!(parse(&["gl-evidence", "--concurrency", "0", "demo"]).is_err());
    }

    #[test]
    fn email_flags_become_addresses() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).map(|c| c.into_invocation().1);
        assert!(
            parse(&["gl-evidence", "send", "r.html"]).is_err(),
            "send needs --to"
        );
        match parse(&[
            "gl-evidence",
            "send",
            "r.html",
            "--to",
            "a@example.com",
            "--to",
            "b@example.com",
            "--attach",
            "x.csv",
        ]) {
            Ok(Action::Send { to, attach, .. }) => {
                assert_eq!(to, ["a@example.com", "b@example.com"]);
                assert_eq!(attach, [PathBuf::from("x.csv")]);
            }
            other => panic!("{other:?}"),
        }
        match parse(&[
            "gl-evidence",
            "brag",
            "--user",
            "a",
            "--quarter",
            "2026Q3",
            "--email",
            "a@example.com",
            "--email",
            "b@example.com",
        ]) {
            Ok(Action::Brag { email, .. }) => assert_eq!(email, ["a@example.com", "b@example.com"]),
            other => panic!("{other:?}"),
        }
    }
}
