//! The checks right before a build, on real clusters: a table the runner may build on, a
//! table of another role, a dropped table, and a standby.

use std::time::Duration;

use cluster::{ClusterKind, TempCluster};
use contracts::{CreateIndex, IndexKey, ServerId};
use runner::preflight::access::blocker;
use tokio_postgres::{Client, NoTls};

const DATABASE: &str = "preflight";

/// Roles are shared by every database of a cluster, so the names belong to this test alone.
const RUNNER_ROLE: &str = "dbagent_runner_preflight";
const RUNNER_PASSWORD: &str = "preflight-loopback-only";

async fn connect(config: tokio_postgres::Config) -> Client {
    let (client, connection) = config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

fn action(schema: &str, table: &str) -> CreateIndex {
    let key = IndexKey::Column {
        name: "account".into(),
        descending: false,
    };
    CreateIndex::new(schema, table, vec![key], None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ownership_and_existence_are_checked() {
    let primary = TempCluster::start(ClusterKind::Target).unwrap();
    primary.ensure_database(DATABASE).await.unwrap();
    let admin = connect(primary.config(DATABASE)).await;
    admin
        .batch_execute(&format!(
            "CREATE ROLE ledger_owner NOLOGIN;
             CREATE ROLE {RUNNER_ROLE} LOGIN PASSWORD '{RUNNER_PASSWORD}';
             CREATE SCHEMA ledger AUTHORIZATION ledger_owner;
             CREATE TABLE ledger.entries (id bigserial PRIMARY KEY, account int);
             ALTER TABLE ledger.entries OWNER TO ledger_owner;
             GRANT USAGE ON SCHEMA ledger TO {RUNNER_ROLE};
             CREATE SCHEMA app AUTHORIZATION {RUNNER_ROLE};
             CREATE TABLE app.orders (id bigserial PRIMARY KEY, account int);
             ALTER TABLE app.orders OWNER TO {RUNNER_ROLE};
             CREATE TABLE app.events (id bigint, account int, at date) PARTITION BY RANGE (at);
             ALTER TABLE app.events OWNER TO {RUNNER_ROLE};
             CREATE TABLE app.events_2025 PARTITION OF app.events
                 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
             ALTER TABLE app.events_2025 OWNER TO {RUNNER_ROLE};
             CREATE TABLE app.events_2026 PARTITION OF app.events
                 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
             ALTER TABLE app.events_2026 OWNER TO ledger_owner;"
        ))
        .await
        .unwrap();
    let mut config = primary.config(DATABASE);
    config.user(RUNNER_ROLE).password(RUNNER_PASSWORD);
    let runner = connect(config).await;
    let server = ServerId::from("preflight");

    let owned = blocker(&runner, &server, &action("app", "orders"))
        .await
        .unwrap();
    assert_eq!(owned, None);

    let foreign = blocker(&runner, &server, &action("ledger", "entries"))
        .await
        .unwrap()
        .expect("a blocker for a table of another role");
    assert!(
        foreign.contains("belongs to the role ledger_owner"),
        "{foreign}"
    );
    assert!(foreign.contains(RUNNER_ROLE), "{foreign}");

    let missing = blocker(&runner, &server, &action("app", "gone"))
        .await
        .unwrap()
        .expect("a blocker for a missing table");
    assert!(missing.contains("no longer exists"), "{missing}");

    let partition = blocker(&runner, &server, &action("app", "events"))
        .await
        .unwrap()
        .expect("a blocker for a partition of another role");
    assert!(
        partition.contains("app.events_2026 (owner ledger_owner)"),
        "{partition}"
    );
    assert!(!partition.contains("events_2025"), "{partition}");

    admin
        .batch_execute(&format!("GRANT ledger_owner TO {RUNNER_ROLE}"))
        .await
        .unwrap();
    let member = blocker(&runner, &server, &action("ledger", "entries"))
        .await
        .unwrap();
    assert_eq!(member, None);
    let all_partitions = blocker(&runner, &server, &action("app", "events"))
        .await
        .unwrap();
    assert_eq!(all_partitions, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_is_refused() {
    let primary = TempCluster::start(ClusterKind::Target).unwrap();
    primary.ensure_database(DATABASE).await.unwrap();
    let admin = connect(primary.config(DATABASE)).await;
    admin
        .batch_execute("CREATE TABLE orders (id bigserial PRIMARY KEY, account int)")
        .await
        .unwrap();
    let standby = TempCluster::start_standby(&primary).unwrap();
    standby
        .wait_for_replay(&primary, Duration::from_secs(60))
        .await
        .unwrap();
    let client = connect(standby.config(DATABASE)).await;
    let server = ServerId::from("preflight-standby");

    let reason = blocker(&client, &server, &action("public", "orders"))
        .await
        .unwrap()
        .expect("a blocker on a standby");
    assert!(reason.contains("in recovery"), "{reason}");
    assert!(reason.contains("primary"), "{reason}");
}
