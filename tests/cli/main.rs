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
//! - `curation`: an engineer's edits (curate, review in a pseudo-terminal) survive re-harvests.

mod curation;
mod epics;
mod errors;
mod fake_gitlab;
mod fake_selftest;
mod harvest;
mod issues;
mod offline;
mod oncall;
mod retries;
mod scenario;
mod showcase;
mod support;
mod team;
