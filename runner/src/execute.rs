//! Building a proposed index with `CREATE INDEX CONCURRENTLY`, leaving nothing invalid behind.

use std::time::{Duration, Instant};

use contracts::action::quote_identifier;
use contracts::{CreateIndex, ServerId};
use tokio_postgres::Client;

use crate::target::failed;
use crate::{Error, RunnerConfig};

/// The outcome of a build.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildReport {
    pub duration: Duration,
    /// A valid index of that name was there already, from an earlier attempt of this run.
    pub already_existed: bool,
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

/// Builds the index unless a valid one with its name exists.
///
/// Every statement goes in its own call on an autocommit connection: `CREATE INDEX
/// CONCURRENTLY` fails inside a transaction block, and several statements sent in one string
/// run as one implicit transaction. A failed build leaves an INVALID index that still slows
/// every write, so it is dropped, concurrently, before the error is returned.
pub async fn build_index(
    client: &Client,
    server_id: &ServerId,
    action: &CreateIndex,
    config: &RunnerConfig,
) -> Result<BuildReport, Error> {
    let started = Instant::now();
    // Set first, so that the drop of a leftover below is bounded too.
    set_timeout(client, server_id, "lock_timeout", config.build_lock_timeout).await?;
    set_timeout(
        client,
        server_id,
        "statement_timeout",
        config.build_statement_timeout,
    )
    .await?;
    match index_validity(client, server_id, &action.schema, &action.index_name).await? {
        Some(true) => {
            return Ok(BuildReport {
                duration: started.elapsed(),
                already_existed: true,
            });
        }
        // An index is INVALID while its concurrent build runs, as well as after a failed one:
        // only a leftover may be dropped.
        Some(false) if build_in_progress(client, server_id, action).await? => {
            return Err(Error::BuildInProgress {
                server_id: server_id.to_string(),
                index: action.index_name.clone(),
            });
        }
        Some(false) => drop_index(client, server_id, action).await?,
        None => {}
    }

    // Rendered again from the structured fields, so that every identifier is quoted even if the
    // stored DDL text was altered. Expression keys and predicates are SQL that the parser
    // produced during the investigation.
    let built = client.batch_execute(&action.render_ddl()).await;
    if let Err(error) = built {
        let leftover = index_validity(client, server_id, &action.schema, &action.index_name).await;
        if leftover.ok().flatten() == Some(false) {
            tracing::warn!(server.id = %server_id, index = %action.index_name, "dropping the invalid index a failed build left");
            drop_index(client, server_id, action).await?;
        }
        return Err(failed("build the index", server_id)(error));
    }
    Ok(BuildReport {
        duration: started.elapsed(),
        already_existed: false,
    })
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
    action: &CreateIndex,
) -> Result<bool, Error> {
    let row = client
        .query_opt(
            "SELECT 1 FROM pg_stat_progress_create_index p
             JOIN pg_class c ON c.oid = p.index_relid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2",
            &[&action.schema, &action.index_name],
        )
        .await
        .map_err(failed("look for a running index build", server_id))?;
    Ok(row.is_some())
}

async fn drop_index(
    client: &Client,
    server_id: &ServerId,
    action: &CreateIndex,
) -> Result<(), Error> {
    let statement = format!(
        "DROP INDEX CONCURRENTLY IF EXISTS {}.{}",
        quote_identifier(&action.schema),
        quote_identifier(&action.index_name)
    );
    client
        .batch_execute(&statement)
        .await
        .map_err(failed("drop the invalid index", server_id))
}
