//! Investigations of filters on skewed columns: a filter that keeps almost every row gets no
//! index, and a rare literal value gets a partial index, but only when the literal is in the
//! query text and not a bind parameter.

mod support;

use std::time::{Duration, Instant};

use contracts::{CreateIndex, IndexKey, ProposedAction};
use runner::investigate::{Finding, Investigation, Verdict, investigate};
use tokio::task::JoinHandle;

/// Loads 400,000 users: `deleted` is true for 1 % of them, `role` is 'admin' for 1 % and
/// 'regular' for the rest, and `created_at` spreads over 2024. The original report had 3
/// million rows. At this scale PostgreSQL 15 still plans a parallel sequential scan for both
/// statements, and a top-N sort for the ORDER BY with LIMIT.
const USERS: &str = "
    CREATE TABLE users (
        id bigserial PRIMARY KEY, email text, role text NOT NULL, deleted boolean NOT NULL,
        created_at timestamptz NOT NULL);
    INSERT INTO users (email, role, deleted, created_at)
    SELECT 'user' || g || '@example.org',
           CASE WHEN g % 100 = 1 THEN 'admin' ELSE 'regular' END,
           g % 100 = 0,
           timestamptz '2024-01-01' + (g::bigint * 7919 % 31536000) * interval '1 second'
    FROM generate_series(1, 400000) AS g;
    ANALYZE users;";

const ADMINS_BY_DATE: &str =
    "SELECT id, email FROM users WHERE role = 'admin' ORDER BY created_at DESC LIMIT 20";

/// Runs `sql` with the simple query protocol until `duration` passes, on a connection of its
/// own. The literals stay in the text that `pg_stat_activity.query` shows, while
/// `pg_stat_statements` stores the statement with `$n` in their place. Returns the number of
/// calls.
fn spawn_simple_workload(
    database: &'static str,
    sql: &'static str,
    duration: Duration,
) -> JoinHandle<u64> {
    tokio::spawn(async move {
        let client = support::connect(database).await;
        let started = Instant::now();
        let mut calls = 0;
        while started.elapsed() < duration {
            client.simple_query(sql).await.unwrap();
            calls += 1;
        }
        calls
    })
}

/// Prints what the engine concluded about a finding, for the test log.
fn log_finding(case: &str, finding: &Finding) {
    eprintln!(
        "{case}: verdict {} ({}), statement {:?}, DDL {:?}, notes {:#?}",
        finding.verdict.code(),
        finding.verdict.explanation(),
        finding.evidence.statement,
        finding.proposed_action.as_ref().map(ProposedAction::ddl),
        finding.evidence.notes
    );
}

/// Returns the index that a finding proposes, if any.
fn proposed_index(finding: &Finding) -> Option<&CreateIndex> {
    match finding.proposed_action.as_ref()? {
        ProposedAction::CreateIndex(index) => Some(index),
        ProposedAction::DropIndex(_) => None,
    }
}

fn notes_mention(finding: &Finding, words: &[&str]) -> bool {
    finding.evidence.notes.iter().any(|note| {
        let note = note.to_lowercase();
        words.iter().all(|word| note.contains(word))
    })
}

fn log_all(case: &str, investigation: &Investigation) {
    for finding in &investigation.findings {
        log_finding(case, finding);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_keeping_most_rows_gets_no_index() {
    let client = support::database("inv_p05_low", USERS).await;
    let workload = spawn_simple_workload(
        "inv_p05_low",
        "SELECT count(*) FROM users WHERE deleted = false",
        Duration::from_secs(4),
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);
    log_all("deleted = false", &investigation);

    support::assert_no_proposal(&investigation);
    let finding = support::finding_for(&investigation, "deleted = $1");
    let Verdict::LowSelectivity {
        table,
        rows_kept_pct,
    } = &finding.verdict
    else {
        panic!("expected low selectivity, got {:#?}", finding.verdict);
    };
    assert_eq!(table, "public.users");
    // The generic plan estimates half the rows for a boolean parameter and the literal false
    // 99 %. A Parallel Seq Scan node estimates rows per process, so reading its estimate
    // unscaled would give about 21 % or 41 % here.
    assert!(*rows_kept_pct > 45.0, "rows kept: {rows_kept_pct} %");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rare_literal_gets_partial_index() {
    let client = support::database("inv_p05_literal", USERS).await;
    let workload = spawn_simple_workload("inv_p05_literal", ADMINS_BY_DATE, Duration::from_secs(4));

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);
    log_all("role literal", &investigation);

    let finding = investigation
        .top_proposal()
        .unwrap_or_else(|| panic!("no proposal in {investigation:#?}"));
    assert!(finding.evidence.statement.contains("role = $1"));
    assert_eq!(finding.verdict, Verdict::IndexProposed);
    let index = proposed_index(finding).unwrap();
    assert_eq!(index.schema, "public");
    assert_eq!(index.table, "users");
    assert_eq!(index.keys.len(), 1, "{:#?}", index.keys);
    assert!(
        matches!(&index.keys[0], IndexKey::Column { name, .. } if name == "created_at"),
        "{:#?}",
        index.keys
    );
    let predicate = index.predicate.as_deref().unwrap_or_default();
    assert_eq!(
        predicate.replace("::text", ""),
        "role = 'admin'",
        "{}",
        index.ddl
    );
    assert!(finding.evidence.cost_reduction_pct.unwrap() >= 50.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bound_role_gets_no_partial_index() {
    let client = support::database("inv_p05_param", USERS).await;
    let workload = support::spawn_workload(
        "inv_p05_param",
        "SELECT id, email FROM users WHERE role = $1 ORDER BY created_at DESC LIMIT $2",
        Duration::from_secs(4),
        2000,
        |_| vec![Box::new("admin"), Box::new(20i64)],
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);
    log_all("role parameter", &investigation);

    let finding = support::finding_for(&investigation, "role = $1");
    if let Some(index) = proposed_index(finding) {
        assert_eq!(index.predicate, None, "{}", index.ddl);
    }
    assert!(
        notes_mention(finding, &["parameter", "partial"]),
        "{:#?}",
        finding.evidence.notes
    );
}
