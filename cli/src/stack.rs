//! The local stack: a control cluster and a target cluster in the state directory.

use std::path::Path;

use anyhow::Context;
use cluster::{Cluster, ClusterKind, StopMode};

/// Database in the control cluster that contains the document store and the bus.
pub const CONTROL_DATABASE: &str = "dbagent";
/// Database in the target cluster that contains the shop's data.
pub const TARGET_DATABASE: &str = "shop";

pub const KINDS: [ClusterKind; 2] = [ClusterKind::Control, ClusterKind::Target];

pub fn database_of(kind: ClusterKind) -> &'static str {
    match kind {
        ClusterKind::Control => CONTROL_DATABASE,
        ClusterKind::Target => TARGET_DATABASE,
    }
}

/// Creates and starts both clusters as needed, and their databases.
pub async fn ensure_clusters(state_dir: &Path) -> anyhow::Result<Vec<Cluster>> {
    std::fs::create_dir_all(state_dir)
        .with_context(|| format!("failed to create state directory {}", state_dir.display()))?;
    let mut clusters = Vec::new();
    for kind in KINDS {
        let dir = state_dir.to_path_buf();
        let cluster = tokio::task::spawn_blocking(move || Cluster::ensure(&dir, kind))
            .await?
            .with_context(|| format!("failed to start the {} cluster", kind.name()))?;
        cluster
            .ensure_database(database_of(kind))
            .await
            .with_context(|| format!("failed to create database {}", database_of(kind)))?;
        clusters.push(cluster);
    }
    Ok(clusters)
}

/// Opens the clusters that exist in the state directory, without starting them.
pub fn open_clusters(state_dir: &Path) -> anyhow::Result<Vec<Cluster>> {
    let mut clusters = Vec::new();
    for kind in KINDS {
        let opened = Cluster::open(state_dir, kind)
            .with_context(|| format!("failed to open the {} cluster", kind.name()))?;
        clusters.extend(opened);
    }
    Ok(clusters)
}

/// Returns the running local target, or an error that explains how to start it.
pub fn running_target(state_dir: &Path) -> anyhow::Result<Cluster> {
    let target = Cluster::open(state_dir, ClusterKind::Target)?;
    match target {
        Some(target) if target.is_running() => Ok(target),
        _ => anyhow::bail!(
            "the local target cluster in {} is not running; start it with `dbagent up`",
            state_dir.display()
        ),
    }
}

pub fn stop_clusters(state_dir: &Path) -> anyhow::Result<()> {
    for cluster in open_clusters(state_dir)? {
        cluster
            .stop(StopMode::Fast)
            .with_context(|| format!("failed to stop the {} cluster", cluster.kind().name()))?;
    }
    Ok(())
}
