//! Building blocks shared by the pages.

mod badges;
mod cpu_chart;
mod layout;

pub use badges::{PathBadge, RunStateBadge, SeverityBadge, StatusBadge};
pub use cpu_chart::CpuChart;
pub use layout::{Header, NotFound};

use leptos::prelude::*;

/// Renders the loading text shown until the first response for a page's data arrives.
#[allow(non_snake_case)]
pub fn Placeholder(text: &'static str) -> impl IntoView {
    view! { <p class="text-sm text-slate-500 animate-pulse">{text}</p> }
}

/// Renders an error message as an alert, followed by a link to the sign-in page. The link is
/// always shown, because an ended session is the usual cause.
#[allow(non_snake_case)]
pub fn ErrorNote(message: String) -> impl IntoView {
    view! {
        <div role="alert" class="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
            {message}
            " "
            <a href="/sign-in" class="font-medium underline">"Sign in"</a>
        </div>
    }
}

/// White panel with a heading. `id` serves as an anchor and as a selector in the browser tests.
#[component]
pub fn Card(
    #[prop(into)] title: String,
    #[prop(optional, into)] id: String,
    children: Children,
) -> impl IntoView {
    view! {
        <section id=id class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-5">
            <h2 class="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-500">{title}</h2>
            {children()}
        </section>
    }
}

/// Renders one measured fact, a small label over its value, for use inside a `<dl>`.
#[component]
pub fn Fact(#[prop(into)] label: String, #[prop(into)] value: String) -> impl IntoView {
    view! {
        <div class="min-w-0">
            <dt class="text-xs text-slate-500">{label}</dt>
            <dd class="break-words font-mono text-base font-semibold text-slate-900">{value}</dd>
        </div>
    }
}

/// SQL or a plan, verbatim. By default the text keeps its indentation and scrolls on narrow
/// screens, which suits plans. With `wrap`, lines wrap so that a statement reads whole on a phone.
#[component]
pub fn Code(#[prop(into)] text: String, #[prop(optional)] wrap: bool) -> impl IntoView {
    let layout = if wrap {
        "whitespace-pre-wrap break-words"
    } else {
        "overflow-x-auto whitespace-pre"
    };
    view! {
        <pre class=format!(
            "{layout} rounded-md bg-slate-900 p-3 text-xs leading-relaxed text-slate-100",
        )>{text}</pre>
    }
}
