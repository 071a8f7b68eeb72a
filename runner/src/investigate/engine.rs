//! The entry points: observe a window, rank statements, analyze the hottest ones.

use std::collections::HashMap;

use tokio_postgres::Client;
use tracing::Instrument;

use super::activity::{ActivitySamples, sample_activity};
use super::analyze::Analyzer;
use super::delta::{Deltas, Window, compute_deltas};
use super::error::{Error, Result};
use super::findings::{Finding, Investigation};
use super::hypothetical::ensure_hypopg;
use super::options::InvestigateOptions;
use super::plan::PlanLimits;
use super::server_role::server_role;
use super::snapshot::{Snapshot, take_snapshot};

/// Observes the current database for `options.window` and investigates what ran.
///
/// When the counters were reset during the window and `options.retry_after_reset` is set, one
/// more window is observed, and the first is listed in `discarded_windows`.
///
/// The client must not run other queries meanwhile: the analysis opens and ends transactions
/// on it and creates HypoPG hypothetical indexes, which belong to the session.
pub async fn investigate(client: &Client, options: &InvestigateOptions) -> Result<Investigation> {
    let span = tracing::info_span!("investigate", window_seconds = options.window.as_secs_f64());
    async {
        // Check before waiting, so that a missing extension fails fast.
        let server_version = server_version(client).await?;
        let role = server_role(client).await?;
        ensure_hypopg(client, server_version, role.is_standby()).await?;

        let mut discarded = Vec::new();
        loop {
            let before = take_snapshot(client).await?;
            let samples = sample_activity(client, options.window).await;
            let after = take_snapshot(client).await?;
            let retry = discarded.is_empty() && options.retry_after_reset;
            match compute_deltas(&before, &after) {
                Err(reset) if retry => {
                    tracing::warn!(%reset, "counters were reset during the window; observing another");
                    discarded.push(reset);
                }
                _ => {
                    let mut investigation =
                        investigate_observed(client, &before, &after, &samples, options).await?;
                    investigation.discarded_windows = discarded;
                    return Ok(investigation);
                }
            }
        }
    }
    .instrument(span)
    .await
}

/// Investigates the window between two snapshots the caller took with [`take_snapshot`],
/// without samples of `pg_stat_activity`, so every `$n` is planned as a parameter.
pub async fn investigate_between(
    client: &Client,
    before: &Snapshot,
    after: &Snapshot,
    options: &InvestigateOptions,
) -> Result<Investigation> {
    let samples = ActivitySamples::default();
    investigate_observed(client, before, after, &samples, options).await
}

/// Investigates the window between two snapshots, with the statement texts sampled from
/// `pg_stat_activity` meanwhile, which tell literals from parameters.
pub async fn investigate_observed(
    client: &Client,
    before: &Snapshot,
    after: &Snapshot,
    samples: &ActivitySamples,
    options: &InvestigateOptions,
) -> Result<Investigation> {
    let deltas = match compute_deltas(before, after) {
        Ok(deltas) => deltas,
        Err(reset) => {
            tracing::warn!(%reset, "counters were reset during the window");
            return Ok(Investigation {
                window: Window {
                    started_at: before.taken_at,
                    ended_at: after.taken_at,
                },
                counter_reset: Some(reset),
                shortened_by: None,
                discarded_windows: Vec::new(),
                statements: Vec::new(),
                findings: Vec::new(),
                tables: HashMap::new(),
                server_role: server_role(client).await?,
                notes: Vec::new(),
            });
        }
    };
    let server_version = server_version(client).await?;
    let role = server_role(client).await?;
    ensure_hypopg(client, server_version, role.is_standby()).await?;

    let analyzer = Analyzer {
        client,
        options,
        limits: PlanLimits {
            statement_timeout: options.statement_timeout,
            lock_timeout: options.lock_timeout,
            server_version,
        },
        deltas: &deltas,
        samples,
    };
    let hot = deltas
        .statements
        .iter()
        .filter(|statement| statement.share_of_time_pct >= options.min_share_pct)
        .filter(|statement| !reads_statistics_views(&statement.query))
        .take(options.top_statements);
    let mut analyzed = Vec::new();
    for statement in hot {
        let (finding, planned) = analyzer.analyze(statement).await;
        tracing::debug!(
            query_id = statement.key.query_id,
            verdict = ?finding.verdict,
            "statement analyzed"
        );
        analyzed.push((finding, planned));
    }
    analyzer.weigh_across_statements(&mut analyzed).await;
    let mut findings: Vec<Finding> = analyzed.into_iter().map(|(finding, _)| finding).collect();
    add_hottest_to_refusals(&mut findings);
    let mut notes = window_notes(&deltas);
    if role.is_standby() {
        notes.push(format!(
            "This server is a hot standby, so it was analyzed read-only and nothing is built \
             on it: an index has to be built on {role}, and reaches this standby by \
             replication."
        ));
    }
    for finding in &mut findings {
        finding.evidence.notes.extend(notes.iter().cloned());
    }

    Ok(Investigation {
        window: deltas.window,
        counter_reset: None,
        shortened_by: deltas.shortened_by,
        discarded_windows: Vec::new(),
        statements: deltas.statements,
        findings,
        tables: deltas.tables,
        server_role: role,
        notes,
    })
}

/// Views whose statements are monitoring, DBAgent's own included: no index serves them.
const STATISTICS_VIEWS: [&str; 5] = [
    "pg_stat_statements",
    "pg_stat_user_tables",
    "pg_stat_activity",
    "pg_stat_wal_receiver",
    "hypopg_",
];

fn reads_statistics_views(query: &str) -> bool {
    STATISTICS_VIEWS.iter().any(|view| query.contains(view))
}

/// Says what a reset or evictions did to the window, because both make its figures partial.
fn window_notes(deltas: &Deltas) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(reset) = &deltas.shortened_by {
        notes.push(format!(
            "{reset}, inside the observation window, so the statement figures cover only the \
             {:.1} s after the reset.",
            deltas.window.seconds()
        ));
    }
    if deltas.evictions > 0 {
        notes.push(format!(
            "pg_stat_statements evicted {} entries during the window to make room for new \
             ones, so the figures of statements that ran rarely may be partial; raising \
             pg_stat_statements.max keeps more of them.",
            deltas.evictions
        ));
    }
    if !deltas.recreated.is_empty() {
        notes.push(format!(
            "{} entries started over during the window, reset by another session or evicted, \
             so their figures cover only the time since and are lower bounds.",
            deltas.recreated.len()
        ));
    }
    notes
}

/// Names the statement that costs the most in the notes of every other finding without a
/// proposal, so that a refusal never hides where the time goes.
fn add_hottest_to_refusals(findings: &mut [Finding]) {
    let Some((hottest, rest)) = findings.split_first_mut() else {
        return;
    };
    let note = format!(
        "The statement that costs the most in this window is {} with {:.1} % of execution time: {}",
        hottest.evidence.query_id.unwrap_or_default(),
        hottest.evidence.share_of_time_pct,
        hottest.evidence.statement
    );
    for finding in rest.iter_mut().filter(|f| f.proposed_action.is_none()) {
        finding.evidence.notes.push(note.clone());
    }
}

pub(super) async fn server_version(client: &Client) -> Result<i32> {
    let row = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .map_err(Error::database("read server_version_num"))?;
    Ok(row.get(0))
}
