use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{IssueId, RunId, ServerId};

/// Something that happened, in the order the timeline shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEvent {
    pub at: DateTime<Utc>,
    pub server_id: ServerId,
    pub run_id: Option<RunId>,
    pub issue_id: Option<IssueId>,
    pub kind: TimelineEventKind,
    /// One sentence for people, such as "CPU 97 % over 30 s (threshold 80 %)".
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TimelineEventKind {
    AlertFired,
    RunStarted,
    IssueOpened,
    ApprovalRequested,
    Approved,
    Skipped,
    InstructionCreated,
    InstructionRevoked,
    /// The action waits for the time window of an always-allow instruction.
    BuildScheduled,
    ExecutionStarted,
    /// The build waits for something outside DBAgent, such as another session's transaction.
    BuildWaiting,
    /// An INVALID index that an interrupted build left was dropped.
    LeftoverDropped,
    ExecutionFinished,
    Verified,
    Resolved,
    Failed,
}
