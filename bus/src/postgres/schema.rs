//! Tables of the bus in its own schema, created on connect.

use tokio_postgres::{Client, GenericClient};

/// Schema that contains the bus's tables in the control database.
pub const SCHEMA: &str = "dbagent_bus";

/// `NOTIFY` channel that carries the name of a queue that has a new ready message.
pub(crate) const CHANNEL: &str = "dbagent_bus";

/// Key of the transaction-level advisory lock that serializes schema creation, because two
/// processes running `CREATE ... IF NOT EXISTS` at once can both pass the check and then one
/// fails on a unique index of the catalog. The value spells "dbagbus" in ASCII.
const SCHEMA_LOCK_KEY: i64 = 0x0064_6261_6762_7573;

/// The whole schema. Every statement is idempotent.
///
/// `visible_at` is when a message can next be received: its scheduled time, the end of its
/// current lock, or the time it was released. A message whose `lock_token` is set but whose
/// `visible_at` has passed has an expired lock and is receivable.
const DDL: &str = r#"
CREATE SCHEMA IF NOT EXISTS dbagent_bus;

CREATE TABLE IF NOT EXISTS dbagent_bus.queues (
    name text PRIMARY KEY,
    dead_letter_queue text,
    lock_duration_ms bigint NOT NULL CHECK (lock_duration_ms > 0),
    max_delivery_count integer CHECK (max_delivery_count > 0),
    duplicate_detection_window_ms bigint NOT NULL CHECK (duplicate_detection_window_ms >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS dbagent_bus.messages (
    sequence_number bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue text NOT NULL REFERENCES dbagent_bus.queues (name) ON DELETE CASCADE,
    message_id text NOT NULL,
    correlation_id text,
    body text NOT NULL,
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    visible_at timestamptz NOT NULL,
    delivery_count integer NOT NULL DEFAULT 0,
    lock_token uuid UNIQUE,
    locked_until timestamptz,
    dead_letter_reason text,
    dead_letter_description text
);

CREATE INDEX IF NOT EXISTS messages_queue_sequence
    ON dbagent_bus.messages (queue, sequence_number);
CREATE INDEX IF NOT EXISTS messages_queue_visible
    ON dbagent_bus.messages (queue, visible_at);

CREATE TABLE IF NOT EXISTS dbagent_bus.duplicates (
    queue text NOT NULL REFERENCES dbagent_bus.queues (name) ON DELETE CASCADE,
    message_id text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (queue, message_id)
);

CREATE INDEX IF NOT EXISTS duplicates_expires ON dbagent_bus.duplicates (expires_at);
"#;

/// The object that [`DDL`] creates last, in [`SCHEMA`]; once it exists, the schema is complete.
const LAST_OBJECT: &str = "duplicates_expires";

/// Creates the schema unless it exists; safe to run from several processes at once.
///
/// Running the DDL is avoided when the schema is complete, because `CREATE INDEX IF NOT EXISTS`
/// takes a `SHARE` lock on its table before it checks, and holding those locks on several
/// tables in one transaction deadlocks with other processes' sends.
pub(crate) async fn ensure(client: &mut Client) -> Result<(), tokio_postgres::Error> {
    if is_complete(client).await? {
        return Ok(());
    }
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK_KEY])
        .await?;
    // Another process may have finished while this one waited for the lock.
    if !is_complete(&transaction).await? {
        transaction.batch_execute(DDL).await?;
        tracing::info!(schema = SCHEMA, "bus schema created");
    }
    transaction.commit().await
}

/// Looks the last object up in `pg_class` with the statement's own snapshot. `to_regclass` may
/// read a catalog cache older than another process's commit, and the DDL then runs again and
/// deadlocks with that process's sends.
async fn is_complete(client: &impl GenericClient) -> Result<bool, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2)",
            &[&SCHEMA, &LAST_OBJECT],
        )
        .await?;
    row.try_get(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_ends_with_last_object() {
        let last_statement = DDL.trim_end().rsplit(';').nth(1).unwrap_or_default();
        assert!(last_statement.contains(LAST_OBJECT), "{last_statement}");
    }

    #[test]
    fn ddl_creates_tables_in_bus_schema() {
        for table in ["queues", "messages", "duplicates"] {
            let qualified = format!("CREATE TABLE IF NOT EXISTS {SCHEMA}.{table}");
            assert!(DDL.contains(&qualified), "{qualified}");
        }
    }
}
