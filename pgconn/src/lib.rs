//! Connections to any PostgreSQL server from a libpq URL, with TLS as `sslmode` requests.
//!
//! `tokio-postgres` understands `sslmode` `disable`, `prefer` and `require` but brings no TLS of
//! its own and rejects `verify-ca`, `verify-full` and `sslrootcert`. Managed servers such as Azure
//! Database for PostgreSQL require TLS, so every connection DBAgent makes to a target goes
//! through [`connect`], which follows libpq's meaning of each mode:
//!
//! | `sslmode` | encryption | certificate check |
//! |---|---|---|
//! | `disable` | none | none |
//! | `prefer` (the default) | when the server offers it | none |
//! | `require` | always | none, as in libpq |
//! | `verify-ca` | always | chain to a trusted root |
//! | `verify-full` | always | chain and host name |
//!
//! Trusted roots are the PEM certificates in `sslrootcert` when given, otherwise the system's
//! store plus the Mozilla roots.
//!
//! - [`options`]: splitting the options `tokio-postgres` rejects off the URL.
//! - [`verifier`]: the certificate checks of each mode.

mod error;
pub mod options;
mod verifier;

use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

pub use error::Error;
pub use options::{Target, Verification};

/// Parses a libpq URL or key/value string, including the TLS options `tokio-postgres` rejects.
pub fn parse(connection_string: &str) -> Result<Target, Error> {
    options::parse(connection_string)
}

/// Connects, and drives the connection on a task that logs how it ended.
pub async fn connect(target: &Target) -> Result<Client, Error> {
    if target.config.get_ssl_mode() == SslMode::Disable {
        let (client, connection) = target.config.connect(NoTls).await?;
        tokio::spawn(log_end(connection));
        return Ok(client);
    }
    let tls = MakeRustlsConnect::new(verifier::client_config(target)?);
    let (client, connection) = target.config.connect(tls).await?;
    tokio::spawn(log_end(connection));
    Ok(client)
}

async fn log_end<F>(connection: F)
where
    F: std::future::Future<Output = Result<(), tokio_postgres::Error>>,
{
    if let Err(error) = connection.await {
        tracing::debug!(%error, "PostgreSQL connection ended");
    }
}
