//! The PostgreSQL bus across restarts of its cluster, each test on a private cluster.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bus::{MessageBus, OutgoingMessage, PgBus, PgBusOptions, QueueOptions};
use cluster::{ClusterKind, StopMode, TempCluster};

const MESSAGES: usize = 50;
/// Messages received but left unsettled before the restart; they come back when locks expire.
const LOCKED_BEFORE_RESTART: usize = 5;
const QUEUE: &str = "restart";

/// Stops and starts the cluster, checking that it kept its port, which the bus's URL names.
fn restart(cluster: &mut TempCluster, mode: StopMode) {
    let port = cluster.port();
    tokio::task::block_in_place(|| {
        cluster.stop(mode).expect("stop the cluster");
        cluster.cluster_mut().start().expect("start the cluster");
    });
    assert_eq!(cluster.port(), port, "the cluster moved to another port");
}

async fn start_cluster() -> (TempCluster, String) {
    common::init_tracing();
    let cluster =
        tokio::task::block_in_place(|| TempCluster::start(ClusterKind::Control)).expect("start");
    let url = common::ensure_database(&cluster, "bus_restart").await;
    (cluster, url)
}

/// Receives and completes messages until `expected` were received, retrying retryable errors.
/// Returns how often each message id was received.
async fn drain(bus: &PgBus, expected: usize) -> HashMap<String, usize> {
    let mut receipts = HashMap::<String, usize>::new();
    let mut retryable_errors = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while receipts.len() < expected && Instant::now() < deadline {
        let batch = match bus.receive(QUEUE, 10, Duration::from_secs(1)).await {
            Ok(batch) => batch,
            Err(error) if error.is_retryable() && retryable_errors < 20 => {
                retryable_errors += 1;
                tokio::time::sleep(Duration::from_millis(250)).await;
                continue;
            }
            Err(error) => panic!("receive failed after the restart: {error}"),
        };
        for delivery in batch {
            bus.complete(QUEUE, &delivery.lock_token)
                .await
                .expect("complete after the restart");
            *receipts.entry(delivery.message_id).or_default() += 1;
        }
    }
    receipts
}

async fn messages_survive(mode: StopMode) {
    let (mut cluster, url) = start_cluster().await;
    let bus = PgBus::connect(&url).await.expect("connect");
    let options = QueueOptions {
        lock_duration: Duration::from_secs(2),
        ..QueueOptions::default()
    };
    bus.create_queue(QUEUE, options)
        .await
        .expect("create queue");
    for i in 0..MESSAGES {
        bus.send(QUEUE, OutgoingMessage::new(format!("m-{i:02}"), "x"))
            .await
            .expect("send");
    }
    let locked = bus
        .receive(QUEUE, LOCKED_BEFORE_RESTART as u32, Duration::from_secs(5))
        .await
        .expect("receive before the restart");
    assert_eq!(locked.len(), LOCKED_BEFORE_RESTART);

    restart(&mut cluster, mode);

    let receipts = drain(&bus, MESSAGES).await;
    let repeated: Vec<_> = receipts.iter().filter(|(_, count)| **count > 1).collect();
    assert!(repeated.is_empty(), "received more than once: {repeated:?}");
    assert_eq!(receipts.len(), MESSAGES, "distinct messages received");
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_survive_fast_restart() {
    messages_survive(StopMode::Fast).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_survive_crash_restart() {
    messages_survive(StopMode::Immediate).await;
}

/// Waits until some session of the cluster is listening, which after a restart means that the
/// bus's listener has reconnected.
async fn wait_for_listener(cluster: &TempCluster) {
    let (client, connection) = cluster
        .config("postgres")
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect to watch sessions");
    tokio::spawn(connection);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let row = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'",
                &[],
            )
            .await
            .expect("query pg_stat_activity");
        if row.get::<_, i64>(0) > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the bus listener did not reconnect within 30 seconds");
}

#[tokio::test(flavor = "multi_thread")]
async fn waiting_receive_wakes_after_restart() {
    let (mut cluster, url) = start_cluster().await;
    // Polling alone would not find the message before the receive's deadline, so only a
    // notification through the reconnected listener can deliver it in time.
    let options = PgBusOptions {
        poll_interval: Duration::from_secs(600),
        ..PgBusOptions::default()
    };
    let receiver_bus =
        std::sync::Arc::new(PgBus::connect_with(&url, options).await.expect("connect"));
    receiver_bus
        .create_queue(QUEUE, QueueOptions::default())
        .await
        .expect("create queue");
    let max_wait = Duration::from_secs(60);
    let started = Instant::now();
    let receiver = {
        let bus = receiver_bus.clone();
        tokio::spawn(async move { bus.receive(QUEUE, 1, max_wait).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;

    restart(&mut cluster, StopMode::Immediate);
    wait_for_listener(&cluster).await;
    // A second bus, so that no in-process wake-up reaches the receiver.
    let sender_bus = PgBus::connect(&url).await.expect("connect the sender");
    sender_bus
        .send(QUEUE, OutgoingMessage::new("after-restart", "x"))
        .await
        .expect("send after the restart");

    let received = receiver.await.expect("receiver task").expect("receive");
    let elapsed = started.elapsed();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message_id, "after-restart");
    assert!(elapsed < max_wait / 2, "receive took {elapsed:?}");
}
