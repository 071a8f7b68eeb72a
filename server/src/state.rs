//! Shared state of every request handler.

use std::sync::Arc;

use control::ControlPlane;

use crate::auth::ApiToken;

/// The control plane and the token that requests must present.
#[derive(Clone, Debug)]
pub struct AppState {
    pub control: ControlPlane,
    pub token: Arc<ApiToken>,
}

impl AppState {
    pub fn new(control: ControlPlane, token: ApiToken) -> AppState {
        AppState {
            control,
            token: Arc::new(token),
        }
    }
}
