//! Investigations where the statement's shape decides: an OR across joined tables and a
//! pattern with a leading wildcard defeat every btree index, while a LATERAL subquery
//! correlated with its outer row gets an index found from the join condition.

mod support;

use std::time::Duration;

use rand::Rng;
use runner::investigate::{Verdict, investigate};

/// 20,000 authors and 200,000 books, both searched columns indexed. The OR across the two
/// tables leaves a hash join over two sequential scans at any size, because neither index
/// alone can decide which rows join.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn or_across_joined_tables() {
    let client = support::database(
        "inv_or_join",
        "CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);
         CREATE TABLE books (
             id bigserial PRIMARY KEY, author_id int NOT NULL REFERENCES authors,
             title text NOT NULL);
         INSERT INTO authors SELECT g, 'author ' || g FROM generate_series(1, 20000) AS g;
         INSERT INTO books (author_id, title)
         SELECT 1 + g % 20000, 'title ' || g FROM generate_series(1, 200000) AS g;
         CREATE INDEX books_title ON books (title);
         CREATE INDEX authors_name ON authors (name);
         ANALYZE authors, books;",
    )
    .await;
    let workload = support::spawn_workload(
        "inv_or_join",
        "SELECT b.id FROM books b JOIN authors a ON a.id = b.author_id
         WHERE b.title = $1 OR a.name = $2",
        Duration::from_secs(4),
        400,
        |rng| {
            vec![
                Box::new(format!("title {}", rng.random_range(1..200_000))),
                Box::new(format!("author {}", rng.random_range(1..20_000))),
            ]
        },
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    support::assert_no_proposal(&investigation);
    let finding = support::finding_for(&investigation, "OR a.name = $2");
    println!(
        "verdict: {:?}\nplan:\n{}",
        finding.verdict,
        plan_before(finding)
    );
    assert!(
        plan_before(finding).contains("Seq Scan on public.books"),
        "{}",
        plan_before(finding)
    );
    assert_eq!(finding.verdict.code(), "query_shape", "{finding:#?}");
    let explanation = finding.verdict.explanation();
    assert!(explanation.contains("OR"), "{explanation}");
    assert!(explanation.contains("UNION"), "{explanation}");
    assert!(finding.summary.contains("UNION"), "{}", finding.summary);
}

/// 300,000 log events searched by a substring. Any pattern with a wildcard in front defeats a
/// btree index whatever the table's size, so the size only has to pass the small-table limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leading_wildcard_is_a_query_shape() {
    let client = support::database(
        "inv_wildcard",
        "CREATE TABLE events_log (id bigserial PRIMARY KEY, source text);
         INSERT INTO events_log (source)
         SELECT 'host-' || (g % 5000) || '.zone' || (g % 7) FROM generate_series(1, 300000) AS g;
         ANALYZE events_log;",
    )
    .await;
    let workload = support::spawn_workload(
        "inv_wildcard",
        "SELECT id FROM events_log WHERE source ILIKE '%' || $1 || '%'",
        Duration::from_secs(4),
        400,
        |rng| vec![Box::new(format!("t-{}.", rng.random_range(0..5000)))],
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    support::assert_no_proposal(&investigation);
    let finding = support::finding_for(&investigation, "ILIKE");
    println!("verdict: {:?}", finding.verdict);
    assert!(
        matches!(&finding.verdict, Verdict::QueryShape { table, .. } if table == "public.events_log"),
        "{:?}",
        finding.verdict
    );
    let explanation = finding.verdict.explanation();
    for expected in [
        "ILIKE",
        "trigram",
        "unvalidated",
        "never built under an always-allow",
    ] {
        assert!(explanation.contains(expected), "{expected}: {explanation}");
    }
    assert!(finding.summary.contains("trigram"), "{}", finding.summary);
    assert!(
        finding
            .evidence
            .notes
            .iter()
            .any(|note| note.contains("ILIKE")),
        "{:#?}",
        finding.evidence.notes
    );
}

/// 2,000 customers in 400 regions and 300,000 events. A correlated aggregate has no other plan
/// than a scan of events per outer row until events has an index on the join column, so the
/// plan is the same at 50 million rows. A call covers the 5 customers of a region.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lateral_join_condition_gets_index() {
    let client = support::database(
        "inv_lateral",
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, region int NOT NULL);
         INSERT INTO customers SELECT g, 'customer ' || g, g % 400
         FROM generate_series(1, 2000) AS g;
         CREATE TABLE events (
             id bigserial PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
             payload text NOT NULL);
         INSERT INTO events (customer_id, status, payload)
         SELECT 1 + g % 2000, (ARRAY['new', 'sent', 'failed', 'done'])[1 + (g / 7) % 4],
                'payload ' || g
         FROM generate_series(1, 300000) AS g;
         ANALYZE customers, events;",
    )
    .await;
    let workload = support::spawn_workload(
        "inv_lateral",
        "SELECT c.id, e.n FROM customers c
         CROSS JOIN LATERAL (
             SELECT count(*) AS n FROM events e WHERE e.customer_id = c.id AND e.status = $2
         ) e
         WHERE c.region = $1",
        Duration::from_secs(4),
        400,
        |rng| vec![Box::new(rng.random_range(0..400i32)), Box::new("failed")],
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    let finding = support::finding_for(&investigation, "LATERAL");
    let plan = plan_before(finding);
    println!("plan before:\n{plan}");
    assert!(plan.contains("Nested Loop"), "{plan}");
    assert!(plan.contains("Seq Scan on public.events"), "{plan}");
    assert_eq!(finding.verdict, Verdict::IndexProposed, "{finding:#?}");
    let ddl = support::proposed_ddl(finding);
    let expected = [
        r#"CREATE INDEX CONCURRENTLY "idx_events_customer_id" ON "public"."events" ("customer_id")"#,
        r#"CREATE INDEX CONCURRENTLY "idx_events_customer_id_status" ON "public"."events" ("customer_id", "status")"#,
    ];
    assert!(expected.contains(&ddl), "{ddl}");
    assert_eq!(finding.evidence.table.as_deref(), Some("public.events"));
    let with_index = finding.evidence.plan_with_index.as_deref().unwrap();
    assert!(with_index.contains("Index"), "{with_index}");
    assert!(
        !with_index.contains("Seq Scan on public.events"),
        "{with_index}"
    );
    assert!(finding.evidence.cost_reduction_pct.unwrap() >= 50.0);
    println!(
        "{ddl}: {:.1} % less",
        finding.evidence.cost_reduction_pct.unwrap()
    );
}

fn plan_before(finding: &runner::investigate::Finding) -> &str {
    finding.evidence.plan_before.as_deref().unwrap_or_default()
}

/// A hot lookup through a view over 200,000 payments: the plan scans the table beneath it,
/// and the finding names the view and that table rather than calling the plan indexed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_through_view_is_explained() {
    let database = "inv_view";
    let client = support::database(
        database,
        "CREATE TABLE payments (id bigserial PRIMARY KEY, payer int NOT NULL, amount int);
         INSERT INTO payments (payer, amount)
         SELECT g % 10000, g FROM generate_series(1, 200000) AS g;
         CREATE VIEW big_payments AS SELECT * FROM payments WHERE amount > 1000;
         ANALYZE payments;",
    )
    .await;
    let workload = support::spawn_workload(
        database,
        "SELECT sum(amount) FROM big_payments WHERE payer = $1",
        Duration::from_secs(4),
        400,
        |rng| vec![Box::new(rng.random_range(0..10_000i32))],
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    let finding = support::finding_for(&investigation, "FROM big_payments");
    assert!(finding.proposed_action.is_none(), "{finding:#?}");
    assert_eq!(
        finding.verdict,
        Verdict::NotIndexable {
            table: "public.big_payments".into(),
            kind: "view".into(),
        }
    );
    assert!(
        finding
            .evidence
            .notes
            .iter()
            .any(|note| note.contains("reads public.payments sequentially through it")),
        "{:#?}",
        finding.evidence.notes
    );
}
