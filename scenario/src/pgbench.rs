//! pgbench scripts for the workloads and the command line that runs them.
//!
//! pgbench produces the same load as [`crate::workload::run`] from outside DBAgent, which shows
//! that detection does not depend on the load coming from DBAgent's own generator. It also
//! reaches servers that require TLS, because it uses libpq.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tokio_postgres::config::{Host, SslMode};

use crate::workload::{DEFAULT_RATE, DEFAULT_SESSIONS, Workload};
use crate::{Error, Result, Scale};

const ORDERS_BY_CUSTOMER: &str = include_str!("../pgbench/orders-by-customer.sql");
const SHIPMENTS_BY_TRACKING: &str = include_str!("../pgbench/shipments-by-tracking.sql");

/// Returns the pgbench script of a workload. It expects the variables that [`command`] defines.
pub fn script(workload: Workload) -> &'static str {
    match workload {
        Workload::OrdersByCustomer => ORDERS_BY_CUSTOMER,
        Workload::ShipmentsByTracking => SHIPMENTS_BY_TRACKING,
    }
}

/// Returns the file name for a workload's script, such as `orders-by-customer.sql`.
pub fn script_file_name(workload: Workload) -> String {
    format!("{}.sql", workload.name())
}

/// Writes a workload's script into `dir` and returns its path.
pub fn write_script(dir: &Path, workload: Workload) -> std::io::Result<PathBuf> {
    let path = dir.join(script_file_name(workload));
    std::fs::write(&path, script(workload))?;
    Ok(path)
}

/// Settings of a pgbench run.
#[derive(Debug, Clone)]
pub struct PgbenchOptions {
    pub workload: Workload,
    /// Client sessions (`-c`).
    pub clients: u32,
    /// Worker threads (`-j`), at most `clients`.
    pub threads: u32,
    /// Transactions per second across all clients (`-R`), or `None` for no limit.
    pub rate: Option<f64>,
    /// Run time (`-T`), in whole seconds, at least one.
    pub duration: Duration,
}

impl PgbenchOptions {
    /// Creates options with the workload runner's defaults: 4 clients at 50 statements per
    /// second in total.
    pub fn new(workload: Workload, duration: Duration) -> PgbenchOptions {
        PgbenchOptions {
            workload,
            clients: DEFAULT_SESSIONS as u32,
            threads: 2,
            rate: Some(DEFAULT_RATE),
            duration,
        }
    }
}

/// Builds the pgbench command for `options.workload` with its script at `script_path`.
///
/// The password travels in the `PGPASSWORD` environment variable rather than on the command
/// line, where other local users could read it from the process list.
pub fn command(
    pgbench: &Path,
    connection_string: &str,
    script_path: &Path,
    scale: Scale,
    options: &PgbenchOptions,
) -> Result<Command> {
    let target = pgconn::parse(connection_string).map_err(Error::InvalidConnectionString)?;
    let config = &target.config;
    let threads = options.threads.clamp(1, options.clients.max(1));
    let seconds = options.duration.as_secs().max(1);

    let mut command = Command::new(pgbench);
    command
        .arg("--no-vacuum")
        .arg("--protocol=prepared")
        .args(["--client", &options.clients.max(1).to_string()])
        .args(["--jobs", &threads.to_string()])
        .args(["--time", &seconds.to_string()])
        .args(["--define", &format!("customers={}", scale.customers())])
        .args(["--define", &format!("orders={}", scale.orders())])
        .arg("--file")
        .arg(script_path);
    if let Some(rate) = options.rate {
        command.args(["--rate", &format!("{rate}")]);
    }
    command.arg(conninfo(&target));
    if let Some(password) = config.get_password() {
        command.env("PGPASSWORD", String::from_utf8_lossy(password).as_ref());
    }
    Ok(command)
}

/// Renders the settings of `target` that pgbench needs as a libpq keyword/value string,
/// leaving out the password.
fn conninfo(target: &pgconn::Target) -> String {
    let config = &target.config;
    let mut pairs: Vec<(&str, String)> = Vec::new();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    if !hosts.is_empty() {
        pairs.push(("host", hosts.join(",")));
    }
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    if !ports.is_empty() {
        pairs.push(("port", ports.join(",")));
    }
    if let Some(user) = config.get_user() {
        pairs.push(("user", user.to_owned()));
    }
    if let Some(dbname) = config.get_dbname() {
        pairs.push(("dbname", dbname.to_owned()));
    }
    let sslmode = match (target.verification, config.get_ssl_mode()) {
        (pgconn::Verification::ChainAndHost, _) => "verify-full",
        (pgconn::Verification::Chain, _) => "verify-ca",
        (_, SslMode::Disable) => "disable",
        (_, SslMode::Require) => "require",
        _ => "prefer",
    };
    pairs.push(("sslmode", sslmode.to_owned()));
    if let Some(root) = &target.root_certificate {
        pairs.push(("sslrootcert", root.display().to_string()));
    }
    pairs.push(("application_name", "dbagent-pgbench".to_owned()));

    pairs
        .into_iter()
        .map(|(key, value)| format!("{key}={}", quote_conninfo_value(&value)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quotes a conninfo value: single quotes around it, with `\` and `'` escaped by a backslash.
fn quote_conninfo_value(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arguments(command: &Command) -> Vec<String> {
        command
            .get_args()
            .map(|argument| argument.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn scripts_use_the_workload_statement_shape() {
        assert!(script(Workload::OrdersByCustomer).contains("WHERE customer_id = :customer_id"));
        assert!(script(Workload::ShipmentsByTracking).contains("WHERE tracking_number ="));
    }

    #[test]
    fn command_sets_rate_duration_and_variables() {
        let options = PgbenchOptions::new(Workload::OrdersByCustomer, Duration::from_secs(30));
        let command = command(
            Path::new("/usr/bin/pgbench"),
            "postgres://alice:secret@127.0.0.1:5433/shop",
            Path::new("/tmp/orders-by-customer.sql"),
            Scale::new(1000).unwrap(),
            &options,
        )
        .unwrap();
        let arguments = arguments(&command);
        let joined = arguments.join(" ");
        assert!(joined.contains("--client 4 --jobs 2 --time 30"), "{joined}");
        assert!(joined.contains("--define customers=100"), "{joined}");
        assert!(joined.contains("--define orders=1000"), "{joined}");
        assert!(joined.contains("--rate 50"), "{joined}");
        assert!(
            !joined.contains("secret"),
            "password on the command line: {joined}"
        );
        let last = arguments.last().unwrap();
        assert!(last.contains("host='127.0.0.1'"), "{last}");
        assert!(last.contains("port='5433'"), "{last}");
        assert!(last.contains("dbname='shop'"), "{last}");
    }

    #[test]
    fn command_passes_password_in_environment() {
        let options = PgbenchOptions::new(Workload::OrdersByCustomer, Duration::from_secs(5));
        let command = command(
            Path::new("pgbench"),
            "host=127.0.0.1 user=alice password=secret dbname=shop",
            Path::new("script.sql"),
            Scale::default(),
            &options,
        )
        .unwrap();
        let password = command
            .get_envs()
            .find(|(key, _)| *key == "PGPASSWORD")
            .and_then(|(_, value)| value);
        assert_eq!(password, Some("secret".as_ref()));
    }

    #[test]
    fn conninfo_values_are_escaped() {
        assert_eq!(quote_conninfo_value(r"it's a\b"), r"'it\'s a\\b'");
    }
}
