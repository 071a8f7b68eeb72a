//! Handlers of `/api/...`, one module per resource.

pub mod assessment;
pub mod decisions;
pub mod instructions;
pub mod issues;
pub mod runs;
pub mod scenario;
pub mod servers;
pub mod sessions;
pub mod timeline;

use axum::Json;
use axum::Router;
use axum::http::{Method, Uri};
use axum::routing::{any, get, post};
use contracts::ServerId;
use control::ControlPlane;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;
use crate::openapi;
use crate::state::AppState;

/// Builds every route that requires the bearer token.
pub fn protected() -> Router<AppState> {
    Router::new()
        .route("/api/servers", get(servers::list))
        .route("/api/issues", get(issues::list))
        .route("/api/issues/{id}", get(issues::get))
        .route("/api/issues/{id}/assessment", get(assessment::get))
        .route("/api/issues/{id}/approve", post(decisions::approve))
        .route("/api/issues/{id}/skip", post(decisions::skip))
        .route(
            "/api/issues/{id}/always-allow",
            post(decisions::always_allow),
        )
        .route(
            "/api/instructions",
            get(instructions::list).post(instructions::create),
        )
        .route("/api/instructions/{id}/revoke", post(instructions::revoke))
        .route("/api/timeline", get(timeline::list))
        .route("/api/runs", get(runs::list))
        .route("/api/runs/{id}", get(runs::get))
        .route("/api/scenario/workloads", get(scenario::list))
        .route(
            "/api/scenario/workloads/{name}/start",
            post(scenario::start),
        )
        .route("/api/scenario/workloads/{name}/stop", post(scenario::stop))
        .route("/api/openapi.json", get(openapi::document))
        // A route, not a fallback, so that the dashboard can add its own fallback later.
        .route("/api/{*rest}", any(unknown_route))
}

/// Builds the sign-in routes, which take the token in the body rather than in a header.
pub fn session() -> Router<AppState> {
    Router::new().route(
        "/api/session",
        get(sessions::current)
            .post(sessions::sign_in)
            .delete(sessions::sign_out),
    )
}

/// Body of `GET /api/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`: the process is up and serving requests.
    pub status: &'static str,
}

/// Reports that the process serves requests. It does not check the control plane.
#[utoipa::path(
    get,
    path = "/api/health",
    operation_id = "health",
    tag = "health",
    security(()),
    responses((status = 200, description = "The server is up", body = Health))
)]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

async fn unknown_route(method: Method, uri: Uri) -> AppError {
    AppError::NotFound {
        kind: "route",
        id: format!("{method} {}", uri.path()),
    }
}

/// The optional `?server=` filter of the list endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServerFilter {
    /// Server whose records to list. Every registered server when left out.
    #[param(value_type = Option<String>)]
    pub server: Option<ServerId>,
}

impl ServerFilter {
    /// Lists the servers the filter selects. A named server that is not registered is a 404.
    pub async fn servers(&self, control: &ControlPlane) -> Result<Vec<ServerId>, AppError> {
        let Some(id) = &self.server else {
            let servers = control.servers().await?;
            return Ok(servers.into_iter().map(|server| server.id).collect());
        };
        if id.0.is_empty() {
            let problem = "must not be empty; leave it out to include every server";
            return Err(AppError::invalid("server", problem));
        }
        tracing::Span::current().record("server.id", tracing::field::display(id));
        if !is_registered(control, id).await? {
            return Err(AppError::NotFound {
                kind: "server",
                id: id.to_string(),
            });
        }
        Ok(vec![id.clone()])
    }
}

/// Tells whether a server with this id is registered. An id that the store rejects as a
/// document id, such as one containing `/`, cannot have been registered.
pub async fn is_registered(control: &ControlPlane, id: &ServerId) -> Result<bool, AppError> {
    match control.server_optional(id).await {
        Ok(found) => Ok(found.is_some()),
        Err(control::Error::Store(store::Error::InvalidArgument { .. })) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Formats a unit enum variant as its JSON string, such as `awaiting_approval`.
pub fn json_name(value: impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(error) => format!("<{error}>"),
    }
}
