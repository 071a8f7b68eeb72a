//! The sliding window of CPU samples that the monitor keeps per server.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Time between two log lines about the same server's failed measurements, so a server that
/// stays stopped for hours logs a line a minute instead of one per interval.
pub(crate) const FAILURE_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Recent CPU of one server and whether it may fire an alert.
#[derive(Debug)]
pub(crate) struct CpuWindow {
    samples: VecDeque<f64>,
    capacity: usize,
    /// Whether the next average above the threshold fires an alert. Firing disarms the window,
    /// and an average below the threshold arms it again, so one episode fires one alert.
    armed: bool,
    last_failure_log: Option<Instant>,
    failures_since_log: u32,
}

impl CpuWindow {
    pub(crate) fn new(capacity: usize) -> CpuWindow {
        CpuWindow {
            samples: VecDeque::with_capacity(capacity),
            capacity: capacity.max(1),
            armed: true,
            last_failure_log: None,
            failures_since_log: 0,
        }
    }

    /// Adds a sample, dropping the oldest beyond the capacity, and arms the window again when
    /// the average falls below `threshold`. Returns the average once the window is full.
    pub(crate) fn push(&mut self, cpu_pct: f64, threshold: f64) -> Option<f64> {
        self.samples.push_back(cpu_pct);
        while self.samples.len() > self.capacity {
            self.samples.pop_front();
        }
        let average = self.average()?;
        if average < threshold {
            self.armed = true;
        }
        Some(average)
    }

    /// Average of a full window; `None` until the window has filled, so that a server is not
    /// judged on its first few samples.
    pub(crate) fn average(&self) -> Option<f64> {
        if self.samples.len() < self.capacity {
            return None;
        }
        Some(self.samples.iter().sum::<f64>() / self.samples.len() as f64)
    }

    pub(crate) fn should_fire(&self, threshold: f64) -> bool {
        self.armed && self.average().is_some_and(|average| average > threshold)
    }

    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }

    /// Drops the samples after a failed measurement, because a gap makes the average stale.
    /// Returns how many failures to report when this one should be logged, `None` otherwise.
    pub(crate) fn record_failure(&mut self, now: Instant) -> Option<u32> {
        self.samples.clear();
        self.failures_since_log += 1;
        let due = self
            .last_failure_log
            .is_none_or(|last| now.duration_since(last) >= FAILURE_LOG_INTERVAL);
        if !due {
            return None;
        }
        self.last_failure_log = Some(now);
        Some(std::mem::take(&mut self.failures_since_log))
    }

    /// Forgets earlier failures after a good measurement; returns whether there were any, so the
    /// recovery can be logged once.
    pub(crate) fn record_success(&mut self) -> bool {
        let recovered = self.last_failure_log.is_some();
        self.last_failure_log = None;
        self.failures_since_log = 0;
        recovered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_waits_for_full_window() {
        let mut window = CpuWindow::new(3);
        assert_eq!(window.push(90.0, 80.0), None);
        assert_eq!(window.push(90.0, 80.0), None);
        assert_eq!(window.push(60.0, 80.0), Some(80.0));
        assert_eq!(window.push(30.0, 80.0), Some(60.0));
    }

    #[test]
    fn fires_once_until_cpu_falls() {
        let mut window = CpuWindow::new(1);
        window.push(95.0, 80.0);
        assert!(window.should_fire(80.0));
        window.disarm();
        window.push(97.0, 80.0);
        assert!(!window.should_fire(80.0));
        window.push(20.0, 80.0);
        window.push(95.0, 80.0);
        assert!(window.should_fire(80.0));
    }

    #[test]
    fn average_at_threshold_does_not_fire() {
        let mut window = CpuWindow::new(2);
        window.push(70.0, 80.0);
        window.push(90.0, 80.0);
        assert!(!window.should_fire(80.0));
    }

    #[test]
    fn failure_clears_samples() {
        let mut window = CpuWindow::new(2);
        window.push(90.0, 80.0);
        window.push(90.0, 80.0);
        window.record_failure(Instant::now());
        assert_eq!(window.average(), None);
    }

    #[test]
    fn failure_logs_are_rate_limited() {
        let mut window = CpuWindow::new(1);
        let start = Instant::now();
        assert_eq!(window.record_failure(start), Some(1));
        assert_eq!(window.record_failure(start + Duration::from_secs(5)), None);
        assert_eq!(window.record_failure(start + Duration::from_secs(10)), None);
        let later = start + FAILURE_LOG_INTERVAL + Duration::from_secs(1);
        assert_eq!(window.record_failure(later), Some(3));
        assert!(window.record_success());
        assert!(!window.record_success());
    }
}
