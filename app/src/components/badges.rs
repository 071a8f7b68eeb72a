//! Coloured badges for severity, issue status, run state and resolution path.

use contracts::{IssueStatus, ResolutionPath, RunState, Severity};
use leptos::prelude::*;

use crate::format::{json_name, words};

const BASE: &str = "inline-flex items-center rounded-full px-2.5 py-0.5 text-xs font-semibold";

fn pill(tone: &str, text: String) -> impl IntoView + use<> {
    let class = format!("{BASE} {tone}");
    view! { <span class=class>{text}</span> }
}

#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    let tone = match severity {
        Severity::Critical => "bg-red-600 text-white",
        Severity::High => "bg-orange-100 text-orange-800",
        Severity::Medium => "bg-amber-100 text-amber-800",
        Severity::Low => "bg-slate-100 text-slate-700",
    };
    pill(tone, words(&json_name(severity)))
}

#[component]
pub fn StatusBadge(status: IssueStatus) -> impl IntoView {
    let tone = match status {
        IssueStatus::AwaitingApproval => "bg-amber-100 text-amber-800",
        IssueStatus::Approved | IssueStatus::Executing => "bg-sky-100 text-sky-800",
        IssueStatus::Resolved => "bg-emerald-100 text-emerald-800",
        IssueStatus::Skipped | IssueStatus::Open => "bg-slate-100 text-slate-700",
        IssueStatus::Failed => "bg-red-100 text-red-800",
    };
    pill(tone, words(&json_name(status)))
}

#[component]
pub fn RunStateBadge(state: RunState) -> impl IntoView {
    let tone = match state {
        RunState::Completed => "bg-emerald-100 text-emerald-800",
        RunState::Failed => "bg-red-100 text-red-800",
        RunState::AwaitingApproval => "bg-amber-100 text-amber-800",
        _ => "bg-sky-100 text-sky-800",
    };
    pill(tone, words(&json_name(state)))
}

/// Badge for how an incident ended: human-approved, autonomous, skipped or failed.
#[component]
pub fn PathBadge(path: ResolutionPath) -> impl IntoView {
    let (tone, text) = match path {
        ResolutionPath::HumanApproved { .. } => ("bg-sky-100 text-sky-800", "Human-approved"),
        ResolutionPath::Autonomous { .. } => ("bg-violet-100 text-violet-800", "Autonomous"),
        ResolutionPath::Skipped { .. } => ("bg-slate-100 text-slate-700", "Skipped"),
        ResolutionPath::Failed { .. } => ("bg-red-100 text-red-800", "Failed"),
    };
    pill(tone, text.to_string())
}
