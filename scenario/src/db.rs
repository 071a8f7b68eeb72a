//! Connections shared by seeding and the workload runner.

use tokio_postgres::{Client, Config, NoTls};

use crate::error::describe;
use crate::{Error, Result};

/// A parsed connection string and its printable description.
#[derive(Clone)]
pub(crate) struct Target {
    pub config: Config,
    pub name: String,
}

impl Target {
    /// Parses a libpq connection string or URL, naming connections `application_name` unless
    /// the string sets one, so that they are easy to find in `pg_stat_activity`.
    pub fn parse(connection_string: &str, application_name: &str) -> Result<Target> {
        let mut config: Config = connection_string
            .parse()
            .map_err(Error::InvalidConnectionString)?;
        if config.get_application_name().is_none() {
            config.application_name(application_name);
        }
        let name = describe(&config);
        Ok(Target { config, name })
    }

    /// Opens a connection and drives it on a background task until the client is dropped.
    // NOTE: plain TCP only, so servers that require TLS (Azure's default) reject this; point
    // pgbench at such servers instead.
    pub async fn connect(&self) -> Result<Client> {
        let (client, connection) =
            self.config
                .connect(NoTls)
                .await
                .map_err(|source| Error::Connect {
                    target: self.name.clone(),
                    source,
                })?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed with an error");
            }
        });
        Ok(client)
    }

    /// Wraps a SQL error with the action that failed and this target's name.
    pub fn sql_error(&self, action: &str) -> impl FnOnce(tokio_postgres::Error) -> Error + '_ {
        let action = action.to_owned();
        move |source| Error::Sql {
            action,
            target: self.name.clone(),
            source,
        }
    }
}
