use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Evidence, InstructionId, IssueId, ProposedAction, RunId, ServerId};

/// A problem a run found on a server, with its evidence and, when one helps, a proposed fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Issue {
    pub id: IssueId,
    pub server_id: ServerId,
    pub run_id: RunId,
    pub severity: Severity,
    pub status: IssueStatus,
    pub title: String,
    pub summary: String,
    pub evidence: Evidence,
    /// The fix, or `None` when no action helps and the summary explains why.
    pub proposed_action: Option<ProposedAction>,
    pub resolution: Option<Resolution>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IssueStatus {
    /// Found, with no action proposed.
    Open,
    /// A proposed action waits for Approve, Skip or Always allow.
    AwaitingApproval,
    /// Approved, by a person or an instruction; the action runs next.
    Approved,
    Executing,
    /// The action ran and verification showed that it fixed the problem.
    Resolved,
    Skipped,
    Failed,
}

impl IssueStatus {
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            IssueStatus::Resolved | IssueStatus::Skipped | IssueStatus::Failed
        )
    }
}

/// The closing of an issue, with the measurements that prove the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resolution {
    pub path: ResolutionPath,
    pub resolved_at: DateTime<Utc>,
    /// Server CPU, percent of its vCores, before the action and over the verification window.
    pub cpu_before_pct: Option<f64>,
    pub cpu_after_pct: Option<f64>,
    /// Mean time of the hot statement before and after the action, in milliseconds.
    pub mean_time_before_ms: Option<f64>,
    pub mean_time_after_ms: Option<f64>,
}

/// The decider of an outcome: a person, an instruction, or a failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResolutionPath {
    HumanApproved { approved_by: String },
    Autonomous { instruction_id: InstructionId },
    Skipped { skipped_by: String },
    Failed { reason: String },
}
