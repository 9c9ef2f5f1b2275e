//! Progress on stderr while harvesting: a spinner per subject when stderr is a terminal,
//! nothing otherwise (CI logs stay clean). The counts are kept either way, so an interrupted
//! harvest can say what it had collected.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Items found so far: per subject, per source.
type Tally = Arc<Mutex<Vec<(String, &'static str, usize)>>>;

pub struct Progress {
    bars: Option<MultiProgress>,
    tally: Tally,
}

/// What a harvest had collected when it was stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Collected {
    pub items: usize,
    /// Sources (one kind of evidence for one person) that had found something.
    pub sources: usize,
}

impl Progress {
    /// Shown only when asked for and stderr is a terminal.
    pub fn new(enabled: bool) -> Self {
        let shown = enabled && std::io::stderr().is_terminal();
        Progress {
            bars: shown.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            tally: Tally::default(),
        }
    }

    pub fn hidden() -> Self {
        Progress {
            bars: None,
            tally: Tally::default(),
        }
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
            username: username.to_string(),
            tally: Arc::clone(&self.tally),
        }
    }

    /// The items found so far, over every subject and source.
    pub fn collected(&self) -> Collected {
        let tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        let found = tally.iter().filter(|(_, _, n)| *n > 0);
        Collected {
            items: found.clone().map(|(_, _, n)| n).sum(),
            sources: found.count(),
        }
    }
}

/// One subject's line: counts per source, updated as pages arrive.
pub struct SubjectProgress {
    bar: Option<ProgressBar>,
    username: String,
    tally: Tally,
}

impl SubjectProgress {
    pub fn set(&self, what: &'static str, count: usize) {
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        match tally
            .iter_mut()
            .find(|(user, name, _)| *name == what && *user == self.username)
        {
            Some(entry) => entry.2 = count,
            None => tally.push((self.username.clone(), what, count)),
        }
        let Some(bar) = &self.bar else { return };
        let line: Vec<String> = tally
            .iter()
            .filter(|(user, _, _)| *user == self.username)
            .map(|(_, n, c)| format!("{c} {n}"))
            .collect();
        bar.set_message(line.join(", "));
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_kept_without_a_display() {
        let progress = Progress::hidden();
        let alice = progress.subject("alice");
        let bob = progress.subject("bob");
        alice.set("merge requests", 20);
        alice.set("merge requests", 40);
        alice.set("issues", 3);
        bob.set("merge requests", 5);
        bob.set("epics", 0);
        assert_eq!(
            progress.collected(),
            Collected {
                items: 48,
                sources: 3
            }
        );
    }
}
