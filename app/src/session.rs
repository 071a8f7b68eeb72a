//! The signed-in person, read once when the dashboard starts in the browser.

use contracts::api::{SessionInfo, SignIn};
use leptos::prelude::*;

use crate::api::{self, ApiError};

/// `None` until the browser asked the API; then the person or why there is none.
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

    /// Tells whether the API answered that nobody is signed in.
    pub fn is_signed_out(self) -> bool {
        self.0
            .with(|state| matches!(state, Some(Err(ApiError::SignedOut))))
    }
}

/// Opens a session with the token and a name; the API sets the HttpOnly cookie.
pub async fn sign_in(token: String, name: String) -> Result<SessionInfo, ApiError> {
    let answer = api::post("/api/session", Some(&SignIn { token, name })).await;
    // Here a 401 means a wrong token, not an ended session.
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

/// Ends the session and shows the sign-in page.
pub fn sign_out(session: Session) {
    leptos::task::spawn_local(async move {
        // Signed out either way: a failure here means the session had already ended.
        let _ = api::delete("/api/session").await;
        session.0.set(Some(Err(ApiError::SignedOut)));
    });
}
