use serde::{Deserialize, Serialize};

/// The role a cluster plays in the local stack, which decides its server settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterKind {
    /// Holds DBAgent's document store and message bus.
    Control,
    /// The monitored server, configured like an Azure Flexible Server.
    Target,
}

impl ClusterKind {
    pub fn name(self) -> &'static str {
        match self {
            ClusterKind::Control => "control",
            ClusterKind::Target => "target",
        }
    }

    /// Extensions whose control files must exist before the cluster can be used.
    pub fn required_extensions(self) -> &'static [(&'static str, &'static str)] {
        match self {
            ClusterKind::Control => &[],
            ClusterKind::Target => &[
                ("pg_stat_statements", "postgresql-contrib"),
                ("hypopg", "postgresql-{major}-hypopg"),
            ],
        }
    }

    /// Settings written to the cluster's `dbagent.conf`, which `postgresql.conf` includes.
    pub fn settings(self) -> Vec<(&'static str, String)> {
        let mut settings = vec![
            ("listen_addresses", quoted("127.0.0.1")),
            // TCP on loopback only: a socket directory would need a path short enough for
            // sun_path, which deep state directories exceed.
            ("unix_socket_directories", quoted("")),
            ("max_connections", "200".into()),
            ("log_min_messages", "warning".into()),
            ("log_line_prefix", quoted("%m [%p] %q%u@%d ")),
        ];
        if self == ClusterKind::Target {
            // The settings Azure Flexible Server uses for query performance insight.
            settings.extend([
                ("shared_preload_libraries", quoted("pg_stat_statements")),
                ("pg_stat_statements.track", "all".into()),
                ("pg_stat_statements.max", "5000".into()),
                ("track_io_timing", "on".into()),
                ("shared_buffers", quoted("256MB")),
            ]);
        }
        settings
    }
}

fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}
