//! Extractors whose rejections become [`AppError`], so every bad request gets the same JSON
//! error body, and the resolution of who made a request.

use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Path, Query, Request};
use axum::http::request::Parts;
use axum::{Json, http::HeaderName};
use serde::de::DeserializeOwned;

use crate::auth::Caller;
use crate::error::AppError;

/// Header that names the person or tool behind a request when the body does not.
pub const ACTOR_HEADER: HeaderName = HeaderName::from_static("x-dbagent-actor");

/// Actor recorded when a request names none.
pub const DEFAULT_ACTOR: &str = "api";

/// Longest accepted actor name, in characters.
const MAX_ACTOR_CHARS: usize = 200;

/// A required JSON body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let Json(value) = <Json<T> as FromRequest<S>>::from_request(request, state).await?;
        Ok(ApiJson(value))
    }
}

/// A JSON body that may be left out: a request without a `Content-Type` gets `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let body = <Json<T> as OptionalFromRequest<S>>::from_request(request, state).await?;
        Ok(OptionalJson(
            body.map(|Json(value)| value).unwrap_or_default(),
        ))
    }
}

/// Path parameters, such as an issue id.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(value))
    }
}

/// Query parameters, such as `?server=`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(value))
    }
}

/// The `X-DBAgent-Actor` header, if present, and the signed-in person's name when the request
/// came with a session, which then decides the actor.
pub struct ActorHeader {
    pub value: Option<String>,
    pub session: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ActorHeader {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let session = match parts.extensions.get::<Caller>() {
            Some(Caller::Session { name }) => Some(name.clone()),
            _ => None,
        };
        let Some(value) = parts.headers.get(ACTOR_HEADER) else {
            return Ok(ActorHeader {
                value: None,
                session,
            });
        };
        let text = value
            .to_str()
            .map_err(|_| AppError::invalid("X-DBAgent-Actor", "must be visible ASCII text"))?;
        Ok(ActorHeader {
            value: Some(text.to_string()),
            session,
        })
    }
}

/// Picks who made a request: the body's `actor`, else the header, else [`DEFAULT_ACTOR`].
///
/// NOTE: the actor is what the caller declares. Every caller shares one token, so the API cannot
/// tell people apart. The name is an audit label, not an identity.
pub fn resolve_actor(body: Option<String>, header: ActorHeader) -> Result<String, AppError> {
    if let Some(name) = header.session {
        return Ok(name);
    }
    let (field, value) = match (body, header.value) {
        (Some(value), _) => ("actor", value),
        (None, Some(value)) => ("X-DBAgent-Actor", value),
        (None, None) => return Ok(DEFAULT_ACTOR.to_string()),
    };
    let actor = value.trim();
    if actor.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    if actor.chars().count() > MAX_ACTOR_CHARS {
        return Err(AppError::invalid(
            field,
            format!("must be at most {MAX_ACTOR_CHARS} characters"),
        ));
    }
    if actor.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(actor.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_name_wins_over_body_and_header() {
        let header = ActorHeader {
            value: Some("header".to_string()),
            session: Some("dba@example.com".to_string()),
        };
        let actor = resolve_actor(Some("body".to_string()), header).unwrap();
        assert_eq!(actor, "dba@example.com");
    }

    #[test]
    fn body_actor_wins_over_header() {
        let header = ActorHeader {
            value: Some("header".to_string()),
            session: None,
        };
        let actor = resolve_actor(Some(" alice ".to_string()), header).unwrap();
        assert_eq!(actor, "alice");
    }

    #[test]
    fn header_then_default() {
        let header = ActorHeader {
            value: Some("bob".to_string()),
            session: None,
        };
        assert_eq!(resolve_actor(None, header).unwrap(), "bob");
        assert_eq!(
            resolve_actor(
                None,
                ActorHeader {
                    value: None,
                    session: None
                }
            )
            .unwrap(),
            DEFAULT_ACTOR
        );
    }

    #[test]
    fn blank_actor_is_rejected() {
        let error = resolve_actor(
            Some("  ".to_string()),
            ActorHeader {
                value: None,
                session: None,
            },
        )
        .unwrap_err();
        assert!(error.to_string().starts_with("actor: "), "{error}");
    }
}
