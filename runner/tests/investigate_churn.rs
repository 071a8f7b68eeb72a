//! Investigations among many statements: entries that another tool resets or that
//! pg_stat_statements evicts, and 1,500 statements over local tables, foreign tables and views,
//! one of which PostgreSQL cannot plan.

mod support;

use std::time::{Duration, Instant};

use cluster::{ClusterKind, StopMode, TempCluster};
use rand::Rng;
use runner::investigate::{InvestigateOptions, Investigation, Verdict, investigate};
use tokio::task::JoinHandle;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Config, NoTls};

async fn connect(config: &Config) -> Client {
    let (client, connection) = config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Writes one statement per shape and relation, with the relation's name in place of `{r}`.
/// Every statement takes one int parameter.
fn churn_statements(relations: &[String], shapes: &[&str]) -> Vec<String> {
    relations
        .iter()
        .flat_map(|relation| shapes.iter().map(|shape| shape.replace("{r}", relation)))
        .collect()
}

/// Runs each statement in turn, over and over, until `duration` passes. Returns the number of
/// executions.
fn spawn_churn(config: Config, statements: Vec<String>, duration: Duration) -> JoinHandle<u64> {
    tokio::spawn(async move {
        let client = connect(&config).await;
        let started = Instant::now();
        let mut calls = 0u64;
        for (position, sql) in statements.iter().enumerate().cycle() {
            if started.elapsed() >= duration {
                break;
            }
            let key = (position % 100) as i32 + 1;
            client.query(sql.as_str(), &[&key]).await.unwrap();
            calls += 1;
        }
        calls
    })
}

/// Runs `sql` on a connection of `config` until `duration` passes, with a random int key.
fn spawn_lookups(
    config: Config,
    sql: &'static str,
    keys: std::ops::Range<i64>,
    duration: Duration,
) -> JoinHandle<u64> {
    tokio::spawn(async move {
        let client = connect(&config).await;
        let statement = client.prepare(sql).await.unwrap();
        let started = Instant::now();
        let mut calls = 0u64;
        while started.elapsed() < duration {
            let key = rand::rng().random_range(keys.clone());
            client.execute(&statement, &[&key]).await.unwrap();
            calls += 1;
        }
        calls
    })
}

/// 100 tables of 100 rows, created in a loop so that the statement stays short.
const SMALL_TABLES: &str = "
    DO $$
    BEGIN
        FOR i IN 0..99 LOOP
            EXECUTE format('CREATE TABLE %I (id int PRIMARY KEY, v int NOT NULL)', 'small_' || i);
            EXECUTE format('INSERT INTO %I SELECT g, g %% 10 FROM generate_series(1, 100) AS g',
                           'small_' || i);
        END LOOP;
    END $$;";

/// Ten statement shapes that pg_stat_statements keeps apart, because their parse trees differ.
const TEN_SHAPES: [&str; 10] = [
    "SELECT count(*) FROM {r} WHERE id = $1",
    "SELECT v FROM {r} WHERE id = $1",
    "SELECT id, v FROM {r} WHERE id = $1",
    "SELECT max(v) FROM {r} WHERE id < $1",
    "SELECT min(v) FROM {r} WHERE id > $1",
    "SELECT sum(v) FROM {r} WHERE id <= $1",
    "SELECT avg(v) FROM {r} WHERE id >= $1",
    "SELECT count(*) FROM {r} WHERE v = $1",
    "SELECT id FROM {r} WHERE v = $1 ORDER BY id",
    "SELECT id, v AS value FROM {r} WHERE id = $1",
];

/// 200,000 shipments without an index on tracking_ref, 20 rows per value.
const SHIPMENTS: &str = "
    CREATE TABLE shipments (id bigserial PRIMARY KEY, tracking_ref bigint NOT NULL, weight int);
    INSERT INTO shipments (tracking_ref, weight)
    SELECT g % 10000, g % 500 FROM generate_series(1, 200000) AS g;
    ANALYZE shipments;";

const SHIPMENT_LOOKUP: &str = "SELECT id, weight FROM shipments WHERE tracking_ref = $1";
const SHIPMENT_DDL: &str = r#"CREATE INDEX CONCURRENTLY "idx_shipments_tracking_ref" ON "public"."shipments" ("tracking_ref")"#;

fn small_tables(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("small_{i}")).collect()
}

fn assert_hot_lookup_proposed(investigation: &Investigation) {
    let proposal = investigation
        .top_proposal()
        .unwrap_or_else(|| panic!("no proposal in {investigation:#?}"));
    assert!(
        proposal.evidence.statement.contains("tracking_ref = $1"),
        "{proposal:#?}"
    );
    assert_eq!(support::proposed_ddl(proposal), SHIPMENT_DDL);
}

/// Seconds after the workloads start at which the database's entries are reset. The window
/// opens at 1.2 s and closes about 3 s later, so that entries hold about 0.9 s of calls when
/// it opens and 0.35 s when it closes. Their counts go down, which is how the engine detects
/// that they started over.
const RESETS_AT: [f64; 4] = [0.3, 1.5, 2.7, 3.9];
const WINDOW_OPENS_AT: f64 = 1.2;

/// One hot lookup on 200,000 rows beside 1,000 distinct statements over 100 small tables,
/// while another session resets this database's entries every 1.2 s. A database-scoped reset
/// leaves `pg_stat_statements_info.stats_reset` alone while other databases keep entries, so
/// the engine finds entries whose counts went down, not a reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_query_found_through_resets() {
    let database = "inv_churn_resets";
    let client = support::database(database, &format!("{SHIPMENTS}{SMALL_TABLES}")).await;
    let config = support::target_cluster().config(database);
    let started = tokio::time::Instant::now();
    let seconds = Duration::from_millis(4500);
    let hot = spawn_lookups(config.clone(), SHIPMENT_LOOKUP, 0..10_000, seconds);
    let churn = spawn_churn(
        config.clone(),
        churn_statements(&small_tables(100), &TEN_SHAPES),
        seconds,
    );
    let resets = tokio::spawn(async move {
        let client = connect(&config).await;
        for at in RESETS_AT {
            tokio::time::sleep_until(started + Duration::from_secs_f64(at)).await;
            support::reset_statements(&client).await;
        }
        RESETS_AT.len()
    });
    tokio::time::sleep_until(started + Duration::from_secs_f64(WINDOW_OPENS_AT)).await;

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(hot.await.unwrap() > 0);
    let churned = churn.await.unwrap();
    assert_eq!(resets.await.unwrap(), RESETS_AT.len());

    println!(
        "{churned} churn executions, {} statements in the window, notes: {:#?}",
        investigation.statements.len(),
        investigation.notes
    );
    assert!(churned >= 1000, "the churn ran {churned} statements");
    assert!(investigation.counter_reset.is_none());
    assert_hot_lookup_proposed(&investigation);
    assert!(
        investigation
            .notes
            .iter()
            .any(|note| note.contains("entries started over")),
        "{:#?}",
        investigation.notes
    );
}

/// Starts a target cluster of this test alone whose pg_stat_statements keeps at most
/// `max_entries` entries. The setting goes to postgresql.auto.conf, which the server reads after
/// the settings file the cluster rewrites on every start.
async fn private_cluster_keeping(max_entries: u32) -> TempCluster {
    let mut cluster = tokio::task::spawn_blocking(|| TempCluster::start(ClusterKind::Target))
        .await
        .unwrap()
        .unwrap();
    let admin = connect(&cluster.config("postgres")).await;
    admin
        .batch_execute(&format!(
            "ALTER SYSTEM SET pg_stat_statements.max = {max_entries}"
        ))
        .await
        .unwrap();
    drop(admin);
    tokio::task::spawn_blocking(move || {
        let server = cluster.cluster_mut();
        server.stop(StopMode::Fast).unwrap();
        server.start().unwrap();
        cluster
    })
    .await
    .unwrap()
}

/// A private cluster, because a reset of every entry and a smaller `pg_stat_statements.max`
/// would spoil the windows of tests that share the target cluster. The reset lands about half
/// a second before the first window ends, too close to the end to keep what follows it, so the
/// engine observes a second window. Meanwhile 300 distinct statements overflow the 100 entries
/// the server keeps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_reset_and_evictions_in_private_cluster() {
    let cluster = private_cluster_keeping(100).await;
    let database = "inv_full_reset";
    cluster.ensure_database(database).await.unwrap();
    let config = cluster.config(database);
    let client = connect(&config).await;
    client
        .batch_execute(&format!(
            "CREATE EXTENSION pg_stat_statements; CREATE EXTENSION hypopg;
             {SHIPMENTS}{SMALL_TABLES}"
        ))
        .await
        .unwrap();
    let max: String = client
        .query_one("SHOW pg_stat_statements.max", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(max, "100");

    let seconds = Duration::from_secs(8);
    let hot = spawn_lookups(config.clone(), SHIPMENT_LOOKUP, 0..10_000, seconds);
    let churn = spawn_churn(
        config.clone(),
        churn_statements(&small_tables(30), &TEN_SHAPES),
        seconds,
    );
    let reset = tokio::spawn(async move {
        let client = connect(&config).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        client
            .batch_execute("SELECT pg_stat_statements_reset()")
            .await
            .unwrap();
    });

    let investigation = investigate(&client, &support::options()).await.unwrap();
    reset.await.unwrap();
    assert!(hot.await.unwrap() > 0);
    assert!(churn.await.unwrap() > 0);

    println!(
        "discarded: {:?}\nshortened by: {:?}\nnotes: {:#?}",
        investigation.discarded_windows, investigation.shortened_by, investigation.notes
    );
    assert_eq!(investigation.discarded_windows.len(), 1);
    assert!(investigation.counter_reset.is_none());
    assert_hot_lookup_proposed(&investigation);
    assert!(
        investigation
            .notes
            .iter()
            .any(|note| note.contains("pg_stat_statements evicted")
                && note.contains("pg_stat_statements.max")),
        "{:#?}",
        investigation.notes
    );
}

/// Tables of the database that postgres_fdw reads from: 20 small ones and a ledger of
/// 100,000 rows with no index on code. They sit in a schema of their own, so that importing
/// it brings no extension views along.
const REMOTE_SCHEMA: &str = "
    CREATE SCHEMA shared;
    DO $$
    BEGIN
        FOR i IN 0..19 LOOP
            EXECUTE format('CREATE TABLE shared.%I (id int PRIMARY KEY, v int NOT NULL)',
                           'remote_' || i);
            EXECUTE format('INSERT INTO shared.%I SELECT g, g %% 10
                            FROM generate_series(1, 100) AS g', 'remote_' || i);
        END LOOP;
    END $$;
    CREATE TABLE shared.remote_ledger (
        id bigserial PRIMARY KEY, code bigint NOT NULL, amount int NOT NULL);
    INSERT INTO shared.remote_ledger (code, amount)
    SELECT g % 5000, g % 100 FROM generate_series(1, 100000) AS g;
    ANALYZE;";

/// 278 small tables and two views over them, 200,000 payments without an index on payer_ref,
/// and 30,000 audit notes for the statement that cannot be planned.
const LOCAL_SCHEMA: &str = "
    DO $$
    BEGIN
        FOR i IN 0..277 LOOP
            EXECUTE format('CREATE TABLE %I (id int PRIMARY KEY, v int NOT NULL)', 't_' || i);
            EXECUTE format('INSERT INTO %I SELECT g, g %% 10 FROM generate_series(1, 100) AS g',
                           't_' || i);
        END LOOP;
    END $$;
    CREATE VIEW view_0 AS SELECT id, v FROM t_0 WHERE v < 5;
    CREATE VIEW view_1 AS SELECT id, v * 2 AS v FROM t_1;
    CREATE TABLE payments (id bigserial PRIMARY KEY, payer_ref bigint NOT NULL, amount int);
    INSERT INTO payments (payer_ref, amount)
    SELECT g % 10000, g % 700 FROM generate_series(1, 200000) AS g;
    CREATE TABLE audit_notes (id bigserial PRIMARY KEY, label text NOT NULL);
    INSERT INTO audit_notes (label) SELECT 'label ' || (g % 3000)
    FROM generate_series(1, 30000) AS g;
    ANALYZE;";

const FIVE_SHAPES: [&str; 5] = [
    "SELECT count(*) FROM {r} WHERE id = $1",
    "SELECT v FROM {r} WHERE id = $1",
    "SELECT id, v FROM {r} WHERE id = $1",
    "SELECT max(v) FROM {r} WHERE id < $1",
    "SELECT min(v) FROM {r} WHERE id > $1",
];

const PAYMENT_LOOKUP: &str = "SELECT id, amount FROM payments WHERE payer_ref = $1";
const FOREIGN_LOOKUP: &str = "SELECT id, amount FROM remote.remote_ledger WHERE code = $1";
/// PostgreSQL infers no type for a parameter whose first use is `IS NULL`, so the statement
/// runs only when the client names the type, and the engine's PREPARE fails.
const UNTYPED_FILTER: &str = "SELECT id FROM audit_notes WHERE $1 IS NULL OR label = $1";

/// Creates a postgres_fdw server on the same cluster, reached over loopback, and imports the
/// remote database's `shared` schema as `remote`.
fn foreign_schema(remote_database: &str) -> String {
    let cluster = support::target_cluster();
    let credentials = cluster.credentials();
    let literal = |value: &str| format!("'{}'", value.replace('\'', "''"));
    format!(
        "CREATE EXTENSION postgres_fdw;
         CREATE SERVER loopback FOREIGN DATA WRAPPER postgres_fdw
             OPTIONS (host '127.0.0.1', port {}, dbname {});
         CREATE USER MAPPING FOR CURRENT_USER SERVER loopback OPTIONS (user {}, password {});
         CREATE SCHEMA remote;
         IMPORT FOREIGN SCHEMA shared FROM SERVER loopback INTO remote;",
        literal(&cluster.port().to_string()),
        literal(remote_database),
        literal(&credentials.user),
        literal(&credentials.password)
    )
}

fn spawn_untyped_filter(config: Config, duration: Duration) -> JoinHandle<u64> {
    tokio::spawn(async move {
        let client = connect(&config).await;
        let statement = client
            .prepare_typed(UNTYPED_FILTER, &[Type::TEXT])
            .await
            .unwrap();
        let started = Instant::now();
        let mut calls = 0u64;
        while started.elapsed() < duration {
            let label = format!("label {}", rand::rng().random_range(0..3000));
            client.execute(&statement, &[&label]).await.unwrap();
            calls += 1;
        }
        calls
    })
}

/// 1,500 statements: five shapes over 278 tables, two views and 20 foreign tables, beside a
/// hot lookup on an unindexed local table, a hot lookup on a foreign table and a statement
/// that PostgreSQL cannot plan without parameter types.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_statements_with_foreign_tables() {
    let remote = "inv_many_remote";
    support::database(remote, REMOTE_SCHEMA).await;
    let database = "inv_many";
    let schema = format!("{LOCAL_SCHEMA}{}", foreign_schema(remote));
    let client = support::database(database, &schema).await;
    let mut relations: Vec<String> = (0..278).map(|i| format!("t_{i}")).collect();
    relations.extend(["view_0".to_string(), "view_1".to_string()]);
    relations.extend((0..20).map(|i| format!("remote.remote_{i}")));
    let statements = churn_statements(&relations, &FIVE_SHAPES);
    assert_eq!(statements.len(), 1500);

    let config = support::target_cluster().config(database);
    let seconds = Duration::from_secs(4);
    let workloads = [
        spawn_churn(config.clone(), statements, seconds),
        spawn_lookups(config.clone(), PAYMENT_LOOKUP, 0..10_000, seconds),
        spawn_lookups(config.clone(), FOREIGN_LOOKUP, 0..5_000, seconds),
        spawn_untyped_filter(config, seconds),
    ];
    let options = InvestigateOptions {
        top_statements: 20,
        min_share_pct: 0.0,
        ..support::options()
    };

    let investigation = investigate(&client, &options).await.unwrap();
    for workload in workloads {
        assert!(workload.await.unwrap() > 0);
    }

    for finding in &investigation.findings {
        println!(
            "{:>5.1} % {:<22} {}",
            finding.evidence.share_of_time_pct,
            finding.verdict.code(),
            finding.evidence.statement
        );
    }
    println!(
        "{} statements in the window",
        investigation.statements.len()
    );
    assert!(investigation.statements.len() >= 1500);
    assert_eq!(investigation.findings.len(), 20);

    let payments = support::finding_for(&investigation, "payer_ref = $1");
    assert_eq!(
        support::proposed_ddl(payments),
        r#"CREATE INDEX CONCURRENTLY "idx_payments_payer_ref" ON "public"."payments" ("payer_ref")"#
    );

    let foreign = support::finding_for(&investigation, "remote.remote_ledger");
    assert!(foreign.proposed_action.is_none(), "{foreign:#?}");
    assert_eq!(
        foreign.verdict,
        Verdict::NotIndexable {
            table: "remote.remote_ledger".into(),
            kind: "foreign table".into(),
        }
    );

    let position = investigation
        .findings
        .iter()
        .position(|finding| finding.evidence.statement.contains("$1 IS NULL"))
        .unwrap_or_else(|| panic!("no finding for the untyped filter in {investigation:#?}"));
    let untyped = &investigation.findings[position];
    assert!(
        matches!(
            untyped.verdict,
            Verdict::PlanFailed { .. } | Verdict::Failed { .. }
        ),
        "{:?}",
        untyped.verdict
    );
    assert!(
        position + 1 < investigation.findings.len(),
        "it was analyzed last"
    );
    for (index, finding) in investigation.findings.iter().enumerate() {
        let failed = matches!(
            finding.verdict,
            Verdict::PlanFailed { .. } | Verdict::Failed { .. }
        );
        assert!(index == position || !failed, "{finding:#?}");
    }

    let left: i64 = client
        .query_one("SELECT count(*) FROM hypopg_list_indexes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "hypothetical indexes were left in the session");
}
