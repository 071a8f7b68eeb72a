use std::time::{Duration, Instant};

use chrono::Utc;

use super::{BRIEF, PATIENCE, assert_empty, new_queue, receive_one, unique_queue};
use crate::{
    Error, MessageBus, OutgoingMessage, QueueOptions, SendOutcome, dead_letter_queue_name,
};

/// Checks that a sent message is received with all its fields and is gone once completed.
pub async fn send_receive_complete(bus: &dyn MessageBus) {
    let queue = new_queue(bus, "basic", QueueOptions::default()).await;
    let message = OutgoingMessage::new("m-1", "hello").with_correlation_id("run-7");
    let before_send = Utc::now();
    let outcome = bus.send(&queue, message).await.expect("send");
    assert!(
        matches!(outcome, SendOutcome::Accepted { .. }),
        "{outcome:?}"
    );

    let delivery = receive_one(bus, &queue).await;
    assert_eq!(delivery.message_id, "m-1");
    assert_eq!(delivery.body, "hello");
    assert_eq!(delivery.correlation_id.as_deref(), Some("run-7"));
    assert_eq!(delivery.delivery_count, 1);
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            sequence_number: delivery.sequence_number
        }
    );
    assert!(delivery.locked_until > Utc::now());
    assert!(delivery.enqueued_time >= before_send - chrono::Duration::seconds(5));
    assert!(delivery.dead_letter_reason.is_none());

    bus.complete(&queue, &delivery.lock_token)
        .await
        .expect("complete");
    assert_empty(bus, &queue).await;
}

/// Checks that a waiting receive returns soon after a send, well before its maximum wait.
pub async fn receive_waits_for_send(bus: &dyn MessageBus) {
    let queue = new_queue(bus, "wait", QueueOptions::default()).await;
    let max_wait = Duration::from_secs(30);
    let started = Instant::now();
    let receive = bus.receive(&queue, 1, max_wait);
    let send = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        bus.send(&queue, OutgoingMessage::new("late", "x")).await
    };
    let (received, sent) = tokio::join!(receive, send);
    let elapsed = started.elapsed();

    sent.expect("send");
    let received = received.expect("receive");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message_id, "late");
    assert!(elapsed < max_wait / 2, "receive took {elapsed:?}");
}

/// Checks that ready messages are received in the order they were sent, alone or in a batch.
pub async fn fifo_order_is_kept(bus: &dyn MessageBus) {
    let queue = new_queue(bus, "fifo", QueueOptions::default()).await;
    let ids: Vec<String> = (0..20).map(|i| format!("m-{i:02}")).collect();
    for id in &ids {
        bus.send(&queue, OutgoingMessage::new(id, "x"))
            .await
            .expect("send");
    }

    let mut received = Vec::new();
    for _ in 0..5 {
        let delivery = receive_one(bus, &queue).await;
        bus.complete(&queue, &delivery.lock_token)
            .await
            .expect("complete");
        received.push(delivery.message_id);
    }
    let batch = bus.receive(&queue, 100, PATIENCE).await.expect("receive");
    received.extend(batch.into_iter().map(|delivery| delivery.message_id));
    assert_eq!(received, ids);
}

/// Checks that send and receive on a queue that was never created fail with `QueueNotFound`.
pub async fn missing_queue_is_not_found(bus: &dyn MessageBus) {
    let queue = unique_queue("missing");
    let sent = bus.send(&queue, OutgoingMessage::new("m", "x")).await;
    assert!(matches!(sent, Err(Error::QueueNotFound { .. })), "{sent:?}");
    let received = bus.receive(&queue, 1, BRIEF).await;
    assert!(
        matches!(received, Err(Error::QueueNotFound { .. })),
        "{received:?}"
    );
}

/// Checks that creating a queue twice succeeds and keeps its messages.
pub async fn create_queue_is_idempotent(bus: &dyn MessageBus) {
    let queue = new_queue(bus, "idempotent", QueueOptions::default()).await;
    bus.send(&queue, OutgoingMessage::new("kept", "x"))
        .await
        .expect("send");
    bus.create_queue(&queue, QueueOptions::default())
        .await
        .expect("second create");
    let delivery = receive_one(bus, &queue).await;
    assert_eq!(delivery.message_id, "kept");
}

/// Checks that a send to a dead-letter queue fails without a retryable error.
pub async fn send_to_dead_letter_queue_fails(bus: &dyn MessageBus) {
    let queue = new_queue(bus, "send-dlq", QueueOptions::default()).await;
    let sent = bus
        .send(
            &dead_letter_queue_name(&queue),
            OutgoingMessage::new("m", "x"),
        )
        .await;
    let error = sent.expect_err("send to a dead-letter queue");
    assert!(!error.is_retryable(), "{error}");
}

/// Checks that a second send of a message id within the window is accepted and dropped.
pub async fn duplicate_send_is_dropped(bus: &dyn MessageBus) {
    let queue = new_queue(bus, "duplicate", QueueOptions::default()).await;
    let first = bus
        .send(&queue, OutgoingMessage::new("same", "first"))
        .await
        .expect("first send");
    let second = bus
        .send(&queue, OutgoingMessage::new("same", "second"))
        .await
        .expect("second send");
    assert!(matches!(first, SendOutcome::Accepted { .. }), "{first:?}");
    assert_eq!(second, SendOutcome::Duplicate);

    let batch = bus.receive(&queue, 10, PATIENCE).await.expect("receive");
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].body, "first");
}

/// Checks that a message id is accepted again once the duplicate-detection window has passed.
pub async fn message_id_reusable_after_window(bus: &dyn MessageBus) {
    let options = QueueOptions {
        duplicate_detection_window: Duration::from_secs(1),
        ..QueueOptions::default()
    };
    let queue = new_queue(bus, "window", options).await;
    bus.send(&queue, OutgoingMessage::new("again", "first"))
        .await
        .expect("first send");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = bus
        .send(&queue, OutgoingMessage::new("again", "second"))
        .await
        .expect("second send");
    assert!(matches!(second, SendOutcome::Accepted { .. }), "{second:?}");

    let batch = bus.receive(&queue, 10, PATIENCE).await.expect("receive");
    let bodies: Vec<&str> = batch.iter().map(|d| d.body.as_str()).collect();
    assert_eq!(bodies, ["first", "second"]);
}

/// Checks that a scheduled message cannot be received before its time, and can be after it.
pub async fn scheduled_message_waits_until_due(bus: &dyn MessageBus) {
    let queue = new_queue(bus, "scheduled", QueueOptions::default()).await;
    let due = Utc::now() + chrono::Duration::milliseconds(1500);
    let message = OutgoingMessage::new("later", "x").scheduled_at(due);
    bus.send(&queue, message).await.expect("send");

    let early = bus
        .receive(&queue, 1, Duration::ZERO)
        .await
        .expect("receive");
    assert!(early.is_empty(), "received {early:?} before it was due");

    let delivery = receive_one(bus, &queue).await;
    let received_at = Utc::now();
    assert_eq!(delivery.message_id, "later");
    assert!(
        received_at >= due,
        "received at {received_at}, due at {due}"
    );
}
