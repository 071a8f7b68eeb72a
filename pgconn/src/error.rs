use std::path::PathBuf;

/// Failures to parse a connection string or to connect.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid connection string: {reason}")]
    InvalidConnectionString { reason: String },

    #[error("failed to read the root certificates in {path}: {reason}")]
    RootCertificates { path: PathBuf, reason: String },

    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
}
