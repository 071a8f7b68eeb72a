//! Facts about the server and the database as a whole.

use contracts::ReplicaFacts;
use tokio_postgres::{Client, Error, Row};

/// Reads `pg_database_size` of the connection's database.
pub async fn database_bytes(client: &Client) -> Result<u64, Error> {
    let row = client
        .query_one("SELECT pg_database_size(current_database())", &[])
        .await?;
    Ok(non_negative(row.get(0)))
}

/// Reads `maintenance_work_mem` of the runner's session in bytes, the memory that a build the
/// runner starts may sort in before it spills to disk.
pub async fn maintenance_work_mem_bytes(client: &Client) -> Result<u64, Error> {
    let row = client
        .query_one(
            "SELECT pg_size_bytes(current_setting('maintenance_work_mem'))",
            &[],
        )
        .await?;
    Ok(non_negative(row.get(0)))
}

pub async fn in_recovery(client: &Client) -> Result<bool, Error> {
    let row = client.query_one("SELECT pg_is_in_recovery()", &[]).await?;
    Ok(row.get(0))
}

/// Reads the standbys streaming from the server from `pg_stat_replication`.
///
/// A role without the privileges of `pg_read_all_stats` (which `pg_monitor` includes) gets a
/// row per standby, but PostgreSQL hides its state, sync state and lag. Those show as
/// `unknown` and no lag.
pub async fn replicas(client: &Client) -> Result<Vec<ReplicaFacts>, Error> {
    let rows = client
        .query(
            "SELECT application_name, state, sync_state,
                    extract(epoch FROM replay_lag)::float8
             FROM pg_stat_replication
             ORDER BY application_name",
            &[],
        )
        .await?;
    Ok(rows.iter().map(replica).collect())
}

fn replica(row: &Row) -> ReplicaFacts {
    let text = |index: usize| {
        row.get::<_, Option<String>>(index)
            .unwrap_or_else(|| "unknown".to_string())
    };
    ReplicaFacts {
        application_name: text(0),
        state: text(1),
        sync_state: text(2),
        replay_lag_seconds: row.get(3),
    }
}

fn non_negative(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}
