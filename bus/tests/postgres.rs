//! The conformance suite and PostgreSQL-specific cases, against one shared control cluster.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bus::{Error, MessageBus, OutgoingMessage, PgBus, PgBusOptions, QueueOptions};
use cluster::{ClusterKind, TempCluster};

async fn connection_string() -> String {
    common::init_tracing();
    let cluster = TempCluster::shared(ClusterKind::Control);
    common::ensure_database(cluster, "bus_tests").await
}

async fn pg_bus() -> Arc<PgBus> {
    let url = connection_string().await;
    let bus = PgBus::connect(&url)
        .await
        .expect("failed to connect the bus");
    Arc::new(bus)
}

mod conformance {
    bus::conformance_tests!(super::pg_bus);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_connects_create_schema_once() {
    common::init_tracing();
    let cluster = TempCluster::shared(ClusterKind::Control);
    let database = format!("bus_schema_{}", uuid::Uuid::new_v4().simple());
    let url = common::ensure_database(cluster, &database).await;

    let (first, second) = tokio::join!(PgBus::connect(&url), PgBus::connect(&url));
    assert!(first.is_ok(), "{:?}", first.err());
    assert!(second.is_ok(), "{:?}", second.err());
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_bus_rejects_calls() {
    let bus = pg_bus().await;
    bus.close().await.expect("close");

    let sent = bus.send("any", OutgoingMessage::new("m", "x")).await;
    assert!(matches!(sent, Err(Error::Closed { .. })), "{sent:?}");
    let error = sent.unwrap_err();
    assert!(!error.is_retryable());
}

#[tokio::test(flavor = "multi_thread")]
async fn close_wakes_waiting_receiver() {
    let bus = pg_bus().await;
    let queue = format!("close-wake-{}", uuid::Uuid::new_v4().simple());
    bus.create_queue(&queue, QueueOptions::default())
        .await
        .expect("create queue");

    let receiver = {
        let bus = bus.clone();
        tokio::spawn(async move { bus.receive(&queue, 1, Duration::from_secs(60)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    bus.close().await.expect("close");
    let received = tokio::time::timeout(Duration::from_secs(10), receiver)
        .await
        .expect("receive still waiting after close")
        .expect("receiver task");
    assert!(
        matches!(received, Err(Error::Closed { .. })),
        "{received:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn zero_max_messages_is_invalid() {
    let bus = pg_bus().await;
    let received = bus.receive("any", 0, Duration::ZERO).await;
    assert!(
        matches!(received, Err(Error::Invalid { .. })),
        "{received:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_url_error_hides_password() {
    let error = PgBus::connect("postgres://user:hunter2@127.0.0.1:notaport/db")
        .await
        .expect_err("connect with a malformed URL");
    let message = error.to_string();
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!error.is_retryable(), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_server_is_retryable() {
    common::init_tracing();
    // A port that was free a moment ago, so the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a free port")
        .port();
    let options = PgBusOptions {
        connect_timeout: Duration::from_secs(2),
        ..PgBusOptions::default()
    };
    let url = format!("postgres://user:password@127.0.0.1:{port}/db");
    let error = PgBus::connect_with(&url, options)
        .await
        .expect_err("connect to a closed port");
    assert!(error.is_retryable(), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bus_works_behind_dyn_trait() {
    let bus: Arc<dyn MessageBus> = pg_bus().await;
    let queue = format!("dyn-{}", uuid::Uuid::new_v4().simple());
    bus.create_queue(&queue, QueueOptions::default())
        .await
        .expect("create queue");
    bus.send(&queue, OutgoingMessage::new("m", "x"))
        .await
        .expect("send");
    let batch = bus
        .receive(&queue, 1, Duration::from_secs(10))
        .await
        .expect("receive");
    assert_eq!(batch.len(), 1);
}
