//! Tables of the store, created on connect.

use deadpool_postgres::Pool;

use super::errors;
use crate::error::Error;

/// Key of the transaction-scoped advisory lock that serializes schema creation. `CREATE ... IF
/// NOT EXISTS` alone is not safe when two sessions run it at once: both may pass the existence
/// check and one then fails on a duplicate catalog entry.
const SCHEMA_LOCK_KEY: i64 = 0x6462_6167_5f73_746f; // "dbag_sto" in ASCII

/// The whole schema. Documents reference their container, so a write to a missing container
/// fails with a foreign key violation that the store reports as `ContainerNotFound`.
const SCHEMA: &str = "
CREATE SCHEMA IF NOT EXISTS dbagent_store;

CREATE TABLE IF NOT EXISTS dbagent_store.containers (
    name text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS dbagent_store.documents (
    container text NOT NULL REFERENCES dbagent_store.containers (name),
    partition_key text NOT NULL,
    id text NOT NULL,
    body jsonb NOT NULL,
    etag text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (container, partition_key, id)
);
";

/// Creates the schema unless it exists.
pub(super) async fn ensure(pool: &Pool) -> Result<(), Error> {
    let context = || "creating the dbagent_store schema".to_owned();
    let mut client = pool
        .get()
        .await
        .map_err(|error| errors::from_pool(context(), error))?;

    let transaction = client
        .transaction()
        .await
        .map_err(|error| errors::from_pg(context(), error))?;
    let created = async {
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK_KEY])
            .await?;
        transaction.batch_execute(SCHEMA).await?;
        transaction.commit().await
    };
    created
        .await
        .map_err(|error| errors::from_pg(context(), error))
}
