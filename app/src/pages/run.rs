//! The run page: a run's steps with their times, and the progress of its index build.

use contracts::{BuildProgress, Run, RunState};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::{Card, RunStateBadge};
use crate::format;
use crate::live::{Polled, show};

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|params| params.get("id").unwrap_or_default());
    let run = Polled::<Run>::new(move || format!("/api/runs/{}", id()));
    run.follow_path();
    view! {
        <Title text="Run" />
        {show(run, "Reading the run…", |run| view! { <RunView run=run.clone() /> })}
    }
}

#[component]
fn RunView(run: Run) -> impl IntoView {
    let issue = run
        .issue_id
        .map(|id| view! { <a href=format!("/issues/{id}") class="text-sm text-sky-700 underline">"Issue"</a> });
    let building = run.state == RunState::Executing;
    let failed = run.state == RunState::Failed;
    let progress = run.build_progress.clone();
    view! {
        <div class="mb-4 flex flex-wrap items-center gap-2">
            <h1 class="text-2xl font-semibold tracking-tight">"Run"</h1>
            <span data-testid="run-state"><RunStateBadge state=run.state /></span>
            {issue}
        </div>
        <p class="mb-4 font-mono text-xs text-slate-500">
            {format!("{} · {} · started {}", run.id, run.server_id, format::date_time(run.created_at))}
        </p>
        {progress.map(|progress| view! { <Progress progress building failed /> })}
        {run.failure.clone().map(|failure| view! {
            <div role="alert" class="mb-4 rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">{failure}</div>
        })}
        <Card title="Steps">
            <ol class="relative space-y-4 border-l border-slate-200 pl-5">
                {run.steps.iter().map(|step| view! {
                    <li data-testid="run-step">
                        <span class="absolute -left-1.5 mt-1.5 h-3 w-3 rounded-full border-2 border-white bg-sky-500"></span>
                        <div class="flex flex-wrap items-center gap-2">
                            <RunStateBadge state=step.state />
                            <time class="font-mono text-xs text-slate-500">{format::clock(step.at)}</time>
                        </div>
                        <p class="mt-1 text-sm text-slate-800">{step.message.clone()}</p>
                    </li>
                }).collect_view()}
            </ol>
        </Card>
    }
}

/// Renders the index build's progress as `pg_stat_progress_create_index` last reported it.
#[component]
fn Progress(progress: BuildProgress, building: bool, failed: bool) -> impl IntoView {
    // After a successful build the bar is full, and the last reading, taken mid-phase, stays as
    // detail. A failed run keeps the reading's share, because the build may not have finished.
    let pct = if building || failed {
        progress.phase_pct()
    } else {
        Some(100.0)
    };
    let width = format!("width: {:.0}%", pct.unwrap_or(5.0));
    let title = if building {
        "Building the index"
    } else if failed {
        "Index build (the run failed)"
    } else {
        "Index build finished"
    };
    let reading = if building { "" } else { "last reading: " };
    let detail = format!(
        "{reading}{} · blocks {} of {} · tuples {} of {} · read {}",
        progress.phase,
        format::count(progress.blocks_done),
        format::count(progress.blocks_total),
        format::count(progress.tuples_done),
        format::count(progress.tuples_total),
        format::clock(progress.at)
    );
    view! {
        <Card title=title id="build-progress">
            <div
                class="h-3 w-full overflow-hidden rounded-full bg-slate-100"
                role="progressbar"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=pct.map(|pct| format!("{pct:.0}"))
            >
                <div class="h-full rounded-full bg-sky-500 transition-all" style=width></div>
            </div>
            <p class="mt-2 font-mono text-xs text-slate-600">{detail}</p>
        </Card>
    }
}
