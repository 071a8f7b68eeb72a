use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::new_queue;
use crate::{MessageBus, OutgoingMessage, QueueOptions};

const MESSAGES: usize = 200;
const CONSUMERS: usize = 4;

/// Checks that consumers draining one queue together receive and complete every message
/// exactly once.
pub async fn concurrent_consumers_receive_each_once(bus: &dyn MessageBus) {
    let queue = new_queue(bus, "concurrent", QueueOptions::default()).await;
    for i in 0..MESSAGES {
        bus.send(&queue, OutgoingMessage::new(format!("m-{i:03}"), "x"))
            .await
            .expect("send");
    }

    let receipts = Mutex::new(HashMap::<String, usize>::new());
    let consumers = (0..CONSUMERS).map(|_| consume(bus, &queue, &receipts));
    futures::future::join_all(consumers).await;

    let receipts = receipts.into_inner().unwrap();
    let repeated: Vec<_> = receipts.iter().filter(|(_, count)| **count > 1).collect();
    assert!(repeated.is_empty(), "received more than once: {repeated:?}");
    assert_eq!(receipts.len(), MESSAGES, "distinct messages received");
}

/// Receives and completes messages until all have been received or a minute has passed.
async fn consume(bus: &dyn MessageBus, queue: &str, receipts: &Mutex<HashMap<String, usize>>) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if receipts.lock().unwrap().len() >= MESSAGES {
            return;
        }
        let batch = bus
            .receive(queue, 7, Duration::from_millis(500))
            .await
            .expect("receive");
        for delivery in batch {
            bus.complete(queue, &delivery.lock_token)
                .await
                .expect("complete");
            *receipts
                .lock()
                .unwrap()
                .entry(delivery.message_id)
                .or_default() += 1;
        }
    }
}
