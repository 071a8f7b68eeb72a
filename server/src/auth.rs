//! Bearer-token authentication: the token file and the middleware that checks every request.
//!
//! One token guards the whole API. It is generated on first start and kept in the state
//! directory, readable by its owner only, so any user who can read that file can call the API.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::error::{AppError, Error};
use crate::session;
use crate::state::AppState;

/// Name of the token file inside the state directory.
pub const TOKEN_FILE: &str = "api-token";

/// Length of a generated token: 48 alphanumeric characters carry about 285 bits.
const TOKEN_LENGTH: usize = 48;

/// Shortest token accepted from an existing file.
const MIN_TOKEN_LENGTH: usize = 32;

/// The secret that callers send as `Authorization: Bearer <token>`.
#[derive(Clone)]
pub struct ApiToken(String);

impl ApiToken {
    /// Reads the token from `<state_dir>/api-token`, or generates and stores one on first start.
    pub fn load_or_create(state_dir: &Path) -> Result<ApiToken, Error> {
        let path = state_dir.join(TOKEN_FILE);
        match fs::read_to_string(&path) {
            Ok(text) => return ApiToken::from_file_text(&path, &text),
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(source) => return Err(Error::TokenFile { path, source }),
        }

        let token = generate_token();
        match write_new(state_dir, &path, &token) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "generated a new API token");
                Ok(ApiToken(token))
            }
            // Another process created the file first, so use its token.
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                let text = fs::read_to_string(&path).map_err(|source| Error::TokenFile {
                    path: path.clone(),
                    source,
                })?;
                ApiToken::from_file_text(&path, &text)
            }
            Err(source) => Err(Error::TokenFile { path, source }),
        }
    }

    /// Returns the token itself, for clients and tests on this machine.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares in time that depends only on the lengths, so the response time does not reveal
    /// how many leading characters of a guess were right.
    pub fn matches(&self, candidate: &str) -> bool {
        let expected = self.0.as_bytes();
        let candidate = candidate.as_bytes();
        if expected.len() != candidate.len() {
            return false;
        }
        let difference = expected
            .iter()
            .zip(candidate)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(difference) == 0
    }

    fn from_file_text(path: &Path, text: &str) -> Result<ApiToken, Error> {
        let token = text.trim();
        let valid =
            token.len() >= MIN_TOKEN_LENGTH && token.bytes().all(|b| b.is_ascii_alphanumeric());
        if !valid {
            return Err(Error::InvalidToken {
                path: path.to_path_buf(),
            });
        }
        tighten_permissions(path)?;
        Ok(ApiToken(token.to_string()))
    }
}

/// Keeps the token out of logs and panic messages.
impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

fn generate_token() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(TOKEN_LENGTH)
        .map(char::from)
        .collect()
}

/// Writes the token to a private temporary file and links it into place. The link fails when
/// the file exists, so a concurrent start never reads a half-written token.
fn write_new(state_dir: &Path, path: &Path, token: &str) -> io::Result<()> {
    fs::create_dir_all(state_dir)?;
    let temporary = state_dir.join(format!("{TOKEN_FILE}.{}.tmp", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    file.write_all(format!("{token}\n").as_bytes())?;
    file.sync_all()?;
    let linked = fs::hard_link(&temporary, path);
    fs::remove_file(&temporary)?;
    linked
}

/// Resets a token file that others can read to owner-only access.
fn tighten_permissions(path: &Path) -> Result<(), Error> {
    let to_error = |source| Error::TokenFile {
        path: PathBuf::from(path),
        source,
    };
    let mode = fs::metadata(path).map_err(to_error)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777), "API token file was readable by others; resetting it to 0600");
        fs::set_permissions(path, Permissions::from_mode(0o600)).map_err(to_error)?;
    }
    Ok(())
}

/// The identity behind an authenticated request, as the auth middleware found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The bearer token, which anyone holding it may present.
    Token,
    /// A person signed in to the dashboard, by the name given at sign-in.
    Session { name: String },
}

/// Rejects a request unless it carries `Authorization: Bearer <token>` with the right token or
/// the cookie of an open session. A session's changes must come from the API's own origin, so
/// that another site cannot make them in the person's name.
pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let caller = match request.headers().get(AUTHORIZATION) {
        Some(header) => check_bearer(&state, header)?,
        None => check_session(&state, &request)?,
    };
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

fn check_bearer(state: &AppState, header: &HeaderValue) -> Result<Caller, AppError> {
    let candidate = header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or(AppError::Unauthorized(
            "Authorization header is not of the form `Bearer <token>`",
        ))?;
    if !state.token.matches(candidate.trim()) {
        return Err(AppError::Unauthorized("invalid bearer token"));
    }
    Ok(Caller::Token)
}

fn check_session(state: &AppState, request: &Request) -> Result<Caller, AppError> {
    let session = request
        .headers()
        .get(COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(session::cookie_value)
        .and_then(|id| state.sessions.find(id))
        .ok_or(AppError::Unauthorized(
            "missing Authorization header; send `Authorization: Bearer <token>` with the token from the api-token file in the state directory, or sign in",
        ))?;
    let safe_method = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe_method && !from_same_origin(request) {
        return Err(AppError::Rejected {
            status: StatusCode::FORBIDDEN,
            message: "a change made with a session must come from the dashboard's own origin"
                .to_string(),
        });
    }
    Ok(Caller::Session { name: session.name })
}

/// Tells whether the browser marks the request as coming from the API's own origin, by
/// `Sec-Fetch-Site` or by an `Origin` whose host and port equal the `Host` header.
fn from_same_origin(request: &Request) -> bool {
    let header = |name| {
        request
            .headers()
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
    };
    if header("sec-fetch-site") == Some("same-origin") {
        return true;
    }
    let (Some(origin), Some(host)) = (header("origin"), header("host")) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, origin_host)| origin_host == host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_token_is_long_alphanumeric() {
        let token = generate_token();
        assert_eq!(token.len(), TOKEN_LENGTH);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(token, generate_token());
    }

    #[test]
    fn matches_only_the_exact_token() {
        let token = ApiToken("a".repeat(40));
        assert!(token.matches(&"a".repeat(40)));
        assert!(!token.matches(&"a".repeat(39)));
        assert!(!token.matches(&format!("{}b", "a".repeat(39))));
        assert!(!token.matches(""));
    }

    #[test]
    fn debug_hides_token() {
        let token = ApiToken("secret".repeat(8));
        assert!(!format!("{token:?}").contains("secret"));
    }

    #[test]
    fn short_token_file_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(TOKEN_FILE), "short\n").unwrap();
        let error = ApiToken::load_or_create(dir.path()).unwrap_err();
        assert!(matches!(error, Error::InvalidToken { .. }), "{error}");
    }
}
