//! The investigation's error type, with whether a retry can help.

/// Fails an investigation as a whole. A failure that concerns one statement is recorded in that
/// statement's finding instead, so the other statements are still analyzed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A query against the target failed: a lost connection, a timeout, or a lock wait.
    #[error("failed to {action} on the target server: {}", server_detail(source))]
    Database {
        action: String,
        #[source]
        source: tokio_postgres::Error,
    },

    /// An extension the investigation needs is missing and cannot be created.
    #[error(
        "extension {extension} is not available on the target server ({reason}); \
         install the {package} package on the server and run \
         CREATE EXTENSION {extension} in the database"
    )]
    MissingExtension {
        extension: &'static str,
        package: String,
        reason: String,
    },

    /// A statement was not one plain SELECT, or UPDATE or DELETE with a WHERE clause.
    #[error("statement {query_id} was not analyzed: {reason}")]
    StatementRejected { query_id: i64, reason: String },

    /// The server returned an `EXPLAIN` result that this module cannot read.
    #[error("failed to read the plan of statement {query_id}: {reason}")]
    InvalidPlan { query_id: i64, reason: String },

    /// The catalog did not contain a table the statement names, for example after a DROP.
    #[error("table {table} of statement {query_id} was not found in the catalog")]
    TableNotFound { query_id: i64, table: String },
}

impl Error {
    /// Returns true when running the same investigation again may succeed, such as after a
    /// dropped connection or a lock timeout, and false when the same input fails the same way.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Database { source, .. } => !is_permanent(source),
            Error::TableNotFound { .. } => true,
            Error::MissingExtension { .. }
            | Error::StatementRejected { .. }
            | Error::InvalidPlan { .. } => false,
        }
    }

    pub(crate) fn database(
        action: impl Into<String>,
    ) -> impl FnOnce(tokio_postgres::Error) -> Error {
        let action = action.into();
        move |source| Error::Database { action, source }
    }
}

/// Formats the server's message and SQLSTATE of a failed query, such as
/// `relation "orders" does not exist (42P01)`, which the error's own text ("db error") leaves
/// out. Returns the error's text when the server sent no message.
pub(crate) fn server_detail(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}

/// Classifies server errors that repeat on retry: syntax errors, missing objects and
/// privileges (SQLSTATE classes 42 and 0A). Timeouts, lock waits and I/O errors may pass.
fn is_permanent(error: &tokio_postgres::Error) -> bool {
    let Some(code) = error.code() else {
        return false;
    };
    let code = code.code();
    code.starts_with("42") || code.starts_with("0A")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
