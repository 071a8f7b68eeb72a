//! The page header with navigation, the signed-in person's name and the sign-out button, and
//! the page for unknown routes.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::session::{Session, sign_out};

const LINK: &str = "rounded-md px-2 py-1 text-slate-300 hover:bg-slate-800 hover:text-white aria-[current=page]:bg-slate-800 aria-[current=page]:text-white";

#[component]
pub fn Header() -> impl IntoView {
    let session = expect_context::<Session>();
    let signed_in = move || {
        session.name().map(|name| {
            view! {
                <span class="hidden text-slate-400 sm:inline">{name}</span>
                <button
                    class="rounded-md border border-slate-700 px-2 py-1 text-slate-300 hover:bg-slate-800"
                    on:click=move |_| sign_out(session)
                >
                    "Sign out"
                </button>
            }
        })
    };
    view! {
        <header class="bg-slate-900 text-sm">
            <nav class="mx-auto flex max-w-6xl flex-wrap items-center gap-x-2 gap-y-1 px-4 py-3">
                <A href="/" attr:class="mr-3 text-base font-bold tracking-tight text-white">
                    "DB"<span class="text-sky-400">"Agent"</span>
                </A>
                <A href="/" exact=true attr:class=LINK>"Overview"</A>
                <A href="/timeline" attr:class=LINK>"Timeline"</A>
                <A href="/instructions" attr:class=LINK>"Instructions"</A>
                <span class="ml-auto flex items-center gap-2">{signed_in}</span>
            </nav>
        </header>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <div class="py-16 text-center">
            <h1 class="text-2xl font-semibold text-slate-900">"No such page"</h1>
            <p class="mt-2 text-slate-600">
                <a href="/" class="text-sky-700 underline">"Back to the overview"</a>
            </p>
        </div>
    }
}
