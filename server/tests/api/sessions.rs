//! Dashboard sessions: sign-in with the token, a strict cookie, decisions recorded under the
//! session's name, and changes from other origins rejected.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use contracts::IssueStatus;
use serde_json::json;
use tower::ServiceExt;

use crate::support::{TestApi, minutes_ago, seed_issue, seed_server};

/// Signs in and returns the `Cookie` header value for the session.
async fn sign_in(api: &TestApi, name: &str) -> String {
    let body = json!({ "token": api.token, "name": name }).to_string();
    let request = Request::post("/api/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let response = api.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    set_cookie.split(';').next().unwrap().to_string()
}

fn with_cookie(method: &str, path: &str, cookie: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, cookie)
        .header(header::HOST, "127.0.0.1:7480")
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_token_does_not_sign_in() {
    let api = TestApi::start("session_wrong_token").await;
    let body = json!({ "token": "guess", "name": "mallory" }).to_string();
    let request = Request::post("/api/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();

    let (status, _) = api.send(request).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn session_reads_and_records_its_name() {
    let api = TestApi::start("session_records_name").await;
    let server_id = seed_server(&api.control, "session-approve").await;
    let issue = seed_issue(
        &api.control,
        &server_id,
        IssueStatus::AwaitingApproval,
        minutes_ago(1),
    )
    .await;
    let cookie = sign_in(&api, "dba@example.com").await;

    let read = with_cookie("GET", "/api/issues", &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _) = api.send(read).await;
    assert_eq!(status, StatusCode::OK);

    let approve = with_cookie(
        "POST",
        &format!("/api/issues/{}/approve", issue.id),
        &cookie,
    )
    .header(header::ORIGIN, "http://127.0.0.1:7480")
    .header(header::CONTENT_TYPE, "application/json")
    .body(Body::from(json!({ "actor": "someone else" }).to_string()))
    .unwrap();
    let (status, body) = api.send(approve).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["decided_by"], "dba@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn change_from_other_origin_is_rejected() {
    let api = TestApi::start("session_other_origin").await;
    let server_id = seed_server(&api.control, "session-origin").await;
    let issue = seed_issue(
        &api.control,
        &server_id,
        IssueStatus::AwaitingApproval,
        minutes_ago(1),
    )
    .await;
    let cookie = sign_in(&api, "dba@example.com").await;
    let path = format!("/api/issues/{}/approve", issue.id);

    let foreign = with_cookie("POST", &path, &cookie)
        .header(header::ORIGIN, "http://evil.example")
        .body(Body::empty())
        .unwrap();
    let (status, _) = api.send(foreign).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let unlabelled = with_cookie("POST", &path, &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _) = api.send(unlabelled).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    assert!(api.approvals().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_out_cookie_is_refused() {
    let api = TestApi::start("session_sign_out").await;
    let cookie = sign_in(&api, "dba@example.com").await;

    let current = with_cookie("GET", "/api/session", &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, body) = api.send(current).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "dba@example.com");

    let sign_out = with_cookie("DELETE", "/api/session", &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _) = api.send(sign_out).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let read = with_cookie("GET", "/api/issues", &cookie)
        .body(Body::empty())
        .unwrap();
    let (status, _) = api.send(read).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
