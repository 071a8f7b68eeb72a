//! The workload runner and the pgbench scripts against a small seeded shop.

use std::future::pending;
use std::time::{Duration, Instant};

use cluster::{ClusterKind, PgBinaries, TempCluster};
use scenario::pgbench::{self, PgbenchOptions};
use scenario::workload::run;
use scenario::{Error, RunOptions, Scale, SeedOptions, Workload, seed};
use tokio_postgres::{Client, NoTls};

const ORDERS: u64 = 5_000;

/// Seeds `database` in the shared cluster and returns its URL and a client for checks.
async fn seeded(database: &str) -> (String, Client) {
    let cluster = TempCluster::shared(ClusterKind::Target);
    cluster.ensure_database(database).await.unwrap();
    let url = cluster.connection_string(database);
    let options = SeedOptions {
        scale: Scale::new(ORDERS).unwrap(),
        progress: false,
        ..SeedOptions::default()
    };
    seed(&url, &options).await.unwrap();
    let (client, connection) = cluster.config(database).connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    (url, client)
}

fn options(workload: Workload, rate: f64, seconds: u64) -> RunOptions {
    RunOptions {
        rate: Some(rate),
        duration: Some(Duration::from_secs(seconds)),
        ..RunOptions::new(workload)
    }
}

/// Calls and returned rows of the statements on `table` in this database, from
/// pg_stat_statements.
async fn statement_stats(client: &Client, table: &str) -> (i64, i64) {
    let sql = "SELECT coalesce(sum(calls), 0)::bigint, coalesce(sum(rows), 0)::bigint
               FROM pg_stat_statements
               WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND query LIKE 'SELECT % FROM public.' || $1 || ' WHERE %'";
    let row = client.query_one(sql, &[&table]).await.unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn orders_workload_keeps_rate() {
    let (url, _client) = seeded("run_orders").await;
    let report = run(
        &url,
        &options(Workload::OrdersByCustomer, 40.0, 2),
        pending(),
    )
    .await
    .unwrap();
    // Two seconds at 40 per second, with slack for a busy machine.
    assert!((40..=90).contains(&report.statements), "{report:?}");
    assert_eq!(report.errors, 0);
    assert!(report.mean_latency > Duration::ZERO);
}

#[tokio::test]
async fn shipments_workload_finds_parcels() {
    let (url, client) = seeded("run_shipments").await;
    let report = run(
        &url,
        &options(Workload::ShipmentsByTracking, 50.0, 2),
        pending(),
    )
    .await
    .unwrap();
    assert_eq!(report.errors, 0);

    let (calls, rows) = statement_stats(&client, "shipments").await;
    assert!(
        calls >= report.statements as i64,
        "{calls} calls, {report:?}"
    );
    // About 95 % of orders have a shipment, so most lookups find one.
    assert!(rows * 10 > calls * 8, "{rows} rows from {calls} lookups");
}

#[tokio::test]
async fn workload_stops_on_shutdown() {
    let (url, _client) = seeded("run_shutdown").await;
    let options = RunOptions::new(Workload::OrdersByCustomer);
    let started = Instant::now();
    // Long enough for the sessions to connect and finish statements on a loaded machine.
    let shutdown = tokio::time::sleep(Duration::from_millis(1500));
    let report = run(&url, &options, shutdown).await.unwrap();
    // A bound well above the runner's stop deadline, to catch a hang rather than to time it.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(report.statements > 0);
}

#[tokio::test]
async fn workload_survives_killed_sessions() {
    let (url, client) = seeded("run_killed").await;
    let running = tokio::spawn(async move {
        run(
            &url,
            &options(Workload::OrdersByCustomer, 40.0, 4),
            pending(),
        )
        .await
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let killed: i64 = client
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'dbagent-workload') AS t",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(killed, 4);

    let report = running.await.unwrap().unwrap();
    assert!(report.errors >= 1, "{report:?}");
    // Four seconds at 40 per second make 160, and sessions that reconnect keep most of that.
    assert!(report.statements >= 100, "{report:?}");
}

#[tokio::test]
async fn workload_requires_seeded_database() {
    let cluster = TempCluster::shared(ClusterKind::Target);
    cluster.ensure_database("run_empty").await.unwrap();
    let url = cluster.connection_string("run_empty");
    let error = run(
        &url,
        &RunOptions::new(Workload::OrdersByCustomer),
        pending(),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, Error::NotSeeded { .. }), "{error}");
    assert!(error.to_string().contains("run_empty"), "{error}");
}

#[tokio::test]
async fn workload_rejects_bad_settings() {
    let url = "postgres://nobody@127.0.0.1:1/none";
    let zero_sessions = RunOptions {
        sessions: 0,
        ..RunOptions::new(Workload::OrdersByCustomer)
    };
    let error = run(url, &zero_sessions, pending()).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidSetting {
                name: "sessions",
                ..
            }
        ),
        "{error}"
    );

    let negative_rate = RunOptions {
        rate: Some(-1.0),
        ..RunOptions::new(Workload::OrdersByCustomer)
    };
    let error = run(url, &negative_rate, pending()).await.unwrap_err();
    assert!(
        matches!(error, Error::InvalidSetting { name: "rate", .. }),
        "{error}"
    );
}

#[tokio::test]
async fn pgbench_scripts_run_cleanly() {
    let (url, client) = seeded("pgbench_scripts").await;
    let dir = tempfile::tempdir().unwrap();
    let program = PgBinaries::locate().unwrap().program("pgbench");
    for workload in Workload::ALL {
        let script = pgbench::write_script(dir.path(), workload).unwrap();
        let options = PgbenchOptions {
            rate: Some(20.0),
            ..PgbenchOptions::new(workload, Duration::from_secs(2))
        };
        let scale = Scale::new(ORDERS).unwrap();
        let command = pgbench::command(&program, &url, &script, scale, &options).unwrap();
        let output = tokio::process::Command::from(command)
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{workload}: {stdout}\n{stderr}");
        assert!(
            stdout.contains("number of failed transactions: 0"),
            "{workload}: {stdout}"
        );
    }

    let (calls, rows) = statement_stats(&client, "orders").await;
    assert!(calls >= 20, "{calls} orders-by-customer calls");
    assert!(
        rows >= calls,
        "customers have orders, yet {rows} rows from {calls} calls"
    );
    let (calls, rows) = statement_stats(&client, "shipments").await;
    assert!(
        rows * 10 > calls * 8,
        "{rows} rows from {calls} tracking lookups"
    );
}
