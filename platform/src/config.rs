use std::time::Duration;

/// Settings of Platform Services. [`PlatformConfig::default`] suits the local stack.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformConfig {
    /// Length of one CPU measurement, and so the time between two samples of a server.
    pub monitor_interval: Duration,
    /// Span of samples whose average is compared with a server's threshold.
    pub cpu_window: Duration,
    /// Threshold in percent for a server registered without a positive `cpu_threshold_pct`.
    pub default_cpu_threshold_pct: f64,
    /// Servers whose CPU is measured at the same time, at most.
    pub max_concurrent_samples: usize,
    /// Time a run may go without progress before the sweeper fails it and frees its server.
    pub lease: Duration,
    /// Time between two passes of the lease sweeper.
    pub sweep_interval: Duration,
    /// Messages taken from a queue in one receive.
    pub receive_batch: u32,
    /// Time a consumer waits for a message before it receives again.
    pub receive_wait: Duration,
    /// Messages of one batch handled at the same time, at most.
    pub max_concurrent_messages: usize,
    /// Time an in-flight unit of work may take to finish after shutdown was requested.
    pub shutdown_grace: Duration,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        PlatformConfig {
            monitor_interval: Duration::from_secs(5),
            cpu_window: Duration::from_secs(30),
            default_cpu_threshold_pct: 80.0,
            max_concurrent_samples: 8,
            lease: Duration::from_secs(120),
            sweep_interval: Duration::from_secs(10),
            receive_batch: 16,
            receive_wait: Duration::from_secs(5),
            max_concurrent_messages: 4,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl PlatformConfig {
    /// Samples in a full window: the window divided by the interval, rounded up, at least one.
    pub fn samples_per_window(&self) -> usize {
        let interval = self.monitor_interval.as_secs_f64();
        if interval <= 0.0 {
            return 1;
        }
        let samples = (self.cpu_window.as_secs_f64() / interval).ceil();
        (samples as usize).max(1)
    }

    /// Converts the lease to a `chrono` duration, for arithmetic on stored times.
    pub(crate) fn lease_chrono(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::from_std(self.lease).unwrap_or(chrono::TimeDelta::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_window_holds_six_samples() {
        assert_eq!(PlatformConfig::default().samples_per_window(), 6);
    }

    #[test]
    fn window_rounds_up_partial_samples() {
        let config = PlatformConfig {
            monitor_interval: Duration::from_secs(2),
            cpu_window: Duration::from_secs(3),
            ..PlatformConfig::default()
        };
        assert_eq!(config.samples_per_window(), 2);
    }

    #[test]
    fn window_has_at_least_one_sample() {
        let config = PlatformConfig {
            monitor_interval: Duration::from_secs(10),
            cpu_window: Duration::ZERO,
            ..PlatformConfig::default()
        };
        assert_eq!(config.samples_per_window(), 1);
    }
}
