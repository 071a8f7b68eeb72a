//! The follow-up of an index that brought no gain. Its issue closes as failed, and a new issue
//! with a run of its own proposes `DROP INDEX CONCURRENTLY`. The drop follows the approval rules
//! of a build: a person decides, unless an always-allow instruction for drops covers the schema.

use chrono::Utc;
use contracts::{
    ActionKind, CompletionOutcome, CreateIndex, DropIndex, Evidence, Issue, IssueId, IssueStatus,
    ProposedAction, Run, RunId, RunState, RunStep, Severity, TimelineEventKind,
};

use crate::autonomy::{self, Autonomy};
use crate::resolution_step::{Measured, close_failed};
use crate::statement_timing::GAIN_RATIO;
use crate::{Context, Error, schedule, steps};

/// Name from which the follow-up issue's and run's ids are derived, with the first run's id,
/// so that a retried step finds the ones it created before.
const FOLLOW_UP: &str = "drop-index";

/// Opens the follow-up issue and its run, lets an instruction allow the drop or requests a
/// decision, then closes the first issue and run as failed. The first run's completion names
/// the follow-up run, so that Platform Services passes the server's lock to it.
///
/// NOTE: a runner that stops between marking the first run failed and sending its completion
/// leaves the follow-up run without the lock, and a decision on it is then ignored.
pub async fn propose_drop(
    ctx: &Context,
    run: &Run,
    issue: &Issue,
    built: &CreateIndex,
    reason: &str,
    measured: Measured,
) -> Result<(), Error> {
    let action = DropIndex::new(&built.schema, &built.table, &built.index_name);
    let follow_up = open_issue(ctx, run, issue, action, &measured).await?;
    let follow_up_run = open_run(ctx, run, follow_up.id).await?;
    ctx.record(
        &follow_up_run,
        TimelineEventKind::IssueOpened,
        follow_up.title.clone(),
    )
    .await?;
    let waits = decide(ctx, &follow_up_run, &follow_up, &built.schema).await?;

    let reason = format!("{reason}. Issue {} proposes that drop.", follow_up.id);
    close_failed(ctx, run, issue, &reason, measured, Some(follow_up_run.id)).await?;
    if !waits {
        return Ok(());
    }
    steps::report(
        ctx,
        &follow_up_run,
        CompletionOutcome::Suspended {
            issue_id: follow_up.id,
        },
    )
    .await
}

/// Runs the always-allow check for the drop. Returns `true` when the follow-up waits for a
/// person's decision or a time window, and `false` when an instruction allows it now, in which
/// case Platform Services resumes it once it holds the server's lock.
async fn decide(ctx: &Context, run: &Run, issue: &Issue, schema: &str) -> Result<bool, Error> {
    let autonomy = autonomy::check(
        &ctx.control,
        &run.server_id,
        run.id,
        ActionKind::DropIndex,
        schema,
        issue.evidence.table_size_bytes,
    )
    .await?;
    let reasons = match autonomy {
        Autonomy::Allowed(instruction) => {
            let run = steps::record_instruction(ctx, run, instruction.id).await?;
            let message = format!("Approved by always-allow instruction {}", instruction.id);
            ctx.record(&run, TimelineEventKind::Approved, message)
                .await?;
            set_status(ctx, issue, IssueStatus::Approved, &[]).await?;
            return Ok(false);
        }
        Autonomy::Scheduled {
            instruction,
            at,
            mut reasons,
        } => {
            reasons.push(schedule::schedule(ctx, run, &instruction, at).await?);
            reasons
        }
        Autonomy::AskFirst { reasons } => reasons,
    };
    set_status(ctx, issue, IssueStatus::AwaitingApproval, &reasons).await?;
    let message = format!("Approval requested: {}", issue.title);
    ctx.record(run, TimelineEventKind::ApprovalRequested, message)
        .await?;
    Ok(true)
}

/// Moves the still open follow-up issue to `status` and adds the notes it lacks.
async fn set_status(
    ctx: &Context,
    issue: &Issue,
    status: IssueStatus,
    notes: &[String],
) -> Result<(), Error> {
    ctx.control
        .update_issue(&issue.server_id, issue.id, |stored| {
            if stored.status != IssueStatus::Open {
                return false;
            }
            stored.status = status;
            for note in notes {
                if !stored.evidence.notes.contains(note) {
                    stored.evidence.notes.push(note.clone());
                }
            }
            stored.updated_at = Utc::now();
            true
        })
        .await?;
    Ok(())
}

/// Creates the follow-up issue, or returns the one an earlier attempt created.
async fn open_issue(
    ctx: &Context,
    run: &Run,
    first: &Issue,
    action: DropIndex,
    measured: &Measured,
) -> Result<Issue, Error> {
    let id = IssueId::derived(run.id.0, FOLLOW_UP);
    let now = Utc::now();
    let issue = Issue {
        id,
        server_id: run.server_id.clone(),
        run_id: RunId::derived(run.id.0, FOLLOW_UP),
        severity: Severity::Low,
        status: IssueStatus::Open,
        title: format!("Drop {}, which brought no gain", action.index_name),
        summary: format!(
            "DBAgent built {} on {}.{} for issue {}, but the statement did not get faster. The \
             index only adds work to every write and takes disk space, so DBAgent proposes to \
             drop it.",
            action.index_name, action.schema, action.table, first.id
        ),
        evidence: evidence(first, &action, measured),
        proposed_action: Some(ProposedAction::DropIndex(action)),
        resolution: None,
        created_at: now,
        updated_at: now,
    };
    if !ctx.control.create_issue(&issue).await? {
        return Ok(ctx.control.issue(&run.server_id, id).await?);
    }
    Ok(issue)
}

/// Keeps the first issue's statement and table facts, with notes on the means and the link to
/// the first issue. `mean_time_ms` is the statement's mean before the index.
fn evidence(first: &Issue, action: &DropIndex, measured: &Measured) -> Evidence {
    let before = first.evidence.mean_time_ms;
    let after = measured
        .mean_time_after_ms
        .map_or("unknown".to_string(), |after| format!("{after:.3} ms"));
    let mut notes = vec![
        format!(
            "Issue {} proposed {}, and its run {} built it.",
            first.id, action.index_name, first.run_id
        ),
        format!(
            "The statement's mean time was {before:.3} ms before the index and {after} with it, \
             not below {:.0} % of the mean before.",
            GAIN_RATIO * 100.0
        ),
    ];
    if let Some(cpu) = measured.cpu_after_pct {
        notes.push(format!("CPU was {cpu:.1} % after the build."));
    }
    Evidence {
        statement: first.evidence.statement.clone(),
        query_id: first.evidence.query_id,
        mean_time_ms: before,
        table: first.evidence.table.clone(),
        table_size_bytes: first.evidence.table_size_bytes,
        table_rows: first.evidence.table_rows,
        table_writes_per_second: first.evidence.table_writes_per_second,
        cpu_pct: first.evidence.cpu_pct,
        notes,
        ..Evidence::default()
    }
}

/// Creates the follow-up run, suspended from the start, or returns the one an earlier attempt
/// created.
async fn open_run(ctx: &Context, first: &Run, issue_id: IssueId) -> Result<Run, Error> {
    let id = RunId::derived(first.id.0, FOLLOW_UP);
    let now = Utc::now();
    let run = Run {
        id,
        server_id: first.server_id.clone(),
        alert_id: first.alert_id,
        state: RunState::AwaitingApproval,
        issue_id: Some(issue_id),
        steps: vec![RunStep {
            at: now,
            state: RunState::AwaitingApproval,
            message: format!("Opened by run {} to drop the index it built", first.id),
        }],
        failure: None,
        heartbeat_at: now,
        instruction_id: None,
        build_progress: None,
        over_threshold_since: None,
        created_at: now,
        updated_at: now,
    };
    if !ctx.control.create_run(&run).await? {
        return Ok(ctx.control.run(&first.server_id, id).await?.value);
    }
    Ok(run)
}
