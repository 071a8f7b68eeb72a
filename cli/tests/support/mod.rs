//! Drives the `dbagent` binary in a state directory of its own, stopped and removed on drop.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

pub struct Stack {
    pub state_dir: PathBuf,
}

impl Stack {
    pub fn new() -> Stack {
        let dir = tempfile::Builder::new()
            .prefix("dbagent-cli-")
            .tempdir()
            .unwrap()
            .keep();
        // The clusters' processes run as the postgres user when tests run as root.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        Stack { state_dir: dir }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_dbagent"))
            .arg("--state-dir")
            .arg(&self.state_dir)
            .args(args)
            .output()
            .expect("dbagent runs")
    }

    pub fn run_ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "dbagent {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn status(&self) -> Value {
        serde_json::from_str(&self.run_ok(&["status", "--json", "--interval", "0.2"])).unwrap()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.run(&["down"]);
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

pub fn cluster<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cluster| cluster["name"] == name)
        .unwrap_or_else(|| panic!("no {name} cluster in {status}"))
}

/// Returns a loopback address with a port that nothing listens on right now.
pub fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

impl Stack {
    /// Runs `dbagent up` with `orders` rows and the API on a free port.
    pub fn up(&self, orders: &str) -> String {
        let api = free_address();
        self.run_ok(&["up", "--orders", orders, "--api-listen", &api])
    }
}
