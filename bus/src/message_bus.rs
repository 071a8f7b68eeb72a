use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{Delivery, LockToken, OutgoingMessage, QueueOptions, Result, SendOutcome};

/// A broker of queues with Service Bus peek-lock semantics.
///
/// A received message stays in its queue, locked to one receiver until the lock expires. The
/// receiver then settles it with its lock token: `complete` removes it, `abandon` releases it for
/// redelivery, and `dead_letter` moves it to the queue's dead-letter queue (named by
/// [`dead_letter_queue_name`](crate::dead_letter_queue_name)). A message delivered
/// `max_delivery_count` times without being completed moves there too. Every operation on a
/// dead-letter queue works as on an ordinary queue, except that it never dead-letters again.
#[async_trait]
pub trait MessageBus: Send + Sync {
    /// Creates a queue and its dead-letter queue, or updates the options of an existing one.
    async fn create_queue(&self, queue: &str, options: QueueOptions) -> Result<()>;

    /// Enqueues a message, or drops it as a duplicate when a message with the same id was sent to
    /// this queue within its duplicate-detection window.
    async fn send(&self, queue: &str, message: OutgoingMessage) -> Result<SendOutcome>;

    /// Receives up to `max_messages` ready messages in sequence order, each locked to this
    /// receiver for the queue's lock duration.
    ///
    /// Waits up to `max_wait` for a first message; returns an empty batch when none arrived.
    async fn receive(
        &self,
        queue: &str,
        max_messages: u32,
        max_wait: Duration,
    ) -> Result<Vec<Delivery>>;

    /// Removes a locked message from the queue for good.
    async fn complete(&self, queue: &str, lock_token: &LockToken) -> Result<()>;

    /// Releases the lock so that the message can be received again at once.
    async fn abandon(&self, queue: &str, lock_token: &LockToken) -> Result<()>;

    /// Moves a locked message to the queue's dead-letter queue with a reason and description.
    async fn dead_letter(
        &self,
        queue: &str,
        lock_token: &LockToken,
        reason: &str,
        description: &str,
    ) -> Result<()>;

    /// Extends the lock by the queue's lock duration from now and returns its new end.
    async fn renew_lock(&self, queue: &str, lock_token: &LockToken) -> Result<DateTime<Utc>>;

    /// Stops background work and closes connections; later calls fail with `Error::Closed`.
    async fn close(&self) -> Result<()>;
}
