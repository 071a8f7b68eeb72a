//! The rules on figures like those of the shop scenario at 2 million orders, changed one fact
//! at a time.

use chrono::Utc;
use contracts::api::{RiskAssessment, RiskLevel, RiskPoint};
use contracts::{
    BuildEstimate, CreateIndex, DiskSpace, Evidence, IndexKey, MetricsSource, ReplicaFacts,
    RiskFacts, Server, TableFacts,
};

use super::assess;

const MIB: u64 = 1024 * 1024;

fn server() -> Server {
    Server {
        id: "local-target".into(),
        endpoint: "127.0.0.1:5433/shop".to_string(),
        agent_enabled: true,
        vcores: 2,
        cpu_threshold_pct: 80.0,
        metrics: MetricsSource::LocalProcess {
            data_dir: "/tmp/target/data".to_string(),
        },
        registered_at: Utc::now(),
    }
}

fn action() -> CreateIndex {
    let key = IndexKey::Column {
        name: "customer_id".to_string(),
        descending: false,
    };
    CreateIndex::new("public", "orders", vec![key], None)
}

fn table(name: &str, total_bytes: u64, rows: u64) -> TableFacts {
    TableFacts {
        name: name.to_string(),
        total_bytes,
        rows,
        writes_per_second: None,
    }
}

fn risk() -> RiskFacts {
    RiskFacts {
        largest_tables: vec![
            table("public.order_items", 391_000_000, 5_000_000),
            table("public.orders", 230_000_000, 2_000_000),
            table("public.shipments", 205_000_000, 1_900_000),
        ],
        database_bytes: 905_000_000,
        disk: Some(DiskSpace {
            free_bytes: 41_000_000_000,
            total_bytes: 100_000_000_000,
        }),
        build_estimate: Some(BuildEstimate {
            seconds: 18.0,
            basis: "About 3 full scans of public.orders, because the build reads the table \
                    twice and sorts its keys, and one scan took 6000.0 ms in the window."
                .to_string(),
        }),
        maintenance_work_mem_bytes: Some(64 * MIB),
        replicas: Vec::new(),
        in_recovery: false,
    }
}

fn evidence() -> Evidence {
    Evidence {
        statement: "SELECT id, status, created_at, total_cents FROM public.orders WHERE \
                    customer_id = $1"
            .to_string(),
        table: Some("public.orders".to_string()),
        table_size_bytes: Some(161_000_000),
        table_rows: Some(2_000_000),
        table_writes_per_second: Some(12.0),
        estimated_index_bytes: Some(44_000_000),
        risk: Some(risk()),
        ..Evidence::default()
    }
}

fn assess_with(change: impl FnOnce(&mut Evidence)) -> RiskAssessment {
    let mut evidence = evidence();
    change(&mut evidence);
    assess(&server(), &evidence, &action())
}

fn facts(evidence: &mut Evidence) -> &mut RiskFacts {
    evidence.risk.as_mut().unwrap()
}

fn point<'a>(assessment: &'a RiskAssessment, topic: &str) -> &'a RiskPoint {
    assessment
        .points
        .iter()
        .find(|point| point.topic == topic)
        .unwrap_or_else(|| panic!("no {topic} point in {:#?}", assessment.points))
}

fn concerns(assessment: &RiskAssessment) -> Vec<&str> {
    assessment
        .points
        .iter()
        .filter(|point| point.concern)
        .map(|point| point.topic.as_str())
        .collect()
}

#[test]
fn scenario_figures_are_low_risk() {
    let assessment = assess_with(|_| {});
    for point in &assessment.points {
        println!("{}: {}\n", point.topic, point.text);
    }
    assert_eq!(concerns(&assessment), Vec::<&str>::new());
    assert_eq!(assessment.level, RiskLevel::Low);
    assert_eq!(
        assessment.headline,
        "Low risk: index builds like this one in schema public block no reads or writes, and no \
         check raised a concern."
    );
    let topics: Vec<&str> = assessment.points.iter().map(|p| p.topic.as_str()).collect();
    assert_eq!(
        topics,
        [
            "Locks",
            "Waits",
            "Table",
            "Largest table",
            "Disk",
            "Memory",
            "Build time",
            "Vacuum",
            "Replicas",
            "Failure",
            "Limits"
        ]
    );
}

#[test]
fn lock_points_name_what_is_blocked() {
    let assessment = assess_with(|_| {});
    let locks = &point(&assessment, "Locks").text;
    assert!(locks.contains("SHARE UPDATE EXCLUSIVE lock on public.orders"));
    assert!(locks.contains("(SELECT, INSERT, UPDATE, DELETE) go on"));
    assert!(locks.contains("VACUUM (autovacuum included), ANALYZE"));
    let waits = &point(&assessment, "Waits").text;
    assert!(waits.contains("older than the build's"), "{waits}");
    let failure = &point(&assessment, "Failure").text;
    assert!(failure.contains("idx_orders_customer_id"), "{failure}");
    assert!(failure.contains("DROP INDEX CONCURRENTLY"), "{failure}");
}

#[test]
fn proposal_for_scenario_figures() {
    let proposed = assess_with(|_| {}).proposed;
    assert_eq!(proposed.scope.schemas, ["public"]);
    assert_eq!(proposed.scope.server_id, Some("local-target".into()));
    // Twice 161 MB is 322 MB, and the next round figure is 500 MB.
    assert_eq!(proposed.limits.max_table_bytes, Some(500_000_000));
    assert_eq!(proposed.limits.time_window, None);
    assert_eq!(proposed.limits.max_actions_per_day, Some(3));
    assert_eq!(proposed.expires_in_hours, Some(720));
    assert_eq!(proposed.expires_at, None);
    assert_eq!(proposed.actor, None);
}

#[test]
fn table_point_gives_size_rows_and_writes() {
    let assessment = assess_with(|_| {});
    let text = &point(&assessment, "Table").text;
    assert!(text.contains("161 MB without indexes"), "{text}");
    assert!(text.contains("2.0 million rows"), "{text}");
    assert!(
        text.contains("12 rows were written to it per second"),
        "{text}"
    );
    assert!(text.contains("changes customer_id"), "{text}");
}

#[test]
fn unknown_table_size_is_a_concern() {
    let assessment = assess_with(|evidence| {
        evidence.table_size_bytes = None;
        facts(evidence).largest_tables.remove(1);
    });
    let table = point(&assessment, "Table");
    assert!(table.concern);
    assert!(table.text.contains("an unrecorded size"), "{}", table.text);
    assert_eq!(assessment.level, RiskLevel::Medium);
    // A third of 41 GB of free disk is above the 1 GB default.
    assert_eq!(
        assessment.proposed.limits.max_table_bytes,
        Some(1_000_000_000)
    );
}

#[test]
fn largest_table_coverage() {
    let assessment = assess_with(|_| {});
    let text = &point(&assessment, "Largest table").text;
    assert!(
        text.starts_with("The largest table in the database is public.order_items (391 MB"),
        "{text}"
    );
    assert!(
        text.contains("It is under the proposed 500 MB limit, so a permission on schema public"),
        "{text}"
    );

    let assessment = assess_with(|evidence| {
        facts(evidence).largest_tables[0].total_bytes = 2_000_000_000;
    });
    let text = &point(&assessment, "Largest table").text;
    assert!(
        text.contains("It is most likely above the proposed 500 MB"),
        "{text}"
    );

    let assessment = assess_with(|evidence| {
        facts(evidence).largest_tables[0].name = "public.events".to_string();
        facts(evidence)
            .largest_tables
            .insert(0, table("audit.log", 9_000_000_000, 1));
    });
    let text = &point(&assessment, "Largest table").text;
    assert!(
        text.contains("Schema public's largest table, public.events (391 MB"),
        "{text}"
    );

    let assessment = assess_with(|evidence| {
        facts(evidence).largest_tables[0].name = "audit.events".to_string();
    });
    let text = &point(&assessment, "Largest table").text;
    assert!(text.contains("schema public, leaves it out"), "{text}");
    assert!(text.contains("public.orders is the largest table in schema public"));
    assert!(!point(&assessment, "Largest table").concern);
}

#[test]
fn disk_margin_rules() {
    // The sort spills with 64 MiB, so the build needs 3 × 44 MB = 132 MB.
    let with_free = |free_bytes| {
        assess_with(|evidence| {
            facts(evidence).disk = Some(DiskSpace {
                free_bytes,
                total_bytes: 100_000_000_000,
            })
        })
    };
    let roomy = with_free(396_000_000);
    assert!(!point(&roomy, "Disk").concern);
    assert!(point(&roomy, "Disk").text.contains("about 132 MB in all"));

    let tight = with_free(395_999_999);
    assert!(point(&tight, "Disk").concern);
    assert_eq!(tight.level, RiskLevel::Medium);

    let just_enough = with_free(132_000_000);
    assert_eq!(just_enough.level, RiskLevel::Medium);

    let full = with_free(100_000_000);
    assert!(point(&full, "Disk").concern);
    assert_eq!(full.level, RiskLevel::High);
    assert_eq!(
        full.headline,
        "High risk: free disk (100 MB) does not cover the build's estimated 132 MB."
    );
    // A third of 100 MB of free disk, rounded down.
    assert_eq!(full.proposed.limits.max_table_bytes, Some(20_000_000));
}

#[test]
fn disk_without_spill_needs_two_copies() {
    let assessment = assess_with(|evidence| {
        facts(evidence).maintenance_work_mem_bytes = Some(1024 * MIB);
    });
    assert!(
        point(&assessment, "Disk")
            .text
            .contains("about 88 MB in all")
    );
    let memory = &point(&assessment, "Memory").text;
    assert!(memory.contains("so the build sorts in memory"), "{memory}");

    let spilling = assess_with(|_| {});
    let memory = &point(&spilling, "Memory").text;
    assert!(memory.contains("below the estimated 108 MB"), "{memory}");
}

#[test]
fn unknown_disk_facts_are_concerns() {
    let remote = assess_with(|evidence| facts(evidence).disk = None);
    let disk = point(&remote, "Disk");
    assert!(disk.concern);
    assert!(disk.text.contains("remote server"), "{}", disk.text);
    assert!(
        disk.text.contains("Keep at least 396 MB free"),
        "{}",
        disk.text
    );

    let no_estimate = assess_with(|evidence| evidence.estimated_index_bytes = None);
    let disk = point(&no_estimate, "Disk");
    assert!(disk.concern);
    assert!(disk.text.contains("no size estimate"), "{}", disk.text);
    let memory = point(&no_estimate, "Memory");
    assert!(!memory.concern);
    assert!(memory.text.contains("is unknown"), "{}", memory.text);
}

#[test]
fn long_build_gets_night_window() {
    let with_seconds = |seconds| {
        assess_with(|evidence| facts(evidence).build_estimate.as_mut().unwrap().seconds = seconds)
    };
    let short = with_seconds(599.0);
    assert!(!point(&short, "Build time").concern);
    assert_eq!(short.proposed.limits.time_window, None);

    let long = with_seconds(840.0);
    let build = point(&long, "Build time");
    assert!(build.concern);
    assert!(build.text.starts_with("The build is estimated at 14 min."));
    assert!(build.text.contains("2 vCores"), "{}", build.text);
    let window = long.proposed.limits.time_window.as_ref().unwrap();
    assert_eq!(
        (window.start.as_str(), window.end.as_str()),
        ("01:00", "05:00")
    );
    assert!(point(&long, "Limits").text.contains("estimated at 14 min"));
}

#[test]
fn missing_build_estimate_is_a_concern() {
    let assessment = assess_with(|evidence| facts(evidence).build_estimate = None);
    let build = point(&assessment, "Build time");
    assert!(build.concern);
    assert!(build.text.contains("did not estimate"), "{}", build.text);
    assert!(assessment.proposed.limits.time_window.is_some());
    // Without an estimate, the backlog for vacuum cannot be sized, so the point is left out.
    assert!(assessment.points.iter().all(|p| p.topic != "Vacuum"));
}

#[test]
fn vacuum_backlog_rule() {
    let with_writes = |writes| {
        assess_with(|evidence| {
            evidence.table_writes_per_second = Some(writes);
            facts(evidence).build_estimate.as_mut().unwrap().seconds = 900.0;
        })
    };
    // The default trigger is 50 + 0.2 × 2,000,000 = 400,050 rows, and 444 × 900 s is below it.
    let calm = with_writes(444.0);
    assert!(!point(&calm, "Vacuum").concern);
    assert!(
        point(&calm, "Vacuum")
            .text
            .contains("about 399,600 rows change, 20 %")
    );

    let busy = with_writes(445.0);
    let vacuum = point(&busy, "Vacuum");
    assert!(vacuum.concern);
    assert!(vacuum.text.contains("dead rows"), "{}", vacuum.text);
}

#[test]
fn replica_rules() {
    let replica = |name: &str, sync_state: &str, lag: Option<f64>| ReplicaFacts {
        application_name: name.to_string(),
        state: "streaming".to_string(),
        sync_state: sync_state.to_string(),
        replay_lag_seconds: lag,
    };
    let none = assess_with(|_| {});
    assert!(!point(&none, "Replicas").concern);
    assert!(
        point(&none, "Replicas")
            .text
            .starts_with("No standbys stream")
    );

    let async_ok = assess_with(|evidence| {
        facts(evidence).replicas = vec![replica("reporting", "async", Some(0.4))];
    });
    let text = &point(&async_ok, "Replicas").text;
    assert!(!point(&async_ok, "Replicas").concern);
    assert!(text.contains("about 44 MB of WAL"), "{text}");
    assert!(
        text.contains("reporting (async, streaming, replay lag 0.4 s)"),
        "{text}"
    );

    let sync = assess_with(|evidence| {
        facts(evidence).replicas = vec![
            replica("ha-standby", "sync", None),
            replica("reporting", "async", Some(0.4)),
        ];
    });
    let point_sync = point(&sync, "Replicas");
    assert!(point_sync.concern);
    assert!(point_sync.text.contains("wait until ha-standby confirms"));

    let lagging = assess_with(|evidence| {
        facts(evidence).replicas = vec![replica("reporting", "async", Some(45.0))];
    });
    let point_lag = point(&lagging, "Replicas");
    assert!(point_lag.concern);
    assert!(
        point_lag
            .text
            .contains("reporting already lags more than 30 s")
    );
}

#[test]
fn standby_is_high_risk() {
    let assessment = assess_with(|evidence| facts(evidence).in_recovery = true);
    assert_eq!(assessment.level, RiskLevel::High);
    assert!(point(&assessment, "Standby").concern);
    assert_eq!(
        assessment.headline,
        "High risk: this server is a standby, where PostgreSQL rejects CREATE INDEX."
    );
}

#[test]
fn missing_server_facts_say_what_is_unknown() {
    let assessment = assess_with(|evidence| evidence.risk = None);
    assert_eq!(concerns(&assessment), ["Server facts"]);
    assert_eq!(assessment.level, RiskLevel::Medium);
    assert_eq!(
        assessment.headline,
        "Medium risk: weigh the points on server facts before allowing index builds in schema \
         public without asking."
    );
    let text = &point(&assessment, "Server facts").text;
    assert!(
        text.contains("free disk, maintenance_work_mem, the build time"),
        "{text}"
    );
    let limits = &assessment.proposed.limits;
    assert_eq!(limits.max_table_bytes, Some(500_000_000));
    assert!(limits.time_window.is_some());
}

#[test]
fn medium_headline_lists_each_concern() {
    let assessment = assess_with(|evidence| {
        let risk = facts(evidence);
        risk.disk = None;
        risk.build_estimate.as_mut().unwrap().seconds = 1200.0;
    });
    assert_eq!(assessment.level, RiskLevel::Medium);
    assert_eq!(
        assessment.headline,
        "Medium risk: weigh the points on disk and build time before allowing index builds in \
         schema public without asking."
    );
}
