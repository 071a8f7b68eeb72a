//! The second step of a run: act on the decision, build the index, verify, close the issue.
//! A drop of an index that brought no gain runs in [`drop_step`](crate::drop_step).

use chrono::Utc;
use contracts::{
    CompletionOutcome, CreateIndex, Decision, Issue, IssueStatus, ProposedAction, Resolution,
    ResolutionPath, Run, RunId, RunState, TimelineEventKind,
};

use tokio_postgres::Client;

use crate::build_progress::ProgressPoller;
use crate::execute::{BuildReport, BuildTimeouts, apply_timeouts, build_index, drop_leftover};
use crate::preflight;
use crate::standing_permission::{self, Next};
use crate::verify::{self, Verification};
use crate::{Context, Error, drop_step, follow_up, steps, target};

/// Continues a run after a decision, or after a runner stopped while executing or verifying.
pub async fn resume(ctx: &Context, run: Run) -> Result<(), Error> {
    let Some(issue_id) = run.issue_id else {
        let run = steps::fail(ctx, &run, "the run has no issue to act on").await?;
        return steps::report(ctx, &run, failed_outcome(&run)).await;
    };
    let issue = ctx.control.issue(&run.server_id, issue_id).await?;
    let decision = ctx.control.decision(&run.server_id, issue_id).await?;

    let path = match decision.map(|decision| (decision.decision, decision.decided_by)) {
        Some((Decision::Skip, by)) => return skip(ctx, run, issue, by).await,
        Some((_, by)) => {
            ctx.record(
                &run,
                TimelineEventKind::Approved,
                format!("Approved by {by}"),
            )
            .await?;
            ResolutionPath::HumanApproved { approved_by: by }
        }
        None => match standing_permission::recheck(ctx, &run, &issue).await? {
            Next::Execute(path) => path,
            Next::Wait => return Ok(()),
            Next::Fail(reason) => {
                drop_leftover_of(ctx, &run, &issue).await;
                return fail_issue(ctx, &run, &issue, &reason).await;
            }
        },
    };
    execute(ctx, run, issue, path).await
}

/// Drops what an interrupted build of the issue's index left, or logs why it could not; the
/// next runner start sweeps again.
async fn drop_leftover_of(ctx: &Context, run: &Run, issue: &Issue) {
    let Some(ProposedAction::CreateIndex(action)) = &issue.proposed_action else {
        return;
    };
    let dropped = async {
        let client = target::connect(&ctx.config, &run.server_id).await?;
        let timeouts = BuildTimeouts::for_estimate(&ctx.config, None);
        apply_timeouts(&client, &run.server_id, timeouts).await?;
        drop_leftover(&client, &run.server_id, &action.schema, &action.index_name).await
    };
    match dropped.await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(run.id = %run.id, index = %action.index_name, "the index is being built by another session, so it was left alone");
        }
        Err(error) => {
            tracing::warn!(run.id = %run.id, %error, "failed to drop what the interrupted build left");
        }
    }
}

async fn skip(ctx: &Context, run: Run, issue: Issue, by: String) -> Result<(), Error> {
    let resolution = Resolution {
        path: ResolutionPath::Skipped {
            skipped_by: by.clone(),
        },
        resolved_at: Utc::now(),
        cpu_before_pct: issue.evidence.cpu_pct,
        cpu_after_pct: None,
        mean_time_before_ms: Some(issue.evidence.mean_time_ms),
        mean_time_after_ms: None,
    };
    close_issue(ctx, &issue, IssueStatus::Skipped, resolution).await?;
    ctx.record(&run, TimelineEventKind::Skipped, format!("Skipped by {by}"))
        .await?;
    let run = steps::advance(ctx, &run, RunState::Completed, "Skipped").await?;
    steps::report(
        ctx,
        &run,
        CompletionOutcome::Completed {
            issue_id: Some(issue.id),
        },
    )
    .await
}

/// Executes the issue's proposed action on `path`.
pub async fn execute(
    ctx: &Context,
    run: Run,
    issue: Issue,
    path: ResolutionPath,
) -> Result<(), Error> {
    match issue.proposed_action.clone() {
        Some(ProposedAction::CreateIndex(action)) => build(ctx, run, issue, action, path).await,
        Some(ProposedAction::DropIndex(action)) => {
            drop_step::execute(ctx, run, issue, action, path).await
        }
        None => {
            let run = steps::fail(ctx, &run, "the issue has no action to execute").await?;
            steps::report(ctx, &run, failed_outcome(&run)).await
        }
    }
}

/// Builds the proposed index, verifies the fix and closes the issue. A failure that no retry
/// can mend closes the run as failed with the reason instead of returning an error. An index
/// without gain gets a follow-up issue that proposes to drop it.
async fn build(
    ctx: &Context,
    run: Run,
    issue: Issue,
    action: CreateIndex,
    path: ResolutionPath,
) -> Result<(), Error> {
    let run = steps::advance(ctx, &run, RunState::Executing, "Building the index").await?;
    set_issue_status(ctx, &issue, IssueStatus::Executing).await?;
    ctx.record(
        &run,
        TimelineEventKind::ExecutionStarted,
        action.ddl.clone(),
    )
    .await?;

    let client = target::connect(&ctx.config, &run.server_id).await?;
    if let Some(reason) = preflight::check(ctx, &run, &issue, &action, &client).await? {
        return fail_issue(ctx, &run, &issue, &reason).await;
    }
    let estimate = issue
        .evidence
        .risk
        .as_ref()
        .and_then(|risk| risk.build_estimate.as_ref());
    let timeouts =
        BuildTimeouts::for_estimate(&ctx.config, estimate.map(|estimate| estimate.seconds));
    let report = match build_with_progress(ctx, &run, &client, &action, timeouts).await {
        Ok(report) => report,
        Err(error) if error.is_retryable() => return Err(error),
        Err(error) => return fail_issue(ctx, &run, &issue, &error.to_string()).await,
    };
    let built = report.summary(&action.index_name);
    ctx.record(&run, TimelineEventKind::ExecutionFinished, built)
        .await?;

    let run = steps::advance(ctx, &run, RunState::Verifying, "Verifying the fix").await?;
    let verification = match verify::verify(ctx, &client, &run, &issue, &action).await {
        Ok(verification) => verification,
        Err(Error::Verification(reason)) => return fail_issue(ctx, &run, &issue, &reason).await,
        Err(Error::NoGain {
            reason,
            cpu_after_pct,
            mean_time_after_ms,
        }) => {
            let measured = Measured {
                cpu_after_pct: Some(cpu_after_pct),
                mean_time_after_ms: Some(mean_time_after_ms),
            };
            if action.is_partitioned() {
                // NOTE: PostgreSQL cannot drop an index of a partitioned table concurrently,
                // so no drop is proposed and the reason is all a person gets.
                return close_failed(ctx, &run, &issue, &reason, measured, None).await;
            }
            return follow_up::propose_drop(ctx, &run, &issue, &action, &reason, measured).await;
        }
        Err(error) => return Err(error),
    };
    resolve(ctx, run, issue, path, verification).await
}

/// Builds the index while a second connection records the build's progress on the run.
async fn build_with_progress(
    ctx: &Context,
    run: &Run,
    client: &Client,
    action: &CreateIndex,
    timeouts: BuildTimeouts,
) -> Result<BuildReport, Error> {
    let poller = ProgressPoller::start(ctx, run, client).await;
    let built = build_index(client, &run.server_id, action, timeouts).await;
    if let Some(poller) = poller {
        poller.finish().await;
    }
    built
}

async fn resolve(
    ctx: &Context,
    run: Run,
    issue: Issue,
    path: ResolutionPath,
    verification: Verification,
) -> Result<(), Error> {
    ctx.record(&run, TimelineEventKind::Verified, verification.summary())
        .await?;
    let resolution = Resolution {
        path,
        resolved_at: Utc::now(),
        cpu_before_pct: issue.evidence.cpu_pct,
        cpu_after_pct: Some(verification.cpu_after_pct),
        mean_time_before_ms: Some(issue.evidence.mean_time_ms),
        mean_time_after_ms: verification.mean_after.mean_ms(),
    };
    close_resolved(ctx, &run, &issue, resolution).await
}

/// Closes the issue as resolved, records it on the timeline, completes the run and tells
/// Platform Services.
pub(crate) async fn close_resolved(
    ctx: &Context,
    run: &Run,
    issue: &Issue,
    resolution: Resolution,
) -> Result<(), Error> {
    close_issue(ctx, issue, IssueStatus::Resolved, resolution).await?;
    ctx.record(
        run,
        TimelineEventKind::Resolved,
        format!("Resolved: {}", issue.title),
    )
    .await?;
    let run = steps::advance(ctx, run, RunState::Completed, "Resolved").await?;
    steps::report(
        ctx,
        &run,
        CompletionOutcome::Completed {
            issue_id: Some(issue.id),
        },
    )
    .await
}

/// Measurements taken before a run failed, kept on the closed issue.
#[derive(Debug, Default)]
pub struct Measured {
    pub cpu_after_pct: Option<f64>,
    pub mean_time_after_ms: Option<f64>,
}

pub(crate) async fn fail_issue(
    ctx: &Context,
    run: &Run,
    issue: &Issue,
    reason: &str,
) -> Result<(), Error> {
    close_failed(ctx, run, issue, reason, Measured::default(), None).await
}

/// Closes the issue and the run as failed and reports the run's end, naming the run that
/// continues the work, if any.
pub(crate) async fn close_failed(
    ctx: &Context,
    run: &Run,
    issue: &Issue,
    reason: &str,
    measured: Measured,
    follow_up_run_id: Option<RunId>,
) -> Result<(), Error> {
    tracing::error!(run.id = %run.id, issue.id = %issue.id, reason, "run failed");
    let resolution = Resolution {
        path: ResolutionPath::Failed {
            reason: reason.to_string(),
        },
        resolved_at: Utc::now(),
        cpu_before_pct: issue.evidence.cpu_pct,
        cpu_after_pct: measured.cpu_after_pct,
        mean_time_before_ms: Some(issue.evidence.mean_time_ms),
        mean_time_after_ms: measured.mean_time_after_ms,
    };
    close_issue(ctx, issue, IssueStatus::Failed, resolution).await?;
    ctx.record(run, TimelineEventKind::Failed, reason.to_string())
        .await?;
    let run = steps::fail(ctx, run, reason).await?;
    let outcome = CompletionOutcome::Failed {
        reason: run.failure.clone().unwrap_or_else(|| "unknown".to_string()),
        follow_up_run_id,
    };
    steps::report(ctx, &run, outcome).await
}

fn failed_outcome(run: &Run) -> CompletionOutcome {
    CompletionOutcome::Failed {
        reason: run.failure.clone().unwrap_or_else(|| "unknown".to_string()),
        follow_up_run_id: None,
    }
}

pub(crate) async fn set_issue_status(
    ctx: &Context,
    issue: &Issue,
    status: IssueStatus,
) -> Result<(), Error> {
    ctx.control
        .update_issue(&issue.server_id, issue.id, |stored| {
            if stored.status.is_closed() || stored.status == status {
                return false;
            }
            stored.status = status;
            stored.updated_at = Utc::now();
            true
        })
        .await?;
    Ok(())
}

pub(crate) async fn close_issue(
    ctx: &Context,
    issue: &Issue,
    status: IssueStatus,
    resolution: Resolution,
) -> Result<(), Error> {
    ctx.control
        .update_issue(&issue.server_id, issue.id, |stored| {
            if stored.status.is_closed() {
                return false;
            }
            stored.status = status;
            stored.resolution = Some(resolution.clone());
            stored.updated_at = Utc::now();
            true
        })
        .await?;
    Ok(())
}
