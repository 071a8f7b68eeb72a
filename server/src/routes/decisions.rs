//! Approve, Skip and Always allow on an issue that awaits approval.
//!
//! Each records one [`ApprovalDecision`] per issue, then sends it to Platform Services as an
//! [`Approval`] message. The store keeps the first decision, so a repeated or concurrent request
//! gets 409 and cannot send a second, different decision.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use contracts::{Approval, ApprovalDecision, Decision, InstructionId, Issue, IssueId, IssueStatus};
use control::ControlPlane;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{AppError, ErrorBody};
use crate::events;
use crate::extract::{ActorHeader, ApiJson, ApiPath, OptionalJson, resolve_actor};
use crate::grant::{GrantTarget, into_instruction};
use crate::routes::issues::find_issue;
use crate::routes::json_name;
use crate::state::AppState;
use contracts::api::GrantRequest;

/// Optional body of approve and skip.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// Person recorded as the decider. Without it, the `X-DBAgent-Actor` header or `api`.
    pub actor: Option<String>,
}

type Accepted = (StatusCode, Json<ApprovalDecision>);

/// Approves the proposed action, so the run resumes and executes it.
#[utoipa::path(
    post,
    path = "/api/issues/{id}/approve",
    operation_id = "approve_issue",
    tag = "decisions",
    params(
        ("id" = IssueId, Path, description = "Issue id"),
        ("X-DBAgent-Actor" = Option<String>, Header, description = "Actor when the body names none"),
    ),
    request_body(content = Option<DecisionRequest>, description = "Optional; names the actor"),
    responses(
        (status = 202, description = "Decision recorded and sent", body = ApprovalDecision),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 404, description = "No issue with this id", body = ErrorBody),
        (status = 409, description = "Not awaiting approval, or already decided", body = ErrorBody),
    )
)]
pub async fn approve(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<IssueId>,
    header: ActorHeader,
    OptionalJson(body): OptionalJson<DecisionRequest>,
) -> Result<Accepted, AppError> {
    let actor = resolve_actor(body.actor, header)?;
    let issue = awaiting_issue(&state, id).await?;
    commit(&state.control, &issue, Decision::Approve, actor).await
}

/// Skips the proposed action, so the run completes without executing it.
#[utoipa::path(
    post,
    path = "/api/issues/{id}/skip",
    operation_id = "skip_issue",
    tag = "decisions",
    params(
        ("id" = IssueId, Path, description = "Issue id"),
        ("X-DBAgent-Actor" = Option<String>, Header, description = "Actor when the body names none"),
    ),
    request_body(content = Option<DecisionRequest>, description = "Optional; names the actor"),
    responses(
        (status = 202, description = "Decision recorded and sent", body = ApprovalDecision),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 404, description = "No issue with this id", body = ErrorBody),
        (status = 409, description = "Not awaiting approval, or already decided", body = ErrorBody),
    )
)]
pub async fn skip(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<IssueId>,
    header: ActorHeader,
    OptionalJson(body): OptionalJson<DecisionRequest>,
) -> Result<Accepted, AppError> {
    let actor = resolve_actor(body.actor, header)?;
    let issue = awaiting_issue(&state, id).await?;
    commit(&state.control, &issue, Decision::Skip, actor).await
}

/// Approves the proposed action and grants a standing permission for its kind on the issue's
/// server, within the given scope and limits.
#[utoipa::path(
    post,
    path = "/api/issues/{id}/always-allow",
    operation_id = "always_allow_issue",
    tag = "decisions",
    params(
        ("id" = IssueId, Path, description = "Issue id"),
        ("X-DBAgent-Actor" = Option<String>, Header, description = "Actor when the body names none"),
    ),
    request_body = GrantRequest,
    responses(
        (status = 202, description = "Instruction and decision recorded and sent", body = ApprovalDecision),
        (status = 400, description = "Invalid body; `field` names the culprit", body = ErrorBody),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 404, description = "No issue with this id", body = ErrorBody),
        (status = 409, description = "Not awaiting approval, or already decided", body = ErrorBody),
    )
)]
pub async fn always_allow(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<IssueId>,
    header: ActorHeader,
    ApiJson(mut body): ApiJson<GrantRequest>,
) -> Result<Accepted, AppError> {
    let actor = resolve_actor(body.actor.take(), header)?;
    let issue = awaiting_issue(&state, id).await?;
    let target = grant_target(&issue, &body, actor.clone())?;
    let instruction = into_instruction(body, target, Utc::now())?;
    commit(
        &state.control,
        &issue,
        Decision::AlwaysAllow { instruction },
        actor,
    )
    .await
}

/// Loads the issue and rejects it unless it waits for a decision.
async fn awaiting_issue(state: &AppState, id: IssueId) -> Result<Issue, AppError> {
    let issue = find_issue(state, id).await?;
    if issue.status != IssueStatus::AwaitingApproval {
        return Err(AppError::IssueConflict {
            issue_id: id,
            status: issue.status,
            message: format!(
                "issue {id} is {}, not awaiting approval, so it takes no decision",
                json_name(issue.status)
            ),
        });
    }
    Ok(issue)
}

/// Checks the grant against the issue: same server, same kind of action as proposed.
fn grant_target(
    issue: &Issue,
    body: &GrantRequest,
    actor: String,
) -> Result<GrantTarget, AppError> {
    let Some(proposed) = &issue.proposed_action else {
        return Err(AppError::IssueConflict {
            issue_id: issue.id,
            status: issue.status,
            message: format!("issue {} has no proposed action to allow", issue.id),
        });
    };
    if body
        .scope
        .server_id
        .as_ref()
        .is_some_and(|id| *id != issue.server_id)
    {
        let problem = format!(
            "must be the issue's server {:?} or left out",
            issue.server_id.0
        );
        return Err(AppError::invalid("scope.server_id", problem));
    }
    if body.action.is_some_and(|action| action != proposed.kind()) {
        return Err(AppError::invalid(
            "action",
            "must be the kind of the proposed action or left out",
        ));
    }
    Ok(GrantTarget {
        // Derived from the issue, so a retried always-allow names the same instruction.
        id: InstructionId::derived(issue.id.0, "always-allow"),
        server_id: issue.server_id.clone(),
        action: proposed.kind(),
        created_by: actor,
    })
}

/// Records the decision and sends it. When the issue already has a decision, it re-sends the
/// stored one and returns 409.
async fn commit(
    control: &ControlPlane,
    issue: &Issue,
    decision: Decision,
    actor: String,
) -> Result<Accepted, AppError> {
    let decision = ApprovalDecision {
        run_id: issue.run_id,
        issue_id: issue.id,
        decision,
        decided_by: actor,
        decided_at: Utc::now(),
    };

    if control.record_decision(&issue.server_id, &decision).await? {
        deliver(control, issue, &decision).await?;
        tracing::info!(decided_by = %decision.decided_by, "decision recorded and sent");
        return Ok((StatusCode::ACCEPTED, Json(decision)));
    }

    let Some(existing) = control.decision(&issue.server_id, issue.id).await? else {
        // The conflicting decision vanished, which only a manual delete can cause.
        return Err(already_decided(
            issue,
            "an earlier decision that is no longer stored",
        ));
    };

    // The earlier request may have stored its decision and then failed to send it. Sending
    // again is safe, because the message id derives from the issue and the bus drops a repeat.
    tracing::debug!(decided_by = %existing.decided_by, "issue already decided; re-sending the stored decision");
    deliver(control, issue, &existing).await?;

    let earlier = format!(
        "{} by {}",
        decision_name(&existing.decision),
        existing.decided_by
    );
    Err(already_decided(issue, &earlier))
}

/// Stores the instruction of an always-allow, sends the approval and appends timeline events.
async fn deliver(
    control: &ControlPlane,
    issue: &Issue,
    decision: &ApprovalDecision,
) -> Result<(), AppError> {
    if let Decision::AlwaysAllow { instruction } = &decision.decision {
        // `false` means a retried request stored it already.
        control.create_instruction(instruction).await?;
    }
    let approval = Approval {
        decision: decision.clone(),
    };
    control.send(issue.run_id, approval).await?;
    events::decision_recorded(control, issue, decision).await;
    Ok(())
}

fn already_decided(issue: &Issue, earlier: &str) -> AppError {
    AppError::IssueConflict {
        issue_id: issue.id,
        status: issue.status,
        message: format!(
            "issue {} is {} but already has a decision ({earlier}); it takes one decision only",
            issue.id,
            json_name(issue.status)
        ),
    }
}

fn decision_name(decision: &Decision) -> &'static str {
    match decision {
        Decision::Approve => "approve",
        Decision::Skip => "skip",
        Decision::AlwaysAllow { .. } => "always allow",
    }
}
