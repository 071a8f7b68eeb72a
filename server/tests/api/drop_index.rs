//! An issue that proposes `DROP INDEX CONCURRENTLY` is shown and granted like a build, but the
//! always-allow assistant does not assess it.

use axum::http::StatusCode;
use contracts::{ActionKind, DropIndex, Issue, IssueStatus, ProposedAction, ServerId};
use control::ControlPlane;
use serde_json::json;

use crate::support::{TestApi, minutes_ago, seed_issue, seed_server};

/// Seeds an awaiting issue that proposes to drop `public.idx_orders_customer_id`.
async fn seed_drop_issue(control: &ControlPlane, server_id: &ServerId) -> Issue {
    let issue = seed_issue(
        control,
        server_id,
        IssueStatus::AwaitingApproval,
        minutes_ago(1),
    )
    .await;
    let action = DropIndex::new("public", "orders", "idx_orders_customer_id");
    control
        .update_issue(server_id, issue.id, |issue| {
            issue.proposed_action = Some(ProposedAction::DropIndex(action.clone()));
            true
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn drop_issue_shows_its_ddl() {
    let api = TestApi::start("drop_issue_shows_ddl").await;
    let server_id = seed_server(&api.control, "drop-shows").await;
    let issue = seed_drop_issue(&api.control, &server_id).await;

    let (status, body) = api.get(&format!("/api/issues/{}", issue.id)).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let action = &body["issue"]["proposed_action"];
    assert_eq!(action["kind"], "drop_index", "{body}");
    assert_eq!(
        action["ddl"],
        r#"DROP INDEX CONCURRENTLY "public"."idx_orders_customer_id""#
    );
}

#[tokio::test]
async fn assistant_rejects_drop_issue() {
    let api = TestApi::start("assistant_rejects_drop").await;
    let server_id = seed_server(&api.control, "drop-assistant").await;
    let issue = seed_drop_issue(&api.control, &server_id).await;

    let (status, body) = api
        .get(&format!("/api/issues/{}/assessment", issue.id))
        .await;

    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(message.contains("assesses index builds only"), "{body}");
    assert!(message.contains("idx_orders_customer_id"), "{body}");
}

#[tokio::test]
async fn always_allow_grants_drops() {
    let api = TestApi::start("always_allow_grants_drops").await;
    let server_id = seed_server(&api.control, "drop-grant").await;
    let issue = seed_drop_issue(&api.control, &server_id).await;
    let path = format!("/api/issues/{}/always-allow", issue.id);

    let limits = json!({"max_actions_per_day": 1});
    let build = json!({
        "action": "create_index",
        "scope": {"schemas": ["public"]},
        "limits": limits,
        "actor": "dana"
    });
    let (status, body) = api.post(&path, Some(build)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "action", "{body}");

    let grant = json!({"scope": {"schemas": ["public"]}, "limits": limits, "actor": "dana"});
    let (status, body) = api.post(&path, Some(grant)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let instructions = api.control.instructions(&server_id).await.unwrap();
    assert_eq!(instructions.len(), 1);
    assert_eq!(instructions[0].action, ActionKind::DropIndex);
    assert_eq!(api.approvals().await.len(), 1);
}
