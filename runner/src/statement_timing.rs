//! The hot statement's mean execution time after a fix, from two readings of
//! `pg_stat_statements` around the verification window, and the rule that decides whether the
//! fix brought a gain.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::ServerId;
use contracts::units::thousands;
use tokio_postgres::Client;

use crate::Error;
use crate::target::failed;

/// Bounds each reading, because verification runs while the server may still be busy.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
const LOCK_TIMEOUT: Duration = Duration::from_secs(1);

/// The fix counts as a gain only when the mean time after is below this share of the mean
/// before. A statement's mean moves between windows with caching and with the mix of
/// parameters, so a smaller drop is not evidence of a gain, and a smaller saving may not
/// outweigh the time the index adds to every write and its disk space.
pub const GAIN_RATIO: f64 = 0.9;

/// Key of an entry within one statement and database, as the role's OID and whether the entry
/// counts top-level executions. `pg_stat_statements` keeps one entry per statement, role,
/// database and nesting level.
type EntryKey = (u32, bool);

/// Cumulative counters of one entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntryCounters {
    pub calls: i64,
    pub total_exec_time_ms: f64,
}

/// One reading of a statement's entries in the current database.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// `pg_stat_statements_info.stats_reset`: the last reset of all entries.
    pub stats_reset: Option<DateTime<Utc>>,
    pub entries: HashMap<EntryKey, EntryCounters>,
}

/// The statement's mean execution time over the window, or why it is unknown.
#[derive(Debug, Clone, PartialEq)]
pub enum MeanTime {
    Measured { mean_ms: f64, calls: u64 },
    Unknown { reason: String },
}

impl MeanTime {
    pub fn mean_ms(&self) -> Option<f64> {
        match self {
            MeanTime::Measured { mean_ms, .. } => Some(*mean_ms),
            MeanTime::Unknown { .. } => None,
        }
    }

    /// Describes the change from `before_ms`, such as `mean 258.6 ms -> 0.420 ms over 1,234
    /// calls`.
    pub fn describe(&self, before_ms: f64) -> String {
        match self {
            MeanTime::Measured { mean_ms, calls } => format!(
                "mean {} -> {} over {} calls",
                millis(before_ms),
                millis(*mean_ms),
                thousands(*calls)
            ),
            MeanTime::Unknown { reason } => {
                format!("mean {} before, unknown after: {reason}", millis(before_ms))
            }
        }
    }
}

/// Tells whether a measured mean after the fix is below [`GAIN_RATIO`] of the mean before.
/// A mean before that is not a positive number gives nothing to compare with, so it counts
/// as a gain and the other checks decide.
pub fn brought_gain(before_ms: f64, after_ms: f64) -> bool {
    if !before_ms.is_finite() || before_ms <= 0.0 {
        return true;
    }
    after_ms < before_ms * GAIN_RATIO
}

/// Formats milliseconds with three decimals below 1 ms, two below 10 ms and one above, so
/// that an index lookup of a few microseconds does not print as zero.
pub fn millis(value: f64) -> String {
    if value < 1.0 {
        format!("{value:.3} ms")
    } else if value < 10.0 {
        format!("{value:.2} ms")
    } else {
        format!("{value:.1} ms")
    }
}

/// The first reading of a window, kept until [`TimingWindow::close`] takes the second.
#[derive(Debug)]
pub struct TimingWindow {
    /// The statement's query id and its first reading, or why there is none.
    first: Result<(i64, Reading), String>,
    opened_at: tokio::time::Instant,
}

impl TimingWindow {
    /// Takes the first reading. A statement without a query id, or a failed reading, leaves
    /// the mean unknown rather than failing the verification, because the other checks still
    /// prove the index.
    pub async fn open(client: &Client, server_id: &ServerId, query_id: Option<i64>) -> Self {
        let first = match query_id {
            Some(query_id) => read_or_reason(client, server_id, query_id)
                .await
                .map(|reading| (query_id, reading)),
            None => Err("the issue has no pg_stat_statements query id for the statement".into()),
        };
        TimingWindow {
            first,
            opened_at: tokio::time::Instant::now(),
        }
    }

    /// Takes the second reading and returns the mean over the calls between the two.
    pub async fn close(self, client: &Client, server_id: &ServerId) -> MeanTime {
        let (query_id, first) = match self.first {
            Ok(first) => first,
            Err(reason) => return MeanTime::Unknown { reason },
        };
        match read_or_reason(client, server_id, query_id).await {
            Ok(second) => mean_between(&first, &second, self.opened_at.elapsed()),
            Err(reason) => MeanTime::Unknown { reason },
        }
    }
}

async fn read_or_reason(
    client: &Client,
    server_id: &ServerId,
    query_id: i64,
) -> Result<Reading, String> {
    read(client, server_id, query_id).await.map_err(|error| {
        tracing::warn!(
            server.id = %server_id,
            query_id,
            %error,
            "failed to read pg_stat_statements, so the mean time after is unknown"
        );
        error.to_string()
    })
}

const ENTRIES_SQL: &str = "
    SELECT userid, toplevel, calls, total_exec_time
    FROM pg_stat_statements(false)
    WHERE queryid = $1
      AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())";

/// Reads the statement's entries in the current database, in a read-only transaction with
/// short timeouts that is rolled back even when a query fails. `pg_stat_statements(false)`
/// leaves out the query texts, which this reading does not need.
pub async fn read(client: &Client, server_id: &ServerId, query_id: i64) -> Result<Reading, Error> {
    let begin = format!(
        "BEGIN READ ONLY; SET LOCAL statement_timeout = {}; SET LOCAL lock_timeout = {}",
        STATEMENT_TIMEOUT.as_millis(),
        LOCK_TIMEOUT.as_millis()
    );
    client
        .batch_execute(&begin)
        .await
        .map_err(failed("start reading pg_stat_statements", server_id))?;
    let reading = read_in_transaction(client, query_id).await;
    let rolled_back = client.batch_execute("ROLLBACK").await;
    let reading = reading.map_err(failed("read pg_stat_statements", server_id))?;
    rolled_back.map_err(failed("end reading pg_stat_statements", server_id))?;
    Ok(reading)
}

async fn read_in_transaction(
    client: &Client,
    query_id: i64,
) -> Result<Reading, tokio_postgres::Error> {
    let rows = client.query(ENTRIES_SQL, &[&query_id]).await?;
    let info = client
        .query_one("SELECT stats_reset FROM pg_stat_statements_info", &[])
        .await?;
    let entries = rows
        .iter()
        .map(|row| {
            let counters = EntryCounters {
                calls: row.get(2),
                total_exec_time_ms: row.get(3),
            };
            ((row.get(0), row.get(1)), counters)
        })
        .collect();
    Ok(Reading {
        stats_reset: info.get(0),
        entries,
    })
}

/// Computes the mean over the calls between two readings: the change in execution time
/// divided by the change in calls.
///
/// An entry whose calls fell was reset or evicted and started over after the first reading,
/// so its counters in the second reading alone cover the window. After a reset of all
/// entries, every entry of the second reading started over. Top-level executions count when
/// the statement ran at top level in the window, and nested ones otherwise, so that a call
/// through a function is not mixed with direct calls.
pub fn mean_between(first: &Reading, second: &Reading, window: Duration) -> MeanTime {
    let all_reset = first.stats_reset != second.stats_reset;
    let mut started_over = all_reset;
    let mut top_level = (0_i64, 0.0_f64);
    let mut nested = (0_i64, 0.0_f64);
    for (key, after) in &second.entries {
        let before = first.entries.get(key).filter(|_| !all_reset);
        let (calls, time) = match before {
            Some(before) if before.calls <= after.calls => (
                after.calls - before.calls,
                after.total_exec_time_ms - before.total_exec_time_ms,
            ),
            Some(_) => {
                started_over = true;
                (after.calls, after.total_exec_time_ms)
            }
            None => (after.calls, after.total_exec_time_ms),
        };
        let sums = if key.1 { &mut top_level } else { &mut nested };
        sums.0 += calls;
        sums.1 += time;
    }
    started_over |= first
        .entries
        .keys()
        .any(|key| !second.entries.contains_key(key));

    let (calls, time) = if top_level.0 > 0 { top_level } else { nested };
    if calls > 0 {
        return MeanTime::Measured {
            mean_ms: time.max(0.0) / calls as f64,
            calls: calls as u64,
        };
    }
    let seconds = window.as_secs_f64();
    let reason = if started_over {
        format!(
            "pg_stat_statements was reset during the {seconds:.0} s window and the statement \
             has not run since"
        )
    } else {
        format!("the statement did not run during the {seconds:.0} s window")
    };
    MeanTime::Unknown { reason }
}

#[cfg(test)]
#[path = "statement_timing_tests.rs"]
mod tests;
