//! Shared state of every request handler.

use std::sync::Arc;

use control::ControlPlane;

use crate::auth::ApiToken;
use crate::scenario::ScenarioControl;
use crate::session::Sessions;

/// The control plane, the token that requests must present, the open browser sessions, and the
/// scenario's workload controls when the API serves the local stack.
#[derive(Clone, Debug)]
pub struct AppState {
    pub control: ControlPlane,
    pub token: Arc<ApiToken>,
    pub sessions: Sessions,
    pub scenario: Option<Arc<dyn ScenarioControl>>,
}

impl AppState {
    /// Builds the state without scenario controls.
    pub fn new(control: ControlPlane, token: ApiToken) -> AppState {
        AppState {
            control,
            token: Arc::new(token),
            sessions: Sessions::default(),
            scenario: None,
        }
    }

    /// Sets the workload controls that `/api/scenario/...` uses.
    pub fn with_scenario(mut self, scenario: Option<Arc<dyn ScenarioControl>>) -> AppState {
        self.scenario = scenario;
        self
    }
}
