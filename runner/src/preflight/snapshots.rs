//! Sessions whose old snapshots would stall a concurrent build.
//!
//! `CREATE INDEX CONCURRENTLY` waits, after its first table scan, until every transaction in
//! the same database whose snapshot could still see older rows has ended, whichever table it
//! reads. One session left idle in a `REPEATABLE READ` transaction therefore stalls the build
//! for as long as it stays open. The runner looks for such sessions before it builds, names
//! them, and waits for them a bounded time. It never ends them.

use std::fmt;
use std::time::Duration;

use contracts::{Issue, Run, ServerId, TimelineEventKind};
use tokio::time::Instant;
use tokio_postgres::Client;

use crate::target::failed;
use crate::{Context, Error, steps};

const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// Client sessions of this database, other than the runner's, whose transaction holds a
/// snapshot or a transaction id and began more than `$1` seconds ago. Autovacuum and other
/// background processes are left out because the build does not wait for them.
const HOLDERS_SQL: &str = "
    SELECT pid, coalesce(usename::text, ''), coalesce(application_name, ''),
           coalesce(state, ''), extract(epoch FROM now() - xact_start)::float8
    FROM pg_stat_activity
    WHERE datname = current_database()
      AND pid <> pg_backend_pid()
      AND backend_type = 'client backend'
      AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)
      AND xact_start < now() - make_interval(secs => $1)
    ORDER BY xact_start";

/// One session whose open transaction would hold up the build.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotHolder {
    pub pid: i32,
    pub user: String,
    pub application: String,
    /// `pg_stat_activity.state`, such as `idle in transaction`.
    pub state: String,
    /// Age of the session's transaction when it was read.
    pub transaction_seconds: f64,
}

impl fmt::Display for SnapshotHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {} (user {}", self.pid, self.user)?;
        if !self.application.is_empty() {
            write!(f, ", application {}", self.application)?;
        }
        write!(
            f,
            ", {}, transaction open {:.0} s)",
            self.state, self.transaction_seconds
        )
    }
}

/// How long a transaction must be open to count as old, and how long to wait for old ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SnapshotWait {
    pub older_than: Duration,
    pub max_wait: Duration,
}

/// Lists the sessions whose transactions began more than `older_than` ago and hold a snapshot.
///
/// NOTE: `pg_stat_activity` hides `backend_xmin` of other roles' sessions unless the runner's
/// role has `pg_read_all_stats`, so without it their snapshots go unseen here and only the
/// build's `statement_timeout` bounds the wait for them.
pub async fn holders(
    client: &Client,
    server_id: &ServerId,
    older_than: Duration,
) -> Result<Vec<SnapshotHolder>, Error> {
    let rows = client
        .query(HOLDERS_SQL, &[&older_than.as_secs_f64()])
        .await
        .map_err(failed("look for sessions with old snapshots", server_id))?;
    Ok(rows
        .iter()
        .map(|row| SnapshotHolder {
            pid: row.get(0),
            user: row.get(1),
            application: row.get(2),
            state: row.get(3),
            transaction_seconds: row.get(4),
        })
        .collect())
}

/// Waits until no session holds an old snapshot, for at most `wait.max_wait`. Records the
/// sessions on the run's timeline and in the issue's notes when it first sees them, and
/// returns the reason to give up,
/// naming the sessions still there at the deadline, or `None` once they are gone.
pub async fn wait_for_old_snapshots(
    ctx: &Context,
    run: &Run,
    issue: &Issue,
    client: &Client,
    wait: SnapshotWait,
) -> Result<Option<String>, Error> {
    let deadline = Instant::now() + wait.max_wait;
    let mut recorded = false;
    loop {
        let found = holders(client, &run.server_id, wait.older_than).await?;
        if found.is_empty() {
            return Ok(None);
        }
        let names = list(&found);
        if !recorded {
            tracing::warn!(run.id = %run.id, sessions = %names, "waiting for sessions with old snapshots before the build");
            let message = format!(
                "Waiting up to {} s for sessions whose open transactions would stall the \
                 build: {names}. DBAgent does not end them.",
                wait.max_wait.as_secs()
            );
            ctx.record(run, TimelineEventKind::BuildWaiting, message.clone())
                .await?;
            steps::add_issue_notes(ctx, issue, &[message]).await?;
            recorded = true;
        }
        if Instant::now() >= deadline {
            return Ok(Some(format!(
                "Preflight failed: after waiting {} s, these sessions still hold transactions \
                 open for more than {} s, and CREATE INDEX CONCURRENTLY would wait for every \
                 one of them: {names}. DBAgent never ends another session. Once they commit or \
                 end, the next investigation of this server can propose the index again.",
                wait.max_wait.as_secs(),
                wait.older_than.as_secs()
            )));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

fn list(holders: &[SnapshotHolder]) -> String {
    holders
        .iter()
        .map(SnapshotHolder::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_names_pid_user_and_state() {
        let holder = SnapshotHolder {
            pid: 4242,
            user: "report".to_string(),
            application: "psql".to_string(),
            state: "idle in transaction".to_string(),
            transaction_seconds: 42.4,
        };
        assert_eq!(
            holder.to_string(),
            "pid 4242 (user report, application psql, idle in transaction, transaction open 42 s)"
        );
    }
}
