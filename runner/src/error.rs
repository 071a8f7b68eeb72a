/// Failures of a run step.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Control(#[from] control::Error),

    #[error(transparent)]
    Investigate(#[from] crate::investigate::Error),

    #[error(
        "no connection string is configured for server {server_id}; pass --targets {server_id}=postgres://..."
    )]
    UnknownTarget { server_id: String },

    #[error("the connection settings of server {server_id} are invalid: {source}")]
    InvalidTarget {
        server_id: String,
        #[source]
        source: pgconn::Error,
    },

    #[error("a build of index {index} on server {server_id} is still running; waiting for it")]
    BuildInProgress { server_id: String, index: String },

    #[error(
        "the partitioned table {table} on server {server_id} has the partition {partition}, \
         which is not a table and cannot have an index, so no index on {table} can become \
         valid; index the other partitions one by one instead"
    )]
    PartitionNotIndexable {
        server_id: String,
        table: String,
        partition: String,
    },

    #[error(
        "index {index} on server {server_id} is still INVALID after {done} of {leaves} leaf \
         partitions got their index attached; a partition was probably added during the build, \
         and a retry indexes it"
    )]
    PartitionedIndexIncomplete {
        server_id: String,
        index: String,
        done: usize,
        leaves: usize,
    },

    #[error(
        "an index named {index} already exists on another table on server {server_id}; drop or \
         rename it, because DBAgent does not touch indexes it did not create"
    )]
    IndexNameTaken { server_id: String, index: String },

    #[error("failed to {action} on server {server_id}: {}", describe(source))]
    Target {
        action: String,
        server_id: String,
        #[source]
        source: tokio_postgres::Error,
    },

    #[error(
        "run {run_id} is still at its first step, so its scheduled trigger waits for it to be suspended"
    )]
    ScheduledTooEarly { run_id: String },

    #[error("{0}")]
    Verification(String),

    /// The index passed the other checks, but the statement's mean time did not fall enough
    /// to keep it. The measurements go on the closed issue.
    #[error("{reason}")]
    NoGain {
        reason: String,
        cpu_after_pct: f64,
        mean_time_after_ms: f64,
    },
}

impl Error {
    /// Tells whether handling the same trigger again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Control(error) => error.is_retryable(),
            Error::Investigate(error) => error.is_retryable(),
            Error::Target { source, .. } => target_error_is_transient(source),
            Error::BuildInProgress { .. }
            | Error::ScheduledTooEarly { .. }
            | Error::PartitionedIndexIncomplete { .. } => true,
            Error::UnknownTarget { .. }
            | Error::InvalidTarget { .. }
            | Error::PartitionNotIndexable { .. }
            | Error::IndexNameTaken { .. }
            | Error::Verification(_)
            | Error::NoGain { .. } => false,
        }
    }
}

/// Returns the server's message and SQLSTATE for a database error, which the error's own
/// `Display` leaves out ("db error"), and the error itself otherwise.
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(database_error) => format!(
            "{} (SQLSTATE {})",
            database_error.message(),
            database_error.code().code()
        ),
        None => error.to_string(),
    }
}

/// Tells whether a target error may pass on its own: connection failures, and server states
/// such as a failover, too many connections, a deadlock or a busy lock.
fn target_error_is_transient(error: &tokio_postgres::Error) -> bool {
    let Some(database_error) = error.as_db_error() else {
        return true;
    };
    let code = database_error.code().code();
    let transient_classes = ["08", "53", "57P"];
    let transient_codes = ["40001", "40P01", "55P03"];
    transient_classes
        .iter()
        .any(|class| code.starts_with(class))
        || transient_codes.contains(&code)
}
