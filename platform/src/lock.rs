//! The per-server lock that keeps one run at a time on a server.
//!
//! The lock is one document in [`layout::LOCKS`], partition = server id, id [`LOCK_ID`]. It is
//! taken with a create, which fails with a conflict while another run has it. After that it is
//! changed only by a replace, and removed only by a delete, each conditional on the ETag that was
//! read, so two writers cannot both win.

use chrono::{DateTime, Utc};
use contracts::{AlertId, RunId, ServerId};
use control::{ControlPlane, Versioned, layout};
use serde::{Deserialize, Serialize};
use store::DocumentStoreExt;

use crate::{Error, Result};

/// Document id of the lock within its server's partition.
pub const LOCK_ID: &str = "lock";

/// Attempts of a conditional write before giving up on a lock that keeps changing.
pub(crate) const MAX_ATTEMPTS: u32 = 8;

/// The run that holds a server's lock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerLock {
    pub server_id: ServerId,
    pub run_id: RunId,
    /// The alert that opened the run.
    pub alert_id: AlertId,
    pub acquired_at: DateTime<Utc>,
    /// Time until which the run counts as live whatever its heartbeat, so that a queued or
    /// resumed run has a full lease to be picked up. `None` while the run waits for a person's
    /// decision, because that wait has no limit.
    pub lease_until: Option<DateTime<Utc>>,
}

/// Reads the lock of a server; `None` when no run holds it.
pub async fn read(
    control: &ControlPlane,
    server_id: &ServerId,
) -> Result<Option<Versioned<ServerLock>>> {
    let read = control
        .store
        .read_typed::<ServerLock>(layout::LOCKS, &server_id.0, LOCK_ID)
        .await;
    match read {
        Ok(document) => Ok(Some(Versioned {
            value: document.value,
            etag: document.etag,
        })),
        Err(store::Error::NotFound { .. }) => Ok(None),
        Err(error) => Err(control::Error::from(error).into()),
    }
}

/// Creates the lock; returns `false` when a run holds it already.
pub async fn create(control: &ControlPlane, lock: &ServerLock) -> Result<bool> {
    let created = control
        .store
        .create_typed(layout::LOCKS, &lock.server_id.0, LOCK_ID, lock)
        .await;
    match created {
        Ok(_) => Ok(true),
        Err(store::Error::Conflict { .. }) => Ok(false),
        Err(error) => Err(control::Error::from(error).into()),
    }
}

/// Replaces the lock as read with `next`; returns `false` when it changed or vanished since.
pub async fn replace(
    control: &ControlPlane,
    current: &Versioned<ServerLock>,
    next: &ServerLock,
) -> Result<bool> {
    let server_id = &current.value.server_id;
    let replaced = control
        .store
        .replace_typed(layout::LOCKS, &server_id.0, LOCK_ID, next, &current.etag)
        .await;
    match replaced {
        Ok(_) => Ok(true),
        Err(store::Error::PreconditionFailed { .. } | store::Error::NotFound { .. }) => Ok(false),
        Err(error) => Err(control::Error::from(error).into()),
    }
}

/// Deletes the lock as read; returns `false` when it changed or vanished since.
pub async fn delete(control: &ControlPlane, current: &Versioned<ServerLock>) -> Result<bool> {
    let server_id = &current.value.server_id;
    let deleted = control
        .store
        .delete(layout::LOCKS, &server_id.0, LOCK_ID, Some(&current.etag))
        .await;
    match deleted {
        Ok(()) => Ok(true),
        Err(store::Error::PreconditionFailed { .. } | store::Error::NotFound { .. }) => Ok(false),
        Err(error) => Err(control::Error::from(error).into()),
    }
}

/// Changes the lock if `run_id` holds it, retrying on a lost race. `change` returns `false` to
/// leave the lock as it is. Returns the lock as it ends up, or `None` when the run does not
/// hold it.
pub async fn update_held<F>(
    control: &ControlPlane,
    server_id: &ServerId,
    run_id: RunId,
    mut change: F,
) -> Result<Option<ServerLock>>
where
    F: FnMut(&mut ServerLock) -> bool,
{
    for _ in 0..MAX_ATTEMPTS {
        let Some(current) = read(control, server_id).await? else {
            return Ok(None);
        };
        if current.value.run_id != run_id {
            return Ok(None);
        }
        let mut next = current.value.clone();
        if !change(&mut next) {
            return Ok(Some(next));
        }
        if replace(control, &current, &next).await? {
            return Ok(Some(next));
        }
    }
    Err(contended(server_id))
}

/// Releases the lock if `run_id` holds it; returns `false` when it does not.
pub async fn release(control: &ControlPlane, server_id: &ServerId, run_id: RunId) -> Result<bool> {
    for _ in 0..MAX_ATTEMPTS {
        let Some(current) = read(control, server_id).await? else {
            return Ok(false);
        };
        if current.value.run_id != run_id {
            return Ok(false);
        }
        if delete(control, &current).await? {
            return Ok(true);
        }
    }
    Err(contended(server_id))
}

pub(crate) fn contended(server_id: &ServerId) -> Error {
    Error::LockContended {
        server_id: server_id.clone(),
        attempts: MAX_ATTEMPTS,
    }
}
