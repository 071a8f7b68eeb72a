//! Completions: a runner reports that a run suspended, completed or failed.

use std::time::Duration;

use chrono::Utc;
use contracts::{Completion, CompletionOutcome, RunId, RunState, ServerId, Trigger, TriggerKind};
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
    /// The run failed and named a follow-up run, which now holds the lock.
    HandedOver {
        to: RunId,
    },
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
    /// failed run releases it, unless a failed run names a follow-up run, which then gets the
    /// lock. Each change applies only while that run holds the lock.
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
            CompletionOutcome::Failed {
                follow_up_run_id: Some(next),
                ..
            } => self.hand_over(server_id, run_id, *next).await?,
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
            LockChange::HandedOver { to } => {
                info!(follow_up.run.id = %to, "run failed; the lock passed to its follow-up run")
            }
        }
        Ok(change)
    }

    /// Passes the lock from `run_id` to its follow-up run `next`, without a lease as a
    /// suspended run holds it, or releases it when `next` is missing or finished. A follow-up
    /// that has a decision already, or an always-allow instruction that allowed it, is resumed
    /// at once, because until now it could not be.
    async fn hand_over(
        &self,
        server_id: &ServerId,
        run_id: RunId,
        next: RunId,
    ) -> Result<LockChange> {
        let follow_up = self.read_run(server_id, next).await?;
        let Some(follow_up) = follow_up.filter(|run| !run.state.is_terminal()) else {
            let released = lock::release(&self.control, server_id, run_id).await?;
            return Ok(if released {
                LockChange::Released
            } else {
                LockChange::NotHeld
            });
        };
        let decided = match follow_up.issue_id {
            Some(issue_id) => self.control.decision(server_id, issue_id).await?.is_some(),
            None => false,
        };
        let resume = follow_up.state == RunState::AwaitingApproval
            && (decided || follow_up.instruction_id.is_some());
        let lease_until = resume.then(|| Utc::now() + self.config.lease_chrono());
        let passed = lock::update_held(&self.control, server_id, run_id, |lock| {
            lock.run_id = next;
            lock.acquired_at = Utc::now();
            lock.lease_until = lease_until;
            true
        })
        .await?;
        if passed.is_none() {
            return Ok(LockChange::NotHeld);
        }
        if resume {
            let trigger = Trigger {
                run_id: next,
                server_id: server_id.clone(),
                kind: TriggerKind::Resume,
            };
            self.control.send(next, trigger).await?;
            info!(follow_up.run.id = %next, "follow-up run resumed");
        }
        Ok(LockChange::HandedOver { to: next })
    }
}
