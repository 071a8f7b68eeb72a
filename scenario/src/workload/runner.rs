//! Runs a workload with a fixed number of sessions at a total rate until stopped.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::Workload;
use super::backoff::ErrorLog;
use super::session::{self, Counters, SessionContext};
use crate::db::Target;
use crate::seed::finished_scale;
use crate::{Error, Result};

/// Sessions unless the caller chooses another number.
pub const DEFAULT_SESSIONS: usize = 4;

/// Statements per second across all sessions unless the caller chooses another rate. Without
/// the index, each `orders-by-customer` statement scans 2 million orders, and 50 per second kept
/// a two-core server more than 80 % busy in the `cpu` test. With the index, it used about 1 %.
pub const DEFAULT_RATE: f64 = 50.0;

/// Upper bound on sessions, well below the target cluster's `max_connections` of 200.
pub const MAX_SESSIONS: usize = 64;

/// How long sessions get to finish their statement after a stop before they are aborted.
const STOP_DEADLINE: Duration = Duration::from_secs(5);

/// Settings of a workload run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub workload: Workload,
    /// Concurrent sessions, each with its own connection and prepared statement.
    pub sessions: usize,
    /// Statements per second across all sessions, or `None` for no limit.
    pub rate: Option<f64>,
    /// How long to run, or `None` to run until the shutdown future completes.
    pub duration: Option<Duration>,
}

impl RunOptions {
    /// Options with the default sessions and rate, running until shutdown.
    pub fn new(workload: Workload) -> RunOptions {
        RunOptions {
            workload,
            sessions: DEFAULT_SESSIONS,
            rate: Some(DEFAULT_RATE),
            duration: None,
        }
    }

    fn validate(&self) -> Result<()> {
        if !(1..=MAX_SESSIONS).contains(&self.sessions) {
            return Err(Error::InvalidSetting {
                name: "sessions",
                value: self.sessions.to_string(),
                reason: "sessions must be between 1 and 64",
            });
        }
        if let Some(rate) = self.rate.filter(|rate| !rate.is_finite() || *rate <= 0.0) {
            return Err(Error::InvalidSetting {
                name: "rate",
                value: rate.to_string(),
                reason: "the rate must be a positive number of statements per second",
            });
        }
        Ok(())
    }
}

/// Counts from a finished run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunReport {
    /// Statements that completed without error.
    pub statements: u64,
    /// Failed statements and failed connection attempts.
    pub errors: u64,
    /// Mean time from sending a statement to its last row, over the completed statements.
    pub mean_latency: Duration,
    pub elapsed: Duration,
}

impl RunReport {
    /// Completed statements per second.
    pub fn throughput(&self) -> f64 {
        self.statements as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// Runs `options.workload` against the seeded shop in `connection_string` until
/// `options.duration` passes or `shutdown` completes, whichever is first.
///
/// Fails at once when the settings are invalid, the first connection fails or the database
/// contains no finished seed. After that, errors are counted, logged and retried with backoff.
pub async fn run(
    connection_string: &str,
    options: &RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<RunReport> {
    options.validate()?;
    let target = Target::parse(connection_string, "dbagent-workload")?;
    let scale = {
        let client = target.connect().await?;
        finished_scale(&client, &target).await?
    };

    let context = Arc::new(SessionContext {
        workload: options.workload,
        scale,
        period: options
            .rate
            .map(|rate| Duration::from_secs_f64(options.sessions as f64 / rate)),
        sessions: options.sessions,
        counters: Counters::default(),
        error_log: ErrorLog::new(Duration::from_secs(5)),
        target,
    });
    tracing::info!(
        workload = %options.workload,
        target = %context.target.name,
        sessions = options.sessions,
        rate = ?options.rate,
        "workload started"
    );

    let (stop_sender, stop) = watch::channel(false);
    let mut tasks = JoinSet::new();
    for index in 0..options.sessions {
        tasks.spawn(session::run(context.clone(), index, stop.clone()));
    }

    let started = Instant::now();
    let deadline = async {
        match options.duration {
            Some(duration) => tokio::time::sleep(duration).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = shutdown => {}
        () = deadline => {}
    }
    stop_sender.send_replace(true);
    let elapsed = started.elapsed();
    drain(&mut tasks).await;

    let report = context.counters.report(elapsed);
    tracing::info!(
        workload = %options.workload,
        statements = report.statements,
        errors = report.errors,
        mean_latency_ms = report.mean_latency.as_secs_f64() * 1000.0,
        "workload stopped"
    );
    Ok(report)
}

/// Waits for the sessions to finish, aborting those that take longer than [`STOP_DEADLINE`].
async fn drain(tasks: &mut JoinSet<()>) {
    let all_done = async {
        while let Some(result) = tasks.join_next().await {
            if let Err(error) = result {
                tracing::error!(%error, "workload session panicked");
            }
        }
    };
    if tokio::time::timeout(STOP_DEADLINE, all_done).await.is_err() {
        tracing::warn!("workload sessions did not stop in time; aborting them");
        tasks.abort_all();
    }
}

impl Counters {
    fn report(&self, elapsed: Duration) -> RunReport {
        let statements = self.statements.load(Ordering::Relaxed);
        let latency_micros = self.latency_micros.load(Ordering::Relaxed);
        RunReport {
            statements,
            errors: self.errors.load(Ordering::Relaxed),
            mean_latency: Duration::from_micros(
                latency_micros.checked_div(statements).unwrap_or(0),
            ),
            elapsed,
        }
    }
}
