//! `dbagent demo`: plays the scenario headless against the running local stack.
//!
//! Workload 1 drives the target's CPU up and DBAgent opens an issue. The demo grants
//! always-allow with limits through the API, and DBAgent builds and verifies the index. Workload 2 then hits
//! another unindexed column, and DBAgent fixes it on its own under that instruction.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use contracts::{Issue, IssueId, IssueStatus, ProposedAction, ResolutionPath, Run};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api_client::ApiClient;
use crate::args::WorkloadArgs;
use crate::{stack, workload_process};

const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// The API's view of one issue; the demo reads only the issue itself.
#[derive(Debug, Deserialize)]
struct IssueDetail {
    issue: Issue,
}

/// One incident as the timeline reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    pub table: String,
    pub columns: Vec<String>,
    pub ddl: String,
    /// `human_approved`, `autonomous`, `skipped` or `failed`.
    pub resolution: String,
    /// Seconds from the workload's start to the alert.
    pub detected_after_s: f64,
    /// Seconds from the alert to the verified fix.
    pub resolved_after_s: f64,
    pub cpu_before_pct: Option<f64>,
    pub cpu_after_pct: Option<f64>,
    /// Mean time of the hot statement in the investigation window and after the fix.
    pub mean_time_before_ms: Option<f64>,
    pub mean_time_after_ms: Option<f64>,
}

/// Plays both incidents; `phase_timeout` bounds each wait.
pub async fn play(
    state_dir: &Path,
    api: &ApiClient,
    phase_timeout: Duration,
) -> anyhow::Result<Vec<Incident>> {
    crate::demo_reset::reset(state_dir, api, crate::components::LOCAL_TARGET).await?;
    // An issue still open from an interrupted demo holds the server's lock, so it is picked up
    // rather than waited past.
    let existing = issues(api).await?;
    let mut seen: HashSet<IssueId> = existing
        .iter()
        .filter(|issue| issue.status.is_closed())
        .map(|issue| issue.id)
        .collect();
    let dsn = stack::running_target(state_dir)?.connection_string(stack::TARGET_DATABASE);

    let first = incident(
        state_dir,
        api,
        &dsn,
        "orders-by-customer",
        &mut seen,
        phase_timeout,
        true,
    )
    .await?;
    let second = incident(
        state_dir,
        api,
        &dsn,
        "shipments-by-tracking",
        &mut seen,
        phase_timeout,
        false,
    )
    .await?;
    Ok(vec![first, second])
}

async fn incident(
    state_dir: &Path,
    api: &ApiClient,
    dsn: &str,
    workload: &str,
    seen: &mut HashSet<IssueId>,
    timeout: Duration,
    grant_always_allow: bool,
) -> anyhow::Result<Incident> {
    let started = Utc::now();
    let args = WorkloadArgs {
        name: workload.to_string(),
        dsn: None,
        concurrency: scenario::workload::DEFAULT_SESSIONS,
        rate: scenario::workload::DEFAULT_RATE,
        duration: None,
    };
    workload_process::start(state_dir, &args, dsn)?;
    eprintln!("Started workload {workload}; waiting for DBAgent to notice the CPU rise");
    let outcome = follow_incident(api, seen, timeout, grant_always_allow).await;
    workload_process::stop(state_dir, Some(workload))?;
    eprintln!("Stopped workload {workload}");

    let issue = outcome?;
    let run: Run = api.get(&format!("/api/runs/{}", issue.run_id)).await?;
    describe(&issue, &run, started)
}

async fn follow_incident(
    api: &ApiClient,
    seen: &mut HashSet<IssueId>,
    timeout: Duration,
    grant_always_allow: bool,
) -> anyhow::Result<Issue> {
    let issue = wait_for(timeout, "a new issue", || async {
        let new = issues(api)
            .await?
            .into_iter()
            .find(|issue| !seen.contains(&issue.id));
        // An issue is created open, then waits for approval or, under an instruction, goes
        // straight to execution: the demo needs it past that first state.
        let ready =
            |issue: &Issue| issue.proposed_action.is_some() && issue.status != IssueStatus::Open;
        Ok(new.filter(ready))
    })
    .await?;
    seen.insert(issue.id);
    eprintln!("Issue opened: {}", issue.title);

    if grant_always_allow && issue.status == IssueStatus::AwaitingApproval {
        let limits = always_allow_body();
        api.post::<_, serde_json::Value>(
            &format!("/api/issues/{}/always-allow", issue.id),
            &limits,
        )
        .await?;
        eprintln!("Granted always-allow with limits {limits}");
    }

    let closed = wait_for(timeout, "the issue to close", || async {
        let current: IssueDetail = api.get(&format!("/api/issues/{}", issue.id)).await?;
        Ok(current.issue.status.is_closed().then_some(current.issue))
    })
    .await?;
    if closed.status != IssueStatus::Resolved {
        anyhow::bail!(
            "issue {} ended {:?}: {:?}",
            closed.id,
            closed.status,
            closed.resolution
        );
    }
    eprintln!("Resolved: {}", closed.title);
    Ok(closed)
}

/// Limits a careful engineer would start with on this server.
fn always_allow_body() -> serde_json::Value {
    json!({
        "scope": { "schemas": ["public"] },
        "limits": {
            "max_table_bytes": 10u64 << 30,
            "max_actions_per_day": 5
        },
        "expires_in_hours": 24,
        "actor": "dbagent demo"
    })
}

async fn issues(api: &ApiClient) -> anyhow::Result<Vec<Issue>> {
    api.get("/api/issues").await
}

/// Polls `check` until it returns a value or `timeout` passes.
async fn wait_for<T, F, Fut>(
    timeout: Duration,
    description: &str,
    mut check: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            // The API may be briefly unavailable, for example while the control cluster
            // restarts; the deadline still bounds the wait.
            Err(error) => eprintln!("Waiting for {description}: {error:#}; retrying"),
        }
        if tokio::time::Instant::now() >= deadline {
            anyhow::bail!(
                "timed out after {} s waiting for {description}",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

fn describe(issue: &Issue, run: &Run, workload_started: DateTime<Utc>) -> anyhow::Result<Incident> {
    let Some(ProposedAction::CreateIndex(action)) = &issue.proposed_action else {
        anyhow::bail!("issue {} has no index", issue.id);
    };
    let resolution = issue
        .resolution
        .as_ref()
        .expect("a resolved issue has a resolution");
    let columns = action
        .keys
        .iter()
        .map(|key| match key {
            contracts::IndexKey::Column { name, .. } => name.clone(),
            contracts::IndexKey::Expression { sql } => sql.clone(),
        })
        .collect();
    Ok(Incident {
        table: format!("{}.{}", action.schema, action.table),
        columns,
        ddl: action.ddl.clone(),
        resolution: path_name(&resolution.path).to_string(),
        detected_after_s: seconds_between(workload_started, run.created_at),
        resolved_after_s: seconds_between(run.created_at, resolution.resolved_at),
        cpu_before_pct: resolution.cpu_before_pct,
        cpu_after_pct: resolution.cpu_after_pct,
        mean_time_before_ms: resolution.mean_time_before_ms,
        mean_time_after_ms: resolution.mean_time_after_ms,
    })
}

fn path_name(path: &ResolutionPath) -> &'static str {
    match path {
        ResolutionPath::HumanApproved { .. } => "human_approved",
        ResolutionPath::Autonomous { .. } => "autonomous",
        ResolutionPath::Skipped { .. } => "skipped",
        ResolutionPath::Failed { .. } => "failed",
    }
}

fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

pub fn print_text(incidents: &[Incident]) {
    println!("\nTimeline");
    for (number, incident) in incidents.iter().enumerate() {
        let cpu = |value: Option<f64>| value.map_or("-".to_string(), |cpu| format!("{cpu:.0} %"));
        // An index lookup takes hundredths of a millisecond, which one decimal would hide.
        let mean = |value: Option<f64>| match value {
            None => "-".to_string(),
            Some(ms) if ms < 1.0 => format!("{ms:.3} ms"),
            Some(ms) => format!("{ms:.1} ms"),
        };
        println!(
            "{}. {} ({}): {}\n   detected after {:.0} s, resolved {:.0} s later, CPU {} -> {}, \
             mean time {} -> {}\n   {}",
            number + 1,
            incident.table,
            incident.columns.join(", "),
            incident.resolution.replace('_', "-"),
            incident.detected_after_s,
            incident.resolved_after_s,
            cpu(incident.cpu_before_pct),
            cpu(incident.cpu_after_pct),
            mean(incident.mean_time_before_ms),
            mean(incident.mean_time_after_ms),
            incident.ddl
        );
    }
}
