//! What the subjects of one run share: reads whose answer is the same for everyone (a project's
//! on-call shifts, its incidents' timelines, which projects are private), made once per run
//! however many subjects ask. A team of forty costs one read of the on-call schedule, not forty.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// Each key read once per run; later askers wait for the first read and share its answer.
#[derive(Debug)]
pub(crate) struct OncePerRun<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K, V> Default for OncePerRun<K, V> {
    fn default() -> Self {
        OncePerRun {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> OncePerRun<K, V> {
    /// The answer for `key`: `read` (a future, run only if needed) if no one has read it, else
    /// the answer already read.
    pub(crate) async fn get(&self, key: K, read: impl Future<Output = V>) -> V {
        let cell = {
            // A poisoned lock only means another task panicked: the map is still sound.
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            cells.entry(key).or_default().clone()
        };
        cell.get_or_init(|| read).await.clone()
    }
}

/// Project ids known to be private, and those known not to be; filled as subjects ask, with one
/// asker at a time so that overlapping asks do not read the same projects twice.
#[derive(Debug, Default)]
pub(crate) struct Visibility {
    pub known: tokio::sync::Mutex<HashMap<u64, bool>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn each_key_is_read_once() {
        let shared: OncePerRun<&str, u32> = OncePerRun::default();
        let reads = AtomicU32::new(0);
        let read = |value: u32| {
            let reads = &reads;
            async move {
                reads.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
                value
            }
        };
        let (a, b, c) = tokio::join!(
            shared.get("a", read(1)),
            shared.get("a", read(2)),
            shared.get("b", read(3)),
        );
        assert_eq!((a, b, c), (1, 1, 3));
        assert_eq!(reads.load(Ordering::Relaxed), 2);
    }
}
