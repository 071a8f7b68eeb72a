//! Small operations shared by the run steps.

use chrono::Utc;
use contracts::{Completion, CompletionOutcome, Run, RunState};

use crate::{Context, Error};

/// Moves the run to `state` unless it is there already, and returns the stored run.
pub async fn advance(
    ctx: &Context,
    run: &Run,
    state: RunState,
    message: &str,
) -> Result<Run, Error> {
    let updated = ctx
        .control
        .update_run(&run.server_id, run.id, |stored| {
            if stored.state == state {
                return false;
            }
            stored.advance(state, Utc::now(), message).is_ok()
        })
        .await?;
    if updated.state != state {
        tracing::warn!(run.id = %run.id, from = ?updated.state, to = ?state, "run cannot take this step");
    }
    Ok(updated)
}

/// Marks the run failed with the reason, unless it already finished.
pub async fn fail(ctx: &Context, run: &Run, reason: &str) -> Result<Run, Error> {
    let updated = ctx
        .control
        .update_run(&run.server_id, run.id, |stored| {
            if stored.state.is_terminal() {
                return false;
            }
            stored.failure = Some(reason.to_string());
            stored.advance(RunState::Failed, Utc::now(), reason).is_ok()
        })
        .await?;
    Ok(updated)
}

/// Tells Platform Services where the run stopped.
pub async fn report(ctx: &Context, run: &Run, outcome: CompletionOutcome) -> Result<(), Error> {
    let completion = Completion {
        run_id: run.id,
        server_id: run.server_id.clone(),
        outcome,
    };
    ctx.control.send(run.id, completion).await?;
    Ok(())
}
