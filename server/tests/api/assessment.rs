//! `GET /api/issues/{id}/assessment`: the always-allow assistant through the router.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use contracts::{
    BuildEstimate, DiskSpace, Evidence, Issue, IssueId, IssueStatus, RiskFacts, ServerId,
    TableFacts,
};
use control::ControlPlane;
use serde_json::Value;

use crate::support::{TestApi, minutes_ago, seed_issue, seed_server};

/// Seeds an awaiting issue on `public.orders` with `evidence`.
async fn seed_with_evidence(
    control: &ControlPlane,
    server_id: &ServerId,
    evidence: Evidence,
) -> Issue {
    let issue = seed_issue(
        control,
        server_id,
        IssueStatus::AwaitingApproval,
        minutes_ago(1),
    )
    .await;
    control
        .update_issue(server_id, issue.id, |issue| {
            issue.evidence = evidence.clone();
            true
        })
        .await
        .unwrap()
}

fn measured_evidence() -> Evidence {
    let orders = TableFacts {
        name: "public.orders".to_string(),
        total_bytes: 230_000_000,
        rows: 2_000_000,
        writes_per_second: Some(12.0),
    };
    let risk = RiskFacts {
        largest_tables: vec![orders],
        database_bytes: 905_000_000,
        disk: Some(DiskSpace {
            free_bytes: 100_000_000,
            total_bytes: 10_000_000_000,
        }),
        build_estimate: Some(BuildEstimate {
            seconds: 1200.0,
            basis: "About 3 full scans of public.orders.".to_string(),
        }),
        maintenance_work_mem_bytes: Some(64 * 1024 * 1024),
        replicas: Vec::new(),
        in_recovery: false,
    };
    Evidence {
        table: Some("public.orders".to_string()),
        table_size_bytes: Some(161_000_000),
        table_rows: Some(2_000_000),
        table_writes_per_second: Some(12.0),
        estimated_index_bytes: Some(44_000_000),
        risk: Some(risk),
        ..Evidence::default()
    }
}

fn topic<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|point| point["topic"] == name)
        .unwrap_or_else(|| panic!("no {name} point in {body}"))
}

#[tokio::test]
async fn assessment_judges_measured_facts() {
    let api = TestApi::start("assessment_measured").await;
    let server_id = seed_server(&api.control, "assessment-measured").await;
    let issue = seed_with_evidence(&api.control, &server_id, measured_evidence()).await;

    let (status, body) = api
        .get(&format!("/api/issues/{}/assessment", issue.id))
        .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    // 100 MB of free disk does not cover 3 × 44 MB for the index, its WAL and the sort's spill.
    assert_eq!(body["level"], "high");
    let headline = body["headline"].as_str().unwrap();
    assert!(
        headline.starts_with("High risk: free disk (100 MB)"),
        "{headline}"
    );
    assert_eq!(topic(&body, "Disk")["concern"], true);
    assert_eq!(topic(&body, "Build time")["concern"], true);
    assert_eq!(topic(&body, "Locks")["concern"], false);

    let proposed = &body["proposed"];
    assert_eq!(proposed["scope"]["server_id"], "assessment-measured");
    assert_eq!(proposed["scope"]["schemas"], serde_json::json!(["public"]));
    // A third of the free disk, rounded down to a round figure.
    assert_eq!(proposed["limits"]["max_table_bytes"], 20_000_000);
    assert_eq!(proposed["limits"]["time_window"]["start"], "01:00");
    assert_eq!(proposed["limits"]["time_window"]["end"], "05:00");
    assert_eq!(proposed["limits"]["max_actions_per_day"], 3);
    assert_eq!(proposed["expires_in_hours"], 720);
    assert!(proposed.get("actor").is_none(), "{proposed}");
}

#[tokio::test]
async fn proposed_limits_are_a_valid_grant() {
    let api = TestApi::start("assessment_grant").await;
    let server_id = seed_server(&api.control, "assessment-grant").await;
    let issue = seed_with_evidence(&api.control, &server_id, measured_evidence()).await;
    let (_, body) = api
        .get(&format!("/api/issues/{}/assessment", issue.id))
        .await;

    let path = format!("/api/issues/{}/always-allow", issue.id);
    let (status, granted) = api.post(&path, Some(body["proposed"].clone())).await;

    assert_eq!(status, StatusCode::ACCEPTED, "{granted}");
    let instruction = &granted["decision"]["instruction"];
    assert_eq!(
        instruction["scope"]["schemas"],
        serde_json::json!(["public"])
    );
    assert_eq!(instruction["limits"]["max_table_bytes"], 20_000_000);
    assert_eq!(instruction["limits"]["max_actions_per_day"], 3);
}

#[tokio::test]
async fn assessment_without_server_facts_names_them() {
    let api = TestApi::start("assessment_no_facts").await;
    let server_id = seed_server(&api.control, "assessment-no-facts").await;
    let issue = seed_with_evidence(&api.control, &server_id, Evidence::default()).await;

    let (status, body) = api
        .get(&format!("/api/issues/{}/assessment", issue.id))
        .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["level"], "medium");
    let facts = topic(&body, "Server facts");
    assert_eq!(facts["concern"], true);
    let text = facts["text"].as_str().unwrap();
    assert!(text.contains("free disk"), "{text}");
    assert_eq!(topic(&body, "Table")["concern"], true);
}

#[tokio::test]
async fn assessment_needs_a_proposed_action() {
    let api = TestApi::start("assessment_no_action").await;
    let server_id = seed_server(&api.control, "assessment-no-action").await;
    let seeded = seed_issue(&api.control, &server_id, IssueStatus::Open, minutes_ago(1)).await;
    let issue = api
        .control
        .update_issue(&server_id, seeded.id, |issue| {
            issue.proposed_action = None;
            true
        })
        .await
        .unwrap();

    let (status, body) = api
        .get(&format!("/api/issues/{}/assessment", issue.id))
        .await;

    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["issue_id"], issue.id.to_string());
    assert_eq!(body["status"], "open");
    let message = body["error"].as_str().unwrap();
    assert!(message.contains("proposes no action"), "{message}");
}

#[tokio::test]
async fn assessment_of_unknown_issue_is_404() {
    let api = TestApi::start("assessment_unknown").await;
    seed_server(&api.control, "assessment-unknown").await;
    let id = IssueId::new();

    let (status, body) = api.get(&format!("/api/issues/{id}/assessment")).await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], format!("issue {id} not found"));
}

#[tokio::test]
async fn assessment_needs_the_token() {
    let api = TestApi::start("assessment_token").await;
    let id = IssueId::new();
    let request = Request::get(format!("/api/issues/{id}/assessment"))
        .body(Body::empty())
        .unwrap();

    let (status, _) = api.send(request).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
