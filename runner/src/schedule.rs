//! Actions that an always-allow instruction allows only inside its time window: the run waits,
//! suspended, for a trigger the bus delivers when the window opens.

use chrono::{DateTime, Utc};
use contracts::{Instruction, Run, TimelineEventKind, Trigger, TriggerKind};

use crate::{Context, Error};

/// Sends the trigger that continues `run` at `at`, records the wait on the timeline, and
/// returns the note for the issue.
///
/// NOTE: every scheduled trigger of a run has the same message id, and the bus drops a repeat
/// within its duplicate-detection window (10 minutes by default). A run scheduled twice within
/// that time is therefore continued once, and after that only by a person's decision.
pub async fn schedule(
    ctx: &Context,
    run: &Run,
    instruction: &Instruction,
    at: DateTime<Utc>,
) -> Result<String, Error> {
    let trigger = Trigger {
        run_id: run.id,
        server_id: run.server_id.clone(),
        kind: TriggerKind::Scheduled,
    };
    ctx.control.send_at(run.id, trigger, at).await?;
    let note = note(instruction, at);
    tracing::info!(run.id = %run.id, instruction.id = %instruction.id, %at, "action scheduled for the instruction's time window");
    ctx.record(run, TimelineEventKind::BuildScheduled, note.clone())
        .await?;
    Ok(note)
}

fn note(instruction: &Instruction, at: DateTime<Utc>) -> String {
    let window = instruction
        .limits
        .time_window
        .map(|window| {
            format!(
                " in its window {}-{} UTC",
                window.start.format("%H:%M"),
                window.end.format("%H:%M")
            )
        })
        .unwrap_or_default();
    format!(
        "Scheduled: always-allow instruction {} allows this build{window}, so DBAgent starts it \
         at {} UTC unless a person decides first. Its limits are checked again then.",
        instruction.id,
        at.format("%Y-%m-%d %H:%M:%S")
    )
}
