//! Background workloads: `dbagent workload start` re-runs this binary as `workload run` in its
//! own process group, records its pid in the state directory, and `workload stop` signals it.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::Serialize;

use crate::args::WorkloadArgs;

const STOP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Serialize)]
pub struct WorkloadStatus {
    pub name: String,
    pub pid: u32,
    pub log: String,
}

fn workload_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("workloads")
}

fn pid_file(state_dir: &Path, name: &str) -> PathBuf {
    workload_dir(state_dir).join(format!("{name}.pid"))
}

fn log_file(state_dir: &Path, name: &str) -> PathBuf {
    workload_dir(state_dir).join(format!("{name}.log"))
}

/// Starts the workload in the background with the same settings as `args`.
pub fn start(state_dir: &Path, args: &WorkloadArgs, dsn: &str) -> anyhow::Result<u32> {
    if let Some(pid) = running_pid(state_dir, &args.name) {
        anyhow::bail!(
            "workload {} is already running (pid {pid}); stop it with `dbagent workload stop {}`",
            args.name,
            args.name
        );
    }
    fs::create_dir_all(workload_dir(state_dir))?;
    let log_path = log_file(state_dir, &args.name);
    let log = fs::File::create(&log_path)
        .with_context(|| format!("failed to create {}", log_path.display()))?;

    let mut command = Command::new(std::env::current_exe()?);
    command
        .args(["workload", "run", &args.name, "--dsn", dsn])
        .arg("--concurrency")
        .arg(args.concurrency.to_string())
        .arg("--rate")
        .arg(args.rate.to_string());
    if let Some(duration) = args.duration {
        command.arg("--duration").arg(duration.to_string());
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group, so that Ctrl-C in this terminal later does not stop it.
        .process_group(0)
        .spawn()
        .context("failed to start the workload process")?;
    let pid = child.id();
    fs::write(pid_file(state_dir, &args.name), pid.to_string())?;

    // A bad connection string or workload name fails within moments: report it here.
    std::thread::sleep(Duration::from_millis(700));
    if running_pid(state_dir, &args.name).is_none() {
        let output = fs::read_to_string(&log_path).unwrap_or_default();
        anyhow::bail!("workload {} exited at once:\n{}", args.name, output.trim());
    }
    Ok(pid)
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
        if let Some(pid) = running_pid(state_dir, &name) {
            terminate(pid)
                .with_context(|| format!("failed to stop workload {name} (pid {pid})"))?;
            stopped.push(name.clone());
        }
        let _ = fs::remove_file(pid_file(state_dir, &name));
    }
    Ok(stopped)
}

/// Lists the workloads whose recorded process is still running.
pub fn list(state_dir: &Path) -> Vec<WorkloadStatus> {
    let Ok(entries) = fs::read_dir(workload_dir(state_dir)) else {
        return Vec::new();
    };
    let mut statuses: Vec<WorkloadStatus> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path
                .file_name()?
                .to_str()?
                .strip_suffix(".pid")?
                .to_string();
            let pid = running_pid(state_dir, &name)?;
            let log = log_file(state_dir, &name).display().to_string();
            Some(WorkloadStatus { name, pid, log })
        })
        .collect();
    statuses.sort_by(|a, b| a.name.cmp(&b.name));
    statuses
}

/// Returns the recorded pid if that process is alive and is a workload run of this binary, so
/// that a recycled pid is never signalled.
fn running_pid(state_dir: &Path, name: &str) -> Option<u32> {
    let pid: u32 = fs::read_to_string(pid_file(state_dir, name))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|byte| *byte == 0).collect();
    let is_workload = args.windows(3).any(|window| {
        window[0] == b"workload" && window[1] == b"run" && window[2] == name.as_bytes()
    });
    let zombie = fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true);
    (is_workload && !zombie).then_some(pid)
}

/// Sends SIGTERM, waits for a clean exit, then SIGKILL.
fn terminate(pid: u32) -> anyhow::Result<()> {
    let pid = Pid::from_raw(pid as i32);
    kill(pid, Signal::SIGTERM)?;
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if kill(pid, None).is_err() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    tracing::warn!(%pid, "workload ignored SIGTERM; sending SIGKILL");
    kill(pid, Signal::SIGKILL)?;
    Ok(())
}
