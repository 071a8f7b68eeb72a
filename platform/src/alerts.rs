//! Alert intake: validate the server, take its lock, and dispatch a run.

use chrono::Utc;
use contracts::{
    Alert, Run, RunId, RunState, RunStep, ServerId, TimelineEvent, TimelineEventKind, Trigger,
    TriggerKind,
};
use control::layout;
use control::timeline::event_key;
use store::DocumentStoreExt;
use tracing::{debug, info, instrument};

use crate::lock::{self, MAX_ATTEMPTS, ServerLock};
use crate::{Platform, Result};

/// Result of [`Platform::handle_alert`] for one alert.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertOutcome {
    /// A run was queued, or was queued before by the same alert, and its trigger sent.
    Dispatched { run_id: RunId },
    /// The alert's run has moved past the queue already, so nothing was sent again.
    AlreadyHandled { run_id: RunId },
    /// Another run holds the server's lock; the alert opened no run.
    ServerBusy { holder: RunId },
    /// The alert opened no run, for the reason given.
    Rejected { reason: String },
}

/// Run id of the run an alert opens, the same each time the alert is handled.
pub fn run_id_for(alert: &Alert) -> RunId {
    RunId::derived(alert.id.0, "run")
}

impl Platform {
    /// Handles an alert: checks that the server is registered with DBAgent enabled, takes the
    /// server's lock, stores the alert, creates a queued run and sends its start trigger.
    ///
    /// Handling the same alert again has no further effect, because the run id derives from
    /// the alert id and every write is a create that keeps the first version.
    #[instrument(skip_all, fields(server.id = %alert.server_id, alert.id = %alert.id, run.id))]
    pub async fn handle_alert(&self, alert: &Alert) -> Result<AlertOutcome> {
        if let Some(reason) = self.rejection(&alert.server_id).await? {
            // NOTE: a rejected alert is only logged, not stored, so the dashboard does not show it.
            info!(%reason, "alert rejected");
            return Ok(AlertOutcome::Rejected { reason });
        }
        let run_id = run_id_for(alert);
        tracing::Span::current().record("run.id", tracing::field::display(run_id));

        let existing = self.read_run(&alert.server_id, run_id).await?;
        if existing.is_some_and(|run| run.state != RunState::Queued) {
            debug!("alert was handled before and its run has moved on");
            return Ok(AlertOutcome::AlreadyHandled { run_id });
        }
        if let Some(holder) = self.acquire_lock(alert, run_id).await? {
            info!(holder.run.id = %holder, "server busy with another run; alert opens no run");
            return Ok(AlertOutcome::ServerBusy { holder });
        }

        self.dispatch(alert, run_id).await?;
        info!("run queued");
        Ok(AlertOutcome::Dispatched { run_id })
    }

    async fn rejection(&self, server_id: &ServerId) -> Result<Option<String>> {
        let reason = match self.control.server_optional(server_id).await? {
            None => format!("server {server_id} is not registered; register it to act on alerts"),
            Some(server) if !server.agent_enabled => {
                format!("DBAgent is disabled on server {server_id}")
            }
            Some(_) => return Ok(None),
        };
        Ok(Some(reason))
    }

    /// Takes the server's lock for `run_id`, taking it over from a holder that is gone. Returns
    /// the holder's run id when a live run has the lock.
    async fn acquire_lock(&self, alert: &Alert, run_id: RunId) -> Result<Option<RunId>> {
        let now = Utc::now();
        let claim = ServerLock {
            server_id: alert.server_id.clone(),
            run_id,
            alert_id: alert.id,
            acquired_at: now,
            lease_until: Some(now + self.config.lease_chrono()),
        };
        for _ in 0..MAX_ATTEMPTS {
            if lock::create(&self.control, &claim).await? {
                return Ok(None);
            }
            let Some(current) = lock::read(&self.control, &alert.server_id).await? else {
                continue;
            };
            // An earlier handling of this alert took it.
            if current.value.run_id == run_id {
                return Ok(None);
            }
            let Some(reason) = self.reclaim(&current.value).await? else {
                return Ok(Some(current.value.run_id));
            };
            if lock::replace(&self.control, &current, &claim).await? {
                let previous = current.value.run_id;
                info!(previous.run.id = %previous, %reason, "took over the lock of a gone run");
                return Ok(None);
            }
        }
        Err(lock::contended(&alert.server_id))
    }

    /// Stores the alert, creates the run, appends the timeline events and sends the trigger.
    /// Each step keeps what an earlier attempt wrote, so a retry after a crash completes it.
    async fn dispatch(&self, alert: &Alert, run_id: RunId) -> Result<()> {
        self.store_alert(alert).await?;

        self.control.create_run(&queued_run(alert, run_id)).await?;

        let fired = event(
            alert,
            run_id,
            TimelineEventKind::AlertFired,
            describe(alert),
        );
        let fired = TimelineEvent {
            at: alert.fired_at,
            ..fired
        };
        let started = event(alert, run_id, TimelineEventKind::RunStarted, started(alert));
        for event in [fired, started] {
            let key = event_key(run_id, event.kind);
            self.control.append_event(&key, &event).await?;
        }

        let trigger = Trigger {
            run_id,
            server_id: alert.server_id.clone(),
            kind: TriggerKind::Start,
        };
        self.control.send(run_id, trigger).await?;
        Ok(())
    }

    async fn store_alert(&self, alert: &Alert) -> Result<()> {
        let id = alert.id.to_string();
        let created = self
            .control
            .store
            .create_typed(layout::ALERTS, &alert.server_id.0, &id, alert)
            .await;
        match created {
            Ok(_) | Err(store::Error::Conflict { .. }) => Ok(()),
            Err(error) => Err(control::Error::from(error).into()),
        }
    }
}

fn queued_run(alert: &Alert, run_id: RunId) -> Run {
    let now = Utc::now();
    Run {
        id: run_id,
        server_id: alert.server_id.clone(),
        alert_id: alert.id,
        state: RunState::Queued,
        issue_id: None,
        steps: vec![RunStep {
            at: now,
            state: RunState::Queued,
            message: "Queued for a runner".to_string(),
        }],
        failure: None,
        heartbeat_at: now,
        instruction_id: None,
        build_progress: None,
        over_threshold_since: alert.over_threshold_since,
        created_at: now,
        updated_at: now,
    }
}

fn event(alert: &Alert, run_id: RunId, kind: TimelineEventKind, message: String) -> TimelineEvent {
    TimelineEvent {
        at: Utc::now(),
        server_id: alert.server_id.clone(),
        run_id: Some(run_id),
        issue_id: None,
        kind,
        message,
    }
}

/// Describes an alert in one line for people, such as "CPU 97 % over 30 s (threshold 80 %)".
pub fn describe(alert: &Alert) -> String {
    let window = alert.window_seconds;
    if alert.metric == "cpu_percent" {
        return format!(
            "CPU {:.0} % over {window} s (threshold {:.0} %)",
            alert.value, alert.threshold
        );
    }
    format!(
        "{} {:.1} over {window} s (threshold {:.1})",
        alert.metric, alert.value, alert.threshold
    )
}

fn started(alert: &Alert) -> String {
    match &alert.source {
        contracts::AlertSource::CpuMonitor => "Run queued after a CPU monitor alert".to_string(),
        contracts::AlertSource::AzureMonitor { alert_rule, .. } => {
            format!("Run queued after Azure Monitor alert rule {alert_rule}")
        }
    }
}

#[cfg(test)]
mod tests {
    use contracts::{AlertId, AlertSource};

    use super::*;

    fn alert(metric: &str, value: f64) -> Alert {
        Alert {
            id: AlertId::new(),
            server_id: "db-1".into(),
            source: AlertSource::CpuMonitor,
            metric: metric.to_string(),
            value,
            threshold: 80.0,
            window_seconds: 30,
            fired_at: Utc::now(),
            over_threshold_since: None,
        }
    }

    #[test]
    fn cpu_alert_reads_as_percent() {
        let text = describe(&alert("cpu_percent", 97.4));
        assert_eq!(text, "CPU 97 % over 30 s (threshold 80 %)");
    }

    #[test]
    fn other_metric_keeps_its_name() {
        let text = describe(&alert("memory_percent", 91.34));
        assert_eq!(text, "memory_percent 91.3 over 30 s (threshold 80.0)");
    }

    #[test]
    fn same_alert_gets_same_run_id() {
        let alert = alert("cpu_percent", 90.0);
        assert_eq!(run_id_for(&alert), run_id_for(&alert.clone()));
        assert_ne!(run_id_for(&alert).0, alert.id.0);
    }
}
