//! A hot lookup on a partitioned table: the plan scans each partition, and the finding proposes
//! an index on the partitioned table, built partition by partition, also when the partitions
//! are partitioned themselves. The proposed action is then built, to prove that it runs.

mod support;

use std::time::Duration;

use contracts::{CreateIndex, ProposedAction, ServerId};
use rand::Rng;
use runner::execute::{BuildTimeouts, build_index, index_validity};
use runner::investigate::{Finding, Verdict, investigate};
use tokio_postgres::Client;

fn proposed_index(finding: &Finding) -> &CreateIndex {
    match &finding.proposed_action {
        Some(ProposedAction::CreateIndex(action)) => action,
        Some(other) => panic!("an investigation proposed {other:?}, not an index"),
        None => panic!("no proposal in {finding:#?}"),
    }
}

/// Builds the proposed index and returns whether it ended valid.
async fn build_is_valid(client: &Client, action: &CreateIndex) -> bool {
    let server = ServerId::from("investigate-partitions");
    let timeouts = BuildTimeouts {
        lock: Duration::from_secs(5),
        statement: Duration::from_secs(60),
    };
    build_index(client, &server, action, timeouts)
        .await
        .unwrap();
    let validity = index_validity(client, &server, &action.schema, &action.index_name)
        .await
        .unwrap();
    validity == Some(true)
}

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
async fn partition_scan_proposes_parent_index() {
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
    assert_eq!(finding.verdict, Verdict::IndexProposed, "{finding:#?}");
    let action = proposed_index(finding);
    eprintln!("{}", action.ddl);
    assert_eq!(action.table, "readings");
    assert_eq!(action.partitions.len(), 2);
    let lines: Vec<&str> = action.ddl.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(
            r#"CREATE INDEX "idx_readings_sensor_ref" ON ONLY "public"."readings" ("sensor_ref");"#
        )
    );
    for partition in ["readings_2025", "readings_2026"] {
        let build = format!(
            r#"CREATE INDEX CONCURRENTLY "idx_readings_sensor_ref_{partition}" ON "public"."{partition}" ("sensor_ref");"#
        );
        assert!(lines.contains(&build.as_str()), "{}", action.ddl);
        let attach = format!(
            r#"ALTER INDEX "public"."idx_readings_sensor_ref" ATTACH PARTITION "public"."idx_readings_sensor_ref_{partition}";"#
        );
        assert!(lines.contains(&attach.as_str()), "{}", action.ddl);
    }
    assert!(finding.summary.contains("ON ONLY"), "{}", finding.summary);
    assert!(
        finding.summary.contains("each of the 2 leaf partitions"),
        "{}",
        finding.summary
    );
    assert!(
        finding
            .evidence
            .notes
            .iter()
            .any(|note| note.contains("readings_2025") && note.contains("readings_2026")),
        "{:#?}",
        finding.evidence.notes
    );
    assert!(
        finding
            .evidence
            .notes
            .iter()
            .any(|note| note.contains("on each of the 2 leaf partitions")),
        "{:#?}",
        finding.evidence.notes
    );
    assert!(build_is_valid(&client, action).await);
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
async fn nested_partitions_propose_root_index() {
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
    assert_eq!(finding.verdict, Verdict::IndexProposed, "{finding:#?}");
    let action = proposed_index(finding);
    eprintln!("{}", action.ddl);
    assert_eq!(action.table, "events");
    for partition in ["events_eu", "events_us"] {
        let on_only = format!(
            r#"CREATE INDEX "idx_events_device_ref_{partition}" ON ONLY "public"."{partition}" ("device_ref");"#
        );
        assert!(action.ddl.contains(&on_only), "{}", action.ddl);
    }
    for partition in [
        "events_eu_2025",
        "events_eu_2026",
        "events_us_2025",
        "events_us_2026",
    ] {
        let build = format!(
            r#"CREATE INDEX CONCURRENTLY "idx_events_device_ref_{partition}" ON "public"."{partition}""#
        );
        assert!(action.ddl.contains(&build), "{}", action.ddl);
    }
    let partition_note = finding
        .evidence
        .notes
        .iter()
        .find(|note| note.contains("on each of the 4 leaf partitions"));
    assert!(
        partition_note.is_some(),
        "no note on the partitions: {:#?}",
        finding.evidence.notes
    );
    assert!(build_is_valid(&client, action).await);
}
