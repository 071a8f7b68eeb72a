//! A runner killed while its run waits for approval loses nothing: after a new runner starts,
//! the approval resumes the run from the store.

mod support;

use std::time::Duration;

use contracts::{IssueStatus, RunState};
use control::ControlPlane;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use support::{Stack, cluster};

const ORDERS: &str = "500000";

fn component_pid(status: &Value, name: &str) -> Option<i32> {
    status["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|component| component["name"] == name)
        .map(|component| component["pid"].as_i64().unwrap() as i32)
}

async fn wait_for<T, F, Fut>(description: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..150 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    panic!("timed out waiting for {description}");
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_runner_loses_no_suspended_run() {
    let stack = Stack::new();
    stack.up(ORDERS);
    let status = stack.status();
    let control_dsn = cluster(&status, "control")["connection_string"]
        .as_str()
        .unwrap()
        .to_string();
    let control = ControlPlane::connect_postgres(&control_dsn).await.unwrap();
    let server = "local-target".into();

    stack.run_ok(&["workload", "start", "orders-by-customer"]);
    let issue = wait_for("an issue awaiting approval", || async {
        let issues = control.issues(&server).await.unwrap();
        issues
            .into_iter()
            .find(|issue| issue.status == IssueStatus::AwaitingApproval)
    })
    .await;

    let runner = component_pid(&status, "runner").expect("a runner runs");
    kill(Pid::from_raw(runner), Signal::SIGKILL).unwrap();
    let restarted = stack.up(ORDERS);
    assert!(restarted.contains("Component runner"), "{restarted}");
    let after_restart = stack.status();
    assert_ne!(component_pid(&after_restart, "runner"), Some(runner));
    assert_eq!(
        component_pid(&after_restart, "api"),
        component_pid(&status, "api")
    );

    let (url, token) = api_endpoint(&stack);
    let response = reqwest::Client::new()
        .post(format!("{url}/api/issues/{}/approve", issue.id))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "actor": "sre@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::ACCEPTED);

    let resolved = wait_for("the issue to close", || async {
        let current = control.issue(&server, issue.id).await.unwrap();
        current.status.is_closed().then_some(current)
    })
    .await;
    stack.run_ok(&["workload", "stop"]);

    assert_eq!(
        resolved.status,
        IssueStatus::Resolved,
        "{:?}",
        resolved.resolution
    );
    let run = control.run(&server, issue.run_id).await.unwrap().value;
    assert_eq!(run.state, RunState::Completed);
}

fn api_endpoint(stack: &Stack) -> (String, String) {
    let url = std::fs::read_to_string(stack.state_dir.join("api-url")).unwrap();
    let token = std::fs::read_to_string(stack.state_dir.join("api-token")).unwrap();
    (url.trim().to_string(), token.trim().to_string())
}
