//! The runner's main loop: take triggers from the bus and handle a bounded number at once.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use contracts::{CompletionOutcome, Trigger};
use control::layout;
use control::messaging::Received;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{Context, leftovers, steps, trigger};

/// How long one receive waits for a trigger before checking for shutdown again.
const RECEIVE_WAIT: Duration = Duration::from_secs(5);
const BACKOFF_INITIAL: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Time running handlers get to finish after shutdown; their triggers return to the queue.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(20);

/// Handles triggers until `shutdown` is cancelled.
pub async fn run(ctx: Arc<Context>, shutdown: CancellationToken) {
    tracing::info!(
        max_concurrent_runs = ctx.config.max_concurrent_runs,
        "runner started"
    );
    // Before any trigger, so that a retried build starts from a clean table.
    tokio::select! {
        _ = shutdown.cancelled() => return,
        _ = leftovers::sweep(&ctx) => {}
    }
    let permits = Arc::new(Semaphore::new(ctx.config.max_concurrent_runs.max(1)));
    let mut handlers = JoinSet::new();
    let mut backoff = BACKOFF_INITIAL;
    loop {
        while let Some(finished) = handlers.try_join_next() {
            if let Err(error) = finished {
                tracing::error!(%error, "a run handler panicked; its trigger will be redelivered");
            }
        }
        let permit = tokio::select! {
            _ = shutdown.cancelled() => break,
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let received = tokio::select! {
            _ = shutdown.cancelled() => break,
            received = ctx.control.receive::<Trigger>(1, RECEIVE_WAIT) => received,
        };
        match received {
            Ok(messages) => {
                backoff = BACKOFF_INITIAL;
                // One message at most, because one permit was taken for it.
                if let Some(message) = messages.into_iter().next() {
                    let ctx = ctx.clone();
                    handlers.spawn(async move {
                        handle_delivery(&ctx, message).await;
                        drop(permit);
                    });
                }
            }
            Err(error) => {
                tracing::warn!(%error, ?backoff, "failed to receive triggers; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
    tracing::info!(running = handlers.len(), "runner stopping");
    let drained = tokio::time::timeout(SHUTDOWN_DEADLINE, async {
        while handlers.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        handlers.abort_all();
        tracing::warn!(
            "runs still busy at the shutdown deadline were stopped; their triggers will be redelivered"
        );
    }
}

/// Receives and handles every trigger that is ready, one at a time; for tests.
pub async fn run_once(ctx: &Context, max_wait: Duration) -> Result<usize, control::Error> {
    let mut handled = 0;
    for message in ctx.control.receive::<Trigger>(10, max_wait).await? {
        handle_delivery(ctx, message).await;
        handled += 1;
    }
    Ok(handled)
}

/// Handles one trigger while keeping its lock and the run's heartbeat fresh, then settles it:
/// completed when handled or when no retry can help, left to expire for another attempt
/// otherwise.
async fn handle_delivery(ctx: &Context, message: Received<Trigger>) {
    let trigger = &message.envelope.payload;
    let span = tracing::info_span!("run", run.id = %trigger.run_id, server.id = %trigger.server_id);
    settle_after_handling(ctx, &message).instrument(span).await;
}

async fn settle_after_handling(ctx: &Context, message: &Received<Trigger>) {
    let trigger = &message.envelope.payload;
    let keepalive = CancellationToken::new();
    // Stops the keep-alive even when the handler panics, so that the trigger's lock expires
    // and the run's heartbeat goes stale, and another attempt can take over.
    let stop_on_drop = keepalive.clone().drop_guard();
    let beating = tokio::spawn(keep_alive(
        ctx.clone(),
        message.delivery.lock_token.clone(),
        trigger.clone(),
        keepalive.clone(),
    ));

    let result = trigger::handle(ctx, trigger).await;
    drop(stop_on_drop);
    let _ = beating.await;

    let settled = match result {
        Ok(()) => ctx.control.complete(message).await,
        Err(error) if error.is_retryable() => {
            // Left unsettled: the lock expires and the trigger comes back after the queue's
            // lock duration, which spaces the attempts out, unlike an immediate abandon.
            tracing::warn!(%error, "run step failed; the trigger will be redelivered when its lock expires");
            Ok(())
        }
        Err(error) => {
            tracing::error!(%error, "run step failed");
            give_up(ctx, trigger, &error.to_string()).await;
            ctx.control.complete(message).await
        }
    };
    if let Err(error) = settled {
        tracing::warn!(%error, "failed to settle the trigger; it will be redelivered");
    }
}

async fn give_up(ctx: &Context, trigger: &Trigger, reason: &str) {
    let recorded = async {
        let run = ctx
            .control
            .run(&trigger.server_id, trigger.run_id)
            .await?
            .value;
        steps::fail_issue_of(ctx, &run, reason).await?;
        let run = steps::fail(ctx, &run, reason).await?;
        let outcome = CompletionOutcome::Failed {
            reason: reason.to_string(),
            follow_up_run_id: None,
        };
        steps::report(ctx, &run, outcome).await
    };
    if let Err(error) = recorded.await {
        tracing::error!(%error, "failed to record the run's failure");
    }
}

/// Renews the trigger's lock and the run's heartbeat until cancelled.
async fn keep_alive(
    ctx: Context,
    lock_token: bus::LockToken,
    trigger: Trigger,
    stop: CancellationToken,
) {
    let mut interval = tokio::time::interval(ctx.config.keepalive_interval);
    interval.tick().await;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = interval.tick() => {}
        }
        if let Err(error) = ctx
            .control
            .bus
            .renew_lock(layout::TRIGGERS, &lock_token)
            .await
        {
            tracing::warn!(%error, "failed to renew the trigger's lock");
        }
        let beat = ctx
            .control
            .update_run(&trigger.server_id, trigger.run_id, |run| {
                run.heartbeat_at = Utc::now();
                !run.state.is_terminal()
            })
            .await;
        if let Err(error) = beat {
            tracing::warn!(%error, "failed to record the run's heartbeat");
        }
    }
}
