use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use cluster::{Cluster, ClusterKind, StopMode, TempCluster};
use tokio_postgres::{Client, NoTls};

const REPLAY_TIMEOUT: Duration = Duration::from_secs(30);

async fn connect(cluster: &Cluster) -> Client {
    let (client, connection) = cluster
        .config("postgres")
        .connect(NoTls)
        .await
        .expect("connect to cluster");
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread")]
async fn standby_replays_primary_writes() {
    let primary = TempCluster::start(ClusterKind::Control).unwrap();
    let started = Instant::now();
    let standby = TempCluster::start_standby(&primary).unwrap();
    println!("standby created and started in {:?}", started.elapsed());

    assert_ne!(standby.port(), primary.port());
    assert!(standby.is_standby());
    assert!(!primary.is_standby());

    let primary_client = connect(&primary).await;
    primary_client
        .batch_execute(
            "CREATE TABLE replicated (id int PRIMARY KEY, note text NOT NULL);
             INSERT INTO replicated SELECT g, 'row ' || g FROM generate_series(1, 1000) AS g;",
        )
        .await
        .unwrap();
    let waited = standby
        .wait_for_replay(&primary, REPLAY_TIMEOUT)
        .await
        .unwrap();
    println!("standby replayed the writes in {waited:?}");

    let standby_client = connect(&standby).await;
    let in_recovery: bool = standby_client
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(in_recovery);
    let rows: i64 = standby_client
        .query_one("SELECT count(*) FROM replicated", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1000);
    let primary_in_recovery: bool = primary_client
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!primary_in_recovery);
}

#[tokio::test(flavor = "multi_thread")]
async fn standby_streams_from_its_primary() {
    let primary = TempCluster::start(ClusterKind::Control).unwrap();
    let standby = TempCluster::start_standby(&primary).unwrap();
    standby
        .wait_for_replay(&primary, REPLAY_TIMEOUT)
        .await
        .unwrap();

    let standby_client = connect(&standby).await;
    let receiver = standby_client
        .query_one(
            "SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(receiver.get::<_, String>(0), "streaming");
    assert_eq!(receiver.get::<_, String>(1), "127.0.0.1");
    assert_eq!(receiver.get::<_, i32>(2), i32::from(primary.port()));

    let settings = standby_client
        .query_one(
            "SELECT current_setting('hot_standby'), current_setting('hot_standby_feedback')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(settings.get::<_, String>(0), "on");
    assert_eq!(settings.get::<_, String>(1), "on");

    let write = standby_client
        .batch_execute("CREATE TABLE refused (id int)")
        .await
        .expect_err("a standby must reject writes");
    assert_eq!(
        write.code(),
        Some(&tokio_postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION),
        "{write}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn standby_catches_up_after_restart() {
    let primary = TempCluster::start(ClusterKind::Control).unwrap();
    let mut standby = TempCluster::start_standby(&primary).unwrap();
    let passfile = std::fs::metadata(standby.root().join("primary.pgpass")).unwrap();
    assert_eq!(passfile.permissions().mode() & 0o777, 0o600);

    standby.stop(StopMode::Fast).unwrap();
    let primary_client = connect(&primary).await;
    primary_client
        .batch_execute(
            "CREATE TABLE while_down AS SELECT g AS id FROM generate_series(1, 500) AS g",
        )
        .await
        .unwrap();
    standby.cluster_mut().start().unwrap();
    let waited = standby
        .wait_for_replay(&primary, REPLAY_TIMEOUT)
        .await
        .unwrap();
    println!("restarted standby caught up in {waited:?}");

    assert!(standby.is_standby());
    let standby_client = connect(&standby).await;
    let rows: i64 = standby_client
        .query_one("SELECT count(*) FROM while_down", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 500);
}
