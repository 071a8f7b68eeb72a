//! The timeline page, used in scenario beat 7: every incident with how it was resolved, and the
//! autonomy progression at a glance. Incident cards are listed newest first.

use contracts::{Issue, ResolutionPath, Run, TimelineEvent};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{Card, PathBadge, StatusBadge};
use crate::format;
use crate::live::Polled;

#[component]
pub fn TimelinePage() -> impl IntoView {
    let issues = Polled::<Vec<Issue>>::new(|| "/api/issues".into());
    let runs = Polled::<Vec<Run>>::new(|| "/api/runs".into());
    let events = Polled::<Vec<TimelineEvent>>::new(|| "/api/timeline".into());
    let content = move || {
        let (Some(issues), Some(runs), Some(events)) =
            (issues.value.get(), runs.value.get(), events.value.get())
        else {
            return crate::components::Placeholder("Reading incidents…").into_any();
        };
        match (issues, runs, events) {
            (Ok(issues), Ok(runs), Ok(events)) => {
                let incidents = incidents(issues, &runs, &events);
                view! { <Incidents incidents /> }.into_any()
            }
            (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
                crate::components::ErrorNote(error.message()).into_any()
            }
        }
    };
    view! {
        <Title text="Timeline" />
        <h1 class="mb-4 text-2xl font-semibold tracking-tight">"Timeline"</h1>
        {content}
    }
}

/// An issue with the run that found it and the events of that run.
#[derive(Clone)]
struct Incident {
    issue: Issue,
    run: Option<Run>,
    events: Vec<TimelineEvent>,
}

/// Pairs every issue with its run and events, oldest first, so that the progression reads left
/// to right.
fn incidents(mut issues: Vec<Issue>, runs: &[Run], events: &[TimelineEvent]) -> Vec<Incident> {
    issues.sort_by_key(|issue| issue.created_at);
    issues
        .into_iter()
        .map(|issue| Incident {
            run: runs.iter().find(|run| run.id == issue.run_id).cloned(),
            events: events
                .iter()
                .filter(|event| event.run_id == Some(issue.run_id))
                .cloned()
                .collect(),
            issue,
        })
        .collect()
}

#[component]
fn Incidents(incidents: Vec<Incident>) -> impl IntoView {
    if incidents.is_empty() {
        return view! {
            <Card title="Incidents"><p class="text-slate-600">"No incidents yet."</p></Card>
        }
        .into_any();
    }
    view! {
        <Progression incidents=incidents.clone() />
        <div class="mt-4 space-y-4">
            {incidents
                .into_iter()
                .enumerate()
                .rev()
                .map(|(index, incident)| view! { <IncidentCard number=index + 1 incident /> })
                .collect_view()}
        </div>
    }
    .into_any()
}

fn path_name(issue: &Issue) -> &'static str {
    match issue.resolution.as_ref().map(|resolution| &resolution.path) {
        Some(ResolutionPath::HumanApproved { .. }) => "human-approved",
        Some(ResolutionPath::Autonomous { .. }) => "autonomous",
        Some(ResolutionPath::Skipped { .. }) => "skipped",
        Some(ResolutionPath::Failed { .. }) => "failed",
        None => "open",
    }
}

/// Renders one dot per incident, oldest first and coloured by resolution path, and the count of
/// each path.
#[component]
fn Progression(incidents: Vec<Incident>) -> impl IntoView {
    let names = ["human-approved", "autonomous", "skipped", "failed", "open"];
    let counts = names
        .iter()
        .map(|name| {
            let count = incidents
                .iter()
                .filter(|incident| path_name(&incident.issue) == *name)
                .count();
            format!("{count} {name}")
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let dot = |name: &str| match name {
        "human-approved" => "bg-sky-500",
        "autonomous" => "bg-violet-500",
        "failed" => "bg-red-500",
        _ => "bg-slate-400",
    };
    view! {
        <Card title="Autonomy progression" id="progression">
            <ol class="flex flex-wrap items-center gap-2" data-testid="progression">
                {incidents
                    .iter()
                    .enumerate()
                    .map(|(index, incident)| {
                        let name = path_name(&incident.issue);
                        view! {
                            <li class="flex items-center gap-2">
                                {(index > 0).then(|| view! { <span class="text-slate-300">"→"</span> })}
                                <span class=format!("inline-flex h-7 min-w-7 items-center justify-center rounded-full px-2 text-xs font-bold text-white {}", dot(name)) title=name>
                                    {format!("{} {}", index + 1, name)}
                                </span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
            <p class="mt-2 text-xs text-slate-500">{counts}</p>
        </Card>
    }
}

#[component]
fn IncidentCard(number: usize, incident: Incident) -> impl IntoView {
    let issue = incident.issue;
    let alert_at = incident.run.as_ref().map(|run| run.created_at);
    let detection = incident
        .events
        .iter()
        .find(|event| event.kind == contracts::TimelineEventKind::AlertFired)
        .map(|event| event.message.clone());
    let mut figures: Vec<(&str, String)> = Vec::new();
    if let Some(since) = incident
        .run
        .as_ref()
        .and_then(|run| run.over_threshold_since)
        && let Some(alert_at) = alert_at
    {
        figures.push((
            "Time to detect",
            format::seconds(format::seconds_between(since, alert_at)),
        ));
    }
    if let Some(alert_at) = alert_at {
        figures.push(("Alert", format::clock(alert_at)));
        figures.push((
            "Diagnosed in",
            format::seconds(format::seconds_between(alert_at, issue.created_at)),
        ));
    }
    if let Some(resolution) = &issue.resolution {
        if let Some(alert_at) = alert_at {
            figures.push((
                "Resolved in",
                format::seconds(format::seconds_between(alert_at, resolution.resolved_at)),
            ));
        }
        if let Some(cpu) = format::before_after(
            resolution.cpu_before_pct,
            resolution.cpu_after_pct,
            format::percent,
        ) {
            figures.push(("CPU", cpu));
        }
        if let Some(mean) = format::before_after(
            resolution.mean_time_before_ms,
            resolution.mean_time_after_ms,
            format::millis,
        ) {
            figures.push(("Mean time", mean));
        }
    }
    let decision = issue
        .resolution
        .as_ref()
        .map(|resolution| match &resolution.path {
            ResolutionPath::HumanApproved { approved_by } => format!("Approved by {approved_by}"),
            ResolutionPath::Autonomous { instruction_id } => {
                format!("No human involved: instruction {instruction_id}")
            }
            ResolutionPath::Skipped { skipped_by } => format!("Skipped by {skipped_by}"),
            ResolutionPath::Failed { reason } => reason.clone(),
        });
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="incident">
            <div class="flex flex-wrap items-center gap-2">
                <span class="text-sm font-bold text-slate-400">{format!("#{number}")}</span>
                {issue.resolution.clone().map(|resolution| view! { <PathBadge path=resolution.path /> })}
                <StatusBadge status=issue.status />
                <a href=format!("/issues/{}", issue.id) class="min-w-0 font-semibold text-slate-900 hover:text-sky-700">
                    {issue.title.clone()}
                </a>
            </div>
            {detection.map(|text| view! { <p class="mt-1 text-sm text-slate-600">{format!("Detected: {text}")}</p> })}
            {decision.map(|text| view! { <p class="mt-1 text-sm text-slate-600">{text}</p> })}
            <dl class="mt-3 grid grid-cols-2 gap-x-4 gap-y-2 sm:grid-cols-4">
                {figures.into_iter().map(|(label, value)| view! {
                    <div><dt class="text-xs text-slate-500">{label}</dt><dd class="font-mono font-semibold">{value}</dd></div>
                }).collect_view()}
            </dl>
            <details class="mt-3">
                <summary class="cursor-pointer text-xs text-slate-500">{format!("{} events", incident.events.len())}</summary>
                <ol class="mt-2 space-y-1">
                    {incident.events.iter().map(|event| view! {
                        <li class="text-xs"><span class="font-mono text-slate-500">{format::clock(event.at)}</span>" "{event.message.clone()}</li>
                    }).collect_view()}
                </ol>
            </details>
        </section>
    }
}
