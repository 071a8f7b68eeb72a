//! The service loops: messages are handled while it runs, and it stops on shutdown.

use std::time::Duration;

use contracts::CompletionOutcome;
use platform::{PlatformConfig, alerts::run_id_for};
use tokio_util::sync::CancellationToken;

use crate::support::{cpu_alert, platform_with, read_lock, register};

#[tokio::test(flavor = "multi_thread")]
async fn service_releases_lock_then_stops() {
    let config = PlatformConfig {
        receive_wait: Duration::from_millis(200),
        monitor_interval: Duration::from_millis(200),
        ..PlatformConfig::default()
    };
    let platform = platform_with("service_loops", config).await;
    let server_id = register(&platform, "service").await;
    let alert = cpu_alert(&server_id);
    platform.handle_alert(&alert).await.unwrap();
    let run_id = run_id_for(&alert);
    let shutdown = CancellationToken::new();
    let service = tokio::spawn({
        let platform = platform.clone();
        let shutdown = shutdown.clone();
        async move { platform.run(shutdown).await }
    });

    let completion = contracts::Completion {
        run_id,
        server_id: server_id.clone(),
        outcome: CompletionOutcome::Completed { issue_id: None },
    };
    platform.control().send(run_id, completion).await.unwrap();
    let mut released = false;
    for _ in 0..50 {
        if read_lock(platform.control(), &server_id).await.is_none() {
            released = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    let stopped = tokio::time::timeout(Duration::from_secs(5), service).await;

    assert!(released, "the running service did not release the lock");
    assert!(stopped.is_ok(), "the service did not stop within 5 s");
}
