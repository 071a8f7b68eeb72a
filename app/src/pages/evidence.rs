//! Cards for an issue's evidence, its proposed action and the risk facts the runner measured.

use contracts::{ActionKind, Evidence, ProposedAction, RiskFacts};
use leptos::prelude::*;

use crate::components::{Card, Code, Fact};
use crate::format;

#[component]
pub fn EvidenceCard(evidence: Evidence) -> impl IntoView {
    let opt = |value: Option<String>| value.unwrap_or_else(|| "–".into());
    let facts = vec![
        ("Calls", format::rate(evidence.calls_per_second)),
        ("Mean time", format::millis(evidence.mean_time_ms)),
        ("Share of time", format::percent(evidence.share_of_time_pct)),
        ("Rows per call", format!("{:.1}", evidence.rows_per_call)),
        (
            "Sequential scans",
            opt(evidence.seq_scans_in_window.map(format::count)),
        ),
        ("Table", opt(evidence.table.clone())),
        (
            "Table size",
            opt(evidence.table_size_bytes.map(format::bytes)),
        ),
        ("Table rows", opt(evidence.table_rows.map(format::count))),
        (
            "Table writes",
            opt(evidence.table_writes_per_second.map(format::rate)),
        ),
        ("Window", format::seconds(evidence.window_seconds)),
    ];
    let reduction = evidence.cost_reduction_pct.map(|pct| {
        format!(
            "Estimated cost {} → {}: {:.1} % lower with the index",
            opt(evidence.cost_before.map(|cost| format!("{cost:.1}"))),
            opt(evidence.cost_with_index.map(|cost| format!("{cost:.1}"))),
            pct
        )
    });
    view! {
        <Card title="Evidence" id="evidence">
            <p class="mb-2 text-xs text-slate-500">
                "The statement as pg_stat_statements records it. The figures below cover the alert window."
            </p>
            <Code text=evidence.statement.clone() wrap=true />
            <dl class="mt-4 grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-3 lg:grid-cols-5">
                {facts
                    .into_iter()
                    .map(|(label, value)| view! { <Fact label value /> })
                    .collect_view()}
            </dl>
            {reduction.map(|text| view! {
                <p class="mt-4 rounded-md bg-emerald-50 px-3 py-2 text-sm font-medium text-emerald-800" data-testid="cost-reduction">
                    {text}
                </p>
            })}
            <div class="mt-4 space-y-4">
                {evidence.plan_before.clone().map(|plan| view! {
                    <div class="min-w-0">
                        <h3 class="mb-1 text-sm font-semibold">"Plan now"</h3>
                        <Code text=plan />
                    </div>
                })}
                {evidence.plan_with_index.clone().map(|plan| view! {
                    <div class="min-w-0">
                        <h3 class="mb-1 text-sm font-semibold">"Plan with the index (HypoPG, hypothetical)"</h3>
                        <Code text=plan />
                    </div>
                })}
            </div>
            {(!evidence.notes.is_empty()).then(|| view! {
                <h3 class="mt-4 mb-1 text-sm font-semibold">"Why this index"</h3>
                <ul class="list-disc space-y-1 pl-5 text-sm text-slate-700">
                    {evidence.notes.iter().map(|note| view! { <li>{note.clone()}</li> }).collect_view()}
                </ul>
            })}
        </Card>
    }
}

#[component]
pub fn ActionCard(action: ProposedAction, estimated_index_bytes: Option<u64>) -> impl IntoView {
    let size = estimated_index_bytes
        .map(|bytes| format!("HypoPG estimates the index at {}.", format::bytes(bytes)));
    let during = match action.kind() {
        ActionKind::CreateIndex => "Reads and writes on the table continue during the build. ",
        ActionKind::DropIndex => {
            "Reads and writes on the table continue during the drop. The index brought no gain, so the drop removes only the work it adds to every write and the disk space it takes. "
        }
    };
    view! {
        <Card title="Proposed action" id="proposed-action">
            <Code text=action.ddl().to_string() wrap=true />
            <p class="mt-2 text-sm text-slate-600">
                "The runner sends it as a single statement in autocommit mode, with lock_timeout and statement_timeout set. "
                {during}
                {size}
            </p>
        </Card>
    }
}

#[component]
pub fn RiskCard(risk: RiskFacts) -> impl IntoView {
    let disk = risk.disk.map(|disk| {
        format!(
            "{} free of {}",
            format::bytes(disk.free_bytes),
            format::bytes(disk.total_bytes)
        )
    });
    let build = risk
        .build_estimate
        .as_ref()
        .map(|estimate| format::seconds(estimate.seconds));
    let basis = risk
        .build_estimate
        .as_ref()
        .map(|estimate| estimate.basis.clone());
    let replicas = if risk.replicas.is_empty() {
        "none".to_string()
    } else {
        risk.replicas
            .iter()
            .map(|replica| format!("{} ({})", replica.application_name, replica.sync_state))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let facts = vec![
        ("Database size", format::bytes(risk.database_bytes)),
        (
            "Disk",
            disk.unwrap_or_else(|| "not visible to the runner".into()),
        ),
        (
            "Estimated build",
            build.unwrap_or_else(|| "not measured".into()),
        ),
        (
            "maintenance_work_mem",
            risk.maintenance_work_mem_bytes
                .map(format::setting_size)
                .unwrap_or_else(|| "–".into()),
        ),
        ("Standbys", replicas),
        (
            "Role",
            if risk.in_recovery {
                "standby"
            } else {
                "primary"
            }
            .to_string(),
        ),
    ];
    view! {
        <Card title="Risk facts" id="risk-facts">
            <dl class="grid grid-cols-2 gap-x-4 gap-y-3 sm:grid-cols-3">
                {facts.into_iter().map(|(label, value)| view! { <Fact label value /> }).collect_view()}
            </dl>
            {basis.map(|text| view! { <p class="mt-3 text-xs text-slate-500">{text}</p> })}
            <h3 class="mt-4 mb-1 text-sm font-semibold">"Largest tables"</h3>
            <div class="overflow-x-auto">
                <table class="w-full text-left text-sm">
                    <thead class="text-xs text-slate-500">
                        <tr><th class="py-1 pr-4 font-medium">"Table"</th><th class="py-1 pr-4 font-medium">"Total size"</th><th class="py-1 pr-4 font-medium">"Rows"</th><th class="py-1 font-medium">"Writes"</th></tr>
                    </thead>
                    <tbody class="font-mono">
                        {risk.largest_tables.iter().map(|table| view! {
                            <tr class="border-t border-slate-100">
                                <td class="py-1 pr-4">{table.name.clone()}</td>
                                <td class="py-1 pr-4">{format::bytes(table.total_bytes)}</td>
                                <td class="py-1 pr-4">{format::count(table.rows)}</td>
                                <td class="py-1">{table.writes_per_second.map(format::rate).unwrap_or_else(|| "–".into())}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </Card>
    }
}
