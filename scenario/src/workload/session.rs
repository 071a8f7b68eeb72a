//! One workload session: a connection with a prepared statement, paced by its share of the
//! total rate, reconnecting with backoff after errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::watch;
use tokio::time::{Interval, MissedTickBehavior};
use tokio_postgres::{Client, NoTls, Statement};

use super::Workload;
use super::backoff::{Backoff, ErrorLog};
use crate::db::Target;
use crate::{Error, Scale};

/// State shared by all sessions of one run.
pub(super) struct SessionContext {
    pub target: Target,
    pub workload: Workload,
    pub scale: Scale,
    /// Time between two statements of one session, or `None` for no pacing.
    pub period: Option<Duration>,
    pub sessions: usize,
    pub counters: Counters,
    pub error_log: ErrorLog,
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub statements: AtomicU64,
    pub errors: AtomicU64,
    pub latency_micros: AtomicU64,
}

/// Reason a session left its statement loop.
enum Exit {
    Stopped,
    Reconnect,
}

/// Runs one session until `stop` turns true or its sender is dropped.
pub(super) async fn run(
    context: Arc<SessionContext>,
    index: usize,
    mut stop: watch::Receiver<bool>,
) {
    let mut rng = SmallRng::from_os_rng();
    let mut pacer = context
        .period
        .map(|period| pacer(period, index, context.sessions));
    let mut backoff = Backoff::new();
    loop {
        let opened = tokio::select! {
            () = stopped(&mut stop) => return,
            opened = open(&context) => opened,
        };
        let (client, statement) = match opened {
            Ok(opened) => opened,
            Err(error) => {
                context.record_error(index, &error);
                if pause(backoff.next_delay(), &mut stop).await {
                    return;
                }
                continue;
            }
        };
        let session = Session {
            context: &context,
            index,
            client,
            statement,
        };
        let exit = session
            .execute_until_failure(&mut rng, pacer.as_mut(), &mut backoff, &mut stop)
            .await;
        if let Exit::Stopped = exit {
            return;
        }
    }
}

struct Session<'a> {
    context: &'a SessionContext,
    index: usize,
    client: Client,
    statement: Statement,
}

impl Session<'_> {
    /// Executes the statement at the session's pace. Errors on a live connection are retried
    /// after a backoff, and a closed connection returns [`Exit::Reconnect`].
    async fn execute_until_failure(
        &self,
        rng: &mut SmallRng,
        mut pacer: Option<&mut Interval>,
        backoff: &mut Backoff,
        stop: &mut watch::Receiver<bool>,
    ) -> Exit {
        loop {
            if let Some(pacer) = pacer.as_deref_mut() {
                tokio::select! {
                    () = stopped(stop) => return Exit::Stopped,
                    _ = pacer.tick() => {}
                }
            }
            let closed = match self.execute_once(rng, stop).await {
                None => return Exit::Stopped,
                Some(Ok(())) => {
                    backoff.reset();
                    continue;
                }
                Some(Err(closed)) => closed,
            };
            if pause(backoff.next_delay(), stop).await {
                return Exit::Stopped;
            }
            if closed || self.client.is_closed() {
                return Exit::Reconnect;
            }
        }
    }

    /// Executes the statement once with a fresh parameter. Returns `None` when a stop arrived,
    /// and on failure `Err(true)` if the connection is closed.
    async fn execute_once(
        &self,
        rng: &mut SmallRng,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<Result<(), bool>> {
        let parameter = self
            .context
            .workload
            .draw_parameter(rng, self.context.scale);
        let parameters = [parameter.as_sql()];
        let started = Instant::now();
        let result = tokio::select! {
            () = stopped(stop) => {
                self.cancel().await;
                return None;
            }
            result = self.client.query(&self.statement, &parameters) => result,
        };
        match result {
            Ok(_) => {
                self.context.record_success(started.elapsed());
                Some(Ok(()))
            }
            Err(source) => {
                let closed = source.is_closed();
                let error = self.context.target.sql_error("execute the workload")(source);
                self.context.record_error(self.index, &error);
                Some(Err(closed))
            }
        }
    }

    /// Asks the server to cancel the statement in flight, so that stopping the workload also
    /// stops its CPU use at once instead of after the current scan.
    async fn cancel(&self) {
        let token = self.client.cancel_token();
        // NOTE: the cancel request goes without TLS, so a server that requires TLS refuses it
        // and the statement runs to its end instead.
        let cancel = token.cancel_query(NoTls);
        if let Ok(Err(error)) = tokio::time::timeout(Duration::from_secs(1), cancel).await {
            tracing::debug!(%error, session = self.index, "failed to cancel a statement");
        }
    }
}

impl SessionContext {
    fn record_success(&self, latency: Duration) {
        self.counters.statements.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.counters
            .latency_micros
            .fetch_add(micros, Ordering::Relaxed);
    }

    fn record_error(&self, session: usize, error: &Error) {
        self.counters.errors.fetch_add(1, Ordering::Relaxed);
        if let Some(suppressed) = self.error_log.admit(Instant::now()) {
            tracing::warn!(
                workload = %self.workload,
                session,
                suppressed,
                error = %error,
                "workload statement failed; retrying after a backoff"
            );
        }
    }
}

/// Connects and prepares the workload's statement.
async fn open(context: &SessionContext) -> Result<(Client, Statement), Error> {
    let client = context.target.connect().await?;
    let statement = client
        .prepare(context.workload.statement())
        .await
        .map_err(context.target.sql_error("prepare the workload statement"))?;
    Ok((client, statement))
}

/// Creates the ticker of one session. Sessions start at evenly spread offsets so that the total
/// rate is smooth, and ticks missed during a slow statement are skipped rather than sent later
/// in a burst.
fn pacer(period: Duration, index: usize, sessions: usize) -> Interval {
    let offset = period.mul_f64(index as f64 / sessions as f64);
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    interval
}

/// Completes when the stop flag is set or its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// Sleeps for `delay` and returns whether a stop arrived meanwhile.
async fn pause(delay: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = stopped(stop) => true,
        () = tokio::time::sleep(delay) => false,
    }
}
