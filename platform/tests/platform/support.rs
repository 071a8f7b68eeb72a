//! Shared setup: a control plane per test, servers, alerts and a stand-in for the runner.

use std::time::Duration;

use chrono::Utc;
use cluster::{ClusterKind, TempCluster};
use contracts::{
    Alert, AlertId, AlertSource, Approval, ApprovalDecision, Completion, CompletionOutcome,
    Decision, IssueId, MetricsSource, Run, RunId, RunState, Server, ServerId, Trigger,
};
use control::ControlPlane;
use platform::{Platform, PlatformConfig, ServerLock, lock};

/// Connects Platform Services to a fresh database named after the test.
pub async fn platform(test: &str) -> Platform {
    platform_with(test, PlatformConfig::default()).await
}

pub async fn platform_with(test: &str, config: PlatformConfig) -> Platform {
    let cluster = TempCluster::shared(ClusterKind::Control);
    let database = format!("platform_{test}");
    cluster.ensure_database(&database).await.unwrap();
    let url = cluster.connection_string(&database);
    let control = ControlPlane::connect_postgres(&url).await.unwrap();
    control.ensure_layout().await.unwrap();
    Platform::new(control, config)
}

/// Registers an enabled server whose data directory does not exist.
pub async fn register(platform: &Platform, id: &str) -> ServerId {
    let server = server(id, "/nonexistent");
    platform.control().register_server(&server).await.unwrap();
    server.id
}

pub fn server(id: &str, data_dir: &str) -> Server {
    Server {
        id: id.into(),
        endpoint: "127.0.0.1:5432/shop".to_string(),
        agent_enabled: true,
        vcores: 2,
        cpu_threshold_pct: 80.0,
        metrics: MetricsSource::LocalProcess {
            data_dir: data_dir.to_string(),
        },
        registered_at: Utc::now(),
    }
}

pub fn cpu_alert(server_id: &ServerId) -> Alert {
    Alert {
        id: AlertId::new(),
        server_id: server_id.clone(),
        source: AlertSource::CpuMonitor,
        metric: "cpu_percent".to_string(),
        value: 97.0,
        threshold: 80.0,
        window_seconds: 30,
        fired_at: Utc::now(),
        over_threshold_since: None,
    }
}

/// Receives and completes every trigger on the queue.
pub async fn drain_triggers(control: &ControlPlane) -> Vec<Trigger> {
    let mut triggers = Vec::new();
    loop {
        let batch = control
            .receive::<Trigger>(10, Duration::from_millis(200))
            .await
            .unwrap();
        if batch.is_empty() {
            return triggers;
        }
        for received in batch {
            control.complete(&received).await.unwrap();
            triggers.push(received.envelope.payload);
        }
    }
}

pub async fn read_lock(control: &ControlPlane, server_id: &ServerId) -> Option<ServerLock> {
    let lock = lock::read(control, server_id).await.unwrap();
    lock.map(|versioned| versioned.value)
}

pub async fn read_run(control: &ControlPlane, server_id: &ServerId, run_id: RunId) -> Run {
    control.run(server_id, run_id).await.unwrap().value
}

/// Moves a run through `states` as a runner would.
pub async fn advance(
    control: &ControlPlane,
    server_id: &ServerId,
    run_id: RunId,
    states: &[RunState],
) {
    control
        .update_run(server_id, run_id, |run| {
            for &state in states {
                run.advance(state, Utc::now(), "test step").unwrap();
            }
            true
        })
        .await
        .unwrap();
}

/// Plays the runner up to suspension: opens an issue on the run, moves it to awaiting
/// approval and reports the suspension. Returns the issue id.
pub async fn suspend(platform: &Platform, server_id: &ServerId, run_id: RunId) -> IssueId {
    let control = platform.control();
    let issue_id = IssueId::new();
    let states = [RunState::Investigating, RunState::AwaitingApproval];
    advance(control, server_id, run_id, &states).await;
    control
        .update_run(server_id, run_id, |run| {
            run.issue_id = Some(issue_id);
            true
        })
        .await
        .unwrap();
    let outcome = CompletionOutcome::Suspended { issue_id };
    complete(platform, server_id, run_id, outcome).await;
    issue_id
}

/// Sends a completion and lets Platform Services handle the queue.
pub async fn complete(
    platform: &Platform,
    server_id: &ServerId,
    run_id: RunId,
    outcome: CompletionOutcome,
) {
    let completion = Completion {
        run_id,
        server_id: server_id.clone(),
        outcome,
    };
    platform.control().send(run_id, completion).await.unwrap();
    let handled = platform
        .handle_completions_once(Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(handled, 1, "the completion should be received");
}

pub fn approval(run_id: RunId, issue_id: IssueId) -> Approval {
    Approval {
        decision: ApprovalDecision {
            run_id,
            issue_id,
            decision: Decision::Approve,
            decided_by: "dba@example.com".to_string(),
            decided_at: Utc::now(),
        },
    }
}
