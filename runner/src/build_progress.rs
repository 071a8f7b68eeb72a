//! Progress of a running index build, read from `pg_stat_progress_create_index` about once a
//! second on a connection of its own and stored on the run, so that the run's page shows how
//! far the build got.

use std::time::Duration;

use chrono::Utc;
use contracts::{BuildProgress, Run, RunId, ServerId};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_postgres::Client;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::target::{self, failed};
use crate::{Context, Error};

const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// `application_name` of the polling session.
pub const APPLICATION_NAME: &str = "dbagent-build-progress";

/// The task that polls one build's progress. It stops on [`ProgressPoller::finish`], and is
/// aborted when the poller is dropped, so that a cancelled build leaves no task behind.
#[derive(Debug)]
pub struct ProgressPoller {
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl ProgressPoller {
    /// Starts polling the build that is about to run on `build_client`. Returns `None` after
    /// logging why when the build's backend cannot be identified, and the build goes on
    /// without progress readings.
    pub async fn start(ctx: &Context, run: &Run, build_client: &Client) -> Option<ProgressPoller> {
        let pid = match backend_pid(build_client).await {
            Ok(pid) => pid,
            Err(error) => {
                tracing::warn!(%error, "failed to read the build's backend pid, so its progress will not be recorded");
                return None;
            }
        };
        let stop = CancellationToken::new();
        let polling = poll(
            ctx.clone(),
            run.server_id.clone(),
            run.id,
            pid,
            stop.clone(),
        );
        let task = tokio::spawn(polling.instrument(tracing::Span::current()));
        Some(ProgressPoller {
            stop,
            task: Some(task),
        })
    }

    /// Stops polling and waits for the task to end. The last stored reading stays on the run.
    pub async fn finish(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::warn!(%error, "the build progress task failed");
        }
    }
}

impl Drop for ProgressPoller {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn backend_pid(client: &Client) -> Result<i32, tokio_postgres::Error> {
    let row = client.query_one("SELECT pg_backend_pid()", &[]).await?;
    Ok(row.get(0))
}

/// Records the progress of backend `pid` on the run each second until `stop` is cancelled.
/// Failures are logged and never end the build: the first at warn, repeats at debug, and
/// their count when polling stops.
async fn poll(ctx: Context, server_id: ServerId, run_id: RunId, pid: i32, stop: CancellationToken) {
    let connected = tokio::select! {
        _ = stop.cancelled() => return,
        connected = target::connect_as(&ctx.config, &server_id, APPLICATION_NAME) => connected,
    };
    let client = match connected {
        Ok(client) => client,
        Err(error) => {
            tracing::warn!(%error, "failed to connect for the build's progress, so it will not be recorded");
            return;
        }
    };
    let mut interval = tokio::time::interval(POLL_INTERVAL);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut failures = 0_u32;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = interval.tick() => {}
        }
        let reading = tokio::select! {
            _ = stop.cancelled() => break,
            reading = read_progress(&client, &server_id, pid) => reading,
        };
        let recorded = match reading {
            Ok(Some(progress)) => store_progress(&ctx, &server_id, run_id, progress).await,
            Ok(None) => Ok(()),
            Err(error) => Err(error),
        };
        if let Err(error) = recorded {
            failures += 1;
            if failures == 1 {
                tracing::warn!(%error, "failed to record the build's progress, retrying each second");
            } else {
                tracing::debug!(%error, failures, "failed to record the build's progress again");
            }
        }
    }
    if failures > 1 {
        tracing::warn!(failures, "recording the build's progress failed repeatedly");
    }
}

/// Reads the progress of the `CREATE INDEX` that backend `pid` runs. Returns `None` when it
/// runs none, as before the build starts and after it ends.
pub async fn read_progress(
    client: &Client,
    server_id: &ServerId,
    pid: i32,
) -> Result<Option<BuildProgress>, Error> {
    let row = client
        .query_opt(
            "SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total
             FROM pg_stat_progress_create_index WHERE pid = $1",
            &[&pid],
        )
        .await
        .map_err(failed("read the index build's progress", server_id))?;
    let Some(row) = row else {
        return Ok(None);
    };
    // PostgreSQL hides the columns of another role's build, but the runner reads its own.
    let Some(phase) = row.get::<_, Option<String>>(0) else {
        return Ok(None);
    };
    let count = |index: usize| {
        let value: Option<i64> = row.get(index);
        value
            .and_then(|value| u64::try_from(value).ok())
            .unwrap_or(0)
    };
    Ok(Some(BuildProgress {
        at: Utc::now(),
        phase,
        blocks_done: count(1),
        blocks_total: count(2),
        tuples_done: count(3),
        tuples_total: count(4),
    }))
}

async fn store_progress(
    ctx: &Context,
    server_id: &ServerId,
    run_id: RunId,
    progress: BuildProgress,
) -> Result<(), Error> {
    ctx.control
        .update_run(server_id, run_id, |run| {
            if run.state.is_terminal() {
                return false;
            }
            run.build_progress = Some(progress.clone());
            true
        })
        .await?;
    Ok(())
}
