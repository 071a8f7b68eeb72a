//! `PgStore` against a real control cluster: the conformance suite plus PostgreSQL-specific
//! cases. All tests share one cluster per test process and keep to their own containers.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use cluster::{ClusterKind, TempCluster};
use serde_json::json;
use store::{DocumentStore, Error, PgStore, PoolSettings};

const DATABASE: &str = "store_tests";

async fn shared_cluster() -> &'static TempCluster {
    // Starting the cluster runs initdb and pg_ctl, which block.
    tokio::task::spawn_blocking(|| TempCluster::shared(ClusterKind::Control))
        .await
        .expect("the cluster start task panicked")
}

/// Creates a database on the shared cluster and returns its URL.
async fn database_url(name: &str) -> String {
    let cluster = shared_cluster().await;
    // Tests start at the same moment, and two concurrent CREATE DATABASE calls for one name let
    // one fail; the second attempt then finds the database.
    if cluster.ensure_database(name).await.is_err() {
        cluster
            .ensure_database(name)
            .await
            .unwrap_or_else(|error| panic!("failed to create database {name}: {error}"));
    }
    cluster.connection_string(name)
}

async fn pg_store() -> Arc<dyn DocumentStore> {
    let url = database_url(DATABASE).await;
    let store = PgStore::connect(&url)
        .await
        .unwrap_or_else(|error| panic!("failed to connect the store: {error}"));
    Arc::new(store)
}

store::document_store_conformance_tests!(pg_store);

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_connects_create_schema_once() {
    let url = database_url("store_tests_schema_race").await;

    let connects = (0..6).map(|_| PgStore::connect(&url));
    let results = futures::future::join_all(connects).await;

    for result in results {
        assert!(result.is_ok(), "{:?}", result.err());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_server_is_retryable() {
    // A port that was free a moment ago has no server behind it.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("failed to reserve a local port")
        .port();
    let url = format!("postgres://nobody:secret@127.0.0.1:{port}/none");
    let settings = PoolSettings {
        connect_timeout: Duration::from_secs(2),
        ..PoolSettings::default()
    };

    let error = PgStore::connect_with(&url, settings).await.unwrap_err();

    assert!(matches!(error, Error::Unavailable { .. }), "{error}");
    assert!(error.is_retryable());
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_is_not_retryable() {
    let cluster = shared_cluster().await;
    let url = format!(
        "postgres://{}:wrong-password@127.0.0.1:{}/postgres",
        cluster.credentials().user,
        cluster.port()
    );

    let error = PgStore::connect(&url).await.unwrap_err();

    assert!(!error.is_retryable(), "{error}");
    assert!(!error.to_string().contains("wrong-password"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn longest_allowed_key_fits_the_index() {
    let store = pg_store().await;
    // Random text does not compress, so the index entry really is this long.
    let random = |bytes: usize| {
        let mut text = String::new();
        while text.len() < bytes {
            text.push_str(&uuid::Uuid::new_v4().simple().to_string());
        }
        text.truncate(bytes);
        text
    };
    let (container, partition_key, id) = (random(255), random(1023), random(1023));
    store.create_container(&container).await.unwrap();

    let created = store
        .create(&container, &partition_key, &id, &json!({}))
        .await;
    let read = store.read(&container, &partition_key, &id).await;

    assert!(created.is_ok(), "{created:?}");
    assert!(read.is_ok(), "{read:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn stores_on_one_database_share_documents() {
    let first = pg_store().await;
    let second = pg_store().await;
    let container = format!("shared-{}", uuid::Uuid::new_v4().simple());
    first.create_container(&container).await.unwrap();

    let etag = first
        .create(&container, "p1", "doc-1", &json!({"v": 1}))
        .await
        .unwrap();
    let read = second.read(&container, "p1", "doc-1").await.unwrap();

    assert_eq!(read.etag, etag);
    assert_eq!(read.body, json!({"v": 1}));
}
