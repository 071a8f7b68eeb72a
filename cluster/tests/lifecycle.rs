use cluster::{ClusterKind, StopMode, TempCluster};

async fn query_one(cluster: &cluster::Cluster, sql: &str) -> String {
    let (client, connection) = cluster
        .config("postgres")
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect to cluster");
    tokio::spawn(connection);
    let row = client.query_one(sql, &[]).await.expect(sql);
    row.get(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn target_is_configured_like_flexible_server() {
    let target = TempCluster::start(ClusterKind::Target).unwrap();

    assert_eq!(
        query_one(
            &target,
            "SELECT current_setting('shared_preload_libraries')"
        )
        .await,
        "pg_stat_statements"
    );
    assert_eq!(
        query_one(
            &target,
            "SELECT current_setting('pg_stat_statements.track')"
        )
        .await,
        "all"
    );
    assert_eq!(
        query_one(&target, "SELECT current_setting('track_io_timing')").await,
        "on"
    );
    assert_eq!(
        query_one(&target, "SELECT current_setting('listen_addresses')").await,
        "127.0.0.1"
    );
    let hypopg = query_one(
        &target,
        "SELECT name::text FROM pg_available_extensions WHERE name = 'hypopg'",
    )
    .await;
    assert_eq!(hypopg, "hypopg");
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_keeps_data_across_restart() {
    let mut temp = TempCluster::start(ClusterKind::Control).unwrap();
    temp.ensure_database("kept").await.unwrap();

    temp.stop(StopMode::Fast).unwrap();
    assert!(!temp.is_running());
    temp.cluster_mut().start().unwrap();

    let (client, connection) = temp
        .config("kept")
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let one: i32 = client.query_one("SELECT 1", &[]).await.unwrap().get(0);
    assert_eq!(one, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn ensure_reuses_existing_cluster() {
    let temp = TempCluster::start(ClusterKind::Control).unwrap();
    let state_dir = temp.root().parent().unwrap().to_path_buf();

    let again = cluster::Cluster::ensure(&state_dir, ClusterKind::Control).unwrap();

    assert_eq!(again.port(), temp.port());
    assert_eq!(again.credentials().password, temp.credentials().password);
    assert_eq!(again.postmaster_pid(), temp.postmaster_pid());
}

#[tokio::test(flavor = "multi_thread")]
async fn password_is_required() {
    let temp = TempCluster::start(ClusterKind::Control).unwrap();
    let mut config = temp.config("postgres");
    config.password("wrong");

    let error = config
        .connect(tokio_postgres::NoTls)
        .await
        .err()
        .expect("login must fail");

    let code = error.as_db_error().map(|db| db.code().clone());
    assert_eq!(
        code,
        Some(tokio_postgres::error::SqlState::INVALID_PASSWORD),
        "{error}"
    );
}
