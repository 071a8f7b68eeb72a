use crate::document::{DocumentKey, ETag};

/// Boxed cause of a backend failure, kept so callers can walk the error chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything a [`DocumentStore`](crate::DocumentStore) operation can fail with.
///
/// Only [`Error::Unavailable`] is worth retrying unchanged, and [`Error::is_retryable`] checks for
/// it. The other variants describe the request or the stored data, so repeating the same call
/// gives the same result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("container {container:?} not found; create it with create_container first")]
    ContainerNotFound { container: String },

    #[error("{key} not found")]
    NotFound { key: DocumentKey },

    #[error("{key} already exists; read and replace it, or upsert it")]
    Conflict { key: DocumentKey },

    #[error(
        "{key} was changed or deleted after ETag {expected} was read; \
         read it again and reapply the change"
    )]
    PreconditionFailed { key: DocumentKey, expected: ETag },

    #[error("invalid {argument} {value:?}: {reason}")]
    InvalidArgument {
        argument: &'static str,
        value: String,
        reason: String,
    },

    /// The store could not be set up from its configuration, for example a malformed URL.
    #[error("invalid document store configuration: {reason}")]
    Configuration { reason: String },

    #[error("failed to convert the body of {key} to or from JSON: {source}")]
    Serialization {
        key: DocumentKey,
        #[source]
        source: serde_json::Error,
    },

    /// The backend could not be reached or turned the request away for now: a refused or
    /// broken connection, a pool timeout, a server shutting down, a serialization conflict.
    #[error("document store unavailable while {context}: {reason}; retry after a short wait")]
    Unavailable {
        context: String,
        reason: String,
        #[source]
        source: BoxError,
    },

    /// The backend rejected the request in a way that a retry will not fix.
    #[error("document store failed while {context}: {reason}")]
    Backend {
        context: String,
        reason: String,
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// Tells whether the same call may succeed later without changing the request.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DocumentKey {
        DocumentKey::new("issues", "server-1", "issue-9")
    }

    fn io_cause() -> BoxError {
        Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))
    }

    #[test]
    fn unavailable_is_retryable() {
        let error = Error::Unavailable {
            context: "reading".into(),
            reason: "connection refused".into(),
            source: io_cause(),
        };

        assert!(error.is_retryable());
    }

    #[test]
    fn request_errors_are_not_retryable() {
        let errors = [
            Error::NotFound { key: key() },
            Error::Conflict { key: key() },
            Error::PreconditionFailed {
                key: key(),
                expected: ETag::new("e1"),
            },
            Error::ContainerNotFound {
                container: "issues".into(),
            },
            Error::Backend {
                context: "reading".into(),
                reason: "syntax error".into(),
                source: io_cause(),
            },
        ];

        for error in errors {
            assert!(!error.is_retryable(), "{error}");
        }
    }

    #[test]
    fn precondition_failed_message_names_document_and_etag() {
        let error = Error::PreconditionFailed {
            key: key(),
            expected: ETag::new("e1"),
        };

        let message = error.to_string();

        assert!(message.contains("\"issue-9\""), "{message}");
        assert!(message.contains("\"server-1\""), "{message}");
        assert!(message.contains("\"issues\""), "{message}");
        assert!(message.contains("e1"), "{message}");
    }

    #[test]
    fn container_not_found_message_names_container() {
        let error = Error::ContainerNotFound {
            container: "runs".into(),
        };

        assert!(error.to_string().contains("\"runs\""));
    }
}
