//! The presenter's workload controls that the API serves for the local stack: the same
//! background workloads as `dbagent workload start|stop`, against the local target cluster.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use cluster::{Cluster, ClusterKind};
use contracts::api::Workload;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use server::scenario::{ScenarioControl, ScenarioError};

use crate::args::WorkloadArgs;
use crate::{stack, workload_process};

/// Workload controls over the state directory of the local stack.
#[derive(Debug)]
pub struct LocalWorkloads {
    state_dir: PathBuf,
    /// Pids of the workloads this process started. The lock also serializes starts and stops,
    /// so that two requests never both start the same workload.
    started: Mutex<Vec<u32>>,
}

impl LocalWorkloads {
    /// Builds the controls for the local stack in `state_dir`, which must contain a target
    /// cluster, running or not.
    pub fn open(state_dir: &Path) -> anyhow::Result<LocalWorkloads> {
        Cluster::open(state_dir, ClusterKind::Target)?.with_context(|| {
            format!(
                "--scenario-controls needs the local target cluster, but {} has none; run \
                 `dbagent up` first",
                state_dir.display()
            )
        })?;
        Ok(LocalWorkloads {
            state_dir: state_dir.to_path_buf(),
            started: Mutex::new(Vec::new()),
        })
    }

    fn describe(&self, workload: scenario::Workload) -> Workload {
        let pid = workload_process::running_pid(&self.state_dir, workload.name());
        Workload {
            name: workload.name().to_string(),
            description: description(workload).to_string(),
            statement: workload.statement().to_string(),
            running: pid.is_some(),
            pid,
        }
    }

    /// Locks the list of started pids after reaping those that exited. A workload started from
    /// here is a child of this process, so it stays a zombie until this process waits for it.
    fn lock_started(&self) -> std::sync::MutexGuard<'_, Vec<u32>> {
        let mut started = self
            .started
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        started.retain(|&pid| still_running(pid));
        started
    }
}

impl ScenarioControl for LocalWorkloads {
    fn workloads(&self) -> Result<Vec<Workload>, ScenarioError> {
        let _started = self.lock_started();
        Ok(scenario::Workload::ALL
            .into_iter()
            .map(|workload| self.describe(workload))
            .collect())
    }

    fn start(&self, name: &str) -> Result<Workload, ScenarioError> {
        let workload = parse(name)?;
        let mut started = self.lock_started();
        if workload_process::running_pid(&self.state_dir, name).is_some() {
            return Ok(self.describe(workload));
        }
        let target = stack::running_target(&self.state_dir)
            .map_err(|error| ScenarioError::Unavailable(format!("{error:#}")))?;
        let dsn = target.connection_string(stack::TARGET_DATABASE);
        let args = WorkloadArgs {
            name: workload.name().to_string(),
            dsn: None,
            concurrency: scenario::workload::DEFAULT_SESSIONS,
            rate: scenario::workload::DEFAULT_RATE,
            duration: None,
        };
        let pid = workload_process::start(&self.state_dir, &args, &dsn)
            .map_err(|error| failed(format!("start workload {name}"), &error))?;
        started.push(pid);
        Ok(self.describe(workload))
    }

    fn stop(&self, name: &str) -> Result<Workload, ScenarioError> {
        let workload = parse(name)?;
        let mut started = self.lock_started();
        workload_process::stop(&self.state_dir, Some(name))
            .map_err(|error| failed(format!("stop workload {name}"), &error))?;
        started.retain(|&pid| still_running(pid));
        Ok(self.describe(workload))
    }
}

fn parse(name: &str) -> Result<scenario::Workload, ScenarioError> {
    name.parse().map_err(|_| ScenarioError::UnknownWorkload {
        name: name.to_string(),
        known: scenario::Workload::ALL
            .map(|workload| workload.name().to_string())
            .to_vec(),
    })
}

fn description(workload: scenario::Workload) -> &'static str {
    match workload {
        scenario::Workload::OrdersByCustomer => {
            "A customer's order history, filtered on orders.customer_id, which the scenario \
             leaves without an index."
        }
        scenario::Workload::ShipmentsByTracking => {
            "A customer-service lookup by parcel number, filtered on shipments.tracking_number, \
             which the scenario leaves without an index."
        }
    }
}

/// Keeps the full cause chain in the message, which the API logs.
fn failed(action: String, error: &anyhow::Error) -> ScenarioError {
    ScenarioError::Failed {
        action,
        source: format!("{error:#}").into(),
    }
}

/// Reaps the child `pid` if it exited, and returns whether it still runs. A pid that is no
/// longer this process's child, because it was reaped already, counts as exited.
fn still_running(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    matches!(
        waitpid(Pid::from_raw(raw), Some(WaitPidFlag::WNOHANG)),
        Ok(WaitStatus::StillAlive)
    )
}
