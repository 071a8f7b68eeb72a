/// Failures of a run step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Control(#[from] control::Error),

    #[error(transparent)]
    Investigate(#[from] crate::investigate::Error),

    #[error(
        "no connection string is configured for server {server_id}; pass --target {server_id}=postgres://..."
    )]
    UnknownTarget { server_id: String },

    #[error("failed to {action} on server {server_id}: {source}")]
    Target {
        action: String,
        server_id: String,
        #[source]
        source: tokio_postgres::Error,
    },

    #[error("{0}")]
    Verification(String),
}

impl Error {
    /// Tells whether handling the same trigger again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Control(error) => error.is_retryable(),
            Error::Investigate(error) => error.is_retryable(),
            Error::Target { source, .. } => source.is_closed() || source.as_db_error().is_none(),
            Error::UnknownTarget { .. } | Error::Verification(_) => false,
        }
    }
}
