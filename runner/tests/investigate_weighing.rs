//! A proposal weighed across the window's statements: an index that serves two statements
//! counts the saving on both, and its notes state its upkeep on writes.

mod support;

use std::time::Duration;

use rand::Rng;
use runner::investigate::{Verdict, investigate};

/// 200,000 shipments over 5,000 carriers, 40 rows per carrier. Both statements read the
/// whole table without an index on `carrier_ref`, while up to 1,000 updates, one row in 200,
/// run meanwhile.
const SHIPMENTS: &str = "
    CREATE TABLE shipments (
        id bigserial PRIMARY KEY, carrier_ref int NOT NULL, weight int NOT NULL);
    INSERT INTO shipments (carrier_ref, weight)
    SELECT g % 5000, g % 1000 FROM generate_series(1, 200000) AS g;
    ANALYZE shipments;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_counts_every_served_statement() {
    let database = "inv_weighing";
    let client = support::database(database, SHIPMENTS).await;
    let seconds = Duration::from_secs(4);
    let lookups = support::spawn_workload(
        database,
        "SELECT id, weight FROM shipments WHERE carrier_ref = $1",
        seconds,
        400,
        |rng| vec![Box::new(rng.random_range(0..5000i32))],
    );
    let heavy = support::spawn_workload(
        database,
        "SELECT count(*) FROM shipments WHERE carrier_ref = $1 AND weight > $2",
        seconds,
        150,
        |rng| {
            vec![
                Box::new(rng.random_range(0..5000i32)),
                Box::new(rng.random_range(0..1000i32)),
            ]
        },
    );
    let writes = support::spawn_workload(
        database,
        "UPDATE shipments SET weight = weight + 1 WHERE id = $1",
        seconds,
        1000,
        |rng| vec![Box::new(rng.random_range(1..200_000i64))],
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    for workload in [lookups, heavy, writes] {
        assert!(workload.await.unwrap() > 0);
    }

    let top = investigation.top_proposal().expect("a proposal");
    for finding in &investigation.findings {
        eprintln!(
            "{} {:?} saving {:?}\n  {:#?}",
            finding.evidence.statement,
            finding.verdict,
            finding.evidence.estimated_saving_ms_per_second,
            finding.evidence.notes
        );
    }
    assert_eq!(top.verdict, Verdict::IndexProposed);
    assert!(
        top.proposed_action
            .as_ref()
            .unwrap()
            .ddl()
            .contains(r#"ON "public"."shipments" ("carrier_ref""#),
        "{top:#?}"
    );
    let evidence = &top.evidence;
    let own =
        evidence.mean_time_ms * evidence.calls_per_second * evidence.cost_reduction_pct.unwrap()
            / 100.0;
    let saving = evidence.estimated_saving_ms_per_second.unwrap();
    assert!(
        saving > own,
        "saving {saving} ms/s is not above {own} ms/s on its own statement"
    );
    assert!(
        evidence
            .notes
            .iter()
            .any(|note| note.starts_with("It also cuts the planned cost of statement")),
        "{:#?}",
        evidence.notes
    );
    assert!(
        evidence
            .notes
            .iter()
            .any(|note| note.starts_with("Upkeep: public.shipments saw")
                && !note.contains("saw 0.0 row writes")),
        "{:#?}",
        evidence.notes
    );
    let best_saving = investigation
        .findings
        .iter()
        .filter_map(|finding| finding.evidence.estimated_saving_ms_per_second)
        .fold(0.0, f64::max);
    assert_eq!(saving, best_saving);
}
