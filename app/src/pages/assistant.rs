//! The always-allow assistant, used in scenario beat 5. It explains the risk of letting DBAgent
//! build indexes on this server without asking, based on facts the runner measured, and proposes
//! limits. On confirmation, one request records the instruction and approves the current action.

use contracts::api::{GrantRequest, IssueDetail, RiskAssessment, RiskLevel, WindowRequest};
use contracts::{ApprovalDecision, Decision, Instruction};
use leptos::prelude::*;

use crate::api::{self, ApiError};
use crate::format;
use crate::live::Polled;

/// Bytes per megabyte in the form. It is 10^6, not 2^20, because the assistant's proposal uses
/// decimal megabytes.
const MB: u64 = 1_000_000;

#[component]
pub fn Assistant(
    issue_id: String,
    polled: Polled<IssueDetail>,
    on_close: Callback<()>,
) -> impl IntoView {
    let assessment = RwSignal::new(None::<Result<RiskAssessment, ApiError>>);
    let path = format!("/api/issues/{issue_id}/assessment");
    leptos::task::spawn_local(async move {
        let answer = api::get::<RiskAssessment>(&path).await;
        let _ = assessment.try_set(Some(answer));
    });
    let done = RwSignal::new(None::<ApprovalDecision>);
    view! {
        <div class="fixed inset-0 z-40 bg-slate-900/40" aria-hidden="true" on:click=move |_| on_close.run(())></div>
        <aside
            class="fixed inset-y-0 right-0 z-50 flex w-full max-w-xl flex-col bg-white shadow-2xl"
            role="dialog"
            aria-label="Always-allow assistant"
            data-testid="assistant"
        >
            <div class="flex items-center justify-between border-b border-slate-200 px-4 py-3">
                <h2 class="font-semibold">"Always allow index creation?"</h2>
                <button
                    class="rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-100"
                    on:click=move |_| on_close.run(())
                >
                    "Close"
                </button>
            </div>
            <div class="flex-1 space-y-3 overflow-y-auto px-4 py-4">
                {move || match assessment.get() {
                    None => view! { <AssistantMessage>"Gathering what the runner measured on this server…"</AssistantMessage> }.into_any(),
                    Some(Err(error)) => view! { <AssistantMessage concern=true>{error.message()}</AssistantMessage> }.into_any(),
                    Some(Ok(assessment)) => view! {
                        <Conversation assessment issue_id=issue_id.clone() polled done />
                    }.into_any(),
                }}
            </div>
        </aside>
    }
}

/// Renders one message from the assistant. `concern` highlights it as a warning.
#[component]
fn AssistantMessage(#[prop(optional)] concern: bool, children: Children) -> impl IntoView {
    let tone = if concern {
        "border-amber-200 bg-amber-50 text-amber-900"
    } else {
        "border-slate-200 bg-slate-50 text-slate-800"
    };
    view! {
        <div class=format!("mr-8 rounded-lg rounded-tl-none border px-3 py-2 text-sm {tone}") data-testid="assistant-says">
            {children()}
        </div>
    }
}

/// Renders one message from the person.
#[component]
fn PersonMessage(children: Children) -> impl IntoView {
    view! {
        <div class="ml-8 rounded-lg rounded-tr-none bg-sky-600 px-3 py-2 text-sm text-white">{children()}</div>
    }
}

#[component]
fn Conversation(
    assessment: RiskAssessment,
    issue_id: String,
    polled: Polled<IssueDetail>,
    done: RwSignal<Option<ApprovalDecision>>,
) -> impl IntoView {
    let level = match assessment.level {
        RiskLevel::Low => ("bg-emerald-100 text-emerald-800", "Low risk"),
        RiskLevel::Medium => ("bg-amber-100 text-amber-800", "Medium risk"),
        RiskLevel::High => ("bg-red-100 text-red-800", "High risk"),
    };
    let points = assessment
        .points
        .clone()
        .into_iter()
        .map(|point| {
            let topic = format!("{}: ", point.topic);
            view! {
                <AssistantMessage concern=point.concern>
                    <span class="font-semibold">{topic}</span>
                    {point.text}
                </AssistantMessage>
            }
        })
        .collect_view();
    let headline = assessment.headline.clone();
    view! {
        <AssistantMessage>
            <span class=format!("mr-2 rounded-full px-2 py-0.5 text-xs font-semibold {}", level.0) data-testid="risk-level">
                {level.1}
            </span>
            {headline}
        </AssistantMessage>
        {points}
        <AssistantMessage>"I propose these limits. Change any of them, then confirm."</AssistantMessage>
        <LimitsForm proposed=assessment.proposed.clone() issue_id polled done />
    }
}

/// Limits of the grant as editable form text, in megabytes and days rather than bytes and hours.
#[derive(Clone)]
struct Draft {
    schemas: RwSignal<String>,
    max_table_mb: RwSignal<String>,
    any_time: RwSignal<bool>,
    window_start: RwSignal<String>,
    window_end: RwSignal<String>,
    per_day: RwSignal<String>,
    expires_days: RwSignal<String>,
}

impl Draft {
    fn from(proposed: &GrantRequest) -> Draft {
        let window = proposed.limits.time_window.clone();
        Draft {
            schemas: RwSignal::new(proposed.scope.schemas.join(", ")),
            max_table_mb: RwSignal::new(
                proposed
                    .limits
                    .max_table_bytes
                    .map(|bytes| bytes.div_ceil(MB).to_string())
                    .unwrap_or_default(),
            ),
            any_time: RwSignal::new(window.is_none()),
            window_start: RwSignal::new(
                window.as_ref().map_or("01:00".into(), |w| w.start.clone()),
            ),
            window_end: RwSignal::new(window.as_ref().map_or("05:00".into(), |w| w.end.clone())),
            per_day: RwSignal::new(
                proposed
                    .limits
                    .max_actions_per_day
                    .map(|count| count.to_string())
                    .unwrap_or_default(),
            ),
            expires_days: RwSignal::new(
                proposed
                    .expires_in_hours
                    .map(|hours| (hours / 24).max(1).to_string())
                    .unwrap_or_default(),
            ),
        }
    }

    /// Parses the form into a grant request, or returns an error message that names the invalid
    /// field.
    fn grant(&self) -> Result<GrantRequest, String> {
        let number = |label: &str, text: String| -> Result<Option<u64>, String> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            match text.parse::<u64>() {
                Ok(value) if value > 0 => Ok(Some(value)),
                _ => Err(format!(
                    "{label}: {text:?} is invalid. Enter a whole number above 0, or leave it empty for no limit."
                )),
            }
        };
        let schemas = self
            .schemas
            .get_untracked()
            .split(',')
            .map(|schema| schema.trim().to_string())
            .filter(|schema| !schema.is_empty())
            .collect();
        let max_table_bytes = number("Largest table (MB)", self.max_table_mb.get_untracked())?
            .map(|mb| mb.saturating_mul(MB));
        let per_day = number("Builds per day", self.per_day.get_untracked())?;
        let expires_days = number("Expires after (days)", self.expires_days.get_untracked())?;
        let time_window = (!self.any_time.get_untracked()).then(|| WindowRequest {
            start: self.window_start.get_untracked().trim().to_string(),
            end: self.window_end.get_untracked().trim().to_string(),
        });
        Ok(GrantRequest {
            action: None,
            scope: contracts::api::ScopeRequest {
                server_id: None,
                schemas,
            },
            limits: contracts::api::LimitsRequest {
                max_table_bytes,
                time_window,
                max_actions_per_day: per_day.map(|count| u32::try_from(count).unwrap_or(u32::MAX)),
            },
            expires_at: None,
            expires_in_hours: expires_days
                .map(|days| u32::try_from(days.saturating_mul(24)).unwrap_or(u32::MAX)),
            actor: None,
        })
    }
}

const INPUT: &str = "mt-1 w-full rounded-md border border-slate-300 px-2 py-1.5 font-mono text-sm focus:border-sky-500 focus:outline-none";

#[component]
fn LimitsForm(
    proposed: GrantRequest,
    issue_id: String,
    polled: Polled<IssueDetail>,
    done: RwSignal<Option<ApprovalDecision>>,
) -> impl IntoView {
    let draft = Draft::from(&proposed);
    let failure = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let summary = RwSignal::new(None::<String>);
    let confirm = {
        let draft = draft.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let grant = match draft.grant() {
                Ok(grant) => grant,
                Err(problem) => {
                    failure.set(Some(problem));
                    return;
                }
            };
            summary.set(Some(describe(&grant)));
            pending.set(true);
            failure.set(None);
            let path = format!("/api/issues/{issue_id}/always-allow");
            leptos::task::spawn_local(async move {
                match api::post::<_, ApprovalDecision>(&path, Some(&grant)).await {
                    Ok(decision) => done.set(Some(decision)),
                    Err(error) => failure.set(Some(error.message())),
                }
                pending.set(false);
                polled.refresh();
            });
        }
    };
    let form = move || {
        done.with(|done| done.is_none()).then(|| {
            let draft = draft.clone();
            view! {
                <form class="space-y-3 rounded-lg border border-slate-200 p-3" on:submit=confirm.clone() data-testid="limits-form">
                    <label class="block text-sm">
                        "Schemas covered (comma-separated, empty for all schemas)"
                        <input class=INPUT name="schemas" bind:value=draft.schemas />
                    </label>
                    <div class="grid grid-cols-2 gap-3">
                        <label class="block text-sm">
                            "Largest table (MB)"
                            <input class=INPUT name="max_table_mb" inputmode="numeric" bind:value=draft.max_table_mb />
                        </label>
                        <label class="block text-sm">
                            "Builds per day"
                            <input class=INPUT name="per_day" inputmode="numeric" bind:value=draft.per_day />
                        </label>
                    </div>
                    <label class="flex items-center gap-2 text-sm">
                        <input type="checkbox" name="any_time" bind:checked=draft.any_time />
                        "Any time of day"
                    </label>
                    <Show when=move || !draft.any_time.get()>
                        <div class="grid grid-cols-2 gap-3">
                            <label class="block text-sm">
                                "Window start (UTC)"
                                <input class=INPUT name="window_start" bind:value=draft.window_start />
                            </label>
                            <label class="block text-sm">
                                "Window end (UTC)"
                                <input class=INPUT name="window_end" bind:value=draft.window_end />
                            </label>
                        </div>
                    </Show>
                    <label class="block text-sm">
                        "Expires after (days, empty for no expiry)"
                        <input class=INPUT name="expires_days" inputmode="numeric" bind:value=draft.expires_days />
                    </label>
                    <button
                        type="submit"
                        class="w-full rounded-md bg-violet-600 px-4 py-2 text-sm font-semibold text-white hover:bg-violet-500 disabled:opacity-50"
                        disabled=move || pending.get()
                    >
                        "Confirm: always allow and approve this index"
                    </button>
                </form>
            }
        })
    };
    view! {
        {form}
        {move || summary.get().map(|text| view! { <PersonMessage>{text}</PersonMessage> })}
        {move || failure.get().map(|text| view! { <AssistantMessage concern=true>{text}</AssistantMessage> })}
        {move || done.get().map(|decision| view! { <Done decision /> })}
    }
}

/// Summarizes the grant's limits in one sentence, shown as the person's reply in the
/// conversation.
fn describe(grant: &GrantRequest) -> String {
    let schemas = if grant.scope.schemas.is_empty() {
        "every schema".to_string()
    } else {
        format!("schema {}", grant.scope.schemas.join(", "))
    };
    let mut parts = vec![format!("Allow on {schemas}")];
    if let Some(bytes) = grant.limits.max_table_bytes {
        parts.push(format!("tables up to {} MB", bytes / MB));
    }
    match &grant.limits.time_window {
        Some(window) => parts.push(format!("between {} and {} UTC", window.start, window.end)),
        None => parts.push("at any time".into()),
    }
    if let Some(count) = grant.limits.max_actions_per_day {
        parts.push(format!("at most {count} builds a day"));
    }
    if let Some(hours) = grant.expires_in_hours {
        parts.push(format!("for {} days", hours / 24));
    }
    parts.join(", ") + "."
}

#[component]
fn Done(decision: ApprovalDecision) -> impl IntoView {
    let Decision::AlwaysAllow { instruction } = &decision.decision else {
        return view! { <AssistantMessage>"The API recorded a different decision for this issue, so no instruction was created."</AssistantMessage> }
            .into_any();
    };
    let recorded = recorded(instruction);
    let approved = format!(
        "I approved this index in your name ({}). The runner resumes now and builds it, and the run page shows the build's progress.",
        decision.decided_by
    );
    view! {
        <AssistantMessage>
            <p class="font-semibold" data-testid="assistant-done">"Done."</p>
            <p class="mt-1">{recorded}</p>
            <p class="mt-1">{approved}</p>
            <p class="mt-1">
                "From now on, the same kind of problem within these limits is fixed without asking. You can revoke it on the "
                <a href="/instructions" class="underline">"Instructions"</a>
                " page."
            </p>
        </AssistantMessage>
    }
    .into_any()
}

fn recorded(instruction: &Instruction) -> String {
    let expires = instruction
        .expires_at
        .map(|at| format!(", until {}", format::date_time(at)))
        .unwrap_or_default();
    format!(
        "I recorded instruction {}: create indexes on {}{}.",
        instruction.id, instruction.scope.server_id, expires
    )
}
