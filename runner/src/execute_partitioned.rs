//! Building an index on a partitioned table, which `CREATE INDEX CONCURRENTLY` cannot do in
//! one statement.
//!
//! The index is created `ON ONLY` the partitioned table, and `ON ONLY` each partition that is
//! partitioned itself: a catalog change that takes a SHARE lock on that table for a moment,
//! bounded by the build's `lock_timeout`. Each leaf partition then gets its index with
//! `CREATE INDEX CONCURRENTLY` and has it attached. Once every partition has a valid index
//! attached, PostgreSQL marks the partitioned index valid.
//!
//! The build resumes where an earlier attempt stopped: a partition index that is valid and
//! attached is reused, a valid one is attached, and an INVALID one is dropped concurrently and
//! built again. A failed build drops the INVALID index it left before returning the error.

use std::time::Instant;

use contracts::action::qualified_name;
use contracts::partitioned_index::IndexedPartition;
use contracts::{CreateIndex, ServerId};
use tokio_postgres::Client;

use crate::Error;
use crate::execute::{BuildReport, drop_index, drop_leftover, index_validity};
use crate::partition_catalog::{IndexState, current_partitions, index_state};
use crate::target::failed;

/// Counts of the leaf partition indexes that a build on a partitioned table created, reused
/// or rebuilt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartitionCounts {
    pub leaves: usize,
    /// Leaf indexes built by this attempt.
    pub built: usize,
    /// Valid leaf indexes of an earlier attempt, attached by it or by this one.
    pub reused: usize,
    /// INVALID leaf indexes of an earlier attempt that were dropped and built again.
    pub leftovers_dropped: usize,
}

impl PartitionCounts {
    /// Leaf partitions that have their index valid and attached.
    pub fn done(&self) -> usize {
        self.built + self.reused
    }
}

/// Builds the action's index on its partitioned table, partition by partition, on a session
/// whose timeouts are set. Returns as soon as the index is valid.
pub async fn build_partitioned(
    client: &Client,
    server_id: &ServerId,
    action: &CreateIndex,
    started: Instant,
) -> Result<BuildReport, Error> {
    let table = qualified_name(&action.schema, &action.table);
    let root = (action.schema.as_str(), action.index_name.as_str());
    let root_state = index_state(client, server_id, root, &table, None).await?;
    check_name_not_taken(server_id, &action.index_name, root_state)?;
    if root_state.is_some_and(|state| state.valid) {
        return Ok(BuildReport {
            duration: started.elapsed(),
            already_existed: true,
            partitions: None,
        });
    }

    let partitions = current_partitions(client, server_id, action).await?;
    let mut counts = PartitionCounts {
        leaves: partitions.iter().filter(|p| !p.partitioned).count(),
        ..PartitionCounts::default()
    };
    if root_state.is_none() {
        let ddl = action.on_only_ddl(&action.index_name, &action.schema, &action.table);
        run(
            client,
            server_id,
            &ddl,
            "create the index ON ONLY the table",
        )
        .await?;
    }
    for partition in partitions.iter().filter(|p| p.partitioned) {
        create_on_only(client, server_id, action, partition).await?;
    }
    for partition in partitions.iter().filter(|p| !p.partitioned) {
        index_leaf(client, server_id, action, partition, &mut counts)
            .await
            .map_err(|error| with_progress(error, partition, counts))?;
    }
    for partition in partitions.iter().rev().filter(|p| p.partitioned) {
        attach_if_needed(client, server_id, action, partition).await?;
    }

    let validity = index_validity(client, server_id, &action.schema, &action.index_name).await?;
    if validity != Some(true) {
        return Err(Error::PartitionedIndexIncomplete {
            server_id: server_id.to_string(),
            index: action.index_name.clone(),
            done: counts.done(),
            leaves: counts.leaves,
        });
    }
    tracing::info!(server.id = %server_id, index = %action.index_name, leaves = counts.leaves, built = counts.built, reused = counts.reused, "the index on the partitioned table is valid");
    Ok(BuildReport {
        duration: started.elapsed(),
        already_existed: false,
        partitions: Some(counts),
    })
}

/// Creates the `ON ONLY` index of a partition that is partitioned itself, unless it exists.
async fn create_on_only(
    client: &Client,
    server_id: &ServerId,
    action: &CreateIndex,
    partition: &IndexedPartition,
) -> Result<(), Error> {
    let state = partition_index_state(client, server_id, action, partition).await?;
    check_name_not_taken(server_id, &partition.index_name, state)?;
    if state.is_some() {
        return Ok(());
    }
    let ddl = action.on_only_ddl(&partition.index_name, &partition.schema, &partition.table);
    run(
        client,
        server_id,
        &ddl,
        "create the index ON ONLY a partition",
    )
    .await
}

/// Gives a leaf partition a valid, attached index, reusing what an earlier attempt left.
async fn index_leaf(
    client: &Client,
    server_id: &ServerId,
    action: &CreateIndex,
    partition: &IndexedPartition,
    counts: &mut PartitionCounts,
) -> Result<(), Error> {
    let state = partition_index_state(client, server_id, action, partition).await?;
    check_name_not_taken(server_id, &partition.index_name, state)?;
    match state {
        Some(IndexState {
            valid: true,
            attached: true,
            ..
        }) => {
            counts.reused += 1;
            return Ok(());
        }
        Some(IndexState { valid: true, .. }) => {
            attach_if_needed(client, server_id, action, partition).await?;
            counts.reused += 1;
            return Ok(());
        }
        Some(IndexState { valid: false, .. }) => {
            let index = (partition.schema.as_str(), partition.index_name.as_str());
            if !drop_leftover(client, server_id, index.0, index.1).await? {
                return Err(Error::BuildInProgress {
                    server_id: server_id.to_string(),
                    index: partition.index_name.clone(),
                });
            }
            counts.leftovers_dropped += 1;
        }
        None => {}
    }

    let leaf_started = Instant::now();
    build_leaf(client, server_id, action, partition).await?;
    attach_if_needed(client, server_id, action, partition).await?;
    counts.built += 1;
    tracing::info!(server.id = %server_id, index = %partition.index_name, partition = %partition.table, seconds = leaf_started.elapsed().as_secs_f64(), "built and attached the index of a partition");
    Ok(())
}

/// Builds a leaf partition's index concurrently, and drops it again if the build fails and
/// leaves it INVALID.
async fn build_leaf(
    client: &Client,
    server_id: &ServerId,
    action: &CreateIndex,
    partition: &IndexedPartition,
) -> Result<(), Error> {
    let built = client.batch_execute(&action.partition_ddl(partition)).await;
    let Err(error) = built else {
        return Ok(());
    };
    let (schema, name) = (&partition.schema, &partition.index_name);
    let leftover = index_validity(client, server_id, schema, name).await;
    if leftover.ok().flatten() == Some(false) {
        tracing::warn!(server.id = %server_id, index = %name, "dropping the invalid index a failed build left");
        drop_index(client, server_id, schema, name).await?;
    }
    Err(failed("build the index of a partition", server_id)(error))
}

/// Attaches a partition's index to the index above it, unless it is attached already.
async fn attach_if_needed(
    client: &Client,
    server_id: &ServerId,
    action: &CreateIndex,
    partition: &IndexedPartition,
) -> Result<(), Error> {
    let state = partition_index_state(client, server_id, action, partition).await?;
    if state.is_some_and(|state| state.attached) {
        return Ok(());
    }
    let ddl = action.attach_ddl(partition);
    run(client, server_id, &ddl, "attach the index of a partition").await
}

async fn partition_index_state(
    client: &Client,
    server_id: &ServerId,
    action: &CreateIndex,
    partition: &IndexedPartition,
) -> Result<Option<IndexState>, Error> {
    let table = qualified_name(&partition.schema, &partition.table);
    let (parent_schema, parent_index) = action.parent_index_of(partition);
    let parent = qualified_name(&parent_schema, &parent_index);
    let index = (partition.schema.as_str(), partition.index_name.as_str());
    index_state(client, server_id, index, &table, Some(&parent)).await
}

/// Stops the build when an index of the expected name sits on another table, because it
/// belongs to someone else.
fn check_name_not_taken(
    server_id: &ServerId,
    name: &str,
    state: Option<IndexState>,
) -> Result<(), Error> {
    match state {
        Some(state) if !state.on_expected_table => Err(Error::IndexNameTaken {
            server_id: server_id.to_string(),
            index: name.to_string(),
        }),
        _ => Ok(()),
    }
}

async fn run(client: &Client, server_id: &ServerId, ddl: &str, action: &str) -> Result<(), Error> {
    client
        .batch_execute(ddl)
        .await
        .map_err(failed(action, server_id))
}

/// Adds to a failed partition step how far the build got, so that the run's failure reason
/// states what was done.
fn with_progress(error: Error, partition: &IndexedPartition, counts: PartitionCounts) -> Error {
    let Error::Target {
        action,
        server_id,
        source,
    } = error
    else {
        return error;
    };
    let action = format!(
        "{action} {}.{} after {} of {} leaf partitions had their index",
        partition.schema,
        partition.index_name,
        counts.done(),
        counts.leaves
    );
    Error::Target {
        action,
        server_id,
        source,
    }
}
