use std::fmt;

use chrono::{DateTime, Utc};

/// Maximum length of a message id in Service Bus, in characters.
pub const MAX_MESSAGE_ID_LEN: usize = 128;

/// A message to send, as a Service Bus sender builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// Sender-chosen id; duplicate detection compares it within the queue's window.
    pub message_id: String,
    pub body: String,
    pub correlation_id: Option<String>,
    /// The message cannot be received before this time.
    pub scheduled_enqueue_time: Option<DateTime<Utc>>,
}

impl OutgoingMessage {
    pub fn new(message_id: impl Into<String>, body: impl Into<String>) -> OutgoingMessage {
        OutgoingMessage {
            message_id: message_id.into(),
            body: body.into(),
            correlation_id: None,
            scheduled_enqueue_time: None,
        }
    }

    pub fn with_correlation_id(mut self, correlation_id: impl Into<String>) -> OutgoingMessage {
        self.correlation_id = Some(correlation_id.into());
        self
    }

    pub fn scheduled_at(mut self, time: DateTime<Utc>) -> OutgoingMessage {
        self.scheduled_enqueue_time = Some(time);
        self
    }

    /// Checks the limits that Service Bus enforces on a message id.
    pub fn validate(&self) -> crate::Result<()> {
        if self.message_id.is_empty() {
            return Err(crate::Error::invalid(
                "message id",
                &self.message_id,
                "a message id is required",
            ));
        }
        if self.message_id.chars().count() > MAX_MESSAGE_ID_LEN {
            return Err(crate::Error::invalid(
                "message id",
                &self.message_id,
                format!("a message id has at most {MAX_MESSAGE_ID_LEN} characters"),
            ));
        }
        Ok(())
    }
}

/// Outcome of a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// The message was enqueued under this sequence number.
    Accepted { sequence_number: i64 },
    /// A message with the same id was sent within the duplicate-detection window, so this one
    /// was accepted and dropped.
    Duplicate,
}

/// Proof of a receiver's lock on one delivered message; settling a message requires it.
///
/// Its content belongs to the implementation and must not be interpreted by callers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LockToken(String);

impl LockToken {
    pub fn new(token: impl Into<String>) -> LockToken {
        LockToken(token.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A message received under a peek-lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub lock_token: LockToken,
    /// The lock ends at this time unless it is renewed.
    pub locked_until: DateTime<Utc>,
    /// Number of times the message was handed to a receiver from its current queue, 1 on the
    /// first delivery.
    pub delivery_count: u32,
    /// Position within the queue; receivers get ready messages in this order.
    pub sequence_number: i64,
    pub enqueued_time: DateTime<Utc>,
    pub message_id: String,
    pub correlation_id: Option<String>,
    pub body: String,
    /// Dead-letter reason, set only for messages in a dead-letter queue.
    pub dead_letter_reason: Option<String>,
    pub dead_letter_description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_message_id_is_invalid() {
        let message = OutgoingMessage::new("", "body");
        assert!(message.validate().is_err());
    }

    #[test]
    fn long_message_id_is_invalid() {
        let message = OutgoingMessage::new("x".repeat(MAX_MESSAGE_ID_LEN + 1), "body");
        assert!(message.validate().is_err());
    }

    #[test]
    fn message_id_at_limit_is_valid() {
        let message = OutgoingMessage::new("x".repeat(MAX_MESSAGE_ID_LEN), "body");
        assert!(message.validate().is_ok());
    }

    #[test]
    fn builder_sets_optional_fields() {
        let time = Utc::now();
        let message = OutgoingMessage::new("m1", "body")
            .with_correlation_id("run-1")
            .scheduled_at(time);
        assert_eq!(message.correlation_id.as_deref(), Some("run-1"));
        assert_eq!(message.scheduled_enqueue_time, Some(time));
    }
}
