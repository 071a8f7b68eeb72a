//! Completions and approvals: the lock follows the run, and a decision resumes it once.

use std::time::Duration;

use contracts::{CompletionOutcome, IssueId, RunId, RunState, ServerId, TriggerKind};
use platform::{ApprovalOutcome, LockChange, Platform, alerts::run_id_for};

use crate::support::{
    advance, approval, complete, cpu_alert, drain_triggers, platform, read_lock, register, suspend,
};

/// Opens a run on a new server and takes its start trigger off the queue.
async fn started_run(platform: &Platform, server: &str) -> (ServerId, RunId) {
    let server_id = register(platform, server).await;
    let alert = cpu_alert(&server_id);
    platform.handle_alert(&alert).await.unwrap();
    drain_triggers(platform.control()).await;
    (server_id, run_id_for(&alert))
}

#[tokio::test(flavor = "multi_thread")]
async fn suspended_run_keeps_lock_without_lease() {
    let platform = platform("suspended_keeps_lock").await;
    let (server_id, run_id) = started_run(&platform, "suspended").await;

    suspend(&platform, &server_id, run_id).await;

    let lock = read_lock(platform.control(), &server_id).await.unwrap();
    assert_eq!(lock.run_id, run_id);
    assert_eq!(lock.lease_until, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn late_suspension_keeps_lease() {
    let platform = platform("late_suspension").await;
    let control = platform.control();
    let (server_id, run_id) = started_run(&platform, "late").await;
    let states = [
        RunState::Investigating,
        RunState::AwaitingApproval,
        RunState::Executing,
    ];
    advance(control, &server_id, run_id, &states).await;
    let completion = contracts::Completion {
        run_id,
        server_id: server_id.clone(),
        outcome: CompletionOutcome::Suspended {
            issue_id: contracts::IssueId::new(),
        },
    };

    let change = platform.handle_completion(&completion).await.unwrap();

    assert_eq!(change, LockChange::LeaseKept);
    let lock = read_lock(control, &server_id).await.unwrap();
    assert!(lock.lease_until.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn completed_run_releases_lock() {
    let platform = platform("completed_releases").await;
    let control = platform.control();
    let (server_id, run_id) = started_run(&platform, "completed").await;
    let states = [RunState::Investigating, RunState::Completed];
    advance(control, &server_id, run_id, &states).await;
    let completion = contracts::Completion {
        run_id,
        server_id: server_id.clone(),
        outcome: CompletionOutcome::Completed { issue_id: None },
    };

    let first = platform.handle_completion(&completion).await.unwrap();
    let second = platform.handle_completion(&completion).await.unwrap();

    assert_eq!(first, LockChange::Released);
    assert_eq!(second, LockChange::NotHeld);
    assert!(read_lock(control, &server_id).await.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_run_releases_lock() {
    let platform = platform("failed_releases").await;
    let (server_id, run_id) = started_run(&platform, "failed").await;
    let outcome = CompletionOutcome::Failed {
        reason: "target unreachable".to_string(),
        follow_up_run_id: None,
    };

    complete(&platform, &server_id, run_id, outcome).await;

    assert!(read_lock(platform.control(), &server_id).await.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn completion_of_other_run_keeps_lock() {
    let platform = platform("other_run_completion").await;
    let (server_id, run_id) = started_run(&platform, "other-run").await;
    let completion = contracts::Completion {
        run_id: RunId::new(),
        server_id: server_id.clone(),
        outcome: CompletionOutcome::Completed { issue_id: None },
    };

    let change = platform.handle_completion(&completion).await.unwrap();

    assert_eq!(change, LockChange::NotHeld);
    let lock = read_lock(platform.control(), &server_id).await.unwrap();
    assert_eq!(lock.run_id, run_id);
}

#[tokio::test(flavor = "multi_thread")]
async fn approval_resumes_suspended_run() {
    let platform = platform("approval_resumes").await;
    let control = platform.control();
    let (server_id, run_id) = started_run(&platform, "resumes").await;
    let issue_id = suspend(&platform, &server_id, run_id).await;

    control
        .send(run_id, approval(run_id, issue_id))
        .await
        .unwrap();
    let handled = platform
        .handle_approvals_once(Duration::from_secs(2))
        .await
        .unwrap();

    assert_eq!(handled, 1);
    let triggers = drain_triggers(control).await;
    assert_eq!(triggers.len(), 1);
    assert_eq!(triggers[0].run_id, run_id);
    assert_eq!(triggers[0].kind, TriggerKind::Resume);
    let lock = read_lock(control, &server_id).await.unwrap();
    assert_eq!(lock.run_id, run_id);
    assert!(
        lock.lease_until.is_some(),
        "a resumed run has a lease again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn same_approval_twice_resumes_once() {
    let platform = platform("approval_twice").await;
    let control = platform.control();
    let (server_id, run_id) = started_run(&platform, "approved-twice").await;
    let issue_id = suspend(&platform, &server_id, run_id).await;
    let approval = approval(run_id, issue_id);

    let first = platform.handle_approval(&approval).await.unwrap();
    let second = platform.handle_approval(&approval).await.unwrap();

    assert_eq!(first, ApprovalOutcome::Resumed);
    assert_eq!(second, ApprovalOutcome::Resumed);
    let triggers = drain_triggers(control).await;
    assert_eq!(triggers.len(), 1);
    assert_eq!(triggers[0].kind, TriggerKind::Resume);
}

#[tokio::test(flavor = "multi_thread")]
async fn approval_for_running_run_is_ignored() {
    let platform = platform("approval_running").await;
    let control = platform.control();
    let (server_id, run_id) = started_run(&platform, "running").await;
    advance(control, &server_id, run_id, &[RunState::Investigating]).await;

    let outcome = platform
        .handle_approval(&approval(run_id, IssueId::new()))
        .await
        .unwrap();

    let ApprovalOutcome::Ignored { reason } = outcome else {
        panic!("expected the approval to be ignored, got {outcome:?}");
    };
    assert!(reason.contains("Investigating"), "{reason}");
    assert!(drain_triggers(control).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn approval_for_other_issue_is_ignored() {
    let platform = platform("approval_other_issue").await;
    let control = platform.control();
    let (server_id, run_id) = started_run(&platform, "other-issue").await;
    suspend(&platform, &server_id, run_id).await;

    let outcome = platform
        .handle_approval(&approval(run_id, IssueId::new()))
        .await
        .unwrap();

    assert!(
        matches!(outcome, ApprovalOutcome::Ignored { .. }),
        "{outcome:?}"
    );
    assert!(drain_triggers(control).await.is_empty());
    let lock = read_lock(control, &server_id).await.unwrap();
    assert_eq!(lock.lease_until, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn approval_for_unknown_run_is_completed() {
    let platform = platform("approval_unknown_run").await;
    let control = platform.control();
    register(&platform, "unknown-run").await;
    let run_id = RunId::new();
    control
        .send(run_id, approval(run_id, IssueId::new()))
        .await
        .unwrap();

    let handled = platform
        .handle_approvals_once(Duration::from_secs(2))
        .await
        .unwrap();
    let again = platform
        .handle_approvals_once(Duration::from_millis(200))
        .await
        .unwrap();

    assert_eq!(handled, 1);
    assert_eq!(again, 0, "an ignored approval is completed, not retried");
    assert!(drain_triggers(control).await.is_empty());
}
