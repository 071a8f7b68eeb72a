//! A run from trigger to resolved issue, through the control plane, against real clusters.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use chrono::{Timelike, Utc};
use cluster::{ClusterKind, TempCluster};
use contracts::{
    ActionKind, AlertId, ApprovalDecision, CpuSample, Decision, Instruction, InstructionId,
    InstructionScope, IssueStatus, Limits, MetricsSource, ProposedAction, ResolutionPath, Run,
    RunId, RunState, Server, ServerId, TimelineEventKind, Trigger, TriggerKind,
};
use control::ControlPlane;
use rand::rngs::StdRng;
use runner::{Context, RunnerConfig, trigger};
use tokio_util::sync::CancellationToken;

const SCHEMA: &str = "
    CREATE TABLE tickets (
        id bigint PRIMARY KEY,
        requester_id bigint NOT NULL,
        subject text NOT NULL
    );
    INSERT INTO tickets
    SELECT g, (random() * 50000)::bigint, 'subject ' || g FROM generate_series(1, 300000) g;
    ANALYZE tickets;";

const HOT_STATEMENT: &str = "SELECT id, subject FROM tickets WHERE requester_id = $1";

struct Setup {
    ctx: Context,
    server_id: ServerId,
    database: String,
    sampler: CancellationToken,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.sampler.cancel();
    }
}

/// Creates a target database with the tickets table, a control plane of its own, a registered server
/// and real CPU samples of the target cluster recorded every half second.
async fn setup(name: &str) -> Setup {
    let database = format!("flow_{name}");
    support::database(&database, SCHEMA).await;
    let target = TempCluster::shared(ClusterKind::Target);

    let control_cluster = TempCluster::shared(ClusterKind::Control);
    control_cluster.ensure_database(&database).await.unwrap();
    let control = ControlPlane::connect_postgres(&control_cluster.connection_string(&database))
        .await
        .unwrap();
    control.ensure_layout().await.unwrap();

    let server_id: ServerId = format!("server-{name}").as_str().into();
    control
        .register_server(&server(&server_id, target))
        .await
        .unwrap();

    let mut config = RunnerConfig::new(HashMap::from([(
        server_id.clone(),
        target.connection_string(&database),
    )]));
    config.investigation_window = Duration::from_secs(3);
    config.verify_settle = Duration::from_millis(500);
    config.verify_samples = 2;
    config.verify_timeout = Duration::from_secs(30);
    // The build still has to fit in the free space, but no share of the disk is kept back,
    // so that the flows pass on a machine whose disk is nearly full. The disk test sets it.
    config.disk_reserve_fraction = 0.0;
    config.verify_window = Duration::from_secs(3);

    let sampler = CancellationToken::new();
    tokio::spawn(record_cpu(
        control.clone(),
        server_id.clone(),
        target.postmaster_pid().unwrap(),
        sampler.clone(),
    ));
    Setup {
        ctx: Context { control, config },
        server_id,
        database,
        sampler,
    }
}

fn server(id: &ServerId, target: &TempCluster) -> Server {
    Server {
        id: id.clone(),
        endpoint: format!("127.0.0.1:{}", target.port()),
        agent_enabled: true,
        vcores: 2,
        // Other tests load the shared target cluster at the same time, so CPU cannot be
        // expected to fall below a real threshold here. The end-to-end test checks that.
        cpu_threshold_pct: 100.5,
        metrics: MetricsSource::LocalProcess {
            data_dir: target.data_dir().display().to_string(),
        },
        registered_at: Utc::now(),
    }
}

async fn record_cpu(control: ControlPlane, server_id: ServerId, pid: u32, stop: CancellationToken) {
    while !stop.is_cancelled() {
        let Ok(cpu_pct) = scenario::sample_cpu(pid, Some(2), Duration::from_millis(500)).await
        else {
            return;
        };
        let _ = control
            .record_cpu_sample(
                &server_id,
                CpuSample {
                    at: Utc::now(),
                    cpu_pct,
                },
            )
            .await;
    }
}

async fn queued_run(setup: &Setup) -> Run {
    let now = Utc::now();
    let run = Run {
        id: RunId::new(),
        server_id: setup.server_id.clone(),
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
    };
    setup.ctx.control.create_run(&run).await.unwrap();
    run
}

fn trigger(run: &Run, kind: TriggerKind) -> Trigger {
    Trigger {
        run_id: run.id,
        server_id: run.server_id.clone(),
        kind,
    }
}

fn random_requester(rng: &mut StdRng) -> support::Params {
    vec![Box::new(rand::Rng::random_range(rng, 0..50_000i64))]
}

/// Handles the start trigger while the hot statement runs, as it would under an alert.
async fn start_under_load(setup: &Setup, run: &Run) {
    let load = support::spawn_workload(
        &setup.database,
        HOT_STATEMENT,
        Duration::from_secs(6),
        5_000,
        random_requester,
    );
    trigger::handle(&setup.ctx, &trigger(run, TriggerKind::Start))
        .await
        .unwrap();
    load.await.unwrap();
}

/// Handles the resume trigger with `ctx` while the hot statement keeps running, so that
/// verification measures its mean time on the new index.
async fn resume_under_load(ctx: &Context, setup: &Setup, run: &Run) {
    let load = support::spawn_workload(
        &setup.database,
        HOT_STATEMENT,
        Duration::from_secs(300),
        u64::MAX,
        random_requester,
    );
    trigger::handle(ctx, &trigger(run, TriggerKind::Resume))
        .await
        .unwrap();
    load.abort();
}

/// Returns the message of the run's event of `kind`, and fails the test when there is none.
async fn event_message(setup: &Setup, run: &Run, kind: TimelineEventKind) -> String {
    let events = setup.ctx.control.timeline(&run.server_id).await.unwrap();
    events
        .into_iter()
        .find(|event| event.run_id == Some(run.id) && event.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} event for the run"))
        .message
}

async fn index_is_valid(setup: &Setup, name: &str) -> Option<bool> {
    let client = support::connect(&setup.database).await;
    runner::execute::index_validity(&client, &setup.server_id, "public", name)
        .await
        .unwrap()
}

async fn decide(setup: &Setup, run: &Run, decision: Decision) {
    let stored = setup
        .ctx
        .control
        .run(&run.server_id, run.id)
        .await
        .unwrap()
        .value;
    let approval = ApprovalDecision {
        run_id: run.id,
        issue_id: stored.issue_id.unwrap(),
        decision,
        decided_by: "dba@example.com".to_string(),
        decided_at: Utc::now(),
    };
    assert!(
        setup
            .ctx
            .control
            .record_decision(&run.server_id, &approval)
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn approval_resumes_suspended_run() {
    let setup = setup("approval").await;
    let run = queued_run(&setup).await;

    start_under_load(&setup, &run).await;

    let suspended = setup
        .ctx
        .control
        .run(&run.server_id, run.id)
        .await
        .unwrap()
        .value;
    assert_eq!(suspended.state, RunState::AwaitingApproval);
    let issue = setup
        .ctx
        .control
        .issue(&run.server_id, suspended.issue_id.unwrap())
        .await
        .unwrap();
    assert_eq!(issue.status, IssueStatus::AwaitingApproval);
    let Some(ProposedAction::CreateIndex(action)) = &issue.proposed_action else {
        panic!("no index proposed: {}", issue.summary);
    };
    assert_eq!(action.index_name, "idx_tickets_requester_id");
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        None
    );

    // A different runner continues the run: everything it needs is in the store.
    let other_runner = Context {
        control: setup.ctx.control.clone(),
        config: setup.ctx.config.clone(),
    };
    decide(&setup, &run, Decision::Approve).await;
    resume_under_load(&other_runner, &setup, &run).await;

    let resolved = setup
        .ctx
        .control
        .issue(&run.server_id, issue.id)
        .await
        .unwrap();
    assert_eq!(resolved.status, IssueStatus::Resolved);
    let resolution = resolved.resolution.unwrap();
    assert_eq!(
        resolution.path,
        ResolutionPath::HumanApproved {
            approved_by: "dba@example.com".to_string()
        }
    );
    assert!(resolution.cpu_after_pct.is_some());
    let verified = event_message(&setup, &run, TimelineEventKind::Verified).await;
    let before = resolution.mean_time_before_ms.expect("mean time before");
    let after = resolution
        .mean_time_after_ms
        .unwrap_or_else(|| panic!("no mean time after: {verified}"));
    eprintln!("mean time before {before:.3} ms, after {after:.3} ms; {verified}");
    assert!(after < before, "{verified}");
    assert!(verified.contains(" calls"), "{verified}");
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        Some(true)
    );
    let finished = setup
        .ctx
        .control
        .run(&run.server_id, run.id)
        .await
        .unwrap()
        .value;
    assert_eq!(finished.state, RunState::Completed);
}

#[tokio::test(flavor = "multi_thread")]
async fn index_without_gain_is_not_resolved() {
    let setup = setup("no_gain").await;
    let run = queued_run(&setup).await;
    let issue_id = build_without_gain(&setup, &run).await;

    let closed = setup
        .ctx
        .control
        .issue(&run.server_id, issue_id)
        .await
        .unwrap();
    assert_eq!(closed.status, IssueStatus::Failed);
    let resolution = closed.resolution.unwrap();
    let ResolutionPath::Failed { reason } = &resolution.path else {
        panic!("closed as {:?}, not failed", resolution.path);
    };
    assert!(reason.contains("brought no gain"), "{reason}");
    let drop = r#"DROP INDEX CONCURRENTLY "public"."idx_tickets_requester_id""#;
    assert!(reason.contains(drop), "{reason}");
    let after = resolution.mean_time_after_ms.expect("mean time after");
    eprintln!("mean time after {after:.4} ms; {reason}");
    assert!(resolution.cpu_after_pct.is_some());
    assert_eq!(stored_run(&setup, &run).await.state, RunState::Failed);

    // The drop waits for a decision on an issue of its own, so the index stays until then.
    let follow_up = follow_up_issue(&setup).await;
    assert!(
        reason.contains(&format!("Issue {} proposes that drop", follow_up.id)),
        "{reason}"
    );
    assert_eq!(follow_up.status, IssueStatus::AwaitingApproval);
    let Some(ProposedAction::DropIndex(action)) = &follow_up.proposed_action else {
        panic!("no drop proposed: {:?}", follow_up.proposed_action);
    };
    assert_eq!(action.ddl, drop);
    assert_eq!(action.table, "tickets");
    let notes = follow_up.evidence.notes.join(" ");
    assert!(notes.contains(&issue_id.to_string()), "{notes}");
    assert!(notes.contains("ms before the index"), "{notes}");
    assert_eq!(follow_up.evidence.mean_time_ms, 0.000_1);
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        Some(true)
    );
    let follow_up_run = stored_run_by_id(&setup, follow_up.run_id).await;
    assert_eq!(follow_up_run.state, RunState::AwaitingApproval);
    assert_eq!(follow_up_run.issue_id, Some(follow_up.id));

    decide(&setup, &follow_up_run, Decision::Approve).await;
    let resume = trigger(&follow_up_run, TriggerKind::Resume);
    trigger::handle(&setup.ctx, &resume).await.unwrap();

    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        None
    );
    let dropped = setup
        .ctx
        .control
        .issue(&run.server_id, follow_up.id)
        .await
        .unwrap();
    assert_eq!(dropped.status, IssueStatus::Resolved);
    assert_eq!(
        dropped.resolution.unwrap().path,
        ResolutionPath::HumanApproved {
            approved_by: "dba@example.com".to_string()
        }
    );
    let finished = stored_run_by_id(&setup, follow_up.run_id).await;
    assert_eq!(finished.state, RunState::Completed);

    // A redelivered trigger changes nothing.
    trigger::handle(&setup.ctx, &resume).await.unwrap();
    let issues = setup.ctx.control.issues(&run.server_id).await.unwrap();
    assert_eq!(issues.len(), 2);
    let steps = stored_run_by_id(&setup, follow_up.run_id).await.steps;
    assert_eq!(steps.len(), finished.steps.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn drop_instruction_allows_drop_without_asking() {
    let setup = setup("no_gain_autonomous").await;
    let instruction = Instruction {
        id: InstructionId::new(),
        action: ActionKind::DropIndex,
        scope: InstructionScope {
            server_id: setup.server_id.clone(),
            schemas: vec!["public".to_string()],
        },
        limits: Limits::default(),
        created_by: "dba@example.com".to_string(),
        created_at: Utc::now(),
        expires_at: None,
        revoked_at: None,
        revoked_by: None,
    };
    setup
        .ctx
        .control
        .create_instruction(&instruction)
        .await
        .unwrap();
    let run = queued_run(&setup).await;
    build_without_gain(&setup, &run).await;

    // The instruction covers drops only, so the build itself waited for a person.
    let follow_up = follow_up_issue(&setup).await;
    assert_eq!(follow_up.status, IssueStatus::Approved);
    let follow_up_run = stored_run_by_id(&setup, follow_up.run_id).await;
    assert_eq!(follow_up_run.instruction_id, Some(instruction.id));
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        Some(true)
    );

    // Platform Services sends this trigger once the follow-up run holds the server's lock.
    let resume = trigger(&follow_up_run, TriggerKind::Resume);
    trigger::handle(&setup.ctx, &resume).await.unwrap();

    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        None
    );
    let dropped = setup
        .ctx
        .control
        .issue(&run.server_id, follow_up.id)
        .await
        .unwrap();
    assert_eq!(dropped.status, IssueStatus::Resolved);
    assert_eq!(
        dropped.resolution.unwrap().path,
        ResolutionPath::Autonomous {
            instruction_id: instruction.id
        }
    );
}

/// Opens the run's issue under load, makes its mean before look fast, approves it and resumes
/// it, so that the index is built and verification finds no gain. Returns the first issue's id.
async fn build_without_gain(setup: &Setup, run: &Run) -> contracts::IssueId {
    start_under_load(setup, run).await;
    let issue_id = stored_run(setup, run).await.issue_id.unwrap();
    // A mean of 100 ns before represents a statement that was already fast without the
    // index. An index scan that returns rows takes longer, so the mean after stays above it.
    setup
        .ctx
        .control
        .update_issue(&run.server_id, issue_id, |issue| {
            issue.evidence.mean_time_ms = 0.000_1;
            true
        })
        .await
        .unwrap();
    decide(setup, run, Decision::Approve).await;
    resume_under_load(&setup.ctx, setup, run).await;
    issue_id
}

/// Returns the issue that proposes a drop, and fails the test when there is none.
async fn follow_up_issue(setup: &Setup) -> contracts::Issue {
    let issues = setup.ctx.control.issues(&setup.server_id).await.unwrap();
    issues
        .into_iter()
        .find(|issue| matches!(issue.proposed_action, Some(ProposedAction::DropIndex(_))))
        .expect("no follow-up issue proposes a drop")
}

async fn stored_run_by_id(setup: &Setup, run_id: RunId) -> Run {
    setup
        .ctx
        .control
        .run(&setup.server_id, run_id)
        .await
        .unwrap()
        .value
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_trigger_has_one_effect() {
    let setup = setup("repeat").await;
    let run = queued_run(&setup).await;
    start_under_load(&setup, &run).await;
    let first = setup
        .ctx
        .control
        .run(&run.server_id, run.id)
        .await
        .unwrap()
        .value;

    trigger::handle(&setup.ctx, &trigger(&run, TriggerKind::Start))
        .await
        .unwrap();
    trigger::handle(&setup.ctx, &trigger(&run, TriggerKind::Resume))
        .await
        .unwrap();

    let again = setup
        .ctx
        .control
        .run(&run.server_id, run.id)
        .await
        .unwrap()
        .value;
    assert_eq!(again.state, RunState::AwaitingApproval);
    assert_eq!(again.steps.len(), first.steps.len());
    assert_eq!(
        setup
            .ctx
            .control
            .issues(&run.server_id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        None
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn instruction_allows_autonomous_fix() {
    let setup = setup("autonomous").await;
    let instruction = Instruction {
        id: InstructionId::new(),
        action: ActionKind::CreateIndex,
        scope: InstructionScope {
            server_id: setup.server_id.clone(),
            schemas: vec!["public".to_string()],
        },
        limits: Limits {
            max_table_bytes: Some(1 << 30),
            time_window: None,
            max_actions_per_day: Some(3),
        },
        created_by: "dba@example.com".to_string(),
        created_at: Utc::now(),
        expires_at: None,
        revoked_at: None,
        revoked_by: None,
    };
    setup
        .ctx
        .control
        .create_instruction(&instruction)
        .await
        .unwrap();
    let run = queued_run(&setup).await;

    start_under_load(&setup, &run).await;

    let issues = setup.ctx.control.issues(&run.server_id).await.unwrap();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].status, IssueStatus::Resolved);
    let path = issues[0].resolution.as_ref().unwrap().path.clone();
    assert_eq!(
        path,
        ResolutionPath::Autonomous {
            instruction_id: instruction.id
        }
    );
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        Some(true)
    );
    let finished = setup
        .ctx
        .control
        .run(&run.server_id, run.id)
        .await
        .unwrap()
        .value;
    assert_eq!(finished.instruction_id, Some(instruction.id));
}

#[tokio::test(flavor = "multi_thread")]
async fn daily_limit_counts_earlier_attempts() {
    let setup = setup("daily_limit").await;
    let instruction = Instruction {
        id: InstructionId::new(),
        action: ActionKind::CreateIndex,
        scope: InstructionScope {
            server_id: setup.server_id.clone(),
            schemas: Vec::new(),
        },
        limits: Limits {
            max_table_bytes: None,
            time_window: None,
            max_actions_per_day: Some(1),
        },
        created_by: "dba@example.com".to_string(),
        created_at: Utc::now(),
        expires_at: None,
        revoked_at: None,
        revoked_by: None,
    };
    setup
        .ctx
        .control
        .create_instruction(&instruction)
        .await
        .unwrap();
    // An earlier run today acted under the instruction; its outcome does not matter.
    let earlier = queued_run(&setup).await;
    setup
        .ctx
        .control
        .update_run(&earlier.server_id, earlier.id, |run| {
            run.instruction_id = Some(instruction.id);
            true
        })
        .await
        .unwrap();
    let run = queued_run(&setup).await;

    start_under_load(&setup, &run).await;

    let suspended = setup
        .ctx
        .control
        .run(&run.server_id, run.id)
        .await
        .unwrap()
        .value;
    assert_eq!(suspended.state, RunState::AwaitingApproval);
    let issue = setup
        .ctx
        .control
        .issue(&run.server_id, suspended.issue_id.unwrap())
        .await
        .unwrap();
    let notes = issue.evidence.notes.join(" ");
    assert!(notes.contains("the limit is 1"), "{notes}");
}

#[tokio::test(flavor = "multi_thread")]
async fn skip_closes_without_building() {
    let setup = setup("skip").await;
    let run = queued_run(&setup).await;
    start_under_load(&setup, &run).await;

    decide(&setup, &run, Decision::Skip).await;
    trigger::handle(&setup.ctx, &trigger(&run, TriggerKind::Resume))
        .await
        .unwrap();

    let issues = setup.ctx.control.issues(&run.server_id).await.unwrap();
    assert_eq!(issues[0].status, IssueStatus::Skipped);
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        None
    );
    let finished = setup
        .ctx
        .control
        .run(&run.server_id, run.id)
        .await
        .unwrap()
        .value;
    assert_eq!(finished.state, RunState::Completed);
}

async fn stored_run(setup: &Setup, run: &Run) -> Run {
    setup
        .ctx
        .control
        .run(&run.server_id, run.id)
        .await
        .unwrap()
        .value
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_carries_risk_facts() {
    let setup = setup("risk").await;
    let client = support::connect(&setup.database).await;
    // A value no default has, so that the fact cannot match by chance. The runner's sessions
    // start after this, so they get it.
    let statement = format!(
        "ALTER DATABASE {} SET maintenance_work_mem = '96MB'",
        setup.database
    );
    client.batch_execute(&statement).await.unwrap();
    let run = queued_run(&setup).await;

    start_under_load(&setup, &run).await;

    let suspended = stored_run(&setup, &run).await;
    let issue = setup
        .ctx
        .control
        .issue(&run.server_id, suspended.issue_id.unwrap())
        .await
        .unwrap();
    let risk = issue
        .evidence
        .risk
        .unwrap_or_else(|| panic!("no risk facts on the issue: {}", issue.summary));

    let tickets = risk
        .largest_tables
        .iter()
        .find(|table| table.name == "public.tickets")
        .unwrap_or_else(|| panic!("public.tickets missing from {:?}", risk.largest_tables));
    let heap_row = client
        .query_one("SELECT pg_relation_size('tickets')", &[])
        .await
        .unwrap();
    let heap_bytes: i64 = heap_row.get(0);
    assert!(tickets.total_bytes >= heap_bytes as u64, "{tickets:?}");
    assert!(
        (270_000..=330_000).contains(&tickets.rows),
        "{} rows",
        tickets.rows
    );
    assert!(tickets.writes_per_second.is_some(), "{tickets:?}");
    assert!(risk.database_bytes >= tickets.total_bytes, "{risk:?}");

    let disk = risk.disk.expect("disk space of the local data directory");
    assert!(disk.total_bytes > 0, "{disk:?}");
    assert!(disk.free_bytes <= disk.total_bytes, "{disk:?}");
    assert!(!risk.in_recovery);
    assert!(risk.replicas.is_empty(), "{:?}", risk.replicas);
    assert_eq!(risk.maintenance_work_mem_bytes, Some(96 * 1024 * 1024));

    let estimate = risk.build_estimate.unwrap_or_else(|| {
        panic!(
            "no build estimate; plan before: {:?}",
            issue.evidence.plan_before
        )
    });
    assert!(estimate.seconds > 0.0, "{estimate:?}");
    assert!(
        estimate.basis.contains("public.tickets"),
        "{}",
        estimate.basis
    );
}

/// Counts the sessions of the build progress poller in the test's database.
async fn progress_sessions(setup: &Setup) -> i64 {
    let client = support::connect(&setup.database).await;
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1",
            &[&runner::build_progress::APPLICATION_NAME],
        )
        .await
        .unwrap();
    row.get(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn build_progress_recorded_on_run() {
    let mut setup = setup("progress").await;
    // The build waits for the open write below, and that wait counts against lock_timeout.
    setup.ctx.config.build_lock_timeout = Duration::from_secs(600);
    let run = queued_run(&setup).await;
    start_under_load(&setup, &run).await;
    decide(&setup, &run, Decision::Approve).await;

    // CREATE INDEX CONCURRENTLY waits for transactions that write to the table, so the build
    // stays in its first phase until this one commits.
    let writer = support::connect(&setup.database).await;
    writer
        .batch_execute("BEGIN; UPDATE tickets SET subject = subject WHERE id = 1")
        .await
        .unwrap();
    let ctx = setup.ctx.clone();
    let resume_trigger = trigger(&run, TriggerKind::Resume);
    let resumed = tokio::spawn(async move { trigger::handle(&ctx, &resume_trigger).await });

    let mut reading = None;
    for _ in 0..600 {
        reading = stored_run(&setup, &run).await.build_progress;
        if reading.is_some() || resumed.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let reading = reading.expect("no build progress was recorded while the build waited");
    assert!(!reading.phase.is_empty(), "{reading:?}");
    assert_eq!(progress_sessions(&setup).await, 1);

    writer.batch_execute("COMMIT").await.unwrap();
    resumed.await.unwrap().unwrap();

    let finished = stored_run(&setup, &run).await;
    assert_eq!(finished.state, RunState::Completed);
    let last = finished.build_progress.expect("the last reading is kept");
    assert!(!last.phase.is_empty(), "{last:?}");
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        Some(true)
    );
    // A backend ends shortly after its client disconnects, so the count may lag behind.
    let mut sessions = progress_sessions(&setup).await;
    for _ in 0..100 {
        if sessions == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        sessions = progress_sessions(&setup).await;
    }
    assert_eq!(sessions, 0, "the progress poller outlived the build");
}

/// Runs the investigation under load, approves the proposed index, and returns the run.
async fn approved_run(setup: &Setup) -> Run {
    let run = queued_run(setup).await;
    start_under_load(setup, &run).await;
    decide(setup, &run, Decision::Approve).await;
    run
}

/// Opens a session idle in a `REPEATABLE READ` transaction on another table, which a
/// concurrent build has to wait for, and returns it with its backend pid.
async fn hold_old_snapshot(setup: &Setup) -> (tokio_postgres::Client, i32) {
    let holder = support::connect(&setup.database).await;
    holder
        .batch_execute("CREATE TABLE IF NOT EXISTS audit_notes (id int)")
        .await
        .unwrap();
    holder
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM audit_notes")
        .await
        .unwrap();
    let pid = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    (holder, pid)
}

async fn timeline_message(setup: &Setup, kind: TimelineEventKind) -> Option<String> {
    let events = setup.ctx.control.timeline(&setup.server_id).await.unwrap();
    events
        .into_iter()
        .find(|event| event.kind == kind)
        .map(|event| event.message)
}

fn failure_reason(issue: &contracts::Issue) -> String {
    match &issue.resolution.as_ref().expect("a resolution").path {
        ResolutionPath::Failed { reason } => reason.clone(),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn old_snapshot_fails_after_bounded_wait() {
    let mut setup = setup("old_snapshot").await;
    setup.ctx.config.old_snapshot_age = Duration::from_secs(1);
    setup.ctx.config.old_snapshot_wait = Duration::from_secs(3);
    let run = approved_run(&setup).await;
    let (holder, pid) = hold_old_snapshot(&setup).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    trigger::handle(&setup.ctx, &trigger(&run, TriggerKind::Resume))
        .await
        .unwrap();

    let issues = setup.ctx.control.issues(&run.server_id).await.unwrap();
    assert_eq!(issues[0].status, IssueStatus::Failed);
    let reason = failure_reason(&issues[0]);
    assert!(reason.contains(&format!("pid {pid} ")), "{reason}");
    assert!(reason.contains("idle in transaction"), "{reason}");
    let waiting = timeline_message(&setup, TimelineEventKind::BuildWaiting)
        .await
        .expect("the wait is on the timeline");
    assert!(waiting.contains(&format!("pid {pid} ")), "{waiting}");
    let notes = issues[0].evidence.notes.join("\n");
    assert!(notes.contains(&format!("pid {pid} ")), "{notes}");
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        None
    );
    // The runner never ends another session: the holder's transaction is still open.
    holder.batch_execute("COMMIT").await.unwrap();
    assert_eq!(stored_run(&setup, &run).await.state, RunState::Failed);
}

#[tokio::test(flavor = "multi_thread")]
async fn build_starts_once_old_snapshot_ends() {
    let mut setup = setup("snapshot_ends").await;
    setup.ctx.config.old_snapshot_age = Duration::from_secs(1);
    setup.ctx.config.old_snapshot_wait = Duration::from_secs(60);
    let run = approved_run(&setup).await;
    let (holder, _) = hold_old_snapshot(&setup).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let ctx = setup.ctx.clone();
    let resume_trigger = trigger(&run, TriggerKind::Resume);
    let resumed = tokio::spawn(async move { trigger::handle(&ctx, &resume_trigger).await });
    let mut waiting = None;
    for _ in 0..100 {
        waiting = timeline_message(&setup, TimelineEventKind::BuildWaiting).await;
        if waiting.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(waiting.is_some(), "the runner did not report the wait");
    holder.batch_execute("COMMIT").await.unwrap();
    resumed.await.unwrap().unwrap();

    let issues = setup.ctx.control.issues(&run.server_id).await.unwrap();
    assert_eq!(issues[0].status, IssueStatus::Resolved);
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        Some(true)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn disk_reserve_rejects_build() {
    let mut setup = setup("disk").await;
    // The whole file system must stay free, which no build can satisfy.
    setup.ctx.config.disk_reserve_fraction = 1.0;
    let run = approved_run(&setup).await;

    trigger::handle(&setup.ctx, &trigger(&run, TriggerKind::Resume))
        .await
        .unwrap();

    let issues = setup.ctx.control.issues(&run.server_id).await.unwrap();
    assert_eq!(issues[0].status, IssueStatus::Failed);
    let reason = failure_reason(&issues[0]);
    assert!(reason.contains("the build needs about"), "{reason}");
    assert!(reason.contains("100 % of"), "{reason}");
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        None
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn startup_sweep_drops_leftover() {
    let setup = setup("sweep").await;
    let run = approved_run(&setup).await;
    // A build of the proposed index that a timeout cancelled, as a killed runner's would be.
    let (holder, _) = hold_old_snapshot(&setup).await;
    let builder = support::connect(&setup.database).await;
    builder
        .batch_execute("SET statement_timeout = '1s'")
        .await
        .unwrap();
    let cancelled = builder
        .batch_execute(
            "CREATE INDEX CONCURRENTLY idx_tickets_requester_id ON tickets (requester_id)",
        )
        .await;
    assert!(cancelled.is_err(), "the build was expected to time out");
    holder.batch_execute("COMMIT").await.unwrap();
    support::wait_for_no_build(&builder).await;
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        Some(false)
    );

    let dropped = runner::leftovers::sweep_server(&setup.ctx, &setup.server_id)
        .await
        .unwrap();

    assert_eq!(dropped, 1);
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        None
    );
    let message = timeline_message(&setup, TimelineEventKind::LeftoverDropped)
        .await
        .expect("the drop is on the timeline");
    assert!(message.contains("idx_tickets_requester_id"), "{message}");
    // The approved run then builds the index from a clean table.
    trigger::handle(&setup.ctx, &trigger(&run, TriggerKind::Resume))
        .await
        .unwrap();
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        Some(true)
    );
}

/// Creates an always-allow instruction for the public schema with the given table size limit,
/// whose daily window opens `delay` from now and stays open for an hour.
async fn instruction_opening_in(
    setup: &Setup,
    delay: chrono::Duration,
    max_table_bytes: Option<u64>,
) -> Instruction {
    let opens = (Utc::now() + delay).time().with_nanosecond(0).unwrap();
    let instruction = Instruction {
        id: InstructionId::new(),
        action: ActionKind::CreateIndex,
        scope: InstructionScope {
            server_id: setup.server_id.clone(),
            schemas: vec!["public".to_string()],
        },
        limits: Limits {
            max_table_bytes,
            time_window: Some(contracts::TimeWindow {
                start: opens,
                end: opens + chrono::Duration::hours(1),
            }),
            max_actions_per_day: Some(3),
        },
        created_by: "dba@example.com".to_string(),
        created_at: Utc::now(),
        expires_at: None,
        revoked_at: None,
        revoked_by: None,
    };
    setup
        .ctx
        .control
        .create_instruction(&instruction)
        .await
        .unwrap();
    instruction
}

/// Runs the investigation outside the instruction's window and checks that the build was
/// scheduled, not started.
async fn scheduled_run(setup: &Setup) -> Run {
    let run = queued_run(setup).await;
    start_under_load(setup, &run).await;

    assert_eq!(
        stored_run(setup, &run).await.state,
        RunState::AwaitingApproval
    );
    let issues = setup.ctx.control.issues(&run.server_id).await.unwrap();
    let notes = issues[0].evidence.notes.join("\n");
    assert!(
        notes.contains("Scheduled: always-allow instruction"),
        "{notes}"
    );
    let scheduled = timeline_message(setup, TimelineEventKind::BuildScheduled).await;
    assert!(scheduled.is_some(), "the schedule is not on the timeline");
    assert_eq!(
        index_is_valid(setup, "idx_tickets_requester_id").await,
        None
    );
    run
}

#[tokio::test(flavor = "multi_thread")]
async fn closed_window_schedules_build() {
    let setup = setup("scheduled").await;
    let instruction = instruction_opening_in(&setup, chrono::Duration::seconds(20), None).await;
    let run = scheduled_run(&setup).await;

    // The bus delivers the scheduled trigger when the window opens.
    let handled = runner::service::run_once(&setup.ctx, Duration::from_secs(60))
        .await
        .unwrap();

    assert_eq!(handled, 1);
    let issues = setup.ctx.control.issues(&run.server_id).await.unwrap();
    assert_eq!(issues[0].status, IssueStatus::Resolved);
    let path = issues[0].resolution.as_ref().unwrap().path.clone();
    assert_eq!(
        path,
        ResolutionPath::Autonomous {
            instruction_id: instruction.id
        }
    );
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        Some(true)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn grown_table_stops_scheduled_build() {
    let setup = setup("scheduled_grown").await;
    let client = support::connect(&setup.database).await;
    let size: i64 = client
        .query_one("SELECT pg_table_size('tickets')", &[])
        .await
        .unwrap()
        .get(0);
    let limit = size as u64 + 1_000_000;
    instruction_opening_in(&setup, chrono::Duration::seconds(20), Some(limit)).await;
    let run = scheduled_run(&setup).await;
    // The table grows past the limit before the window opens.
    client
        .batch_execute(
            "INSERT INTO tickets
             SELECT g, g % 50000, 'subject ' || g FROM generate_series(300001, 400000) g",
        )
        .await
        .unwrap();

    let handled = runner::service::run_once(&setup.ctx, Duration::from_secs(60))
        .await
        .unwrap();

    assert_eq!(handled, 1);
    let issues = setup.ctx.control.issues(&run.server_id).await.unwrap();
    assert_eq!(issues[0].status, IssueStatus::AwaitingApproval);
    let notes = issues[0].evidence.notes.join("\n");
    assert!(
        notes.contains("The scheduled build did not start"),
        "{notes}"
    );
    assert!(notes.contains("above the limit"), "{notes}");
    assert_eq!(
        index_is_valid(&setup, "idx_tickets_requester_id").await,
        None
    );
    assert_eq!(
        stored_run(&setup, &run).await.state,
        RunState::AwaitingApproval
    );
}
