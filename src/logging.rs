//! Diagnostics on stderr through `tracing`: warnings by default, each request with `-v`.
//! Request lines carry URLs only; the token lives in headers, which are never logged.
//! [`terminal_safe`] cleans text that may quote GitLab before it reaches the terminal.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::filter::LevelFilter;

/// Set by `--quiet`: only errors reach stderr.
static QUIET: AtomicBool = AtomicBool::new(false);

pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A line for the person at the terminal (a note, a warning, what was written or sent), on
/// stderr; nothing with `--quiet`. Errors go through `main` and are always shown.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        if !$crate::logging::is_quiet() {
            eprintln!($($arg)*);
        }
    };
}

pub fn init(verbose: u8, quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    };
    // Other crates' chatter (hyper, rustls) only at -vv.
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("gl_evidence", level)
        .with_default(if verbose >= 2 {
            level
        } else {
            LevelFilter::WARN
        });
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false)
                .without_time()
                .with_ansi(
                    std::io::IsTerminal::is_terminal(&std::io::stderr())
                        && std::env::var_os("NO_COLOR").is_none(),
                ),
        )
        .with(filter)
        .try_init();
}

/// Text for the terminal that may quote a server (GitLab's error messages): control characters
/// other than line breaks become spaces, so no escape sequence reaches the terminal, and
/// bidirectional controls go, so no message reads differently from what it says.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .filter(|c| !crate::report::is_bidi_control(*c))
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn server_text_reaches_the_terminal_harmless() {
        assert_eq!(
            super::terminal_safe("a\u{1b}[2Jb\u{7}\u{202E}c\u{2066}\nd"),
            "a [2Jb c\nd"
        );
    }
}
