//! Sorting of PostgreSQL client failures into retryable and permanent [`Error`]s.

use deadpool_postgres::PoolError;

use crate::Error;

/// SQLSTATE classes and codes after which the same statement can succeed later: connection
/// exceptions (08), insufficient resources (53), operator intervention such as a shutdown (57P),
/// serialization failure and deadlock.
fn is_transient_sqlstate(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || code == "40001"
        || code == "40P01"
}

fn is_transient(error: &tokio_postgres::Error) -> bool {
    if let Some(code) = error.code() {
        return is_transient_sqlstate(code.code());
    }
    // Without a SQLSTATE, only a broken connection or socket is worth retrying; conversion and
    // protocol errors repeat on every attempt.
    let io_source =
        std::error::Error::source(error).is_some_and(|source| source.is::<std::io::Error>());
    error.is_closed() || io_source
}

/// Converts a client error raised while trying to `action`.
pub(crate) fn from_client(action: &str, error: tokio_postgres::Error) -> Error {
    let action = action.to_owned();
    if is_transient(&error) {
        Error::Unavailable {
            action,
            source: Box::new(error),
        }
    } else {
        Error::Failed {
            action,
            source: Box::new(error),
        }
    }
}

/// Converts a failure to check out a pooled connection.
pub(crate) fn from_pool(action: &str, error: PoolError) -> Error {
    match error {
        PoolError::Backend(error) => from_client(action, error),
        PoolError::Closed => Error::Closed {
            action: action.to_owned(),
        },
        PoolError::Timeout(_) => Error::Unavailable {
            action: action.to_owned(),
            source: Box::new(error),
        },
        other => Error::Failed {
            action: action.to_owned(),
            source: Box::new(other),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_and_shutdown_codes_are_transient() {
        for code in [
            "08006", "08001", "57P01", "57P03", "53300", "40001", "40P01",
        ] {
            assert!(is_transient_sqlstate(code), "SQLSTATE {code}");
        }
    }

    #[test]
    fn constraint_and_syntax_codes_are_permanent() {
        for code in ["23505", "42601", "42P01", "22P02"] {
            assert!(!is_transient_sqlstate(code), "SQLSTATE {code}");
        }
    }

    #[test]
    fn pool_timeout_is_retryable() {
        let error = from_pool(
            "send",
            PoolError::Timeout(deadpool_postgres::TimeoutType::Wait),
        );
        assert!(error.is_retryable());
    }

    #[test]
    fn closed_pool_is_not_retryable() {
        let error = from_pool("send", PoolError::Closed);
        assert!(!error.is_retryable());
    }
}
