//! The overview page, used in scenario beat 1: each monitored server with its live CPU, the
//! open issues and the scenario controls.

use contracts::Issue;
use contracts::api::ServerOverview;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{Card, CpuChart, SeverityBadge, StatusBadge};
use crate::format;
use crate::live::{Polled, show};
use crate::pages::scenario::ScenarioControls;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let servers = Polled::<Vec<ServerOverview>>::new(|| "/api/servers".into());
    let issues = Polled::<Vec<Issue>>::new(|| "/api/issues".into());
    view! {
        <Title text="Overview" />
        <h1 class="mb-4 text-2xl font-semibold tracking-tight">"Overview"</h1>
        <div class="grid gap-4 lg:grid-cols-3">
            <div class="min-w-0 space-y-4 lg:col-span-2">
                {show(servers, "Reading servers…", |servers| {
                    if servers.is_empty() {
                        return view! {
                            <Card title="Servers">
                                <p class="text-slate-600">"No server is registered yet."</p>
                            </Card>
                        }
                            .into_any();
                    }
                    servers
                        .iter()
                        .map(|overview| view! { <ServerCard overview=overview.clone() /> })
                        .collect_view()
                        .into_any()
                })}
                <Card title="Open issues" id="open-issues">
                    {show(issues, "Reading issues…", |issues| view! { <OpenIssues issues=issues.clone() /> })}
                </Card>
            </div>
            <ScenarioControls />
        </div>
    }
}

#[component]
fn ServerCard(overview: ServerOverview) -> impl IntoView {
    let server = overview.server;
    let latest = overview.latest_cpu.map(|sample| sample.cpu_pct);
    let hot = latest.is_some_and(|cpu| cpu >= overview.cpu_threshold_pct);
    let cpu_class = if hot {
        "text-red-600"
    } else {
        "text-slate-900"
    };
    let cpu_text = latest.map_or("–".to_string(), format::percent);
    let state = if !server.agent_enabled {
        ("bg-slate-100 text-slate-600", "DBAgent disabled")
    } else if overview.open_issues > 0 {
        ("bg-amber-100 text-amber-800", "Issue open")
    } else if hot {
        ("bg-red-100 text-red-800", "Running hot")
    } else {
        ("bg-emerald-100 text-emerald-800", "DBAgent enabled")
    };
    let measured = overview
        .latest_cpu
        .map(|sample| format!("measured {}", format::clock(sample.at)))
        .unwrap_or_else(|| "waiting for the first measurement".into());
    view! {
        <section
            class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-5"
            data-testid="server-card"
        >
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div class="min-w-0">
                    <h2 class="text-lg font-semibold">{server.id.0.clone()}</h2>
                    <p class="truncate font-mono text-xs text-slate-500">{server.endpoint.clone()}</p>
                    <span class=format!(
                        "mt-2 inline-block rounded-full px-2.5 py-0.5 text-xs font-semibold {}",
                        state.0,
                    )>{state.1}</span>
                </div>
                <div class="text-right">
                    <div class="text-xs text-slate-500">
                        {format!("CPU of {} vCores", server.vcores)}
                    </div>
                    <div class=format!("font-mono text-3xl font-semibold {cpu_class}") data-testid="cpu-now">
                        {cpu_text}
                    </div>
                    <div class="text-xs text-slate-500">{measured}</div>
                </div>
            </div>
            <div class="mt-3">
                <CpuChart samples=overview.recent_cpu threshold_pct=overview.cpu_threshold_pct />
            </div>
        </section>
    }
}

#[component]
fn OpenIssues(issues: Vec<Issue>) -> impl IntoView {
    let open: Vec<Issue> = issues
        .into_iter()
        .filter(|issue| !issue.status.is_closed())
        .collect();
    if open.is_empty() {
        return view! {
            <p class="flex items-center gap-2 text-slate-600" data-testid="no-issues">
                <span class="inline-block h-2 w-2 rounded-full bg-emerald-500"></span>
                "No active issues"
            </p>
        }
        .into_any();
    }
    view! {
        <ul class="divide-y divide-slate-100">
            {open
                .into_iter()
                .map(|issue| {
                    let href = format!("/issues/{}", issue.id);
                    view! {
                        <li class="py-3">
                            <a href=href class="group block" data-testid="open-issue">
                                <div class="flex flex-wrap items-center gap-2">
                                    <SeverityBadge severity=issue.severity />
                                    <StatusBadge status=issue.status />
                                    <span class="text-xs text-slate-500">
                                        {format!("{} · {}", issue.server_id, format::clock(issue.created_at))}
                                    </span>
                                </div>
                                <p class="mt-1 font-medium text-slate-900 group-hover:text-sky-700">
                                    {issue.title.clone()}
                                </p>
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
        .into_any()
}
