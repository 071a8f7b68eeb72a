//! Behaviour that every [`MessageBus`] implementation must show, one public async function per
//! case.
//!
//! Each function creates its own queues under unique names, so all cases can share one bus and
//! run in parallel. They panic on failure, like test code. [`conformance_tests!`] expands to one
//! test per case:
//!
//! ```no_run
//! async fn pg_bus() -> std::sync::Arc<bus::PgBus> {
//!     let url = "postgres://dbagent:secret@127.0.0.1:5432/control";
//!     std::sync::Arc::new(bus::PgBus::connect(url).await.unwrap())
//! }
//!
//! bus::conformance_tests!(pg_bus);
//! # fn main() {}
//! ```
//!
//! Lock durations and windows are 1 to 2 seconds, so the cases that wait for expiry take about
//! that long each.
//!
//! [`conformance_tests!`]: crate::conformance_tests

mod basics;
mod concurrency;
mod dead_letter;
mod locks;

use std::time::Duration;

pub use basics::{
    create_queue_is_idempotent, duplicate_send_is_dropped, fifo_order_is_kept,
    message_id_reusable_after_window, missing_queue_is_not_found, receive_waits_for_send,
    scheduled_message_waits_until_due, send_receive_complete, send_to_dead_letter_queue_fails,
};
pub use concurrency::concurrent_consumers_receive_each_once;
pub use dead_letter::{
    dead_lettered_message_reaches_dlq, expired_locks_count_toward_max_delivery,
    max_delivery_count_moves_to_dlq,
};
pub use locks::{
    abandoned_message_is_redelivered, expired_lock_redelivers_message,
    renewed_lock_outlasts_duration, stale_token_complete_is_lock_lost,
};

use crate::{Delivery, MessageBus, QueueOptions};

/// Expands to one `#[tokio::test(flavor = "multi_thread")]` per conformance case.
///
/// The argument is a function or closure taking no arguments and returning a future of a
/// pointer to the bus, such as `Arc<PgBus>` or `Box<dyn MessageBus>`. It is called once per
/// test, because each test has its own Tokio runtime. The calling crate needs `tokio` with the
/// `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! conformance_tests {
    ($make_bus:expr) => {
        $crate::conformance_tests!(@cases $make_bus;
            send_receive_complete,
            receive_waits_for_send,
            fifo_order_is_kept,
            missing_queue_is_not_found,
            create_queue_is_idempotent,
            send_to_dead_letter_queue_fails,
            duplicate_send_is_dropped,
            message_id_reusable_after_window,
            scheduled_message_waits_until_due,
            expired_lock_redelivers_message,
            renewed_lock_outlasts_duration,
            abandoned_message_is_redelivered,
            stale_token_complete_is_lock_lost,
            dead_lettered_message_reaches_dlq,
            max_delivery_count_moves_to_dlq,
            expired_locks_count_toward_max_delivery,
            concurrent_consumers_receive_each_once,
        );
    };
    (@cases $make_bus:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $case() {
                let bus = ($make_bus)().await;
                $crate::conformance::$case(&*bus).await;
            }
        )+
    };
}

/// Waits generous enough for a loaded machine, for receives that must find a message.
const PATIENCE: Duration = Duration::from_secs(10);

/// A short wait for receives that must come back empty.
const BRIEF: Duration = Duration::from_millis(300);

/// Returns a queue name that no other case or test run uses.
fn unique_queue(case: &str) -> String {
    format!("conformance-{case}-{}", uuid::Uuid::new_v4().simple())
}

/// Creates a queue with a unique name and the given options.
async fn new_queue(bus: &dyn MessageBus, case: &str, options: QueueOptions) -> String {
    let queue = unique_queue(case);
    bus.create_queue(&queue, options)
        .await
        .unwrap_or_else(|error| panic!("failed to create queue {queue}: {error}"));
    queue
}

/// Options with a lock short enough to let cases wait for it to expire.
fn short_lock(lock: Duration) -> QueueOptions {
    QueueOptions {
        lock_duration: lock,
        ..QueueOptions::default()
    }
}

/// Receives exactly one message within [`PATIENCE`], or panics.
async fn receive_one(bus: &dyn MessageBus, queue: &str) -> Delivery {
    let mut batch = bus
        .receive(queue, 1, PATIENCE)
        .await
        .unwrap_or_else(|error| panic!("receive from {queue} failed: {error}"));
    assert_eq!(batch.len(), 1, "expected one message from {queue}");
    batch.remove(0)
}

/// Asserts that nothing is ready in `queue` for [`BRIEF`].
async fn assert_empty(bus: &dyn MessageBus, queue: &str) {
    let batch = bus
        .receive(queue, 10, BRIEF)
        .await
        .unwrap_or_else(|error| panic!("receive from {queue} failed: {error}"));
    let ids: Vec<&str> = batch.iter().map(|d| d.message_id.as_str()).collect();
    assert!(
        ids.is_empty(),
        "expected {queue} to be empty, received {ids:?}"
    );
}
