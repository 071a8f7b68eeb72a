//! The whole scenario headless, through the real binary: two incidents, the first approved by a
//! person through the API, the second fixed on its own under the always-allow instruction.

mod support;

use contracts::TimelineEventKind;
use control::ControlPlane;
use serde_json::Value;
use support::{Stack, cluster};
use tokio_postgres::NoTls;

/// Enough rows that both workloads' sequential scans saturate two cores at the default rate;
/// the full 2 million would only make the test slower.
const ORDERS: &str = "500000";

async fn valid_index(target_dsn: &str, name: &str) -> Option<bool> {
    let (client, connection) = tokio_postgres::connect(target_dsn, NoTls).await.unwrap();
    tokio::spawn(connection);
    let row = client
        .query_opt("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1", &[&name])
        .await
        .unwrap();
    row.map(|row| row.get(0))
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_resolves_two_incidents() {
    let stack = Stack::new();
    stack.up(ORDERS);

    let output = stack.run_ok(&["demo", "--json", "--timeout", "300"]);

    let report: Value = serde_json::from_str(&output).unwrap();
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 2, "{report}");
    let expected = [
        ("public.orders", "customer_id", "human_approved"),
        ("public.shipments", "tracking_number", "autonomous"),
    ];
    for (incident, (table, column, resolution)) in incidents.iter().zip(expected) {
        assert_eq!(incident["table"], table, "{incident}");
        assert_eq!(incident["columns"][0], column, "{incident}");
        assert_eq!(incident["resolution"], resolution, "{incident}");
        assert!(
            incident["cpu_before_pct"].as_f64().unwrap() > 80.0,
            "{incident}"
        );
        assert!(
            incident["cpu_after_pct"].as_f64().unwrap() < 80.0,
            "{incident}"
        );
        let mean_before = incident["mean_time_before_ms"].as_f64().unwrap();
        let mean_after = incident["mean_time_after_ms"].as_f64().unwrap();
        assert!(mean_after < mean_before, "{incident}");
        assert!(
            incident["detected_after_s"].as_f64().unwrap() > 0.0,
            "{incident}"
        );
        assert!(
            incident["resolved_after_s"].as_f64().unwrap() > 0.0,
            "{incident}"
        );
        assert!(
            incident["ddl"]
                .as_str()
                .unwrap()
                .starts_with("CREATE INDEX CONCURRENTLY"),
            "{incident}"
        );
    }

    let status = stack.status();
    let target_dsn = cluster(&status, "target")["connection_string"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        valid_index(&target_dsn, "idx_orders_customer_id").await,
        Some(true)
    );
    assert_eq!(
        valid_index(&target_dsn, "idx_shipments_tracking_number").await,
        Some(true)
    );

    let control_dsn = cluster(&status, "control")["connection_string"]
        .as_str()
        .unwrap()
        .to_string();
    let control = ControlPlane::connect_postgres(&control_dsn).await.unwrap();
    let kinds: Vec<TimelineEventKind> = control
        .timeline(&"local-target".into())
        .await
        .unwrap()
        .iter()
        .map(|event| event.kind)
        .collect();
    let count = |kind| kinds.iter().filter(|seen| **seen == kind).count();
    assert_eq!(count(TimelineEventKind::AlertFired), 2, "{kinds:?}");
    assert_eq!(count(TimelineEventKind::ApprovalRequested), 1, "{kinds:?}");
    assert_eq!(count(TimelineEventKind::InstructionCreated), 1, "{kinds:?}");
    assert_eq!(count(TimelineEventKind::Resolved), 2, "{kinds:?}");
    assert_eq!(count(TimelineEventKind::Failed), 0, "{kinds:?}");
}
