//! gl-evidence: harvest a person's GitLab work, map it to a career framework, render evidence.
//!
//! The pipeline is [`harvest`] (GitLab → [`model::Snapshot`], async, through the one
//! [`gitlab::Client`], keeping what it read in the [`cache`] so that a re-run asks only for
//! what changed), [`classify`] (snapshot → snapshot with competencies; pure and offline)
//! and [`report`] (snapshot → Markdown, HTML, JSON or CSV through handlebars), with [`deliver`]
//! writing the result (to files, or to GitLab as an issue) and [`email`] sending it. [`merge`]
//! puts snapshots of one instance and period together, such as the [`shard`]s of a harvest
//! split across parallel CI jobs. [`curation`] lays a person's edits (hidden, highlighted,
//! notes, competencies) over a classified snapshot before it is reported. [`app`] runs the
//! subcommands on plain options that [`cli`] builds from flags; `main.rs` only parses, runs and
//! maps errors to exit codes.

pub mod app;
pub mod ca_cert;
pub mod cache;
pub mod classify;
pub mod cli;
pub mod config;
pub mod curation;
pub mod deliver;
pub mod email;
pub mod error;
pub mod framework;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod gitlab;
pub mod harvest;
pub mod interrupt;
pub mod logging;
pub mod merge;
pub mod model;
pub mod progress;
#[cfg(test)]
mod properties;
pub mod report;
pub mod shard;
