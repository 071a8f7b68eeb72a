use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::RiskFacts;

/// The measurements behind an issue, taken as deltas over the alert window.
///
/// Fields are optional where a finding may lack them, such as a plan with a hypothetical index
/// when no index was proposed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// The normalized statement as `pg_stat_statements` stores it, with `$n` placeholders.
    pub statement: String,
    /// `pg_stat_statements.queryid`.
    pub query_id: Option<i64>,
    pub window_seconds: f64,
    pub calls_per_second: f64,
    pub mean_time_ms: f64,
    /// The statement's share of all statements' execution time in the window, 0 to 100.
    pub share_of_time_pct: f64,
    pub rows_per_call: f64,
    /// Schema-qualified table the statement scans, such as `public.orders`.
    pub table: Option<String>,
    pub table_size_bytes: Option<u64>,
    pub table_rows: Option<u64>,
    /// Sequential scans on the table in the window.
    pub seq_scans_in_window: Option<u64>,
    /// Rows written to the table per second in the window.
    pub table_writes_per_second: Option<f64>,
    /// `EXPLAIN` of the generic plan as it is.
    pub plan_before: Option<String>,
    /// `EXPLAIN` of the generic plan with the proposed index as a HypoPG hypothetical index.
    pub plan_with_index: Option<String>,
    pub cost_before: Option<f64>,
    pub cost_with_index: Option<f64>,
    /// `(cost_before - cost_with_index) / cost_before`, 0 to 100.
    pub cost_reduction_pct: Option<f64>,
    /// HypoPG's estimate of the proposed index's size.
    pub estimated_index_bytes: Option<u64>,
    /// Execution time the proposed index would save, in milliseconds per second of wall
    /// time: each affected statement's time in the window times its planned-cost cut, summed.
    #[serde(default)]
    pub estimated_saving_ms_per_second: Option<f64>,
    /// Server CPU when the issue was opened, percent of its vCores.
    pub cpu_pct: Option<f64>,
    /// Reasoning in plain sentences: why this index, why not the alternatives tried.
    pub notes: Vec<String>,
    /// Server facts for judging the risk of building indexes here without asking.
    #[serde(default)]
    pub risk: Option<RiskFacts>,
}
