//! Free and total space of the file system under a local server's data directory.

use std::path::Path;

use contracts::{DiskSpace, MetricsSource};

/// Returns the data directory of a server on this machine, or `None` for a managed server,
/// whose file system the runner cannot see.
pub fn local_data_dir(metrics: &MetricsSource) -> Option<&Path> {
    match metrics {
        MetricsSource::LocalProcess { data_dir } => Some(Path::new(data_dir)),
        MetricsSource::AzureMonitor { .. } => None,
    }
}

/// Measures the file system that contains `data_dir` with statvfs(3), or returns `None` after
/// logging why.
///
/// Free space is what an unprivileged process may still use (`f_bavail`), because that is the
/// limit for the PostgreSQL server. The blocks reserved for root do not count.
#[allow(
    clippy::useless_conversion,
    reason = "statvfs fields are u64 on 64-bit Linux but narrower on some other platforms"
)]
pub fn disk_space(data_dir: &Path) -> Option<DiskSpace> {
    match nix::sys::statvfs::statvfs(data_dir) {
        Ok(stats) => {
            let fragment = u64::from(stats.fragment_size());
            Some(DiskSpace {
                free_bytes: u64::from(stats.blocks_available()).saturating_mul(fragment),
                total_bytes: u64::from(stats.blocks()).saturating_mul(fragment),
            })
        }
        Err(error) => {
            tracing::warn!(%error, data_dir = %data_dir.display(), "failed to measure the data directory's file system");
            None
        }
    }
}
