//! The control plane's typed records and messages against a real control cluster.

use std::time::Duration;

use chrono::{DateTime, Utc};
use cluster::{ClusterKind, TempCluster};
use contracts::{
    AlertId, ApprovalDecision, CpuSample, Decision, IssueId, MetricsSource, Run, RunId, RunState,
    Server, ServerId, TimelineEvent, TimelineEventKind, Trigger, TriggerKind,
};
use control::{ControlPlane, layout, servers::MAX_SAMPLES, timeline::event_key};

async fn control_plane() -> ControlPlane {
    let cluster = TempCluster::shared(ClusterKind::Control);
    cluster.ensure_database("control_tests").await.unwrap();
    let control = ControlPlane::connect_postgres(&cluster.connection_string("control_tests"))
        .await
        .unwrap();
    control.ensure_layout().await.unwrap();
    control
}

fn server(id: &str) -> Server {
    Server {
        id: id.into(),
        endpoint: "127.0.0.1:5432/shop".to_string(),
        agent_enabled: true,
        vcores: 2,
        cpu_threshold_pct: 80.0,
        metrics: MetricsSource::LocalProcess {
            data_dir: "/nonexistent".to_string(),
        },
        registered_at: Utc::now(),
    }
}

fn queued_run(server_id: &ServerId) -> Run {
    let now = Utc::now();
    Run {
        id: RunId::new(),
        server_id: server_id.clone(),
        alert_id: AlertId::new(),
        state: RunState::Queued,
        issue_id: None,
        steps: Vec::new(),
        failure: None,
        heartbeat_at: now,
        instruction_id: None,
        build_progress: None,
        over_threshold_since: None,
        created_at: now,
        updated_at: now,
    }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", RunId::new())
}

#[tokio::test(flavor = "multi_thread")]
async fn servers_are_listed_after_registration() {
    let control = control_plane().await;
    let id = unique("listed");

    control.register_server(&server(&id)).await.unwrap();

    let listed = control.servers().await.unwrap();
    assert!(listed.iter().any(|server| server.id.0 == id));
    assert_eq!(control.server(&id.as_str().into()).await.unwrap().vcores, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn cpu_samples_keep_the_newest() {
    let control = control_plane().await;
    let id: ServerId = unique("samples").as_str().into();

    for second in 0..(MAX_SAMPLES as i64 + 5) {
        let at = DateTime::from_timestamp(1_800_000_000 + second, 0).unwrap();
        let sample = CpuSample {
            at,
            cpu_pct: second as f64,
        };
        control.record_cpu_sample(&id, sample).await.unwrap();
    }

    let status = control.server_status(&id).await.unwrap();
    assert_eq!(status.samples.len(), MAX_SAMPLES);
    assert_eq!(status.samples[0].cpu_pct, 5.0);
    assert_eq!(status.latest().unwrap().cpu_pct, (MAX_SAMPLES + 4) as f64);
}

#[tokio::test(flavor = "multi_thread")]
async fn run_creation_is_idempotent() {
    let control = control_plane().await;
    let run = queued_run(&unique("runs").as_str().into());

    assert!(control.create_run(&run).await.unwrap());
    assert!(!control.create_run(&run).await.unwrap());

    assert_eq!(control.runs(&run.server_id).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_updates_all_apply() {
    let control = control_plane().await;
    let run = queued_run(&unique("updates").as_str().into());
    control.create_run(&run).await.unwrap();

    let mut updates = tokio::task::JoinSet::new();
    for step in 0..6 {
        let control = control.clone();
        let server_id = run.server_id.clone();
        updates.spawn(async move {
            control
                .update_run(&server_id, run.id, |run| {
                    run.steps.push(contracts::RunStep {
                        at: Utc::now(),
                        state: RunState::Queued,
                        message: format!("step {step}"),
                    });
                    true
                })
                .await
        });
    }
    for result in updates.join_all().await {
        result.unwrap();
    }

    let stored = control.run(&run.server_id, run.id).await.unwrap().value;
    assert_eq!(stored.steps.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn second_decision_is_rejected() {
    let control = control_plane().await;
    let server_id: ServerId = unique("decisions").as_str().into();
    let decision = ApprovalDecision {
        run_id: RunId::new(),
        issue_id: IssueId::new(),
        decision: Decision::Approve,
        decided_by: "dba".to_string(),
        decided_at: Utc::now(),
    };
    let mut skip = decision.clone();
    skip.decision = Decision::Skip;

    assert!(
        control
            .record_decision(&server_id, &decision)
            .await
            .unwrap()
    );
    assert!(!control.record_decision(&server_id, &skip).await.unwrap());

    let stored = control
        .decision(&server_id, decision.issue_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.decision, Decision::Approve);
}

#[tokio::test(flavor = "multi_thread")]
async fn timeline_keeps_one_event_per_key() {
    let control = control_plane().await;
    let server_id: ServerId = unique("timeline").as_str().into();
    let run_id = RunId::new();
    let event = TimelineEvent {
        at: Utc::now(),
        server_id: server_id.clone(),
        run_id: Some(run_id),
        issue_id: None,
        kind: TimelineEventKind::AlertFired,
        message: "CPU 97 % over 30 s".to_string(),
    };
    let key = event_key(run_id, TimelineEventKind::AlertFired);

    assert!(control.append_event(&key, &event).await.unwrap());
    assert!(!control.append_event(&key, &event).await.unwrap());

    assert_eq!(control.timeline(&server_id).await.unwrap().len(), 1);
    assert!(key.ends_with(".alert_fired"), "{key}");
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_trigger_is_delivered_once() {
    let control = control_plane().await;
    let run_id = RunId::new();
    let trigger = Trigger {
        run_id,
        server_id: "messages".into(),
        kind: TriggerKind::Start,
    };

    control.send(run_id, trigger.clone()).await.unwrap();
    let second = control.send(run_id, trigger.clone()).await.unwrap();
    assert_eq!(second, bus::SendOutcome::Duplicate);

    let mut mine = Vec::new();
    for _ in 0..20 {
        for received in control
            .receive::<Trigger>(10, Duration::from_millis(200))
            .await
            .unwrap()
        {
            control.complete(&received).await.unwrap();
            if received.envelope.correlation_id == run_id {
                mine.push(received.envelope.payload);
            }
        }
        if !mine.is_empty() {
            break;
        }
    }
    assert_eq!(mine, vec![trigger]);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_message_is_dead_lettered() {
    let control = control_plane().await;
    let queue = layout::APPROVALS;
    let message_id = unique("garbage");
    let message = bus::OutgoingMessage::new(message_id.clone(), "not json");
    control.bus.send(queue, message).await.unwrap();

    for _ in 0..20 {
        let received = control
            .receive::<contracts::Approval>(10, Duration::from_millis(200))
            .await
            .unwrap();
        for message in &received {
            control.complete(message).await.unwrap();
        }
        let dead = control
            .bus
            .receive(
                &bus::dead_letter_queue_name(queue),
                10,
                Duration::from_millis(200),
            )
            .await
            .unwrap();
        if let Some(found) = dead
            .iter()
            .find(|delivery| delivery.message_id == message_id)
        {
            assert_eq!(
                found.dead_letter_reason.as_deref(),
                Some(control::messaging::INVALID_MESSAGE)
            );
            return;
        }
    }
    panic!("message {message_id} never reached the dead-letter queue");
}
