/// Failures of control-plane operations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),

    #[error(transparent)]
    Bus(#[from] bus::Error),

    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },

    #[error("{kind} {id} changed concurrently {attempts} times in a row; try again")]
    Contended {
        kind: &'static str,
        id: String,
        attempts: u32,
    },

    #[error("message {message_id} on queue {queue} is invalid: {reason}")]
    InvalidMessage {
        queue: String,
        message_id: String,
        reason: String,
    },
}

impl Error {
    /// Tells whether the same call may succeed later without a change by the caller.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Store(error) => error.is_retryable(),
            Error::Bus(error) => error.is_retryable(),
            Error::Contended { .. } => true,
            Error::NotFound { .. } | Error::InvalidMessage { .. } => false,
        }
    }

    /// Tells whether the store rejected a create because the record exists.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Store(store::Error::Conflict { .. }))
    }
}
