//! Loading the shop's data: tables, rows generated inside the server, then constraints,
//! indexes and statistics.
//!
//! Seeding is idempotent. A finished seed is recorded in `scenario.seed`, and a later call with
//! the same scale returns at once. An interrupted seed is reloaded from scratch.

mod load;
mod progress;
mod record;
mod sql;

use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::db::Target;
use crate::{Error, Result, Scale};
use record::SeedState;

/// Key of the advisory lock that serializes seeding of one database.
const SEED_LOCK: i64 = 0x6462_6167_7365_6564;

/// Settings of a seed: scale, loading connections and progress bar.
#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    pub scale: Scale,
    /// Connections that insert order batches in parallel. Two keep a two-core server busy.
    pub connections: usize,
    /// Draws a progress bar on stderr. It stays hidden anyway when stderr is not a terminal.
    pub progress: bool,
}

impl Default for SeedOptions {
    fn default() -> SeedOptions {
        SeedOptions {
            scale: Scale::default(),
            connections: 2,
            progress: true,
        }
    }
}

/// The result of [`seed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    /// The data was loaded now.
    Loaded { scale: Scale, elapsed: Duration },
    /// A finished seed at the requested scale was already there, so nothing changed.
    AlreadySeeded { scale: Scale },
}

/// Creates the shop schema in the database of `connection_string` and loads it at the
/// requested scale, unless a finished seed at that scale is already there.
///
/// Fails with [`Error::ScaleMismatch`] when the database was seeded at another scale and with
/// [`Error::ForeignTable`] when a table of the same name exists that seeding did not create.
pub async fn seed(connection_string: &str, options: &SeedOptions) -> Result<SeedOutcome> {
    if !(1..=16).contains(&options.connections) {
        return Err(Error::InvalidSetting {
            name: "connections",
            value: options.connections.to_string(),
            reason: "seeding needs between 1 and 16 connections",
        });
    }
    let target = Target::parse(connection_string, "dbagent-seed")?;
    let client = target.connect().await?;
    // Concurrent callers wait here, then find the seed finished.
    client
        .execute("SELECT pg_advisory_lock($1)", &[&SEED_LOCK])
        .await
        .map_err(target.sql_error("take the seeding lock"))?;

    match record::read(&client, &target).await? {
        SeedState::Finished(found) if found == options.scale => {
            tracing::info!(target = %target.name, orders = found.orders(), "already seeded");
            return Ok(SeedOutcome::AlreadySeeded { scale: found });
        }
        SeedState::Finished(found) => {
            return Err(Error::ScaleMismatch {
                target: target.name.clone(),
                found: found.orders(),
                requested: options.scale.orders(),
            });
        }
        SeedState::Empty => record::check_tables_are_ours(&client, &target).await?,
        SeedState::Unfinished => {
            tracing::warn!(target = %target.name, "an earlier seed did not finish; reloading");
        }
    }

    let started = Instant::now();
    load::load(&client, &target, options).await?;
    let elapsed = started.elapsed();
    tracing::info!(
        target = %target.name,
        orders = options.scale.orders(),
        seconds = elapsed.as_secs_f64(),
        "seeded"
    );
    Ok(SeedOutcome::Loaded {
        scale: options.scale,
        elapsed,
    })
}

/// Returns the scale of a finished seed, or `None` when the database contains no finished seed.
pub async fn read_scale(connection_string: &str) -> Result<Option<Scale>> {
    let target = Target::parse(connection_string, "dbagent-seed")?;
    let client = target.connect().await?;
    match record::read(&client, &target).await? {
        SeedState::Finished(scale) => Ok(Some(scale)),
        SeedState::Empty | SeedState::Unfinished => Ok(None),
    }
}

/// Returns the scale of the finished seed in the database `client` is connected to.
pub(crate) async fn finished_scale(client: &Client, target: &Target) -> Result<Scale> {
    match record::read(client, target).await? {
        SeedState::Finished(scale) => Ok(scale),
        SeedState::Empty | SeedState::Unfinished => Err(Error::NotSeeded {
            target: target.name.clone(),
        }),
    }
}
