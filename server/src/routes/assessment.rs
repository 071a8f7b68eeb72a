//! `GET /api/issues/{id}/assessment`: the always-allow assistant's view of an issue.

use axum::Json;
use axum::extract::State;
use contracts::api::RiskAssessment;
use contracts::{IssueId, ProposedAction};

use crate::assistant;
use crate::error::{AppError, ErrorBody};
use crate::extract::ApiPath;
use crate::routes::issues::find_issue;
use crate::routes::json_name;
use crate::state::AppState;

/// Assesses the risk of always allowing actions like the issue's proposed one on its server,
/// and proposes limits for that permission.
#[utoipa::path(
    get,
    path = "/api/issues/{id}/assessment",
    operation_id = "get_issue_assessment",
    tag = "issues",
    params(("id" = IssueId, Path, description = "Issue id")),
    responses(
        (status = 200, description = "The assessment and the limits it proposes", body = RiskAssessment),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 404, description = "No issue with this id", body = ErrorBody),
        (status = 409, description = "The issue proposes no action to allow, or a drop, which the assistant does not assess", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<IssueId>,
) -> Result<Json<RiskAssessment>, AppError> {
    let issue = find_issue(&state, id).await?;
    if let Some(ProposedAction::DropIndex(action)) = &issue.proposed_action {
        // The assistant's facts and limits are about building indexes, so it does not assess
        // drops. The always-allow request itself accepts a drop_index grant.
        return Err(AppError::IssueConflict {
            issue_id: id,
            status: issue.status,
            message: format!(
                "issue {id} proposes to drop {}, and the assistant assesses index builds only; \
                 approve or skip it, or grant an instruction for drop_index with POST \
                 /api/issues/{id}/always-allow",
                action.index_name
            ),
        });
    }
    let Some(ProposedAction::CreateIndex(action)) = &issue.proposed_action else {
        return Err(AppError::IssueConflict {
            issue_id: id,
            status: issue.status,
            message: format!(
                "issue {id} ({}) proposes no action, so there is nothing to always allow",
                json_name(issue.status)
            ),
        });
    };
    let server = state.control.server(&issue.server_id).await?;
    Ok(Json(assistant::assess(&server, &issue.evidence, action)))
}
