//! Sending, with duplicate detection in the same statement.

use std::sync::atomic::Ordering;

use super::schema::CHANNEL;
use super::{PgBus, errors};
use crate::{Error, OutgoingMessage, Result, SendOutcome, parent_of_dead_letter_queue};

/// Records the message id unless it was recorded within the window, inserts the message only
/// when the record is new, and notifies receivers of an inserted message. The `ON CONFLICT`
/// clause makes two concurrent sends of one id insert one message.
const SEND: &str = "
WITH queue AS (
    SELECT name, duplicate_detection_window_ms FROM dbagent_bus.queues WHERE name = $1
), first_send AS (
    INSERT INTO dbagent_bus.duplicates AS d (queue, message_id, expires_at)
    SELECT name, $2, now() + duplicate_detection_window_ms * interval '1 millisecond' FROM queue
    ON CONFLICT (queue, message_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
        WHERE d.expires_at <= now()
    RETURNING d.queue
), inserted AS (
    INSERT INTO dbagent_bus.messages (queue, message_id, correlation_id, body, visible_at)
    SELECT queue, $2, $3, $4, greatest(now(), coalesce($5, now())) FROM first_send
    RETURNING sequence_number, queue
)
SELECT
    (SELECT count(*) FROM queue) AS queue_count,
    (SELECT sequence_number FROM inserted) AS sequence_number,
    (SELECT count(pg_notify($6, queue)) FROM inserted) AS notified";

/// Deletes expired duplicate-detection records in bounded batches.
const PRUNE_DUPLICATES: &str = "
DELETE FROM dbagent_bus.duplicates WHERE ctid IN (
    SELECT ctid FROM dbagent_bus.duplicates WHERE expires_at <= now() LIMIT 1000
)";

/// Sends between two prunes of expired duplicate-detection records, per `PgBus`.
const PRUNE_EVERY: u64 = 256;

pub(super) async fn send(
    bus: &PgBus,
    queue: &str,
    message: &OutgoingMessage,
) -> Result<SendOutcome> {
    message.validate()?;
    if parent_of_dead_letter_queue(queue).is_some() {
        return Err(Error::invalid(
            "queue",
            queue,
            "messages reach a dead-letter queue only by being dead-lettered",
        ));
    }
    let action = format!("send message `{}` to queue `{queue}`", message.message_id);
    let client = bus.client(&action).await?;
    let row = client
        .query_one(
            SEND,
            &[
                &queue,
                &message.message_id,
                &message.correlation_id,
                &message.body,
                &message.scheduled_enqueue_time,
                &CHANNEL,
            ],
        )
        .await
        .map_err(|error| errors::from_client(&action, error))?;
    let queue_count: i64 = row.get("queue_count");
    let sequence_number: Option<i64> = row.get("sequence_number");

    if bus.sends.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
        prune_duplicates(&client).await;
    }
    if queue_count == 0 {
        return Err(Error::QueueNotFound {
            queue: queue.to_owned(),
        });
    }
    let Some(sequence_number) = sequence_number else {
        tracing::debug!(queue, message.id = %message.message_id, "duplicate message dropped");
        return Ok(SendOutcome::Duplicate);
    };
    tracing::debug!(queue, message.id = %message.message_id, sequence_number, "message sent");
    // Receivers in this process need not wait for the notification's round trip.
    bus.wakers.wake(queue);
    Ok(SendOutcome::Accepted { sequence_number })
}

/// Pruning only saves space, so a failure is logged and the send still succeeds.
async fn prune_duplicates(client: &tokio_postgres::Client) {
    match client.execute(PRUNE_DUPLICATES, &[]).await {
        Ok(deleted) => tracing::debug!(deleted, "expired duplicate-detection records pruned"),
        Err(error) => tracing::warn!(%error, "failed to prune duplicate-detection records"),
    }
}
