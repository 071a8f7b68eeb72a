use std::path::PathBuf;

use contracts::ServerId;

/// Failures of Platform Services.
///
/// A loop calls [`Error::is_retryable`] to decide whether to try the same unit of work again
/// after a backoff, or to give up on it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Control(#[from] control::Error),

    #[error(
        "failed to read the postmaster pid of server {server_id} from {}: {source}; \
         start the server or fix its data directory in the registration",
        path.display()
    )]
    PidFile {
        server_id: ServerId,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{} of server {server_id} does not start with a process id (first line {first_line:?}); \
         restart the server to rewrite it",
        path.display()
    )]
    InvalidPidFile {
        server_id: ServerId,
        path: PathBuf,
        first_line: String,
    },

    #[error("failed to measure the CPU of server {server_id}: {source}")]
    Cpu {
        server_id: ServerId,
        #[source]
        source: scenario::Error,
    },

    #[error("lock of server {server_id} changed concurrently {attempts} times in a row; try again")]
    LockContended { server_id: ServerId, attempts: u32 },
}

impl Error {
    /// Returns whether the same unit of work may succeed later without a change by anyone.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Control(error) => error.is_retryable(),
            // A stopped server writes its pid file again when it starts.
            Error::PidFile { .. } => true,
            Error::InvalidPidFile { .. } => false,
            Error::Cpu { source, .. } => source.is_retryable(),
            Error::LockContended { .. } => true,
        }
    }

    /// Returns whether the error means that the server is not running, which the monitor logs
    /// less often than other failures because a stopped server is a normal state.
    pub fn is_server_stopped(&self) -> bool {
        match self {
            Error::PidFile { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            Error::Cpu { source, .. } => matches!(source, scenario::Error::ProcessGone { .. }),
            _ => false,
        }
    }
}

/// Formats an error with its chain of causes, for logs.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Transparent wrappers and messages that embed their cause would repeat it.
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_pid_file_means_stopped() {
        let error = Error::PidFile {
            server_id: "db-1".into(),
            path: PathBuf::from("/data/postmaster.pid"),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert!(error.is_server_stopped());
        assert!(error.is_retryable());
    }

    #[test]
    fn garbled_pid_file_is_not_retryable() {
        let error = Error::InvalidPidFile {
            server_id: "db-1".into(),
            path: PathBuf::from("/data/postmaster.pid"),
            first_line: "abc".into(),
        };
        assert!(!error.is_retryable());
        assert!(!error.is_server_stopped());
        assert!(error.to_string().contains("db-1"));
    }

    #[test]
    fn chain_skips_repeated_causes() {
        let error = Error::PidFile {
            server_id: "db-1".into(),
            path: PathBuf::from("/data/postmaster.pid"),
            source: std::io::Error::other("disk gone"),
        };
        let text = chain(&error);
        assert_eq!(text.matches("disk gone").count(), 1, "{text}");
    }
}
