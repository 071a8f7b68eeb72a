//! Container names for each record kind and queue names for each message type.

use std::time::Duration;

use bus::QueueOptions;

/// Registered servers, one document per server.
pub const SERVERS: &str = "servers";
/// Recent CPU samples per server, written by the monitor.
pub const SERVER_STATUS: &str = "server_status";
/// The per-server lock that keeps one run at a time on a server.
pub const LOCKS: &str = "locks";
pub const ALERTS: &str = "alerts";
pub const RUNS: &str = "runs";
pub const ISSUES: &str = "issues";
pub const INSTRUCTIONS: &str = "instructions";
/// One decision per issue, with the issue id as document id, so a second decision conflicts.
pub const DECISIONS: &str = "decisions";
pub const TIMELINE: &str = "timeline";

pub const CONTAINERS: [&str; 9] = [
    SERVERS,
    SERVER_STATUS,
    LOCKS,
    ALERTS,
    RUNS,
    ISSUES,
    INSTRUCTIONS,
    DECISIONS,
    TIMELINE,
];

/// Platform Services to runners: start or resume a run.
pub const TRIGGERS: &str = "triggers";
/// Runners to Platform Services: a run suspended, completed or failed.
pub const COMPLETIONS: &str = "completions";
/// The API to Platform Services: a person's decision.
pub const APPROVALS: &str = "approvals";

/// Queue settings. A trigger's handling can take minutes, so its runner renews the lock while it
/// works. The short lock bounds how long a crashed runner delays the retry.
pub fn queues() -> [(&'static str, QueueOptions); 3] {
    let short = QueueOptions {
        lock_duration: Duration::from_secs(30),
        max_delivery_count: 10,
        duplicate_detection_window: Duration::from_secs(600),
    };
    let triggers = QueueOptions {
        lock_duration: Duration::from_secs(30),
        max_delivery_count: 5,
        duplicate_detection_window: Duration::from_secs(600),
    };
    [
        (TRIGGERS, triggers),
        (COMPLETIONS, short),
        (APPROVALS, short),
    ]
}
