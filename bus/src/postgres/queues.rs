//! Creating queues and looking them up.

use std::time::Duration;

use tokio_postgres::Client;

use super::{PgBus, errors};
use crate::{Error, QueueOptions, Result, dead_letter_queue_name, validate_queue_name};

/// Inserts the queue and its dead-letter queue, or updates the options of both. A dead-letter
/// queue has no maximum delivery count, so its messages are never dead-lettered again, and no
/// duplicate-detection window, because sends to it are rejected.
const UPSERT: &str = "
INSERT INTO dbagent_bus.queues AS q
    (name, dead_letter_queue, lock_duration_ms, max_delivery_count, duplicate_detection_window_ms)
VALUES ($1, $2, $3, $4, $5), ($2, NULL, $3, NULL, 0)
ON CONFLICT (name) DO UPDATE SET
    dead_letter_queue = EXCLUDED.dead_letter_queue,
    lock_duration_ms = EXCLUDED.lock_duration_ms,
    max_delivery_count = EXCLUDED.max_delivery_count,
    duplicate_detection_window_ms = EXCLUDED.duplicate_detection_window_ms";

pub(super) async fn create(bus: &PgBus, queue: &str, options: &QueueOptions) -> Result<()> {
    validate_queue_name(queue)?;
    options.validate()?;
    let lock_ms = millis("lock duration", options.lock_duration)?;
    let window_ms = millis(
        "duplicate-detection window",
        options.duplicate_detection_window,
    )?;
    let max_delivery_count = i32::try_from(options.max_delivery_count).map_err(|_| {
        Error::invalid(
            "maximum delivery count",
            &options.max_delivery_count.to_string(),
            "must fit in a 32-bit signed integer",
        )
    })?;

    let action = format!("create queue `{queue}`");
    let client = bus.client(&action).await?;
    let dead_letter_queue = dead_letter_queue_name(queue);
    client
        .execute(
            UPSERT,
            &[
                &queue,
                &dead_letter_queue,
                &lock_ms,
                &max_delivery_count,
                &window_ms,
            ],
        )
        .await
        .map_err(|error| errors::from_client(&action, error))?;
    tracing::debug!(queue, ?options, "queue created or updated");
    Ok(())
}

/// Error for a settle call that matched no message: the queue is missing, or the lock is lost.
pub(super) async fn lock_failure(
    client: &Client,
    queue: &str,
    lock_token: &crate::LockToken,
) -> Error {
    let action = format!("look up queue `{queue}`");
    match exists(client, queue).await {
        Ok(true) => Error::LockLost {
            queue: queue.to_owned(),
            lock_token: lock_token.clone(),
        },
        Ok(false) => Error::QueueNotFound {
            queue: queue.to_owned(),
        },
        Err(error) => errors::from_client(&action, error),
    }
}

async fn exists(client: &Client, queue: &str) -> Result<bool, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM dbagent_bus.queues WHERE name = $1)",
            &[&queue],
        )
        .await?;
    row.try_get(0)
}

fn millis(field: &'static str, duration: Duration) -> Result<i64> {
    i64::try_from(duration.as_millis())
        .map_err(|_| Error::invalid(field, &format!("{duration:?}"), "too long"))
}
