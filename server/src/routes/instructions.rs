//! Standing permissions: list, create for a server, revoke.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use contracts::{ActionKind, Instruction, InstructionId};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{AppError, ErrorBody};
use crate::events;
use crate::extract::{ActorHeader, ApiJson, ApiPath, ApiQuery, OptionalJson, resolve_actor};
use crate::grant::{GrantTarget, into_instruction};
use crate::routes::{ServerFilter, is_registered};
use crate::state::AppState;
use contracts::api::GrantRequest;

/// Optional body of a revocation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Person recorded as the revoker. Without it, the `X-DBAgent-Actor` header or `api`.
    pub actor: Option<String>,
}

/// Lists instructions, newest first, including revoked and expired ones.
#[utoipa::path(
    get,
    path = "/api/instructions",
    operation_id = "list_instructions",
    tag = "instructions",
    params(ServerFilter),
    responses(
        (status = 200, description = "Instructions, newest first", body = Vec<Instruction>),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 404, description = "The server filter names an unknown server", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<ServerFilter>,
) -> Result<Json<Vec<Instruction>>, AppError> {
    let mut instructions = Vec::new();
    for server_id in filter.servers(&state.control).await? {
        instructions.extend(state.control.instructions(&server_id).await?);
    }
    instructions.sort_by_key(|instruction| std::cmp::Reverse(instruction.created_at));
    Ok(Json(instructions))
}

/// Grants a standing permission on a server without an issue to approve.
#[utoipa::path(
    post,
    path = "/api/instructions",
    operation_id = "create_instruction",
    tag = "instructions",
    params(("X-DBAgent-Actor" = Option<String>, Header, description = "Actor when the body names none")),
    request_body = GrantRequest,
    responses(
        (status = 201, description = "Instruction created", body = Instruction),
        (status = 400, description = "Invalid body; `field` names the culprit", body = ErrorBody),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    header: ActorHeader,
    ApiJson(mut body): ApiJson<GrantRequest>,
) -> Result<(StatusCode, Json<Instruction>), AppError> {
    let actor = resolve_actor(body.actor.take(), header)?;
    let Some(server_id) = body.scope.server_id.clone() else {
        return Err(AppError::invalid("scope.server_id", "is required"));
    };
    tracing::Span::current().record("server.id", tracing::field::display(&server_id));
    if !is_registered(&state.control, &server_id).await? {
        let problem = format!("server {:?} is not registered", server_id.0);
        return Err(AppError::invalid("scope.server_id", problem));
    }
    let target = GrantTarget {
        id: InstructionId::new(),
        server_id,
        action: body.action.unwrap_or(ActionKind::CreateIndex),
        created_by: actor,
    };
    let instruction = into_instruction(body, target, Utc::now())?;
    // The id is a fresh v4 UUID, so `false` (an existing id) is not expected and not handled.
    state.control.create_instruction(&instruction).await?;
    tracing::info!(instruction.id = %instruction.id, created_by = %instruction.created_by, "instruction created");
    events::instruction_created(&state.control, &instruction, None).await;
    Ok((StatusCode::CREATED, Json(instruction)))
}

/// Revokes an instruction. Revoking it again changes nothing and returns the first revocation.
#[utoipa::path(
    post,
    path = "/api/instructions/{id}/revoke",
    operation_id = "revoke_instruction",
    tag = "instructions",
    params(
        ("id" = InstructionId, Path, description = "Instruction id"),
        ("X-DBAgent-Actor" = Option<String>, Header, description = "Actor when the body names none"),
    ),
    request_body(content = Option<RevokeRequest>, description = "Optional; names the actor"),
    responses(
        (status = 200, description = "The revoked instruction", body = Instruction),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 404, description = "No instruction with this id", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<InstructionId>,
    header: ActorHeader,
    OptionalJson(body): OptionalJson<RevokeRequest>,
) -> Result<Json<Instruction>, AppError> {
    let actor = resolve_actor(body.actor, header)?;
    let found = state.control.find_instruction(id).await?;
    let server_id = &found.scope.server_id;
    tracing::Span::current().record("server.id", tracing::field::display(server_id));
    let now = Utc::now();
    let revoked = state
        .control
        .revoke_instruction(server_id, id, &actor, now)
        .await?;
    if revoked.revoked_at == Some(now) {
        tracing::info!(instruction.id = %id, revoked_by = %actor, "instruction revoked");
        events::instruction_revoked(&state.control, &revoked, &actor, now).await;
    }
    Ok(Json(revoked))
}
