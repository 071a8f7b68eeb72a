//! The issue page, used in scenario beats 4 and 5: an issue's evidence, the proposed action and
//! the decision on it.

use contracts::api::IssueDetail;
use contracts::{
    ActionKind, ApprovalDecision, Decision, IssueId, IssueStatus, Resolution, ResolutionPath,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{self, ApiError};
use crate::components::{Card, PathBadge, SeverityBadge, StatusBadge};
use crate::format;
use crate::live::{Polled, show};
use crate::pages::assistant::Assistant;
use crate::pages::evidence::{ActionCard, EvidenceCard, RiskCard};

#[component]
pub fn IssuePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|params| params.get("id").unwrap_or_default());
    let detail = Polled::<IssueDetail>::new(move || format!("/api/issues/{}", id()));
    detail.follow_path();
    let assistant_open = RwSignal::new(false);
    view! {
        <Title text="Issue" />
        {show(detail, "Reading the issue…", move |current| {
            view! { <IssueView detail=current.clone() polled=detail assistant_open /> }
        })}
        // The assistant sits outside the polled view, so that a new poll response does not reset
        // the conversation.
        {move || assistant_open.get().then(|| view! {
            <Assistant issue_id=id() polled=detail on_close=Callback::new(move |()| assistant_open.set(false)) />
        })}
    }
}

#[component]
fn IssueView(
    detail: IssueDetail,
    polled: Polled<IssueDetail>,
    assistant_open: RwSignal<bool>,
) -> impl IntoView {
    let issue = detail.issue;
    let awaiting = issue.status == IssueStatus::AwaitingApproval;
    let run_href = format!("/runs/{}", issue.run_id);
    let evidence = issue.evidence.clone();
    let risk = evidence.risk.clone();
    let action = issue.proposed_action.clone();
    // The always-allow assistant assesses index builds only.
    let assisted = action
        .as_ref()
        .is_some_and(|action| action.kind() == ActionKind::CreateIndex);
    view! {
        <div class="mb-4">
            <div class="flex flex-wrap items-center gap-2">
                <SeverityBadge severity=issue.severity />
                <span data-testid="issue-status"><StatusBadge status=issue.status /></span>
                <span class="text-xs text-slate-500">
                    {format!("{} · opened {}", issue.server_id, format::date_time(issue.created_at))}
                </span>
                <a href=run_href class="text-xs text-sky-700 underline">"Run"</a>
            </div>
            <h1 class="mt-2 text-2xl font-semibold tracking-tight">{issue.title.clone()}</h1>
            <p class="mt-2 max-w-3xl text-slate-700">{issue.summary.clone()}</p>
        </div>
        <div class="grid gap-4 lg:grid-cols-3">
            <div class="min-w-0 space-y-4 lg:col-span-2">
                <EvidenceCard evidence=evidence.clone() />
                {action.clone().map(|action| view! {
                    <ActionCard action estimated_index_bytes=evidence.estimated_index_bytes />
                })}
                {risk.map(|risk| view! { <RiskCard risk /> })}
            </div>
            // This column comes first on a phone, so that the decision is not below a screenful of
            // evidence.
            <div class="order-first min-w-0 space-y-4 lg:order-none">
                <Card title="Decision" id="decision">
                    {awaiting.then(|| view! { <DecisionButtons issue_id=issue.id polled assistant_open assisted /> })}
                    {detail.decision.map(|decision| view! { <DecisionNote decision /> })}
                    {(!awaiting && action.is_none()).then(|| view! {
                        <p class="text-sm text-slate-600">"No action is proposed. The summary above explains why."</p>
                    })}
                </Card>
                {issue.resolution.map(|resolution| view! { <Outcome resolution /> })}
            </div>
        </div>
    }
}

#[component]
fn DecisionButtons(
    issue_id: IssueId,
    polled: Polled<IssueDetail>,
    assistant_open: RwSignal<bool>,
    assisted: bool,
) -> impl IntoView {
    let pending = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let decide = move |verb: &'static str| {
        pending.set(true);
        leptos::task::spawn_local(async move {
            let path = format!("/api/issues/{issue_id}/{verb}");
            let answer: Result<ApprovalDecision, ApiError> = api::post::<(), _>(&path, None).await;
            failure.set(answer.err().map(|error| error.message()));
            pending.set(false);
            polled.refresh();
        });
    };
    view! {
        <p class="mb-3 text-sm text-slate-600">"DBAgent waits for your decision before it changes anything."</p>
        <div class="flex flex-wrap gap-2">
            <button
                class="rounded-md bg-emerald-600 px-4 py-2 text-sm font-semibold text-white hover:bg-emerald-500 disabled:opacity-50"
                disabled=move || pending.get()
                on:click=move |_| decide("approve")
            >
                "Approve"
            </button>
            <button
                class="rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-semibold text-slate-800 hover:bg-slate-50 disabled:opacity-50"
                disabled=move || pending.get()
                on:click=move |_| decide("skip")
            >
                "Skip"
            </button>
            {assisted.then(|| view! {
                <button
                    class="rounded-md bg-violet-600 px-4 py-2 text-sm font-semibold text-white hover:bg-violet-500 disabled:opacity-50"
                    disabled=move || pending.get()
                    on:click=move |_| assistant_open.set(true)
                >
                    "Always allow…"
                </button>
            })}
        </div>
        {(!assisted).then(|| view! {
            <p class="mt-3 text-sm text-slate-600">"The always-allow assistant covers index builds only. An instruction for index drops can be granted through the API."</p>
        })}
        {move || failure.get().map(|text| view! { <p role="alert" class="mt-3 text-sm text-red-700">{text}</p> })}
    }
}

#[component]
fn DecisionNote(decision: ApprovalDecision) -> impl IntoView {
    let verdict = match &decision.decision {
        Decision::Approve => "Approved".to_string(),
        Decision::Skip => "Skipped".to_string(),
        Decision::AlwaysAllow { instruction } => {
            format!(
                "Approved and always allowed (instruction {})",
                instruction.id
            )
        }
    };
    view! {
        <p class="text-sm" data-testid="decision-note">
            <span class="font-semibold">{verdict}</span>
            {format!(" by {} at {}", decision.decided_by, format::clock(decision.decided_at))}
        </p>
    }
}

#[component]
fn Outcome(resolution: Resolution) -> impl IntoView {
    let by = match &resolution.path {
        ResolutionPath::HumanApproved { approved_by } => format!("approved by {approved_by}"),
        ResolutionPath::Autonomous { instruction_id } => {
            format!("under instruction {instruction_id}")
        }
        ResolutionPath::Skipped { skipped_by } => format!("skipped by {skipped_by}"),
        ResolutionPath::Failed { reason } => reason.clone(),
    };
    let cpu = format::before_after(
        resolution.cpu_before_pct,
        resolution.cpu_after_pct,
        format::percent,
    )
    .map(|change| format!("CPU {change}"));
    let mean = format::before_after(
        resolution.mean_time_before_ms,
        resolution.mean_time_after_ms,
        format::millis,
    )
    .map(|change| format!("Mean time {change}"));
    view! {
        <Card title="Outcome" id="outcome">
            <div class="flex items-center gap-2">
                <PathBadge path=resolution.path.clone() />
                <span class="text-xs text-slate-500">{format::clock(resolution.resolved_at)}</span>
            </div>
            <p class="mt-2 text-sm text-slate-700">{by}</p>
            {cpu.map(|text| view! { <p class="mt-2 font-mono text-lg font-semibold" data-testid="cpu-before-after">{text}</p> })}
            {mean.map(|text| view! { <p class="font-mono text-sm">{text}</p> })}
        </Card>
    }
}
