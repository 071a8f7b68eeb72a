//! A failed run that names a follow-up run passes the server's lock to it, so that a decision
//! on the follow-up's issue resumes it as it resumes any suspended run.

use chrono::Utc;
use contracts::{CompletionOutcome, IssueId, Run, RunId, RunState, ServerId, TriggerKind};
use control::ControlPlane;
use platform::{ApprovalOutcome, LockChange, Platform, alerts::run_id_for};

use crate::support::{advance, approval, cpu_alert, drain_triggers, platform, read_lock, register};

/// Opens a run on a new server, takes its start trigger off the queue and moves it to
/// verifying, where a build without gain fails.
async fn verifying_run(platform: &Platform, server: &str) -> (ServerId, Run) {
    let server_id = register(platform, server).await;
    let alert = cpu_alert(&server_id);
    platform.handle_alert(&alert).await.unwrap();
    drain_triggers(platform.control()).await;
    let run_id = run_id_for(&alert);
    let states = [
        RunState::Investigating,
        RunState::AwaitingApproval,
        RunState::Executing,
        RunState::Verifying,
        RunState::Failed,
    ];
    advance(platform.control(), &server_id, run_id, &states).await;
    let run = platform.control().run(&server_id, run_id).await.unwrap();
    (server_id, run.value)
}

/// Stores a follow-up run of `first` that waits for a decision on a new issue.
async fn follow_up_run(control: &ControlPlane, first: &Run) -> Run {
    let now = Utc::now();
    let run = Run {
        id: RunId::new(),
        server_id: first.server_id.clone(),
        alert_id: first.alert_id,
        state: RunState::AwaitingApproval,
        issue_id: Some(IssueId::new()),
        steps: Vec::new(),
        failure: None,
        heartbeat_at: now,
        instruction_id: None,
        build_progress: None,
        over_threshold_since: None,
        created_at: now,
        updated_at: now,
    };
    assert!(control.create_run(&run).await.unwrap());
    run
}

fn failed_with(first: &Run, follow_up: &Run) -> contracts::Completion {
    contracts::Completion {
        run_id: first.id,
        server_id: first.server_id.clone(),
        outcome: CompletionOutcome::Failed {
            reason: "the index brought no gain".to_string(),
            follow_up_run_id: Some(follow_up.id),
        },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_up_takes_lock_and_resumes_on_approval() {
    let platform = platform("follow_up_takes_lock").await;
    let control = platform.control();
    let (server_id, first) = verifying_run(&platform, "follow-up").await;
    let next = follow_up_run(control, &first).await;

    let change = platform
        .handle_completion(&failed_with(&first, &next))
        .await
        .unwrap();

    assert_eq!(change, LockChange::HandedOver { to: next.id });
    let lock = read_lock(control, &server_id).await.unwrap();
    assert_eq!(lock.run_id, next.id);
    assert_eq!(lock.lease_until, None, "a suspended follow-up has no lease");
    assert!(drain_triggers(control).await.is_empty());

    let outcome = platform
        .handle_approval(&approval(next.id, next.issue_id.unwrap()))
        .await
        .unwrap();

    assert_eq!(outcome, ApprovalOutcome::Resumed);
    let triggers = drain_triggers(control).await;
    assert_eq!(triggers.len(), 1);
    assert_eq!(triggers[0].run_id, next.id);
    assert_eq!(triggers[0].kind, TriggerKind::Resume);
}

#[tokio::test(flavor = "multi_thread")]
async fn decision_before_handover_resumes_follow_up() {
    let platform = platform("follow_up_early_decision").await;
    let control = platform.control();
    let (server_id, first) = verifying_run(&platform, "early-decision").await;
    let next = follow_up_run(control, &first).await;
    // A person approved before the lock was the follow-up's, so the approval was ignored.
    let early = approval(next.id, next.issue_id.unwrap());
    assert!(
        control
            .record_decision(&server_id, &early.decision)
            .await
            .unwrap()
    );

    platform
        .handle_completion(&failed_with(&first, &next))
        .await
        .unwrap();

    let triggers = drain_triggers(control).await;
    assert_eq!(triggers.len(), 1);
    assert_eq!(triggers[0].run_id, next.id);
    let lock = read_lock(control, &server_id).await.unwrap();
    assert_eq!(lock.run_id, next.id);
    assert!(
        lock.lease_until.is_some(),
        "a resumed follow-up has a lease"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn finished_follow_up_gets_no_lock() {
    let platform = platform("follow_up_finished").await;
    let control = platform.control();
    let (server_id, first) = verifying_run(&platform, "finished").await;
    let next = follow_up_run(control, &first).await;
    advance(control, &server_id, next.id, &[RunState::Completed]).await;

    let change = platform
        .handle_completion(&failed_with(&first, &next))
        .await
        .unwrap();

    assert_eq!(change, LockChange::Released);
    assert!(read_lock(control, &server_id).await.is_none());
}
