//! Messages that components exchange over the bus.
//!
//! Every message travels in an [`Envelope`] whose message id lets the bus drop duplicates and
//! whose correlation id is the run it belongs to.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{ApprovalDecision, IssueId, MessageId, RunId, ServerId};

/// Version of the message shapes below; a receiver rejects envelopes with a newer version.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Envelope<T> {
    pub schema_version: u32,
    pub message_id: MessageId,
    /// The run this message is about.
    pub correlation_id: RunId,
    pub created_at: DateTime<Utc>,
    pub payload: T,
}

impl<T> Envelope<T> {
    pub fn new(
        message_id: MessageId,
        correlation_id: RunId,
        created_at: DateTime<Utc>,
        payload: T,
    ) -> Self {
        Envelope {
            schema_version: SCHEMA_VERSION,
            message_id,
            correlation_id,
            created_at,
            payload,
        }
    }
}

/// Asks a runner to start a run or to resume a suspended one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trigger {
    pub run_id: RunId,
    pub server_id: ServerId,
    pub kind: TriggerKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    Start,
    /// Continue after a decision on the run's issue.
    Resume,
    /// Continue when the time window of the always-allow instruction that scheduled the
    /// action opens.
    Scheduled,
}

/// Tells Platform Services where a run stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Completion {
    pub run_id: RunId,
    pub server_id: ServerId,
    pub outcome: CompletionOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CompletionOutcome {
    /// Waiting for a decision on the issue; the server's lock stays held.
    Suspended {
        issue_id: IssueId,
    },
    Completed {
        issue_id: Option<IssueId>,
    },
    Failed {
        reason: String,
        /// A run opened to continue the work, such as the drop of an index that brought no
        /// gain. The server's lock passes to it instead of being released, because it waits
        /// for a decision as a suspended run does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        follow_up_run_id: Option<RunId>,
    },
}

/// Carries a person's decision from the API to Platform Services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    pub decision: ApprovalDecision,
}
