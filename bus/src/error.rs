use crate::message::LockToken;

/// Boxed cause of an [`Error`], so that each implementation can carry its own client errors.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Failures of a [`MessageBus`](crate::MessageBus) operation.
///
/// [`Error::is_retryable`] returns whether repeating the same call can succeed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The broker could not be reached or dropped the connection; retry after a short sleep.
    #[error("message bus is unavailable while trying to {action}: {source}; retry shortly")]
    Unavailable {
        action: String,
        #[source]
        source: BoxError,
    },

    #[error("queue `{queue}` not found; create it with `create_queue` before using it")]
    QueueNotFound { queue: String },

    /// The lock expired, the message was received again under a new token, or it was settled.
    #[error(
        "lock {lock_token} on a message in queue `{queue}` was lost (it expired, the message was \
         received again, or it was already settled); receive the message again"
    )]
    LockLost {
        queue: String,
        lock_token: LockToken,
    },

    /// A request that can never succeed as it is, for example one with an empty message id.
    #[error("invalid {field} `{value}`: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },

    /// The broker rejected a statement for a reason that a retry does not fix.
    #[error("message bus failed to {action}: {source}")]
    Failed {
        action: String,
        #[source]
        source: BoxError,
    },

    #[error("message bus was closed; create a new one to {action}")]
    Closed { action: String },
}

impl Error {
    /// Returns whether the same call may succeed when repeated later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable { .. })
    }

    pub(crate) fn invalid(field: &'static str, value: &str, reason: impl Into<String>) -> Error {
        Error::Invalid {
            field,
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unavailable_is_retryable() {
        let error = Error::Unavailable {
            action: "send".into(),
            source: "connection refused".into(),
        };
        assert!(error.is_retryable());
    }

    #[test]
    fn lock_lost_is_not_retryable() {
        let error = Error::LockLost {
            queue: "jobs".into(),
            lock_token: LockToken::new("abc"),
        };
        assert!(!error.is_retryable());
    }

    #[test]
    fn lock_lost_message_names_queue_and_token() {
        let error = Error::LockLost {
            queue: "jobs".into(),
            lock_token: LockToken::new("abc"),
        };
        let message = error.to_string();
        assert!(message.contains("`jobs`"), "{message}");
        assert!(message.contains("abc"), "{message}");
    }

    #[test]
    fn queue_not_found_is_not_retryable() {
        let error = Error::QueueNotFound {
            queue: "jobs".into(),
        };
        assert!(!error.is_retryable());
    }
}
