//! Enveloped messages on the bus, with ids derived from the run so that repeats are dropped.

use std::time::Duration;

use bus::{Delivery, OutgoingMessage, SendOutcome};
use chrono::{DateTime, Utc};
use contracts::{
    Approval, Completion, CompletionOutcome, Envelope, MessageId, RunId, SCHEMA_VERSION, Trigger,
    TriggerKind,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{ControlPlane, Error, Result, layout};

/// Dead-letter reason for a body that is not a valid envelope of the queue's message type.
pub const INVALID_MESSAGE: &str = "InvalidMessage";

/// A message type and the queue that carries it.
pub trait Message: Serialize + DeserializeOwned + Send + Sync {
    const QUEUE: &'static str;

    /// Id of this message, the same each time the same fact is sent.
    fn message_id(&self, run_id: RunId) -> MessageId;
}

impl Message for Trigger {
    const QUEUE: &'static str = layout::TRIGGERS;

    fn message_id(&self, run_id: RunId) -> MessageId {
        let name = match self.kind {
            TriggerKind::Start => "trigger.start",
            TriggerKind::Resume => "trigger.resume",
            TriggerKind::Scheduled => "trigger.scheduled",
        };
        MessageId::derived(run_id.0, name)
    }
}

impl Message for Completion {
    const QUEUE: &'static str = layout::COMPLETIONS;

    fn message_id(&self, run_id: RunId) -> MessageId {
        let name = match self.outcome {
            CompletionOutcome::Suspended { .. } => "completion.suspended",
            CompletionOutcome::Completed { .. } => "completion.completed",
            CompletionOutcome::Failed { .. } => "completion.failed",
        };
        MessageId::derived(run_id.0, name)
    }
}

impl Message for Approval {
    const QUEUE: &'static str = layout::APPROVALS;

    fn message_id(&self, _run_id: RunId) -> MessageId {
        MessageId::derived(self.decision.issue_id.0, "approval")
    }
}

/// Wraps `payload` in an envelope with its derived message id.
fn outgoing<T: Message>(run_id: RunId, payload: T) -> OutgoingMessage {
    let message_id = payload.message_id(run_id);
    let envelope = Envelope::new(message_id, run_id, Utc::now(), payload);
    let body = serde_json::to_string(&envelope).expect("an envelope serializes");
    OutgoingMessage::new(message_id.to_string(), body).with_correlation_id(run_id.to_string())
}

/// A received message with the delivery needed to settle it.
#[derive(Debug)]
pub struct Received<T> {
    pub envelope: Envelope<T>,
    pub delivery: Delivery,
}

impl ControlPlane {
    /// Sends `payload` about `run_id` in an envelope with its derived message id.
    pub async fn send<T: Message>(&self, run_id: RunId, payload: T) -> Result<SendOutcome> {
        Ok(self.bus.send(T::QUEUE, outgoing(run_id, payload)).await?)
    }

    /// Sends `payload` like [`ControlPlane::send`], to be received no earlier than `at`.
    pub async fn send_at<T: Message>(
        &self,
        run_id: RunId,
        payload: T,
        at: DateTime<Utc>,
    ) -> Result<SendOutcome> {
        let message = outgoing(run_id, payload).scheduled_at(at);
        Ok(self.bus.send(T::QUEUE, message).await?)
    }

    /// Receives up to `max` messages of type `T`, waiting up to `max_wait` for the first.
    ///
    /// A body that is not a valid envelope, or one with a newer schema version, is moved to the
    /// dead-letter queue with the reason, because no retry can make it valid.
    pub async fn receive<T: Message>(
        &self,
        max: u32,
        max_wait: Duration,
    ) -> Result<Vec<Received<T>>> {
        let deliveries = self.bus.receive(T::QUEUE, max, max_wait).await?;
        let mut received = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            match decode::<T>(&delivery) {
                Ok(envelope) => received.push(Received { envelope, delivery }),
                Err(reason) => self.reject(T::QUEUE, &delivery, &reason).await?,
            }
        }
        Ok(received)
    }

    /// Completes a handled message; a lost lock means another receiver has it, which is logged.
    pub async fn complete<T: Message>(&self, received: &Received<T>) -> Result<()> {
        match self
            .bus
            .complete(T::QUEUE, &received.delivery.lock_token)
            .await
        {
            Ok(()) => Ok(()),
            Err(bus::Error::LockLost { .. }) => {
                tracing::warn!(
                    queue = T::QUEUE,
                    message.id = %received.delivery.message_id,
                    "lock lost before completion; the message will be handled again"
                );
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Returns a message to its queue for another attempt.
    pub async fn abandon<T: Message>(&self, received: &Received<T>) -> Result<()> {
        match self
            .bus
            .abandon(T::QUEUE, &received.delivery.lock_token)
            .await
        {
            Ok(()) | Err(bus::Error::LockLost { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Extends the lock of a message whose handling takes a while.
    pub async fn renew<T: Message>(&self, received: &Received<T>) -> Result<()> {
        self.bus
            .renew_lock(T::QUEUE, &received.delivery.lock_token)
            .await?;
        Ok(())
    }

    async fn reject(&self, queue: &str, delivery: &Delivery, reason: &str) -> Result<()> {
        let error = Error::InvalidMessage {
            queue: queue.to_string(),
            message_id: delivery.message_id.clone(),
            reason: reason.to_string(),
        };
        tracing::error!(%error, "moving message to the dead-letter queue");
        match self
            .bus
            .dead_letter(queue, &delivery.lock_token, INVALID_MESSAGE, reason)
            .await
        {
            Ok(()) | Err(bus::Error::LockLost { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

fn decode<T: Message>(delivery: &Delivery) -> std::result::Result<Envelope<T>, String> {
    let envelope: Envelope<T> =
        serde_json::from_str(&delivery.body).map_err(|error| error.to_string())?;
    if envelope.schema_version > SCHEMA_VERSION {
        return Err(format!(
            "schema version {} is newer than the supported {SCHEMA_VERSION}; upgrade this component",
            envelope.schema_version
        ));
    }
    Ok(envelope)
}
