//! Errors: [`Error`] for starting the server, [`AppError`] for requests. The mapping from
//! request errors to HTTP statuses lives here and nowhere else.

use std::path::PathBuf;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use contracts::{IssueId, IssueStatus};
use serde::Serialize;
use utoipa::ToSchema;

/// Failures that stop [`crate::serve`] from starting or keep it from running.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to read or write the API token file {path}: {source}")]
    TokenFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "API token file {path} does not contain a token of at least 32 letters and digits; \
         delete it to have a new token generated"
    )]
    InvalidToken { path: PathBuf },

    #[error("failed to prepare the control plane: {0}")]
    Control(#[from] control::Error),

    #[error("failed to listen on {address}: {source}")]
    Bind {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },

    #[error("the HTTP server stopped with an error: {0}")]
    Serve(#[source] std::io::Error),
}

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A body, path or query that does not parse or does not pass validation.
    #[error("{message}")]
    BadRequest {
        field: Option<String>,
        message: String,
    },

    /// An extractor rejected the request with its own status, such as 415 for a missing JSON
    /// content type.
    #[error("{message}")]
    Rejected { status: StatusCode, message: String },

    #[error("{0}")]
    Unauthorized(&'static str),

    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },

    /// The issue is in a state that does not allow the request.
    #[error("{message}")]
    IssueConflict {
        issue_id: IssueId,
        status: IssueStatus,
        message: String,
    },

    #[error(transparent)]
    Control(control::Error),
}

impl AppError {
    /// Builds a 400 error about one field of the request.
    pub fn invalid(field: &str, problem: impl std::fmt::Display) -> AppError {
        AppError::BadRequest {
            field: Some(field.to_string()),
            message: format!("{field}: {problem}"),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Rejected { status, .. } => *status,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::IssueConflict { .. } => StatusCode::CONFLICT,
            AppError::Control(error) if error.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Control(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Description of the failure in one sentence. A server fault gets a generic text, and the
    /// log has the cause.
    pub error: String,
    /// The request field at fault, as a dotted path such as `limits.time_window.start`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The issue whose state caused a 409.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue_id: Option<IssueId>,
    /// Current status of the issue, on a 409.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<IssueStatus>,
}

impl From<control::Error> for AppError {
    fn from(error: control::Error) -> AppError {
        match error {
            control::Error::NotFound { kind, id } => AppError::NotFound { kind, id },
            other => AppError::Control(other),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> AppError {
        // axum returns 422 for a body of the wrong shape, but this API uses 400 for every bad body.
        let status = match rejection.status() {
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            status => status,
        };
        AppError::Rejected {
            status,
            message: rejection.body_text(),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> AppError {
        AppError::Rejected {
            status: rejection.status(),
            message: rejection.body_text(),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> AppError {
        AppError::Rejected {
            status: rejection.status(),
            message: rejection.body_text(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = ErrorBody {
            error: self.to_string(),
            field: None,
            issue_id: None,
            status: None,
        };
        match self {
            AppError::BadRequest { field, .. } => body.field = field,
            AppError::IssueConflict {
                issue_id, status, ..
            } => {
                body.issue_id = Some(issue_id);
                body.status = Some(status);
            }
            AppError::Control(error) => return server_fault(status, &error),
            _ => {}
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            let challenge = HeaderValue::from_static("Bearer");
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

/// Logs the cause once, inside the request's span, and sends a body without internals.
fn server_fault(status: StatusCode, error: &control::Error) -> Response {
    let cause = error_chain(error);
    let body = if status == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(error = %cause, "control plane unavailable; request failed");
        "the control plane is unavailable; retry shortly"
    } else {
        tracing::error!(error = %cause, "request failed");
        "internal server error; the server log has the cause"
    };
    let body = ErrorBody {
        error: body.to_string(),
        field: None,
        issue_id: None,
        status: None,
    };
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// Joins an error and its sources into one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        // Many messages already quote their source, so repeating it adds nothing.
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_keeps_the_id() {
        let error = AppError::from(control::Error::NotFound {
            kind: "issue",
            id: "42".to_string(),
        });
        assert_eq!(error.status(), StatusCode::NOT_FOUND);
        assert_eq!(error.to_string(), "issue 42 not found");
    }

    #[test]
    fn contention_is_retryable() {
        let error = AppError::from(control::Error::Contended {
            kind: "run",
            id: "r".to_string(),
            attempts: 8,
        });
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn invalid_names_the_field() {
        let error = AppError::invalid("limits.max_actions_per_day", "must be at least 1");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(
            error
                .to_string()
                .starts_with("limits.max_actions_per_day: ")
        );
    }
}
