//! CPU use of a local PostgreSQL server, measured from `/proc`.
//!
//! A server's CPU time is the user and system time of its postmaster and of every descendant:
//! backends, background workers and parallel workers. Processes that exit take their time with
//! them, but the kernel adds it to the parent's `cutime` and `cstime` when the parent reaps
//! them, so the total also counts the children that exited between two snapshots. The result
//! is a share of the vCores assigned to the server, like Azure's `cpu_percent` metric.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use procfs::ProcError;
use procfs::process::{Process, Stat};

use crate::{Error, Result};

/// Measures the CPU use of the server whose postmaster has a given process id.
#[derive(Debug, Clone, Copy)]
pub struct CpuSampler {
    pid: u32,
    /// Start time of the postmaster in clock ticks after boot. It differs when a restarted
    /// server reuses the process id.
    start_time: u64,
    vcores: u32,
}

/// Cumulative CPU time of a server at one moment.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    ticks: u64,
    taken_at: Instant,
}

impl CpuSampler {
    /// Creates a sampler for the postmaster `pid`. `vcores` is the number of cores assigned to
    /// the server, and `None` means all cores available to this process.
    pub fn new(pid: u32, vcores: Option<u32>) -> Result<CpuSampler> {
        let vcores = match vcores {
            Some(0) => {
                return Err(Error::InvalidSetting {
                    name: "vcores",
                    value: "0".to_owned(),
                    reason: "a server needs at least one vCore",
                });
            }
            Some(vcores) => vcores,
            None => machine_cores(),
        };
        let stat = read_stat(pid)?;
        Ok(CpuSampler {
            pid,
            start_time: stat.starttime,
            vcores,
        })
    }

    pub fn vcores(&self) -> u32 {
        self.vcores
    }

    /// Reads the server's cumulative CPU time now.
    ///
    /// Fails with [`Error::ProcessGone`] once the postmaster has exited or restarted.
    pub fn snapshot(&self) -> Result<CpuSnapshot> {
        let stat = read_stat(self.pid)?;
        if stat.starttime != self.start_time || stat.state == 'Z' {
            return Err(Error::ProcessGone { pid: self.pid });
        }
        let descendants = descendant_stats(self.pid)?;
        let ticks = descendants
            .iter()
            .chain(std::iter::once(&stat))
            .map(total_ticks)
            .sum();
        Ok(CpuSnapshot {
            ticks,
            taken_at: Instant::now(),
        })
    }

    /// Returns the CPU use between two snapshots in percent of the vCores, from 0 to 100.
    pub fn usage_between(&self, earlier: &CpuSnapshot, later: &CpuSnapshot) -> f64 {
        let elapsed = later.taken_at.duration_since(earlier.taken_at);
        let ticks = later.ticks.saturating_sub(earlier.ticks);
        usage_percent(ticks, procfs::ticks_per_second(), elapsed, self.vcores)
    }

    /// Measures the CPU use over `interval`, in percent of the vCores, from 0 to 100.
    pub async fn sample(&self, interval: Duration) -> Result<f64> {
        let earlier = self.snapshot_blocking().await?;
        tokio::time::sleep(interval).await;
        let later = self.snapshot_blocking().await?;
        Ok(self.usage_between(&earlier, &later))
    }

    /// Reads `/proc` on the blocking thread pool, because a snapshot reads one file per process
    /// on the machine.
    async fn snapshot_blocking(&self) -> Result<CpuSnapshot> {
        let sampler = *self;
        tokio::task::spawn_blocking(move || sampler.snapshot())
            .await
            .expect("reading /proc does not panic")
    }
}

/// Measures once the CPU use of the server whose postmaster is `pid` over `interval`.
pub async fn sample_cpu(pid: u32, vcores: Option<u32>, interval: Duration) -> Result<f64> {
    CpuSampler::new(pid, vcores)?.sample(interval).await
}

/// Converts CPU ticks used over `elapsed` into percent of `vcores`, from 0 to 100.
///
/// Values above 100 happen when the server uses more cores than it was assigned, which a
/// managed server cannot do, so they are capped like Azure's metric.
pub fn usage_percent(ticks: u64, ticks_per_second: u64, elapsed: Duration, vcores: u32) -> f64 {
    let available = elapsed.as_secs_f64() * ticks_per_second as f64 * f64::from(vcores);
    if available <= 0.0 {
        return 0.0;
    }
    (ticks as f64 / available * 100.0).clamp(0.0, 100.0)
}

fn machine_cores() -> u32 {
    std::thread::available_parallelism()
        .map(|cores| u32::try_from(cores.get()).unwrap_or(u32::MAX))
        .unwrap_or(1)
}

/// User and system time of a process plus the time of the children it has reaped.
fn total_ticks(stat: &Stat) -> u64 {
    let reaped = stat.cutime.max(0) as u64 + stat.cstime.max(0) as u64;
    stat.utime + stat.stime + reaped
}

fn read_stat(pid: u32) -> Result<Stat> {
    let result = i32::try_from(pid)
        .map_err(|_| ProcError::NotFound(None))
        .and_then(Process::new)
        .and_then(|process| process.stat());
    result.map_err(|source| match source {
        ProcError::NotFound(_) => Error::ProcessGone { pid },
        source => Error::Proc { pid, source },
    })
}

/// Reads the stat of every process below `root`.
///
/// NOTE: a backend that exits between this scan and the reading of the postmaster's stat is
/// counted in neither. Such an error is at most one short-lived backend's time per snapshot.
fn descendant_stats(root: u32) -> Result<Vec<Stat>> {
    let processes =
        procfs::process::all_processes().map_err(|source| Error::Proc { pid: root, source })?;
    // Processes can exit while the scan runs, so unreadable entries are skipped.
    let stats: Vec<Stat> = processes
        .filter_map(|process| process.ok()?.stat().ok())
        .collect();
    Ok(select_descendants(stats, root as i32))
}

/// Keeps the stats of processes whose chain of parents leads to `root`, without `root` itself.
fn select_descendants(stats: Vec<Stat>, root: i32) -> Vec<Stat> {
    let mut children: HashMap<i32, Vec<Stat>> = HashMap::new();
    for stat in stats {
        children.entry(stat.ppid).or_default().push(stat);
    }
    let mut found = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for child in children.remove(&parent).unwrap_or_default() {
            parents.push(child.pid);
            found.push(child);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_of_one_full_core_out_of_two() {
        let percent = usage_percent(100, 100, Duration::from_secs(1), 2);
        assert!((percent - 50.0).abs() < 1e-9, "{percent}");
    }

    #[test]
    fn usage_caps_at_hundred() {
        assert_eq!(usage_percent(1_000, 100, Duration::from_secs(1), 2), 100.0);
    }

    #[test]
    fn usage_of_empty_interval_is_zero() {
        assert_eq!(usage_percent(50, 100, Duration::ZERO, 2), 0.0);
    }

    #[test]
    fn usage_scales_with_interval() {
        let percent = usage_percent(300, 100, Duration::from_millis(2_500), 4);
        assert!((percent - 30.0).abs() < 1e-9, "{percent}");
    }

    #[test]
    fn zero_vcores_rejected() {
        let error = CpuSampler::new(std::process::id(), Some(0)).unwrap_err();
        assert!(matches!(
            error,
            Error::InvalidSetting { name: "vcores", .. }
        ));
    }

    #[test]
    fn missing_process_reported_gone() {
        // Process ids never exceed 2^22 on Linux, so this one cannot exist.
        let error = CpuSampler::new(u32::MAX / 2, None).unwrap_err();
        assert!(matches!(error, Error::ProcessGone { .. }), "{error}");
    }

    #[test]
    fn own_process_has_cpu_time() {
        let sampler = CpuSampler::new(std::process::id(), Some(1)).unwrap();
        let earlier = sampler.snapshot().unwrap();
        let started = Instant::now();
        let mut spin = 0_u64;
        while started.elapsed() < Duration::from_millis(300) {
            spin = spin.wrapping_add(1);
        }
        std::hint::black_box(spin);
        let later = sampler.snapshot().unwrap();
        let percent = sampler.usage_between(&earlier, &later);
        // Low bar, because other builds may share the core while the loop spins.
        assert!(
            percent > 20.0,
            "a busy loop used only {percent} % of a core"
        );
    }
}
