//! Signing in to and out of the dashboard.

use axum::Json;
use axum::extract::State;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use contracts::api::{SessionInfo, SignIn};

use crate::error::AppError;
use crate::extract::{ActorHeader, ApiJson, resolve_actor};
use crate::session::{self, set_cookie};
use crate::state::AppState;

/// Opens a session for a person who presents the token, and sets its cookie.
#[utoipa::path(
    post,
    path = "/api/session",
    operation_id = "sign_in",
    tag = "session",
    request_body = SignIn,
    responses(
        (status = 201, description = "Signed in; the response sets the session cookie", body = SessionInfo),
        (status = 400, description = "Invalid body", body = crate::error::ErrorBody),
        (status = 401, description = "Wrong token", body = crate::error::ErrorBody),
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Response, AppError> {
    if !state.token.matches(body.token.trim()) {
        return Err(AppError::Unauthorized("invalid token"));
    }
    let name = resolve_actor(
        Some(body.name),
        ActorHeader {
            value: None,
            session: None,
        },
    )
    .map_err(|_| AppError::invalid("name", "must be 1 to 200 printable characters"))?;
    let id = state.sessions.open(&name);
    tracing::info!(name = %name, "signed in");
    let headers = [(SET_COOKIE, set_cookie(&id))];
    Ok((StatusCode::CREATED, headers, Json(SessionInfo { name })).into_response())
}

/// Returns the signed-in person, or 401.
#[utoipa::path(
    get,
    path = "/api/session",
    operation_id = "current_session",
    tag = "session",
    responses(
        (status = 200, description = "The signed-in person", body = SessionInfo),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
    )
)]
pub async fn current(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SessionInfo>, AppError> {
    let session = session_id(&headers)
        .and_then(|id| state.sessions.find(id))
        .ok_or(AppError::Unauthorized("not signed in"))?;
    Ok(Json(SessionInfo { name: session.name }))
}

/// Closes the session and clears its cookie; signing out twice succeeds.
#[utoipa::path(
    delete,
    path = "/api/session",
    operation_id = "sign_out",
    tag = "session",
    responses((status = 204, description = "Signed out; the response clears the cookie"))
)]
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(id) = session_id(&headers) {
        state.sessions.close(id);
    }
    (StatusCode::NO_CONTENT, [(SET_COOKIE, set_cookie(""))]).into_response()
}

fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(COOKIE)?
        .to_str()
        .ok()
        .and_then(session::cookie_value)
}
