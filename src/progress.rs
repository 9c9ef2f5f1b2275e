//! Progress on stderr while harvesting: a spinner per subject when stderr is a terminal,
//! nothing otherwise (CI logs stay clean).

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bars: Option<MultiProgress>,
}

impl Progress {
    /// Shown only when asked for and stderr is a terminal.
    pub fn new(enabled: bool) -> Self {
        let shown = enabled && std::io::stderr().is_terminal();
        Progress {
            bars: shown.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }

    pub fn hidden() -> Self {
        Progress { bars: None }
    }

    pub fn subject(&self, username: &str) -> SubjectProgress {
        let bar = self.bars.as_ref().map(|bars| {
            let bar = bars.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix}: {msg}")
                    .expect("valid progress template"),
            );
            bar.set_prefix(username.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        SubjectProgress {
            bar,
            counts: std::sync::Mutex::new(Vec::new()),
        }
    }
}

/// One subject's line: counts per source, updated as pages arrive.
pub struct SubjectProgress {
    bar: Option<ProgressBar>,
    counts: std::sync::Mutex<Vec<(&'static str, usize)>>,
}

impl SubjectProgress {
    pub fn set(&self, what: &'static str, count: usize) {
        let Some(bar) = &self.bar else { return };
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        match counts.iter_mut().find(|(name, _)| *name == what) {
            Some(entry) => entry.1 = count,
            None => counts.push((what, count)),
        }
        let line: Vec<String> = counts.iter().map(|(n, c)| format!("{c} {n}")).collect();
        bar.set_message(line.join(", "));
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
