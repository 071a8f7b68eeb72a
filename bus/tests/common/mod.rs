//! Helpers shared by the integration tests.

use cluster::Cluster;

/// Sends `RUST_LOG`-filtered logs to the test output; later calls do nothing.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Creates a database unless it exists. Tests running in parallel may race to create it, and
/// the loser's `CREATE DATABASE` fails, so a failure is retried once.
pub async fn ensure_database(cluster: &Cluster, name: &str) -> String {
    if cluster.ensure_database(name).await.is_err() {
        cluster
            .ensure_database(name)
            .await
            .unwrap_or_else(|error| panic!("failed to create database {name}: {error}"));
    }
    cluster.connection_string(name)
}
