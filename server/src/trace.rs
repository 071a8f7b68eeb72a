//! The tracing span of each request.

use axum::body::Body;
use axum::extract::MatchedPath;
use axum::http::Request;
use tracing::Span;
use tracing::field::Empty;

/// Opens a span with the method, path and matched route. Handlers record `server.id`,
/// `issue.id` and `run.id` once they know them. Headers stay out, because one carries the token.
pub fn request_span(request: &Request<Body>) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        route,
        server.id = Empty,
        issue.id = Empty,
        run.id = Empty,
    )
}
