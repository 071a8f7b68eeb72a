//! Snapshots of the cumulative statistics views of the current database.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tokio_postgres::{Client, Row};

use super::error::{Error, Result, server_detail};

/// Identifies a `pg_stat_statements` entry. With `pg_stat_statements.track = all` the same
/// query id can appear once at top level and once nested inside a function, so `toplevel` is
/// part of the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatementKey {
    pub query_id: i64,
    pub user_id: u32,
    pub database_id: u32,
    pub toplevel: bool,
}

/// Cumulative counters of one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementCounters {
    pub query: String,
    pub calls: i64,
    pub total_exec_time_ms: f64,
    pub rows: i64,
    pub shared_blks_hit: i64,
    pub shared_blks_read: i64,
    pub shared_blks_dirtied: i64,
    pub shared_blks_written: i64,
}

/// Schema and name of a table.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableName {
    pub schema: String,
    pub name: String,
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// Cumulative counters and current size of one table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableCounters {
    pub seq_scan: i64,
    pub seq_tup_read: i64,
    pub idx_scan: i64,
    pub n_tup_ins: i64,
    pub n_tup_upd: i64,
    pub n_tup_del: i64,
    pub n_live_tup: i64,
    /// `pg_table_size`: heap, TOAST, free space and visibility maps, without indexes.
    pub size_bytes: i64,
    /// Pages of the main heap fork.
    pub pages: i64,
    /// The planner's row estimate, `pg_class.reltuples`, or -1 before the first ANALYZE.
    pub estimated_rows: f64,
}

/// The statistics of the current database at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub taken_at: DateTime<Utc>,
    /// `pg_stat_statements_info.stats_reset`: the last reset of all entries.
    pub stats_reset: Option<DateTime<Utc>>,
    /// `pg_stat_statements_info.dealloc`: entries evicted so far to make room for new ones.
    pub deallocations: i64,
    pub statements: HashMap<StatementKey, StatementCounters>,
    pub tables: HashMap<TableName, TableCounters>,
}

const STATEMENTS_SQL: &str = "
    SELECT queryid, userid, dbid, toplevel, query, calls, total_exec_time, rows,
           shared_blks_hit, shared_blks_read, shared_blks_dirtied, shared_blks_written
    FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND queryid IS NOT NULL";

const TABLES_SQL: &str = "
    SELECT t.schemaname::text, t.relname::text, t.seq_scan, t.seq_tup_read,
           coalesce(t.idx_scan, 0), t.n_tup_ins, t.n_tup_upd, t.n_tup_del, t.n_live_tup,
           pg_table_size(t.relid),
           pg_relation_size(t.relid) / current_setting('block_size')::bigint,
           c.reltuples::float8
    FROM pg_stat_user_tables t
    JOIN pg_class c ON c.oid = t.relid";

/// Reads `pg_stat_statements` and `pg_stat_user_tables` of the current database.
///
/// Fails with [`Error::MissingExtension`] when `pg_stat_statements` is not installed in the
/// database or not preloaded.
pub async fn take_snapshot(client: &Client) -> Result<Snapshot> {
    let taken_at = Utc::now();
    let statements = client
        .query(STATEMENTS_SQL, &[])
        .await
        .map_err(missing_pg_stat_statements)?;
    let info = client
        .query_one(
            "SELECT stats_reset, dealloc FROM pg_stat_statements_info",
            &[],
        )
        .await
        .map_err(Error::database("read pg_stat_statements_info"))?;
    let tables = client
        .query(TABLES_SQL, &[])
        .await
        .map_err(Error::database("read pg_stat_user_tables"))?;

    Ok(Snapshot {
        taken_at,
        stats_reset: info.get(0),
        deallocations: info.get(1),
        statements: statements.iter().map(statement_entry).collect(),
        tables: tables.iter().map(table_entry).collect(),
    })
}

fn statement_entry(row: &Row) -> (StatementKey, StatementCounters) {
    let key = StatementKey {
        query_id: row.get(0),
        user_id: row.get(1),
        database_id: row.get(2),
        toplevel: row.get(3),
    };
    let counters = StatementCounters {
        query: row.get(4),
        calls: row.get(5),
        total_exec_time_ms: row.get(6),
        rows: row.get(7),
        shared_blks_hit: row.get(8),
        shared_blks_read: row.get(9),
        shared_blks_dirtied: row.get(10),
        shared_blks_written: row.get(11),
    };
    (key, counters)
}

fn table_entry(row: &Row) -> (TableName, TableCounters) {
    let name = TableName {
        schema: row.get(0),
        name: row.get(1),
    };
    let counters = TableCounters {
        seq_scan: row.get(2),
        seq_tup_read: row.get(3),
        idx_scan: row.get(4),
        n_tup_ins: row.get(5),
        n_tup_upd: row.get(6),
        n_tup_del: row.get(7),
        n_live_tup: row.get(8),
        size_bytes: row.get(9),
        pages: row.get(10),
        estimated_rows: row.get(11),
    };
    (name, counters)
}

/// Turns "relation pg_stat_statements does not exist" and "must be loaded via
/// shared_preload_libraries" into an error that names the fix.
fn missing_pg_stat_statements(source: tokio_postgres::Error) -> Error {
    let missing = source
        .code()
        .is_some_and(|code| code.code() == "42P01" || code.code() == "55000");
    if missing {
        return Error::MissingExtension {
            extension: "pg_stat_statements",
            package: "postgresql-contrib".to_string(),
            reason: server_detail(&source),
        };
    }
    Error::database("read pg_stat_statements")(source)
}
