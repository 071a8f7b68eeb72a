//! The sign-in page: the API token that `dbagent up` printed, and the name to record on
//! decisions.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::session::{Session, sign_in};

const INPUT: &str = "mt-1 w-full rounded-md border border-slate-300 px-3 py-2 text-sm focus:border-sky-500 focus:outline-none";

#[component]
pub fn SignInPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let token = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        pending.set(true);
        leptos::task::spawn_local(async move {
            match sign_in(token.get_untracked(), name.get_untracked()).await {
                Ok(info) => {
                    failure.set(None);
                    session.0.set(Some(Ok(info)));
                    // Someone who opened /sign-in directly goes to the overview. On any other
                    // path the requested page renders in place of this one.
                    if let Some(window) = web_sys::window() {
                        let path = window.location().pathname().unwrap_or_default();
                        if path == "/sign-in" {
                            let _ = window.location().set_href("/");
                        }
                    }
                }
                Err(error) => failure.set(Some(error.message())),
            }
            pending.set(false);
        });
    };
    view! {
        <Title text="Sign in" />
        <div class="mx-auto mt-8 max-w-md rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-xl font-semibold">"Sign in to DBAgent"</h1>
            <p class="mt-2 text-sm text-slate-600">
                "Use the API token that " <code class="font-mono">"dbagent up"</code>
                " printed. It is also in the " <code class="font-mono">"api-token"</code>
                " file of the state directory. Your name is recorded on every decision you make."
            </p>
            <form class="mt-4 space-y-3" on:submit=submit>
                <label class="block text-sm font-medium">
                    "API token"
                    <input class=INPUT type="password" name="token" autocomplete="current-password" required bind:value=token />
                </label>
                <label class="block text-sm font-medium">
                    "Your name"
                    <input class=INPUT name="name" autocomplete="name" required bind:value=name />
                </label>
                <button
                    type="submit"
                    class="w-full rounded-md bg-slate-900 px-4 py-2 text-sm font-semibold text-white hover:bg-slate-700 disabled:opacity-50"
                    disabled=move || pending.get()
                >
                    "Sign in"
                </button>
                {move || failure.get().map(|text| view! { <p role="alert" class="text-sm text-red-700">{text}</p> })}
            </form>
        </div>
    }
}
