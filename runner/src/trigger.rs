//! Dispatch of a trigger to the step its run is at.

use contracts::{RunState, Trigger, TriggerKind};

use crate::{Context, Error, investigation_step, resolution_step};

/// Handles a trigger. A trigger that arrives for a run already past that step does nothing, so
/// a redelivered message has one effect. A run caught mid-step by a crashed runner resumes.
pub async fn handle(ctx: &Context, trigger: &Trigger) -> Result<(), Error> {
    let run = ctx
        .control
        .run(&trigger.server_id, trigger.run_id)
        .await?
        .value;
    match (trigger.kind, run.state) {
        (TriggerKind::Start, RunState::Queued | RunState::Investigating) => {
            investigation_step::run(ctx, run).await
        }
        (_, RunState::Executing | RunState::Verifying) => resolution_step::resume(ctx, run).await,
        (TriggerKind::Resume | TriggerKind::Scheduled, RunState::AwaitingApproval) => {
            resolution_step::resume(ctx, run).await
        }
        // The window opened while the run was still being investigated: the trigger comes
        // back after its lock expires, when the run waits in its window.
        (TriggerKind::Scheduled, RunState::Queued | RunState::Investigating) => {
            Err(Error::ScheduledTooEarly {
                run_id: run.id.to_string(),
            })
        }
        (kind, state) => {
            tracing::debug!(run.id = %run.id, ?kind, ?state, "trigger has nothing left to do");
            Ok(())
        }
    }
}
