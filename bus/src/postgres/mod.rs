//! [`PgBus`]: the bus in a PostgreSQL database, normally the control cluster.

mod backoff;
mod errors;
mod listener;
mod queues;
mod receive;
mod schema;
mod send;
mod settle;
mod wakers;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::{
    Delivery, Error, LockToken, MessageBus, OutgoingMessage, QueueOptions, Result, SendOutcome,
};
use listener::Listener;
use wakers::Wakers;

pub use schema::SCHEMA;

/// Connection settings of a [`PgBus`].
#[derive(Debug, Clone)]
pub struct PgBusOptions {
    /// Size of the connection pool. Each operation in progress uses one connection.
    pub max_connections: usize,
    /// Maximum time a waiting receiver goes without looking at its queue, in case a
    /// notification was lost.
    pub poll_interval: Duration,
    /// Limit on opening a connection and on waiting for a free one in the pool.
    pub connect_timeout: Duration,
}

impl Default for PgBusOptions {
    fn default() -> PgBusOptions {
        PgBusOptions {
            max_connections: 16,
            poll_interval: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// A [`MessageBus`] whose queues are tables in a PostgreSQL database.
///
/// Receivers claim messages with `FOR UPDATE SKIP LOCKED`, so any number of processes can share
/// the queues. Senders raise `NOTIFY` and a listener task wakes the receivers that wait; the
/// task ends when the `PgBus` is dropped or closed. It must be used inside a Tokio runtime, and
/// only inside the runtime that created it, because its connections run as tasks there.
#[derive(Debug)]
pub struct PgBus {
    pool: Pool,
    wakers: Arc<Wakers>,
    options: PgBusOptions,
    listener: Mutex<Option<Listener>>,
    closed: AtomicBool,
    sends: AtomicU64,
}

impl PgBus {
    /// Connects with default options to a libpq-style URL such as
    /// `postgres://user:password@127.0.0.1:5432/control`, creating the schema if needed.
    pub async fn connect(url: &str) -> Result<PgBus> {
        PgBus::connect_with(url, PgBusOptions::default()).await
    }

    /// Connects with the given options; see [`PgBus::connect`].
    pub async fn connect_with(url: &str, options: PgBusOptions) -> Result<PgBus> {
        let config = parse_url(url, &options)?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                // Checks each connection before handing it out, so that connections broken by
                // a server restart are replaced instead of failing the next operation.
                recycling_method: RecyclingMethod::Verified,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.connect_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|error| Error::Failed {
                action: "build the connection pool".into(),
                source: Box::new(error),
            })?;

        let mut client = pool
            .get()
            .await
            .map_err(|error| errors::from_pool("connect", error))?;
        schema::ensure(&mut client)
            .await
            .map_err(|error| errors::from_client("create the bus schema", error))?;
        drop(client);

        let wakers = Arc::new(Wakers::default());
        let listener = Listener::spawn(config.clone(), wakers.clone());
        tracing::info!(
            hosts = ?config.get_hosts(),
            ports = ?config.get_ports(),
            database = config.get_dbname(),
            schema = SCHEMA,
            "message bus connected"
        );
        Ok(PgBus {
            pool,
            wakers,
            options,
            listener: Mutex::new(Some(listener)),
            closed: AtomicBool::new(false),
            sends: AtomicU64::new(0),
        })
    }

    /// Checks out a pooled connection for an operation described by `action`.
    async fn client(&self, action: &str) -> Result<Object> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed {
                action: action.to_owned(),
            });
        }
        self.pool
            .get()
            .await
            .map_err(|error| errors::from_pool(action, error))
    }
}

/// Parses the URL without echoing it in errors, because it may contain a password.
fn parse_url(url: &str, options: &PgBusOptions) -> Result<tokio_postgres::Config> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|error| {
        Error::invalid(
            "connection string",
            "(not shown because it may contain a password)",
            format!("expected postgres://user:password@host:port/database: {error}"),
        )
    })?;
    config.connect_timeout(options.connect_timeout);
    if config.get_application_name().is_none() {
        config.application_name("dbagent-bus");
    }
    Ok(config)
}

#[async_trait]
impl MessageBus for PgBus {
    async fn create_queue(&self, queue: &str, options: QueueOptions) -> Result<()> {
        queues::create(self, queue, &options).await
    }

    async fn send(&self, queue: &str, message: OutgoingMessage) -> Result<SendOutcome> {
        send::send(self, queue, &message).await
    }

    async fn receive(
        &self,
        queue: &str,
        max_messages: u32,
        max_wait: Duration,
    ) -> Result<Vec<Delivery>> {
        receive::receive(self, queue, max_messages, max_wait).await
    }

    async fn complete(&self, queue: &str, lock_token: &LockToken) -> Result<()> {
        settle::complete(self, queue, lock_token).await
    }

    async fn abandon(&self, queue: &str, lock_token: &LockToken) -> Result<()> {
        settle::abandon(self, queue, lock_token).await
    }

    async fn dead_letter(
        &self,
        queue: &str,
        lock_token: &LockToken,
        reason: &str,
        description: &str,
    ) -> Result<()> {
        settle::dead_letter(self, queue, lock_token, reason, description).await
    }

    async fn renew_lock(&self, queue: &str, lock_token: &LockToken) -> Result<DateTime<Utc>> {
        settle::renew_lock(self, queue, lock_token).await
    }

    async fn close(&self) -> Result<()> {
        self.closed.store(true, Ordering::Release);
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(listener) = listener {
            listener.stop().await;
        }
        self.pool.close();
        self.wakers.wake_all();
        tracing::info!("message bus closed");
        Ok(())
    }
}
