//! Builds of an index on a partitioned table, partition by partition, on a real cluster. The
//! index ends valid with every leaf's index attached. A failure in the middle leaves no
//! INVALID index, and a retry goes on from where the failure stopped.

mod support;

use std::time::Duration;

use contracts::partitioned_index::IndexedPartition;
use contracts::{CreateIndex, IndexKey, ServerId};
use runner::Error;
use runner::execute::{BuildTimeouts, build_index, index_validity};
use tokio_postgres::Client;

/// 40,000 events in two regions, each partitioned again by year: four leaf partitions two
/// levels below `events`.
const EVENTS: &str = "
    CREATE TABLE events (
        id bigint NOT NULL, device_ref int NOT NULL, region text NOT NULL, taken date NOT NULL)
    PARTITION BY LIST (region);
    CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu') PARTITION BY RANGE (taken);
    CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us') PARTITION BY RANGE (taken);
    CREATE TABLE events_eu_2025 PARTITION OF events_eu
        FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    CREATE TABLE events_eu_2026 PARTITION OF events_eu
        FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    CREATE TABLE events_us_2025 PARTITION OF events_us
        FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    CREATE TABLE events_us_2026 PARTITION OF events_us
        FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    INSERT INTO events
    SELECT g, g % 2000, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END,
           date '2025-01-01' + (g % 730)
    FROM generate_series(1, 40000) AS g;
    ANALYZE events;";

const LEAVES: [&str; 4] = [
    "events_eu_2025",
    "events_eu_2026",
    "events_us_2025",
    "events_us_2026",
];

fn server() -> ServerId {
    ServerId::from("partitioned-build")
}

fn timeouts(lock: Duration) -> BuildTimeouts {
    BuildTimeouts {
        lock,
        statement: Duration::from_secs(60),
    }
}

fn device_index() -> CreateIndex {
    let key = IndexKey::Column {
        name: "device_ref".into(),
        descending: false,
    };
    CreateIndex::new("public", "events", vec![key], None)
}

fn leaf_index_name(leaf: &str) -> String {
    format!("idx_events_device_ref_{leaf}")
}

/// Counts the indexes on any table of the tree that are INVALID and have storage, which is
/// what a failed concurrent build leaves. A partitioned index has no storage and is INVALID
/// until every partition's index is attached.
async fn invalid_leaf_indexes(client: &Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE NOT i.indisvalid AND c.relkind = 'i'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// Lists the leaf indexes attached below the index on `events`, with their validity.
async fn attached_leaf_indexes(client: &Client) -> Vec<(String, bool)> {
    client
        .query(
            "SELECT c.relname::text, i.indisvalid
             FROM pg_partition_tree('idx_events_device_ref') AS t
             JOIN pg_class c ON c.oid = t.relid JOIN pg_index i ON i.indexrelid = t.relid
             WHERE t.isleaf ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

/// Counts the leaf indexes attached to the index of their partition's parent, at any level.
async fn attached_leaf_count(client: &Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid
             WHERE c.relkind = 'i' AND c.relname LIKE 'idx_events_device_ref_%'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

async fn root_validity(client: &Client) -> Option<bool> {
    index_validity(client, &server(), "public", "idx_events_device_ref")
        .await
        .unwrap()
}

#[test]
fn partitioned_ddl_is_one_statement_per_line() {
    let action = device_index();
    let partition = |table: &str, parent: &str, partitioned: bool| {
        IndexedPartition::new(
            &action.index_name,
            ("public", table),
            ("public", parent),
            partitioned,
        )
    };
    let action = action.clone().with_partitions(vec![
        partition("events_eu", "events", true),
        partition("events_eu_2025", "events_eu", false),
    ]);
    for line in action.ddl.lines() {
        let parsed = pg_query::parse(line, 0).unwrap();
        assert_eq!(parsed.protobuf.stmts.len(), 1, "{line}");
        assert!(!line.contains("IF NOT EXISTS"), "{line}");
        assert!(!line.contains("UNIQUE"), "{line}");
    }
    assert_eq!(action.ddl.lines().count(), 5, "{}", action.ddl);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_levels_end_valid_and_attached() {
    let client = support::database("partitioned_build_full", EVENTS).await;

    let report = build_index(
        &client,
        &server(),
        &device_index(),
        timeouts(Duration::from_secs(5)),
    )
    .await
    .unwrap();
    eprintln!("{}", report.summary("idx_events_device_ref"));

    assert!(!report.already_existed);
    let counts = report
        .partitions
        .expect("a partitioned build reports its partitions");
    assert_eq!(counts.leaves, 4);
    assert_eq!(counts.built, 4);
    assert_eq!(counts.reused, 0);
    assert_eq!(root_validity(&client).await, Some(true));
    let expected: Vec<(String, bool)> = LEAVES
        .iter()
        .map(|leaf| (leaf_index_name(leaf), true))
        .collect();
    assert_eq!(attached_leaf_indexes(&client).await, expected);
    assert_eq!(invalid_leaf_indexes(&client).await, 0);

    // A second run finds the valid index and builds nothing.
    let again = build_index(
        &client,
        &server(),
        &device_index(),
        timeouts(Duration::from_secs(5)),
    )
    .await
    .unwrap();
    assert!(again.already_existed);
}

#[tokio::test(flavor = "multi_thread")]
async fn locked_partition_fails_then_retry_resumes() {
    let database = "partitioned_build_lock";
    let client = support::database(database, EVENTS).await;
    let locker = support::connect(database).await;
    locker
        .batch_execute("BEGIN; LOCK TABLE events_us_2025 IN SHARE MODE")
        .await
        .unwrap();

    let short = timeouts(Duration::from_millis(500));
    let error = build_index(&client, &server(), &device_index(), short)
        .await
        .unwrap_err();

    let message = error.to_string();
    assert!(message.contains("lock timeout"), "{message}");
    assert!(
        message.contains("after 2 of 4 leaf partitions"),
        "{message}"
    );
    assert!(error.is_retryable(), "{message}");
    assert_eq!(invalid_leaf_indexes(&client).await, 0);
    assert_eq!(root_validity(&client).await, Some(false));
    assert_eq!(attached_leaf_count(&client).await, 2);

    locker.batch_execute("ROLLBACK").await.unwrap();
    let report = build_index(&client, &server(), &device_index(), short)
        .await
        .unwrap();
    let counts = report.partitions.unwrap();
    assert_eq!(counts.reused, 2);
    assert_eq!(counts.built, 2);
    assert_eq!(root_validity(&client).await, Some(true));
    assert_eq!(attached_leaf_indexes(&client).await.len(), 4);
    assert_eq!(invalid_leaf_indexes(&client).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn earlier_leftovers_reused_or_rebuilt() {
    let database = "partitioned_build_leftovers";
    let client = support::database(database, EVENTS).await;
    // A valid index under the deterministic name, never attached, as a runner that died
    // between the build and the attach leaves it.
    let valid = leaf_index_name("events_eu_2025");
    client
        .batch_execute(&format!(
            "CREATE INDEX \"{valid}\" ON events_eu_2025 (device_ref)"
        ))
        .await
        .unwrap();
    // An INVALID one, from a concurrent build that a timeout cancelled while an old snapshot
    // held it up.
    let holder = support::connect(database).await;
    holder
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM events_eu_2025")
        .await
        .unwrap();
    let invalid = leaf_index_name("events_us_2026");
    let other = support::connect(database).await;
    other
        .batch_execute("SET statement_timeout = '1s'")
        .await
        .unwrap();
    let outcome = other
        .batch_execute(&format!(
            "CREATE INDEX CONCURRENTLY \"{invalid}\" ON events_us_2026 (device_ref)"
        ))
        .await;
    assert!(
        outcome.is_err(),
        "the earlier build was expected to time out"
    );
    holder.batch_execute("COMMIT").await.unwrap();
    support::wait_for_no_build(&client).await;
    assert_eq!(invalid_leaf_indexes(&client).await, 1);

    let report = build_index(
        &client,
        &server(),
        &device_index(),
        timeouts(Duration::from_secs(5)),
    )
    .await
    .unwrap();

    let counts = report.partitions.unwrap();
    assert_eq!(counts.reused, 1);
    assert_eq!(counts.leftovers_dropped, 1);
    assert_eq!(counts.built, 3);
    assert_eq!(root_validity(&client).await, Some(true));
    assert_eq!(attached_leaf_indexes(&client).await.len(), 4);
    assert_eq!(invalid_leaf_indexes(&client).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_partition_stops_the_build() {
    let database = "partitioned_build_foreign";
    let schema = "
        CREATE EXTENSION IF NOT EXISTS postgres_fdw;
        CREATE SERVER archive FOREIGN DATA WRAPPER postgres_fdw
            OPTIONS (host '127.0.0.1', dbname 'archive');
        CREATE TABLE readings (sensor_ref int NOT NULL, taken date NOT NULL)
            PARTITION BY RANGE (taken);
        CREATE TABLE readings_2026 PARTITION OF readings
            FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE FOREIGN TABLE readings_2024 PARTITION OF readings
            FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') SERVER archive;";
    let client = support::database(database, schema).await;
    let key = IndexKey::Column {
        name: "sensor_ref".into(),
        descending: false,
    };
    let action = CreateIndex::new("public", "readings", vec![key], None);

    let error = build_index(
        &client,
        &server(),
        &action,
        timeouts(Duration::from_secs(5)),
    )
    .await
    .unwrap_err();

    assert!(
        matches!(error, Error::PartitionNotIndexable { ref partition, .. } if partition == "public.readings_2024"),
        "{error}"
    );
    assert!(!error.is_retryable());
    let indexes: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_index WHERE indrelid = 'readings'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(indexes, 0);
}
