//! Receiving under a peek-lock, with waiting for messages to arrive.

use std::pin::pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;
use tokio_postgres::{Client, Row};

use super::backoff::Backoff;
use super::schema::CHANNEL;
use super::{PgBus, errors};
use crate::{
    Delivery, Error, LockToken, MAX_DELIVERY_COUNT_EXCEEDED, Result, parent_of_dead_letter_queue,
};

/// Locks the first ready messages in sequence order. A message whose lock expired is ready
/// again, and the new token replaces the old one, so the old holder can no longer settle it.
/// Messages at the maximum delivery count are left for [`DEAD_LETTER_EXHAUSTED`].
const CLAIM: &str = "
WITH queue AS (
    SELECT lock_duration_ms * interval '1 millisecond' AS lock_duration, max_delivery_count
    FROM dbagent_bus.queues WHERE name = $1
), ready AS (
    SELECT m.sequence_number
    FROM dbagent_bus.messages m, queue q
    WHERE m.queue = $1
      AND m.visible_at <= now()
      AND (q.max_delivery_count IS NULL OR m.delivery_count < q.max_delivery_count)
    ORDER BY m.sequence_number
    LIMIT $2
    FOR UPDATE OF m SKIP LOCKED
)
UPDATE dbagent_bus.messages m
SET lock_token = gen_random_uuid(),
    locked_until = now() + q.lock_duration,
    visible_at = now() + q.lock_duration,
    delivery_count = m.delivery_count + 1
FROM ready r, queue q
WHERE m.sequence_number = r.sequence_number
RETURNING m.sequence_number, m.lock_token, m.locked_until, m.delivery_count, m.enqueued_at,
    m.message_id, m.correlation_id, m.body, m.dead_letter_reason, m.dead_letter_description";

/// Moves ready messages that reached the maximum delivery count to the dead-letter queue, and
/// notifies its receivers. The description follows the one Service Bus writes.
const DEAD_LETTER_EXHAUSTED: &str = "
WITH exhausted AS (
    SELECT m.sequence_number, q.dead_letter_queue, q.max_delivery_count
    FROM dbagent_bus.messages m JOIN dbagent_bus.queues q ON q.name = m.queue
    WHERE m.queue = $1 AND m.visible_at <= now() AND m.delivery_count >= q.max_delivery_count
    FOR UPDATE OF m SKIP LOCKED
), moved AS (
    UPDATE dbagent_bus.messages m
    SET queue = e.dead_letter_queue, lock_token = NULL, locked_until = NULL, visible_at = now(),
        delivery_count = 0, dead_letter_reason = $2,
        dead_letter_description = format(
            'Message could not be consumed after %s delivery attempts.', e.max_delivery_count)
    FROM exhausted e
    WHERE m.sequence_number = e.sequence_number
    RETURNING m.queue
)
SELECT pg_notify($3, min(queue)) FROM moved HAVING count(*) > 0";

/// Whether the queue exists, and when its next message becomes ready, by the database clock.
/// For a dead-letter queue, messages of its parent that will move to it count as well.
const NEXT_READY: &str = "
SELECT
    EXISTS (SELECT 1 FROM dbagent_bus.queues WHERE name = $1) AS queue_exists,
    least(
        (SELECT min(visible_at) FROM dbagent_bus.messages WHERE queue = $1),
        (SELECT min(m.visible_at)
         FROM dbagent_bus.messages m JOIN dbagent_bus.queues q ON q.name = m.queue
         WHERE m.queue = $2 AND m.delivery_count >= q.max_delivery_count)
    ) AS next_visible_at,
    now() AS now";

/// Shortest sleep between two looks at a queue, so that a message that is ready but briefly
/// locked by another transaction does not make a receiver spin.
const MIN_WAIT: Duration = Duration::from_millis(20);

const RETRY_INITIAL: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(2);

/// Result of one look at a queue.
enum Attempt {
    Delivered(Vec<Delivery>),
    /// Nothing ready; the next message becomes ready after this long, if one is queued.
    Empty(Option<Duration>),
}

pub(super) async fn receive(
    bus: &PgBus,
    queue: &str,
    max_messages: u32,
    max_wait: Duration,
) -> Result<Vec<Delivery>> {
    if max_messages == 0 {
        return Err(Error::invalid(
            "max_messages",
            "0",
            "receive at least one message",
        ));
    }
    let deadline = Instant::now() + max_wait;
    let waker = bus.wakers.subscribe(queue);
    let mut retry = Backoff::new(RETRY_INITIAL, RETRY_MAX);
    loop {
        // Registered before looking, so that a send between the look and the wait still wakes
        // this receiver.
        let mut notified = pin!(waker.notified());
        notified.as_mut().enable();

        let (wait, failure) = match attempt(bus, queue, max_messages).await {
            Ok(Attempt::Delivered(deliveries)) => return Ok(deliveries),
            Ok(Attempt::Empty(next_ready)) => {
                retry.reset();
                let poll = bus.options.poll_interval;
                (next_ready.map_or(poll, |ready| ready.min(poll)), None)
            }
            Err(error) if error.is_retryable() => (retry.next_delay(), Some(error)),
            Err(error) => return Err(error),
        };

        let now = Instant::now();
        if now >= deadline {
            return failure.map_or(Ok(Vec::new()), Err);
        }
        if let Some(error) = &failure {
            tracing::warn!(queue, %error, ?wait, "receive failed; retrying while time remains");
        }
        tokio::select! {
            _ = notified => tracing::debug!(queue, "receiver woken"),
            _ = tokio::time::sleep(wait.max(MIN_WAIT).min(deadline - now)) => {}
        }
    }
}

/// Dead-letters exhausted messages, then claims ready ones or finds when the next is due.
async fn attempt(bus: &PgBus, queue: &str, max_messages: u32) -> Result<Attempt> {
    let action = format!("receive from queue `{queue}`");
    let client = bus.client(&action).await?;
    let source = parent_of_dead_letter_queue(queue).unwrap_or(queue);
    client
        .execute(
            DEAD_LETTER_EXHAUSTED,
            &[&source, &MAX_DELIVERY_COUNT_EXCEEDED, &CHANNEL],
        )
        .await
        .map_err(|error| errors::from_client(&action, error))?;

    let rows = client
        .query(CLAIM, &[&queue, &i64::from(max_messages)])
        .await
        .map_err(|error| errors::from_client(&action, error))?;
    if rows.is_empty() {
        return next_ready(&client, queue)
            .await
            .map_err(|error| errors::from_client(&action, error))?
            .map(Attempt::Empty)
            .ok_or_else(|| Error::QueueNotFound {
                queue: queue.to_owned(),
            });
    }

    let mut deliveries = rows
        .iter()
        .map(delivery)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| errors::from_client(&action, error))?;
    // UPDATE ... RETURNING yields rows in no particular order.
    deliveries.sort_by_key(|delivery| delivery.sequence_number);
    log_deliveries(queue, &deliveries);
    Ok(Attempt::Delivered(deliveries))
}

/// Returns `None` when the queue does not exist, else the time until its next message is
/// ready, which is `None` for an empty queue.
async fn next_ready(
    client: &Client,
    queue: &str,
) -> Result<Option<Option<Duration>>, tokio_postgres::Error> {
    let parent = parent_of_dead_letter_queue(queue);
    let row = client.query_one(NEXT_READY, &[&queue, &parent]).await?;
    if !row.try_get::<_, bool>("queue_exists")? {
        return Ok(None);
    }
    let next: Option<DateTime<Utc>> = row.try_get("next_visible_at")?;
    let now: DateTime<Utc> = row.try_get("now")?;
    // A time already past becomes zero; the caller's minimum wait prevents spinning.
    Ok(Some(
        next.map(|next| (next - now).to_std().unwrap_or_default()),
    ))
}

fn delivery(row: &Row) -> Result<Delivery, tokio_postgres::Error> {
    let lock_token: uuid::Uuid = row.try_get("lock_token")?;
    let delivery_count: i32 = row.try_get("delivery_count")?;
    Ok(Delivery {
        lock_token: LockToken::new(lock_token.to_string()),
        locked_until: row.try_get("locked_until")?,
        delivery_count: u32::try_from(delivery_count).unwrap_or_default(),
        sequence_number: row.try_get("sequence_number")?,
        enqueued_time: row.try_get("enqueued_at")?,
        message_id: row.try_get("message_id")?,
        correlation_id: row.try_get("correlation_id")?,
        body: row.try_get("body")?,
        dead_letter_reason: row.try_get("dead_letter_reason")?,
        dead_letter_description: row.try_get("dead_letter_description")?,
    })
}

fn log_deliveries(queue: &str, deliveries: &[Delivery]) {
    for delivery in deliveries {
        tracing::debug!(
            queue,
            message.id = %delivery.message_id,
            sequence_number = delivery.sequence_number,
            delivery_count = delivery.delivery_count,
            "message locked for receiver"
        );
    }
}
