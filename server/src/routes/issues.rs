//! `GET /api/issues` and `GET /api/issues/{id}`.

use axum::Json;
use axum::extract::State;
use contracts::api::IssueDetail;
use contracts::{Issue, IssueId};

use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::routes::ServerFilter;
use crate::state::AppState;

/// Lists issues, newest first.
#[utoipa::path(
    get,
    path = "/api/issues",
    operation_id = "list_issues",
    tag = "issues",
    params(ServerFilter),
    responses(
        (status = 200, description = "Issues, newest first", body = Vec<Issue>),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 404, description = "The server filter names an unknown server", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<ServerFilter>,
) -> Result<Json<Vec<Issue>>, AppError> {
    let mut issues = Vec::new();
    for server_id in filter.servers(&state.control).await? {
        issues.extend(state.control.issues(&server_id).await?);
    }
    issues.sort_by_key(|issue| std::cmp::Reverse(issue.created_at));
    Ok(Json(issues))
}

/// Returns one issue and its decision.
#[utoipa::path(
    get,
    path = "/api/issues/{id}",
    operation_id = "get_issue",
    tag = "issues",
    params(("id" = IssueId, Path, description = "Issue id")),
    responses(
        (status = 200, description = "The issue", body = IssueDetail),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 404, description = "No issue with this id", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<IssueId>,
) -> Result<Json<IssueDetail>, AppError> {
    let issue = find_issue(&state, id).await?;
    let decision = state.control.decision(&issue.server_id, id).await?;
    Ok(Json(IssueDetail { issue, decision }))
}

/// Finds an issue by id and records its ids on the request's span.
pub async fn find_issue(state: &AppState, id: IssueId) -> Result<Issue, AppError> {
    let span = tracing::Span::current();
    span.record("issue.id", tracing::field::display(id));
    let issue = state.control.find_issue(id).await?;
    span.record("server.id", tracing::field::display(&issue.server_id));
    span.record("run.id", tracing::field::display(issue.run_id));
    Ok(issue)
}
