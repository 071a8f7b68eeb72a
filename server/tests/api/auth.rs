use std::os::unix::fs::PermissionsExt;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use server::{ApiToken, TOKEN_FILE};

use crate::support::TestApi;

#[tokio::test]
async fn health_needs_no_token() {
    let api = TestApi::start("health_needs_no_token").await;
    let request = Request::get("/api/health").body(Body::empty()).unwrap();
    let (status, body) = api.send(request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn missing_token_is_401() {
    let api = TestApi::start("missing_token_is_401").await;
    for path in [
        "/api/servers",
        "/api/issues",
        "/api/openapi.json",
        "/api/nowhere",
    ] {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let (status, body) = api.send(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        let message = body["error"].as_str().unwrap();
        assert!(message.contains("Authorization"), "{message}");
    }
}

#[tokio::test]
async fn wrong_token_is_401() {
    let api = TestApi::start("wrong_token_is_401").await;
    // Another last character, so that the token is wrong whatever its own last character is.
    let last = if api.token.ends_with('x') { 'y' } else { 'x' };
    let wrong = format!("{}{last}", &api.token[..api.token.len() - 1]);
    for value in [
        format!("Bearer {wrong}"),
        format!("Basic {}", api.token),
        "Bearer ".into(),
    ] {
        let request = Request::post("/api/instructions")
            .header(header::AUTHORIZATION, value.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let response = tower::ServiceExt::oneshot(api.app.clone(), request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{value}");
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}

#[tokio::test]
async fn token_file_is_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");

    let first = ApiToken::load_or_create(&state_dir).unwrap();
    let path = state_dir.join(TOKEN_FILE);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(first.expose().len() >= 32);
    assert!(first.expose().chars().all(|c| c.is_ascii_alphanumeric()));

    let second = ApiToken::load_or_create(&state_dir).unwrap();
    assert_eq!(first.expose(), second.expose());
    let stray: Vec<_> = std::fs::read_dir(&state_dir).unwrap().collect();
    assert_eq!(stray.len(), 1, "only the token file should remain");
}

#[tokio::test]
async fn loose_token_file_is_tightened() {
    let dir = tempfile::tempdir().unwrap();
    let token = ApiToken::load_or_create(dir.path()).unwrap();
    let path = dir.path().join(TOKEN_FILE);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

    let reloaded = ApiToken::load_or_create(dir.path()).unwrap();
    assert_eq!(reloaded.expose(), token.expose());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}
