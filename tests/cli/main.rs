//! The one integration test binary: drives the built `gl-evidence` against a fake GitLab.
//!
//! - `fake_gitlab`: the fake instance (REST v4 + GraphQL on loopback, faults on demand);
//! - `fake_selftest`: checks the fake itself speaks GitLab's dialect, so the other tests can
//!   trust it;
//! - `support`: a sealed environment per run and helpers to read snapshots;
//! - `scenario`: the data most tests harvest and what the harvest must contain;
//! - `harvest`, `retries`, `errors`, `offline`: the CLI contract from DESIGN.md, end to end.
//! - `epics`: the epics source (work items, legacy fallback, skipped without Premium).
//! - `issues`: issues, incidents and interview work (GraphQL, close and comment events).
//! - `timelines`: incidents the subject wrote timeline entries for.
//! - `email`, `smtp_server`: reports sent to a real SMTP server on loopback, and what arrives.
//! - `merge`: `harvest --shard N/M` and `merge`, a team harvested in slices and put together.
//! - `publish`: `--publish issue:GROUP/PROJECT`, created once and updated after.
//! - `gitlab_ci`: the instance from GitLab CI's predefined variables.
//! - `faults`: seeded 5xx, resets, timeouts, 429 storms, broken bodies, GraphQL partial data and
//!   repeated pages: the exact items, or an honest partial result.
//! - `hostile`: titles, names, labels and paths written to attack the reader, harmless and still
//!   readable in Markdown, HTML, CSV, JSON and email.
//! - `secrets`: the token in no output, error, file or URL at any `-v` level; config permissions.
//! - `curation`: an engineer's edits (curate, review in a pseudo-terminal) survive re-harvests.
//! - `tls`: a GitLab with a private CA, trusted only through `--ca-cert`.
//! - `interrupt`, `outputs`: Ctrl-C during a harvest, and outputs that are replaced whole or
//!   not at all (unwritable folder, full disk, killed mid-write).
//! - `cache`: the incremental cache: re-runs read only what changed, and nothing breaks it.

mod cache;
mod curation;
mod email;
mod epics;
mod errors;
mod fake_gitlab;
mod fake_selftest;
mod faults;
mod gitlab_ci;
mod harvest;
mod hostile;
#[cfg(unix)]
mod interrupt;
mod issues;
mod merge;
mod offline;
mod oncall;
#[cfg(unix)]
mod outputs;
mod publish;
mod retries;
mod scenario;
mod secrets;
mod showcase;
mod smtp_server;
mod support;
mod team;
mod timelines;
mod tls;
