//! DBAgent's REST API: servers, issues, decisions, standing permissions, runs and the timeline,
//! over the control plane's store and bus.
//!
//! The API never calls Platform Services or a runner. It reads records from the store, and a
//! decision on an issue becomes a stored [`contracts::ApprovalDecision`] plus an
//! [`contracts::Approval`] message on the bus. Every route lives under `/api/`; the
//! dashboard's pages take every other path of the same [`axum::Router`].
//!
//! - [`config`]: the typed configuration that the CLI fills in.
//! - [`dashboard`]: the Leptos pages, served beside the API on the same origin.
//! - [`auth`]: the bearer token, its file, and the middleware that checks it or a session.
//! - [`session`]: browser sessions opened by signing in with the token.
//! - [`state`]: what each handler receives.
//! - [`error`]: [`AppError`] and its mapping to HTTP statuses, in one place.
//! - [`extract`]: extractors that reject with [`AppError`], and who made a request.
//! - [`grant`]: the body that grants a standing permission, and its validation.
//! - [`assistant`]: the always-allow assistant's risk assessment of an issue.
//! - [`routes`]: handlers per resource. [`events`] appends the timeline events they witness.
//! - [`scenario`]: the presenter's workload controls, which the `dbagent` binary implements.
//! - [`openapi`]: the OpenAPI document at `/api/openapi.json`.
//! - [`trace`]: the per-request tracing span.

pub mod assistant;
pub mod auth;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod extract;
pub mod grant;
pub mod openapi;
pub mod routes;
pub mod scenario;
pub mod session;
pub mod state;
pub mod trace;

use std::future::IntoFuture;
use std::time::Duration;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use control::ControlPlane;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;

pub use auth::{ApiToken, TOKEN_FILE};
pub use config::Config;
pub use error::{AppError, Error};
pub use state::AppState;

/// Time that requests in flight get to finish after shutdown is requested.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Builds the API: `/api/health` open to all, every other `/api/...` route behind the token.
pub fn router(state: AppState) -> Router {
    let protected =
        routes::protected().route_layer(from_fn_with_state(state.clone(), auth::require_token));
    Router::new()
        .merge(routes::session())
        .merge(protected)
        .route("/api/health", get(routes::health))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(trace::request_span)
                // `AppError` logs each server fault with its cause, so a second line adds nothing.
                .on_failure(()),
        )
        .with_state(state)
}

/// Loads or creates the token, connects the control plane, and serves on `config.listen` until
/// `shutdown` is cancelled.
pub async fn serve(config: Config, shutdown: CancellationToken) -> Result<(), Error> {
    let token = ApiToken::load_or_create(&config.state_dir)?;
    let control = ControlPlane::connect_postgres(&config.control_url).await?;
    control.ensure_layout().await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Bind {
            address: config.listen,
            source,
        })?;
    tracing::info!(
        token_file = %config.state_dir.join(TOKEN_FILE).display(),
        "API token loaded"
    );
    let state = AppState::new(control, token).with_scenario(config.scenario);
    let app = match &config.site_dir {
        Some(site_dir) => {
            if !dashboard::site_is_built(site_dir) {
                tracing::warn!(
                    site_dir = %site_dir.display(),
                    "the dashboard's WASM is not built there, so its pages will not update; build it with `cargo leptos build`"
                );
            }
            router(state).merge(dashboard::router(site_dir))
        }
        None => router(state),
    };
    serve_on(listener, app, shutdown).await
}

/// Serves `app` on a bound listener until `shutdown` is cancelled, then gives requests in
/// flight [`SHUTDOWN_GRACE`] to finish.
pub async fn serve_on(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    let address = listener.local_addr().map_err(Error::Serve)?;
    tracing::info!(%address, "API listening");
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .into_future();
    let deadline = async {
        shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result.map_err(Error::Serve)?,
        () = deadline => tracing::warn!(
            grace_seconds = SHUTDOWN_GRACE.as_secs(),
            "requests still open after the shutdown grace period; closing them"
        ),
    }
    tracing::info!(%address, "API stopped");
    Ok(())
}
