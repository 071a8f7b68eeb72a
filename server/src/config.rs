//! Settings of the API server. The CLI fills them from its flags and environment variables.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use crate::scenario::ScenarioControl;

/// Port of the API and, later, of the dashboard served beside it.
pub const DEFAULT_PORT: u16 = 3000;

/// Everything [`crate::serve`] needs to start.
#[derive(Clone)]
pub struct Config {
    /// Address to listen on. The default is loopback, so that only this machine can connect.
    pub listen: SocketAddr,
    /// Directory that contains the bearer-token file [`crate::auth::TOKEN_FILE`].
    pub state_dir: PathBuf,
    /// PostgreSQL connection string of the control plane's store and bus.
    pub control_url: String,
    /// Workload controls of the local scenario, set only when the API serves the local stack.
    pub scenario: Option<Arc<dyn ScenarioControl>>,
    /// Files of the dashboard, as cargo-leptos builds them; `None` serves the API alone.
    pub site_dir: Option<PathBuf>,
}

impl Config {
    /// Builds a configuration with the local defaults: `127.0.0.1:3000`, `.dbagent`, and no
    /// scenario controls.
    pub fn new(control_url: impl Into<String>) -> Config {
        Config {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            state_dir: PathBuf::from(".dbagent"),
            control_url: control_url.into(),
            scenario: None,
            site_dir: None,
        }
    }
}

/// Leaves the connection string out, because it may carry a password.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("state_dir", &self.state_dir)
            .field("scenario", &self.scenario)
            .field("site_dir", &self.site_dir)
            .finish_non_exhaustive()
    }
}
