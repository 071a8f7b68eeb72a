//! `GET /api/scenario/workloads` and `POST /api/scenario/workloads/{name}/start` and `/stop`:
//! the presenter's controls of the local scenario's workloads.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use contracts::api::Workload;

use crate::error::{AppError, ErrorBody};
use crate::extract::ApiPath;
use crate::scenario::{ScenarioControl, ScenarioError};
use crate::state::AppState;

/// Lists the scenario's workloads and whether each runs.
#[utoipa::path(
    get,
    path = "/api/scenario/workloads",
    operation_id = "list_workloads",
    tag = "scenario",
    responses(
        (status = 200, description = "Every workload of the local scenario", body = Vec<Workload>),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 404, description = "This API does not serve the local stack", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Workload>>, AppError> {
    let control = scenario_control(&state)?;
    let workloads = on_blocking_pool(move || control.workloads()).await?;
    Ok(Json(workloads))
}

/// Starts a workload against the local target, with `dbagent workload start`'s defaults. A
/// workload that runs already keeps running.
#[utoipa::path(
    post,
    path = "/api/scenario/workloads/{name}/start",
    operation_id = "start_workload",
    tag = "scenario",
    params(("name" = String, Path, description = "Workload name, such as `orders-by-customer`")),
    responses(
        (status = 200, description = "The workload, running", body = Workload),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 403, description = "A session's change from another origin", body = ErrorBody),
        (status = 404, description = "Unknown workload, or this API does not serve the local stack", body = ErrorBody),
        (status = 503, description = "The local target cluster is not running", body = ErrorBody),
    )
)]
pub async fn start(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Workload>, AppError> {
    let control = scenario_control(&state)?;
    let workload = on_blocking_pool(move || control.start(&name)).await?;
    tracing::info!(workload = %workload.name, pid = workload.pid, "workload running");
    Ok(Json(workload))
}

/// Stops a workload. A workload that is not running stays stopped.
#[utoipa::path(
    post,
    path = "/api/scenario/workloads/{name}/stop",
    operation_id = "stop_workload",
    tag = "scenario",
    params(("name" = String, Path, description = "Workload name, such as `orders-by-customer`")),
    responses(
        (status = 200, description = "The workload, stopped", body = Workload),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 403, description = "A session's change from another origin", body = ErrorBody),
        (status = 404, description = "Unknown workload, or this API does not serve the local stack", body = ErrorBody),
    )
)]
pub async fn stop(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Workload>, AppError> {
    let control = scenario_control(&state)?;
    let workload = on_blocking_pool(move || control.stop(&name)).await?;
    tracing::info!(workload = %workload.name, "workload stopped");
    Ok(Json(workload))
}

fn scenario_control(state: &AppState) -> Result<Arc<dyn ScenarioControl>, AppError> {
    state.scenario.clone().ok_or_else(|| AppError::Rejected {
        status: StatusCode::NOT_FOUND,
        message: "scenario controls exist only on the local stack started by `dbagent up`; \
                  this API was started without one"
            .to_string(),
    })
}

/// Runs a blocking call of the scenario control without holding up the async runtime.
async fn on_blocking_pool<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, ScenarioError> + Send + 'static,
) -> Result<T, AppError> {
    match tokio::task::spawn_blocking(call).await {
        Ok(result) => result.map_err(into_app_error),
        Err(error) => {
            tracing::error!(%error, "scenario control panicked or was cancelled");
            Err(AppError::Rejected {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: "internal server error; the server log has the cause".to_string(),
            })
        }
    }
}

fn into_app_error(error: ScenarioError) -> AppError {
    let (status, message) = match error {
        ScenarioError::UnknownWorkload { .. } => (StatusCode::NOT_FOUND, error.to_string()),
        ScenarioError::Unavailable(message) => {
            tracing::warn!(%message, "scenario control unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, message)
        }
        ScenarioError::Failed { ref action, .. } => {
            tracing::error!(%error, "scenario control failed");
            let message = format!("failed to {action}; the server log has the cause");
            (StatusCode::INTERNAL_SERVER_ERROR, message)
        }
    };
    AppError::Rejected { status, message }
}
