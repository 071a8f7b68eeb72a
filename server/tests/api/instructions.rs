use axum::http::StatusCode;
use contracts::InstructionId;
use serde_json::json;

use crate::support::{TestApi, seed_server};

#[tokio::test]
async fn create_and_list_instructions() {
    let api = TestApi::start("create_and_list_instructions").await;
    let a = seed_server(&api.control, "instructions-a").await;
    seed_server(&api.control, "instructions-b").await;
    let body = json!({
        "scope": {"server_id": "instructions-a", "schemas": []},
        "limits": {"max_actions_per_day": 2},
        "actor": "erin"
    });

    let (status, created) = api.post("/api/instructions", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["action"], "create_index");
    assert_eq!(created["created_by"], "erin");
    assert!(created["expires_at"].is_null());

    let stored = api.control.instructions(&a).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id.to_string(), created["id"].as_str().unwrap());
    assert_eq!(stored[0].limits.max_actions_per_day, Some(2));

    let (status, listed) = api.get("/api/instructions?server=instructions-a").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (_, other) = api.get("/api/instructions?server=instructions-b").await;
    assert!(other.as_array().unwrap().is_empty());
    let (_, all) = api.get("/api/instructions").await;
    assert_eq!(all.as_array().unwrap().len(), 1);

    let timeline = api.control.timeline(&a).await.unwrap();
    assert!(
        timeline
            .iter()
            .any(|event| event.message.starts_with("erin allowed create_index"))
    );
}

#[tokio::test]
async fn create_needs_known_server() {
    let api = TestApi::start("create_needs_known_server").await;
    let missing = json!({"scope": {"schemas": []}, "limits": {}});
    let (status, body) = api.post("/api/instructions", Some(missing)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "scope.server_id");

    let unknown = json!({"scope": {"server_id": "nowhere", "schemas": []}, "limits": {}});
    let (status, body) = api.post("/api/instructions", Some(unknown)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "scope.server_id");
    assert!(
        body["error"].as_str().unwrap().contains("nowhere"),
        "{body}"
    );
}

#[tokio::test]
async fn revoke_is_idempotent() {
    let api = TestApi::start("revoke_is_idempotent").await;
    let server_id = seed_server(&api.control, "revoke").await;
    let body = json!({"scope": {"server_id": "revoke", "schemas": ["public"]}, "limits": {}});
    let (_, created) = api.post("/api/instructions", Some(body)).await;
    let path = format!(
        "/api/instructions/{}/revoke",
        created["id"].as_str().unwrap()
    );

    let (status, first) = api.post(&path, Some(json!({"actor": "frank"}))).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["revoked_by"], "frank");
    assert!(first["revoked_at"].is_string());

    let (status, second) = api.post(&path, Some(json!({"actor": "grace"}))).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["revoked_by"], "frank");
    assert_eq!(second["revoked_at"], first["revoked_at"]);

    let stored = &api.control.instructions(&server_id).await.unwrap()[0];
    assert_eq!(stored.revoked_by.as_deref(), Some("frank"));
    let revocations = api
        .control
        .timeline(&server_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|event| event.message.starts_with("frank revoked"))
        .count();
    assert_eq!(revocations, 1);
}

#[tokio::test]
async fn revoke_unknown_is_404() {
    let api = TestApi::start("revoke_unknown_is_404").await;
    seed_server(&api.control, "revoke-unknown").await;
    let id = InstructionId::new();
    let (status, body) = api
        .post(&format!("/api/instructions/{id}/revoke"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], format!("instruction {id} not found"));
}
