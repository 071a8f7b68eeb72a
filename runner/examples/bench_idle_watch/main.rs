//! Measures what DBAgent costs while nothing is wrong: the CPU of DBAgent's sessions on the
//! target and of the whole target server, and the CPU of the runner, Platform Services and the
//! API, while a local stack idles. The goal is under 0.5 % of one core.
//!
//! Usage: `bench_idle_watch STATE_DIR [SECONDS]`. `scripts/bench` starts the stack with
//! `dbagent up` in a temporary state directory, runs this program on it for 60 s and stops the
//! stack afterwards. CPU time comes from `/proc/PID/stat`, so it only works on Linux.

mod proc_stat;
mod target_sessions;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cluster::{Cluster, ClusterKind};
use proc_stat::ProcStat;
use target_sessions::Sessions;
use tokio_postgres::Client;

const GOAL_PCT: f64 = 0.5;
const DEFAULT_SECONDS: u64 = 60;
/// The background processes of `dbagent up`, whose pids are in `STATE_DIR/processes/NAME.pid`.
const COMPONENTS: [&str; 3] = ["runner", "platform", "api"];
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Everything read at one end of the watch.
struct Reading {
    at: Instant,
    processes: HashMap<u32, ProcStat>,
    sessions: Sessions,
}

/// The readings at both ends of the watch.
struct Watch {
    start: Reading,
    end: Reading,
    ticks_per_second: u64,
}

impl Watch {
    fn seconds(&self) -> f64 {
        self.end.at.duration_since(self.start.at).as_secs_f64()
    }

    /// Converts clock ticks used during the watch into percent of one core.
    fn percent(&self, ticks: u64) -> f64 {
        ticks as f64 / self.ticks_per_second as f64 / self.seconds() * 100.0
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (state_dir, seconds) = parse_args()?;
    let ticks_per_second = clock_ticks()?;
    let target = running_cluster(&state_dir, ClusterKind::Target)?;
    let control = running_cluster(&state_dir, ClusterKind::Control)?;
    let client = target_sessions::connect(&target).await?;
    let own_pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await?
        .get(0);

    let start = read_start(&client).await?;
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let end = read_end(&client).await?;
    let watch = Watch {
        start,
        end,
        ticks_per_second,
    };

    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    println!(
        "idle watch: {:.1} s with no workload, {cores} cores, {ticks_per_second} clock ticks \
         per second",
        watch.seconds()
    );
    print_target(&watch, postmaster_pid(&target)?, own_pid as u32)?;
    print_components(&watch, &state_dir)?;
    let control_pid = postmaster_pid(&control)?;
    let control_ticks = tree_ticks_between(&watch, control_pid)?;
    print_share(
        "control cluster, whole server (store and bus)",
        watch.percent(control_ticks),
        false,
    );
    print_processes(&watch, control_pid, None, control_ticks);
    Ok(())
}

/// Prints DBAgent's sessions on the target and their CPU, then the whole target server's CPU
/// without this program's session, `own_pid`.
fn print_target(watch: &Watch, postmaster: u32, own_pid: u32) -> Result<(), Error> {
    target_sessions::print(&watch.start.sessions, &watch.end.sessions);
    let dbagent_ticks = dbagent_session_ticks(watch);
    print_share(
        "target, DBAgent's sessions",
        watch.percent(dbagent_ticks),
        true,
    );

    let own_ticks = proc_stat::ticks_between(&watch.start.processes, &watch.end.processes, own_pid);
    let target_ticks =
        tree_ticks_between(watch, postmaster)?.saturating_sub(own_ticks.unwrap_or(0));
    print_share(
        "target, whole server (PostgreSQL's own background work included)",
        watch.percent(target_ticks),
        true,
    );
    print_processes(watch, postmaster, Some(own_pid), target_ticks);
    Ok(())
}

fn print_components(watch: &Watch, state_dir: &Path) -> Result<(), Error> {
    for component in COMPONENTS {
        let pid = component_pid(state_dir, component)?;
        let ticks = proc_stat::ticks_between(&watch.start.processes, &watch.end.processes, pid)
            .ok_or_else(|| {
                format!("the {component} process (pid {pid}) exited during the watch")
            })?;
        // The goal is about watching the target, which the API takes no part in.
        let against_goal = component != "api";
        print_share(
            &format!("{component} process"),
            watch.percent(ticks),
            against_goal,
        );
    }
    Ok(())
}

fn parse_args() -> Result<(PathBuf, u64), Error> {
    let usage = "usage: bench_idle_watch STATE_DIR [SECONDS]";
    let mut args = std::env::args().skip(1);
    let state_dir = PathBuf::from(args.next().ok_or(usage)?);
    let seconds = match args.next() {
        Some(text) => text
            .parse()
            .map_err(|_| format!("SECONDS {text:?} is invalid; give whole seconds. {usage}"))?,
        None => DEFAULT_SECONDS,
    };
    Ok((state_dir, seconds))
}

/// Returns the kernel's clock ticks per second, the unit of `/proc/PID/stat` times.
fn clock_ticks() -> Result<u64, Error> {
    let output = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let ticks = text
        .trim()
        .parse()
        .map_err(|_| format!("`getconf CLK_TCK` printed {text:?}, not a number"))?;
    Ok(ticks)
}

fn running_cluster(state_dir: &Path, kind: ClusterKind) -> Result<Cluster, Error> {
    let cluster = Cluster::open(state_dir, kind)?.filter(Cluster::is_running);
    let missing = || {
        format!(
            "no running {} cluster in {}; start the stack with `dbagent up` first",
            kind.name(),
            state_dir.display()
        )
    };
    Ok(cluster.ok_or_else(missing)?)
}

fn postmaster_pid(cluster: &Cluster) -> Result<u32, Error> {
    let pid = cluster.postmaster_pid().ok_or_else(|| {
        format!(
            "the {} cluster has no postmaster.pid; it stopped during the watch",
            cluster.kind().name()
        )
    })?;
    Ok(pid)
}

fn component_pid(state_dir: &Path, name: &str) -> Result<u32, Error> {
    let path = state_dir.join("processes").join(format!("{name}.pid"));
    let text = std::fs::read_to_string(&path)
        .map_err(|error| format!("failed to read {}: {error}", path.display()))?;
    let pid = text
        .trim()
        .parse()
        .map_err(|_| format!("{} contains {text:?}, not a pid", path.display()))?;
    Ok(pid)
}

/// Reads the sessions before the processes, so that this program's queries fall outside the
/// measured interval.
async fn read_start(client: &Client) -> Result<Reading, Error> {
    let sessions = target_sessions::read(client).await?;
    Ok(Reading {
        at: Instant::now(),
        processes: proc_stat::read_all(),
        sessions,
    })
}

async fn read_end(client: &Client) -> Result<Reading, Error> {
    let at = Instant::now();
    let processes = proc_stat::read_all();
    let sessions = target_sessions::read(client).await?;
    Ok(Reading {
        at,
        processes,
        sessions,
    })
}

/// Returns the ticks of DBAgent's sessions that were open at both ends of the watch. A session
/// that opened or closed in between is counted in the whole server's figure only.
fn dbagent_session_ticks(watch: &Watch) -> u64 {
    let (start, end) = (&watch.start, &watch.end);
    start
        .sessions
        .dbagent
        .iter()
        .filter_map(|(pid, _)| proc_stat::ticks_between(&start.processes, &end.processes, *pid))
        .sum()
}

/// Returns the ticks of the postmaster `pid` and its descendants, including the descendants
/// that exited during the watch, because the postmaster reaps them into its own counters.
fn tree_ticks_between(watch: &Watch, pid: u32) -> Result<u64, Error> {
    let before = proc_stat::tree(&watch.start.processes, pid);
    let after = proc_stat::tree(&watch.end.processes, pid);
    let same = before
        .first()
        .zip(after.first())
        .is_some_and(|(before, after)| before.start_time == after.start_time);
    if !same {
        let message = format!("the postmaster (pid {pid}) restarted or exited during the watch");
        return Err(message.into());
    }
    // A descendant that exited is in `before` only, but the postmaster reaped its time into
    // its own counters, so the difference of the sums still counts all of it.
    let ticks = proc_stat::tree_ticks(&after).saturating_sub(proc_stat::tree_ticks(&before));
    Ok(ticks)
}

/// Lists the processes of a server that used CPU during the watch, busiest first, without
/// `excluded`, then the share of the processes that exited before its end.
fn print_processes(watch: &Watch, postmaster: u32, excluded: Option<u32>, total_ticks: u64) {
    let mut busy: Vec<(u64, u32)> = proc_stat::tree(&watch.end.processes, postmaster)
        .iter()
        .filter(|stat| Some(stat.pid) != excluded)
        .map(|stat| {
            (
                proc_stat::own_ticks_since(&watch.start.processes, stat),
                stat.pid,
            )
        })
        .filter(|(ticks, _)| *ticks > 0)
        .collect();
    busy.sort_by(|a, b| b.cmp(a));
    let listed: u64 = busy.iter().map(|(ticks, _)| ticks).sum();
    for (ticks, pid) in busy {
        println!("  {:.2} %  {}", watch.percent(ticks), proc_stat::title(pid));
    }
    let exited = total_ticks.saturating_sub(listed);
    if exited > 0 {
        let percent = watch.percent(exited);
        println!("  {percent:.2} %  processes that exited during the watch");
    }
}

fn print_share(label: &str, percent: f64, against_goal: bool) {
    if against_goal {
        let verdict = if percent < GOAL_PCT { "met" } else { "not met" };
        println!("{label}: {percent:.2} % of one core (goal < {GOAL_PCT} %: {verdict})");
    } else {
        println!("{label}: {percent:.2} % of one core");
    }
}
