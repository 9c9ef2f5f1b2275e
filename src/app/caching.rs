//! Opening the incremental cache for a harvest: where it lives, whether to use it, and what it
//! is keyed by. A cache that cannot be opened is a warning; the harvest goes on without it.

use std::sync::Arc;

use url::Url;

use crate::cache::{Cache, CacheMode};
use crate::config::{Config, Secret};
use crate::harvest::incremental::RunCache;

/// The cache for this run, or none (`--no-cache`, `cache.enabled = false`, or it cannot be
/// opened).
pub(super) fn open(
    mode: CacheMode,
    config: &Config,
    base_url: &Url,
    token: &Secret,
) -> Option<Arc<RunCache>> {
    if mode == CacheMode::Off || !config.cache.enabled {
        return None;
    }
    let Some(dir) = config.cache.dir.clone().or_else(Cache::default_dir) else {
        tracing::warn!(
            "no cache directory (neither XDG_CACHE_HOME nor HOME is set): reading everything from GitLab; set cache.dir to keep a cache"
        );
        return None;
    };
    let max_age = chrono::Duration::days(i64::from(config.cache.max_age_days));
    let cache = match Cache::open(&dir, max_age) {
        Ok(cache) => cache,
        Err(e) => {
            tracing::warn!("{e}; reading everything from GitLab without a cache");
            return None;
        }
    };
    tracing::debug!("cache: {} ({mode:?})", cache.path().display());
    let viewer = cache.fingerprint(token);
    // As snapshots name the instance: one cache never mixes instances.
    let instance = base_url.as_str().trim_end_matches('/').to_string();
    Some(Arc::new(RunCache::new(cache, mode, instance, viewer)))
}

/// The cache's last writes and its closing, finished on a thread of their own while the command
/// goes on (writing the snapshot, rendering); waited for when this is dropped, so the process
/// never ends with a write half done.
pub(super) struct Closing(Option<std::thread::JoinHandle<()>>);

impl Closing {
    pub(super) fn start(cache: Option<Arc<RunCache>>) -> Closing {
        let Some(cache) = cache else {
            return Closing(None);
        };
        let closing = std::thread::Builder::new()
            .name("cache close".into())
            .spawn(move || {
                cache.finish_writes();
                // The last handle: SQLite folds its log into the file and closes.
                drop(cache);
            });
        // Without a thread, the writes are waited for as the handle drops here.
        Closing(closing.ok())
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        if let Some(closing) = self.0.take() {
            let _ = closing.join();
        }
    }
}
