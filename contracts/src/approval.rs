use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Instruction, IssueId, RunId};

/// A person's decision on a proposed action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalDecision {
    pub run_id: RunId,
    pub issue_id: IssueId,
    pub decision: Decision,
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Skip,
    /// Approve this action and record a standing permission for the same kind of action.
    AlwaysAllow {
        instruction: Instruction,
    },
}
