use std::time::Duration;

use super::{assert_empty, new_queue, receive_one};
use crate::{
    MAX_DELIVERY_COUNT_EXCEEDED, MessageBus, OutgoingMessage, QueueOptions, dead_letter_queue_name,
};

/// Checks that a dead-lettered message leaves its queue and is received from the dead-letter
/// queue with its reason and description, then completed there.
pub async fn dead_lettered_message_reaches_dlq(bus: &dyn MessageBus) {
    let queue = new_queue(bus, "dead-letter", QueueOptions::default()).await;
    let dlq = dead_letter_queue_name(&queue);
    let message = OutgoingMessage::new("poison", "bad body").with_correlation_id("run-1");
    bus.send(&queue, message).await.expect("send");
    let delivery = receive_one(bus, &queue).await;
    bus.dead_letter(
        &queue,
        &delivery.lock_token,
        "InvalidBody",
        "body is not JSON",
    )
    .await
    .expect("dead-letter");

    assert_empty(bus, &queue).await;
    let dead = receive_one(bus, &dlq).await;
    assert_eq!(dead.message_id, "poison");
    assert_eq!(dead.body, "bad body");
    assert_eq!(dead.correlation_id.as_deref(), Some("run-1"));
    assert_eq!(dead.dead_letter_reason.as_deref(), Some("InvalidBody"));
    assert_eq!(
        dead.dead_letter_description.as_deref(),
        Some("body is not JSON")
    );
    bus.complete(&dlq, &dead.lock_token)
        .await
        .expect("complete in the dead-letter queue");
    assert_empty(bus, &dlq).await;
}

/// Checks that a message abandoned as often as the maximum delivery count moves to the
/// dead-letter queue with reason `MaxDeliveryCountExceeded`.
pub async fn max_delivery_count_moves_to_dlq(bus: &dyn MessageBus) {
    let options = QueueOptions {
        max_delivery_count: 3,
        ..QueueOptions::default()
    };
    let queue = new_queue(bus, "max-delivery", options).await;
    bus.send(&queue, OutgoingMessage::new("flaky", "x"))
        .await
        .expect("send");
    for attempt in 1..=3 {
        let delivery = receive_one(bus, &queue).await;
        assert_eq!(delivery.delivery_count, attempt);
        bus.abandon(&queue, &delivery.lock_token)
            .await
            .expect("abandon");
    }

    assert_empty(bus, &queue).await;
    let dead = receive_one(bus, &dead_letter_queue_name(&queue)).await;
    assert_eq!(dead.message_id, "flaky");
    assert_eq!(
        dead.dead_letter_reason.as_deref(),
        Some(MAX_DELIVERY_COUNT_EXCEEDED)
    );
}

/// Checks that deliveries ending in an expired lock count toward the maximum, so a receiver
/// waiting on the dead-letter queue gets the message once the last lock expires.
pub async fn expired_locks_count_toward_max_delivery(bus: &dyn MessageBus) {
    let options = QueueOptions {
        lock_duration: Duration::from_secs(1),
        max_delivery_count: 1,
        ..QueueOptions::default()
    };
    let queue = new_queue(bus, "expired-max", options).await;
    bus.send(&queue, OutgoingMessage::new("slow", "x"))
        .await
        .expect("send");
    let delivery = receive_one(bus, &queue).await;
    assert_eq!(delivery.delivery_count, 1);

    let dead = receive_one(bus, &dead_letter_queue_name(&queue)).await;
    assert_eq!(dead.message_id, "slow");
    assert_eq!(
        dead.dead_letter_reason.as_deref(),
        Some(MAX_DELIVERY_COUNT_EXCEEDED)
    );
    assert_empty(bus, &queue).await;
}
