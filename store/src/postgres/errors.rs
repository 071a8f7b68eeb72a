//! Translation of driver and pool errors into [`Error`], deciding which ones a retry can fix.

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::error::Error;

/// Wraps a failed statement. `context` names the operation in progress, such as
/// `reading document "a" in partition "p" of container "c"`.
pub(super) fn from_pg(context: String, error: tokio_postgres::Error) -> Error {
    let reason = describe(&error);
    if is_transient(&error) {
        Error::Unavailable {
            context,
            reason,
            source: Box::new(error),
        }
    } else {
        Error::Backend {
            context,
            reason,
            source: Box::new(error),
        }
    }
}

/// Wraps a failure to get a connection from the pool, which is transient unless the pool was
/// built wrong.
pub(super) fn from_pool(context: String, error: PoolError) -> Error {
    match error {
        PoolError::Backend(error) => from_pg(context, error),
        PoolError::Timeout(_) | PoolError::Closed => Error::Unavailable {
            context,
            reason: error.to_string(),
            source: Box::new(error),
        },
        PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => Error::Backend {
            context,
            reason: error.to_string(),
            source: Box::new(error),
        },
    }
}

/// Tells whether a statement failed because of the connection or the server's state rather
/// than the statement itself.
fn is_transient(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    if let Some(code) = error.code() {
        return is_transient_code(code);
    }
    // Connection and I/O failures carry the socket error as their source.
    std::error::Error::source(error).is_some_and(|source| source.is::<std::io::Error>())
}

/// Server errors that the same statement can get past on a later try: connection exceptions
/// (class 08), serialization failures and deadlocks, too many connections, and a server that is
/// shutting down, crashed or still starting.
fn is_transient_code(code: &SqlState) -> bool {
    let code = code.code();
    code.starts_with("08")
        || matches!(
            code,
            "40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03"
        )
}

/// Formats the server's message and SQLSTATE, or else the driver's error and its cause, as one
/// line for the error message.
fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(db_error) = error.as_db_error() {
        return format!(
            "{} (SQLSTATE {})",
            db_error.message(),
            db_error.code().code()
        );
    }
    match std::error::Error::source(error) {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use deadpool_postgres::TimeoutType;

    use super::*;

    #[test]
    fn admin_shutdown_is_transient() {
        assert!(is_transient_code(&SqlState::ADMIN_SHUTDOWN));
    }

    #[test]
    fn crash_shutdown_is_transient() {
        assert!(is_transient_code(&SqlState::CRASH_SHUTDOWN));
    }

    #[test]
    fn server_starting_up_is_transient() {
        assert!(is_transient_code(&SqlState::CANNOT_CONNECT_NOW));
    }

    #[test]
    fn connection_failure_is_transient() {
        assert!(is_transient_code(&SqlState::CONNECTION_FAILURE));
    }

    #[test]
    fn serialization_failure_is_transient() {
        assert!(is_transient_code(&SqlState::T_R_SERIALIZATION_FAILURE));
    }

    #[test]
    fn syntax_error_is_not_transient() {
        assert!(!is_transient_code(&SqlState::SYNTAX_ERROR));
    }

    #[test]
    fn unique_violation_is_not_transient() {
        assert!(!is_transient_code(&SqlState::UNIQUE_VIOLATION));
    }

    #[test]
    fn pool_timeout_is_retryable() {
        let error = from_pool("reading".into(), PoolError::Timeout(TimeoutType::Wait));

        assert!(error.is_retryable());
    }

    #[test]
    fn pool_timeout_message_keeps_context() {
        let error = from_pool("reading x".into(), PoolError::Timeout(TimeoutType::Wait));

        assert!(error.to_string().contains("reading x"));
    }
}
