use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;

use crate::os_user::ServerUser;
use crate::standby::STANDBY_SETTINGS;
use crate::{ClusterKind, Error, PgBinaries, Result, ports};

/// The superuser that `initdb` creates in every cluster.
const SUPERUSER: &str = "dbagent";
const METADATA_FILE: &str = "cluster.json";
const START_ATTEMPTS: usize = 3;

/// One PostgreSQL cluster in its own folder of the state directory.
///
/// The folder contains `cluster.json` (port and superuser credentials, readable by its owner only),
/// `data/` (the data directory) and `log/server.log`.
#[derive(Debug)]
pub struct Cluster {
    root: PathBuf,
    kind: ClusterKind,
    metadata: Metadata,
    binaries: PgBinaries,
    server_user: ServerUser,
}

/// How to stop the server, as `pg_ctl stop --mode` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// Disconnect clients and shut down cleanly.
    Fast,
    /// Abort every process without a checkpoint, as a crash would; recovery runs on next start.
    Immediate,
}

/// Superuser login of a cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Metadata {
    kind: ClusterKind,
    port: u16,
    credentials: Credentials,
}

impl Cluster {
    /// Creates the cluster in `state_dir/<kind>` unless it exists, and starts it unless it runs.
    pub fn ensure(state_dir: &Path, kind: ClusterKind) -> Result<Cluster> {
        let mut cluster = match Cluster::open(state_dir, kind)? {
            Some(cluster) => cluster,
            None => {
                let root = state_dir.join(kind.name());
                Cluster::create(root, kind, PgBinaries::locate()?, ServerUser::detect()?)?
            }
        };
        if !cluster.is_running() {
            cluster.start()?;
        }
        Ok(cluster)
    }

    /// Opens the cluster in `state_dir/<kind>` without starting it; `None` when none was created.
    pub fn open(state_dir: &Path, kind: ClusterKind) -> Result<Option<Cluster>> {
        let root = state_dir.join(kind.name());
        let Some(metadata) = read_metadata(&root)? else {
            return Ok(None);
        };
        let binaries = PgBinaries::locate()?;
        for (extension, package) in kind.required_extensions() {
            binaries.require_extension(extension, package)?;
        }
        Ok(Some(Cluster {
            root,
            kind,
            metadata,
            binaries,
            server_user: ServerUser::detect()?,
        }))
    }

    fn create(
        root: PathBuf,
        kind: ClusterKind,
        binaries: PgBinaries,
        server_user: ServerUser,
    ) -> Result<Cluster> {
        for (extension, package) in kind.required_extensions() {
            binaries.require_extension(extension, package)?;
        }
        tracing::info!(dir = %root.display(), kind = kind.name(), "creating PostgreSQL cluster");
        let credentials = Credentials {
            user: SUPERUSER.to_string(),
            password: Alphanumeric.sample_string(&mut rand::rng(), 32),
        };
        let cluster = Cluster {
            root,
            kind,
            metadata: Metadata {
                kind,
                port: ports::free_port().map_err(Error::io("failed to find a free port"))?,
                credentials,
            },
            binaries,
            server_user,
        };
        cluster.create_dirs()?;
        cluster.run_initdb()?;
        cluster.include_settings_file()?;
        cluster.write_metadata()?;
        Ok(cluster)
    }

    /// Creates the log folder and an empty data directory, both owned by the server user.
    pub(crate) fn create_dirs(&self) -> Result<()> {
        let log_dir = self.root.join("log");
        fs::create_dir_all(&log_dir)
            .map_err(Error::io(format!("failed to create {}", log_dir.display())))?;
        self.server_user.own(&log_dir)?;

        let data_dir = self.data_dir();
        fs::create_dir_all(&data_dir).map_err(Error::io(format!(
            "failed to create {}",
            data_dir.display()
        )))?;
        fs::set_permissions(&data_dir, fs::Permissions::from_mode(0o700)).map_err(Error::io(
            format!("failed to restrict {}", data_dir.display()),
        ))?;
        self.server_user.own(&data_dir)
    }

    /// Returns a cluster in `root` with this cluster's kind, superuser login, programs and
    /// server user, on a free port. Nothing is created on disk.
    pub(crate) fn sibling(&self, root: PathBuf) -> Result<Cluster> {
        Ok(Cluster {
            root,
            kind: self.kind,
            metadata: Metadata {
                kind: self.kind,
                port: ports::free_port().map_err(Error::io("failed to find a free port"))?,
                credentials: self.metadata.credentials.clone(),
            },
            binaries: self.binaries.clone(),
            server_user: self.server_user.clone(),
        })
    }

    fn run_initdb(&self) -> Result<()> {
        // initdb reads the password from a file that the server user must be able to read.
        let data_dir = self.data_dir();
        let password_file = self.root.join("log").join("initdb-password");
        write_private(&password_file, &self.metadata.credentials.password)?;
        self.server_user.own(&password_file)?;

        let mut initdb = Command::new(self.binaries.program("initdb"));
        initdb
            .arg("--pgdata")
            .arg(&data_dir)
            .args(["--username", SUPERUSER, "--auth", "scram-sha-256"])
            .arg(format!("--pwfile={}", password_file.display()))
            .args(["--encoding", "UTF8", "--locale", "C"]);
        let result = self.run(initdb);
        let _ = fs::remove_file(&password_file);
        result
    }

    fn include_settings_file(&self) -> Result<()> {
        let conf = self.data_dir().join("postgresql.conf");
        let mut text = fs::read_to_string(&conf)
            .map_err(Error::io(format!("failed to read {}", conf.display())))?;
        text.push_str("\n# Settings managed by DBAgent, rewritten on every start.\ninclude_if_exists = 'dbagent.conf'\n");
        fs::write(&conf, text).map_err(Error::io(format!("failed to write {}", conf.display())))
    }

    /// Starts the server, moving it to a new port when its recorded port is taken.
    pub fn start(&mut self) -> Result<()> {
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            if !ports::is_free(self.metadata.port) {
                self.metadata.port =
                    ports::free_port().map_err(Error::io("failed to find a free port"))?;
                self.write_metadata()?;
            }
            self.write_settings()?;
            match self.pg_ctl_start() {
                Ok(()) => return Ok(()),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.expect("at least one start attempt"))
    }

    fn pg_ctl_start(&self) -> Result<()> {
        tracing::info!(
            kind = self.kind.name(),
            port = self.metadata.port,
            "starting PostgreSQL"
        );
        let mut pg_ctl = Command::new(self.binaries.program("pg_ctl"));
        pg_ctl
            .arg("start")
            .arg("--pgdata")
            .arg(self.data_dir())
            .arg("--log")
            .arg(self.log_file())
            .args(["--wait", "--timeout", "60"]);
        self.run(pg_ctl).map_err(|_| Error::StartFailed {
            dir: self.data_dir(),
            log: self.log_file(),
            log_tail: tail(&self.log_file(), 20),
        })
    }

    /// Stops the server; stopping a stopped cluster succeeds.
    pub fn stop(&self, mode: StopMode) -> Result<()> {
        if !self.is_running() {
            return Ok(());
        }
        let mode = match mode {
            StopMode::Fast => "fast",
            StopMode::Immediate => "immediate",
        };
        let mut pg_ctl = Command::new(self.binaries.program("pg_ctl"));
        pg_ctl
            .arg("stop")
            .arg("--pgdata")
            .arg(self.data_dir())
            .args(["--mode", mode, "--wait", "--timeout", "60"]);
        self.run(pg_ctl)
    }

    /// Tells whether the postmaster recorded in `postmaster.pid` is alive.
    pub fn is_running(&self) -> bool {
        self.postmaster_pid()
            .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
    }

    /// Process id of the running postmaster, the parent of all the cluster's processes.
    pub fn postmaster_pid(&self) -> Option<u32> {
        let pid_file = fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        pid_file.lines().next()?.trim().parse().ok()
    }

    pub fn kind(&self) -> ClusterKind {
        self.kind
    }

    pub fn port(&self) -> u16 {
        self.metadata.port
    }

    pub fn credentials(&self) -> &Credentials {
        &self.metadata.credentials
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    pub fn log_file(&self) -> PathBuf {
        self.root.join("log").join("server.log")
    }

    pub(crate) fn binaries(&self) -> &PgBinaries {
        &self.binaries
    }

    pub(crate) fn server_user(&self) -> &ServerUser {
        &self.server_user
    }

    pub fn major_version(&self) -> u32 {
        self.binaries.major
    }

    /// Returns a libpq-style URL for a database of this cluster, with the superuser's password.
    pub fn connection_string(&self, database: &str) -> String {
        let Credentials { user, password } = &self.metadata.credentials;
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/{database}",
            self.metadata.port
        )
    }

    /// Connection settings for a database of this cluster.
    pub fn config(&self, database: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(self.metadata.port)
            .user(&self.metadata.credentials.user)
            .password(&self.metadata.credentials.password)
            .dbname(database)
            .application_name("dbagent");
        config
    }

    /// Creates a database unless it exists.
    pub async fn ensure_database(&self, name: &str) -> Result<()> {
        let (client, connection) = self
            .config("postgres")
            .connect(tokio_postgres::NoTls)
            .await?;
        let connection = tokio::spawn(connection);
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
            .await?
            .is_some();
        if !exists {
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            let created = client
                .batch_execute(&format!("CREATE DATABASE {quoted}"))
                .await;
            // Another caller may create it between the check and the CREATE: both outcomes
            // leave the database in place.
            if let Err(error) = created {
                let code = error.code();
                let raced = code == Some(&SqlState::DUPLICATE_DATABASE)
                    || code == Some(&SqlState::UNIQUE_VIOLATION);
                if !raced {
                    return Err(error.into());
                }
            }
        }
        drop(client);
        let _ = connection.await;
        Ok(())
    }

    fn write_settings(&self) -> Result<()> {
        let mut text = String::from("# Written by DBAgent on every start; edits are lost.\n");
        text.push_str(&format!("port = {}\n", self.metadata.port));
        for (name, value) in self.kind.settings() {
            text.push_str(&format!("{name} = {value}\n"));
        }
        if self.is_standby() {
            for (name, value) in STANDBY_SETTINGS {
                text.push_str(&format!("{name} = {value}\n"));
            }
        }
        let path = self.data_dir().join("dbagent.conf");
        fs::write(&path, text).map_err(Error::io(format!("failed to write {}", path.display())))?;
        self.server_user.own(&path)
    }

    pub(crate) fn write_metadata(&self) -> Result<()> {
        let text = serde_json::to_string_pretty(&self.metadata).expect("metadata serializes");
        write_private(&self.root.join(METADATA_FILE), &text)
    }

    pub(crate) fn run(&self, mut command: Command) -> Result<()> {
        self.server_user.apply(&mut command);
        let description = format!("{command:?}");
        let output = command
            .output()
            .map_err(Error::io(format!("failed to run {description}")))?;
        if output.status.success() {
            return Ok(());
        }
        Err(Error::CommandFailed {
            command: description,
            status: output.status,
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }
}

fn read_metadata(root: &Path) -> Result<Option<Metadata>> {
    let path = root.join(METADATA_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(Error::io(format!("failed to read {}", path.display()))(
                error,
            ));
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|source| Error::InvalidMetadata { path, source })
}

/// Writes a file that only its owner may read, because it contains a password.
pub(crate) fn write_private(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).map_err(Error::io(format!("failed to write {}", path.display())))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .map_err(Error::io(format!("failed to restrict {}", path.display())))
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
