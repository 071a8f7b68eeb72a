//! A hot lookup on a partitioned table: the plan scans each partition, and the finding says
//! why no single concurrent build serves it.

mod support;

use std::time::Duration;

use rand::Rng;
use runner::investigate::{Verdict, investigate};

/// 200,000 readings in two yearly partitions of 100,000 rows, 2,000 sensors: every lookup
/// reads both partitions in full.
const READINGS: &str = "
    CREATE TABLE readings (
        id bigint NOT NULL, sensor_ref int NOT NULL, taken date NOT NULL, value int)
    PARTITION BY RANGE (taken);
    CREATE TABLE readings_2025 PARTITION OF readings
        FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    CREATE TABLE readings_2026 PARTITION OF readings
        FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    INSERT INTO readings
    SELECT g, g % 2000, date '2025-01-01' + (g % 730), g % 100
    FROM generate_series(1, 200000) AS g;
    ANALYZE readings;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_scan_names_its_parent() {
    let database = "inv_partitions";
    let client = support::database(database, READINGS).await;
    let workload = support::spawn_workload(
        database,
        "SELECT id, value FROM readings WHERE sensor_ref = $1",
        Duration::from_secs(4),
        400,
        |rng| vec![Box::new(rng.random_range(0..2000i32))],
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    let finding = support::finding_for(&investigation, "sensor_ref = $1");
    eprintln!("{:?}\n{:#?}", finding.verdict, finding.evidence.notes);
    assert!(finding.proposed_action.is_none(), "{finding:#?}");
    assert_eq!(
        finding.verdict,
        Verdict::NotIndexable {
            table: "readings".into(),
            kind: "partitioned table".into(),
        }
    );
    assert!(
        finding.summary.contains("partitioned table"),
        "{}",
        finding.summary
    );
    assert!(
        finding.evidence.notes.iter().any(|note| {
            note.contains("readings_2025")
                && note.contains("readings_2026")
                && note.contains("ON ONLY readings")
        }),
        "{:#?}",
        finding.evidence.notes
    );
}
