//! The `gl-evidence` binary: parse flags, set up logging, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use gl_evidence::app::{self, Outcome};
use gl_evidence::cli::Cli;
use gl_evidence::config::Env;

fn main() -> ExitCode {
    let cli = Cli::parse();
    gl_evidence::logging::init(cli.verbose, cli.quiet);
    let (global, action) = cli.into_invocation();
    match app::run(global, action, &Env::from_process()) {
        Ok(Outcome::Complete) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(3),
        Err(error) => {
            eprintln!(
                "error: {}",
                gl_evidence::logging::terminal_safe(&error.to_string())
            );
            ExitCode::from(error.exit_code() as u8)
        }
    }
}
