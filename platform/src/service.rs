//! The Platform Services process: the monitor, both consumers and the sweeper, each in its own
//! loop until shutdown.

use std::future::Future;
use std::time::Duration;

use control::ControlPlane;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::error::chain;
use crate::monitor::Monitor;
use crate::{PlatformConfig, Result};

/// First wait after a failed pass of a loop; it doubles on each failure in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Maximum wait after failed passes, so a loop notices a recovered store within seconds.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Platform Services: handlers for alerts, completions and approvals, the lease sweeper and the
/// CPU monitor, over one control plane.
#[derive(Debug, Clone)]
pub struct Platform {
    pub(crate) control: ControlPlane,
    pub(crate) config: PlatformConfig,
}

impl Platform {
    pub fn new(control: ControlPlane, config: PlatformConfig) -> Platform {
        Platform { control, config }
    }

    pub fn control(&self) -> &ControlPlane {
        &self.control
    }

    pub fn config(&self) -> &PlatformConfig {
        &self.config
    }

    /// Creates a CPU monitor whose [`Monitor::tick`] measures every local server once.
    pub fn monitor(&self) -> Monitor {
        Monitor::new(self.clone())
    }

    /// Runs the monitor, the completion and approval consumers and the lease sweeper until
    /// `shutdown` is cancelled. Each loop lets its unit of work in flight finish within
    /// [`PlatformConfig::shutdown_grace`], then stops.
    pub async fn run(&self, shutdown: CancellationToken) {
        info!(config = ?self.config, "platform services starting");
        let wait = self.config.receive_wait;
        let monitor = self.monitor();
        let completions = self.passes(move |platform| async move {
            platform.handle_completions_once(wait).await.map(drop)
        });
        let approvals = self.passes(move |platform| async move {
            platform.handle_approvals_once(wait).await.map(drop)
        });
        let sweeper = self.passes(|platform| async move { platform.sweep_once().await.map(drop) });
        let ticks = move || {
            let monitor = monitor.clone();
            async move { monitor.tick().await.map(drop) }
        };
        let sweep_interval = self.config.sweep_interval;
        tokio::join!(
            self.repeat("cpu monitor", &shutdown, Duration::ZERO, ticks),
            self.repeat("completions", &shutdown, Duration::ZERO, completions),
            self.repeat("approvals", &shutdown, Duration::ZERO, approvals),
            self.repeat("lease sweeper", &shutdown, sweep_interval, sweeper),
        );
        info!("platform services stopped");
    }

    /// Turns a pass over an owned [`Platform`] into a step that [`Platform::repeat`] can call
    /// again and again.
    fn passes<F, Fut>(&self, pass: F) -> impl FnMut() -> Fut
    where
        F: Fn(Platform) -> Fut,
    {
        let platform = self.clone();
        move || pass(platform.clone())
    }

    /// Calls `step` until shutdown, pausing `pause` after a good pass and backing off after a
    /// failed one.
    async fn repeat<F, Fut>(
        &self,
        name: &'static str,
        shutdown: &CancellationToken,
        pause: Duration,
        mut step: F,
    ) where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        info!(task = name, "loop started");
        let mut backoff = FIRST_BACKOFF;
        loop {
            let pass = step();
            let Some(result) = self.finish_or_stop(name, shutdown, pass).await else {
                break;
            };
            let wait = match result {
                Ok(()) => {
                    backoff = FIRST_BACKOFF;
                    pause
                }
                Err(failure) => {
                    log_failure(name, &failure, backoff);
                    let wait = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    wait
                }
            };
            if !wait.is_zero() {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(wait) => {}
                }
            }
        }
        info!(task = name, "loop stopped");
    }

    /// Awaits one pass; on shutdown gives it the grace period and returns `None`.
    async fn finish_or_stop<Fut>(
        &self,
        name: &'static str,
        shutdown: &CancellationToken,
        pass: Fut,
    ) -> Option<Result<()>>
    where
        Fut: Future<Output = Result<()>>,
    {
        let mut pass = std::pin::pin!(pass);
        tokio::select! {
            result = &mut pass => return Some(result),
            () = shutdown.cancelled() => {}
        }
        let grace = self.config.shutdown_grace;
        match tokio::time::timeout(grace, pass).await {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => log_failure(name, &failure, Duration::ZERO),
            // Dropping the pass is safe: an unsettled message is delivered again after its lock
            // expires, and every handler tolerates a repeat.
            Err(_) => warn!(
                task = name,
                ?grace,
                "unit of work did not finish; abandoned it"
            ),
        }
        None
    }
}

fn log_failure(name: &'static str, failure: &crate::Error, retry_in: Duration) {
    let cause = chain(failure);
    if failure.is_retryable() {
        warn!(task = name, error = %cause, ?retry_in, "pass failed; retrying");
    } else {
        error!(task = name, error = %cause, ?retry_in, "pass failed");
    }
}
