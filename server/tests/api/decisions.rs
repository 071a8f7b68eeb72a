use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use contracts::{Decision, IssueStatus};
use serde_json::{Value, json};

use crate::support::{TestApi, minutes_ago, seed_issue, seed_server};

#[tokio::test]
async fn approve_records_actor_and_sends() {
    let api = TestApi::start("approve_records_actor_and_sends").await;
    let server_id = seed_server(&api.control, "approve-once").await;
    let issue = seed_issue(
        &api.control,
        &server_id,
        IssueStatus::AwaitingApproval,
        minutes_ago(1),
    )
    .await;

    let request = api
        .authorized(Request::post(format!("/api/issues/{}/approve", issue.id)))
        .header("X-DBAgent-Actor", "alice@example.com")
        .body(Body::empty())
        .unwrap();
    let (status, body) = api.send(request).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["decision"]["kind"], "approve");
    assert_eq!(body["decided_by"], "alice@example.com");

    let stored = api
        .control
        .decision(&server_id, issue.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.decision, Decision::Approve);
    assert_eq!(stored.decided_by, "alice@example.com");
    assert_eq!(stored.run_id, issue.run_id);

    let approvals = api.approvals().await;
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].decision, stored);

    let timeline = api.control.timeline(&server_id).await.unwrap();
    assert!(
        timeline
            .iter()
            .any(|event| event.message == "Approved by alice@example.com")
    );
}

#[tokio::test]
async fn approve_twice_is_409() {
    let api = TestApi::start("approve_twice_is_409").await;
    let server_id = seed_server(&api.control, "approve-twice").await;
    let issue = seed_issue(
        &api.control,
        &server_id,
        IssueStatus::AwaitingApproval,
        minutes_ago(1),
    )
    .await;
    let path = format!("/api/issues/{}/approve", issue.id);

    let (first, _) = api.post(&path, Some(json!({"actor": "alice"}))).await;
    assert_eq!(first, StatusCode::ACCEPTED);
    let (second, body) = api.post(&path, Some(json!({"actor": "bob"}))).await;
    assert_eq!(second, StatusCode::CONFLICT);
    assert_eq!(body["status"], "awaiting_approval");
    assert_eq!(body["issue_id"], issue.id.to_string());
    assert!(
        body["error"].as_str().unwrap().contains("approve by alice"),
        "{body}"
    );

    // A different decision after the first one is rejected the same way.
    let (skip, _) = api
        .post(&format!("/api/issues/{}/skip", issue.id), None)
        .await;
    assert_eq!(skip, StatusCode::CONFLICT);

    let stored = api
        .control
        .decision(&server_id, issue.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.decided_by, "alice");
    let approvals = api.approvals().await;
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].decision.decided_by, "alice");
}

#[tokio::test]
async fn approve_resolved_issue_is_409() {
    let api = TestApi::start("approve_resolved_issue_is_409").await;
    let server_id = seed_server(&api.control, "approve-resolved").await;
    let issue = seed_issue(
        &api.control,
        &server_id,
        IssueStatus::Resolved,
        minutes_ago(1),
    )
    .await;

    let (status, body) = api
        .post(&format!("/api/issues/{}/approve", issue.id), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["status"], "resolved");
    assert!(
        body["error"].as_str().unwrap().contains("is resolved"),
        "{body}"
    );
    assert!(
        api.control
            .decision(&server_id, issue.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(api.approvals().await.is_empty());
}

#[tokio::test]
async fn skip_records_body_actor() {
    let api = TestApi::start("skip_records_body_actor").await;
    let server_id = seed_server(&api.control, "skip").await;
    let issue = seed_issue(
        &api.control,
        &server_id,
        IssueStatus::AwaitingApproval,
        minutes_ago(1),
    )
    .await;

    let request = api
        .authorized(Request::post(format!("/api/issues/{}/skip", issue.id)))
        .header("X-DBAgent-Actor", "header-actor")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"actor": "carol"}"#))
        .unwrap();
    let (status, body) = api.send(request).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    let stored = api
        .control
        .decision(&server_id, issue.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.decision, Decision::Skip);
    assert_eq!(stored.decided_by, "carol");
    assert_eq!(api.approvals().await.len(), 1);
}

#[tokio::test]
async fn decision_without_actor_is_api() {
    let api = TestApi::start("decision_without_actor_is_api").await;
    let server_id = seed_server(&api.control, "default-actor").await;
    let issue = seed_issue(
        &api.control,
        &server_id,
        IssueStatus::AwaitingApproval,
        minutes_ago(1),
    )
    .await;

    let (status, body) = api
        .post(&format!("/api/issues/{}/approve", issue.id), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["decided_by"], "api");
}

fn grant_body() -> Value {
    json!({
        "scope": {"schemas": ["public"]},
        "limits": {
            "max_table_bytes": 1_073_741_824u64,
            "time_window": {"start": "22:00", "end": "06:00"},
            "max_actions_per_day": 3
        },
        "expires_in_hours": 48,
        "actor": "dana"
    })
}

#[tokio::test]
async fn always_allow_stores_instruction() {
    let api = TestApi::start("always_allow_stores_instruction").await;
    let server_id = seed_server(&api.control, "always-allow").await;
    let issue = seed_issue(
        &api.control,
        &server_id,
        IssueStatus::AwaitingApproval,
        minutes_ago(1),
    )
    .await;

    let (status, body) = api
        .post(
            &format!("/api/issues/{}/always-allow", issue.id),
            Some(grant_body()),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["decision"]["kind"], "always_allow");

    let instructions = api.control.instructions(&server_id).await.unwrap();
    assert_eq!(instructions.len(), 1);
    let instruction = &instructions[0];
    assert_eq!(instruction.created_by, "dana");
    assert_eq!(instruction.scope.schemas, ["public"]);
    assert_eq!(instruction.limits.max_table_bytes, Some(1_073_741_824));
    assert_eq!(instruction.limits.max_actions_per_day, Some(3));
    let window = instruction.limits.time_window.unwrap();
    assert_eq!(window.start.to_string(), "22:00:00");
    assert_eq!(window.end.to_string(), "06:00:00");
    let lifetime = instruction.expires_at.unwrap() - instruction.created_at;
    assert_eq!(lifetime.num_hours(), 48);

    let stored = api
        .control
        .decision(&server_id, issue.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.decision,
        Decision::AlwaysAllow {
            instruction: instruction.clone()
        }
    );
    assert_eq!(stored.decided_by, "dana");
    let approvals = api.approvals().await;
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0].decision, stored);

    let (again, _) = api
        .post(
            &format!("/api/issues/{}/always-allow", issue.id),
            Some(grant_body()),
        )
        .await;
    assert_eq!(again, StatusCode::CONFLICT);
    assert_eq!(api.control.instructions(&server_id).await.unwrap().len(), 1);
    assert!(api.approvals().await.is_empty());
}

#[tokio::test]
async fn always_allow_invalid_body_is_400() {
    let api = TestApi::start("always_allow_invalid_body_is_400").await;
    let server_id = seed_server(&api.control, "always-allow-invalid").await;
    let issue = seed_issue(
        &api.control,
        &server_id,
        IssueStatus::AwaitingApproval,
        minutes_ago(1),
    )
    .await;
    let path = format!("/api/issues/{}/always-allow", issue.id);

    let cases: [(&str, &str, Value); 8] = [
        (
            "start 25:00",
            "limits.time_window.start",
            json!({"start": "25:00", "end": "06:00"}),
        ),
        (
            "end 6:00",
            "limits.time_window.end",
            json!({"start": "01:00", "end": "6:00"}),
        ),
        (
            "empty window",
            "limits.time_window.end",
            json!({"start": "01:00", "end": "01:00"}),
        ),
        ("zero per day", "limits.max_actions_per_day", json!(0)),
        ("zero bytes", "limits.max_table_bytes", json!(0)),
        ("both expiries", "expires_in_hours", json!(null)),
        ("other server", "scope.server_id", json!(null)),
        ("blank actor", "actor", json!(null)),
    ];
    for (case, field, value) in cases {
        let mut body = grant_body();
        match field {
            "limits.time_window.start" | "limits.time_window.end" => {
                body["limits"]["time_window"] = value
            }
            "limits.max_actions_per_day" => body["limits"]["max_actions_per_day"] = value,
            "limits.max_table_bytes" => body["limits"]["max_table_bytes"] = value,
            "expires_in_hours" => body["expires_at"] = json!("2999-01-01T00:00:00Z"),
            "scope.server_id" => body["scope"]["server_id"] = json!("someone-else"),
            "actor" => body["actor"] = json!("   "),
            _ => unreachable!(),
        }
        let (status, response) = api.post(&path, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {response}");
        assert_eq!(response["field"], field, "{case}: {response}");
        assert!(
            response["error"].as_str().unwrap().starts_with(field),
            "{case}: {response}"
        );
    }

    assert!(
        api.control
            .decision(&server_id, issue.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        api.control
            .instructions(&server_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(api.approvals().await.is_empty());
}

#[tokio::test]
async fn always_allow_malformed_json_is_400() {
    let api = TestApi::start("always_allow_malformed_json_is_400").await;
    let server_id = seed_server(&api.control, "always-allow-json").await;
    let issue = seed_issue(
        &api.control,
        &server_id,
        IssueStatus::AwaitingApproval,
        minutes_ago(1),
    )
    .await;
    let path = format!("/api/issues/{}/always-allow", issue.id);

    let mut typo = grant_body();
    typo["limits"]["max_action_per_day"] = json!(2);
    let mut wrong_type = grant_body();
    wrong_type["limits"]["max_actions_per_day"] = json!("three");
    let mut missing = grant_body();
    missing.as_object_mut().unwrap().remove("limits");
    let cases = [
        ("unknown field", typo, "max_action_per_day"),
        ("wrong type", wrong_type, "limits.max_actions_per_day"),
        ("missing limits", missing, "limits"),
    ];
    for (case, body, named) in cases {
        let (status, response) = api.post(&path, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {response}");
        let message = response["error"].as_str().unwrap();
        assert!(message.contains(named), "{case}: {message}");
    }

    let request = api
        .authorized(Request::post(&path))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let (status, _) = api.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
