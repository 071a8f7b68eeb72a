//! Times an investigation on a server with thousands of distinct statements over a thousand
//! tables, against the goal of 2 s.
//!
//! It starts a throw-away target cluster, creates the tables (`schema`), takes a snapshot, runs
//! the workload (`workload`), takes another snapshot and times `investigate_between` over that
//! window five times. The window itself is left out, because in the runner it is a sleep. The
//! program prints its figures and checks no time. `scripts/bench` runs it in release.

mod schema;
mod workload;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cluster::{ClusterKind, TempCluster};
use runner::investigate::delta::compute_deltas;
use runner::investigate::{
    InvestigateOptions, Investigation, Snapshot, investigate_between, take_snapshot,
};
use tokio_postgres::{Client, NoTls};

const DATABASE: &str = "bench";
const REPETITIONS: usize = 5;
const GOAL: Duration = Duration::from_secs(2);

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let cluster = tokio::task::spawn_blocking(|| TempCluster::start(ClusterKind::Target)).await??;
    cluster.ensure_database(DATABASE).await?;
    let client = connect(&cluster).await?;
    client
        .batch_execute(
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
             CREATE EXTENSION IF NOT EXISTS hypopg;",
        )
        .await?;
    print_server(&client).await?;

    let started = Instant::now();
    create_tables(&cluster).await?;
    let large: Vec<i64> = (0..schema::TABLES)
        .filter(|&i| schema::is_large(i))
        .map(schema::rows)
        .collect();
    println!(
        "tables: {} ({} with {} to {} rows, the others {}), created in {:.1} s",
        schema::TABLES,
        large.len(),
        large.iter().min().unwrap_or(&0),
        large.iter().max().unwrap_or(&0),
        schema::rows(1),
        started.elapsed().as_secs_f64()
    );

    let (statements, before, after) = observe_workload(&cluster, &client).await?;
    print_entries(&client, "after the workload").await?;
    print_workload_entries(&statements, &after);

    let snapshot_times = time_snapshots(&client).await?;
    print_times("take_snapshot", &snapshot_times, None);
    let delta_times = time_deltas(&before, &after)?;
    print_times("compute_deltas", &delta_times, None);
    let (investigation, times) = time_investigations(&cluster, &before, &after).await?;
    print_times(
        "investigate_between, new connection each run",
        &times,
        Some(GOAL),
    );
    print_investigation(&investigation);
    print_entries(&client, "after the investigations").await?;
    Ok(())
}

/// Resets `pg_stat_statements`, then runs the workload between two snapshots.
async fn observe_workload(
    cluster: &TempCluster,
    client: &Client,
) -> Result<(Vec<workload::Statement>, Snapshot, Snapshot), Error> {
    let statements: Vec<_> = (0..workload::STATEMENTS).map(workload::statement).collect();
    let statements = Arc::new(statements);
    client
        .batch_execute("SELECT pg_stat_statements_reset()")
        .await?;

    let before = take_snapshot(client).await?;
    let started = Instant::now();
    let report = workload::run(&cluster.config(DATABASE), statements.clone()).await?;
    let seconds = started.elapsed().as_secs_f64();
    let after = take_snapshot(client).await?;

    println!(
        "workload: {} distinct statements, {} of them hot with {} calls each, {} calls in {:.1} s",
        statements.len(),
        report.hot_statements,
        workload::HOT_CALLS,
        report.calls,
        seconds
    );
    Ok((statements.to_vec(), before, after))
}

async fn connect(cluster: &TempCluster) -> Result<Client, Error> {
    let (client, connection) = cluster.config(DATABASE).connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

async fn print_server(client: &Client) -> Result<(), Error> {
    let version: String = client
        .query_one("SELECT current_setting('server_version')", &[])
        .await?
        .get(0);
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    println!("PostgreSQL {version}, {cores} cores");
    Ok(())
}

/// Creates the tables over one connection per core, then analyzes them so that the planner
/// and the engine see their sizes.
async fn create_tables(cluster: &TempCluster) -> Result<(), Error> {
    let connections = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    let mut loaders = tokio::task::JoinSet::new();
    for first in 0..connections {
        let client = connect(cluster).await?;
        loaders.spawn(async move { schema::create_every(&client, first, connections).await });
    }
    while let Some(loaded) = loaders.join_next().await {
        loaded??;
    }
    let client = connect(cluster).await?;
    client
        .batch_execute("SET pg_stat_statements.track = 'none'; ANALYZE;")
        .await?;
    Ok(())
}

async fn print_entries(client: &Client, when: &str) -> Result<(), Error> {
    let row = client
        .query_one(
            "SELECT count(*),
                    count(*) FILTER (WHERE dbid = (SELECT oid FROM pg_database
                                                   WHERE datname = current_database())),
                    current_setting('pg_stat_statements.max'),
                    (SELECT dealloc FROM pg_stat_statements_info)
             FROM pg_stat_statements",
            &[],
        )
        .await?;
    let (entries, here, max, dealloc): (i64, i64, String, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    println!(
        "pg_stat_statements {when}: {entries} entries, {here} in database {DATABASE}, \
         max {max}, deallocations {dealloc}"
    );
    Ok(())
}

/// Counts the workload's statements that `pg_stat_statements` kept, which is all of them
/// unless entries were evicted.
fn print_workload_entries(statements: &[workload::Statement], after: &Snapshot) {
    let texts: HashSet<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
    let retained = after
        .statements
        .values()
        .filter(|counters| texts.contains(counters.query.as_str()))
        .count();
    println!(
        "workload statements in pg_stat_statements: {retained} of {}",
        statements.len()
    );
}

async fn time_snapshots(client: &Client) -> Result<Vec<Duration>, Error> {
    let mut times = Vec::new();
    for _ in 0..REPETITIONS {
        let started = Instant::now();
        take_snapshot(client).await?;
        times.push(started.elapsed());
    }
    Ok(times)
}

fn time_deltas(before: &Snapshot, after: &Snapshot) -> Result<Vec<Duration>, Error> {
    let mut times = Vec::new();
    for _ in 0..REPETITIONS {
        let started = Instant::now();
        compute_deltas(before, after).map_err(|reset| reset.to_string())?;
        times.push(started.elapsed());
    }
    Ok(times)
}

/// Times `investigate_between`, each time on a new connection, because the runner opens one
/// per run and a new backend starts with cold catalog caches. Connecting is not timed.
async fn time_investigations(
    cluster: &TempCluster,
    before: &Snapshot,
    after: &Snapshot,
) -> Result<(Investigation, Vec<Duration>), Error> {
    let options = InvestigateOptions::default();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..REPETITIONS {
        let client = connect(cluster).await?;
        let started = Instant::now();
        let investigation = investigate_between(&client, before, after, &options).await?;
        times.push(started.elapsed());
        last = Some(investigation);
    }
    Ok((last.expect("REPETITIONS is above zero"), times))
}

fn print_times(label: &str, times: &[Duration], goal: Option<Duration>) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let max = sorted[sorted.len() - 1];
    let mut line = format!(
        "{label}: median {}, max {} over {} runs",
        format_duration(median),
        format_duration(max),
        times.len()
    );
    if let Some(goal) = goal {
        let verdict = if max < goal { "met" } else { "not met" };
        line.push_str(&format!(" (goal < {}: {verdict})", format_duration(goal)));
    }
    println!("{line}");
}

fn format_duration(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", duration.as_secs_f64())
    }
}

fn print_investigation(investigation: &Investigation) {
    let mut verdicts: BTreeMap<&str, usize> = BTreeMap::new();
    for finding in &investigation.findings {
        *verdicts.entry(finding.verdict.code()).or_default() += 1;
    }
    let verdicts: Vec<String> = verdicts
        .iter()
        .map(|(code, count)| format!("{code} {count}"))
        .collect();
    let proposals = investigation
        .findings
        .iter()
        .filter(|finding| finding.proposed_action.is_some())
        .count();
    println!(
        "statements in the window: {}",
        investigation.statements.len()
    );
    println!(
        "statements analyzed: {} ({})",
        investigation.findings.len(),
        verdicts.join(", ")
    );
    println!("findings with a proposal: {proposals}");
    for finding in &investigation.findings {
        println!("  {}", finding.title);
    }
}
