use axum::http::StatusCode;
use contracts::{IssueId, IssueStatus};

use crate::support::{TestApi, minutes_ago, seed_issue, seed_server};

#[tokio::test]
async fn issues_list_newest_first() {
    let api = TestApi::start("issues_list_newest_first").await;
    let a = seed_server(&api.control, "issues-list-a").await;
    let b = seed_server(&api.control, "issues-list-b").await;
    let older = seed_issue(&api.control, &a, IssueStatus::Resolved, minutes_ago(30)).await;
    let newer = seed_issue(
        &api.control,
        &b,
        IssueStatus::AwaitingApproval,
        minutes_ago(5),
    )
    .await;
    let middle = seed_issue(&api.control, &a, IssueStatus::Open, minutes_ago(10)).await;

    let (status, body) = api.get("/api/issues").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    let expected = [
        newer.id.to_string(),
        middle.id.to_string(),
        older.id.to_string(),
    ];
    assert_eq!(ids, expected);

    let (status, body) = api.get("/api/issues?server=issues-list-a").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [middle.id.to_string(), older.id.to_string()]);
}

#[tokio::test]
async fn issue_get_returns_issue() {
    let api = TestApi::start("issue_get_returns_issue").await;
    let server_id = seed_server(&api.control, "issue-get").await;
    let issue = seed_issue(
        &api.control,
        &server_id,
        IssueStatus::AwaitingApproval,
        minutes_ago(1),
    )
    .await;

    let (status, body) = api.get(&format!("/api/issues/{}", issue.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["issue"]["id"], issue.id.to_string());
    assert_eq!(body["issue"]["status"], "awaiting_approval");
    assert_eq!(
        body["issue"]["proposed_action"]["index_name"],
        "idx_orders_customer_id"
    );
    assert!(body["decision"].is_null());
}

#[tokio::test]
async fn unknown_issue_is_404() {
    let api = TestApi::start("unknown_issue_is_404").await;
    seed_server(&api.control, "issue-unknown").await;
    let id = IssueId::new();

    let (status, body) = api.get(&format!("/api/issues/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], format!("issue {id} not found"));

    let (status, body) = api.post(&format!("/api/issues/{id}/approve"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().unwrap().contains(&id.to_string()));
}

#[tokio::test]
async fn malformed_issue_id_is_400() {
    let api = TestApi::start("malformed_issue_id_is_400").await;
    let (status, body) = api.get("/api/issues/not-a-uuid").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("not-a-uuid")
            || body["error"].as_str().unwrap().contains("UUID"),
        "{body}"
    );
}

#[tokio::test]
async fn unknown_server_filter_is_404() {
    let api = TestApi::start("unknown_server_filter_is_404").await;
    for path in [
        "/api/issues",
        "/api/runs",
        "/api/timeline",
        "/api/instructions",
    ] {
        let (status, body) = api.get(&format!("{path}?server=no-such-server")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["error"], "server no-such-server not found", "{path}");
    }
}

#[tokio::test]
async fn odd_server_filters() {
    let api = TestApi::start("odd_server_filters").await;
    let (status, body) = api.get("/api/issues?server=a%2Fb").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"], "server a/b not found");

    let (status, body) = api.get("/api/issues?server=").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "server");
}
