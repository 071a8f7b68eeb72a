use std::time::Duration;

use super::{BRIEF, assert_empty, new_queue, receive_one, short_lock};
use crate::{Error, MessageBus, OutgoingMessage, QueueOptions};

/// Checks that a message whose lock expired is delivered again with a higher delivery count and
/// a new token, and that the old token can no longer settle it.
pub async fn expired_lock_redelivers_message(bus: &dyn MessageBus) {
    let queue = new_queue(bus, "expiry", short_lock(Duration::from_secs(1))).await;
    bus.send(&queue, OutgoingMessage::new("m", "x"))
        .await
        .expect("send");
    let first = receive_one(bus, &queue).await;

    // The waiting receive must wake by itself when the lock expires.
    let second = receive_one(bus, &queue).await;
    assert_eq!(second.message_id, "m");
    assert_eq!(second.delivery_count, 2);
    assert_ne!(second.lock_token, first.lock_token);
    assert!(second.locked_until > first.locked_until);

    let stale = bus.complete(&queue, &first.lock_token).await;
    assert!(matches!(stale, Err(Error::LockLost { .. })), "{stale:?}");
    bus.complete(&queue, &second.lock_token)
        .await
        .expect("complete with the current token");
}

/// Checks that a renewed lock keeps the message from other receivers past the first lock's end.
pub async fn renewed_lock_outlasts_duration(bus: &dyn MessageBus) {
    let lock = Duration::from_secs(2);
    let queue = new_queue(bus, "renew", short_lock(lock)).await;
    bus.send(&queue, OutgoingMessage::new("m", "x"))
        .await
        .expect("send");
    let delivery = receive_one(bus, &queue).await;

    tokio::time::sleep(Duration::from_millis(1200)).await;
    let renewed_until = bus
        .renew_lock(&queue, &delivery.lock_token)
        .await
        .expect("renew");
    assert!(renewed_until > delivery.locked_until);

    // Past the first lock's end, but inside the renewed one.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let others = bus
        .receive(&queue, 1, Duration::ZERO)
        .await
        .expect("receive");
    assert!(others.is_empty(), "message was redelivered: {others:?}");
    bus.complete(&queue, &delivery.lock_token)
        .await
        .expect("complete under the renewed lock");
}

/// Checks that an abandoned message can be received again at once, with a higher delivery count.
pub async fn abandoned_message_is_redelivered(bus: &dyn MessageBus) {
    let queue = new_queue(bus, "abandon", QueueOptions::default()).await;
    bus.send(&queue, OutgoingMessage::new("m", "x"))
        .await
        .expect("send");
    let first = receive_one(bus, &queue).await;
    bus.abandon(&queue, &first.lock_token)
        .await
        .expect("abandon");

    let again = bus.abandon(&queue, &first.lock_token).await;
    assert!(matches!(again, Err(Error::LockLost { .. })), "{again:?}");

    // The lock lasts 30 seconds, so only the abandon can make it ready this soon.
    let second = bus.receive(&queue, 1, BRIEF * 10).await.expect("receive");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].delivery_count, 2);
}

/// Checks that a token already used to complete a message can no longer complete, renew or
/// dead-letter it.
pub async fn stale_token_complete_is_lock_lost(bus: &dyn MessageBus) {
    let queue = new_queue(bus, "stale", QueueOptions::default()).await;
    bus.send(&queue, OutgoingMessage::new("m", "x"))
        .await
        .expect("send");
    let delivery = receive_one(bus, &queue).await;
    bus.complete(&queue, &delivery.lock_token)
        .await
        .expect("first complete");

    let completed_again = bus.complete(&queue, &delivery.lock_token).await;
    assert!(
        matches!(completed_again, Err(Error::LockLost { .. })),
        "{completed_again:?}"
    );
    let renewed = bus.renew_lock(&queue, &delivery.lock_token).await;
    assert!(
        matches!(renewed, Err(Error::LockLost { .. })),
        "{renewed:?}"
    );
    let dead_lettered = bus
        .dead_letter(&queue, &delivery.lock_token, "reason", "description")
        .await;
    assert!(
        matches!(dead_lettered, Err(Error::LockLost { .. })),
        "{dead_lettered:?}"
    );
    assert_empty(bus, &queue).await;
}
