//! The one integration test binary: drives the built `gl-evidence` against a fake GitLab.
//!
//! - `fake_gitlab`: the fake instance (REST v4 + GraphQL on loopback, faults on demand);
//! - `fake_selftest`: checks the fake itself speaks GitLab's dialect, so the other tests can
//!   trust it;
//! - `support`: a sealed environment per run and helpers to read snapshots;
//! - `scenario`: the data most tests harvest and what the harvest must contain;
//! - `harvest`, `retries`, `errors`, `offline`: the CLI contract from DESIGN.md, end to end.

mod errors;
mod fake_gitlab;
mod fake_selftest;
mod harvest;
mod offline;
mod retries;
mod scenario;
mod support;
