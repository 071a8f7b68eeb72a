//! CPU of a target cluster under each workload, before and after its index.
//!
//! One test function runs all phases in turn, because two loads at once would each skew the
//! other's measurement. It seeds the default scale, so it takes about two minutes.

use std::time::{Duration, Instant};

use cluster::{ClusterKind, PgBinaries, TempCluster};
use scenario::pgbench::{self, PgbenchOptions};
use scenario::{CpuSampler, RunOptions, RunReport, SeedOptions, Workload, seed};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, NoTls};

const DATABASE: &str = "shop";
/// Time for the load, or the end of the previous load, to settle before a sample.
const SETTLE: Duration = Duration::from_secs(3);
const SAMPLE: Duration = Duration::from_secs(5);
const HOT: f64 = 80.0;
const COOL: f64 = 30.0;

struct Running {
    stop: oneshot::Sender<()>,
    handle: JoinHandle<scenario::Result<RunReport>>,
}

fn start_workload(url: &str, workload: Workload) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let url = url.to_owned();
    let handle = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        scenario::workload::run(&url, &RunOptions::new(workload), shutdown).await
    });
    Running { stop, handle }
}

async fn stop_workload(running: Running, label: &str) -> RunReport {
    running.stop.send(()).unwrap();
    let report = running.handle.await.unwrap().unwrap();
    eprintln!(
        "{label}: {} statements ({:.1}/s), {} errors, mean latency {:.1} ms",
        report.statements,
        report.throughput(),
        report.errors,
        report.mean_latency.as_secs_f64() * 1000.0
    );
    report
}

async fn measure(sampler: &CpuSampler, label: &str) -> f64 {
    tokio::time::sleep(SETTLE).await;
    let percent = sampler.sample(SAMPLE).await.unwrap();
    eprintln!("{label}: CPU {percent:.1} % of {} vCores", sampler.vcores());
    percent
}

async fn execute(client: &Client, sql: &str) {
    let started = Instant::now();
    client.batch_execute(sql).await.unwrap();
    eprintln!("{sql}: {:.1} s", started.elapsed().as_secs_f64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_follows_missing_indexes() {
    let cluster = TempCluster::start(ClusterKind::Target).unwrap();
    cluster.ensure_database(DATABASE).await.unwrap();
    let url = cluster.connection_string(DATABASE);
    let outcome = seed(&url, &SeedOptions::default()).await.unwrap();
    eprintln!("seeding: {outcome:?}");

    let (client, connection) = cluster.config(DATABASE).connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    let sampler = CpuSampler::new(cluster.postmaster_pid().unwrap(), None).unwrap();
    let idle = sampler.sample(Duration::from_secs(2)).await.unwrap();
    eprintln!("idle: CPU {idle:.1} %");

    workload_phase(
        &url,
        &client,
        &sampler,
        Workload::OrdersByCustomer,
        "orders",
    )
    .await;
    execute(&client, "DROP INDEX orders_customer_id_idx").await;
    pgbench_phase(&url, &client, &sampler).await;
    workload_phase(
        &url,
        &client,
        &sampler,
        Workload::ShipmentsByTracking,
        "shipments",
    )
    .await;
}

/// Runs a workload, checks that CPU is high, builds the index on its column and checks that
/// CPU falls while the same workload goes on.
async fn workload_phase(
    url: &str,
    client: &Client,
    sampler: &CpuSampler,
    workload: Workload,
    table: &str,
) {
    let (_, column) = workload.filter_column();
    let running = start_workload(url, workload);
    let hot = measure(sampler, &format!("{workload} without index")).await;

    let index = format!("{table}_{column}_idx");
    execute(
        client,
        &format!("CREATE INDEX {index} ON {table} ({column})"),
    )
    .await;
    let cool = measure(sampler, &format!("{workload} with index")).await;
    let report = stop_workload(running, &workload.to_string()).await;

    assert!(hot > HOT, "{workload} without index: CPU {hot:.1} %");
    assert!(cool < COOL, "{workload} with index: CPU {cool:.1} %");
    assert!(report.statements > 0);
    assert_eq!(report.errors, 0);
}

/// Drives `orders-by-customer` with pgbench and its script instead of the built-in runner.
async fn pgbench_phase(url: &str, client: &Client, sampler: &CpuSampler) {
    let workload = Workload::OrdersByCustomer;
    let dir = tempfile::tempdir().unwrap();
    let script = pgbench::write_script(dir.path(), workload).unwrap();
    let program = PgBinaries::locate().unwrap().program("pgbench");
    let scale = scenario::read_scale(url).await.unwrap().unwrap();
    let options = PgbenchOptions::new(workload, Duration::from_secs(60));
    let command = pgbench::command(&program, url, &script, scale, &options).unwrap();
    let mut child = tokio::process::Command::from(command)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let hot = measure(sampler, "pgbench orders-by-customer without index").await;
    execute(
        client,
        "CREATE INDEX orders_customer_id_idx ON orders (customer_id)",
    )
    .await;
    let cool = measure(sampler, "pgbench orders-by-customer with index").await;

    let still_running = child.try_wait().unwrap().is_none();
    child.start_kill().unwrap();
    let output = child.wait_with_output().await.unwrap();
    assert!(
        still_running,
        "pgbench exited early: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(hot > HOT, "pgbench without index: CPU {hot:.1} %");
    assert!(cool < COOL, "pgbench with index: CPU {cool:.1} %");
}
