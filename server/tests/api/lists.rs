use axum::http::StatusCode;
use chrono::TimeDelta;
use contracts::{IssueStatus, RunId, TimelineEvent, TimelineEventKind};

use crate::support::{TestApi, minutes_ago, seed_cpu, seed_issue, seed_run, seed_server};

#[tokio::test]
async fn servers_show_cpu_and_open_issues() {
    let api = TestApi::start("servers_show_cpu_and_open_issues").await;
    let hot = seed_server(&api.control, "servers-hot").await;
    seed_server(&api.control, "servers-idle").await;
    seed_cpu(&api.control, &hot, &[20.0, 85.0, 97.5]).await;
    seed_issue(
        &api.control,
        &hot,
        IssueStatus::AwaitingApproval,
        minutes_ago(3),
    )
    .await;
    seed_issue(&api.control, &hot, IssueStatus::Open, minutes_ago(2)).await;
    seed_issue(&api.control, &hot, IssueStatus::Resolved, minutes_ago(1)).await;

    let (status, body) = api.get("/api/servers").await;
    assert_eq!(status, StatusCode::OK);
    let servers = body.as_array().unwrap();
    assert_eq!(servers.len(), 2);
    let hot = &servers[0];
    assert_eq!(hot["server"]["id"], "servers-hot");
    assert_eq!(hot["latest_cpu"]["cpu_pct"], 97.5);
    assert_eq!(hot["recent_cpu"].as_array().unwrap().len(), 3);
    assert_eq!(hot["cpu_threshold_pct"], 80.0);
    assert_eq!(hot["open_issues"], 2);
    let idle = &servers[1];
    assert_eq!(idle["server"]["id"], "servers-idle");
    assert!(idle["latest_cpu"].is_null());
    assert_eq!(idle["open_issues"], 0);
}

#[tokio::test]
async fn timeline_oldest_first() {
    let api = TestApi::start("timeline_oldest_first").await;
    let a = seed_server(&api.control, "timeline-a").await;
    let b = seed_server(&api.control, "timeline-b").await;
    let event = |server_id: &contracts::ServerId, minutes, kind| TimelineEvent {
        at: minutes_ago(minutes),
        server_id: server_id.clone(),
        run_id: None,
        issue_id: None,
        kind,
        message: format!("{kind:?} {minutes} minutes ago"),
    };
    let events = [
        event(&a, 5, TimelineEventKind::RunStarted),
        event(&b, 9, TimelineEventKind::AlertFired),
        event(&a, 7, TimelineEventKind::AlertFired),
    ];
    for (index, event) in events.iter().enumerate() {
        api.control
            .append_event(&format!("test.{index}"), event)
            .await
            .unwrap();
    }

    let (status, body) = api.get("/api/timeline").await;
    assert_eq!(status, StatusCode::OK);
    let messages: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "AlertFired 9 minutes ago",
            "AlertFired 7 minutes ago",
            "RunStarted 5 minutes ago"
        ]
    );

    let (_, body) = api.get("/api/timeline?server=timeline-a").await;
    let messages: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        ["AlertFired 7 minutes ago", "RunStarted 5 minutes ago"]
    );
}

#[tokio::test]
async fn runs_list_and_get() {
    let api = TestApi::start("runs_list_and_get").await;
    let a = seed_server(&api.control, "runs-a").await;
    let b = seed_server(&api.control, "runs-b").await;
    let older = seed_run(&api.control, &a, minutes_ago(20)).await;
    let newer = seed_run(&api.control, &b, minutes_ago(20) + TimeDelta::minutes(5)).await;

    let (status, body) = api.get("/api/runs").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [newer.id.to_string(), older.id.to_string()]);

    let (_, body) = api.get("/api/runs?server=runs-a").await;
    assert_eq!(body.as_array().unwrap().len(), 1);

    let (status, body) = api.get(&format!("/api/runs/{}", newer.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["server_id"], "runs-b");
    assert_eq!(body["state"], "awaiting_approval");

    let unknown = RunId::new();
    let (status, body) = api.get(&format!("/api/runs/{unknown}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], format!("run {unknown} not found"));
}

#[tokio::test]
async fn openapi_lists_every_path() {
    let api = TestApi::start("openapi_lists_every_path").await;
    let (status, body) = api.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);

    let paths = body["paths"].as_object().unwrap();
    let expected = [
        ("/api/health", "get"),
        ("/api/servers", "get"),
        ("/api/issues", "get"),
        ("/api/issues/{id}", "get"),
        ("/api/issues/{id}/assessment", "get"),
        ("/api/issues/{id}/approve", "post"),
        ("/api/issues/{id}/skip", "post"),
        ("/api/issues/{id}/always-allow", "post"),
        ("/api/instructions", "get"),
        ("/api/instructions", "post"),
        ("/api/instructions/{id}/revoke", "post"),
        ("/api/timeline", "get"),
        ("/api/runs", "get"),
        ("/api/runs/{id}", "get"),
        ("/api/scenario/workloads", "get"),
        ("/api/scenario/workloads/{name}/start", "post"),
        ("/api/scenario/workloads/{name}/stop", "post"),
        ("/api/openapi.json", "get"),
        ("/api/session", "get"),
        ("/api/session", "post"),
        ("/api/session", "delete"),
    ];
    for (path, method) in expected {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is missing"
        );
    }
    assert_eq!(paths.len(), 18);

    let mut operation_ids: Vec<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    assert_eq!(operation_ids.len(), expected.len());
    operation_ids.sort();
    operation_ids.dedup();
    assert_eq!(
        operation_ids.len(),
        expected.len(),
        "operation ids must be unique"
    );

    let schemas = body["components"]["schemas"].as_object().unwrap();
    for schema in [
        "Issue",
        "ApprovalDecision",
        "Instruction",
        "GrantRequest",
        "ErrorBody",
        "ServerOverview",
        "TimelineEvent",
        "Run",
        "RiskAssessment",
        "Workload",
    ] {
        assert!(schemas.contains_key(schema), "schema {schema} is missing");
    }

    assert_eq!(
        body["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
