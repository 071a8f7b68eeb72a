//! Drives the `dbagent` binary as a user would: up, status, workloads, down.

mod support;

use support::{Stack, cluster};

use std::path::Path;

use serde_json::Value;

/// Small enough to load in a few seconds; the CPU behaviour at full scale is tested in `scenario`.
const ORDERS: &str = "20000";

async fn count_orders(connection_string: &str) -> (i64, i64) {
    let (client, connection) = tokio_postgres::connect(connection_string, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let orders: i64 = client
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .unwrap()
        .get(0);
    let customer_indexes: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_index i JOIN pg_attribute a
               ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
             WHERE i.indrelid = 'public.orders'::regclass AND a.attname = 'customer_id'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    (orders, customer_indexes)
}

fn workload_names(status: &Value) -> Vec<String> {
    status["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|workload| workload["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn up_status_workload_down() {
    let stack = Stack::new();

    let up = stack.up(ORDERS);
    assert!(up.contains("target"), "{up}");

    let status = stack.status();
    let control = cluster(&status, "control");
    let target = cluster(&status, "target");
    assert_eq!(control["running"], true);
    assert_eq!(target["running"], true);
    assert_ne!(control["port"], target["port"]);
    let target_dsn = target["connection_string"].as_str().unwrap();
    assert!(
        target_dsn.starts_with("postgres://dbagent:"),
        "{target_dsn}"
    );
    assert!(target["cpu_pct"].is_number(), "{target}");

    let (orders, customer_indexes) = count_orders(target_dsn).await;
    assert_eq!(orders, 20_000);
    assert_eq!(customer_indexes, 0);

    stack.run_ok(&["workload", "start", "orders-by-customer", "--rate", "20"]);
    assert_eq!(workload_names(&stack.status()), ["orders-by-customer"]);

    stack.run_ok(&["workload", "stop"]);
    assert!(workload_names(&stack.status()).is_empty());

    stack.run_ok(&["down"]);
    let status = stack.status();
    assert_eq!(cluster(&status, "control")["running"], false);
    assert_eq!(cluster(&status, "target")["running"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn up_again_reuses_clusters_and_data() {
    let stack = Stack::new();
    stack.up(ORDERS);
    let first = stack.status();
    stack.run_ok(&["down"]);

    let again = stack.up(ORDERS);

    let second = stack.status();
    let dsn = |status: &Value| cluster(status, "target")["connection_string"].clone();
    assert_eq!(dsn(&first), dsn(&second));
    assert!(again.contains("running"), "{again}");
    let (orders, _) = count_orders(dsn(&second).as_str().unwrap()).await;
    assert_eq!(orders, 20_000);
}

#[test]
fn invalid_inputs_name_the_value() {
    let stack = Stack::new();
    let cases: [(&[&str], &str); 4] = [
        (&["up", "--orders", "5"], "5"),
        (&["workload", "start", "nope"], "nope"),
        (&["--vcores", "0", "status"], "--vcores 0"),
        (&["seed"], "dbagent up"),
    ];
    for (args, expected) in cases {
        let output = stack.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "dbagent {args:?} should fail");
        assert!(stderr.contains(expected), "dbagent {args:?}: {stderr}");
    }
    assert!(
        !stack.state_dir.join("target").exists(),
        "no cluster may start on bad input"
    );
}

#[test]
fn status_without_clusters_says_how_to_start() {
    let stack = Stack::new();
    let output = stack.run_ok(&["status"]);
    assert!(output.contains("dbagent up"), "{output}");
    assert!(Path::new(&stack.state_dir).exists());
}
