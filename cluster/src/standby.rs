//! Hot standbys of a running cluster, copied with `pg_basebackup` and kept current by streaming
//! replication.
//!
//! The primary needs no change. `initdb --auth scram-sha-256` writes a `pg_hba.conf` that allows
//! `host replication all 127.0.0.1/32` with that method, `initdb`'s superuser has the REPLICATION
//! attribute, and `wal_level = replica` and `max_wal_senders = 10` are the server's defaults
//! (PostgreSQL 10 and newer).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls};

use crate::cluster::write_private;
use crate::{Cluster, Error, Result};

/// Settings that a standby adds to its `dbagent.conf`.
pub(crate) const STANDBY_SETTINGS: [(&str, &str); 2] = [
    // Read-only queries during recovery. It is the default since PostgreSQL 10, and is written
    // out so that a standby's role does not depend on a default.
    ("hot_standby", "on"),
    // The primary's vacuum then keeps the row versions that standby queries still read, so
    // replay does not cancel those queries.
    ("hot_standby_feedback", "on"),
];

/// The standby's libpq password file for its primary, beside `cluster.json`.
const PASSFILE: &str = "primary.pgpass";

const REPLAY_POLL_INTERVAL: Duration = Duration::from_millis(50);

impl Cluster {
    /// Copies this running cluster into `root` as a streaming-replication hot standby and
    /// starts the standby.
    ///
    /// `pg_basebackup --write-recovery-conf` leaves `standby.signal` and a `primary_conninfo`
    /// with this cluster's address and superuser in the standby's `postgresql.auto.conf`. The
    /// password is in `primary.pgpass` in `root`, readable by the server user only.
    /// The standby has this cluster's kind, settings and login, and a port of its own.
    ///
    /// NOTE: no replication slot retains WAL for the standby, so a standby that falls further
    /// behind than the WAL the primary still keeps cannot catch up. `primary_conninfo` also
    /// fixes the primary's port, so the standby loses its primary if the primary restarts on
    /// another port.
    pub fn create_standby(&self, root: PathBuf) -> Result<Cluster> {
        let mut standby = self.sibling(root)?;
        tracing::info!(
            dir = %standby.root().display(),
            primary_port = self.port(),
            "creating PostgreSQL hot standby"
        );
        standby.create_dirs()?;
        standby.run_base_backup(self)?;
        standby.write_metadata()?;
        standby.start()?;
        Ok(standby)
    }

    /// Tells whether the server starts in standby mode, which `standby.signal` in the data
    /// directory requests.
    pub fn is_standby(&self) -> bool {
        self.data_dir().join("standby.signal").is_file()
    }

    /// Waits until this standby has replayed all WAL that `primary` had written when the wait
    /// began, and returns how long that took.
    ///
    /// Fails with [`Error::ReplayTimedOut`] after `timeout`.
    pub async fn wait_for_replay(&self, primary: &Cluster, timeout: Duration) -> Result<Duration> {
        let started = Instant::now();
        let primary_client = connect(primary).await?;
        let target: String = primary_client
            .query_one("SELECT pg_current_wal_lsn()::text", &[])
            .await?
            .get(0);
        let standby_client = connect(self).await?;
        loop {
            // pg_last_wal_replay_lsn() is NULL until the standby replays its first record.
            let row = standby_client
                .query_one(
                    "SELECT pg_last_wal_replay_lsn()::text,
                            coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)",
                    &[&target],
                )
                .await?;
            if row.get::<_, bool>(1) {
                return Ok(started.elapsed());
            }
            if started.elapsed() >= timeout {
                let replayed: Option<String> = row.get(0);
                return Err(Error::ReplayTimedOut {
                    port: self.port(),
                    target,
                    replayed: replayed.unwrap_or_else(|| "nothing".to_string()),
                    timeout,
                    log: self.log_file(),
                });
            }
            tokio::time::sleep(REPLAY_POLL_INTERVAL).await;
        }
    }

    fn run_base_backup(&self, primary: &Cluster) -> Result<()> {
        // libpq reads the password from a file, so that it is neither on the command line nor
        // in an error message, which prints the command with its environment. The file stays:
        // pg_basebackup names it in primary_conninfo, and the standby reads it on every
        // connection to the primary.
        let passfile = self.root().join(PASSFILE);
        let credentials = primary.credentials();
        let entry = format!(
            "127.0.0.1:{}:*:{}:{}\n",
            primary.port(),
            credentials.user,
            credentials.password
        );
        write_private(&passfile, &entry)?;
        self.server_user().own(&passfile)?;

        let mut backup = Command::new(self.binaries().program("pg_basebackup"));
        backup
            .arg("--pgdata")
            .arg(self.data_dir())
            .args(["--host", "127.0.0.1", "--port", &primary.port().to_string()])
            .args(["--username", &credentials.user, "--no-password"])
            // A fast checkpoint starts the copy at once instead of after a spread checkpoint.
            .args(["--wal-method", "stream", "--checkpoint", "fast"])
            .arg("--write-recovery-conf")
            .env("PGPASSFILE", &passfile);
        self.run(backup)
    }
}

async fn connect(cluster: &Cluster) -> Result<Client> {
    let (client, connection) = cluster.config("postgres").connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}
