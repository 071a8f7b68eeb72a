//! Samples of `pg_stat_activity` taken during the observation window: the statement texts as
//! the clients sent them, literals included, which `pg_stat_statements` replaces with `$n`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;
use tokio_postgres::Client;

/// Time between two samples.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(200);

/// Executions kept per statement; more add nothing to the literals they show.
const MAX_EXECUTIONS_PER_STATEMENT: usize = 20;

const ACTIVITY_SQL: &str = "
    SELECT query_id, pid, query_start, query FROM pg_stat_activity
    WHERE datid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND query_id IS NOT NULL AND query_start IS NOT NULL
      AND backend_type = 'client backend' AND pid <> pg_backend_pid()";

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

/// Samples `pg_stat_activity` until `window` has passed. A failed sample ends the sampling
/// but not the wait, because the samples only refine the analysis: the window still ends on
/// time and the investigation goes on with what was seen.
pub async fn sample_activity(client: &Client, window: Duration) -> ActivitySamples {
    let deadline = Instant::now() + window;
    let mut samples = ActivitySamples::default();
    while Instant::now() < deadline {
        match client.query(ACTIVITY_SQL, &[]).await {
            Ok(rows) => {
                for row in rows {
                    samples.record(row.get(0), (row.get(1), row.get(2)), row.get(3));
                }
            }
            Err(error) => {
                tracing::warn!(%error, "could not sample pg_stat_activity; literals stay unknown");
                tokio::time::sleep_until(deadline).await;
                break;
            }
        }
        tokio::time::sleep(SAMPLE_INTERVAL.min(deadline - Instant::now())).await;
    }
    samples
}
