//! `GET /api/runs` and `GET /api/runs/{id}`.

use axum::Json;
use axum::extract::State;
use contracts::{Run, RunId};
use control::ControlPlane;

use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::routes::ServerFilter;
use crate::state::AppState;

/// Lists runs, newest first.
#[utoipa::path(
    get,
    path = "/api/runs",
    operation_id = "list_runs",
    tag = "runs",
    params(ServerFilter),
    responses(
        (status = 200, description = "Runs, newest first", body = Vec<Run>),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 404, description = "The server filter names an unknown server", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<ServerFilter>,
) -> Result<Json<Vec<Run>>, AppError> {
    let mut runs = Vec::new();
    for server_id in filter.servers(&state.control).await? {
        runs.extend(state.control.runs(&server_id).await?);
    }
    runs.sort_by_key(|run| std::cmp::Reverse(run.created_at));
    Ok(Json(runs))
}

/// Returns one run with its steps.
#[utoipa::path(
    get,
    path = "/api/runs/{id}",
    operation_id = "get_run",
    tag = "runs",
    params(("id" = RunId, Path, description = "Run id")),
    responses(
        (status = 200, description = "The run", body = Run),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 404, description = "No run with this id", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<RunId>,
) -> Result<Json<Run>, AppError> {
    tracing::Span::current().record("run.id", tracing::field::display(id));
    let run = find_run(&state.control, id).await?;
    tracing::Span::current().record("server.id", tracing::field::display(&run.server_id));
    Ok(Json(run))
}

/// Finds a run by id alone, looking through every server's partition, because runs are
/// partitioned by server and the control plane has no lookup by run id.
async fn find_run(control: &ControlPlane, id: RunId) -> Result<Run, AppError> {
    for server in control.servers().await? {
        match control.run(&server.id, id).await {
            Ok(versioned) => return Ok(versioned.value),
            Err(control::Error::NotFound { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(AppError::NotFound {
        kind: "run",
        id: id.to_string(),
    })
}
