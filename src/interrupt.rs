//! Ctrl-C. During a harvest it stops the harvest, which then says how much it had collected and
//! writes nothing: a partial snapshot would look complete to the next command, and the previous
//! output file stays as it was. The exit code is 130, as for any program that SIGINT ended.
//!
//! Once a harvest has installed the handler it stays for the life of the process (the signal
//! cannot be handed back to the system), so a Ctrl-C at any other time (while rendering, or
//! sending email after the harvest) ends the process at once, as it would have without a
//! handler. Files are only ever replaced by renaming a complete temporary file
//! (`deliver::write_atomically`), so that never leaves a truncated output either.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Poll;

use tokio::sync::Notify;

/// The exit code of a run that Ctrl-C stopped: 128 + SIGINT, as shells expect.
pub const EXIT_CODE: i32 = 130;

/// The harvest to tell about Ctrl-C, while one runs.
static HARVEST: Mutex<Option<Arc<Notify>>> = Mutex::new(None);
/// Set by the first Ctrl-C: a second one does not wait for the harvest to wind down.
static PRESSED: AtomicBool = AtomicBool::new(false);
static WATCHER: OnceLock<bool> = OnceLock::new();

/// Watches for Ctrl-C while a harvest runs; the harvest ends its watch by dropping it.
pub struct HarvestWatch {
    notify: Arc<Notify>,
}

impl HarvestWatch {
    /// Installs the handler (once per process) and starts watching for this harvest.
    pub fn start() -> HarvestWatch {
        let watching = *WATCHER.get_or_init(start_watcher);
        if !watching {
            tracing::debug!("no Ctrl-C handler: Ctrl-C ends the harvest without a summary");
        }
        let notify = Arc::new(Notify::new());
        *lock() = Some(Arc::clone(&notify));
        HarvestWatch { notify }
    }

    /// Resolves when Ctrl-C is pressed during the harvest.
    pub async fn pressed(&self) {
        self.notify.notified().await;
    }
}

impl Drop for HarvestWatch {
    fn drop(&mut self) {
        *lock() = None;
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<Arc<Notify>>> {
    HARVEST.lock().unwrap_or_else(|e| e.into_inner())
}

/// A thread with its own small runtime that waits for Ctrl-C, for the rest of the process.
/// Returns once the handler is in place, so a Ctrl-C right after is never missed.
fn start_watcher() -> bool {
    let (ready, installed) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("ctrl-c".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(_) => return ready.send(false).unwrap_or(()),
            };
            runtime.block_on(async move {
                let mut first = Box::pin(tokio::signal::ctrl_c());
                // The first poll installs the handler (or fails to).
                let pressed = match futures::poll!(first.as_mut()) {
                    Poll::Ready(Err(_)) => return ready.send(false).unwrap_or(()),
                    Poll::Ready(Ok(())) => {
                        let _ = ready.send(true);
                        Ok(())
                    }
                    Poll::Pending => {
                        let _ = ready.send(true);
                        first.await
                    }
                };
                if pressed.is_err() {
                    return;
                }
                loop {
                    on_ctrl_c();
                    if tokio::signal::ctrl_c().await.is_err() {
                        return;
                    }
                }
            });
        });
    spawned.is_ok() && installed.recv().unwrap_or(false)
}

fn on_ctrl_c() {
    let harvest = lock().clone();
    match harvest {
        Some(notify) if !PRESSED.swap(true, Ordering::SeqCst) => notify.notify_one(),
        _ => {
            eprintln!("interrupted");
            std::process::exit(EXIT_CODE);
        }
    }
}
