//! Scenario controls for a presenter on the local stack: a button to start or stop each named
//! workload.

use contracts::api::Workload;
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::components::Card;
use crate::live::Polled;

#[component]
pub fn ScenarioControls() -> impl IntoView {
    let workloads = Polled::<Vec<Workload>>::new(|| "/api/scenario/workloads".into());
    let failure = RwSignal::new(None::<String>);
    move || {
        workloads.value.with(|value| match value {
            // The API returns 404 outside the local stack, so there is nothing to show. While the
            // first response is pending, the controls stay hidden too.
            Some(Err(error)) if error.is_not_found() => ().into_any(),
            None => ().into_any(),
            Some(Err(error)) => {
                let message = error.message();
                view! {
                    <Card title="Scenario">
                        <p class="text-sm text-red-700">{message}</p>
                    </Card>
                }
                .into_any()
            }
            Some(Ok(list)) => {
                let rows = list
                    .iter()
                    .map(|workload| view! { <WorkloadRow workload=workload.clone() workloads failure /> })
                    .collect_view();
                // `min-w-0` lets the grid column shrink below the statements' width on a phone.
                view! {
                    <div class="min-w-0">
                        <Card title="Scenario controls" id="scenario">
                            <p class="mb-3 text-sm text-slate-600">
                                "Workloads on the local target. Each one repeats a single statement that no index supports yet."
                            </p>
                            <ul class="space-y-3">{rows}</ul>
                            {move || failure.get().map(|text| view! {
                                <p role="alert" class="mt-3 text-sm text-red-700">{text}</p>
                            })}
                        </Card>
                    </div>
                }
                .into_any()
            }
        })
    }
}

#[component]
fn WorkloadRow(
    workload: Workload,
    workloads: Polled<Vec<Workload>>,
    failure: RwSignal<Option<String>>,
) -> impl IntoView {
    let pending = RwSignal::new(false);
    let running = workload.running;
    let action = if running { "stop" } else { "start" };
    let label = if running { "Stop" } else { "Start" };
    let path = format!("/api/scenario/workloads/{}/{action}", workload.name);
    let button_class = if running {
        "rounded-md bg-slate-800 px-3 py-1.5 text-sm font-medium text-white hover:bg-slate-700 disabled:opacity-50"
    } else {
        "rounded-md bg-sky-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-500 disabled:opacity-50"
    };
    let click = move |_| {
        let path = path.clone();
        pending.set(true);
        leptos::task::spawn_local(async move {
            let answer: Result<Workload, ApiError> = api::post::<(), _>(&path, None).await;
            failure.set(answer.err().map(|error| error.message()));
            pending.set(false);
            workloads.refresh();
        });
    };
    let state = if running {
        view! { <span class="text-xs font-semibold text-emerald-700">"● running"</span> }.into_any()
    } else {
        view! { <span class="text-xs text-slate-500">"stopped"</span> }.into_any()
    };
    view! {
        <li class="rounded-md border border-slate-200 p-3" data-testid=format!("workload-{}", workload.name)>
            <div class="flex items-center justify-between gap-2">
                <span class="font-mono text-sm font-semibold">{workload.name.clone()}</span>
                {state}
            </div>
            <p class="mt-1 text-xs text-slate-600">{workload.description.clone()}</p>
            <p class="mt-1 truncate font-mono text-xs text-slate-500" title=workload.statement.clone()>
                {workload.statement.clone()}
            </p>
            <button class=format!("mt-2 {button_class}") on:click=click disabled=move || pending.get()>
                {format!("{label} {}", workload.name)}
            </button>
        </li>
    }
}
