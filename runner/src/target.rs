//! Connections to target servers.

use tokio_postgres::Client;

use std::time::Duration;

use contracts::ServerId;

use crate::{Error, RunnerConfig};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// TCP keepalive idle time, so that a dead network path ends the connection in about a minute
/// rather than the operating system's default of two hours.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

/// Connects to a target as the runner's role, with TLS as the connection string's `sslmode`
/// requests, in autocommit mode. Every statement of the runner needs autocommit, because
/// `CREATE INDEX CONCURRENTLY` cannot run inside a transaction block.
pub async fn connect(config: &RunnerConfig, server_id: &ServerId) -> Result<Client, Error> {
    connect_as(config, server_id, "dbagent-runner").await
}

/// Connects like [`connect`], with its own `application_name`, so that the session can be
/// found by that name in `pg_stat_activity`.
pub async fn connect_as(
    config: &RunnerConfig,
    server_id: &ServerId,
    application_name: &str,
) -> Result<Client, Error> {
    let dsn = config
        .targets
        .get(server_id)
        .ok_or_else(|| Error::UnknownTarget {
            server_id: server_id.to_string(),
        })?;
    let mut target = pgconn::parse(dsn).map_err(|source| Error::InvalidTarget {
        server_id: server_id.to_string(),
        source,
    })?;
    target
        .config
        .application_name(application_name)
        .connect_timeout(CONNECT_TIMEOUT)
        .keepalives_idle(KEEPALIVE_IDLE);
    pgconn::connect(&target).await.map_err(|error| match error {
        pgconn::Error::Postgres(source) => Error::Target {
            action: "connect".to_string(),
            server_id: server_id.to_string(),
            source,
        },
        other => Error::InvalidTarget {
            server_id: server_id.to_string(),
            source: other,
        },
    })
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
