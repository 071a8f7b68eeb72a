//! Timeline events that only the API witnesses: decisions and instruction changes.
//!
//! Each event has a fixed document id, so a repeated request appends it once. A failure to
//! append is logged and not returned, because the decision itself is already stored and sent.

use chrono::{DateTime, Utc};
use contracts::{ApprovalDecision, Decision, Instruction, Issue, TimelineEvent, TimelineEventKind};
use control::ControlPlane;
use control::timeline::event_key;

use crate::routes::json_name;

/// Appends the events of a decision on `issue`.
pub async fn decision_recorded(control: &ControlPlane, issue: &Issue, decision: &ApprovalDecision) {
    let by = &decision.decided_by;
    let (kind, message) = match &decision.decision {
        Decision::Approve => (TimelineEventKind::Approved, format!("Approved by {by}")),
        Decision::Skip => (TimelineEventKind::Skipped, format!("Skipped by {by}")),
        Decision::AlwaysAllow { instruction } => {
            instruction_created(control, instruction, Some(issue)).await;
            let message =
                format!("Approved by {by}, who also allowed this kind of action from now on");
            (TimelineEventKind::Approved, message)
        }
    };
    let event = TimelineEvent {
        at: decision.decided_at,
        server_id: issue.server_id.clone(),
        run_id: Some(issue.run_id),
        issue_id: Some(issue.id),
        kind,
        message,
    };
    append(control, &event_key(issue.run_id, kind), &event).await;
}

/// Appends the creation of `instruction`, linked to the issue it was granted from, if any.
pub async fn instruction_created(
    control: &ControlPlane,
    instruction: &Instruction,
    issue: Option<&Issue>,
) {
    let schemas = match instruction.scope.schemas.as_slice() {
        [] => "every schema".to_string(),
        schemas => format!("schemas {}", schemas.join(", ")),
    };
    let event = TimelineEvent {
        at: instruction.created_at,
        server_id: instruction.scope.server_id.clone(),
        run_id: issue.map(|issue| issue.run_id),
        issue_id: issue.map(|issue| issue.id),
        kind: TimelineEventKind::InstructionCreated,
        message: format!(
            "{} allowed {} on {schemas}",
            instruction.created_by,
            json_name(instruction.action)
        ),
    };
    let key = format!("{}.instruction_created", instruction.id);
    append(control, &key, &event).await;
}

/// Appends the revocation of `instruction`.
pub async fn instruction_revoked(
    control: &ControlPlane,
    instruction: &Instruction,
    by: &str,
    at: DateTime<Utc>,
) {
    let event = TimelineEvent {
        at,
        server_id: instruction.scope.server_id.clone(),
        run_id: None,
        issue_id: None,
        kind: TimelineEventKind::InstructionRevoked,
        message: format!("{by} revoked the standing permission {}", instruction.id),
    };
    let key = format!("{}.instruction_revoked", instruction.id);
    append(control, &key, &event).await;
}

async fn append(control: &ControlPlane, key: &str, event: &TimelineEvent) {
    if let Err(error) = control.append_event(key, event).await {
        tracing::warn!(%error, event.key = key, "failed to append a timeline event; continuing without it");
    }
}
