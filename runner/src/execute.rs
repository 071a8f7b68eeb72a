//! Building a proposed index with `CREATE INDEX CONCURRENTLY`, leaving nothing invalid behind.

use std::time::{Duration, Instant};

use contracts::action::quote_identifier;
use contracts::{CreateIndex, ServerId};
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

use crate::execute_partitioned::{PartitionCounts, build_partitioned};
use crate::partition_catalog::is_partitioned_table;
use crate::target::failed;
use crate::{Error, RunnerConfig};

/// The outcome of a build.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildReport {
    pub duration: Duration,
    /// A valid index of that name was there already, from an earlier attempt of this run.
    pub already_existed: bool,
    /// Counts of the leaf partition indexes, when the table is partitioned.
    pub partitions: Option<PartitionCounts>,
}

impl BuildReport {
    /// Describes the build for the timeline, such as "Built idx_t_a in 1.2 s".
    pub fn summary(&self, index_name: &str) -> String {
        let seconds = self.duration.as_secs_f64();
        let Some(counts) = self.partitions else {
            return format!("Built {index_name} in {seconds:.1} s");
        };
        format!(
            "Built {index_name} in {seconds:.1} s on {} leaf partitions: {} built now, {} reused \
             from an earlier attempt, {} INVALID leftovers dropped and rebuilt",
            counts.leaves, counts.built, counts.reused, counts.leftovers_dropped
        )
    }
}

/// State of an index by name: `None` when missing, otherwise whether it is valid.
pub async fn index_validity(
    client: &Client,
    server_id: &ServerId,
    schema: &str,
    name: &str,
) -> Result<Option<bool>, Error> {
    let row = client
        .query_opt(
            "SELECT i.indisvalid FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &name],
        )
        .await
        .map_err(failed("look up the index", server_id))?;
    Ok(row.map(|row| row.get(0)))
}

/// `lock_timeout` and `statement_timeout` of one build.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildTimeouts {
    pub lock: Duration,
    pub statement: Duration,
}

impl BuildTimeouts {
    /// Sizes `statement_timeout` to the build's estimate: four times the estimate, because an
    /// estimate from one scan's time can be off by that much on a busy server, and at least
    /// [`MIN_STATEMENT_TIMEOUT`]. Without an estimate the configured timeout applies.
    pub fn for_estimate(config: &RunnerConfig, estimate_seconds: Option<f64>) -> BuildTimeouts {
        let statement = match estimate_seconds {
            Some(seconds) if seconds.is_finite() && seconds > 0.0 => {
                Duration::from_secs_f64(seconds * 4.0).max(MIN_STATEMENT_TIMEOUT)
            }
            _ => config.build_statement_timeout,
        };
        BuildTimeouts {
            lock: config.build_lock_timeout,
            statement,
        }
    }
}

/// Floor of an estimated build's `statement_timeout`, so that a build estimated at a second
/// still gets time for its waits on other transactions.
pub const MIN_STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);

/// How often the server checks that the runner is still connected during a build, so that a
/// runner that dies mid-build stops its build within about this time instead of leaving it to
/// run to the end unobserved. Supported by PostgreSQL 14 and later.
const CLIENT_CHECK_INTERVAL: &str = "1s";

/// Builds the index unless a valid one with its name exists. On a partitioned table, which
/// the catalog shows at build time, the index is built partition by partition by
/// [`build_partitioned`].
///
/// Every statement goes in its own call on an autocommit connection: `CREATE INDEX
/// CONCURRENTLY` fails inside a transaction block, and several statements sent in one string
/// run as one implicit transaction. A failed build leaves an INVALID index that still slows
/// every write, so it is dropped, concurrently, before the error is returned.
pub async fn build_index(
    client: &Client,
    server_id: &ServerId,
    action: &CreateIndex,
    timeouts: BuildTimeouts,
) -> Result<BuildReport, Error> {
    let started = Instant::now();
    // Set first, so that the drop of a leftover below is bounded too.
    apply_timeouts(client, server_id, timeouts).await?;
    check_client_connection(client, server_id).await?;
    if is_partitioned_table(client, server_id, &action.schema, &action.table).await? {
        return build_partitioned(client, server_id, action, started).await;
    }
    let validity = index_validity(client, server_id, &action.schema, &action.index_name).await?;
    if validity == Some(true) {
        return Ok(BuildReport {
            duration: started.elapsed(),
            already_existed: true,
            partitions: None,
        });
    }
    let leftover_stays = validity == Some(false)
        && !drop_leftover(client, server_id, &action.schema, &action.index_name).await?;
    if leftover_stays {
        return Err(Error::BuildInProgress {
            server_id: server_id.to_string(),
            index: action.index_name.clone(),
        });
    }

    // Rendered again from the structured fields, so that every identifier is quoted even if the
    // stored DDL text was altered. Expression keys and predicates are SQL that the parser
    // produced during the investigation.
    let built = client.batch_execute(&action.render_ddl()).await;
    if let Err(error) = built {
        let leftover = index_validity(client, server_id, &action.schema, &action.index_name).await;
        if leftover.ok().flatten() == Some(false) {
            tracing::warn!(server.id = %server_id, index = %action.index_name, "dropping the invalid index a failed build left");
            drop_index(client, server_id, &action.schema, &action.index_name).await?;
        }
        return Err(failed("build the index", server_id)(error));
    }
    Ok(BuildReport {
        duration: started.elapsed(),
        already_existed: false,
        partitions: None,
    })
}

/// Drops the index `schema.name` if it is INVALID and no backend is building it, and returns
/// whether nothing invalid is left. An index is INVALID while its concurrent build runs as well
/// as after a failed one, and only a leftover may be dropped.
pub async fn drop_leftover(
    client: &Client,
    server_id: &ServerId,
    schema: &str,
    name: &str,
) -> Result<bool, Error> {
    if index_validity(client, server_id, schema, name).await? != Some(false) {
        return Ok(true);
    }
    if build_in_progress(client, server_id, schema, name).await? {
        return Ok(false);
    }
    drop_index(client, server_id, schema, name).await?;
    Ok(true)
}

/// Asks the server to poll the runner's connection during the build. A server older than
/// PostgreSQL 14 does not know the setting, and the build goes on without it.
async fn check_client_connection(client: &Client, server_id: &ServerId) -> Result<(), Error> {
    let set = client
        .execute(
            "SELECT set_config('client_connection_check_interval', $1, false)",
            &[&CLIENT_CHECK_INTERVAL],
        )
        .await;
    match set {
        Ok(_) => Ok(()),
        Err(error) if error.code() == Some(&SqlState::UNDEFINED_OBJECT) => {
            tracing::info!(server.id = %server_id, "the server has no client_connection_check_interval, so a build whose runner dies runs on to its end");
            Ok(())
        }
        Err(error) => Err(failed("set client_connection_check_interval", server_id)(
            error,
        )),
    }
}

/// Sets both timeouts for the session, each in a call of its own.
pub async fn apply_timeouts(
    client: &Client,
    server_id: &ServerId,
    timeouts: BuildTimeouts,
) -> Result<(), Error> {
    set_timeout(client, server_id, "lock_timeout", timeouts.lock).await?;
    set_timeout(client, server_id, "statement_timeout", timeouts.statement).await
}

async fn set_timeout(
    client: &Client,
    server_id: &ServerId,
    name: &str,
    value: Duration,
) -> Result<(), Error> {
    let milliseconds = format!("{}ms", value.as_millis());
    client
        .execute("SELECT set_config($1, $2, false)", &[&name, &milliseconds])
        .await
        .map_err(failed("set the build's timeouts", server_id))?;
    Ok(())
}

/// Tells whether a backend is building the index now.
async fn build_in_progress(
    client: &Client,
    server_id: &ServerId,
    schema: &str,
    name: &str,
) -> Result<bool, Error> {
    let row = client
        .query_opt(
            "SELECT 1 FROM pg_stat_progress_create_index p
             JOIN pg_class c ON c.oid = p.index_relid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &name],
        )
        .await
        .map_err(failed("look for a running index build", server_id))?;
    Ok(row.is_some())
}

pub(crate) async fn drop_index(
    client: &Client,
    server_id: &ServerId,
    schema: &str,
    name: &str,
) -> Result<(), Error> {
    let statement = format!(
        "DROP INDEX CONCURRENTLY IF EXISTS {}.{}",
        quote_identifier(schema),
        quote_identifier(name)
    );
    client
        .batch_execute(&statement)
        .await
        .map_err(failed("drop the invalid index", server_id))
}
