//! Leases: finding the lock of a run that stopped making progress, and freeing it.
//!
//! A runner shows progress through the run's `heartbeat_at`. A lock is stale when its run
//! finished without the lock being released, was never created, or went longer than the lease
//! without progress. A run that waits for a person's decision is never stale. The lock's own
//! `lease_until` gives a queued or resumed run the full lease to be picked up, because its
//! `heartbeat_at` can be hours old by the time a person approves.

use chrono::{DateTime, TimeDelta, Utc};
use contracts::{Run, RunId, RunState, ServerId, TimelineEvent, TimelineEventKind};
use control::timeline::event_key;
use tracing::{info, instrument};

use crate::error::chain;
use crate::lock::{self, ServerLock};
use crate::{Platform, Result};

/// State of the run that holds a lock, as far as freeing the lock is concerned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Holder {
    /// Working, queued or resumed within its lease, or waiting for a person.
    Live,
    /// Stale, for the reason given.
    Stale { reason: String, fails_run: bool },
}

/// A lock the sweeper freed.
#[derive(Debug, Clone, PartialEq)]
pub struct Reclaimed {
    pub server_id: ServerId,
    pub run_id: RunId,
    /// The reason the holder was considered gone, such as "no runner reported progress for
    /// 130 s".
    pub reason: String,
}

/// Decides whether the run holding `lock` is gone. `run` is `None` when no run document exists.
pub(crate) fn assess(
    lock: &ServerLock,
    run: Option<&Run>,
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> Holder {
    let Some(run) = run else {
        // The intake takes the lock before it creates the run, so a young lock may lack one.
        if now - lock.acquired_at <= lease {
            return Holder::Live;
        }
        return stale("the run was never created", false);
    };
    if run.state.is_terminal() {
        return stale(&format!("the run is already {:?}", run.state), false);
    }
    // NOTE: an approved run stays AwaitingApproval until a runner takes its resume trigger, so
    // while no runner takes it the run keeps its server, however long that lasts.
    if run.state == RunState::AwaitingApproval {
        return Holder::Live;
    }
    if lock.lease_until.is_some_and(|until| now < until) {
        return Holder::Live;
    }
    let idle = now - run.heartbeat_at;
    if idle <= lease {
        return Holder::Live;
    }
    let reason = if run.state == RunState::Queued {
        format!("no runner picked up the run for {} s", idle.num_seconds())
    } else {
        format!("no runner reported progress for {} s", idle.num_seconds())
    };
    stale(&reason, true)
}

fn stale(reason: &str, fails_run: bool) -> Holder {
    Holder::Stale {
        reason: reason.to_string(),
        fails_run,
    }
}

impl Platform {
    /// Frees every stale lock, failing runs that stopped making progress. A failure on one
    /// server is logged and the pass goes on with the next.
    pub async fn sweep_once(&self) -> Result<Vec<Reclaimed>> {
        let mut reclaimed = Vec::new();
        for server in self.control.servers().await? {
            match self.sweep_server(&server.id).await {
                Ok(Some(freed)) => reclaimed.push(freed),
                Ok(None) => {}
                Err(error) => tracing::error!(
                    server.id = %server.id,
                    error = %chain(&error),
                    "failed to check the lock of a server"
                ),
            }
        }
        Ok(reclaimed)
    }

    #[instrument(skip_all, fields(server.id = %server_id, run.id))]
    async fn sweep_server(&self, server_id: &ServerId) -> Result<Option<Reclaimed>> {
        let Some(current) = lock::read(&self.control, server_id).await? else {
            return Ok(None);
        };
        let run_id = current.value.run_id;
        tracing::Span::current().record("run.id", tracing::field::display(run_id));
        let Some(reason) = self.reclaim(&current.value).await? else {
            return Ok(None);
        };

        // A lock changed since it was read has a new owner or lease; the next pass decides.
        if !lock::delete(&self.control, &current).await? {
            return Ok(None);
        }
        info!(%reason, "released the lock of a gone run");
        Ok(Some(Reclaimed {
            server_id: server_id.clone(),
            run_id,
            reason,
        }))
    }

    /// Checks whether the holder of `lock` is gone and, if it stopped making progress, marks its
    /// run failed. Returns the reason the lock may be taken, or `None` while the holder lives.
    pub(crate) async fn reclaim(&self, lock: &ServerLock) -> Result<Option<String>> {
        let run = self.read_run(&lock.server_id, lock.run_id).await?;
        let lease = self.config.lease_chrono();
        match assess(lock, run.as_ref(), Utc::now(), lease) {
            Holder::Live => Ok(None),
            Holder::Stale {
                reason,
                fails_run: false,
            } => Ok(Some(reason)),
            Holder::Stale {
                fails_run: true, ..
            } => self.fail_abandoned_run(lock).await,
        }
    }

    /// Marks the lock's run failed if it is still stale when read again, so that a heartbeat
    /// that arrives in between keeps the run alive. Returns the reason the lock may be taken,
    /// or `None` when the run turned out to be live.
    async fn fail_abandoned_run(&self, lock: &ServerLock) -> Result<Option<String>> {
        let lease = self.config.lease_chrono();
        let mut reason = None;
        let run = self
            .control
            .update_run(&lock.server_id, lock.run_id, |run| {
                let now = Utc::now();
                reason = match assess(lock, Some(run), now, lease) {
                    Holder::Stale {
                        reason,
                        fails_run: true,
                    } => Some(reason),
                    _ => None,
                };
                let Some(reason) = &reason else {
                    return false;
                };
                run.advance(RunState::Failed, now, reason.clone())
                    .expect("a stale run is not terminal");
                run.failure = Some(reason.clone());
                true
            })
            .await?;
        if let Some(reason) = reason {
            tracing::warn!(%reason, "marked an abandoned run failed");
            self.append_failed_event(&run, &reason).await?;
            return Ok(Some(reason));
        }
        // A runner finished the run after the first read.
        let finished = run.state.is_terminal();
        Ok(finished.then(|| format!("the run is already {:?}", run.state)))
    }

    async fn append_failed_event(&self, run: &Run, reason: &str) -> Result<()> {
        let event = TimelineEvent {
            at: Utc::now(),
            server_id: run.server_id.clone(),
            run_id: Some(run.id),
            issue_id: run.issue_id,
            kind: TimelineEventKind::Failed,
            message: format!("Run failed: {reason}"),
        };
        let key = event_key(run.id, TimelineEventKind::Failed);
        self.control.append_event(&key, &event).await?;
        Ok(())
    }

    /// Reads a run; `None` when it does not exist.
    pub(crate) async fn read_run(
        &self,
        server_id: &ServerId,
        run_id: RunId,
    ) -> Result<Option<Run>> {
        match self.control.run(server_id, run_id).await {
            Ok(versioned) => Ok(Some(versioned.value)),
            Err(control::Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use contracts::AlertId;

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn lock(lease_until: Option<i64>) -> ServerLock {
        ServerLock {
            server_id: "db-1".into(),
            run_id: RunId::new(),
            alert_id: AlertId::new(),
            acquired_at: at(0),
            lease_until: lease_until.map(at),
        }
    }

    fn run(state: RunState, heartbeat: i64) -> Run {
        Run {
            id: RunId::new(),
            server_id: "db-1".into(),
            alert_id: AlertId::new(),
            state,
            issue_id: None,
            steps: Vec::new(),
            failure: None,
            heartbeat_at: at(heartbeat),
            instruction_id: None,
            build_progress: None,
            over_threshold_since: None,
            created_at: at(0),
            updated_at: at(heartbeat),
        }
    }

    const LEASE: TimeDelta = TimeDelta::seconds(120);

    #[test]
    fn silent_run_is_stale() {
        let run = run(RunState::Investigating, 10);
        let holder = assess(&lock(Some(120)), Some(&run), at(140), LEASE);
        assert_eq!(holder, stale("no runner reported progress for 130 s", true));
    }

    #[test]
    fn unclaimed_queued_run_is_stale() {
        let run = run(RunState::Queued, 0);
        let holder = assess(&lock(Some(120)), Some(&run), at(121), LEASE);
        assert_eq!(holder, stale("no runner picked up the run for 121 s", true));
    }

    #[test]
    fn recent_heartbeat_keeps_run_live() {
        let run = run(RunState::Executing, 100);
        assert_eq!(
            assess(&lock(None), Some(&run), at(200), LEASE),
            Holder::Live
        );
    }

    #[test]
    fn suspended_run_never_goes_stale() {
        let run = run(RunState::AwaitingApproval, 0);
        let holder = assess(&lock(None), Some(&run), at(1_000_000), LEASE);
        assert_eq!(holder, Holder::Live);
    }

    #[test]
    fn renewed_lease_protects_resumed_run() {
        let run = run(RunState::Executing, 0);
        let holder = assess(&lock(Some(5_000)), Some(&run), at(4_000), LEASE);
        assert_eq!(holder, Holder::Live);
    }

    #[test]
    fn finished_run_frees_lock_without_failing() {
        let run = run(RunState::Completed, 10);
        let holder = assess(&lock(Some(120)), Some(&run), at(20), LEASE);
        assert_eq!(holder, stale("the run is already Completed", false));
    }

    #[test]
    fn missing_run_waits_for_lease() {
        assert_eq!(assess(&lock(Some(120)), None, at(60), LEASE), Holder::Live);
        let holder = assess(&lock(Some(120)), None, at(121), LEASE);
        assert_eq!(holder, stale("the run was never created", false));
    }
}
