//! Connections to target servers.

use tokio_postgres::{Client, NoTls};

use std::time::Duration;

use contracts::ServerId;

use crate::{Error, RunnerConfig};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// TCP keepalive idle time, so that a dead network path ends the connection in about a minute
/// rather than the operating system's default of two hours.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

/// Connects to a target as the runner's role, in autocommit mode, which every statement of the
/// runner needs: `CREATE INDEX CONCURRENTLY` cannot run inside a transaction block.
pub async fn connect(config: &RunnerConfig, server_id: &ServerId) -> Result<Client, Error> {
    let dsn = config
        .targets
        .get(server_id)
        .ok_or_else(|| Error::UnknownTarget {
            server_id: server_id.to_string(),
        })?;
    let mut pg_config: tokio_postgres::Config =
        dsn.parse().map_err(|source| Error::InvalidTarget {
            server_id: server_id.to_string(),
            source,
        })?;
    pg_config
        .application_name("dbagent-runner")
        .connect_timeout(CONNECT_TIMEOUT)
        .keepalives_idle(KEEPALIVE_IDLE);
    // NOTE: no TLS yet, so a server that requires it (Azure's default) rejects the runner.
    let (client, connection) = pg_config
        .connect(NoTls)
        .await
        .map_err(|source| Error::Target {
            action: "connect".to_string(),
            server_id: server_id.to_string(),
            source,
        })?;
    let server = server_id.clone();
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(server.id = %server, %error, "target connection ended");
        }
    });
    Ok(client)
}

/// Wraps a target error with the action and server it happened on.
pub fn failed(action: &str, server_id: &ServerId) -> impl FnOnce(tokio_postgres::Error) -> Error {
    let action = action.to_string();
    let server_id = server_id.to_string();
    move |source| Error::Target {
        action,
        server_id,
        source,
    }
}
