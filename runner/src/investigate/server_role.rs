//! Whether the connected server is a primary or a hot standby, and which server a standby
//! replays from. A standby runs read-only queries only, so an investigation there can analyze
//! but not change anything, and any fix must run on the primary.

use std::fmt;

use tokio_postgres::Client;

use super::error::{Error, Result};

/// The port libpq uses when a connection string names none.
const LIBPQ_DEFAULT_PORT: &str = "5432";

/// The replication role of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerRole {
    /// Not in recovery: it accepts writes.
    Primary,
    /// In recovery (`pg_is_in_recovery()`): read-only, replaying WAL from `primary`.
    Standby {
        /// The upstream server as `host:port`, from `pg_stat_wal_receiver`.
        ///
        /// `None` when that view does not show it. Its columns other than `pid` are NULL for
        /// a user without the privileges of `pg_read_all_stats`. It has no row while the WAL
        /// receiver is not running, for example between reconnection attempts or on a standby
        /// that only restores archived WAL.
        primary: Option<String>,
    },
}

impl ServerRole {
    pub fn is_standby(&self) -> bool {
        matches!(self, ServerRole::Standby { .. })
    }
}

impl fmt::Display for ServerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerRole::Primary => f.write_str("a primary"),
            ServerRole::Standby {
                primary: Some(address),
            } => write!(f, "the primary at {address}"),
            ServerRole::Standby { primary: None } => {
                f.write_str("its primary (not visible from this standby)")
            }
        }
    }
}

/// Reads whether the server is in recovery and, if so, where its WAL receiver connects.
pub async fn server_role(client: &Client) -> Result<ServerRole> {
    // The outer join keeps one row on a primary and on a standby without a WAL receiver.
    let row = client
        .query_one(
            "SELECT pg_is_in_recovery(), r.sender_host, r.sender_port, r.conninfo
             FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS r ON true",
            &[],
        )
        .await
        .map_err(Error::database(
            "read pg_is_in_recovery() and pg_stat_wal_receiver",
        ))?;
    if !row.get::<_, bool>(0) {
        return Ok(ServerRole::Primary);
    }

    let sender_host: Option<String> = row.get(1);
    let sender_port: Option<i32> = row.get(2);
    let conninfo: Option<String> = row.get(3);
    let primary = match (sender_host, sender_port) {
        (Some(host), Some(port)) => Some(address(&host, &port.to_string())),
        _ => conninfo.as_deref().and_then(address_from_conninfo),
    };
    Ok(ServerRole::Standby { primary })
}

/// Joins host and port, with brackets around an IPv6 address so that the port stays apart.
fn address(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Finds `host` and `port` in a keyword/value connection string as the WAL receiver shows it.
/// Returns `None` without a host, and with several hosts, because the string does not tell
/// which one the receiver reached.
fn address_from_conninfo(conninfo: &str) -> Option<String> {
    let settings = parse_conninfo(conninfo);
    let find = |keyword: &str| {
        settings
            .iter()
            .find(|(name, _)| name == keyword)
            .map(|(_, value)| value.as_str())
    };
    let host = find("host").or_else(|| find("hostaddr"))?;
    if host.is_empty() || host.contains(',') {
        return None;
    }
    let port = find("port")
        .filter(|port| !port.is_empty())
        .unwrap_or(LIBPQ_DEFAULT_PORT);
    Some(address(host, port))
}

/// Splits `keyword=value` pairs separated by spaces. A value may be in single quotes, inside
/// which `\'` and `\\` stand for a quote and a backslash, as libpq reads them.
fn parse_conninfo(conninfo: &str) -> Vec<(String, String)> {
    let mut settings = Vec::new();
    let mut chars = conninfo.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let keyword: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if keyword.is_empty() || chars.next() != Some('=') {
            return settings;
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\'' => break,
                    '\\' => value.extend(chars.next()),
                    _ => value.push(c),
                }
            }
        } else {
            value.extend(std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())));
        }
        settings.push((keyword.trim().to_string(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conninfo_host_and_port() {
        let conninfo = "user=dbagent passfile='/tmp/x/primary.pgpass' channel_binding=prefer \
                        dbname=replication host=127.0.0.1 port=5433 fallback_application_name=walreceiver";
        assert_eq!(
            address_from_conninfo(conninfo).as_deref(),
            Some("127.0.0.1:5433")
        );
    }

    #[test]
    fn conninfo_quoted_values() {
        let conninfo = r"host = 'db \'one\'' port='6432' password=********";
        assert_eq!(
            address_from_conninfo(conninfo).as_deref(),
            Some("db 'one':6432")
        );
    }

    #[test]
    fn conninfo_without_port_uses_default() {
        assert_eq!(
            address_from_conninfo("host=replica-source.internal").as_deref(),
            Some("replica-source.internal:5432")
        );
    }

    #[test]
    fn conninfo_hostaddr_and_ipv6() {
        assert_eq!(
            address_from_conninfo("hostaddr=::1 port=5433").as_deref(),
            Some("[::1]:5433")
        );
    }

    #[test]
    fn conninfo_without_single_host() {
        assert_eq!(address_from_conninfo("user=dbagent port=5433"), None);
        assert_eq!(address_from_conninfo("host=a,b port=5433,5434"), None);
        assert_eq!(address_from_conninfo(""), None);
    }

    #[test]
    fn display_names_the_primary() {
        let known = ServerRole::Standby {
            primary: Some("127.0.0.1:5433".to_string()),
        };
        let hidden = ServerRole::Standby { primary: None };

        assert_eq!(known.to_string(), "the primary at 127.0.0.1:5433");
        assert_eq!(
            hidden.to_string(),
            "its primary (not visible from this standby)"
        );
        assert_eq!(ServerRole::Primary.to_string(), "a primary");
    }

    #[test]
    fn only_standby_is_standby() {
        assert!(ServerRole::Standby { primary: None }.is_standby());
        assert!(!ServerRole::Primary.is_standby());
    }
}
