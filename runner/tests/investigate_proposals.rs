//! Investigations that end in a proposed index: an unindexed equality filter on a number, a
//! text lookup, and a normalized statement with parameters in LIMIT and in a CASE.

mod support;

use std::time::Duration;

use rand::Rng;
use runner::investigate::{Finding, Investigation, Verdict, investigate};

fn proposal(investigation: &Investigation) -> &Finding {
    investigation
        .top_proposal()
        .unwrap_or_else(|| panic!("no proposal in {investigation:#?}"))
}

fn ddl(finding: &Finding) -> &str {
    finding.proposed_action.as_ref().unwrap().ddl()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equality_on_unindexed_number() {
    // 200,000 invoices over 20,000 accounts: 10 rows per account.
    let client = support::database(
        "inv_equality",
        "CREATE TABLE invoices (
             id bigserial PRIMARY KEY, account_ref bigint NOT NULL, amount numeric NOT NULL);
         INSERT INTO invoices (account_ref, amount)
         SELECT g % 20000, g % 997 FROM generate_series(1, 200000) AS g;
         ANALYZE invoices;",
    )
    .await;
    let workload = support::spawn_workload(
        "inv_equality",
        "SELECT id, amount FROM invoices WHERE account_ref = $1",
        Duration::from_secs(4),
        400,
        |rng| vec![Box::new(rng.random_range(0..20_000i64))],
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    let finding = proposal(&investigation);
    assert_eq!(finding.verdict, Verdict::IndexProposed);
    assert_eq!(
        ddl(finding),
        r#"CREATE INDEX CONCURRENTLY "idx_invoices_account_ref" ON "public"."invoices" ("account_ref")"#
    );
    let evidence = &finding.evidence;
    assert!(evidence.statement.contains("account_ref = $1"));
    assert!(evidence.query_id.is_some());
    assert!(evidence.calls_per_second > 0.0);
    assert!(evidence.mean_time_ms > 0.0);
    assert!(evidence.share_of_time_pct > 50.0, "{evidence:#?}");
    assert_eq!(evidence.table.as_deref(), Some("public.invoices"));
    assert!(evidence.table_size_bytes.unwrap() > 1_000_000);
    assert_eq!(evidence.table_rows, Some(200_000));
    assert!(evidence.seq_scans_in_window.unwrap() > 0);
    assert_eq!(evidence.table_writes_per_second, Some(0.0));
    assert!(
        evidence
            .plan_before
            .as_ref()
            .unwrap()
            .contains("Seq Scan on public.invoices")
    );
    assert!(
        evidence
            .plan_with_index
            .as_ref()
            .unwrap()
            .contains("Index Scan using")
    );
    assert!(evidence.cost_reduction_pct.unwrap() >= 50.0);
    assert!(evidence.cost_with_index.unwrap() < evidence.cost_before.unwrap());
    assert!(evidence.estimated_index_bytes.unwrap() > 0);
    let saving = evidence.estimated_saving_ms_per_second.unwrap();
    let spent = evidence.mean_time_ms * evidence.calls_per_second;
    assert!(
        saving > 0.0 && saving <= spent,
        "saving {saving} of {spent} ms/s"
    );
    assert!(!evidence.notes.is_empty());
    report("invoices", finding);
}

/// Prints the figures of a proposal, for the test log.
fn report(case: &str, finding: &Finding) {
    let evidence = &finding.evidence;
    println!(
        "{case}: cost {:.1} -> {:.1} ({:.1} % less), index {} bytes, {:.1} calls/s, {:.1} % of time",
        evidence.cost_before.unwrap_or_default(),
        evidence.cost_with_index.unwrap_or_default(),
        evidence.cost_reduction_pct.unwrap_or_default(),
        evidence.estimated_index_bytes.unwrap_or_default(),
        evidence.calls_per_second,
        evidence.share_of_time_pct
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_lookup_on_unindexed_column() {
    // 150,000 parcels with distinct text barcodes.
    let client = support::database(
        "inv_barcode",
        "CREATE TABLE parcels (
             id bigserial PRIMARY KEY, barcode text NOT NULL, weight_grams int NOT NULL);
         INSERT INTO parcels (barcode, weight_grams)
         SELECT 'PX-' || lpad(g::text, 9, '0'), g % 30000 FROM generate_series(1, 150000) AS g;
         ANALYZE parcels;",
    )
    .await;
    let workload = support::spawn_workload(
        "inv_barcode",
        "SELECT id, weight_grams FROM parcels p WHERE p.barcode = $1",
        Duration::from_secs(4),
        400,
        |rng| vec![Box::new(format!("PX-{:09}", rng.random_range(1..150_000)))],
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    let finding = proposal(&investigation);
    assert_eq!(
        ddl(finding),
        r#"CREATE INDEX CONCURRENTLY "idx_parcels_barcode" ON "public"."parcels" ("barcode")"#
    );
    assert!(finding.evidence.cost_reduction_pct.unwrap() >= 50.0);
    assert_eq!(finding.evidence.table.as_deref(), Some("public.parcels"));
    report("parcels", finding);
}

/// Loads the clinics table: 100,000 distinct emails and no index on them. The original
/// report had 500,000 rows; at this scale the generic plan is still a sequential scan.
const CLINICS: &str = "
    CREATE TABLE clinics (id bigserial PRIMARY KEY, email text, city text NOT NULL);
    INSERT INTO clinics (email, city)
    SELECT 'clinic' || g || '@example.org', 'city' || (g % 50)
    FROM generate_series(1, 100000) AS g;
    ANALYZE clinics;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normalized_statement_with_limit_parameter() {
    let client = support::database("inv_clinics", CLINICS).await;
    let workload = support::spawn_workload(
        "inv_clinics",
        "SELECT id, city FROM clinics WHERE email = $1 LIMIT $2",
        Duration::from_secs(4),
        400,
        |rng| {
            let email = format!("clinic{}@example.org", rng.random_range(1..100_000));
            vec![Box::new(email), Box::new(1i64)]
        },
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    let finding = proposal(&investigation);
    assert!(finding.evidence.statement.contains("LIMIT $2"));
    assert_eq!(
        ddl(finding),
        r#"CREATE INDEX CONCURRENTLY "idx_clinics_email" ON "public"."clinics" ("email")"#
    );
    // A custom plan with NULL parameters would be a "One-Time Filter: false" Result node.
    let plan = finding.evidence.plan_before.as_deref().unwrap();
    assert!(plan.contains("Seq Scan on public.clinics"), "{plan}");
    report("clinics", finding);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameter_inside_case_in_select_list() {
    let client = support::database("inv_clinics_case", CLINICS).await;
    let workload = support::spawn_workload(
        "inv_clinics_case",
        "SELECT id, CASE WHEN city = $1 THEN 'local' ELSE 'remote' END
         FROM clinics WHERE email = $2 LIMIT $3",
        Duration::from_secs(4),
        400,
        |rng| {
            let email = format!("clinic{}@example.org", rng.random_range(1..100_000));
            vec![Box::new("city7"), Box::new(email), Box::new(5i64)]
        },
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    let finding = proposal(&investigation);
    assert!(finding.evidence.statement.contains("CASE WHEN"));
    assert_eq!(
        ddl(finding),
        r#"CREATE INDEX CONCURRENTLY "idx_clinics_email" ON "public"."clinics" ("email")"#
    );
    report("clinics with CASE", finding);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_on_column_gets_expression_index() {
    // 150,000 members with a plain index on email, which lower(email) cannot use.
    let client = support::database(
        "inv_lower",
        "CREATE TABLE members (id bigserial PRIMARY KEY, email text NOT NULL);
         INSERT INTO members (email)
         SELECT 'Member' || g || '@Example.org' FROM generate_series(1, 150000) AS g;
         CREATE INDEX members_email ON members (email);
         ANALYZE members;",
    )
    .await;
    let workload = support::spawn_workload(
        "inv_lower",
        "SELECT id FROM members WHERE lower(email) = $1",
        Duration::from_secs(4),
        400,
        |rng| {
            vec![Box::new(format!(
                "member{}@example.org",
                rng.random_range(1..150_000)
            ))]
        },
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    let finding = proposal(&investigation);
    assert_eq!(
        ddl(finding),
        r#"CREATE INDEX CONCURRENTLY "idx_members_lower_email" ON "public"."members" ((lower(email)))"#
    );
    assert!(
        finding
            .evidence
            .notes
            .iter()
            .any(|note| note.contains("expression"))
    );
    report("members lower(email)", finding);
}
