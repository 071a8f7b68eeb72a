//! Background task that turns `NOTIFY` messages into wake-ups of waiting receivers.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Config, NoTls};

use super::backoff::Backoff;
use super::schema::CHANNEL;
use super::wakers::Wakers;

const RECONNECT_INITIAL: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(5);

/// Idle time before TCP keepalive probes start on the listener's connection. The listener only
/// reads, so it notices a server that vanished without closing the socket (a host crash or a cut
/// network) only through keepalives. The tokio-postgres default of 2 hours is too slow.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

/// How long `stop` waits for the task before aborting it.
const STOP_DEADLINE: Duration = Duration::from_secs(5);

/// Handle to the listener task. Dropping it drops the shutdown sender, which ends the task at
/// its next await point.
#[derive(Debug)]
pub(crate) struct Listener {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Listener {
    /// Starts listening on a dedicated connection, outside the pool so that it stays open.
    pub(crate) fn spawn(mut config: Config, wakers: Arc<Wakers>) -> Listener {
        config.keepalives(true).keepalives_idle(KEEPALIVE_IDLE);
        let (shutdown, receiver) = watch::channel(false);
        let task = tokio::spawn(run(config, wakers, receiver));
        Listener { shutdown, task }
    }

    /// Signals the task to stop and waits for it, aborting it after a deadline.
    pub(crate) async fn stop(self) {
        let _ = self.shutdown.send(true);
        let abort = self.task.abort_handle();
        if tokio::time::timeout(STOP_DEADLINE, self.task)
            .await
            .is_err()
        {
            tracing::warn!("bus listener did not stop in time; aborting it");
            abort.abort();
        }
    }
}

async fn run(config: Config, wakers: Arc<Wakers>, mut shutdown: watch::Receiver<bool>) {
    let mut backoff = Backoff::new(RECONNECT_INITIAL, RECONNECT_MAX);
    loop {
        let error = tokio::select! {
            _ = shutdown_requested(&mut shutdown) => break,
            error = listen(&config, &wakers, &mut backoff) => error,
        };
        let delay = backoff.next_delay();
        tracing::warn!(%error, ?delay, "bus listener connection failed; reconnecting");
        tokio::select! {
            _ = shutdown_requested(&mut shutdown) => break,
            _ = tokio::time::sleep(delay) => {}
        }
    }
    tracing::info!("bus listener stopped");
}

/// Resolves when `close` requests shutdown or the owning `PgBus` was dropped.
async fn shutdown_requested(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Cause of the end of a listening session.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error(transparent)]
    Client(#[from] tokio_postgres::Error),
    #[error("the server closed the connection")]
    Closed,
}

/// Runs one listening session until its connection fails.
async fn listen(config: &Config, wakers: &Wakers, backoff: &mut Backoff) -> SessionError {
    let (client, mut connection) = match config.connect(NoTls).await {
        Ok(pair) => pair,
        Err(error) => return error.into(),
    };
    // The connection object performs all I/O, so it must be polled while LISTEN runs.
    let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
    let command = format!("LISTEN {CHANNEL}");
    let subscribe = client.batch_execute(&command);
    tokio::pin!(subscribe);
    loop {
        tokio::select! {
            result = &mut subscribe => match result {
                Ok(()) => break,
                Err(error) => return error.into(),
            },
            message = messages.next() => {
                if let Err(error) = handle(message, wakers) {
                    return error;
                }
            }
        }
    }

    backoff.reset();
    tracing::info!(channel = CHANNEL, "bus listener connected");
    // Messages sent while no listener was connected raised no wake-up, so every waiting
    // receiver looks again.
    wakers.wake_all();

    loop {
        if let Err(error) = handle(messages.next().await, wakers) {
            return error;
        }
    }
}

/// Wakes the queue named in a notification; fails when the connection has ended.
fn handle(
    message: Option<Result<AsyncMessage, tokio_postgres::Error>>,
    wakers: &Wakers,
) -> Result<(), SessionError> {
    match message {
        Some(Ok(AsyncMessage::Notification(notification))) => {
            tracing::debug!(queue = notification.payload(), "bus notification received");
            wakers.wake(notification.payload());
            Ok(())
        }
        Some(Ok(_)) => Ok(()),
        Some(Err(error)) => Err(error.into()),
        None => Err(SessionError::Closed),
    }
}
