//! Whether the server has room for the build: disk, memory, time, vacuum and standbys.

use contracts::{ReplicaFacts, RiskFacts};

use super::format::{bytes, count, duration, percent, rate, setting_bytes};
use super::{Facts, Finding};

/// Free disk below this multiple of the build's need is a concern. WAL is kept until the next
/// checkpoint, and longer for a lagging standby, while other sessions' temporary files and the
/// tables' own growth share the same disk.
const DISK_MARGIN: u64 = 3;

/// Memory per sorted index entry beyond the entry itself: a 24-byte `SortTuple` slot and about
/// 8 bytes of allocation overhead, on 64-bit builds.
const SORT_BYTES_PER_ENTRY: u64 = 32;

/// Builds that take longer than this many seconds are a concern.
pub(super) const LONG_BUILD_SECONDS: f64 = 600.0;

/// PostgreSQL's defaults: autovacuum processes a table once more than
/// `autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor * reltuples` rows have changed.
const AUTOVACUUM_THRESHOLD_ROWS: f64 = 50.0;
const AUTOVACUUM_SCALE_FACTOR: f64 = 0.2;

/// A standby already this far behind in replay is a concern, because the build's WAL adds to it.
const REPLAY_LAG_CONCERN_SECONDS: f64 = 30.0;

pub(super) fn findings(facts: &Facts, risk: &RiskFacts) -> Vec<Finding> {
    let mut findings = Vec::new();
    if risk.in_recovery {
        findings.push(standby());
    }
    findings.push(disk(facts, risk));
    findings.push(memory(facts, risk));
    findings.push(build_time(facts, risk));
    findings.extend(vacuum(facts, risk));
    findings.push(replicas(facts, risk));
    findings
}

fn standby() -> Finding {
    let text = "This server is in recovery, as pg_is_in_recovery() reports, so it is a standby. \
                PostgreSQL rejects CREATE INDEX there, and DBAgent cannot build on it. Grant the \
                permission on the primary, whose indexes reach this standby through replication."
        .to_string();
    let reason = "this server is a standby, where PostgreSQL rejects CREATE INDEX".to_string();
    Finding::blocking("Standby", text, reason)
}

/// Estimates the memory an in-memory sort of the index entries takes.
fn sort_bytes(facts: &Facts) -> Option<u64> {
    let rows = facts.evidence.table_rows.unwrap_or(0);
    Some(facts.index_bytes? + rows.saturating_mul(SORT_BYTES_PER_ENTRY))
}

/// Tells whether the sort exceeds `maintenance_work_mem`, or `None` when either is unknown.
fn sort_spills(facts: &Facts, risk: &RiskFacts) -> Option<bool> {
    Some(sort_bytes(facts)? > risk.maintenance_work_mem_bytes?)
}

fn disk(facts: &Facts, risk: &RiskFacts) -> Finding {
    let index_name = &facts.action.index_name;
    let Some(index) = facts.index_bytes else {
        let text = format!(
            "HypoPG gave no size estimate for {index_name}, so the disk the build needs is \
             unknown."
        );
        return Finding::caution("Disk", text);
    };
    let spills = sort_spills(facts, risk);
    // The index file, its WAL, and temporary files as large as the index when the sort spills,
    // which is assumed when it cannot be ruled out.
    let copies = if spills == Some(false) { 2 } else { 3 };
    let needed = index.saturating_mul(copies);
    let spill_part = match spills {
        Some(true) => ", and as much again to temporary files because its sort spills",
        Some(false) => "",
        None => ", and, if its sort spills, as much again to temporary files",
    };
    let need = format!(
        "HypoPG estimates {index_name} at {}. The build writes it to the index file and to \
         WAL{spill_part}, about {} in all.",
        bytes(index),
        bytes(needed)
    );

    let Some(space) = risk.disk else {
        let text = format!(
            "{need} Free disk is unknown because the runner cannot see the file system of a \
             remote server. Keep at least {} free.",
            bytes(needed.saturating_mul(DISK_MARGIN))
        );
        return Finding::caution("Disk", text);
    };
    let free = format!(
        "{} of {}",
        bytes(space.free_bytes),
        bytes(space.total_bytes)
    );
    if space.free_bytes < needed {
        let text = format!(
            "{need} Only {free} is free, so the build would fill the disk, and PostgreSQL shuts \
             down when it cannot write WAL."
        );
        let reason = format!(
            "free disk ({}) does not cover the build's estimated {}",
            bytes(space.free_bytes),
            bytes(needed)
        );
        return Finding::blocking("Disk", text, reason);
    }
    if space.free_bytes < needed.saturating_mul(DISK_MARGIN) {
        let text = format!(
            "{need} Free disk is {free}, less than {DISK_MARGIN} times that. The margin is for \
             WAL kept until the next checkpoint or for a lagging standby, and for other \
             sessions' temporary files."
        );
        return Finding::caution("Disk", text);
    }
    Finding::info(
        "Disk",
        format!("{need} Free disk is {free}, more than {DISK_MARGIN} times that."),
    )
}

fn memory(facts: &Facts, risk: &RiskFacts) -> Finding {
    let Some(work_mem) = risk.maintenance_work_mem_bytes else {
        let text = "maintenance_work_mem was not recorded, so whether the build's sort fits in \
                    memory is unknown. The disk estimate assumes that it spills."
            .to_string();
        return Finding::info("Memory", text);
    };
    let work_mem = setting_bytes(work_mem);
    let (Some(sort), Some(spills)) = (sort_bytes(facts), sort_spills(facts, risk)) else {
        let text = format!(
            "maintenance_work_mem is {work_mem}, but without an index size estimate, whether \
             the build's sort fits in it is unknown."
        );
        return Finding::info("Memory", text);
    };
    let entries = match facts.evidence.table_rows {
        Some(rows) => format!("{} index entries", count(rows)),
        None => "the index entries".to_string(),
    };
    let text = if spills {
        format!(
            "maintenance_work_mem is {work_mem}, below the estimated {} that sorting {entries} \
             takes, so the sort spills to temporary files. That is slower but bounded, and the \
             disk estimate counts it.",
            bytes(sort)
        )
    } else {
        format!(
            "maintenance_work_mem is {work_mem}, above the estimated {} that sorting {entries} \
             takes, so the build sorts in memory.",
            bytes(sort)
        )
    };
    Finding::info("Memory", text)
}

fn build_time(facts: &Facts, risk: &RiskFacts) -> Finding {
    let table = &facts.table;
    let cpu = match facts.server.vcores {
        1 => "Its scan and sort keep the server's only vCore busy while it runs.".to_string(),
        vcores => format!(
            "Its scan and sort keep at least one of the server's {vcores} vCores busy while it \
             runs."
        ),
    };
    let Some(estimate) = &risk.build_estimate else {
        let text = format!(
            "The runner did not estimate the build time, so how long {table} stays locked \
             against DDL and vacuum is unknown. The proposed limits therefore allow builds only \
             at night. {cpu}"
        );
        return Finding::caution("Build time", text);
    };
    let basis = estimate.basis.trim().trim_end_matches('.');
    let estimated = format!(
        "The build is estimated at {}. {basis}.",
        duration(estimate.seconds)
    );
    if estimate.seconds >= LONG_BUILD_SECONDS {
        let text = format!(
            "{estimated} For that long, DDL, VACUUM and ANALYZE on {table} wait, and a long \
             transaction can stretch it further. {cpu}"
        );
        return Finding::caution("Build time", text);
    }
    let text = format!("{estimated} {table} is locked against DDL and vacuum only briefly. {cpu}");
    Finding::info("Build time", text)
}

/// Sizes the changes that wait for autovacuum during the build. Returns `None` without a write
/// rate, a row count or a build estimate.
fn vacuum(facts: &Facts, risk: &RiskFacts) -> Option<Finding> {
    let writes = facts.evidence.table_writes_per_second?;
    let rows = facts.evidence.table_rows? as f64;
    let seconds = risk.build_estimate.as_ref()?.seconds;
    let changes = writes * seconds;
    let threshold = AUTOVACUUM_THRESHOLD_ROWS + AUTOVACUUM_SCALE_FACTOR * rows;
    let share = if rows > 0.0 {
        format!(", {} of its rows", percent(100.0 * changes / rows))
    } else {
        String::new()
    };
    let measured = format!(
        "Autovacuum cannot process {} during the build. At {} writes/s for an estimated {}, \
         about {} rows change{share}",
        facts.table,
        rate(writes),
        duration(seconds),
        count(changes.round() as u64)
    );
    if changes > threshold {
        let text = format!(
            "{measured}, more than the 20 % at which autovacuum would start with default \
             settings, so dead rows and stale planner statistics accumulate until the build ends."
        );
        return Some(Finding::caution("Vacuum", text));
    }
    let text = format!(
        "{measured}, fewer than the 20 % at which autovacuum would start with default settings."
    );
    Some(Finding::info("Vacuum", text))
}

fn replicas(facts: &Facts, risk: &RiskFacts) -> Finding {
    if risk.replicas.is_empty() {
        let text = "No standbys stream from this server (pg_stat_replication is empty), so no \
                    replica replays the build's WAL."
            .to_string();
        return Finding::info("Replicas", text);
    }
    let listed: Vec<String> = risk
        .replicas
        .iter()
        .map(|replica| {
            let lag = match replica.replay_lag_seconds {
                Some(seconds) => format!("replay lag {}", duration(seconds)),
                None => "no replay lag reported".to_string(),
            };
            let name = &replica.application_name;
            format!("{name} ({}, {}, {lag})", replica.sync_state, replica.state)
        })
        .collect();
    let volume = match facts.index_bytes {
        Some(index) => format!("about {} of WAL", bytes(index)),
        None => "WAL as large as the index".to_string(),
    };
    let mut text = format!(
        "The build writes {volume}, which each standby replays: {}.",
        listed.join("; ")
    );
    let mut concern = false;

    let synchronous = replica_names(risk, |replica| {
        matches!(replica.sync_state.as_str(), "sync" | "quorum")
    });
    if !synchronous.is_empty() {
        concern = true;
        let verb = if synchronous.len() == 1 {
            "confirms"
        } else {
            "confirm"
        };
        text.push_str(&format!(
            " Commits on this server wait until {} {verb} their WAL (flushed, or replayed with \
             synchronous_commit = remote_apply), so the build's burst of WAL can slow every \
             commit while it streams.",
            super::join_words(&synchronous)
        ));
    }
    let lagging = replica_names(risk, |replica| {
        replica
            .replay_lag_seconds
            .is_some_and(|lag| lag > REPLAY_LAG_CONCERN_SECONDS)
    });
    if !lagging.is_empty() {
        concern = true;
        let verb = if lagging.len() == 1 { "lags" } else { "lag" };
        text.push_str(&format!(
            " {} already {verb} more than {REPLAY_LAG_CONCERN_SECONDS} s behind in replay. The \
             build's WAL adds to that lag, and reads there see older data.",
            super::join_words(&lagging)
        ));
    }
    if concern {
        Finding::caution("Replicas", text)
    } else {
        Finding::info("Replicas", text)
    }
}

fn replica_names(risk: &RiskFacts, selected: impl Fn(&ReplicaFacts) -> bool) -> Vec<String> {
    risk.replicas
        .iter()
        .filter(|replica| selected(replica))
        .map(|replica| replica.application_name.clone())
        .collect()
}
