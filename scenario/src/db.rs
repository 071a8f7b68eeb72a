//! Connections shared by seeding and the workload runner.

use tokio_postgres::{Client, Config};

use crate::error::describe;
use crate::{Error, Result};

/// A parsed connection string and its printable description.
#[derive(Clone)]
pub(crate) struct Target {
    pub config: Config,
    /// The connection string's TLS settings, which `pgconn` applies.
    tls: pgconn::Target,
    pub name: String,
}

impl Target {
    /// Parses a libpq connection string or URL, naming connections `application_name` unless
    /// the string sets one, so that they are easy to find in `pg_stat_activity`.
    pub fn parse(connection_string: &str, application_name: &str) -> Result<Target> {
        let mut tls = pgconn::parse(connection_string).map_err(Error::InvalidConnectionString)?;
        if tls.config.get_application_name().is_none() {
            tls.config.application_name(application_name);
        }
        let config = tls.config.clone();
        let name = describe(&config);
        Ok(Target { config, tls, name })
    }

    /// Opens a connection, with TLS as the connection string's `sslmode` requests, and drives it
    /// on a background task until the client is dropped.
    pub async fn connect(&self) -> Result<Client> {
        let mut tls = self.tls.clone();
        tls.config = self.config.clone();
        pgconn::connect(&tls).await.map_err(|error| match error {
            pgconn::Error::Postgres(source) => Error::Connect {
                target: self.name.clone(),
                source,
            },
            other => Error::Tls {
                target: self.name.clone(),
                source: other,
            },
        })
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
