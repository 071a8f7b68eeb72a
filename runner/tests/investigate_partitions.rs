//! A hot lookup on a partitioned table: the plan scans each partition, and the finding
//! explains why no single concurrent build serves it, also when the partitions are
//! partitioned themselves.

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

/// 200,000 events in two regions, each partitioned again by year, so that every partition the
/// plan scans sits two levels below the table the statement names.
const EVENTS: &str = "
    CREATE TABLE events (
        id bigint NOT NULL, device_ref int NOT NULL, region text NOT NULL, taken date NOT NULL)
    PARTITION BY LIST (region);
    CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu') PARTITION BY RANGE (taken);
    CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us') PARTITION BY RANGE (taken);
    CREATE TABLE events_eu_2025 PARTITION OF events_eu
        FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    CREATE TABLE events_eu_2026 PARTITION OF events_eu
        FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    CREATE TABLE events_us_2025 PARTITION OF events_us
        FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    CREATE TABLE events_us_2026 PARTITION OF events_us
        FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    INSERT INTO events
    SELECT g, g % 2000, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END,
           date '2025-01-01' + (g % 730)
    FROM generate_series(1, 200000) AS g;
    ANALYZE events;";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_partitions_name_their_root() {
    let database = "inv_nested_partitions";
    let client = support::database(database, EVENTS).await;
    let workload = support::spawn_workload(
        database,
        "SELECT id FROM events WHERE device_ref = $1",
        Duration::from_secs(4),
        400,
        |rng| vec![Box::new(rng.random_range(0..2000i32))],
    );

    let investigation = investigate(&client, &support::options()).await.unwrap();
    assert!(workload.await.unwrap() > 0);

    let finding = support::finding_for(&investigation, "device_ref = $1");
    eprintln!("{:?}\n{:#?}", finding.verdict, finding.evidence.notes);
    assert!(finding.proposed_action.is_none(), "{finding:#?}");
    assert_eq!(
        finding.verdict,
        Verdict::NotIndexable {
            table: "events".into(),
            kind: "partitioned table".into(),
        }
    );
    let partition_note = finding
        .evidence
        .notes
        .iter()
        .find(|note| note.contains("ON ONLY events"));
    let Some(partition_note) = partition_note else {
        panic!("no note on the partitions: {:#?}", finding.evidence.notes);
    };
    for partition in [
        "events_eu_2025",
        "events_eu_2026",
        "events_us_2025",
        "events_us_2026",
    ] {
        assert!(partition_note.contains(partition), "{partition_note}");
    }
}
