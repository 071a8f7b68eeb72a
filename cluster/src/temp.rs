use std::ops::Deref;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::{Cluster, ClusterKind, Error, Result};

/// A cluster in a fresh temporary directory, for tests.
///
/// A watcher process stops the server and deletes the directory once the process that created
/// the cluster exits, however it exits. Test binaries keep shared clusters in statics, whose
/// destructors never run, so cleanup cannot rely on `Drop`.
#[derive(Debug)]
pub struct TempCluster {
    cluster: Cluster,
}

impl TempCluster {
    /// Creates and starts a new cluster of the given kind.
    pub fn start(kind: ClusterKind) -> Result<TempCluster> {
        let dir = temp_dir()?;
        spawn_reaper(&dir, &dir.join(kind.name()).join("data"))?;
        let cluster = Cluster::ensure(&dir, kind)?;
        Ok(TempCluster { cluster })
    }

    /// Creates and starts a hot standby of `primary`, which must be running, with
    /// [`Cluster::create_standby`]. The standby is removed like any other temporary cluster.
    pub fn start_standby(primary: &Cluster) -> Result<TempCluster> {
        let dir = temp_dir()?;
        let root = dir.join(format!("{}-standby", primary.kind().name()));
        spawn_reaper(&dir, &root.join("data"))?;
        let cluster = primary.create_standby(root)?;
        Ok(TempCluster { cluster })
    }

    /// Returns the one cluster of this kind per test process, created on first use.
    ///
    /// Tests that share it must keep to their own databases, containers or queues, and must not
    /// stop it. A test that restarts its server starts its own cluster.
    pub fn shared(kind: ClusterKind) -> &'static TempCluster {
        static CONTROL: OnceLock<TempCluster> = OnceLock::new();
        static TARGET: OnceLock<TempCluster> = OnceLock::new();
        let cell = match kind {
            ClusterKind::Control => &CONTROL,
            ClusterKind::Target => &TARGET,
        };
        cell.get_or_init(|| TempCluster::start(kind).expect("failed to start a test cluster"))
    }

    pub fn cluster_mut(&mut self) -> &mut Cluster {
        &mut self.cluster
    }
}

impl Deref for TempCluster {
    type Target = Cluster;

    fn deref(&self) -> &Cluster {
        &self.cluster
    }
}

/// Creates a fresh directory that the server user can enter to reach the data directory.
fn temp_dir() -> Result<PathBuf> {
    let dir = tempfile::Builder::new()
        .prefix("dbagent-test-")
        .tempdir()
        .map_err(Error::io("failed to create a temporary directory"))?
        .keep();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .map_err(Error::io(format!("failed to open up {}", dir.display())))?;
    Ok(dir)
}

/// Starts a detached shell that waits for this process to exit, then sends the postmaster
/// SIGQUIT (immediate shutdown) and removes the directory.
fn spawn_reaper(dir: &std::path::Path, data_dir: &std::path::Path) -> Result<()> {
    let script = r#"
        while kill -0 "$OWNER" 2>/dev/null; do sleep 1; done
        if [ -f "$DATA/postmaster.pid" ]; then
            kill -QUIT "$(head -n 1 "$DATA/postmaster.pid")" 2>/dev/null
            for _ in 1 2 3 4 5 6 7 8 9 10; do
                [ -f "$DATA/postmaster.pid" ] || break
                sleep 0.5
            done
        fi
        rm -rf "$DIR"
    "#;
    Command::new("sh")
        .args(["-c", script])
        .env("OWNER", std::process::id().to_string())
        .env("DATA", data_dir)
        .env("DIR", PathBuf::from(dir))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group, so that a Ctrl-C sent to the test run does not end it early.
        .process_group(0)
        .spawn()
        .map_err(Error::io("failed to start the cleanup watcher"))?;
    Ok(())
}
