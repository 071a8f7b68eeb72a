//! Samples of `pg_stat_activity` taken during the observation window: the statement texts as
//! the clients sent them, literals included, which `pg_stat_statements` replaces with `$n`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;
use tokio_postgres::Client;

/// Time between two samples.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(200);

/// Maximum number of executions kept per statement. A literal is bound only when every kept
/// execution shows it, so more executions would add little.
const MAX_EXECUTIONS_PER_STATEMENT: usize = 20;

/// Bytes of the longest character in any server encoding (`MAX_MULTIBYTE_CHAR_LEN` in
/// PostgreSQL's `pg_wchar.h`).
const MAX_CHARACTER_BYTES: i32 = 4;

/// Each client backend's current or last statement, with its length in server-encoding bytes
/// and the `track_activity_query_size` that bounds it.
const ACTIVITY_SQL: &str = "
    SELECT query_id, pid, query_start, query, octet_length(query),
           (SELECT setting::int FROM pg_settings WHERE name = 'track_activity_query_size')
    FROM pg_stat_activity
    WHERE datid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND query_id IS NOT NULL AND query_start IS NOT NULL
      AND backend_type = 'client backend' AND pid <> pg_backend_pid()";

/// Checks whether a `pg_stat_activity.query` text is whole. PostgreSQL keeps at most
/// `track_activity_query_size - 1` bytes of it, cut at a character boundary, so a text that
/// long, or up to one character shorter, may have been cut, even inside a literal.
fn is_whole(text_bytes: i32, query_size: i32) -> bool {
    text_bytes < query_size - MAX_CHARACTER_BYTES
}

/// Statement texts seen in `pg_stat_activity`, by query id, one per execution.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ActivitySamples {
    texts: HashMap<i64, Vec<String>>,
    seen: HashSet<(i32, DateTime<Utc>)>,
}

impl ActivitySamples {
    /// Returns the texts of distinct executions of a statement.
    pub fn texts(&self, query_id: i64) -> &[String] {
        self.texts.get(&query_id).map_or(&[], Vec::as_slice)
    }

    /// Records one execution, identified by its backend and start time, because an idle
    /// backend shows its last statement in every sample.
    pub fn record(&mut self, query_id: i64, execution: (i32, DateTime<Utc>), text: String) {
        if !self.seen.insert(execution) {
            return;
        }
        let texts = self.texts.entry(query_id).or_default();
        if texts.len() < MAX_EXECUTIONS_PER_STATEMENT {
            texts.push(text);
        }
    }
}

/// Samples `pg_stat_activity` until `window` has passed, leaving out texts that may have been
/// cut at `track_activity_query_size`. A failed sample ends the sampling but not the wait,
/// because the samples only refine the analysis: the window still ends on time and the
/// investigation goes on with what was seen.
pub async fn sample_activity(client: &Client, window: Duration) -> ActivitySamples {
    let deadline = Instant::now() + window;
    let mut samples = ActivitySamples::default();
    while Instant::now() < deadline {
        match client.query(ACTIVITY_SQL, &[]).await {
            Ok(rows) => {
                for row in rows {
                    if is_whole(row.get(4), row.get(5)) {
                        samples.record(row.get(0), (row.get(1), row.get(2)), row.get(3));
                    }
                }
            }
            Err(error) => {
                tracing::warn!(
                    %error,
                    "sampling pg_stat_activity failed; statements are planned without their literals"
                );
                tokio::time::sleep_until(deadline).await;
                break;
            }
        }
        tokio::time::sleep(SAMPLE_INTERVAL.min(deadline - Instant::now())).await;
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_near_size_limit_may_be_cut() {
        // PostgreSQL 15 with track_activity_query_size = 100 shows at most 99 bytes.
        assert!(is_whole(95, 100));
        assert!(!is_whole(96, 100));
        assert!(!is_whole(99, 100));
        assert!(is_whole(1019, 1024));
        assert!(!is_whole(1023, 1024));
    }

    #[test]
    fn repeated_execution_is_recorded_once() {
        let mut samples = ActivitySamples::default();
        let started = Utc::now();
        samples.record(7, (100, started), "SELECT 1".into());
        samples.record(7, (100, started), "SELECT 1".into());
        samples.record(7, (101, started), "SELECT 2".into());
        assert_eq!(samples.texts(7), ["SELECT 1", "SELECT 2"]);
        assert!(samples.texts(8).is_empty());
    }

    #[test]
    fn executions_per_statement_are_capped() {
        let mut samples = ActivitySamples::default();
        let started = Utc::now();
        for pid in 0..(MAX_EXECUTIONS_PER_STATEMENT as i32 + 5) {
            samples.record(7, (pid, started), format!("SELECT {pid}"));
        }
        assert_eq!(samples.texts(7).len(), MAX_EXECUTIONS_PER_STATEMENT);
    }
}
