//! Investigations that must not propose an index: the index exists already, the hot statement
//! is a primary-key update, a GiST index serves an ltree query, and the scanned table is tiny
//! while another statement is the real cost.

mod support;

use std::time::Duration;

use rand::Rng;
use runner::investigate::{InvestigateOptions, Verdict, investigate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_btree_index_is_not_proposed_again() {
    let client = support::database(
        "inv_existing",
        "CREATE TABLE subscribers (id bigserial PRIMARY KEY, client_ref bigint NOT NULL);
         INSERT INTO subscribers (client_ref)
         SELECT g % 30000 FROM generate_series(1, 150000) AS g;
         CREATE INDEX subscribers_by_client ON subscribers (client_ref, id);
         ANALYZE subscribers;",
    )
    .await;
    let workload = support::spawn_workload(
        "inv_existing",
        "SELECT count(*) FROM subscribers WHERE client_ref = $1",
        Duration::from_secs(4),
        3000,
        |rng| vec![Box::new(rng.random_range(0..30_000i64))],
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    support::assert_no_proposal(&investigation);
    let finding = support::finding_for(&investigation, "client_ref = $1");
    assert_eq!(finding.verdict, Verdict::NoSequentialScan);
    assert!(
        finding.summary.contains("through an index"),
        "{}",
        finding.summary
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_by_primary_key_needs_no_index() {
    let client = support::database(
        "inv_update_pk",
        "CREATE TABLE ledger_accounts (aid int PRIMARY KEY, balance bigint NOT NULL);
         INSERT INTO ledger_accounts SELECT g, 0 FROM generate_series(1, 100000) AS g;
         ANALYZE ledger_accounts;",
    )
    .await;
    let workload = support::spawn_workload(
        "inv_update_pk",
        "UPDATE ledger_accounts SET balance = balance + $1 WHERE aid = $2",
        Duration::from_secs(4),
        3000,
        |rng| {
            vec![
                Box::new(rng.random_range(-50..50i64)),
                Box::new(rng.random_range(1..100_000i32)),
            ]
        },
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    support::assert_no_proposal(&investigation);
    let finding = support::finding_for(&investigation, "WHERE aid = $2");
    assert_eq!(finding.verdict, Verdict::NoSequentialScan);
    let plan = finding.evidence.plan_before.as_deref().unwrap();
    assert!(
        plan.contains("Index Scan using ledger_accounts_pkey"),
        "{plan}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gist_index_serves_ltree_containment() {
    let client = support::database(
        "inv_ltree",
        "CREATE EXTENSION IF NOT EXISTS ltree;
         CREATE TABLE catalog_nodes (id bigserial PRIMARY KEY, path ltree NOT NULL);
         INSERT INTO catalog_nodes (path)
         SELECT ('top.s' || (g % 100) || '.n' || g)::ltree FROM generate_series(1, 100000) AS g;
         CREATE INDEX catalog_nodes_path ON catalog_nodes USING gist (path);
         ANALYZE catalog_nodes;",
    )
    .await;
    let workload = support::spawn_workload(
        "inv_ltree",
        "SELECT count(*) FROM catalog_nodes WHERE path <@ $1::ltree",
        Duration::from_secs(4),
        400,
        |rng| {
            vec![Box::new(format!(
                "top.s{}.n{}",
                rng.random_range(0..100),
                rng.random_range(1..100_000)
            ))]
        },
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    support::assert_no_proposal(&investigation);
    let finding = support::finding_for(&investigation, "path <@");
    let plan = finding.evidence.plan_before.as_deref().unwrap();
    assert!(plan.contains("catalog_nodes_path"), "{plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiny_table_names_real_cost() {
    // 1,000 staff rows looked up by email, next to 200,000 audit rows summed by a range that
    // covers most of the table, which is where the time goes.
    let client = support::database(
        "inv_tiny",
        "CREATE TABLE staff (id int PRIMARY KEY, email text NOT NULL);
         INSERT INTO staff SELECT g, 'staff' || g || '@example.org'
         FROM generate_series(1, 1000) AS g;
         CREATE TABLE audit_entries (id bigserial PRIMARY KEY, amount int NOT NULL);
         INSERT INTO audit_entries (amount) SELECT g % 1000 FROM generate_series(1, 200000) AS g;
         ANALYZE staff, audit_entries;",
    )
    .await;
    let lookups = support::spawn_workload(
        "inv_tiny",
        "SELECT id FROM staff WHERE email = $1",
        Duration::from_secs(4),
        2000,
        |rng| {
            vec![Box::new(format!(
                "staff{}@example.org",
                rng.random_range(1..1000)
            ))]
        },
    );
    let totals = support::spawn_workload(
        "inv_tiny",
        "SELECT sum(amount) FROM audit_entries WHERE amount > $1",
        Duration::from_secs(4),
        200,
        |rng| vec![Box::new(rng.random_range(0..100i32))],
    );
    let options = InvestigateOptions {
        min_share_pct: 0.1,
        ..support::options()
    };

    let investigation = investigate(&client, &options).await.unwrap();
    assert!(lookups.await.unwrap() > 0);
    assert!(totals.await.unwrap() > 0);

    let hottest = investigation.most_expensive().unwrap();
    assert!(hottest.query.contains("audit_entries"), "{hottest:#?}");
    let tiny = support::finding_for(&investigation, "FROM staff");
    assert!(tiny.proposed_action.is_none());
    assert!(
        matches!(&tiny.verdict, Verdict::TableTooSmall { table, .. } if table == "public.staff"),
        "{:?}",
        tiny.verdict
    );
    assert!(
        tiny.evidence
            .notes
            .iter()
            .any(|note| note.contains("audit_entries")),
        "{:#?}",
        tiny.evidence.notes
    );
    let real = support::finding_for(&investigation, "FROM audit_entries");
    assert!(real.proposed_action.is_none(), "{real:#?}");
    println!("tiny: {}\nreal cost: {}", tiny.summary, real.summary);
}
