//! The startup sweep for INVALID indexes that builds of an earlier runner left behind.
//!
//! A runner that dies mid-build cannot drop what its build left: the server cancels the build
//! when it notices the lost connection, and the half-built index stays, INVALID, slowing every
//! write to its table. A runner that starts looks for the indexes its issues name and drops
//! those that are INVALID and not being built.

use std::collections::BTreeMap;

use chrono::Utc;
use contracts::{Issue, ProposedAction, ServerId, TimelineEvent, TimelineEventKind};
use control::timeline::event_key;

use crate::execute::{BuildTimeouts, apply_timeouts, drop_leftover, index_validity};
use crate::{Context, Error, target};

/// Sweeps every configured target in turn. A server that fails is logged and skipped, so that
/// one unreachable server does not keep the runner from starting.
pub async fn sweep(ctx: &Context) {
    let mut server_ids: Vec<&ServerId> = ctx.config.targets.keys().collect();
    server_ids.sort_by(|left, right| left.0.cmp(&right.0));
    for server_id in server_ids {
        match sweep_server(ctx, server_id).await {
            Ok(0) => {}
            Ok(dropped) => {
                tracing::warn!(server.id = %server_id, dropped, "dropped INVALID indexes left by interrupted builds");
            }
            Err(error) => {
                tracing::warn!(server.id = %server_id, %error, "failed to look for INVALID indexes left by interrupted builds");
            }
        }
    }
}

/// Drops the leftovers on one server and returns how many it dropped.
pub async fn sweep_server(ctx: &Context, server_id: &ServerId) -> Result<usize, Error> {
    let issues = ctx.control.issues(server_id).await?;
    let mut indexes = BTreeMap::new();
    for issue in &issues {
        let Some(ProposedAction::CreateIndex(action)) = &issue.proposed_action else {
            continue;
        };
        if !action.is_partitioned() {
            indexes.insert((action.schema.clone(), action.index_name.clone()), issue);
            continue;
        }
        // The index on a partitioned table has no storage, stays INVALID until every
        // partition's index is attached, and cannot be dropped concurrently, so only the
        // leaf partitions' indexes are swept. A retry of the build resumes with the rest.
        for partition in action.partitions.iter().filter(|p| !p.partitioned) {
            let key = (partition.schema.clone(), partition.index_name.clone());
            indexes.insert(key, issue);
        }
    }
    if indexes.is_empty() {
        return Ok(0);
    }

    let client = target::connect(&ctx.config, server_id).await?;
    let timeouts = BuildTimeouts::for_estimate(&ctx.config, None);
    apply_timeouts(&client, server_id, timeouts).await?;
    let mut dropped = 0;
    for ((schema, name), issue) in indexes {
        if index_validity(&client, server_id, &schema, &name).await? != Some(false) {
            continue;
        }
        if !drop_leftover(&client, server_id, &schema, &name).await? {
            tracing::info!(server.id = %server_id, index = %name, "an INVALID index is being built now, so it is left alone");
            continue;
        }
        dropped += 1;
        record_drop(ctx, issue, &schema, &name).await;
    }
    Ok(dropped)
}

/// Adds the drop to the issue's run on the timeline, or logs why it could not.
async fn record_drop(ctx: &Context, issue: &Issue, schema: &str, name: &str) {
    let run = match ctx.control.runs(&issue.server_id).await {
        Ok(runs) => runs.into_iter().find(|run| run.issue_id == Some(issue.id)),
        Err(error) => {
            tracing::warn!(%error, issue.id = %issue.id, "failed to find the run of an issue");
            None
        }
    };
    let Some(run) = run else {
        return;
    };
    let event = TimelineEvent {
        at: Utc::now(),
        server_id: issue.server_id.clone(),
        run_id: Some(run.id),
        issue_id: Some(issue.id),
        kind: TimelineEventKind::LeftoverDropped,
        message: format!(
            "Dropped the INVALID index {schema}.{name} that an interrupted build left, with \
             DROP INDEX CONCURRENTLY"
        ),
    };
    let key = event_key(run.id, TimelineEventKind::LeftoverDropped);
    if let Err(error) = ctx.control.append_event(&key, &event).await {
        tracing::warn!(%error, run.id = %run.id, "failed to record the dropped index on the timeline");
    }
}
