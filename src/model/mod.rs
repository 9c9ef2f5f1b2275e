//! The shared vocabulary: evidence items, snapshots, periods and competency matches.
//!
//! Nothing here does I/O beyond (de)serialising; every other module speaks these types.

mod period;
mod snapshot;

pub use period::{Period, PeriodError};
pub use snapshot::{
    Classification, CompetencyMatch, Item, ItemKind, Role, Snapshot, SnapshotError, Source,
    SourceStatus, Subject, SNAPSHOT_FORMAT, SNAPSHOT_VERSION,
};
