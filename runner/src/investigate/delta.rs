//! Differences between two snapshots: what ran in the window, and whether counters were reset.

use chrono::{DateTime, Utc};

use super::snapshot::{Snapshot, StatementCounters, StatementKey, TableCounters, TableName};

/// The time between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

impl Window {
    /// Length of the window in seconds, never below one millisecond so that rates stay finite.
    pub fn seconds(&self) -> f64 {
        let millis = (self.ended_at - self.started_at).num_milliseconds().max(1);
        millis as f64 / 1000.0
    }
}

/// A reset of all `pg_stat_statements` entries during a window, seen as a change of
/// `pg_stat_statements_info.stats_reset`.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterReset {
    pub before: Option<DateTime<Utc>>,
    pub after: Option<DateTime<Utc>>,
}

impl std::fmt::Display for CounterReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.after {
            Some(at) => write!(f, "pg_stat_statements was reset at {at}"),
            None => write!(f, "pg_stat_statements was reset"),
        }
    }
}

/// A window shorter than this after a reset is too short to rank statements by.
const MIN_SHORTENED_WINDOW_MS: i64 = 1000;

/// Counters of one statement over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementDelta {
    pub key: StatementKey,
    pub query: String,
    pub calls: i64,
    pub exec_time_ms: f64,
    pub rows: i64,
    pub shared_blks_hit: i64,
    pub shared_blks_read: i64,
    /// Share of the window's execution time, 0 to 100. The total counts top-level statements
    /// only, because a nested statement's time is already part of its caller's.
    pub share_of_time_pct: f64,
}

impl StatementDelta {
    pub fn mean_time_ms(&self) -> f64 {
        if self.calls == 0 {
            return 0.0;
        }
        self.exec_time_ms / self.calls as f64
    }

    pub fn rows_per_call(&self) -> f64 {
        if self.calls == 0 {
            return 0.0;
        }
        self.rows as f64 / self.calls as f64
    }
}

/// Counters of one table over the window, with its size at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDelta {
    pub seq_scan: i64,
    pub seq_tup_read: i64,
    pub idx_scan: i64,
    /// Rows inserted, updated and deleted.
    pub writes: i64,
    pub current: TableCounters,
}

/// All deltas of a window, statements ranked by execution time, most expensive first.
#[derive(Debug, Clone, PartialEq)]
pub struct Deltas {
    /// The window of the statement counters: from the first snapshot, or from a reset of all
    /// entries inside the window, to the second snapshot.
    pub window: Window,
    /// The window of the table counters, which a reset of `pg_stat_statements` leaves alone.
    pub table_window: Window,
    /// The reset of all entries that shortened `window`, if one did.
    pub shortened_by: Option<CounterReset>,
    /// Entries with a counter that went down: they were reset or evicted and created again
    /// inside the window, so their counts cover only part of it.
    pub recreated: Vec<i64>,
    /// Entries `pg_stat_statements` evicted to make room during the window
    /// (`pg_stat_statements_info.dealloc`).
    pub evictions: i64,
    pub statements: Vec<StatementDelta>,
    pub tables: std::collections::HashMap<TableName, TableDelta>,
}

/// Computes the deltas between two snapshots of the same database.
///
/// A reset of all entries inside the window shortens the window to the time since the reset,
/// when that time is known and at least [`MIN_SHORTENED_WINDOW_MS`] long. Otherwise the window
/// cannot be used, and the reset is returned as the error.
pub fn compute_deltas(before: &Snapshot, after: &Snapshot) -> Result<Deltas, CounterReset> {
    let table_window = Window {
        started_at: before.taken_at,
        ended_at: after.taken_at,
    };
    let mut window = table_window;
    let mut shortened_by = None;
    let mut baseline = before;
    let empty;
    if before.stats_reset != after.stats_reset {
        let reset = CounterReset {
            before: before.stats_reset,
            after: after.stats_reset,
        };
        let since = reset.after.filter(|at| {
            *at > before.taken_at
                && (after.taken_at - *at).num_milliseconds() >= MIN_SHORTENED_WINDOW_MS
        });
        let Some(since) = since else {
            return Err(reset);
        };
        window.started_at = since;
        shortened_by = Some(reset);
        // Every entry after the reset started from zero at the reset.
        empty = Snapshot {
            statements: Default::default(),
            ..before.clone()
        };
        baseline = &empty;
    }
    let (mut statements, recreated) = statement_deltas(baseline, after);
    rank_by_time(&mut statements);

    let tables = after
        .tables
        .iter()
        .map(|(name, current)| (name.clone(), table_delta(before.tables.get(name), current)))
        .collect();
    Ok(Deltas {
        window,
        table_window,
        shortened_by,
        recreated,
        evictions: (after.deallocations - before.deallocations).max(0),
        statements,
        tables,
    })
}

/// Subtracts counters per key. An entry that is new in `after` started at zero inside the
/// window. An entry with a counter that went down was reset or evicted and created again
/// inside the window, because the counters only grow otherwise. Its counts in `after` cover
/// only the time since, so they are a lower bound for the window, and its query id is
/// returned among the recreated ones.
///
/// NOTE: a recreated entry whose counters all grew past their old values is not detected, so
/// its delta undercounts the window.
fn statement_deltas(before: &Snapshot, after: &Snapshot) -> (Vec<StatementDelta>, Vec<i64>) {
    let mut deltas = Vec::new();
    let mut recreated = Vec::new();
    for (key, now) in &after.statements {
        let mut then = before.statements.get(key);
        if then.is_some_and(|then| counter_went_down(then, now)) {
            recreated.push(key.query_id);
            then = None;
        }
        let calls_before = then.map_or(0, |then| then.calls);
        if now.calls == calls_before {
            continue;
        }
        deltas.push(StatementDelta {
            key: *key,
            query: now.query.clone(),
            calls: now.calls - calls_before,
            exec_time_ms: now.total_exec_time_ms - then.map_or(0.0, |t| t.total_exec_time_ms),
            rows: now.rows - then.map_or(0, |t| t.rows),
            shared_blks_hit: now.shared_blks_hit - then.map_or(0, |t| t.shared_blks_hit),
            shared_blks_read: now.shared_blks_read - then.map_or(0, |t| t.shared_blks_read),
            share_of_time_pct: 0.0,
        });
    }
    recreated.sort_unstable();
    (deltas, recreated)
}

fn counter_went_down(then: &StatementCounters, now: &StatementCounters) -> bool {
    now.calls < then.calls
        || now.total_exec_time_ms < then.total_exec_time_ms
        || now.rows < then.rows
        || now.shared_blks_hit < then.shared_blks_hit
        || now.shared_blks_read < then.shared_blks_read
}

/// Sets each statement's share and sorts by execution time. The total is the top-level time;
/// only when no top-level statement ran (tracking of nested statements alone) are all summed.
fn rank_by_time(statements: &mut [StatementDelta]) {
    let toplevel: f64 = statements
        .iter()
        .filter(|s| s.key.toplevel)
        .map(|s| s.exec_time_ms)
        .sum();
    let total = if toplevel > 0.0 {
        toplevel
    } else {
        statements.iter().map(|s| s.exec_time_ms).sum()
    };
    for statement in statements.iter_mut() {
        statement.share_of_time_pct = if total > 0.0 {
            (statement.exec_time_ms / total * 100.0).min(100.0)
        } else {
            0.0
        };
    }
    statements.sort_by(|a, b| {
        b.exec_time_ms
            .total_cmp(&a.exec_time_ms)
            .then(a.key.cmp(&b.key))
    });
}

fn table_delta(before: Option<&TableCounters>, now: &TableCounters) -> TableDelta {
    let zero = TableCounters {
        seq_scan: 0,
        seq_tup_read: 0,
        idx_scan: 0,
        n_tup_ins: 0,
        n_tup_upd: 0,
        n_tup_del: 0,
        n_live_tup: 0,
        size_bytes: 0,
        pages: 0,
        estimated_rows: 0.0,
    };
    let then = before.unwrap_or(&zero);
    // Table counters are reset independently of pg_stat_statements; a negative delta means
    // such a reset, and zero is the honest lower bound for the window.
    let diff = |now: i64, then: i64| (now - then).max(0);
    TableDelta {
        seq_scan: diff(now.seq_scan, then.seq_scan),
        seq_tup_read: diff(now.seq_tup_read, then.seq_tup_read),
        idx_scan: diff(now.idx_scan, then.idx_scan),
        writes: diff(now.n_tup_ins, then.n_tup_ins)
            + diff(now.n_tup_upd, then.n_tup_upd)
            + diff(now.n_tup_del, then.n_tup_del),
        current: now.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn key(query_id: i64, toplevel: bool) -> StatementKey {
        StatementKey {
            query_id,
            user_id: 10,
            database_id: 5,
            toplevel,
        }
    }

    fn counters(calls: i64, time: f64) -> StatementCounters {
        StatementCounters {
            query: format!("SELECT {calls}"),
            calls,
            total_exec_time_ms: time,
            rows: calls,
            shared_blks_hit: 0,
            shared_blks_read: 0,
            shared_blks_dirtied: 0,
            shared_blks_written: 0,
        }
    }

    fn snapshot(entries: &[(StatementKey, StatementCounters)]) -> Snapshot {
        Snapshot {
            taken_at: Utc::now(),
            stats_reset: None,
            deallocations: 0,
            statements: entries.iter().cloned().collect(),
            tables: HashMap::new(),
        }
    }

    #[test]
    fn nested_time_is_not_added_to_the_total() {
        let before = snapshot(&[]);
        let after = snapshot(&[
            (key(1, true), counters(10, 100.0)),
            (key(2, false), counters(10, 90.0)),
            (key(3, true), counters(5, 100.0)),
        ]);
        let deltas = compute_deltas(&before, &after).unwrap();
        let nested = deltas.statements.iter().find(|s| !s.key.toplevel).unwrap();
        assert_eq!(nested.share_of_time_pct, 45.0);
        assert_eq!(deltas.statements[0].share_of_time_pct, 50.0);
    }

    #[test]
    fn statements_rank_by_time_in_window() {
        let before = snapshot(&[(key(1, true), counters(100, 10_000.0))]);
        let after = snapshot(&[
            (key(1, true), counters(101, 10_010.0)),
            (key(2, true), counters(3, 30.0)),
        ]);
        let deltas = compute_deltas(&before, &after).unwrap();
        assert_eq!(deltas.statements[0].key.query_id, 2);
        assert_eq!(deltas.statements[1].calls, 1);
        assert_eq!(deltas.statements[1].exec_time_ms, 10.0);
    }

    #[test]
    fn idle_statements_are_left_out() {
        let entry = (key(1, true), counters(4, 4.0));
        let deltas =
            compute_deltas(&snapshot(std::slice::from_ref(&entry)), &snapshot(&[entry])).unwrap();
        assert!(deltas.statements.is_empty());
    }

    #[test]
    fn recreated_entry_counts_from_zero() {
        let before = snapshot(&[
            (key(7, true), counters(50, 10.0)),
            (key(8, true), counters(5, 1.0)),
        ]);
        let after = snapshot(&[
            (key(7, true), counters(2, 1.0)),
            (key(8, true), counters(9, 3.0)),
        ]);
        let deltas = compute_deltas(&before, &after).unwrap();
        assert_eq!(deltas.recreated, vec![7]);
        let evicted = deltas
            .statements
            .iter()
            .find(|s| s.key.query_id == 7)
            .unwrap();
        assert_eq!(evicted.calls, 2);
        assert_eq!(evicted.exec_time_ms, 1.0);
    }

    #[test]
    fn recreated_entry_with_more_calls() {
        let before = snapshot(&[(key(7, true), counters(50, 100.0))]);
        let after = snapshot(&[(key(7, true), counters(60, 30.0))]);
        let deltas = compute_deltas(&before, &after).unwrap();
        assert_eq!(deltas.recreated, vec![7]);
        assert_eq!(deltas.statements[0].calls, 60);
        assert_eq!(deltas.statements[0].exec_time_ms, 30.0);
    }

    #[test]
    fn reset_inside_window_shortens_it() {
        let started = Utc::now() - chrono::Duration::seconds(10);
        let mut before = snapshot(&[(key(1, true), counters(500, 900.0))]);
        before.taken_at = started;
        let mut after = snapshot(&[(key(1, true), counters(40, 80.0))]);
        after.stats_reset = Some(started + chrono::Duration::seconds(6));
        let deltas = compute_deltas(&before, &after).unwrap();
        assert!(deltas.shortened_by.is_some());
        assert_eq!(deltas.window.started_at, after.stats_reset.unwrap());
        assert_eq!(deltas.table_window.started_at, started);
        assert_eq!(deltas.statements[0].calls, 40);
        assert!(deltas.recreated.is_empty());
    }

    #[test]
    fn late_reset_spoils_the_window() {
        let before = snapshot(&[]);
        let mut after = snapshot(&[]);
        after.stats_reset = Some(after.taken_at - chrono::Duration::milliseconds(200));
        let reset = compute_deltas(&before, &after).unwrap_err();
        assert_eq!(reset.after, after.stats_reset);
    }
}
