//! The database's largest tables, with their sizes, row estimates and write rates.

use contracts::TableFacts;
use tokio_postgres::{Client, Error, Row};

use crate::investigate::{Investigation, TableName};

/// Number of tables listed by size, before the issue's own table is added.
const LARGEST_TABLE_COUNT: i64 = 5;

/// Ordinary tables outside the system schemas, largest first. Other sessions' temporary tables
/// are left out, because they vanish with their session.
const LARGEST_SQL: &str = "
    SELECT n.nspname::text, c.relname::text, pg_total_relation_size(c.oid), c.reltuples::float8
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND c.relpersistence <> 't'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    ORDER BY 3 DESC, 1, 2
    LIMIT $1";

const ONE_TABLE_SQL: &str = "
    SELECT n.nspname::text, c.relname::text, pg_total_relation_size(c.oid), c.reltuples::float8
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relname = $2";

/// Lists the largest tables, then the issue's table (`schema.name`) if it is not among them.
pub async fn largest_tables(
    client: &Client,
    investigation: &Investigation,
    issue_table: Option<&str>,
) -> Result<Vec<TableFacts>, Error> {
    let rows = client.query(LARGEST_SQL, &[&LARGEST_TABLE_COUNT]).await?;
    let mut tables: Vec<TableFacts> = rows
        .iter()
        .map(|row| table_facts(row, investigation))
        .collect();

    let Some(issue_table) = issue_table else {
        return Ok(tables);
    };
    if tables.iter().any(|table| table.name == issue_table) {
        return Ok(tables);
    }
    // The name is looked up among the window's tables rather than split at a dot, because a
    // schema or table name may contain one.
    let Some(name) = investigation
        .tables
        .keys()
        .find(|name| name.to_string() == issue_table)
    else {
        tracing::debug!(
            table = issue_table,
            "the issue's table is not among the window's tables"
        );
        return Ok(tables);
    };
    let row = client
        .query_opt(ONE_TABLE_SQL, &[&name.schema, &name.name])
        .await?;
    tables.extend(row.map(|row| table_facts(&row, investigation)));
    Ok(tables)
}

fn table_facts(row: &Row, investigation: &Investigation) -> TableFacts {
    let name = TableName {
        schema: row.get(0),
        name: row.get(1),
    };
    let total_bytes: i64 = row.get(2);
    // reltuples is -1 for a table that was never vacuumed or analyzed.
    let rows: f64 = row.get(3);
    TableFacts {
        writes_per_second: writes_per_second(investigation, &name),
        name: name.to_string(),
        total_bytes: u64::try_from(total_bytes).unwrap_or(0),
        rows: rows.max(0.0) as u64,
    }
}

/// Rows inserted, updated and deleted per second in the investigation's window, when the
/// window's statistics cover the table.
fn writes_per_second(investigation: &Investigation, name: &TableName) -> Option<f64> {
    let delta = investigation.tables.get(name)?;
    Some(delta.writes as f64 / investigation.window.seconds())
}
