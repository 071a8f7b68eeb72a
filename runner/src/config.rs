use std::collections::HashMap;
use std::time::Duration;

use contracts::ServerId;

/// Settings of a runner process.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Connection string of each target server, by server id. Only the runner has these.
    pub targets: HashMap<ServerId, String>,
    /// How long the investigation watches the statistics views to compute deltas.
    pub investigation_window: Duration,
    /// How long verification waits for the server's CPU to fall below its threshold.
    pub verify_timeout: Duration,
    /// Time the load gets to settle on the new index before CPU counts as "after".
    pub verify_settle: Duration,
    /// CPU samples, after settling, that must average below the threshold.
    pub verify_samples: usize,
    /// Minimum time, after settling, over which the hot statement's mean time is measured.
    /// Verification lasts at least this long, and longer while CPU is still above its
    /// threshold.
    pub verify_window: Duration,
    /// `lock_timeout` of the index build: how long it may wait for its table lock.
    pub build_lock_timeout: Duration,
    /// `statement_timeout` of the index build.
    pub build_statement_timeout: Duration,
    /// Age at which another session's open transaction counts as old: the build waits for
    /// such transactions to end, so the runner waits for them first, where it can name them.
    pub old_snapshot_age: Duration,
    /// How long the runner waits for old transactions to end before it gives up on the build.
    pub old_snapshot_wait: Duration,
    /// Share of the data directory's file system that must stay free after the build.
    pub disk_reserve_fraction: f64,
    /// Runs handled at once by this runner.
    pub max_concurrent_runs: usize,
    /// Interval of heartbeats on the run and of lock renewals on its trigger.
    pub keepalive_interval: Duration,
}

impl RunnerConfig {
    pub fn new(targets: HashMap<ServerId, String>) -> RunnerConfig {
        RunnerConfig {
            targets,
            investigation_window: Duration::from_secs(10),
            verify_timeout: Duration::from_secs(180),
            verify_settle: Duration::from_secs(5),
            verify_samples: 3,
            verify_window: Duration::from_secs(30),
            build_lock_timeout: Duration::from_secs(5),
            build_statement_timeout: Duration::from_secs(30 * 60),
            old_snapshot_age: Duration::from_secs(10),
            old_snapshot_wait: Duration::from_secs(120),
            disk_reserve_fraction: 0.05,
            max_concurrent_runs: 4,
            keepalive_interval: Duration::from_secs(10),
        }
    }
}
