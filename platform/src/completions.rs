//! Completions: a runner reports that a run suspended, completed or failed.

use std::time::Duration;

use contracts::{Completion, CompletionOutcome, RunState};
use futures::StreamExt;
use tracing::{debug, info, instrument};

use crate::lock;
use crate::{Platform, Result};

/// Effect of a completion on the server's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockChange {
    /// The run keeps the lock with no lease while it waits for a person.
    LeaseCleared,
    /// The run reported a suspension but was resumed before the report arrived, so its lease
    /// stays.
    LeaseKept,
    Released,
    /// The run did not hold the lock, for example because the completion was delivered twice.
    NotHeld,
}

impl Platform {
    /// Receives one batch of completions, waiting up to `max_wait` for the first, and handles
    /// them. Returns how many were received.
    pub async fn handle_completions_once(&self, max_wait: Duration) -> Result<usize> {
        let batch = self
            .control
            .receive::<Completion>(self.config.receive_batch, max_wait)
            .await?;
        let count = batch.len();
        futures::stream::iter(batch)
            .for_each_concurrent(self.config.max_concurrent_messages, |received| async move {
                let outcome = self.handle_completion(&received.envelope.payload).await;
                self.settle(&received, outcome.map(drop)).await;
            })
            .await;
        Ok(count)
    }

    /// Handles one completion. A suspended run keeps the lock without a lease; a completed or
    /// failed run releases it. Either change applies only while that run holds the lock.
    #[instrument(skip_all, fields(server.id = %completion.server_id, run.id = %completion.run_id))]
    pub async fn handle_completion(&self, completion: &Completion) -> Result<LockChange> {
        let server_id = &completion.server_id;
        let run_id = completion.run_id;
        let change = match &completion.outcome {
            CompletionOutcome::Suspended { .. } => {
                // A decision may have resumed the run before this message arrived. A running
                // run keeps its lease, so that the sweeper frees the lock if its runner dies.
                let run = self.control.run(server_id, run_id).await?.value;
                if run.state != RunState::AwaitingApproval {
                    debug!(state = ?run.state, "run is no longer suspended; lease kept");
                    return Ok(LockChange::LeaseKept);
                }
                let updated = lock::update_held(&self.control, server_id, run_id, |lock| {
                    let changed = lock.lease_until.is_some();
                    lock.lease_until = None;
                    changed
                })
                .await?;
                updated.map_or(LockChange::NotHeld, |_| LockChange::LeaseCleared)
            }
            CompletionOutcome::Completed { .. } | CompletionOutcome::Failed { .. } => {
                let released = lock::release(&self.control, server_id, run_id).await?;
                if released {
                    LockChange::Released
                } else {
                    LockChange::NotHeld
                }
            }
        };
        match change {
            LockChange::NotHeld => debug!("run does not hold the lock; nothing to change"),
            LockChange::LeaseKept => {}
            LockChange::LeaseCleared => info!("run suspended; it keeps the lock until a decision"),
            LockChange::Released => info!("run finished; lock released"),
        }
        Ok(change)
    }
}
