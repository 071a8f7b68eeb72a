use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ServerId;

/// A PostgreSQL server registered with DBAgent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Server {
    pub id: ServerId,
    /// Address and database without credentials, such as `127.0.0.1:5433/shop`.
    pub endpoint: String,
    /// Whether DBAgent watches this server and may open runs on it.
    pub agent_enabled: bool,
    /// vCores assigned to the server; CPU percentages are relative to them.
    pub vcores: u32,
    /// CPU percentage above which the monitor fires an alert.
    pub cpu_threshold_pct: f64,
    pub registered_at: DateTime<Utc>,
}
