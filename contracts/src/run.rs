use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{AlertId, InstructionId, IssueId, RunId, ServerId};

/// The handling of one alert, from dispatch to a terminal state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Run {
    pub id: RunId,
    pub server_id: ServerId,
    pub alert_id: AlertId,
    pub state: RunState,
    pub issue_id: Option<IssueId>,
    pub steps: Vec<RunStep>,
    /// The reason the run failed, if it did.
    pub failure: Option<String>,
    /// Last time a runner reported progress. Platform Services fails a run that is neither
    /// suspended nor finished once this is older than the lease.
    pub heartbeat_at: DateTime<Utc>,
    /// The always-allow instruction under which the run acts without asking, once the
    /// autonomy check chose one; daily limits count these runs, whatever their outcome.
    #[serde(default)]
    pub instruction_id: Option<InstructionId>,
    /// Progress of the index build while the run executes, from
    /// `pg_stat_progress_create_index`; kept after the build as its last reading.
    #[serde(default)]
    pub build_progress: Option<BuildProgress>,
    /// The alert's first measurement above the threshold, when known: the run was created
    /// when the alert fired, so `created_at` minus this is the time to detect.
    #[serde(default)]
    pub over_threshold_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The stage a run has reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Created by Platform Services; a Trigger is on its way to a runner.
    Queued,
    Investigating,
    /// An issue with a proposed action waits for a person's decision; the run is suspended.
    AwaitingApproval,
    Executing,
    Verifying,
    Completed,
    Failed,
}

/// A step the run took, with its time, for the run's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunStep {
    pub at: DateTime<Utc>,
    pub state: RunState,
    pub message: String,
}

/// One reading of `pg_stat_progress_create_index` for the run's build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BuildProgress {
    pub at: DateTime<Utc>,
    /// The build's phase, such as `building index: scanning table`.
    pub phase: String,
    pub blocks_done: u64,
    pub blocks_total: u64,
    pub tuples_done: u64,
    pub tuples_total: u64,
}

impl BuildProgress {
    /// Returns the share of the current phase done, 0 to 100. It counts blocks while the table
    /// is scanned and tuples after that, and is `None` when the phase reports neither.
    pub fn phase_pct(&self) -> Option<f64> {
        let (done, total) = if self.blocks_total > 0 {
            (self.blocks_done, self.blocks_total)
        } else {
            (self.tuples_done, self.tuples_total)
        };
        (total > 0).then(|| (done as f64 / total as f64 * 100.0).min(100.0))
    }
}

/// A state change that the run's state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a run cannot move from {from:?} to {to:?}")]
pub struct TransitionError {
    pub from: RunState,
    pub to: RunState,
}

impl RunState {
    pub fn is_terminal(self) -> bool {
        matches!(self, RunState::Completed | RunState::Failed)
    }

    /// Tells whether the state machine allows moving from `self` to `next`.
    ///
    /// Any non-terminal state may fail. A run completes without executing when the
    /// investigation proposes nothing or a person skips the action.
    pub fn can_move_to(self, next: RunState) -> bool {
        use RunState::*;
        match (self, next) {
            (from, Failed) => !from.is_terminal(),
            (Queued, Investigating) => true,
            (Investigating, AwaitingApproval | Executing | Completed) => true,
            (AwaitingApproval, Executing | Completed) => true,
            (Executing, Verifying) => true,
            (Verifying, Completed) => true,
            _ => false,
        }
    }
}

impl Run {
    /// Moves the run to `next`, recording the step, or fails if the move is not allowed.
    pub fn advance(
        &mut self,
        next: RunState,
        at: DateTime<Utc>,
        message: impl Into<String>,
    ) -> Result<(), TransitionError> {
        if !self.state.can_move_to(next) {
            return Err(TransitionError {
                from: self.state,
                to: next,
            });
        }
        self.state = next;
        self.updated_at = at;
        self.heartbeat_at = at;
        self.steps.push(RunStep {
            at,
            state: next,
            message: message.into(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued_run() -> Run {
        let at = DateTime::UNIX_EPOCH;
        Run {
            id: RunId::new(),
            server_id: "local-target".into(),
            alert_id: AlertId::new(),
            state: RunState::Queued,
            issue_id: None,
            steps: Vec::new(),
            failure: None,
            heartbeat_at: at,
            instruction_id: None,
            build_progress: None,
            over_threshold_since: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn approval_path_is_allowed() {
        let mut run = queued_run();
        let path = [
            RunState::Investigating,
            RunState::AwaitingApproval,
            RunState::Executing,
            RunState::Verifying,
            RunState::Completed,
        ];
        for state in path {
            run.advance(state, DateTime::UNIX_EPOCH, "step").unwrap();
        }
        assert_eq!(run.state, RunState::Completed);
        assert_eq!(run.steps.len(), 5);
    }

    #[test]
    fn terminal_states_do_not_move() {
        for terminal in [RunState::Completed, RunState::Failed] {
            assert!(!terminal.can_move_to(RunState::Failed));
            assert!(!terminal.can_move_to(RunState::Investigating));
        }
    }

    #[test]
    fn skipping_investigation_is_rejected() {
        let mut run = queued_run();
        let error = run
            .advance(RunState::Executing, DateTime::UNIX_EPOCH, "x")
            .unwrap_err();
        assert_eq!(error.from, RunState::Queued);
        assert_eq!(run.state, RunState::Queued);
        assert!(run.steps.is_empty());
    }
}
