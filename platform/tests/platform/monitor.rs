//! The CPU monitor on real target clusters: it fires on a busy server and stays quiet on an
//! idle one.

use std::time::Duration;

use cluster::{ClusterKind, TempCluster};
use contracts::RunState;
use platform::{AlertOutcome, Platform, PlatformConfig};
use tokio_postgres::{CancelToken, NoTls};

use crate::support::{platform_with, read_lock, server};

/// Counts to 300 million in the select list, which keeps one core busy for about half a minute
/// without the temporary files that a `FROM generate_series` would write.
const BURN: &str = "SELECT count(*) FROM (SELECT generate_series(1, 300000000)) AS numbers";

fn fast_config() -> PlatformConfig {
    PlatformConfig {
        monitor_interval: Duration::from_secs(1),
        cpu_window: Duration::from_secs(3),
        ..PlatformConfig::default()
    }
}

async fn start_target() -> TempCluster {
    tokio::task::spawn_blocking(|| TempCluster::start(ClusterKind::Target).unwrap())
        .await
        .unwrap()
}

/// Registers the target with one vCore, so one busy backend is 100 %, and a threshold of 50 %.
async fn register_target(platform: &Platform, id: &str, target: &TempCluster) -> contracts::Server {
    let data_dir = target.data_dir().to_string_lossy().into_owned();
    let mut server = server(id, &data_dir);
    server.vcores = 1;
    server.cpu_threshold_pct = 50.0;
    platform.control().register_server(&server).await.unwrap();
    server
}

/// Starts `sessions` backends that each keep a core busy, bounded by a statement timeout.
async fn burn(target: &TempCluster, sessions: usize) -> Vec<CancelToken> {
    let mut tokens = Vec::new();
    for _ in 0..sessions {
        let (client, connection) = target.config("postgres").connect(NoTls).await.unwrap();
        tokio::spawn(connection);
        client
            .batch_execute("SET statement_timeout = '60s'")
            .await
            .unwrap();
        tokens.push(client.cancel_token());
        // The query ends with an error when cancelled, which is the expected way out.
        tokio::spawn(async move { client.simple_query(BURN).await });
    }
    tokens
}

#[tokio::test(flavor = "multi_thread")]
async fn monitor_fires_on_busy_server() {
    let platform = platform_with("monitor_busy", fast_config()).await;
    let target = start_target().await;
    let server = register_target(&platform, "busy", &target).await;
    let monitor = platform.monitor();
    let burners = burn(&target, 2).await;

    let mut fired = None;
    let mut averages = Vec::new();
    for _ in 0..20 {
        for reading in monitor.tick().await.unwrap() {
            averages.push(reading.window_average);
            if let Some(outcome) = reading.alert {
                fired = Some(outcome);
            }
        }
        if fired.is_some() {
            break;
        }
    }
    // A run holds the lock now, so more high readings fire nothing.
    let mut later_alerts = Vec::new();
    for _ in 0..2 {
        let readings = monitor.tick().await.unwrap();
        later_alerts.extend(readings.into_iter().filter_map(|reading| reading.alert));
    }
    for token in burners {
        token.cancel_query(NoTls).await.unwrap();
    }

    let Some(AlertOutcome::Dispatched { run_id }) = fired else {
        panic!("no alert was dispatched; window averages {averages:?}");
    };
    let runs = platform.control().runs(&server.id).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, run_id);
    assert_eq!(runs[0].state, RunState::Queued);
    assert_eq!(
        read_lock(platform.control(), &server.id)
            .await
            .unwrap()
            .run_id,
        run_id
    );
    assert!(later_alerts.is_empty(), "{later_alerts:?}");
    let status = platform.control().server_status(&server.id).await.unwrap();
    assert!(status.samples.len() >= 3, "{status:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn monitor_stays_quiet_on_idle_server() {
    let platform = platform_with("monitor_idle", fast_config()).await;
    let target = start_target().await;
    let server = register_target(&platform, "idle", &target).await;
    let monitor = platform.monitor();

    let mut readings = Vec::new();
    for _ in 0..5 {
        readings.extend(monitor.tick().await.unwrap());
    }

    assert_eq!(readings.len(), 5, "{readings:?}");
    let last = readings.last().unwrap();
    let average = last.window_average.expect("the window has filled");
    assert!(average < 50.0, "idle average {average} %");
    assert!(
        readings.iter().all(|reading| reading.alert.is_none()),
        "{readings:?}"
    );
    assert!(
        platform
            .control()
            .runs(&server.id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn monitor_skips_stopped_server() {
    let platform = platform_with("monitor_stopped", fast_config()).await;
    let stopped = server("stopped", "/nonexistent/data");
    platform.control().register_server(&stopped).await.unwrap();

    let readings = platform.monitor().tick().await.unwrap();

    assert!(readings.is_empty(), "{readings:?}");
    assert!(
        platform
            .control()
            .runs(&stopped.id)
            .await
            .unwrap()
            .is_empty()
    );
}
