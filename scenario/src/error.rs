/// Failures of seeding, running a workload or measuring CPU.
///
/// Messages name the database or process involved but never a password, because a connection
/// string is reduced to its host, port and database before it reaches an error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidConnectionString(#[source] pgconn::Error),

    #[error("failed to set up TLS for {target}: {source}")]
    Tls {
        target: String,
        #[source]
        source: pgconn::Error,
    },

    #[error("failed to connect to {target}: {source}")]
    Connect {
        target: String,
        #[source]
        source: tokio_postgres::Error,
    },

    #[error("failed to {action} in {target}: {source}")]
    Sql {
        action: String,
        target: String,
        #[source]
        source: tokio_postgres::Error,
    },

    #[error(
        "{target} is already seeded with {found} orders, not {requested}; drop the database to \
         seed it again at the new scale"
    )]
    ScaleMismatch {
        target: String,
        found: u64,
        requested: u64,
    },

    #[error(
        "{target} already has a table {table} that the scenario did not create; seed an empty \
         database instead"
    )]
    ForeignTable { target: String, table: String },

    #[error("{target} contains no scenario data; seed it before running a workload")]
    NotSeeded { target: String },

    #[error("unknown workload `{name}`; valid workloads are: {valid}")]
    UnknownWorkload { name: String, valid: String },

    #[error("invalid setting {name} = {value}: {reason}")]
    InvalidSetting {
        name: &'static str,
        value: String,
        reason: &'static str,
    },

    #[error("PostgreSQL process {pid} is gone; the server has stopped or restarted")]
    ProcessGone { pid: u32 },

    #[error("failed to read /proc for process {pid}: {source}")]
    Proc {
        pid: u32,
        #[source]
        source: procfs::ProcError,
    },
}

impl Error {
    /// Tells whether the same call may succeed later without a change by the caller, for example
    /// after a server restart or a network failure.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::ProcessGone { .. } | Error::Proc { .. } => true,
            Error::Sql { source, .. } => source.is_closed() || source.as_db_error().is_none(),
            _ => false,
        }
    }
}

/// Describes a connection for messages by host, port and database, leaving out the password.
pub(crate) fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("database `{database}` on {host}:{port}")
}
