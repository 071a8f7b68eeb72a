//! `dbagent status`: each cluster with its port, process and CPU, and the running workloads.

use std::path::Path;
use std::time::Duration;

use cluster::Cluster;
use serde::Serialize;

use crate::stack::{self, database_of};
use crate::workload_process;

#[derive(Debug, Serialize)]
pub struct Status {
    pub state_dir: String,
    pub clusters: Vec<ClusterStatus>,
    pub components: Vec<crate::background::ProcessStatus>,
    pub workloads: Vec<crate::background::ProcessStatus>,
}

#[derive(Debug, Serialize)]
pub struct ClusterStatus {
    pub name: String,
    pub running: bool,
    pub port: u16,
    pub postmaster_pid: Option<u32>,
    pub database: String,
    pub connection_string: String,
    /// CPU of the postmaster and its children, percent of `vcores`; `None` when stopped.
    pub cpu_pct: Option<f64>,
    pub vcores: u32,
    pub data_dir: String,
}

/// Measures every cluster's CPU over the same interval.
pub async fn collect(state_dir: &Path, vcores: u32, interval: Duration) -> anyhow::Result<Status> {
    let clusters = stack::open_clusters(state_dir)?;
    let samples = clusters
        .iter()
        .map(|cluster| cpu_of(cluster, vcores, interval));
    let cpus = futures::future::join_all(samples).await;

    let clusters = clusters
        .iter()
        .zip(cpus)
        .map(|(cluster, cpu_pct)| ClusterStatus {
            name: cluster.kind().name().to_string(),
            running: cluster.is_running(),
            port: cluster.port(),
            postmaster_pid: cluster.postmaster_pid(),
            database: database_of(cluster.kind()).to_string(),
            connection_string: cluster.connection_string(database_of(cluster.kind())),
            cpu_pct,
            vcores,
            data_dir: cluster.data_dir().display().to_string(),
        })
        .collect();
    Ok(Status {
        state_dir: state_dir.display().to_string(),
        clusters,
        components: crate::components::statuses(state_dir),
        workloads: workload_process::list(state_dir),
    })
}

async fn cpu_of(cluster: &Cluster, vcores: u32, interval: Duration) -> Option<f64> {
    let pid = cluster.postmaster_pid().filter(|_| cluster.is_running())?;
    match scenario::sample_cpu(pid, Some(vcores), interval).await {
        Ok(percent) => Some(percent),
        Err(error) => {
            tracing::warn!(cluster = cluster.kind().name(), %error, "failed to measure CPU");
            None
        }
    }
}

pub fn print_text(status: &Status) {
    if status.clusters.is_empty() {
        println!(
            "No clusters in {}; start them with `dbagent up`.",
            status.state_dir
        );
        return;
    }
    println!(
        "{:<8} {:<8} {:>6} {:>8} {:>8}  DATABASE",
        "CLUSTER", "STATE", "PORT", "PID", "CPU"
    );
    for cluster in &status.clusters {
        let state = if cluster.running {
            "running"
        } else {
            "stopped"
        };
        let pid = cluster
            .postmaster_pid
            .map_or("-".to_string(), |pid| pid.to_string());
        let cpu = cluster
            .cpu_pct
            .map_or("-".to_string(), |cpu| format!("{cpu:.1} %"));
        println!(
            "{:<8} {:<8} {:>6} {:>8} {:>8}  {}",
            cluster.name, state, cluster.port, pid, cpu, cluster.database
        );
    }
    let vcores = status.clusters.first().map_or(0, |cluster| cluster.vcores);
    println!("CPU is a share of {vcores} vCores. Connection strings: dbagent status --json");
    for component in &status.components {
        println!(
            "Component {} running (pid {})",
            component.name, component.pid
        );
    }
    for workload in &status.workloads {
        println!("Workload {} running (pid {})", workload.name, workload.pid);
    }
}
