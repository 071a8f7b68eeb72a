//! Helpers for the investigation tests: a database on the shared target cluster, statistics
//! reset for that database only, and a concurrent workload.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use cluster::{ClusterKind, TempCluster};
use rand::SeedableRng;
use rand::rngs::StdRng;
use runner::investigate::{Finding, InvestigateOptions, Investigation};
use tokio::task::JoinHandle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls};

/// Bind values of one execution.
pub type Params = Vec<Box<dyn ToSql + Sync + Send>>;

fn cluster() -> &'static TempCluster {
    TempCluster::shared(ClusterKind::Target)
}

/// Connects to a fresh database with pg_stat_statements and HypoPG installed, after running
/// `schema` in it.
pub async fn database(name: &str, schema: &str) -> Client {
    cluster().ensure_database(name).await.unwrap();
    let client = connect(name).await;
    client
        .batch_execute(
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
             CREATE EXTENSION IF NOT EXISTS hypopg;",
        )
        .await
        .unwrap();
    client.batch_execute(schema).await.unwrap();
    // A session's table counters reach pg_stat_user_tables only when it flushes them.
    // Forcing the flush now keeps the rows loaded here out of the observed window.
    client
        .batch_execute("SELECT pg_stat_force_next_flush()")
        .await
        .unwrap();
    reset_statements(&client).await;
    client
}

pub async fn connect(database: &str) -> Client {
    let (client, connection) = cluster().config(database).connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Resets pg_stat_statements for this database alone, because tests in other databases share
/// the cluster and a full reset would spoil their windows.
pub async fn reset_statements(client: &Client) {
    client
        .execute(
            "SELECT pg_stat_statements_reset(0, oid, 0) FROM pg_database
             WHERE datname = current_database()",
            &[],
        )
        .await
        .unwrap();
}

/// Options for a short window, so that a test takes seconds.
pub fn options() -> InvestigateOptions {
    InvestigateOptions {
        window: Duration::from_secs(3),
        ..InvestigateOptions::default()
    }
}

/// Runs `sql` as a prepared statement with fresh random parameters until `duration` passes or
/// `max_calls` executions are done, on a connection of its own. Returns the number of calls.
pub fn spawn_workload<F>(
    database: &str,
    sql: &'static str,
    duration: Duration,
    max_calls: u64,
    params: F,
) -> JoinHandle<u64>
where
    F: Fn(&mut StdRng) -> Params + Send + 'static,
{
    spawn_session_workload(database, "", sql, duration, max_calls, params)
}

/// Returns the shared target cluster, for tests that need its port, its superuser login or
/// connection settings of their own.
pub fn target_cluster() -> &'static TempCluster {
    cluster()
}

/// Connects to a database as another role of the shared target cluster.
pub async fn connect_as(database: &str, user: &str, password: &str) -> Client {
    let mut config = cluster().config(database);
    config.user(user).password(password);
    let (client, connection) = config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Returns the finding about the statement whose text contains `fragment`.
pub fn finding_for<'a>(investigation: &'a Investigation, fragment: &str) -> &'a Finding {
    investigation
        .findings
        .iter()
        .find(|finding| finding.evidence.statement.contains(fragment))
        .unwrap_or_else(|| panic!("no finding for {fragment} in {investigation:#?}"))
}

/// Returns the DDL of the action proposed in a finding, and fails the test when there is none.
pub fn proposed_ddl(finding: &Finding) -> &str {
    finding
        .proposed_action
        .as_ref()
        .unwrap_or_else(|| panic!("no proposal in {finding:#?}"))
        .ddl()
}

/// Fails the test when any finding proposes an action.
pub fn assert_no_proposal(investigation: &Investigation) {
    let proposals: Vec<_> = investigation
        .findings
        .iter()
        .filter_map(|finding| finding.proposed_action.as_ref())
        .collect();
    assert!(proposals.is_empty(), "{proposals:#?}");
}

/// Runs `sql` like [`spawn_workload`], after running `setup` on the workload's connection, so
/// that session settings such as `search_path` apply to every execution.
pub fn spawn_session_workload<F>(
    database: &str,
    setup: &'static str,
    sql: &'static str,
    duration: Duration,
    max_calls: u64,
    params: F,
) -> JoinHandle<u64>
where
    F: Fn(&mut StdRng) -> Params + Send + 'static,
{
    let database = database.to_string();
    tokio::spawn(async move {
        let client = connect(&database).await;
        if !setup.is_empty() {
            client.batch_execute(setup).await.unwrap();
        }
        run_workload(&client, sql, duration, max_calls, params).await
    })
}

/// Executes `sql` with fresh parameters until `duration` passes or `max_calls` executions are
/// done, and returns the number of calls.
async fn run_workload<F>(
    client: &Client,
    sql: &str,
    duration: Duration,
    max_calls: u64,
    params: F,
) -> u64
where
    F: Fn(&mut StdRng) -> Params,
{
    let statement = client.prepare(sql).await.unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let started = Instant::now();
    let mut calls = 0;
    while started.elapsed() < duration && calls < max_calls {
        let values = params(&mut rng);
        let refs: Vec<&(dyn ToSql + Sync)> = values
            .iter()
            .map(|v| v.as_ref() as &(dyn ToSql + Sync))
            .collect();
        client.execute(&statement, &refs).await.unwrap();
        calls += 1;
    }
    calls
}

/// Waits until no index build of this database shows in `pg_stat_progress_create_index`. A
/// cancelled build's error reaches its client before the server clears the build's progress
/// row, and the runner leaves alone an index whose build still shows there.
pub async fn wait_for_no_build(client: &Client) {
    for _ in 0..100 {
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_stat_progress_create_index
                 WHERE datname = current_database()",
                &[],
            )
            .await
            .unwrap();
        if row.get::<_, i64>(0) == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("an index build still shows in pg_stat_progress_create_index after 5 s");
}
