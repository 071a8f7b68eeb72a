//! Controls of the local scenario's workloads, for the presenter.
//!
//! The API keeps a [`ScenarioControl`] in its state. The `dbagent` binary implements it with its
//! background workload processes, and sets it when it serves the local stack that `dbagent up`
//! started. Without one, the scenario routes return 404.

use std::fmt;

use contracts::api::Workload;

/// Lists, starts and stops the named workloads of the local scenario.
///
/// The methods block, for up to the time a workload takes to stop, so handlers call them on
/// the blocking thread pool. Starting a running workload and stopping a stopped one are not
/// errors: both return the workload's state.
pub trait ScenarioControl: Send + Sync + fmt::Debug {
    /// Lists every known workload with its state.
    fn workloads(&self) -> Result<Vec<Workload>, ScenarioError>;

    /// Starts the workload unless it runs, and returns its state.
    fn start(&self, name: &str) -> Result<Workload, ScenarioError>;

    /// Stops the workload if it runs, and returns its state.
    fn stop(&self, name: &str) -> Result<Workload, ScenarioError>;
}

/// Failures of a [`ScenarioControl`], by what the caller can do about them.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("workload {name:?} not found; known workloads: {}", known.join(", "))]
    UnknownWorkload { name: String, known: Vec<String> },

    /// A failure the operator can fix, such as a stopped target cluster. The message explains
    /// the fix and contains no secrets, so the caller receives it.
    #[error("{0}")]
    Unavailable(String),

    /// Any other failure. The caller gets a generic message and the log gets this one.
    #[error("failed to {action}: {source}")]
    Failed {
        /// The failed operation, such as `start workload orders-by-customer`.
        action: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
