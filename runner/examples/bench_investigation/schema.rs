//! The benchmark's tables: a thousand of one realistic shape, most small and a few large, with
//! some columns indexed and others not.

use contracts::action::quote_identifier;
use tokio_postgres::Client;

pub const TABLES: usize = 1_000;
/// Every 50th table is large, which makes 20 of the thousand.
const LARGE_EVERY: usize = 50;
const SMALL_ROWS: i64 = 200;
const NOUNS: [&str; 10] = [
    "accounts",
    "invoices",
    "payments",
    "shipments",
    "events",
    "tickets",
    "devices",
    "sessions",
    "orders",
    "reviews",
];

/// Returns the name of table `index`, such as `invoices_042`.
pub fn name(index: usize) -> String {
    format!("{}_{:03}", NOUNS[index % NOUNS.len()], index / NOUNS.len())
}

pub fn is_large(index: usize) -> bool {
    index.is_multiple_of(LARGE_EVERY)
}

/// Returns the row count of table `index`: 200 for a small table, 10,000 to 99,300 for a
/// large one.
pub fn rows(index: usize) -> i64 {
    if is_large(index) {
        10_000 + (index / LARGE_EVERY) as i64 * 4_700
    } else {
        SMALL_ROWS
    }
}

/// Returns the number of distinct `account_id` values, one per ten rows, so that an equality
/// filter on it keeps about ten rows.
pub fn accounts(index: usize) -> i64 {
    rows(index) / 10
}

/// Returns the SQL that creates and fills table `index` with its indexes. Odd small tables get
/// an index on `account_id`, so that large tables are never indexed there; every fifth table
/// gets one on `created_at`.
pub fn creation_sql(index: usize) -> String {
    let table = quote_identifier(&name(index));
    let mut sql = format!(
        "CREATE TABLE {table} (
             id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             account_id integer NOT NULL,
             status smallint NOT NULL,
             amount numeric(12, 2) NOT NULL,
             created_at timestamptz NOT NULL,
             note text
         );
         INSERT INTO {table} (account_id, status, amount, created_at, note)
         SELECT (random() * {accounts})::int, i % 5, round((random() * 1000)::numeric, 2),
                now() - i * interval '1 minute', md5(i::text)
         FROM generate_series(1, {rows}) AS i;",
        accounts = accounts(index),
        rows = rows(index),
    );
    if index % 2 == 1 && !is_large(index) {
        sql.push_str(&format!("CREATE INDEX ON {table} (account_id);"));
    }
    if index.is_multiple_of(5) {
        sql.push_str(&format!("CREATE INDEX ON {table} (created_at);"));
    }
    sql
}

/// Creates and fills tables `first, first + step, ...` on one connection. Its statements stay
/// out of `pg_stat_statements`, because the benchmark must fit within `pg_stat_statements.max`.
pub async fn create_every(
    client: &Client,
    first: usize,
    step: usize,
) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute("SET pg_stat_statements.track = 'none'")
        .await?;
    for index in (first..TABLES).step_by(step) {
        client.batch_execute(&creation_sql(index)).await?;
    }
    Ok(())
}
