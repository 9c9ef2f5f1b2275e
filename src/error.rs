//! The library's top-level error: one variant per layer, each knowing its exit code.

use crate::classify::ClassifyError;
use crate::config::ConfigError;
use crate::curation::CurationError;
use crate::framework::FrameworkError;
use crate::harvest::HarvestError;
use crate::merge::MergeError;
use crate::model::{PeriodError, SnapshotError};
use crate::report::ReportError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Period(#[from] PeriodError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Harvest(#[from] HarvestError),
    #[error(transparent)]
    Framework(#[from] FrameworkError),
    #[error(transparent)]
    Classify(#[from] ClassifyError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Email(#[from] crate::email::EmailError),
    #[error(transparent)]
    Merge(#[from] MergeError),
    #[error(transparent)]
    Publish(#[from] crate::deliver::publish::PublishError),
    #[error(transparent)]
    Curation(#[from] CurationError),
    #[error(transparent)]
    Evaluate(#[from] crate::classify::evaluate::EvaluateError),
    #[error(transparent)]
    Output(#[from] crate::deliver::WriteError),
    #[error(transparent)]
    CaCert(#[from] crate::ca_cert::CaCertError),
    #[error("interrupted: collected {} items from {} sources before Ctrl-C; nothing was written, and any earlier output file is unchanged", .0.items, .0.sources)]
    Interrupted(crate::progress::Collected),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl Error {
    /// 2 for what the user can fix in flags, config or input files; 1 for runtime failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_)
            | Error::Config(_)
            | Error::Period(_)
            | Error::Snapshot(_)
            | Error::Framework(_)
            | Error::Classify(_)
            | Error::Report(_)
            | Error::Evaluate(_)
            | Error::Merge(_)
            | Error::CaCert(_) => 2,
            Error::Curation(e) => e.exit_code(),
            Error::Interrupted(_) => crate::interrupt::EXIT_CODE,
            Error::Harvest(_) | Error::Write { .. } | Error::Output(_) | Error::Publish(_) => 1,
            Error::Email(e) => e.exit_code(),
        }
    }
}
