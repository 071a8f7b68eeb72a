//! Builds that fail on a real cluster: whatever stops them, no INVALID index stays behind, and a
//! retry under the same deterministic name builds exactly one index.

mod support;

use std::time::Duration;

use contracts::{CreateIndex, IndexKey, ServerId};
use runner::execute::{BuildTimeouts, build_index, index_validity};
use tokio_postgres::Client;

const SCHEMA: &str = "
    CREATE TABLE parcels (
        id bigint PRIMARY KEY,
        depot int NOT NULL,
        weight int NOT NULL
    );
    INSERT INTO parcels SELECT g, g % 100, g % 7 FROM generate_series(1, 50000) g;
    CREATE TABLE depots (id int PRIMARY KEY);
    INSERT INTO depots SELECT generate_series(1, 100);
    ANALYZE;";

fn server() -> ServerId {
    ServerId::from("build-failures")
}

fn timeouts(lock: Duration, statement: Duration) -> BuildTimeouts {
    BuildTimeouts { lock, statement }
}

fn depot_index() -> CreateIndex {
    let key = IndexKey::Column {
        name: "depot".into(),
        descending: false,
    };
    CreateIndex::new("public", "parcels", vec![key], None)
}

/// Counts the indexes on `parcels` other than its primary key, and the INVALID ones among them.
async fn parcel_indexes(client: &Client) -> (i64, i64) {
    let row = client
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE NOT i.indisvalid)
             FROM pg_index i
             WHERE i.indrelid = 'parcels'::regclass AND NOT i.indisprimary",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// Opens a session that keeps a snapshot on another table and stays idle in its transaction,
/// which a concurrent build must wait for.
async fn hold_old_snapshot(database: &str) -> Client {
    let holder = support::connect(database).await;
    holder
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM depots")
        .await
        .unwrap();
    holder
}

#[tokio::test(flavor = "multi_thread")]
async fn ddl_is_one_statement() {
    let ddl = depot_index().render_ddl();
    let parsed = pg_query::parse(&ddl, 0).unwrap();
    assert_eq!(parsed.protobuf.stmts.len(), 1, "{ddl}");
    assert!(ddl.starts_with("CREATE INDEX CONCURRENTLY "), "{ddl}");
    assert!(!ddl.contains("IF NOT EXISTS"), "{ddl}");
    assert!(!ddl.contains("UNIQUE"), "{ddl}");
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_expression_leaves_nothing() {
    let client = support::database("build_failures_expression", SCHEMA).await;
    // Division by zero on the rows where weight is 0, so the build fails in its table scan,
    // after the index entry was created.
    let key = IndexKey::Expression {
        sql: "(depot / weight)".into(),
    };
    let action = CreateIndex::new("public", "parcels", vec![key], None);
    let long = Duration::from_secs(60);

    let error = build_index(&client, &server(), &action, timeouts(long, long))
        .await
        .unwrap_err();

    assert!(error.to_string().contains("division by zero"), "{error}");
    assert_eq!(parcel_indexes(&client).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_timeout_leaves_nothing() {
    let database = "build_failures_lock";
    let client = support::database(database, SCHEMA).await;
    let locker = support::connect(database).await;
    locker
        .batch_execute("BEGIN; LOCK TABLE parcels IN SHARE MODE")
        .await
        .unwrap();

    let short = Duration::from_millis(500);
    let error = build_index(
        &client,
        &server(),
        &depot_index(),
        timeouts(short, Duration::from_secs(60)),
    )
    .await
    .unwrap_err();

    assert!(error.to_string().contains("lock timeout"), "{error}");
    assert_eq!(parcel_indexes(&client).await, (0, 0));
    locker.batch_execute("ROLLBACK").await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn statement_timeout_drops_invalid_leftover() {
    let database = "build_failures_timeout";
    let client = support::database(database, SCHEMA).await;
    let holder = hold_old_snapshot(database).await;
    let action = depot_index();

    let error = build_index(
        &client,
        &server(),
        &action,
        timeouts(Duration::from_secs(5), Duration::from_secs(2)),
    )
    .await
    .unwrap_err();

    assert!(error.to_string().contains("statement timeout"), "{error}");
    assert_eq!(parcel_indexes(&client).await, (0, 0));

    // Once the old transaction ends, the same name builds one valid index.
    holder.batch_execute("COMMIT").await.unwrap();
    let long = Duration::from_secs(60);
    let report = build_index(&client, &server(), &action, timeouts(long, long))
        .await
        .unwrap();
    assert!(!report.already_existed);
    assert_eq!(parcel_indexes(&client).await, (1, 0));
    let validity = index_validity(&client, &server(), "public", &action.index_name)
        .await
        .unwrap();
    assert_eq!(validity, Some(true));
}

#[tokio::test(flavor = "multi_thread")]
async fn leftover_from_earlier_build_is_replaced() {
    let database = "build_failures_leftover";
    let client = support::database(database, SCHEMA).await;
    let action = depot_index();
    // An earlier build under the same name that a timeout cancelled.
    let holder = hold_old_snapshot(database).await;
    let other = support::connect(database).await;
    other
        .batch_execute("SET statement_timeout = '1s'")
        .await
        .unwrap();
    let outcome = other.batch_execute(&action.render_ddl()).await;
    assert!(
        outcome.is_err(),
        "the earlier build was expected to time out"
    );
    holder.batch_execute("COMMIT").await.unwrap();
    assert_eq!(parcel_indexes(&client).await, (1, 1));

    let long = Duration::from_secs(60);
    let report = build_index(&client, &server(), &action, timeouts(long, long))
        .await
        .unwrap();

    assert!(!report.already_existed);
    assert_eq!(parcel_indexes(&client).await, (1, 0));
}
