use chrono::Utc;
use contracts::{Run, TimelineEvent, TimelineEventKind};
use control::{ControlPlane, timeline::event_key};

use crate::RunnerConfig;

/// The control plane and the runner's settings, shared by every run step.
#[derive(Debug, Clone)]
pub struct Context {
    pub control: ControlPlane,
    pub config: RunnerConfig,
}

impl Context {
    /// Appends a timeline event for the run; a repeat of the same kind in the run is dropped.
    pub async fn record(
        &self,
        run: &Run,
        kind: TimelineEventKind,
        message: impl Into<String>,
    ) -> Result<(), control::Error> {
        let event = TimelineEvent {
            at: Utc::now(),
            server_id: run.server_id.clone(),
            run_id: Some(run.id),
            issue_id: run.issue_id,
            kind,
            message: message.into(),
        };
        self.control
            .append_event(&event_key(run.id, kind), &event)
            .await?;
        Ok(())
    }
}
