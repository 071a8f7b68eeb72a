//! Dropping an index that brought no gain: after a decision, `DROP INDEX CONCURRENTLY`, a check
//! that the index is gone, and the issue closed as resolved.

use std::time::Instant;

use chrono::Utc;
use contracts::{
    DropIndex, Issue, IssueStatus, Resolution, ResolutionPath, Run, RunState, ServerId,
    TimelineEventKind,
};
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

use crate::execute::{BuildTimeouts, apply_timeouts, index_validity};
use crate::preflight::access;
use crate::resolution_step::{close_resolved, fail_issue, set_issue_status};
use crate::target::failed;
use crate::{Context, Error, steps, target};

/// Drops the index, checks that it is gone and closes the issue. A failure that no retry can
/// mend closes the run as failed with the reason instead of returning an error.
pub async fn execute(
    ctx: &Context,
    run: Run,
    issue: Issue,
    action: DropIndex,
    path: ResolutionPath,
) -> Result<(), Error> {
    let run = steps::advance(ctx, &run, RunState::Executing, "Dropping the index").await?;
    set_issue_status(ctx, &issue, IssueStatus::Executing).await?;
    ctx.record(
        &run,
        TimelineEventKind::ExecutionStarted,
        action.ddl.clone(),
    )
    .await?;

    let client = target::connect(&ctx.config, &run.server_id).await?;
    let timeouts = BuildTimeouts::for_estimate(&ctx.config, None);
    let dropped = match drop_once(&client, &run.server_id, &action, timeouts).await {
        Ok(Dropped::Blocked(reason)) => return fail_issue(ctx, &run, &issue, &reason).await,
        Ok(dropped) => dropped,
        Err(error) if error.is_retryable() => return Err(error),
        Err(error) => return fail_issue(ctx, &run, &issue, &error.to_string()).await,
    };
    ctx.record(
        &run,
        TimelineEventKind::ExecutionFinished,
        dropped.summary(&action.index_name),
    )
    .await?;

    let run = steps::advance(
        ctx,
        &run,
        RunState::Verifying,
        "Checking that the index is gone",
    )
    .await?;
    if index_validity(&client, &run.server_id, &action.schema, &action.index_name)
        .await?
        .is_some()
    {
        let reason = format!(
            "{} still exists after DROP INDEX CONCURRENTLY",
            action.index_name
        );
        return fail_issue(ctx, &run, &issue, &reason).await;
    }
    resolve(ctx, run, issue, &action, path).await
}

/// The outcome of one attempt at the drop.
#[derive(Debug, Clone, PartialEq)]
enum Dropped {
    Now {
        seconds: f64,
    },
    /// The index was gone before this attempt, dropped by an earlier attempt of the run or by a
    /// person.
    AlreadyGone,
    /// A preflight check failed, for the reason given.
    Blocked(String),
}

impl Dropped {
    fn summary(&self, index_name: &str) -> String {
        match self {
            Dropped::Now { seconds } => format!("Dropped {index_name} in {seconds:.1} s"),
            Dropped::AlreadyGone => format!("{index_name} was already gone"),
            Dropped::Blocked(reason) => reason.clone(),
        }
    }
}

/// Drops the index unless it is gone already, after the access check. The statement names the
/// index without `IF EXISTS`, so that a wrong name fails, and runs alone in autocommit because
/// `DROP INDEX CONCURRENTLY` fails inside a transaction block.
async fn drop_once(
    client: &Client,
    server_id: &ServerId,
    action: &DropIndex,
    timeouts: BuildTimeouts,
) -> Result<Dropped, Error> {
    if index_validity(client, server_id, &action.schema, &action.index_name)
        .await?
        .is_none()
    {
        return Ok(Dropped::AlreadyGone);
    }
    if let Some(reason) = access::blocker(client, server_id, action).await? {
        return Ok(Dropped::Blocked(reason));
    }
    apply_timeouts(client, server_id, timeouts).await?;

    let started = Instant::now();
    // Rendered again from the structured fields, so that the identifiers are quoted even if the
    // stored DDL text was altered.
    match client.batch_execute(&action.render_ddl()).await {
        Ok(()) => Ok(Dropped::Now {
            seconds: started.elapsed().as_secs_f64(),
        }),
        // Another session dropped it between the check above and the statement.
        Err(error) if error.code() == Some(&SqlState::UNDEFINED_OBJECT) => Ok(Dropped::AlreadyGone),
        Err(error) => Err(failed("drop the index", server_id)(error)),
    }
}

async fn resolve(
    ctx: &Context,
    run: Run,
    issue: Issue,
    action: &DropIndex,
    path: ResolutionPath,
) -> Result<(), Error> {
    let verified = format!(
        "{} no longer exists on {}.{}",
        action.index_name, action.schema, action.table
    );
    ctx.record(&run, TimelineEventKind::Verified, verified)
        .await?;
    // The means stay empty: the drop removes an index the statement did not gain from, and the
    // evidence notes give the means measured with it.
    let resolution = Resolution {
        path,
        resolved_at: Utc::now(),
        cpu_before_pct: issue.evidence.cpu_pct,
        cpu_after_pct: None,
        mean_time_before_ms: None,
        mean_time_after_ms: None,
    };
    close_resolved(ctx, &run, &issue, resolution).await
}
