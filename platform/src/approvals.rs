//! Approvals: a person decided on a suspended run's issue, so the run resumes.

use std::time::Duration;

use chrono::Utc;
use contracts::{Approval, Decision, Run, RunId, RunState, Trigger, TriggerKind};
use futures::StreamExt;
use tracing::{info, instrument, warn};

use crate::lock;
use crate::{Platform, Result};

/// Result of [`Platform::handle_approval`] for one decision.
#[derive(Debug, Clone, PartialEq)]
pub enum ApprovalOutcome {
    /// The lock got a lease again and a resume trigger was sent.
    Resumed,
    /// The decision changed nothing, for the reason given.
    Ignored { reason: String },
}

impl Platform {
    /// Receives one batch of approvals, waiting up to `max_wait` for the first, and handles
    /// them. Returns how many were received.
    pub async fn handle_approvals_once(&self, max_wait: Duration) -> Result<usize> {
        let batch = self
            .control
            .receive::<Approval>(self.config.receive_batch, max_wait)
            .await?;
        let count = batch.len();
        futures::stream::iter(batch)
            .for_each_concurrent(self.config.max_concurrent_messages, |received| async move {
                let outcome = self.handle_approval(&received.envelope.payload).await;
                self.settle(&received, outcome.map(drop)).await;
            })
            .await;
        Ok(count)
    }

    /// Resumes the decision's run if it awaits approval and holds its server's lock: gives the
    /// lock a lease again and sends a resume trigger. Anything else is logged and ignored.
    ///
    /// Handling the same decision twice sends one trigger, because the bus drops a second
    /// trigger with the same message id.
    #[instrument(
        skip_all,
        fields(run.id = %approval.decision.run_id, issue.id = %approval.decision.issue_id, server.id)
    )]
    pub async fn handle_approval(&self, approval: &Approval) -> Result<ApprovalOutcome> {
        let decision = &approval.decision;
        let Some(run) = self.find_run(decision.run_id).await? else {
            return Ok(ignored("the run is not found on any registered server"));
        };
        tracing::Span::current().record("server.id", tracing::field::display(&run.server_id));
        if run
            .issue_id
            .is_some_and(|issue_id| issue_id != decision.issue_id)
        {
            return Ok(ignored(
                "the decision is about another issue than the run's",
            ));
        }
        if run.state != RunState::AwaitingApproval {
            return Ok(ignored(&format!(
                "the run is {:?}, not awaiting approval",
                run.state
            )));
        }

        let lease_until = Utc::now() + self.config.lease_chrono();
        let renewed = lock::update_held(&self.control, &run.server_id, run.id, |lock| {
            lock.lease_until = Some(lease_until);
            true
        })
        .await?;
        if renewed.is_none() {
            return Ok(ignored("the run does not hold its server's lock"));
        }

        let trigger = Trigger {
            run_id: run.id,
            server_id: run.server_id.clone(),
            kind: TriggerKind::Resume,
        };
        self.control.send(run.id, trigger).await?;
        info!(decision = decision_kind(&decision.decision), "run resumed");
        Ok(ApprovalOutcome::Resumed)
    }

    /// Finds a run by id alone, looking through every registered server's partition.
    async fn find_run(&self, run_id: RunId) -> Result<Option<Run>> {
        for server in self.control.servers().await? {
            if let Some(run) = self.read_run(&server.id, run_id).await? {
                return Ok(Some(run));
            }
        }
        Ok(None)
    }
}

fn ignored(reason: &str) -> ApprovalOutcome {
    warn!(%reason, "approval ignored");
    ApprovalOutcome::Ignored {
        reason: reason.to_string(),
    }
}

/// Names a decision for logs without its instruction's details.
fn decision_kind(decision: &Decision) -> &'static str {
    match decision {
        Decision::Approve => "approve",
        Decision::Skip => "skip",
        Decision::AlwaysAllow { .. } => "always_allow",
    }
}
