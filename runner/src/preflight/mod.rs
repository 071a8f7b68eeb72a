//! Checks made right before a build, because the server may have changed since the issue was
//! opened: a failover can turn it into a standby, ownership can move, the disk can fill up, and
//! a session can hold a transaction open that the build would wait for.

pub mod access;
pub mod disk;
pub mod snapshots;

use contracts::action::quote_identifier;
use contracts::{CreateIndex, Issue, Run, ServerId};
use tokio_postgres::Client;

use crate::risk::{disk_space, local_data_dir};
use crate::target::failed;
use crate::{Context, Error};

/// Runs every check, cheapest first, and returns why the index cannot be built now, as a
/// sentence for the issue, or `None` when the build may start.
pub async fn check(
    ctx: &Context,
    run: &Run,
    issue: &Issue,
    action: &CreateIndex,
    client: &Client,
) -> Result<Option<String>, Error> {
    if let Some(reason) = access::blocker(client, &run.server_id, action).await? {
        return Ok(Some(reason));
    }
    if let Some(reason) = disk_blocker(ctx, run, issue, action, client).await? {
        return Ok(Some(reason));
    }
    let wait = snapshots::SnapshotWait {
        older_than: ctx.config.old_snapshot_age,
        max_wait: ctx.config.old_snapshot_wait,
    };
    snapshots::wait_for_old_snapshots(ctx, run, issue, client, wait).await
}

/// Compares the build's estimated need with the free space under the data directory. A server
/// whose file system the runner cannot see, or an issue without a size estimate, passes with
/// a log line, because there is nothing to measure.
async fn disk_blocker(
    ctx: &Context,
    run: &Run,
    issue: &Issue,
    action: &CreateIndex,
    client: &Client,
) -> Result<Option<String>, Error> {
    let Some(index_bytes) = issue.evidence.estimated_index_bytes else {
        tracing::info!(run.id = %run.id, "no index size estimate, so free disk space is not checked");
        return Ok(None);
    };
    let server = ctx.control.server(&run.server_id).await?;
    let Some(space) = local_data_dir(&server.metrics).and_then(disk_space) else {
        tracing::info!(run.id = %run.id, "the server's file system is not visible here, so free disk space is not checked");
        return Ok(None);
    };
    let need = disk::need(
        client,
        &run.server_id,
        action,
        index_bytes,
        issue.evidence.table_size_bytes,
    )
    .await?;
    Ok(disk::shortfall(
        need,
        space,
        ctx.config.disk_reserve_fraction,
    ))
}

/// Returns the table's `pg_table_size`, the measure the always-allow size limit applies to, or
/// `None` when the table no longer exists.
pub async fn table_bytes(
    client: &Client,
    server_id: &ServerId,
    schema: &str,
    table: &str,
) -> Result<Option<u64>, Error> {
    let table = format!("{}.{}", quote_identifier(schema), quote_identifier(table));
    let row = client
        .query_one("SELECT pg_table_size(to_regclass($1))", &[&table])
        .await
        .map_err(failed("measure the table", server_id))?;
    let bytes: Option<i64> = row.get(0);
    Ok(bytes.map(|bytes| bytes.max(0) as u64))
}
