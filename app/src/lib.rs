//! DBAgent's dashboard: Leptos pages over the REST API.
//!
//! The axum server renders each page's frame with feature `ssr`. The browser hydrates it with
//! feature `hydrate` and fills it with data that it polls from `/api/...` every two seconds,
//! authenticated by the session cookie set at sign-in. Both sides use the same `contracts` types.
//!
//! - [`api`]: calls to the REST API. [`live`]: polling. [`session`]: the signed-in person.
//! - [`pages`]: one module per page. [`components`]: pieces they share. [`format`]: figures.

pub mod api;
pub mod components;
pub mod format;
pub mod live;
pub mod pages;
pub mod session;

use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::{Header, NotFound};
use crate::session::Session;

/// Renders the HTML document around the app. The server calls it for every page.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="description" content="DBAgent: finds why PostgreSQL runs hot and fixes it" />
                <link rel="stylesheet" href="/pkg/dbagent.css" />
                // There is no favicon file. An empty data URL stops the browser from requesting
                // one.
                <link rel="icon" href="data:," />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let session = Session::provide();
    view! {
        <Title formatter=|page: String| format!("{page} · DBAgent") />
        <Router>
            <Header />
            <main class="mx-auto max-w-6xl px-4 py-6">
                <Show
                    when=move || !session.is_signed_out()
                    fallback=|| view! { <pages::SignInPage /> }
                >
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=pages::OverviewPage />
                        <Route path=path!("/sign-in") view=pages::SignInPage />
                        <Route path=path!("/issues/:id") view=pages::IssuePage />
                        <Route path=path!("/runs/:id") view=pages::RunPage />
                        <Route path=path!("/instructions") view=pages::InstructionsPage />
                        <Route path=path!("/timeline") view=pages::TimelinePage />
                    </Routes>
                </Show>
            </main>
        </Router>
    }
}
