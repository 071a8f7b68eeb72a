use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Facts about the target server that bear on the risk of building indexes on it without asking.
///
/// The runner gathers them during the investigation, because only the runner connects to target
/// servers; the dashboard's always-allow assistant reasons from them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskFacts {
    /// The database's largest tables by total size (heap, indexes and TOAST), largest first.
    pub largest_tables: Vec<TableFacts>,
    /// `pg_database_size` of the target database.
    pub database_bytes: u64,
    /// Free and total space of the file system under the data directory, when the runner can
    /// see it; `None` for a remote server.
    pub disk: Option<DiskSpace>,
    /// Estimated duration of `CREATE INDEX CONCURRENTLY` on the table, with its basis.
    pub build_estimate: Option<BuildEstimate>,
    /// `maintenance_work_mem`, the memory each index build may sort in before spilling to disk.
    pub maintenance_work_mem_bytes: Option<u64>,
    /// Standbys streaming from this server, from `pg_stat_replication`.
    pub replicas: Vec<ReplicaFacts>,
    /// Whether the server is itself a standby (`pg_is_in_recovery()`).
    pub in_recovery: bool,
}

/// Size and write rate of one table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TableFacts {
    /// Schema-qualified name, such as `public.orders`.
    pub name: String,
    pub total_bytes: u64,
    /// Planner's row estimate (`pg_class.reltuples`).
    pub rows: u64,
    /// Rows inserted, updated and deleted per second over the investigation window, when the
    /// runner measured it.
    pub writes_per_second: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiskSpace {
    pub free_bytes: u64,
    pub total_bytes: u64,
}

/// An estimate of how long an index build takes, and what it rests on, in one sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BuildEstimate {
    pub seconds: f64,
    pub basis: String,
}

/// One standby as `pg_stat_replication` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplicaFacts {
    pub application_name: String,
    /// `streaming`, `catchup`, ...
    pub state: String,
    /// `async`, `sync`, `quorum` or `potential`.
    pub sync_state: String,
    /// `replay_lag` in seconds, when the standby reported one.
    pub replay_lag_seconds: Option<f64>,
}
