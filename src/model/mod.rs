//! The shared vocabulary: evidence items, snapshots, periods and competency matches.
//!
//! Nothing here does I/O beyond (de)serialising; every other module speaks these types.

pub mod json_text;
mod period;
mod snapshot;

pub use period::{Period, PeriodError};
pub use snapshot::{
    Classification, CompetencyMatch, Item, ItemCuration, ItemKind, Role, Snapshot, SnapshotError,
    Source, SourceStatus, Subject, CURATED_RULE, SNAPSHOT_FORMAT, SNAPSHOT_VERSION,
};
