//! The lease sweeper: a run without progress fails and frees its server.

use chrono::{TimeDelta, Utc};
use contracts::{RunId, RunState, ServerId, TimelineEventKind};
use platform::{Platform, alerts::run_id_for, lock};

use crate::support::{advance, cpu_alert, platform, read_lock, read_run, register, suspend};

/// Opens a run on a new server.
async fn started_run(platform: &Platform, server: &str) -> (ServerId, RunId) {
    let server_id = register(platform, server).await;
    let alert = cpu_alert(&server_id);
    platform.handle_alert(&alert).await.unwrap();
    (server_id, run_id_for(&alert))
}

/// Makes the run look silent for `seconds` and lets the lock's lease run out.
async fn age(platform: &Platform, server_id: &ServerId, run_id: RunId, seconds: i64) {
    let control = platform.control();
    let silent_since = Utc::now() - TimeDelta::seconds(seconds);
    control
        .update_run(server_id, run_id, |run| {
            run.heartbeat_at = silent_since;
            true
        })
        .await
        .unwrap();
    let expired = Utc::now() - TimeDelta::seconds(1);
    lock::update_held(control, server_id, run_id, |lock| {
        lock.lease_until = Some(expired);
        true
    })
    .await
    .unwrap()
    .expect("the run holds the lock");
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_lease_fails_run_and_frees_lock() {
    let platform = platform("expired_lease").await;
    let control = platform.control();
    let (server_id, run_id) = started_run(&platform, "expired").await;
    advance(control, &server_id, run_id, &[RunState::Investigating]).await;
    age(&platform, &server_id, run_id, 130).await;

    let reclaimed = platform.sweep_once().await.unwrap();

    assert_eq!(reclaimed.len(), 1);
    assert_eq!(reclaimed[0].run_id, run_id);
    assert!(
        reclaimed[0]
            .reason
            .contains("no runner reported progress for 130 s")
    );
    let run = read_run(control, &server_id, run_id).await;
    assert_eq!(run.state, RunState::Failed);
    let failure = run.failure.expect("the failure has a reason");
    assert!(failure.contains("130 s"), "{failure}");
    assert!(read_lock(control, &server_id).await.is_none());
    let timeline = control.timeline(&server_id).await.unwrap();
    assert!(
        timeline
            .iter()
            .any(|event| event.kind == TimelineEventKind::Failed && event.run_id == Some(run_id))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unclaimed_queued_run_fails() {
    let platform = platform("unclaimed_queued").await;
    let control = platform.control();
    let (server_id, run_id) = started_run(&platform, "unclaimed").await;
    age(&platform, &server_id, run_id, 300).await;

    let reclaimed = platform.sweep_once().await.unwrap();

    assert_eq!(reclaimed.len(), 1);
    assert!(
        reclaimed[0].reason.contains("picked up"),
        "{}",
        reclaimed[0].reason
    );
    assert_eq!(
        read_run(control, &server_id, run_id).await.state,
        RunState::Failed
    );
    assert!(read_lock(control, &server_id).await.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn live_run_survives_sweep() {
    let platform = platform("live_run_sweep").await;
    let control = platform.control();
    let (server_id, run_id) = started_run(&platform, "live").await;
    advance(control, &server_id, run_id, &[RunState::Investigating]).await;

    let reclaimed = platform.sweep_once().await.unwrap();

    assert!(reclaimed.is_empty(), "{reclaimed:?}");
    let run = read_run(control, &server_id, run_id).await;
    assert_eq!(run.state, RunState::Investigating);
    assert_eq!(read_lock(control, &server_id).await.unwrap().run_id, run_id);
}

#[tokio::test(flavor = "multi_thread")]
async fn suspended_run_survives_sweep() {
    let platform = platform("suspended_sweep").await;
    let control = platform.control();
    let (server_id, run_id) = started_run(&platform, "waiting").await;
    suspend(&platform, &server_id, run_id).await;
    let long_ago = Utc::now() - TimeDelta::days(3);
    control
        .update_run(&server_id, run_id, |run| {
            run.heartbeat_at = long_ago;
            true
        })
        .await
        .unwrap();

    let reclaimed = platform.sweep_once().await.unwrap();

    assert!(reclaimed.is_empty(), "{reclaimed:?}");
    let run = read_run(control, &server_id, run_id).await;
    assert_eq!(run.state, RunState::AwaitingApproval);
    assert_eq!(read_lock(control, &server_id).await.unwrap().run_id, run_id);
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_takes_over_abandoned_lock() {
    let platform = platform("takes_over_abandoned").await;
    let control = platform.control();
    let (server_id, first_run) = started_run(&platform, "abandoned").await;
    advance(control, &server_id, first_run, &[RunState::Investigating]).await;
    age(&platform, &server_id, first_run, 200).await;

    let second = cpu_alert(&server_id);
    let outcome = platform.handle_alert(&second).await.unwrap();

    let run_id = run_id_for(&second);
    assert_eq!(outcome, platform::AlertOutcome::Dispatched { run_id });
    assert_eq!(read_lock(control, &server_id).await.unwrap().run_id, run_id);
    let abandoned = read_run(control, &server_id, first_run).await;
    assert_eq!(abandoned.state, RunState::Failed);
}
