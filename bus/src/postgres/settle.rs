//! Settling locked messages: complete, abandon, dead-letter and renew.
//!
//! Each statement matches the message by queue, lock token and an unexpired lock, so a token
//! that expired, was replaced by a later receive, or was already used matches nothing.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::schema::CHANNEL;
use super::{PgBus, errors, queues};
use crate::{Error, LockToken, MAX_DELIVERY_COUNT_EXCEEDED, Result, parent_of_dead_letter_queue};

const COMPLETE: &str = "
DELETE FROM dbagent_bus.messages
WHERE queue = $1 AND lock_token = $2 AND locked_until > now()";

/// Releases the lock and notifies receivers. A message at the maximum delivery count moves to
/// the dead-letter queue in the same statement, as Service Bus does on abandon.
const ABANDON: &str = "
WITH target AS (
    SELECT m.sequence_number, q.dead_letter_queue, q.max_delivery_count,
        coalesce(m.delivery_count >= q.max_delivery_count, false) AS exhausted
    FROM dbagent_bus.messages m JOIN dbagent_bus.queues q ON q.name = m.queue
    WHERE m.queue = $1 AND m.lock_token = $2 AND m.locked_until > now()
    FOR UPDATE OF m
), released AS (
    UPDATE dbagent_bus.messages m
    SET lock_token = NULL, locked_until = NULL, visible_at = now(),
        queue = CASE WHEN t.exhausted THEN t.dead_letter_queue ELSE m.queue END,
        delivery_count = CASE WHEN t.exhausted THEN 0 ELSE m.delivery_count END,
        dead_letter_reason = CASE WHEN t.exhausted THEN $3 ELSE m.dead_letter_reason END,
        dead_letter_description = CASE WHEN t.exhausted THEN format(
            'Message could not be consumed after %s delivery attempts.', t.max_delivery_count)
            ELSE m.dead_letter_description END
    FROM target t
    WHERE m.sequence_number = t.sequence_number
    RETURNING m.queue
)
SELECT queue, pg_notify($4, queue) FROM released";

const DEAD_LETTER: &str = "
WITH moved AS (
    UPDATE dbagent_bus.messages m
    SET queue = q.dead_letter_queue, lock_token = NULL, locked_until = NULL, visible_at = now(),
        delivery_count = 0, dead_letter_reason = $3, dead_letter_description = $4
    FROM dbagent_bus.queues q
    WHERE q.name = m.queue AND m.queue = $1 AND m.lock_token = $2 AND m.locked_until > now()
    RETURNING m.queue
)
SELECT pg_notify($5, queue) FROM moved";

const RENEW: &str = "
UPDATE dbagent_bus.messages m
SET locked_until = now() + q.lock_duration_ms * interval '1 millisecond',
    visible_at = now() + q.lock_duration_ms * interval '1 millisecond'
FROM dbagent_bus.queues q
WHERE q.name = m.queue AND m.queue = $1 AND m.lock_token = $2 AND m.locked_until > now()
RETURNING m.locked_until";

pub(super) async fn complete(bus: &PgBus, queue: &str, lock_token: &LockToken) -> Result<()> {
    let token = parse_token(lock_token)?;
    let action = format!("complete the message locked by {lock_token} in queue `{queue}`");
    let client = bus.client(&action).await?;
    let deleted = client
        .execute(COMPLETE, &[&queue, &token])
        .await
        .map_err(|error| errors::from_client(&action, error))?;
    if deleted == 0 {
        return Err(queues::lock_failure(&client, queue, lock_token).await);
    }
    tracing::debug!(queue, %lock_token, "message completed");
    Ok(())
}

pub(super) async fn abandon(bus: &PgBus, queue: &str, lock_token: &LockToken) -> Result<()> {
    let token = parse_token(lock_token)?;
    let action = format!("abandon the message locked by {lock_token} in queue `{queue}`");
    let client = bus.client(&action).await?;
    let rows = client
        .query(
            ABANDON,
            &[&queue, &token, &MAX_DELIVERY_COUNT_EXCEEDED, &CHANNEL],
        )
        .await
        .map_err(|error| errors::from_client(&action, error))?;
    let Some(row) = rows.first() else {
        return Err(queues::lock_failure(&client, queue, lock_token).await);
    };
    // The queue the message is in now: the dead-letter queue if this was its last delivery.
    let now_in: String = row
        .try_get("queue")
        .map_err(|error| errors::from_client(&action, error))?;
    tracing::debug!(queue, %lock_token, now_in, "message abandoned");
    bus.wakers.wake(&now_in);
    Ok(())
}

pub(super) async fn dead_letter(
    bus: &PgBus,
    queue: &str,
    lock_token: &LockToken,
    reason: &str,
    description: &str,
) -> Result<()> {
    if parent_of_dead_letter_queue(queue).is_some() {
        return Err(Error::invalid(
            "queue",
            queue,
            "a dead-lettered message cannot be dead-lettered again; complete it instead",
        ));
    }
    let token = parse_token(lock_token)?;
    let action = format!("dead-letter the message locked by {lock_token} in queue `{queue}`");
    let client = bus.client(&action).await?;
    let rows = client
        .query(
            DEAD_LETTER,
            &[&queue, &token, &reason, &description, &CHANNEL],
        )
        .await
        .map_err(|error| errors::from_client(&action, error))?;
    if rows.is_empty() {
        return Err(queues::lock_failure(&client, queue, lock_token).await);
    }
    tracing::debug!(queue, %lock_token, reason, "message dead-lettered");
    bus.wakers.wake(&crate::dead_letter_queue_name(queue));
    Ok(())
}

pub(super) async fn renew_lock(
    bus: &PgBus,
    queue: &str,
    lock_token: &LockToken,
) -> Result<DateTime<Utc>> {
    let token = parse_token(lock_token)?;
    let action = format!("renew lock {lock_token} in queue `{queue}`");
    let client = bus.client(&action).await?;
    let row = client
        .query_opt(RENEW, &[&queue, &token])
        .await
        .map_err(|error| errors::from_client(&action, error))?;
    let Some(row) = row else {
        return Err(queues::lock_failure(&client, queue, lock_token).await);
    };
    let locked_until = row
        .try_get(0)
        .map_err(|error| errors::from_client(&action, error))?;
    tracing::debug!(queue, %lock_token, %locked_until, "lock renewed");
    Ok(locked_until)
}

/// Parses a token as a UUID, the form of every token this bus issues.
fn parse_token(lock_token: &LockToken) -> Result<Uuid> {
    Uuid::parse_str(lock_token.as_str()).map_err(|_| {
        Error::invalid(
            "lock token",
            lock_token.as_str(),
            "not a lock token issued by the PostgreSQL bus",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_token_is_invalid() {
        let error = parse_token(&LockToken::new("not-a-uuid")).unwrap_err();
        assert!(matches!(error, Error::Invalid { .. }), "{error}");
    }

    #[test]
    fn uuid_token_parses() {
        let token = Uuid::new_v4();
        let parsed = parse_token(&LockToken::new(token.to_string())).unwrap();
        assert_eq!(parsed, token);
    }
}
