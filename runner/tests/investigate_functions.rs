//! Investigations of a hot statement that runs inside a PL/pgSQL function: with
//! `pg_stat_statements.track = all` the nested statement gets the index, and with
//! `track = top` the finding reports that the cost is inside the function.

mod support;

use std::time::Duration;

use contracts::ProposedAction;
use rand::Rng;
use rand::rngs::StdRng;
use runner::investigate::{Investigation, Verdict, investigate};

/// Loads 400,000 orders over 10,000 customers with no index on `customer_id`, and the function
/// that counts a customer's orders. The original report had 2 million orders. At this scale
/// each call still reads the whole table with a sequential scan.
const ORDERS: &str = "
    CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, total numeric);
    INSERT INTO orders (customer_id, total)
    SELECT g % 10000, (g % 9973) / 100.0 FROM generate_series(1, 400000) AS g;
    ANALYZE orders;
    CREATE FUNCTION order_count(p_customer bigint) RETURNS bigint LANGUAGE plpgsql AS $$
    BEGIN
        RETURN (SELECT count(*) FROM orders WHERE customer_id = p_customer);
    END $$;";

const TRACK_TOP: &str = "SET pg_stat_statements.track = 'top'";

const ORDER_COUNT: &str = "SELECT order_count($1)";

fn random_customer(rng: &mut StdRng) -> support::Params {
    vec![Box::new(rng.random_range(0..10_000i64))]
}

/// Prints what the engine concluded about every finding, for the test log.
fn log_all(case: &str, investigation: &Investigation) {
    for finding in &investigation.findings {
        eprintln!(
            "{case}: verdict {} ({}), statement {:?}, share {:.1} %, DDL {:?}, notes {:#?}",
            finding.verdict.code(),
            finding.verdict.explanation(),
            finding.evidence.statement,
            finding.evidence.share_of_time_pct,
            finding.proposed_action.as_ref().map(ProposedAction::ddl),
            finding.evidence.notes
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_statement_gets_the_index() {
    let client = support::database("inv_p02_all", ORDERS).await;
    let workload = support::spawn_workload(
        "inv_p02_all",
        ORDER_COUNT,
        Duration::from_secs(4),
        2000,
        random_customer,
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);
    log_all("track = all", &investigation);

    let nested = investigation
        .statements
        .iter()
        .find(|statement| !statement.key.toplevel && statement.query.contains("FROM orders"))
        .unwrap_or_else(|| panic!("no nested statement in {:#?}", investigation.statements));
    assert!(nested.share_of_time_pct <= 100.0, "{nested:#?}");
    // A nested statement's time is part of its caller's, so only top-level shares add up.
    let top_level_share: f64 = investigation
        .statements
        .iter()
        .filter(|statement| statement.key.toplevel)
        .map(|statement| statement.share_of_time_pct)
        .sum();
    assert!(top_level_share <= 100.01, "{top_level_share}");

    let issue = investigation.issue_finding().unwrap();
    assert_eq!(issue.evidence.query_id, Some(nested.key.query_id));
    assert_eq!(issue.verdict, Verdict::IndexProposed);
    assert_eq!(
        support::proposed_ddl(issue),
        r#"CREATE INDEX CONCURRENTLY "idx_orders_customer_id" ON "public"."orders" ("customer_id")"#
    );
    let proposal = investigation.top_proposal().unwrap();
    assert_eq!(proposal.evidence.query_id, Some(nested.key.query_id));

    let caller = support::finding_for(&investigation, "order_count(");
    let Verdict::CostInsideFunction { function, .. } = &caller.verdict else {
        panic!(
            "expected the cost inside a function, got {:#?}",
            caller.verdict
        );
    };
    assert!(function.contains("order_count"), "{function}");
    assert_eq!(caller.proposed_action, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_top_reports_cost_in_function() {
    let client = support::database("inv_p02_top", ORDERS).await;
    // A superuser, which these connections are, can set pg_stat_statements.track per session,
    // so the other databases of the shared cluster keep track = all.
    client.batch_execute(TRACK_TOP).await.unwrap();
    let workload = support::spawn_session_workload(
        "inv_p02_top",
        TRACK_TOP,
        ORDER_COUNT,
        Duration::from_secs(4),
        2000,
        random_customer,
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);
    log_all("track = top", &investigation);

    let nested: Vec<_> = investigation
        .statements
        .iter()
        .filter(|statement| !statement.key.toplevel)
        .collect();
    assert!(nested.is_empty(), "track = top recorded {nested:#?}");

    support::assert_no_proposal(&investigation);
    let caller = support::finding_for(&investigation, "order_count(");
    let Verdict::CostInsideFunction { function, track } = &caller.verdict else {
        panic!(
            "expected the cost inside a function, got {:#?}",
            caller.verdict
        );
    };
    assert!(function.contains("order_count"), "{function}");
    assert_eq!(track, "top");
    let explanation = caller.verdict.explanation();
    assert!(
        explanation.contains("pg_stat_statements.track = all"),
        "{explanation}"
    );
    assert_eq!(investigation.issue_finding(), Some(caller));
}
