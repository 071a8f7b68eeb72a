//! The always-allow check made again when a run continues without a person's decision: when
//! its scheduled window opens, when an instruction allowed a follow-up run's drop, or after a
//! runner stopped in the middle of the action. The instruction's limits must hold at execution
//! time, not only when the issue was opened.

use contracts::{
    ActionKind, Issue, ProposedAction, ResolutionPath, Run, RunState, TimelineEventKind,
};

use crate::autonomy::{self, Autonomy};
use crate::{Context, Error, preflight, schedule, steps, target};

/// The next step of a run without a decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Build under the instruction on this path.
    Execute(ResolutionPath),
    /// Stay suspended until a person decides or the next window opens. The issue's notes
    /// give the reason.
    Wait,
    /// Stop the run: it was building, and the limits no longer hold.
    Fail(String),
}

/// Checks the instructions against the table's size now, the clock and today's actions.
pub async fn recheck(ctx: &Context, run: &Run, issue: &Issue) -> Result<Next, Error> {
    let (kind, schema, table, action_name) = match &issue.proposed_action {
        Some(ProposedAction::CreateIndex(action)) => (
            ActionKind::CreateIndex,
            &action.schema,
            &action.table,
            "build",
        ),
        Some(ProposedAction::DropIndex(action)) => {
            (ActionKind::DropIndex, &action.schema, &action.table, "drop")
        }
        None => return Ok(Next::Wait),
    };
    // Verification only reads, so a run whose build finished goes on under its instruction.
    if let (RunState::Verifying, Some(instruction_id)) = (run.state, run.instruction_id) {
        return Ok(Next::Execute(ResolutionPath::Autonomous { instruction_id }));
    }
    let table_bytes = current_table_bytes(ctx, run, schema, table).await?;
    let autonomy = autonomy::check(
        &ctx.control,
        &run.server_id,
        run.id,
        kind,
        schema,
        table_bytes,
    )
    .await?;
    let building = run.state == RunState::Executing;
    let next = match autonomy {
        Autonomy::Allowed(instruction) => {
            steps::record_instruction(ctx, run, instruction.id).await?;
            let message = format!(
                "Approved by always-allow instruction {}, whose limits hold now",
                instruction.id
            );
            ctx.record(run, TimelineEventKind::Approved, message)
                .await?;
            Next::Execute(ResolutionPath::Autonomous {
                instruction_id: instruction.id,
            })
        }
        Autonomy::Scheduled { reasons, .. } | Autonomy::AskFirst { reasons } if building => {
            Next::Fail(format!(
                "The {action_name} stopped and its always-allow limits no longer hold: {}",
                reasons.join(" ")
            ))
        }
        Autonomy::Scheduled {
            instruction,
            at,
            mut reasons,
        } => {
            reasons.push(schedule::schedule(ctx, run, &instruction, at).await?);
            steps::add_issue_notes(ctx, issue, &reasons).await?;
            Next::Wait
        }
        Autonomy::AskFirst { mut reasons } => {
            tracing::info!(run.id = %run.id, ?reasons, "no always-allow instruction applies now; the issue waits for a person");
            reasons.insert(
                0,
                format!(
                    "The scheduled {action_name} did not start, because no always-allow \
                     instruction applies now; it waits for a person's decision."
                ),
            );
            steps::add_issue_notes(ctx, issue, &reasons).await?;
            Next::Wait
        }
    };
    Ok(next)
}

/// Measures the table now, because it may have grown past the instruction's size limit since
/// the issue was opened. Returns `None` for a table that no longer exists.
async fn current_table_bytes(
    ctx: &Context,
    run: &Run,
    schema: &str,
    table: &str,
) -> Result<Option<u64>, Error> {
    let client = target::connect(&ctx.config, &run.server_id).await?;
    preflight::table_bytes(&client, &run.server_id, schema, table).await
}
