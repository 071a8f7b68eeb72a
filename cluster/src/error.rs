use std::path::PathBuf;

/// Failures while finding, creating, starting or stopping a cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "PostgreSQL program `{program}` was not found in {searched}; install the Debian package \
         `{package}` (apt-get install -y {package}) or set PG_BINDIR to the directory holding it"
    )]
    MissingBinary {
        program: String,
        searched: String,
        package: String,
    },

    #[error(
        "PostgreSQL extension `{extension}` is not installed ({control} is missing); install the \
         Debian package `{package}` (apt-get install -y {package})"
    )]
    MissingExtension {
        extension: String,
        control: PathBuf,
        package: String,
    },

    #[error("PostgreSQL {found} is not supported; DBAgent needs PostgreSQL 14 or newer")]
    UnsupportedVersion { found: String },

    #[error(
        "the PostgreSQL server runs as user `{user}`, who cannot enter {dir}; choose a state \
         directory outside it (--state-dir) or allow it with `chmod o+x {dir}`"
    )]
    UnreachableDirectory { user: String, dir: PathBuf },

    #[error(
        "user `{user}` does not exist; PostgreSQL refuses to run as root, so create it (the Debian package postgresql does) or run DBAgent as a regular user"
    )]
    MissingServerUser { user: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("`{command}` failed with {status}:\n{output}")]
    CommandFailed {
        command: String,
        status: std::process::ExitStatus,
        output: String,
    },

    #[error("cluster in {dir} did not start; last lines of its log {log}:\n{log_tail}")]
    StartFailed {
        dir: PathBuf,
        log: PathBuf,
        log_tail: String,
    },

    #[error(
        "cluster metadata {path} is invalid: {source}; delete the cluster directory to recreate it"
    )]
    InvalidMetadata {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error(
        "standby on port {port} did not replay the primary's WAL up to {target} within \
         {timeout:?}; it replayed up to {replayed}; see its log {log}"
    )]
    ReplayTimedOut {
        port: u16,
        target: String,
        replayed: String,
        timeout: std::time::Duration,
        log: PathBuf,
    },

    #[error("failed to prepare the cluster over SQL: {0}")]
    Sql(#[from] tokio_postgres::Error),
}

impl Error {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}
