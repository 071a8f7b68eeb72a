//! `GET /api/timeline`.

use axum::Json;
use axum::extract::State;
use contracts::TimelineEvent;

use crate::error::{AppError, ErrorBody};
use crate::extract::ApiQuery;
use crate::routes::ServerFilter;
use crate::state::AppState;

/// Lists timeline events, oldest first.
#[utoipa::path(
    get,
    path = "/api/timeline",
    operation_id = "list_timeline",
    tag = "timeline",
    params(ServerFilter),
    responses(
        (status = 200, description = "Events, oldest first", body = Vec<TimelineEvent>),
        (status = 401, description = "Missing or invalid bearer token", body = ErrorBody),
        (status = 404, description = "The server filter names an unknown server", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<ServerFilter>,
) -> Result<Json<Vec<TimelineEvent>>, AppError> {
    let mut events = Vec::new();
    for server_id in filter.servers(&state.control).await? {
        events.extend(state.control.timeline(&server_id).await?);
    }
    // A stable sort keeps each server's own order for events at the same instant.
    events.sort_by_key(|event| event.at);
    Ok(Json(events))
}
