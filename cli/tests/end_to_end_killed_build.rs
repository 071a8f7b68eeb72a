//! A runner killed with SIGKILL in the middle of an index build. The server stops the build
//! when it notices the lost connection, and a restarted runner drops the INVALID index it
//! left. The run ends with the table's locks released.

mod support;

use std::time::Duration;

use contracts::{IssueStatus, ProposedAction, TimelineEventKind};
use control::ControlPlane;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use support::{Stack, cluster};
use tokio_postgres::{Client, NoTls};

const ORDERS: &str = "500000";

fn component_pid(status: &Value, name: &str) -> i32 {
    status["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|component| component["name"] == name)
        .map(|component| component["pid"].as_i64().unwrap() as i32)
        .unwrap_or_else(|| panic!("no {name} component in {status}"))
}

async fn wait_for<T, F, Fut>(description: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    // Short polls, because the build waits only for its lock_timeout before it gives up.
    for _ in 0..1500 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {description}");
}

async fn connect(dsn: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(dsn, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Returns whether the index exists and, if so, whether it is valid.
async fn index_state(client: &Client, name: &str) -> Option<bool> {
    client
        .query_opt(
            "SELECT i.indisvalid FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid
             WHERE c.relname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .map(|row| row.get(0))
}

/// Counts the locks on `orders` stronger than the readers' `AccessShareLock`, held or awaited
/// by client sessions other than this one. Autovacuum is left out.
async fn strong_locks_on_orders(client: &Client) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_locks l
             JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.relation = 'orders'::regclass AND l.mode <> 'AccessShareLock'
               AND a.backend_type = 'client backend' AND l.pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

fn api_endpoint(stack: &Stack) -> (String, String) {
    let url = std::fs::read_to_string(stack.state_dir.join("api-url")).unwrap();
    let token = std::fs::read_to_string(stack.state_dir.join("api-token")).unwrap();
    (url.trim().to_string(), token.trim().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_build_leaves_no_invalid_index() {
    let stack = Stack::new();
    stack.up(ORDERS);
    let status = stack.status();
    let control_dsn = cluster(&status, "control")["connection_string"]
        .as_str()
        .unwrap()
        .to_string();
    let target_dsn = cluster(&status, "target")["connection_string"]
        .as_str()
        .unwrap()
        .to_string();
    let control = ControlPlane::connect_postgres(&control_dsn).await.unwrap();
    let target = connect(&target_dsn).await;
    let server = "local-target".into();

    stack.run_ok(&["workload", "start", "orders-by-customer"]);
    let issue = wait_for("an issue awaiting approval", || async {
        let issues = control.issues(&server).await.unwrap();
        issues
            .into_iter()
            .find(|issue| issue.status == IssueStatus::AwaitingApproval)
    })
    .await;
    let Some(ProposedAction::CreateIndex(action)) = issue.proposed_action.clone() else {
        panic!("no index proposed: {}", issue.summary);
    };

    // An open write makes the build wait in its first phase, after the INVALID index entry
    // exists, until this transaction ends or the build's lock_timeout passes. The lock takes
    // no snapshot, so the runner's check for old snapshots lets the build start.
    let writer = connect(&target_dsn).await;
    writer
        .batch_execute("BEGIN; LOCK TABLE orders IN ROW EXCLUSIVE MODE")
        .await
        .unwrap();
    let (url, token) = api_endpoint(&stack);
    let response = reqwest::Client::new()
        .post(format!("{url}/api/issues/{}/approve", issue.id))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "actor": "sre@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::ACCEPTED);
    wait_for("the build to start", || async {
        (index_state(&target, &action.index_name).await == Some(false)).then_some(())
    })
    .await;

    kill(
        Pid::from_raw(component_pid(&status, "runner")),
        Signal::SIGKILL,
    )
    .unwrap();
    // The server ends the build's backend once it notices the lost client.
    wait_for("the build's locks to be released", || async {
        (strong_locks_on_orders(&target).await == 1).then_some(())
    })
    .await;
    writer.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(index_state(&target, &action.index_name).await, Some(false));

    let restarted = stack.up(ORDERS);
    assert!(restarted.contains("Component runner"), "{restarted}");
    let closed = wait_for("the issue to close", || async {
        let current = control.issue(&server, issue.id).await.unwrap();
        current.status.is_closed().then_some(current)
    })
    .await;
    stack.run_ok(&["workload", "stop"]);
    eprintln!(
        "issue closed as {:?}: {:?}",
        closed.status,
        closed
            .resolution
            .as_ref()
            .map(|resolution| &resolution.path)
    );

    let events = control.timeline(&server).await.unwrap();
    let dropped = events
        .iter()
        .find(|event| event.kind == TimelineEventKind::LeftoverDropped);
    assert!(dropped.is_some(), "no dropped leftover on the timeline");
    let state = index_state(&target, &action.index_name).await;
    assert_ne!(state, Some(false), "an INVALID index is left");
    if closed.status == IssueStatus::Resolved {
        assert_eq!(state, Some(true));
    } else {
        assert_eq!(
            closed.status,
            IssueStatus::Failed,
            "{:?}",
            closed.resolution
        );
    }
    wait_for("the run to end", || async {
        let run = control.run(&server, issue.run_id).await.unwrap().value;
        run.state.is_terminal().then_some(())
    })
    .await;
    assert_eq!(strong_locks_on_orders(&target).await, 0);
}
