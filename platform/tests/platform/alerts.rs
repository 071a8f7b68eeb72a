use contracts::{Alert, CompletionOutcome, RunState, TimelineEventKind, TriggerKind};
use control::layout;
use platform::{AlertOutcome, alerts::run_id_for};
use store::DocumentStoreExt;

use crate::support::{
    advance, complete, cpu_alert, drain_triggers, platform, read_lock, read_run, register,
};

#[tokio::test(flavor = "multi_thread")]
async fn alert_queues_run_with_lock_and_trigger() {
    let platform = platform("alert_queues_run").await;
    let control = platform.control();
    let server_id = register(&platform, "queues-run").await;
    let alert = cpu_alert(&server_id);
    let run_id = run_id_for(&alert);

    let outcome = platform.handle_alert(&alert).await.unwrap();

    assert_eq!(outcome, AlertOutcome::Dispatched { run_id });
    let run = read_run(control, &server_id, run_id).await;
    assert_eq!(run.state, RunState::Queued);
    assert_eq!(run.alert_id, alert.id);
    let lock = read_lock(control, &server_id)
        .await
        .expect("the lock is held");
    assert_eq!(lock.run_id, run_id);
    assert_eq!(lock.alert_id, alert.id);
    assert!(lock.lease_until.is_some());
    let triggers = drain_triggers(control).await;
    assert_eq!(triggers.len(), 1);
    assert_eq!(triggers[0].run_id, run_id);
    assert_eq!(triggers[0].server_id, server_id);
    assert_eq!(triggers[0].kind, TriggerKind::Start);
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_is_stored_with_timeline() {
    let platform = platform("alert_is_stored").await;
    let control = platform.control();
    let server_id = register(&platform, "stored").await;
    let alert = cpu_alert(&server_id);

    platform.handle_alert(&alert).await.unwrap();

    let stored = control
        .store
        .read_typed::<Alert>(layout::ALERTS, &server_id.0, &alert.id.to_string())
        .await
        .unwrap();
    assert_eq!(stored.value, alert);
    let timeline = control.timeline(&server_id).await.unwrap();
    let kinds: Vec<_> = timeline.iter().map(|event| event.kind).collect();
    assert_eq!(
        kinds,
        [TimelineEventKind::AlertFired, TimelineEventKind::RunStarted]
    );
    assert_eq!(timeline[0].message, "CPU 97 % over 30 s (threshold 80 %)");
    assert_eq!(timeline[0].run_id, Some(run_id_for(&alert)));
}

#[tokio::test(flavor = "multi_thread")]
async fn same_alert_twice_opens_one_run() {
    let platform = platform("same_alert_twice").await;
    let control = platform.control();
    let server_id = register(&platform, "twice").await;
    let alert = cpu_alert(&server_id);

    let first = platform.handle_alert(&alert).await.unwrap();
    let second = platform.handle_alert(&alert).await.unwrap();

    assert_eq!(first, second);
    assert_eq!(control.runs(&server_id).await.unwrap().len(), 1);
    assert_eq!(control.timeline(&server_id).await.unwrap().len(), 2);
    assert_eq!(drain_triggers(control).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_alert_after_progress_sends_nothing() {
    let platform = platform("repeat_after_progress").await;
    let control = platform.control();
    let server_id = register(&platform, "progress").await;
    let alert = cpu_alert(&server_id);
    let run_id = run_id_for(&alert);
    platform.handle_alert(&alert).await.unwrap();
    drain_triggers(control).await;
    advance(control, &server_id, run_id, &[RunState::Investigating]).await;

    let outcome = platform.handle_alert(&alert).await.unwrap();

    assert_eq!(outcome, AlertOutcome::AlreadyHandled { run_id });
    assert!(drain_triggers(control).await.is_empty());
    let run = read_run(control, &server_id, run_id).await;
    assert_eq!(run.state, RunState::Investigating);
}

#[tokio::test(flavor = "multi_thread")]
async fn second_alert_while_locked_opens_no_run() {
    let platform = platform("second_alert_locked").await;
    let control = platform.control();
    let server_id = register(&platform, "locked").await;
    let first = cpu_alert(&server_id);
    platform.handle_alert(&first).await.unwrap();

    let outcome = platform.handle_alert(&cpu_alert(&server_id)).await.unwrap();

    let holder = run_id_for(&first);
    assert_eq!(outcome, AlertOutcome::ServerBusy { holder });
    assert_eq!(control.runs(&server_id).await.unwrap().len(), 1);
    assert_eq!(read_lock(control, &server_id).await.unwrap().run_id, holder);
    assert_eq!(drain_triggers(control).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn unregistered_server_alert_is_rejected() {
    let platform = platform("unregistered_server").await;
    let control = platform.control();
    let server_id = "never-registered".into();

    let outcome = platform.handle_alert(&cpu_alert(&server_id)).await.unwrap();

    let AlertOutcome::Rejected { reason } = outcome else {
        panic!("expected a rejection, got {outcome:?}");
    };
    assert!(reason.contains("not registered"), "{reason}");
    assert!(control.runs(&server_id).await.unwrap().is_empty());
    assert!(read_lock(control, &server_id).await.is_none());
    assert!(drain_triggers(control).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn disabled_server_alert_is_rejected() {
    let platform = platform("disabled_server").await;
    let control = platform.control();
    let mut server = crate::support::server("disabled", "/nonexistent");
    server.agent_enabled = false;
    control.register_server(&server).await.unwrap();

    let outcome = platform.handle_alert(&cpu_alert(&server.id)).await.unwrap();

    let AlertOutcome::Rejected { reason } = outcome else {
        panic!("expected a rejection, got {outcome:?}");
    };
    assert!(reason.contains("disabled"), "{reason}");
    assert!(control.runs(&server.id).await.unwrap().is_empty());
    assert!(read_lock(control, &server.id).await.is_none());
    assert!(drain_triggers(control).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_after_release_opens_new_run() {
    let platform = platform("alert_after_release").await;
    let control = platform.control();
    let server_id = register(&platform, "after-release").await;
    let first = cpu_alert(&server_id);
    platform.handle_alert(&first).await.unwrap();
    let first_run = run_id_for(&first);
    let states = [RunState::Investigating, RunState::Completed];
    advance(control, &server_id, first_run, &states).await;
    let outcome = CompletionOutcome::Completed { issue_id: None };
    complete(&platform, &server_id, first_run, outcome).await;

    let second = cpu_alert(&server_id);
    let outcome = platform.handle_alert(&second).await.unwrap();

    let run_id = run_id_for(&second);
    assert_eq!(outcome, AlertOutcome::Dispatched { run_id });
    assert_eq!(read_lock(control, &server_id).await.unwrap().run_id, run_id);
    assert_eq!(control.runs(&server_id).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn finished_holder_lock_is_taken_over() {
    let platform = platform("finished_holder").await;
    let control = platform.control();
    let server_id = register(&platform, "finished-holder").await;
    let first = cpu_alert(&server_id);
    platform.handle_alert(&first).await.unwrap();
    // The run completes, but its completion never reaches Platform Services.
    let states = [RunState::Investigating, RunState::Completed];
    advance(control, &server_id, run_id_for(&first), &states).await;

    let second = cpu_alert(&server_id);
    let outcome = platform.handle_alert(&second).await.unwrap();

    let run_id = run_id_for(&second);
    assert_eq!(outcome, AlertOutcome::Dispatched { run_id });
    assert_eq!(read_lock(control, &server_id).await.unwrap().run_id, run_id);
    let first_run = read_run(control, &server_id, run_id_for(&first)).await;
    assert_eq!(first_run.state, RunState::Completed);
}
