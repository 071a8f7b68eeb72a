//! Facts about a target server that bear on the risk of building an index on it without asking:
//! its largest tables, its disk, its standbys, and an estimate of how long the build takes.
//!
//! They are gathered once per issue, right after the investigation, with read-only queries on
//! the investigation's connection. [`gather`] returns no error. It logs what it could not read
//! and leaves that fact, or all of them, out.

mod disk;
mod estimate;
mod server;
mod tables;

use std::time::Duration;

use contracts::{MetricsSource, RiskFacts};
use tokio_postgres::Client;

use crate::investigate::{Finding, Investigation};

pub use disk::{disk_space, local_data_dir};
pub use estimate::build_estimate;

/// Limits of the transaction that reads the facts. The sizes take a lock on each table they
/// measure, so a table locked by a long ALTER TABLE must not stall the run.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
const LOCK_TIMEOUT: Duration = Duration::from_secs(1);

/// Gathers the risk facts for an issue about `finding`, or returns `None` after logging why.
///
/// The disk is measured only for a server on this machine (`metrics` is
/// [`MetricsSource::LocalProcess`]), because only there can the runner see its file system.
pub async fn gather(
    client: &Client,
    investigation: &Investigation,
    finding: Option<&Finding>,
    metrics: Option<&MetricsSource>,
) -> Option<RiskFacts> {
    let mut facts = match read_facts(client, investigation, finding).await {
        Ok(facts) => facts,
        Err(error) => {
            tracing::warn!(%error, "failed to gather risk facts, so the issue goes without them");
            return None;
        }
    };
    facts.disk = metrics.and_then(local_data_dir).and_then(disk_space);
    facts.build_estimate = finding.and_then(build_estimate);
    Some(facts)
}

/// Reads the facts that come from SQL in one read-only transaction, and rolls it back even
/// when a query fails, so that the connection is left as it was.
async fn read_facts(
    client: &Client,
    investigation: &Investigation,
    finding: Option<&Finding>,
) -> Result<RiskFacts, tokio_postgres::Error> {
    let begin = format!(
        "BEGIN READ ONLY; SET LOCAL statement_timeout = {}; SET LOCAL lock_timeout = {}",
        STATEMENT_TIMEOUT.as_millis(),
        LOCK_TIMEOUT.as_millis()
    );
    client.batch_execute(&begin).await?;
    let issue_table = finding.and_then(|finding| finding.evidence.table.as_deref());
    let facts = read_in_transaction(client, investigation, issue_table).await;
    let rolled_back = client.batch_execute("ROLLBACK").await;
    let facts = facts?;
    rolled_back?;
    Ok(facts)
}

async fn read_in_transaction(
    client: &Client,
    investigation: &Investigation,
    issue_table: Option<&str>,
) -> Result<RiskFacts, tokio_postgres::Error> {
    Ok(RiskFacts {
        largest_tables: tables::largest_tables(client, investigation, issue_table).await?,
        database_bytes: server::database_bytes(client).await?,
        disk: None,
        build_estimate: None,
        maintenance_work_mem_bytes: Some(server::maintenance_work_mem_bytes(client).await?),
        replicas: server::replicas(client).await?,
        in_recovery: server::in_recovery(client).await?,
    })
}
