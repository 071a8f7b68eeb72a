//! Small operations shared by the run steps.

use chrono::Utc;
use contracts::{
    Completion, CompletionOutcome, InstructionId, Issue, IssueStatus, Resolution, ResolutionPath,
    Run, RunState,
};

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

/// Closes the run's issue as failed with the reason, unless it is closed already.
pub async fn fail_issue_of(ctx: &Context, run: &Run, reason: &str) -> Result<(), Error> {
    let Some(issue_id) = run.issue_id else {
        return Ok(());
    };
    let resolution = Resolution {
        path: ResolutionPath::Failed {
            reason: reason.to_string(),
        },
        resolved_at: Utc::now(),
        cpu_before_pct: None,
        cpu_after_pct: None,
        mean_time_before_ms: None,
        mean_time_after_ms: None,
    };
    ctx.control
        .update_issue(&run.server_id, issue_id, |issue| {
            if issue.status.is_closed() {
                return false;
            }
            issue.status = IssueStatus::Failed;
            issue.resolution = Some(resolution.clone());
            issue.updated_at = Utc::now();
            true
        })
        .await?;
    Ok(())
}

/// Records on the run the instruction it acts under, and returns the stored run.
pub async fn record_instruction(
    ctx: &Context,
    run: &Run,
    instruction_id: InstructionId,
) -> Result<Run, Error> {
    let updated = ctx
        .control
        .update_run(&run.server_id, run.id, |stored| {
            let changed = stored.instruction_id != Some(instruction_id);
            stored.instruction_id = Some(instruction_id);
            changed
        })
        .await?;
    Ok(updated)
}

/// Adds each note the issue does not have yet to its evidence.
pub async fn add_issue_notes(ctx: &Context, issue: &Issue, notes: &[String]) -> Result<(), Error> {
    ctx.control
        .update_issue(&issue.server_id, issue.id, |stored| {
            let mut changed = false;
            for note in notes {
                if !stored.evidence.notes.contains(note) {
                    stored.evidence.notes.push(note.clone());
                    changed = true;
                }
            }
            if changed {
                stored.updated_at = Utc::now();
            }
            changed
        })
        .await?;
    Ok(())
}
