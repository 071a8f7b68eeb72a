//! Polling of live data: each page fetches its API resources every [`POLL_INTERVAL_MS`], so that
//! it follows the scenario without a reload.

use leptos::prelude::*;
use serde::de::DeserializeOwned;

#[cfg(feature = "hydrate")]
use crate::api;
use crate::api::ApiError;

/// Interval in milliseconds between two fetches of the same resource.
pub const POLL_INTERVAL_MS: u32 = 2_000;

/// The latest response for one API path, fetched again every [`POLL_INTERVAL_MS`] while the
/// component that created it is mounted.
pub struct Polled<T: 'static> {
    pub value: RwSignal<Option<Result<T, ApiError>>>,
    path: Signal<String>,
}

impl<T: 'static> Clone for Polled<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Polled<T> {}

impl<T> Polled<T>
where
    T: DeserializeOwned + PartialEq + Send + Sync + 'static,
{
    /// Starts polling `path`. The path may change, for example with the page's route parameters,
    /// and [`Polled::follow_path`] makes the change take effect at once.
    pub fn new(path: impl Fn() -> String + Send + Sync + 'static) -> Polled<T> {
        let polled = Polled {
            value: RwSignal::new(None),
            path: Signal::derive(path),
        };
        polled.start();
        polled
    }

    /// Fetches the resource now without waiting for the next poll, for use after an action
    /// changed it.
    pub fn refresh(self) {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            self.load().await;
        });
    }

    #[cfg(feature = "hydrate")]
    async fn load(self) {
        let Some(path) = self.path.try_get_untracked() else {
            return;
        };
        let answer = Some(api::get::<T>(&path).await);
        // An unchanged response leaves the signal untouched, so that nothing on the page flickers
        // or loses what a person is typing. The `try_` methods allow for a component that is gone
        // by now.
        let changed = self.value.try_with_untracked(|current| *current != answer);
        if changed == Some(true) {
            let _ = self.value.try_set(answer);
        }
    }

    /// Does nothing on the server, so the page renders its loading state and the browser fills it
    /// in after hydration.
    #[cfg(not(feature = "hydrate"))]
    fn start(self) {}

    #[cfg(feature = "hydrate")]
    fn start(self) {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};

        let alive = Arc::new(AtomicBool::new(true));
        let on_page = alive.clone();
        on_cleanup(move || on_page.store(false, Ordering::Relaxed));
        leptos::task::spawn_local(async move {
            while alive.load(Ordering::Relaxed) {
                self.load().await;
                gloo_timers::future::TimeoutFuture::new(POLL_INTERVAL_MS).await;
            }
        });
    }

    /// Clears the value and fetches again at once when the path changes, such as on a new route
    /// parameter.
    pub fn follow_path(self) {
        Effect::new(move |previous: Option<String>| {
            let path = self.path.get();
            if previous.is_some_and(|previous| previous != path) {
                self.value.set(None);
                self.refresh();
            }
            path
        });
    }
}

/// Renders a polled value: a placeholder while it loads, the error message on failure, or
/// `view` of the value.
pub fn show<T, V>(
    polled: Polled<T>,
    loading: &'static str,
    view: impl Fn(&T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Send + Sync + 'static,
    V: IntoView + 'static,
{
    move || {
        polled.value.with(|value| match value {
            None => crate::components::Placeholder(loading).into_any(),
            Some(Err(error)) => crate::components::ErrorNote(error.message()).into_any(),
            Some(Ok(value)) => view(value).into_any(),
        })
    }
}
