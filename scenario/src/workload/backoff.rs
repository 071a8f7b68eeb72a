//! Retry delays and log throttling for sessions that hit errors.

use std::sync::Mutex;
use std::time::{Duration, Instant};

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(5);

/// Exponential backoff from 100 ms, doubling up to 5 s, reset after a success.
#[derive(Debug)]
pub(super) struct Backoff {
    next: Duration,
}

impl Backoff {
    pub fn new() -> Backoff {
        Backoff { next: FIRST_DELAY }
    }

    /// Returns the delay to wait now and doubles the following one.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(MAX_DELAY);
        delay
    }

    pub fn reset(&mut self) {
        self.next = FIRST_DELAY;
    }
}

/// Logs at most one error per interval and counts the ones it holds back, so that a server
/// outage does not flood the log with one line per statement and session.
#[derive(Debug)]
pub(super) struct ErrorLog {
    interval: Duration,
    state: Mutex<ErrorLogState>,
}

#[derive(Debug)]
struct ErrorLogState {
    last_logged: Option<Instant>,
    suppressed: u64,
}

impl ErrorLog {
    pub fn new(interval: Duration) -> ErrorLog {
        ErrorLog {
            interval,
            state: Mutex::new(ErrorLogState {
                last_logged: None,
                suppressed: 0,
            }),
        }
    }

    /// Returns `Some(number of errors held back since the last logged one)` when this error
    /// should be logged, and `None` when it is held back.
    pub fn admit(&self, now: Instant) -> Option<u64> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let due = state
            .last_logged
            .is_none_or(|last| now.duration_since(last) >= self.interval);
        if !due {
            state.suppressed += 1;
            return None;
        }
        state.last_logged = Some(now);
        Some(std::mem::take(&mut state.suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_cap() {
        let mut backoff = Backoff::new();
        let delays: Vec<_> = (0..8).map(|_| backoff.next_delay()).collect();
        assert_eq!(delays[0], Duration::from_millis(100));
        assert_eq!(delays[1], Duration::from_millis(200));
        assert_eq!(delays[6], Duration::from_secs(5));
        assert_eq!(delays[7], Duration::from_secs(5));
    }

    #[test]
    fn backoff_reset_starts_over() {
        let mut backoff = Backoff::new();
        backoff.next_delay();
        backoff.next_delay();
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(100));
    }

    #[test]
    fn error_log_holds_back_repeats() {
        let log = ErrorLog::new(Duration::from_secs(5));
        let start = Instant::now();
        assert_eq!(log.admit(start), Some(0));
        assert_eq!(log.admit(start + Duration::from_secs(1)), None);
        assert_eq!(log.admit(start + Duration::from_secs(2)), None);
        assert_eq!(log.admit(start + Duration::from_secs(6)), Some(2));
    }
}
