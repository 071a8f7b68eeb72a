//! Processes that `dbagent` starts in the background: the components of the local stack and
//! workloads. Each re-runs this binary with a subcommand in its own process group, with its pid
//! in `<state>/processes/<name>.pid` and its output in `<name>.log` beside it.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde::Serialize;

const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Time a new process gets to fail on bad settings before it counts as started.
const STARTUP_GRACE: Duration = Duration::from_millis(700);

/// A background process: its name and the subcommand that runs it.
#[derive(Debug, Clone)]
pub struct Process {
    pub name: String,
    pub args: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ProcessStatus {
    pub name: String,
    pub pid: u32,
    pub log: String,
}

fn process_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("processes")
}

fn pid_file(state_dir: &Path, name: &str) -> PathBuf {
    process_dir(state_dir).join(format!("{name}.pid"))
}

pub fn log_file(state_dir: &Path, name: &str) -> PathBuf {
    process_dir(state_dir).join(format!("{name}.log"))
}

impl Process {
    /// Starts the process with extra environment variables, which keep secrets such as
    /// connection strings out of the process list.
    pub fn start(&self, state_dir: &Path, env: &[(&str, String)]) -> anyhow::Result<u32> {
        if let Some(pid) = self.running_pid(state_dir) {
            anyhow::bail!("{} is already running (pid {pid})", self.name);
        }
        fs::create_dir_all(process_dir(state_dir))?;
        let log_path = log_file(state_dir, &self.name);
        let log = fs::File::create(&log_path)
            .with_context(|| format!("failed to create {}", log_path.display()))?;

        let mut command = Command::new(std::env::current_exe()?);
        command.arg("--state-dir").arg(state_dir).args(&self.args);
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group, so that a later Ctrl-C in this terminal does not stop it.
            .process_group(0)
            .spawn()
            .with_context(|| format!("failed to start {}", self.name))?;
        let pid = child.id();
        fs::write(pid_file(state_dir, &self.name), pid.to_string())?;

        std::thread::sleep(STARTUP_GRACE);
        if self.running_pid(state_dir).is_none() {
            let output = fs::read_to_string(&log_path).unwrap_or_default();
            anyhow::bail!("{} exited at once:\n{}", self.name, output.trim());
        }
        Ok(pid)
    }

    /// Stops the process if it runs; returns whether it was running.
    pub fn stop(&self, state_dir: &Path) -> anyhow::Result<bool> {
        let running = self.running_pid(state_dir);
        if let Some(pid) = running {
            terminate(pid).with_context(|| format!("failed to stop {} (pid {pid})", self.name))?;
        }
        let _ = fs::remove_file(pid_file(state_dir, &self.name));
        Ok(running.is_some())
    }

    /// Returns the recorded pid if that process is alive and runs this subcommand, so that a
    /// recycled pid is never signalled.
    pub fn running_pid(&self, state_dir: &Path) -> Option<u32> {
        let pid: u32 = fs::read_to_string(pid_file(state_dir, &self.name))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let args: Vec<&[u8]> = cmdline.split(|byte| *byte == 0).collect();
        let subcommand: Vec<&[u8]> = self.args.iter().map(|arg| arg.as_bytes()).collect();
        let runs_subcommand = args
            .windows(subcommand.len().max(1))
            .any(|window| window == subcommand.as_slice());
        (runs_subcommand && !is_zombie(pid)).then_some(pid)
    }

    pub fn status(&self, state_dir: &Path) -> Option<ProcessStatus> {
        let pid = self.running_pid(state_dir)?;
        Some(ProcessStatus {
            name: self.name.clone(),
            pid,
            log: log_file(state_dir, &self.name).display().to_string(),
        })
    }
}

/// Names of the processes with a pid file, running or not.
pub fn recorded_names(state_dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(process_dir(state_dir)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            Some(
                path.file_name()?
                    .to_str()?
                    .strip_suffix(".pid")?
                    .to_string(),
            )
        })
        .collect();
    names.sort();
    names
}

fn is_zombie(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true)
}

/// Sends SIGTERM, waits for a clean exit, then SIGKILL.
fn terminate(pid: u32) -> anyhow::Result<()> {
    let pid = Pid::from_raw(pid as i32);
    match kill(pid, Signal::SIGTERM) {
        // It exited between the check and the signal.
        Err(nix::errno::Errno::ESRCH) => return Ok(()),
        result => result?,
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if kill(pid, None).is_err() || is_zombie(pid.as_raw() as u32) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    tracing::warn!(%pid, "process ignored SIGTERM; sending SIGKILL");
    kill(pid, Signal::SIGKILL)?;
    Ok(())
}
