//! The signed-in person, read once when the dashboard starts in the browser.

use contracts::api::{SessionInfo, SignIn};
use leptos::prelude::*;

use crate::api::{self, ApiError};

/// The session state: `None` until the API has responded to `GET /api/session`, then the
/// signed-in person or the error that explains why there is none.
#[derive(Clone, Copy)]
pub struct Session(pub RwSignal<Option<Result<SessionInfo, ApiError>>>);

impl Session {
    pub fn provide() -> Session {
        let session = Session(RwSignal::new(None));
        provide_context(session);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let answer = api::get::<SessionInfo>("/api/session").await;
            session.0.set(Some(answer));
        });
        session
    }

    pub fn name(self) -> Option<String> {
        self.0
            .with(|state| state.as_ref()?.as_ref().ok().map(|info| info.name.clone()))
    }

    /// Returns whether the API responded that no session exists.
    pub fn is_signed_out(self) -> bool {
        self.0
            .with(|state| matches!(state, Some(Err(ApiError::SignedOut))))
    }
}

/// Signs in with the API token and the name to record on decisions. The API responds with the
/// HttpOnly session cookie.
pub async fn sign_in(token: String, name: String) -> Result<SessionInfo, ApiError> {
    let answer = api::post("/api/session", Some(&SignIn { token, name })).await;
    // On sign-in, 401 means a wrong token rather than an ended session.
    answer.map_err(|error| match error {
        ApiError::SignedOut => ApiError::Refused {
            status: 401,
            message: "Invalid token. Copy it from the output of `dbagent up` or from the \
                      api-token file in the state directory"
                .into(),
        },
        other => other,
    })
}

/// Ends the session on the server and shows the sign-in page.
pub fn sign_out(session: Session) {
    leptos::task::spawn_local(async move {
        // The page signs out whatever the result, because a failure here usually means that the
        // session had already ended.
        let _ = api::delete("/api/session").await;
        session.0.set(Some(Err(ApiError::SignedOut)));
    });
}
