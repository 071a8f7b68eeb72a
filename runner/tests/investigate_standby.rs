//! An investigation on a hot standby: it reads the role and the primary's address, plans with
//! HypoPG read-only, proposes the index for a read workload that runs on the standby, and
//! changes nothing there.

use std::time::{Duration, Instant};

use cluster::{Cluster, ClusterKind, TempCluster};
use rand::distr::{Alphanumeric, SampleString};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use runner::investigate::{
    InvestigateOptions, Investigation, ServerRole, Verdict, investigate, server_role,
};
use tokio::task::JoinHandle;
use tokio_postgres::{Client, NoTls};

const DATABASE: &str = "standby_clinics";
const REPLAY_TIMEOUT: Duration = Duration::from_secs(60);
const STATEMENT: &str = "SELECT id FROM clinics WHERE email = $1";

/// 100,000 distinct emails and no index on them, so the lookup scans the table.
const SCHEMA: &str = "
    CREATE EXTENSION pg_stat_statements;
    CREATE EXTENSION hypopg;
    CREATE TABLE clinics (id bigserial PRIMARY KEY, email text);
    INSERT INTO clinics (email)
    SELECT 'clinic' || g || '@example.org' FROM generate_series(1, 100000) AS g;
    ANALYZE clinics;";

async fn connect(config: tokio_postgres::Config) -> Client {
    let (client, connection) = config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Extensions, relations and indexes of the database, which an investigation must leave alone.
async fn catalog_state(client: &Client) -> Vec<String> {
    let rows = client
        .query(
            "SELECT 'extension ' || extname || ' ' || extversion FROM pg_extension
             UNION ALL
             SELECT 'relation ' || oid::regclass::text || ' ' || relkind::text FROM pg_class
             WHERE relnamespace = 'public'::regnamespace
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    rows.iter().map(|row| row.get(0)).collect()
}

async fn in_recovery(client: &Client) -> bool {
    client
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .unwrap()
        .get(0)
}

/// Runs `STATEMENT` with random existing emails for `duration` on a connection of its own.
fn spawn_lookups(standby: &Cluster, duration: Duration) -> JoinHandle<u64> {
    let config = standby.config(DATABASE);
    tokio::spawn(async move {
        let client = connect(config).await;
        let statement = client.prepare(STATEMENT).await.unwrap();
        let mut rng = StdRng::seed_from_u64(11);
        let started = Instant::now();
        let mut calls = 0;
        while started.elapsed() < duration {
            let email = format!("clinic{}@example.org", rng.random_range(1..=100_000));
            client.query(&statement, &[&email]).await.unwrap();
            calls += 1;
        }
        calls
    })
}

/// Starts a Target primary with the clinics table and a hot standby of it, and waits until the
/// standby has replayed everything.
async fn primary_and_standby() -> (TempCluster, TempCluster) {
    let primary = TempCluster::start(ClusterKind::Target).unwrap();
    primary.ensure_database(DATABASE).await.unwrap();
    let client = connect(primary.config(DATABASE)).await;
    client.batch_execute(SCHEMA).await.unwrap();

    let started = Instant::now();
    let standby = TempCluster::start_standby(&primary).unwrap();
    println!("standby created and started in {:?}", started.elapsed());
    let waited = standby
        .wait_for_replay(&primary, REPLAY_TIMEOUT)
        .await
        .unwrap();
    println!("standby replayed the primary's WAL in {waited:?}");
    (primary, standby)
}

fn clinics_finding(investigation: &Investigation) -> &runner::investigate::Finding {
    investigation
        .findings
        .iter()
        .find(|finding| finding.evidence.statement.contains("email = $1"))
        .unwrap_or_else(|| panic!("no finding for the email lookup in {investigation:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_investigation_proposes_index_read_only() {
    let test_started = Instant::now();
    let (primary, standby) = primary_and_standby().await;
    let primary_client = connect(primary.config(DATABASE)).await;
    let standby_client = connect(standby.config(DATABASE)).await;

    assert!(in_recovery(&standby_client).await);
    assert_eq!(
        server_role(&standby_client).await.unwrap(),
        ServerRole::Standby {
            primary: Some(format!("127.0.0.1:{}", primary.port())),
        }
    );
    assert_eq!(
        server_role(&primary_client).await.unwrap(),
        ServerRole::Primary
    );

    let catalog_before = catalog_state(&standby_client).await;
    let lookups = spawn_lookups(&standby, Duration::from_secs(4));
    let options = InvestigateOptions {
        window: Duration::from_secs(3),
        ..InvestigateOptions::default()
    };
    let investigation_started = Instant::now();
    let investigation = investigate(&standby_client, &options).await.unwrap();
    println!(
        "investigation on the standby took {:?}",
        investigation_started.elapsed()
    );
    let calls = lookups.await.unwrap();
    println!("lookups on the standby: {calls}");
    assert!(calls > 0);

    let finding = clinics_finding(&investigation);
    assert_eq!(finding.verdict, Verdict::IndexProposed, "{finding:#?}");
    let action = finding.proposed_action.as_ref().unwrap();
    assert_eq!(
        action.ddl(),
        r#"CREATE INDEX CONCURRENTLY "idx_clinics_email" ON "public"."clinics" ("email")"#
    );
    let evidence = &finding.evidence;
    assert_eq!(evidence.table.as_deref(), Some("public.clinics"));
    assert!(evidence.seq_scans_in_window.unwrap() > 0, "{evidence:#?}");
    assert!(
        evidence.cost_reduction_pct.unwrap() >= 50.0,
        "{evidence:#?}"
    );
    let plan_with_index = evidence.plan_with_index.as_deref().unwrap();
    assert!(plan_with_index.contains("Index Scan"), "{plan_with_index}");
    println!(
        "cost {:.1} -> {:.1} ({:.1} % less), {:.1} calls/s",
        evidence.cost_before.unwrap_or_default(),
        evidence.cost_with_index.unwrap_or_default(),
        evidence.cost_reduction_pct.unwrap_or_default(),
        evidence.calls_per_second
    );
    let primary_address = format!("127.0.0.1:{}", primary.port());
    assert_eq!(
        investigation.server_role,
        ServerRole::Standby {
            primary: Some(primary_address.clone())
        }
    );
    assert!(
        finding
            .evidence
            .notes
            .iter()
            .any(|note| note.contains("hot standby") && note.contains(&primary_address)),
        "{:#?}",
        finding.evidence.notes
    );

    assert_eq!(catalog_state(&standby_client).await, catalog_before);
    assert_eq!(catalog_state(&primary_client).await, catalog_before);
    assert!(in_recovery(&standby_client).await);
    let hypothetical: i64 = standby_client
        .query_one("SELECT count(*) FROM hypopg_list_indexes", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(hypothetical, 0);
    println!("test took {:?}", test_started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hypopg_plans_on_standby() {
    let (_primary, standby) = primary_and_standby().await;
    let client = connect(standby.config(DATABASE)).await;

    let index: String = client
        .query_one(
            "SELECT indexname FROM hypopg_create_index('CREATE INDEX ON clinics (email)')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let plan: Vec<String> = client
        .query("EXPLAIN SELECT * FROM clinics WHERE email = 'x'", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let plan = plan.join("\n");
    println!("{plan}");

    assert!(index.contains("btree_clinics_email"), "{index}");
    assert!(plan.starts_with("Index Scan using"), "{plan}");
    // EXPLAIN quotes the name, because HypoPG starts it with "<oid>".
    assert!(plan.contains(&format!("\"{index}\"")), "{plan}");
    assert!(in_recovery(&client).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_hides_primary_without_read_all_stats() {
    let (primary, standby) = primary_and_standby().await;
    let password = Alphanumeric.sample_string(&mut rand::rng(), 24);
    let primary_client = connect(primary.config(DATABASE)).await;
    primary_client
        .batch_execute(&format!(
            "CREATE ROLE plain_reader LOGIN PASSWORD '{password}'"
        ))
        .await
        .unwrap();
    standby
        .wait_for_replay(&primary, REPLAY_TIMEOUT)
        .await
        .unwrap();

    let mut config = standby.config(DATABASE);
    config.user("plain_reader").password(password.as_str());
    let client = connect(config).await;
    let role = server_role(&client).await.unwrap();

    assert_eq!(role, ServerRole::Standby { primary: None });
    assert_eq!(
        role.to_string(),
        "its primary (not visible from this standby)"
    );
}
