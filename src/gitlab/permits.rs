//! The requests allowed in flight at once, handed out urgent ones first.
//!
//! A harvest mixes two kinds of request. Most follow a chain: the next page of a list can only be
//! asked once the page before has answered with its cursor, and a list of thirty pages takes
//! thirty round trips however wide the pipe. Others are bulk: the pages of a REST list whose
//! number the first page announced, all known at once. In a plain first-come queue forty bulk
//! pages queued at once make every chain wait behind them at each of its steps; served first,
//! the chains keep moving and the bulk fills every slot they leave free, so the harvest ends when
//! the total work allows rather than when the longest chain, slowed down, finally does.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::oneshot;

/// How soon a request should go out when several are waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Something waits on its answer to ask the next thing.
    Urgent,
    /// One of many requests known at once; nothing follows from it alone.
    Bulk,
}

/// A counting semaphore whose waiters are served urgent first, then in arrival order.
#[derive(Debug)]
pub(crate) struct Permits {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    free: usize,
    urgent: VecDeque<oneshot::Sender<()>>,
    bulk: VecDeque<oneshot::Sender<()>>,
}

/// One request's place in flight; given back when dropped.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    permits: &'a Permits,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.permits.release();
    }
}

impl Permits {
    pub(crate) fn new(count: usize) -> Permits {
        Permits {
            state: Mutex::new(State {
                free: count.max(1),
                urgent: VecDeque::new(),
                bulk: VecDeque::new(),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned one still has sound counts.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) async fn acquire(&self, priority: Priority) -> Permit<'_> {
        let receiver = {
            let mut state = self.state();
            if state.free > 0 {
                state.free -= 1;
                return Permit { permits: self };
            }
            let (sender, receiver) = oneshot::channel();
            match priority {
                Priority::Urgent => state.urgent.push_back(sender),
                Priority::Bulk => state.bulk.push_back(sender),
            }
            receiver
        };
        let mut waiting = Waiting {
            permits: self,
            receiver,
            granted: false,
        };
        // The sender lives in the queue until `release` hands it a permit: it is never dropped
        // unanswered.
        let _ = (&mut waiting.receiver).await;
        waiting.granted = true;
        Permit { permits: self }
    }

    /// Hands the permit to the next waiter still waiting, urgent first, or frees it.
    fn release(&self) {
        let mut state = self.state();
        loop {
            let next = match state.urgent.pop_front() {
                Some(next) => next,
                None => match state.bulk.pop_front() {
                    Some(next) => next,
                    None => {
                        state.free += 1;
                        return;
                    }
                },
            };
            // A waiter that gave up (its request was cancelled) cannot take it: try the next.
            if next.send(()).is_ok() {
                return;
            }
        }
    }
}

/// A waiter in the queue. Dropped before its turn came, it closes its channel; dropped just
/// after a permit was handed to it but before it woke, it passes the permit on.
struct Waiting<'a> {
    permits: &'a Permits,
    receiver: oneshot::Receiver<()>,
    granted: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.granted {
            return;
        }
        self.receiver.close();
        if self.receiver.try_recv().is_ok() {
            self.permits.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[tokio::test]
    async fn urgent_waiters_go_before_bulk_ones_that_came_earlier() {
        let permits = Arc::new(Permits::new(1));
        let order = Arc::new(Mutex::new(Vec::new()));
        let held = permits.acquire(Priority::Urgent).await;
        let mut tasks = Vec::new();
        for (name, priority) in [
            ("bulk 1", Priority::Bulk),
            ("bulk 2", Priority::Bulk),
            ("urgent", Priority::Urgent),
        ] {
            let (permits, order) = (permits.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = permits.acquire(priority).await;
                order.lock().unwrap().push(name);
            }));
            // Queued in this order.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(held);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["urgent", "bulk 1", "bulk 2"]);
    }

    #[tokio::test]
    async fn never_more_in_flight_than_permits() {
        let permits = Arc::new(Permits::new(3));
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let (permits, in_flight, most) = (permits.clone(), in_flight.clone(), most.clone());
                tokio::spawn(async move {
                    let priority = if i % 2 == 0 {
                        Priority::Urgent
                    } else {
                        Priority::Bulk
                    };
                    let _permit = permits.acquire(priority).await;
                    let now = in_flight.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 3);
        assert_eq!(permits.state().free, 3, "every permit came back");
    }

    #[tokio::test]
    async fn a_cancelled_waiter_does_not_lose_a_permit() {
        let permits = Permits::new(1);
        let held = permits.acquire(Priority::Urgent).await;
        // Gives up while queued.
        let gave_up =
            tokio::time::timeout(Duration::from_millis(10), permits.acquire(Priority::Bulk)).await;
        assert!(gave_up.is_err());
        drop(held);
        let again =
            tokio::time::timeout(Duration::from_millis(100), permits.acquire(Priority::Bulk)).await;
        assert!(
            again.is_ok(),
            "the permit went to a live waiter or back to the pool"
        );
        drop(again);
        assert_eq!(permits.state().free, 1);
    }
}
