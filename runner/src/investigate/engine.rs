//! The entry points: observe a window, rank statements, analyze the hottest ones.

use std::collections::HashMap;

use tokio_postgres::Client;
use tracing::Instrument;

use super::activity::{ActivitySamples, sample_activity};
use super::analyze::Analyzer;
use super::delta::{Deltas, StatementDelta, Window, compute_deltas};
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

/// Investigates the window between two snapshots that the caller took with
/// [`take_snapshot`]. Without samples of `pg_stat_activity`, every `$n` is planned as a
/// parameter.
pub async fn investigate_between(
    client: &Client,
    before: &Snapshot,
    after: &Snapshot,
    options: &InvestigateOptions,
) -> Result<Investigation> {
    let samples = ActivitySamples::default();
    investigate_observed(client, before, after, &samples, options).await
}

/// Investigates the window between two snapshots, using the statement texts sampled from
/// `pg_stat_activity` meanwhile to tell the client's literals from its parameters.
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
    let own_role = current_role_oid(client).await?;
    let (monitoring, hot): (Vec<&StatementDelta>, Vec<&StatementDelta>) = deltas
        .statements
        .iter()
        .filter(|statement| statement.share_of_time_pct >= options.min_share_pct)
        .partition(|statement| reads_statistics_views(&statement.query));
    let mut analyzed = Vec::new();
    for statement in hot.into_iter().take(options.top_statements) {
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
    notes.extend(monitoring_notes(&monitoring, own_role));
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

/// The statistics views that DBAgent's own queries read, and the prefix of the HypoPG
/// functions it calls. No index can serve a statement on them, so such statements are left
/// out of the analysis. `pg_stat_statements` also matches `pg_stat_statements_info`.
const STATISTICS_VIEWS: [&str; 5] = [
    "pg_stat_statements",
    "pg_stat_user_tables",
    "pg_stat_activity",
    "pg_stat_wal_receiver",
    "hypopg_",
];

/// Matches the statement text against [`STATISTICS_VIEWS`], ignoring case because a client
/// may write `PG_STAT_ACTIVITY`.
///
/// NOTE: this is a substring match, so a user table whose name contains one of these names,
/// such as `hypopg_results`, is left out too.
fn reads_statistics_views(query: &str) -> bool {
    let query = query.to_lowercase();
    STATISTICS_VIEWS.iter().any(|view| query.contains(view))
}

/// Notes each hot statement on statistics views that another role ran, such as a monitoring
/// tool polling `pg_stat_statements`. Its cost is real even though no index can lower it.
/// DBAgent's own statements run as `own_role` and are not noted.
fn monitoring_notes(statements: &[&StatementDelta], own_role: u32) -> Vec<String> {
    statements
        .iter()
        .filter(|statement| statement.key.user_id != own_role)
        .map(|statement| {
            format!(
                "Statement {} reads PostgreSQL's statistics views and used {:.1} % of execution \
                 time in the window ({:.2} ms per call). No index can serve those views, so it \
                 was not analyzed. Running it less often lowers its cost.",
                statement.key.query_id,
                statement.share_of_time_pct,
                statement.mean_time_ms()
            )
        })
        .collect()
}

/// Describes what a reset or evictions did to the window, because both make its figures
/// partial.
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

/// Returns the OID of the runner's role, which `pg_stat_statements.userid` records for
/// DBAgent's own statements.
async fn current_role_oid(client: &Client) -> Result<u32> {
    let row = client
        .query_one("SELECT current_user::regrole::oid", &[])
        .await
        .map_err(Error::database("read the OID of the current role"))?;
    Ok(row.get(0))
}

pub(super) async fn server_version(client: &Client) -> Result<i32> {
    let row = client
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .await
        .map_err(Error::database("read server_version_num"))?;
    Ok(row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_views_match_any_case() {
        assert!(reads_statistics_views("SELECT * FROM PG_STAT_ACTIVITY"));
        assert!(reads_statistics_views(
            "SELECT dealloc FROM pg_stat_statements_info"
        ));
        assert!(reads_statistics_views(
            "SELECT * FROM hypopg_create_index($1)"
        ));
        assert!(!reads_statistics_views(
            "SELECT * FROM orders WHERE id = $1"
        ));
    }

    fn monitoring_statement(user_id: u32) -> StatementDelta {
        StatementDelta {
            key: super::super::snapshot::StatementKey {
                query_id: 42,
                user_id,
                database_id: 5,
                toplevel: true,
            },
            query: "SELECT * FROM pg_stat_statements".to_string(),
            calls: 10,
            exec_time_ms: 250.0,
            rows: 10,
            shared_blks_hit: 0,
            shared_blks_read: 0,
            share_of_time_pct: 60.0,
        }
    }

    #[test]
    fn monitoring_notes_skip_own_role() {
        let own = monitoring_statement(10);
        let other = monitoring_statement(20);
        assert!(monitoring_notes(&[&own], 10).is_empty());
        let notes = monitoring_notes(&[&own, &other], 10);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].starts_with("Statement 42 reads"), "{}", notes[0]);
        assert!(notes[0].contains("60.0 %"), "{}", notes[0]);
        assert!(notes[0].contains("25.00 ms per call"), "{}", notes[0]);
    }
}
