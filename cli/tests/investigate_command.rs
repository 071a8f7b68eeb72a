//! Runs `dbagent investigate` against a loopback cluster while a workload of lookups on an
//! unindexed column runs, and against databases that lack what it needs.

use std::process::Output;
use std::time::{Duration, Instant};

use cluster::{ClusterKind, TempCluster};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, NoTls};
use tokio_util::sync::CancellationToken;

const LOOKUP: &str = "SELECT id, weight_g FROM parcels WHERE tracking_code = $1";
const PARCELS: i64 = 100_000;
/// Bounds the workload in case the command hangs; it normally stops when the command exits.
const MAX_WORKLOAD: Duration = Duration::from_secs(25);

fn target() -> &'static TempCluster {
    TempCluster::shared(ClusterKind::Target)
}

async fn connect(cluster: &TempCluster, database: &str) -> Client {
    let (client, connection) = cluster.config(database).connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Creates a database with both extensions and 100,000 parcels without an index on
/// `tracking_code`.
async fn parcels_database(name: &str) {
    target().ensure_database(name).await.unwrap();
    let client = connect(target(), name).await;
    client
        .batch_execute(&format!(
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
             CREATE EXTENSION IF NOT EXISTS hypopg;
             DROP TABLE IF EXISTS parcels;
             CREATE TABLE parcels (
                 id bigserial PRIMARY KEY, tracking_code bigint NOT NULL, weight_g int NOT NULL);
             INSERT INTO parcels (tracking_code, weight_g)
             SELECT g * 7919 % {PARCELS}, g % 5000 FROM generate_series(1, {PARCELS}) AS g;
             ANALYZE parcels;"
        ))
        .await
        .unwrap();
    // A session reports its table counters at most once a second. Reporting the load now
    // keeps its inserts out of the window the command observes.
    client
        .batch_execute("SELECT pg_stat_force_next_flush()")
        .await
        .unwrap();
}

/// Looks parcels up by tracking code on a connection of its own until `stop` is cancelled.
fn spawn_lookups(database: &str, stop: CancellationToken) -> JoinHandle<u64> {
    let database = database.to_string();
    tokio::spawn(async move {
        let client = connect(target(), &database).await;
        let statement = client.prepare(LOOKUP).await.unwrap();
        let started = Instant::now();
        let mut calls = 0u64;
        while !stop.is_cancelled() && started.elapsed() < MAX_WORKLOAD {
            let code = (calls as i64 * 104_729) % PARCELS;
            client.query(&statement, &[&code]).await.unwrap();
            calls += 1;
        }
        calls
    })
}

async fn dbagent(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_dbagent"))
        .arg("investigate")
        .args(args)
        .env_remove("DBAGENT_INVESTIGATE_DSN")
        .output()
        .await
        .expect("dbagent runs")
}

/// Runs the command while the lookups run, and returns its output once both ended.
async fn investigate_under_load(database: &str, args: &[&str]) -> Output {
    let stop = CancellationToken::new();
    let lookups = spawn_lookups(database, stop.clone());
    let dsn = target().connection_string(database);
    let mut all_args = vec!["--dsn", dsn.as_str()];
    all_args.extend_from_slice(args);

    let output = dbagent(&all_args).await;
    stop.cancel();
    assert!(lookups.await.unwrap() > 0, "the workload made no call");
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "dbagent investigate failed with {}:\n{}",
        output.status,
        stderr(output)
    );
}

fn proposal(report: &Value) -> &Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["verdict"] == "index_proposed")
        .unwrap_or_else(|| panic!("no index_proposed finding in {report:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_report_proposes_index() {
    parcels_database("investigate_json").await;

    let output = investigate_under_load("investigate_json", &["--window", "3", "--json"]).await;
    assert_success(&output);
    assert!(
        stderr(&output).contains("Watching pg_stat_statements for 3 s"),
        "{}",
        stderr(&output)
    );

    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let finding = proposal(&report);
    let ddl = finding["ddl"].as_str().unwrap();
    assert!(ddl.starts_with("CREATE INDEX CONCURRENTLY"), "{ddl}");
    assert!(
        ddl.contains(r#"ON "public"."parcels" ("tracking_code")"#),
        "{ddl}"
    );
    assert_eq!(finding["table"], "public.parcels");
    assert_eq!(finding["reason"], Value::Null);

    let evidence = &finding["evidence"];
    assert!(
        evidence["statement"]
            .as_str()
            .unwrap()
            .contains("tracking_code = $1")
    );
    assert!(evidence["seq_scans_in_window"].as_u64().unwrap() > 0);
    assert!(evidence["cost_reduction_pct"].as_f64().unwrap() >= 50.0);
    assert_eq!(evidence["table_rows"], PARCELS);
    let seconds = report["window"]["seconds"].as_f64().unwrap();
    assert!((2.5..4.0).contains(&seconds), "window of {seconds} s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_report_shows_ddl() {
    parcels_database("investigate_text").await;

    let output = investigate_under_load("investigate_text", &["--window", "3"]).await;
    assert_success(&output);

    let text = stdout(&output);
    let ddl = r#"CREATE INDEX CONCURRENTLY "idx_parcels_tracking_code" ON "public"."parcels" ("tracking_code")"#;
    assert!(text.contains(&format!("Proposed:  {ddl}")), "{text}");
    assert!(text.contains("public.parcels, "), "{text}");
    assert!(text.contains(" -> "), "{text}");
    assert!(text.contains("index_proposed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_pg_stat_statements_is_named() {
    let database = "investigate_no_extension";
    target().ensure_database(database).await.unwrap();
    let dsn = target().connection_string(database);

    let output = dbagent(&["--dsn", &dsn, "--window", "1"]).await;

    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("pg_stat_statements is loaded but not created"),
        "{message}"
    );
    assert!(
        message.contains(
            "run CREATE EXTENSION pg_stat_statements in database investigate_no_extension"
        ),
        "{message}"
    );
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_window_is_an_error() {
    let database = "investigate_idle";
    parcels_database(database).await;
    let dsn = target().connection_string(database);

    let output = dbagent(&["--dsn", &dsn, "--window", "1"]).await;

    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("No statement ran in the 1 s window"),
        "{message}"
    );
    assert!(message.contains("--window"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let dsn = format!("postgres://someone:hunter2@127.0.0.1:{port}/shop");

    let output = dbagent(&["--dsn", &dsn]).await;

    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains(&format!("failed to connect to 127.0.0.1:{port}")),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_stat_statements_not_preloaded_is_named() {
    // The control cluster does not preload pg_stat_statements, so the extension can be created
    // but not read.
    let control = TempCluster::shared(ClusterKind::Control);
    let database = "investigate_not_preloaded";
    control.ensure_database(database).await.unwrap();
    connect(control, database)
        .await
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .await
        .unwrap();
    let dsn = control.connection_string(database);

    let output = dbagent(&["--dsn", &dsn, "--window", "1"]).await;

    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("created in database investigate_not_preloaded but not loaded"),
        "{message}"
    );
    assert!(
        message.contains("add pg_stat_statements to shared_preload_libraries"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hypopg_denied_names_superuser() {
    // HypoPG is not a trusted extension, so a role without superuser may not create it.
    let database = "investigate_plain_role";
    target().ensure_database(database).await.unwrap();
    connect(target(), database)
        .await
        .batch_execute(
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
             DROP ROLE IF EXISTS investigate_plain;
             CREATE ROLE investigate_plain LOGIN PASSWORD 'plain-password';",
        )
        .await
        .unwrap();
    let dsn = format!(
        "postgres://investigate_plain:plain-password@127.0.0.1:{}/{database}",
        target().port()
    );

    let output = dbagent(&["--dsn", &dsn, "--window", "1"]).await;

    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("user investigate_plain may not create the extension"),
        "{message}"
    );
    assert!(message.contains("CREATE EXTENSION hypopg"), "{message}");
}
