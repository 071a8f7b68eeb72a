use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{AlertId, ServerId};

/// A metric crossed its threshold on a server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: AlertId,
    pub server_id: ServerId,
    pub source: AlertSource,
    /// Metric name as the source reports it, such as `cpu_percent`.
    pub metric: String,
    /// The metric's average over the window.
    pub value: f64,
    pub threshold: f64,
    pub window_seconds: u32,
    pub fired_at: DateTime<Utc>,
    /// First measurement above the threshold in the stretch that led to this alert, when the
    /// source reports it. `fired_at` minus this is the time DBAgent took to detect the problem.
    #[serde(default)]
    pub over_threshold_since: Option<DateTime<Utc>>,
}

/// The origin of an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertSource {
    /// DBAgent's own monitor, reading the server's CPU time from `/proc`.
    CpuMonitor,
    /// An Azure Monitor metric alert delivered through a Common Alert Schema webhook.
    AzureMonitor {
        alert_id: String,
        alert_rule: String,
    },
}
