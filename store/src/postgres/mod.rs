//! [`PgStore`]: the document store in a PostgreSQL database, normally the control cluster.
//!
//! Tables live in the schema `dbagent_store`, created on connect: `containers` lists container
//! names, and `documents` stores one `jsonb` body and one ETag per (container, partition key,
//! id). The connecting role needs the right to create that schema on first use.

mod documents;
mod errors;
mod schema;
mod sql;
mod statements;

use std::fmt;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::error::Error;

/// Sizes and timeouts of the connection pool.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Maximum number of open connections.
    pub max_connections: usize,
    /// Time allowed to open one connection, including the TCP handshake and authentication.
    pub connect_timeout: Duration,
    /// Time an operation waits for a free connection before failing with `Unavailable`.
    pub wait_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> PoolSettings {
        PoolSettings {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            wait_timeout: Duration::from_secs(10),
        }
    }
}

/// A [`DocumentStore`](crate::DocumentStore) in PostgreSQL.
///
/// Clones are cheap and share one connection pool. Connections are checked with a test query
/// before reuse, so after a server restart the pool drops the dead ones and opens new ones. The first operation after a restart may still fail with
/// [`Error::Unavailable`].
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl PgStore {
    /// Connects to the database at a libpq-style URL such as
    /// `postgres://user:password@127.0.0.1:5432/dbagent` and creates the schema unless it
    /// exists.
    pub async fn connect(url: &str) -> Result<PgStore, Error> {
        PgStore::connect_with(url, PoolSettings::default()).await
    }

    /// Like [`PgStore::connect`], with explicit pool settings.
    pub async fn connect_with(url: &str, settings: PoolSettings) -> Result<PgStore, Error> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|error| {
            // The URL itself stays out of the message because it may contain a password.
            Error::Configuration {
                reason: format!("invalid PostgreSQL connection URL: {error}"),
            }
        })?;
        config.connect_timeout(settings.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("dbagent-store");
        }
        let target = describe_target(&config);

        let pool = build_pool(config, &settings)?;
        schema::ensure(&pool).await?;
        tracing::info!(database = %target, "document store connected");
        Ok(PgStore { pool })
    }
}

fn build_pool(config: tokio_postgres::Config, settings: &PoolSettings) -> Result<Pool, Error> {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            // Fast recycling checks only whether the client noticed a closed socket; after a
            // server crash a connection can look open until its first query fails.
            recycling_method: RecyclingMethod::Verified,
        },
    );
    Pool::builder(manager)
        .max_size(settings.max_connections)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(settings.wait_timeout))
        .create_timeout(Some(settings.connect_timeout))
        .recycle_timeout(Some(settings.connect_timeout))
        .build()
        .map_err(|error| Error::Configuration {
            reason: format!("failed to build the connection pool: {error}"),
        })
}

/// Host, port and database of a connection, without credentials, for logs.
fn describe_target(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config.get_dbname().unwrap_or("(default)");
    format!("{host}:{port}/{database}")
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PgStore")
            .field("connections", &status.size)
            .field("max_connections", &status.max_size)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn malformed_url_is_a_configuration_error() {
        let error = PgStore::connect("postgres://user:secret@127.0.0.1:notaport/db")
            .await
            .unwrap_err();

        assert!(matches!(error, Error::Configuration { .. }), "{error}");
    }

    #[tokio::test]
    async fn configuration_error_hides_password() {
        let error = PgStore::connect("postgres://user:secret@127.0.0.1:notaport/db")
            .await
            .unwrap_err();

        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn target_description_leaves_out_credentials() {
        let config: tokio_postgres::Config =
            "postgres://u:secret@127.0.0.1:6543/store".parse().unwrap();

        assert_eq!(describe_target(&config), "127.0.0.1:6543/store");
    }
}
