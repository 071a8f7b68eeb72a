//! In-process wake-ups for receivers that wait on a queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

/// One [`Notify`] per queue that has waiting receivers.
#[derive(Debug, Default)]
pub(crate) struct Wakers {
    queues: Mutex<HashMap<String, Arc<Notify>>>,
}

impl Wakers {
    /// Returns the queue's `Notify`, creating it if needed. Entries that no receiver uses any
    /// more are dropped here, so the map stays as small as the set of queues being waited on.
    pub(crate) fn subscribe(&self, queue: &str) -> Arc<Notify> {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        queues.retain(|_, notify| Arc::strong_count(notify) > 1);
        queues.entry(queue.to_owned()).or_default().clone()
    }

    /// Wakes every receiver waiting on `queue`.
    pub(crate) fn wake(&self, queue: &str) {
        let queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(notify) = queues.get(queue) {
            notify.notify_waiters();
        }
    }

    /// Wakes every waiting receiver, after notifications may have been missed.
    pub(crate) fn wake_all(&self) {
        let queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        for notify in queues.values() {
            notify.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const SHORT: Duration = Duration::from_millis(200);

    #[tokio::test]
    async fn wake_reaches_subscriber_of_queue() {
        let wakers = Wakers::default();
        let notify = wakers.subscribe("jobs");
        let notified = notify.notified();
        wakers.wake("jobs");
        assert!(tokio::time::timeout(SHORT, notified).await.is_ok());
    }

    #[tokio::test]
    async fn wake_skips_other_queues() {
        let wakers = Wakers::default();
        let notify = wakers.subscribe("jobs");
        let notified = notify.notified();
        wakers.wake("other");
        assert!(tokio::time::timeout(SHORT, notified).await.is_err());
    }

    #[tokio::test]
    async fn wake_all_reaches_every_queue() {
        let wakers = Wakers::default();
        let jobs = wakers.subscribe("jobs");
        let other = wakers.subscribe("other");
        let (jobs_notified, other_notified) = (jobs.notified(), other.notified());
        wakers.wake_all();
        assert!(tokio::time::timeout(SHORT, jobs_notified).await.is_ok());
        assert!(tokio::time::timeout(SHORT, other_notified).await.is_ok());
    }

    #[test]
    fn unused_entries_are_pruned() {
        let wakers = Wakers::default();
        drop(wakers.subscribe("jobs"));
        let _other = wakers.subscribe("other");
        let queues = wakers.queues.lock().unwrap();
        assert!(!queues.contains_key("jobs"));
    }
}
