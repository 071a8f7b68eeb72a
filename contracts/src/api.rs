//! Bodies of the REST API that the dashboard reads and sends, beyond the domain types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{ApprovalDecision, CpuSample, Issue, Server, ServerId};

/// A registered server as the dashboard's overview shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerOverview {
    pub server: Server,
    /// The newest CPU sample, or `None` before the monitor's first.
    pub latest_cpu: Option<CpuSample>,
    /// Every sample the monitor keeps, oldest first: up to 120, which is ten minutes at the
    /// monitor's default interval of 5 s.
    pub recent_cpu: Vec<CpuSample>,
    /// CPU percentage above which the monitor fires an alert.
    pub cpu_threshold_pct: f64,
    /// Issues that are neither resolved, skipped nor failed.
    pub open_issues: usize,
}

/// An issue with the decision taken on it, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssueDetail {
    pub issue: Issue,
    /// Approve, skip or always-allow, with who decided and when.
    pub decision: Option<ApprovalDecision>,
}

/// Body of `POST /api/session`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The API token, from the `api-token` file in the state directory.
    pub token: String,
    /// Name recorded as the decider of every decision made in this session.
    pub name: String,
}

/// The signed-in person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub name: String,
}

/// A standing permission to create, without the fields the server fills in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// Kind of action allowed. Defaults to the issue's proposed action, or `create_index`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<crate::ActionKind>,
    pub scope: ScopeRequest,
    /// Limits checked when each action runs. `{}` sets none.
    pub limits: LimitsRequest,
    /// Time after which the permission no longer applies. Set this or `expires_in_hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Hours from now after which the permission no longer applies, 1 to 87600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_hours: Option<u32>,
    /// Person recorded as the creator. Without it, the session's name, the `X-DBAgent-Actor`
    /// header or `api`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

/// The server and schemas a permission covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScopeRequest {
    /// Required by `POST /api/instructions`. For always-allow it is the issue's server and may be
    /// left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub server_id: Option<ServerId>,
    /// Schemas whose tables are covered. An empty list covers every schema.
    pub schemas: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LimitsRequest {
    /// Largest table, in bytes, that an action may touch, at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_table_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_window: Option<WindowRequest>,
    /// Actions allowed per server in one UTC day, at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_actions_per_day: Option<u32>,
}

/// Daily window in UTC in which actions may start. An end before the start spans midnight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WindowRequest {
    /// `HH:MM`, 00:00 to 23:59.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "01:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")
    )]
    pub start: String,
    /// `HH:MM`, 00:00 to 23:59, different from `start`.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "05:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")
    )]
    pub end: String,
}

/// The always-allow assistant's view of one issue: what it found, how risky it judges standing
/// permission on this server, and the limits it proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskAssessment {
    pub level: RiskLevel,
    /// One line that sums the assessment up.
    pub headline: String,
    /// The assistant's points, in the order it makes them.
    pub points: Vec<RiskPoint>,
    /// Limits it proposes, ready to be edited and sent as the grant's limits.
    pub proposed: GrantRequest,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

/// One point of the assessment, on one topic, from measured facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskPoint {
    /// Short topic such as `Locks` or `Disk`.
    pub topic: String,
    pub text: String,
    /// Whether this point argues for caution.
    pub concern: bool,
}

/// A named workload of the local scenario, for the presenter's controls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Workload {
    /// Name used to start and stop it, such as `orders-by-customer`.
    pub name: String,
    /// Description of the workload in one sentence.
    pub description: String,
    /// The statement it repeats.
    pub statement: String,
    pub running: bool,
    /// Process id while it runs.
    pub pid: Option<u32>,
}
