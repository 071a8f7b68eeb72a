//! Background workloads: `dbagent workload start` runs `workload run` as a background process
//! and `workload stop` ends it.

use std::path::Path;

use crate::args::WorkloadArgs;
use crate::background::{Process, ProcessStatus};

const PREFIX: &str = "workload-";

/// Returns the background process of a workload, identified by its subcommand.
fn process(name: &str) -> Process {
    Process {
        name: format!("{PREFIX}{name}"),
        args: vec!["workload".to_string(), "run".to_string(), name.to_string()],
    }
}

/// Starts the workload in the background with the same settings as `args`.
pub fn start(state_dir: &Path, args: &WorkloadArgs, dsn: &str) -> anyhow::Result<u32> {
    let mut workload = process(&args.name);
    workload
        .args
        .extend(["--concurrency".to_string(), args.concurrency.to_string()]);
    workload
        .args
        .extend(["--rate".to_string(), args.rate.to_string()]);
    if let Some(duration) = args.duration {
        workload
            .args
            .extend(["--duration".to_string(), duration.to_string()]);
    }
    // The connection string travels in the environment: it may contain a password.
    workload.start(state_dir, &[("DBAGENT_WORKLOAD_DSN", dsn.to_string())])
}

/// Returns the pid of the workload's background process while it runs.
pub fn running_pid(state_dir: &Path, name: &str) -> Option<u32> {
    process(name).running_pid(state_dir)
}

/// Stops the named workload, or every workload; returns the names stopped.
pub fn stop(state_dir: &Path, name: Option<&str>) -> anyhow::Result<Vec<String>> {
    let names: Vec<String> = match name {
        Some(name) => vec![name.to_string()],
        None => list(state_dir)
            .into_iter()
            .map(|status| status.name)
            .collect(),
    };
    let mut stopped = Vec::new();
    for name in names {
        if process(&name).stop(state_dir)? {
            stopped.push(name);
        }
    }
    Ok(stopped)
}

/// Lists the running workloads, by workload name.
pub fn list(state_dir: &Path) -> Vec<ProcessStatus> {
    crate::background::recorded_names(state_dir)
        .into_iter()
        .filter_map(|name| {
            let workload = name.strip_prefix(PREFIX)?.to_string();
            let mut status = process(&workload).status(state_dir)?;
            status.name = workload;
            Some(status)
        })
        .collect()
}
