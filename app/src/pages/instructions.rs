//! The instructions page: each standing permission with its limits and creator, and a button
//! to revoke it.

use contracts::Instruction;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api;
use crate::components::Card;
use crate::format;
use crate::live::{Polled, show};

#[component]
pub fn InstructionsPage() -> impl IntoView {
    let instructions = Polled::<Vec<Instruction>>::new(|| "/api/instructions".into());
    view! {
        <Title text="Instructions" />
        <h1 class="mb-1 text-2xl font-semibold tracking-tight">"Instructions"</h1>
        <p class="mb-4 text-sm text-slate-600">
            "Standing permissions. DBAgent acts without asking when an active instruction covers the action and the action is within its limits at that moment."
        </p>
        {show(instructions, "Reading instructions…", move |list| {
            if list.is_empty() {
                return view! {
                    <Card title="None yet">
                        <p class="text-slate-600">"DBAgent asks before every action. Use Always allow… on an issue to add an instruction."</p>
                    </Card>
                }
                .into_any();
            }
            view! {
                <div class="space-y-3">
                    {list.iter().map(|instruction| view! { <InstructionCard instruction=instruction.clone() instructions /> }).collect_view()}
                </div>
            }
            .into_any()
        })}
    }
}

fn limits(instruction: &Instruction) -> Vec<(String, String)> {
    let limits = &instruction.limits;
    let schemas = if instruction.scope.schemas.is_empty() {
        "every schema".to_string()
    } else {
        instruction.scope.schemas.join(", ")
    };
    vec![
        ("Server".into(), instruction.scope.server_id.to_string()),
        ("Schemas".into(), schemas),
        (
            "Largest table".into(),
            limits
                .max_table_bytes
                .map_or("no limit".into(), format::bytes),
        ),
        (
            "Time window".into(),
            limits.time_window.map_or("any time".into(), |window| {
                format!(
                    "{}–{} UTC",
                    format::hours_minutes(window.start),
                    format::hours_minutes(window.end)
                )
            }),
        ),
        (
            "Builds per day".into(),
            limits
                .max_actions_per_day
                .map_or("no limit".into(), |count| count.to_string()),
        ),
        (
            "Expires".into(),
            instruction
                .expires_at
                .map_or("never".into(), format::date_time),
        ),
    ]
}

#[component]
fn InstructionCard(
    instruction: Instruction,
    instructions: Polled<Vec<Instruction>>,
) -> impl IntoView {
    let now = chrono::Utc::now();
    let (tone, state) = if let Some(by) = &instruction.revoked_by {
        ("bg-slate-100 text-slate-600", format!("Revoked by {by}"))
    } else if instruction.is_active(now) {
        ("bg-emerald-100 text-emerald-800", "Active".to_string())
    } else {
        ("bg-slate-100 text-slate-600", "Expired".to_string())
    };
    let active = instruction.is_active(now);
    let failure = RwSignal::new(None::<String>);
    let revoke_path = format!("/api/instructions/{}/revoke", instruction.id);
    let revoke = move |_| {
        let path = revoke_path.clone();
        leptos::task::spawn_local(async move {
            let answer = api::post::<(), Instruction>(&path, None).await;
            failure.set(answer.err().map(|error| error.message()));
            instructions.refresh();
        });
    };
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="instruction">
            <div class="flex flex-wrap items-center justify-between gap-2">
                <div>
                    <span class=format!("rounded-full px-2.5 py-0.5 text-xs font-semibold {tone}")>{state}</span>
                    <span class="ml-2 font-semibold">"Always allow index creation"</span>
                </div>
                {active.then(|| view! {
                    <button
                        class="rounded-md border border-red-300 px-3 py-1 text-sm font-medium text-red-700 hover:bg-red-50"
                        on:click=revoke.clone()
                    >
                        "Revoke"
                    </button>
                })}
            </div>
            <p class="mt-1 text-xs text-slate-500">
                {format!("Created by {} on {} · {}", instruction.created_by, format::date_time(instruction.created_at), instruction.id)}
            </p>
            <dl class="mt-3 grid grid-cols-2 gap-x-4 gap-y-2 text-sm sm:grid-cols-3">
                {limits(&instruction)
                    .into_iter()
                    .map(|(label, value)| view! {
                        <div><dt class="text-xs text-slate-500">{label}</dt><dd class="font-mono">{value}</dd></div>
                    })
                    .collect_view()}
            </dl>
            {move || failure.get().map(|text| view! { <p role="alert" class="mt-2 text-sm text-red-700">{text}</p> })}
        </section>
    }
}
