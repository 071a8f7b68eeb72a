//! `GET /api/servers`: registered servers with their CPU and open issues.

use axum::Json;
use axum::extract::State;
use contracts::Server;
use contracts::api::ServerOverview;
use control::ControlPlane;

use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

/// Lists every registered server, ordered by id.
#[utoipa::path(
    get,
    path = "/api/servers",
    operation_id = "list_servers",
    tag = "servers",
    responses(
        (status = 200, description = "Registered servers", body = Vec<ServerOverview>),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 503, description = "Control plane unavailable", body = ErrorBody),
    )
)]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<ServerOverview>>, AppError> {
    let servers = state.control.servers().await?;
    let mut overviews = Vec::with_capacity(servers.len());
    for server in servers {
        overviews.push(overview(&state.control, server).await?);
    }
    Ok(Json(overviews))
}

async fn overview(control: &ControlPlane, server: Server) -> Result<ServerOverview, AppError> {
    let status = control.server_status(&server.id).await?;
    let issues = control.issues(&server.id).await?;
    let open_issues = issues
        .iter()
        .filter(|issue| !issue.status.is_closed())
        .count();
    Ok(ServerOverview {
        latest_cpu: status.latest(),
        recent_cpu: status.samples,
        cpu_threshold_pct: server.cpu_threshold_pct,
        open_issues,
        server,
    })
}
