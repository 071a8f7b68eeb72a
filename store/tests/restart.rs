//! Durability and recovery across restarts of a private control cluster.
//!
//! These tests stop their server, so each starts its own cluster instead of the shared one.

use std::future::Future;
use std::time::Duration;

use cluster::{ClusterKind, StopMode, TempCluster};
use serde_json::json;
use store::{DocumentStore, Error, PgStore};

const DOCUMENTS: usize = 50;
const ATTEMPTS: usize = 50;
const PAUSE: Duration = Duration::from_millis(200);

/// Runs `operation` until it succeeds, for at most `ATTEMPTS` tries `PAUSE` apart.
///
/// Only retryable errors earn another try, so a wrong error class fails the test at once.
async fn retry<T, F, Fut>(description: &str, mut operation: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    for attempt in 1..=ATTEMPTS {
        match operation().await {
            Ok(value) => return value,
            Err(error) if error.is_retryable() && attempt < ATTEMPTS => {
                tokio::time::sleep(PAUSE).await;
            }
            Err(error) => panic!("{description} failed on attempt {attempt}: {error}"),
        }
    }
    unreachable!("the last attempt returns or panics")
}

async fn write_batch(store: &PgStore, container: &str, batch: &str) {
    for n in 0..DOCUMENTS {
        let id = format!("{batch}-{n}");
        let body = json!({"batch": batch, "n": n});
        store.create(container, "p1", &id, &body).await.unwrap();
    }
}

/// Checks through the same store object that every document of `batch` is back intact.
async fn assert_batch_present(store: &PgStore, container: &str, batch: &str) {
    for n in 0..DOCUMENTS {
        let id = format!("{batch}-{n}");
        let document = retry("reading after restart", || store.read(container, "p1", &id)).await;
        assert_eq!(document.body, json!({"batch": batch, "n": n}), "{id}");
    }
}

async fn start_private_cluster() -> TempCluster {
    tokio::task::spawn_blocking(|| TempCluster::start(ClusterKind::Control))
        .await
        .expect("the cluster start task panicked")
        .expect("failed to start a private control cluster")
}

async fn connect(cluster: &TempCluster) -> PgStore {
    cluster
        .ensure_database("store_restart")
        .await
        .expect("failed to create the test database");
    PgStore::connect(&cluster.connection_string("store_restart"))
        .await
        .expect("failed to connect the store")
}

async fn restart(cluster: &mut TempCluster, mode: StopMode) {
    tokio::task::block_in_place(|| {
        cluster.stop(mode).expect("failed to stop the cluster");
        cluster
            .cluster_mut()
            .start()
            .expect("failed to start the cluster again");
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn documents_survive_clean_restart() {
    let mut cluster = start_private_cluster().await;
    let store = connect(&cluster).await;
    store.create_container("restart").await.unwrap();
    write_batch(&store, "restart", "before").await;

    restart(&mut cluster, StopMode::Fast).await;

    assert_batch_present(&store, "restart", "before").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn documents_survive_crash_restart() {
    let mut cluster = start_private_cluster().await;
    let store = connect(&cluster).await;
    store.create_container("crash").await.unwrap();
    write_batch(&store, "crash", "before").await;

    restart(&mut cluster, StopMode::Immediate).await;

    assert_batch_present(&store, "crash", "before").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn store_works_again_after_crash_restart() {
    let mut cluster = start_private_cluster().await;
    let store = connect(&cluster).await;
    store.create_container("reuse").await.unwrap();
    let etag = store
        .create("reuse", "p1", "doc", &json!({"v": 1}))
        .await
        .unwrap();

    restart(&mut cluster, StopMode::Immediate).await;
    let body = json!({"v": 2});
    let etag = retry("replacing after restart", || {
        store.replace("reuse", "p1", "doc", &body, &etag)
    })
    .await;
    write_batch(&store, "reuse", "after").await;

    let document = store.read("reuse", "p1", "doc").await.unwrap();
    assert_eq!(document.etag, etag);
    assert_eq!(document.body, json!({"v": 2}));
    assert_batch_present(&store, "reuse", "after").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stopped_server_gives_retryable_error() {
    let cluster = start_private_cluster().await;
    let store = connect(&cluster).await;
    store.create_container("down").await.unwrap();

    tokio::task::block_in_place(|| cluster.stop(StopMode::Immediate))
        .expect("failed to stop the cluster");
    let result = store.read("down", "p1", "doc").await;

    let error = result.unwrap_err();
    assert!(matches!(error, Error::Unavailable { .. }), "{error}");
    assert!(error.is_retryable());
}
