//! Calls to DBAgent's REST API from the browser, with the session cookie.
//!
//! The dashboard is served from the API's own origin, so every request is same-origin and the
//! browser attaches the HttpOnly session cookie by itself.

use gloo_net::http::{Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A failed API call. [`ApiError::message`] describes it in words a person can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 401: there is no session, or it ended, for example because the server restarted.
    SignedOut,
    /// 404 or another error status, with the API's own error message.
    Refused { status: u16, message: String },
    /// The request failed before any response arrived.
    Unreachable(String),
    /// The response body could not be decoded, for example after only one side was upgraded. Also
    /// used when a request body fails to serialize.
    Unreadable(String),
}

impl ApiError {
    pub fn message(&self) -> String {
        match self {
            ApiError::SignedOut => "You are signed out. Sign in again with the API token.".into(),
            ApiError::Refused { status, message } => format!("{message} (HTTP {status})"),
            ApiError::Unreachable(cause) => format!("The DBAgent API is unreachable: {cause}"),
            ApiError::Unreadable(cause) => format!("The API sent an unexpected response: {cause}"),
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Refused { status: 404, .. })
    }
}

/// Sends `GET` and decodes the JSON response.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let response = Request::get(path)
        .send()
        .await
        .map_err(|error| ApiError::Unreachable(error.to_string()))?;
    read(response).await
}

/// Sends `POST` with an optional JSON body and decodes the JSON response.
pub async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: Option<&B>,
) -> Result<T, ApiError> {
    let builder = Request::post(path);
    let request = match body {
        Some(body) => builder
            .json(body)
            .map_err(|error| ApiError::Unreadable(error.to_string()))?,
        None => builder
            .build()
            .map_err(|error| ApiError::Unreadable(error.to_string()))?,
    };
    let response = request
        .send()
        .await
        .map_err(|error| ApiError::Unreachable(error.to_string()))?;
    read(response).await
}

/// Sends `DELETE` and ignores the response body.
pub async fn delete(path: &str) -> Result<(), ApiError> {
    let response = Request::delete(path)
        .send()
        .await
        .map_err(|error| ApiError::Unreachable(error.to_string()))?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_from(response).await)
    }
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    if !response.ok() {
        return Err(error_from(response).await);
    }
    response
        .json::<T>()
        .await
        .map_err(|error| ApiError::Unreadable(error.to_string()))
}

/// Converts an error response into an [`ApiError`], keeping the message in the body's `error`
/// field when there is one.
async fn error_from(response: Response) -> ApiError {
    let status = response.status();
    if status == 401 {
        return ApiError::SignedOut;
    }
    let text = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|body| body.get("error")?.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{} {}", status, response.status_text()));
    ApiError::Refused { status, message }
}
