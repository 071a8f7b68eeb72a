//! CPU time of processes from `/proc/PID/stat`, in clock ticks.

use std::collections::HashMap;
use std::fs;

/// The fields of one process's `/proc/PID/stat` that this benchmark reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: u32,
    pub parent: u32,
    /// Start time in clock ticks after boot, which distinguishes a reused pid from the original
    /// process.
    pub start_time: u64,
    /// `utime + stime`.
    pub own_ticks: u64,
    /// `cutime + cstime`: the time of children that exited and were reaped.
    pub reaped_ticks: u64,
}

/// Reads one process, or `None` when it has exited.
pub fn read(pid: u32) -> Option<ProcStat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse(pid, &text)
}

/// Parses the fields after the command name, which is in parentheses and may itself contain
/// spaces and parentheses, so the split is at the last `)`.
fn parse(pid: u32, text: &str) -> Option<ProcStat> {
    let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    // `fields[0]` is field 3 of proc(5), the state, so field n is at index n - 3.
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(ProcStat {
        pid,
        parent: u32::try_from(field(4)?).ok()?,
        start_time: field(22)?,
        own_ticks: field(14)? + field(15)?,
        reaped_ticks: field(16)? + field(17)?,
    })
}

/// Reads every process on the machine, by pid.
pub fn read_all() -> HashMap<u32, ProcStat> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return HashMap::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(read)
        .map(|stat| (stat.pid, stat))
        .collect()
}

/// Returns the processes whose chain of parents leads to `root`, `root` included.
pub fn tree(all: &HashMap<u32, ProcStat>, root: u32) -> Vec<ProcStat> {
    let mut found: Vec<ProcStat> = all.get(&root).copied().into_iter().collect();
    let mut next = 0;
    while next < found.len() {
        let parent = found[next].pid;
        found.extend(all.values().filter(|stat| stat.parent == parent).copied());
        next += 1;
    }
    found
}

/// Returns the CPU ticks of a process tree, counting the children that exited and were reaped
/// by their parent in the tree.
pub fn tree_ticks(tree: &[ProcStat]) -> u64 {
    tree.iter()
        .map(|stat| stat.own_ticks + stat.reaped_ticks)
        .sum()
}

/// Returns the `utime + stime` that `later` used since the reading `earlier`: all of it when the
/// process started in between.
pub fn own_ticks_since(earlier: &HashMap<u32, ProcStat>, later: &ProcStat) -> u64 {
    match earlier.get(&later.pid) {
        Some(before) if before.start_time == later.start_time => {
            later.own_ticks.saturating_sub(before.own_ticks)
        }
        _ => later.own_ticks,
    }
}

/// Returns the ticks `pid` used between two readings, or `None` unless the same process is in
/// both.
pub fn ticks_between(
    earlier: &HashMap<u32, ProcStat>,
    later: &HashMap<u32, ProcStat>,
    pid: u32,
) -> Option<u64> {
    let (earlier, later) = (earlier.get(&pid)?, later.get(&pid)?);
    if earlier.start_time != later.start_time {
        return None;
    }
    Some(later.own_ticks + later.reaped_ticks - earlier.own_ticks - earlier.reaped_ticks)
}

/// Returns the process title, which PostgreSQL sets to name each process's role, such as
/// `postgres: checkpointer`.
pub fn title(pid: u32) -> String {
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    text.trim().to_string()
}
