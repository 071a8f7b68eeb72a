//! Shared state of every request handler.

use std::sync::Arc;

use control::ControlPlane;

use crate::auth::ApiToken;
use crate::session::Sessions;

/// The control plane, the token that requests must present, and the open browser sessions.
#[derive(Clone, Debug)]
pub struct AppState {
    pub control: ControlPlane,
    pub token: Arc<ApiToken>,
    pub sessions: Sessions,
}

impl AppState {
    pub fn new(control: ControlPlane, token: ApiToken) -> AppState {
        AppState {
            control,
            token: Arc::new(token),
            sessions: Sessions::default(),
        }
    }
}
