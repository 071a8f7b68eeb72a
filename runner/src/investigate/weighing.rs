//! Each proposed index weighed across the window's analyzed statements: what it saves or
//! costs the others, and an estimate of what it costs the writes to its table. A proposal that
//! raises another analyzed statement's planned cost by more than [`MAX_SLOWDOWN_PCT`] percent,
//! or whose estimated upkeep exceeds the execution time it saves, is withdrawn.

use contracts::ProposedAction;

use super::analyze::Analyzer;
use super::choice::reduction_pct;
use super::findings::{Finding, Verdict, describe};
use super::hypothetical::evaluate;
use super::snapshot::TableName;
use super::statement::ParsedStatement;

/// An index may make another statement's planned cost at most this much higher, in percent.
const MAX_SLOWDOWN_PCT: f64 = 10.0;

/// Time to add one entry to a btree index, in milliseconds: an assumed order of magnitude,
/// not measured on the target. An insertion into a cached leaf page is far cheaper, while one
/// that reads the page from disk or splits it costs more.
const MS_PER_INDEX_ENTRY: f64 = 0.01;

/// A cut of another statement's planned cost below this, in percent, is too small to count
/// as a saving.
const MIN_REPORTED_CUT_PCT: f64 = 0.5;

/// The effect of a proposed index on the other analyzed statements.
#[derive(Default)]
struct Effect {
    /// Execution time saved on the other statements, in milliseconds per second.
    saving_ms_per_second: f64,
    notes: Vec<String>,
    /// The reason to withdraw the index, when it raises another statement's planned cost by
    /// more than [`MAX_SLOWDOWN_PCT`] percent.
    harm: Option<String>,
}

impl Analyzer<'_> {
    /// Weighs every proposal across the analyzed statements, updates its estimated saving
    /// and notes, and withdraws it when it makes another statement too costly or its
    /// estimated upkeep exceeds its saving.
    pub async fn weigh_across_statements(
        &self,
        analyzed: &mut [(Finding, Option<ParsedStatement>)],
    ) {
        for position in 0..analyzed.len() {
            let Some(ProposedAction::CreateIndex(action)) =
                analyzed[position].0.proposed_action.clone()
            else {
                continue;
            };
            let table = TableName {
                schema: action.schema.clone(),
                name: action.table.clone(),
            };
            let effect = self
                .effect_on_others(analyzed, position, &action, &table)
                .await;
            weigh(&mut analyzed[position].0, effect, &table);
        }
    }

    async fn effect_on_others(
        &self,
        analyzed: &[(Finding, Option<ParsedStatement>)],
        position: usize,
        action: &contracts::CreateIndex,
        table: &TableName,
    ) -> Effect {
        let mut effect = Effect::default();
        for (other, parsed) in analyzed
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != position)
            .map(|(_, (finding, parsed))| (finding, parsed))
        {
            let (Some(parsed), Some(cost_before)) = (parsed, other.evidence.cost_before) else {
                continue;
            };
            if !names_table(parsed, table) {
                continue;
            }
            let label = match other.evidence.query_id {
                Some(query_id) => format!("statement {query_id}"),
                None => "another statement".to_string(),
            };
            let evaluated = evaluate(
                self.client,
                parsed,
                table,
                &action.keys,
                action.predicate.as_deref(),
                self.limits,
            )
            .await;
            let cost_after = match evaluated {
                Ok(evaluation) => evaluation.plan.total_cost,
                Err(error) => {
                    effect.notes.push(format!(
                        "Its effect on {label} could not be checked: {error}."
                    ));
                    continue;
                }
            };
            if cost_before <= 0.0 {
                continue;
            }
            let slowdown_pct = (cost_after - cost_before) / cost_before * 100.0;
            if slowdown_pct > MAX_SLOWDOWN_PCT {
                effect.harm = Some(format!(
                    "the index would make the planned cost of {label} {slowdown_pct:.1} % \
                     higher ({cost_before:.1} to {cost_after:.1}), more than the \
                     {MAX_SLOWDOWN_PCT:.0} % allowed: {}",
                    other.evidence.statement
                ));
                return effect;
            }
            let cut = reduction_pct(cost_before, cost_after);
            if cut >= MIN_REPORTED_CUT_PCT {
                let spent = other.evidence.mean_time_ms * other.evidence.calls_per_second;
                let saving = spent * cut / 100.0;
                effect.saving_ms_per_second += saving;
                effect.notes.push(format!(
                    "It also cuts the planned cost of {label} by {cut:.1} %: about \
                     {saving:.1} ms per second of that statement's execution time, if its time \
                     falls as its cost does."
                ));
            }
        }
        effect
    }
}

/// Checks whether a statement names the table, with its schema or without one.
fn names_table(parsed: &ParsedStatement, table: &TableName) -> bool {
    parsed.relations.iter().any(|relation| {
        relation.name == table.name
            && relation
                .schema
                .as_ref()
                .is_none_or(|schema| *schema == table.schema)
    })
}

/// Sets the total saving, states the upkeep on writes, and withdraws the proposal when it
/// harms another statement or costs more upkeep than it saves.
fn weigh(finding: &mut Finding, effect: Effect, table: &TableName) {
    let evidence = &mut finding.evidence;
    let own = evidence.estimated_saving_ms_per_second.unwrap_or_default();
    let saving = own + effect.saving_ms_per_second;
    evidence.estimated_saving_ms_per_second = Some(saving);
    evidence.notes.extend(effect.notes);

    let writes = evidence.table_writes_per_second.unwrap_or_default();
    let upkeep = writes * MS_PER_INDEX_ENTRY;
    let partial = matches!(
        &finding.proposed_action,
        Some(ProposedAction::CreateIndex(action)) if action.predicate.is_some()
    );
    evidence
        .notes
        .push(upkeep_note(table, writes, upkeep, saving, partial));

    let reason = match effect.harm {
        Some(harm) => Some(harm),
        None if upkeep > saving => Some(format!(
            "by an estimate of its upkeep, the index would cost about {upkeep:.2} ms per second \
             on the {writes:.1} row writes per second of {table}, more than the {saving:.1} ms \
             per second of execution time it saves"
        )),
        None => None,
    };
    let Some(reason) = reason else {
        return;
    };
    finding.verdict = Verdict::HarmsOtherStatements {
        table: table.to_string(),
        reason,
    };
    finding.proposed_action = None;
    let (title, summary) = describe(&finding.verdict, &finding.evidence, None);
    finding.title = title;
    finding.summary = summary;
}

/// States the upkeep estimate and what it overstates.
fn upkeep_note(table: &TableName, writes: f64, upkeep: f64, saving: f64, partial: bool) -> String {
    let mut note = format!(
        "Upkeep: {table} saw {writes:.1} row writes per second in the window. Counting each \
         as one new index entry at an assumed {MS_PER_INDEX_ENTRY} ms per entry gives an \
         estimated {upkeep:.2} ms of work per second, against about {saving:.1} ms per second \
         of execution time saved. The count overstates the entries: a delete adds none, and an \
         update adds one only when it is not a HOT update, that is when it changes an indexed \
         column or finds no room on its page."
    );
    if partial {
        note.push_str(" A partial index also gets entries only for rows that match its predicate.");
    }
    note
}

#[cfg(test)]
mod tests {
    use contracts::{CreateIndex, Evidence, IndexKey, Severity};

    use super::*;

    fn proposal(saving: f64, writes_per_second: f64) -> Finding {
        let key = IndexKey::Column {
            name: "customer_id".into(),
            descending: false,
        };
        let action = CreateIndex::new("public", "orders", vec![key], None);
        Finding {
            severity: Severity::High,
            title: "Missing index on public.orders".into(),
            summary: String::new(),
            evidence: Evidence {
                query_id: Some(7),
                estimated_saving_ms_per_second: Some(saving),
                table_writes_per_second: Some(writes_per_second),
                ..Evidence::default()
            },
            proposed_action: Some(ProposedAction::CreateIndex(action)),
            verdict: Verdict::IndexProposed,
            full_scan: None,
        }
    }

    fn orders() -> TableName {
        TableName {
            schema: "public".into(),
            name: "orders".into(),
        }
    }

    #[test]
    fn savings_on_other_statements_add_up() {
        let mut finding = proposal(300.0, 50.0);
        let effect = Effect {
            saving_ms_per_second: 20.0,
            ..Effect::default()
        };
        weigh(&mut finding, effect, &orders());
        assert_eq!(finding.verdict, Verdict::IndexProposed);
        assert_eq!(finding.evidence.estimated_saving_ms_per_second, Some(320.0));
        assert!(finding.evidence.notes[0].contains("50.0 row writes per second"));
    }

    #[test]
    fn harm_withdraws_the_proposal() {
        let mut finding = proposal(300.0, 0.0);
        let effect = Effect {
            harm: Some("statement 9 would cost 40 % more".into()),
            ..Effect::default()
        };
        weigh(&mut finding, effect, &orders());
        assert!(finding.proposed_action.is_none());
        assert!(matches!(
            finding.verdict,
            Verdict::HarmsOtherStatements { .. }
        ));
        assert!(
            finding.summary.contains("statement 9"),
            "{}",
            finding.summary
        );
    }

    #[test]
    fn upkeep_above_saving_withdraws_proposal() {
        let mut finding = proposal(2.0, 5_000.0);
        weigh(&mut finding, Effect::default(), &orders());
        assert!(finding.proposed_action.is_none());
        assert!(finding.summary.contains("upkeep"), "{}", finding.summary);
    }

    #[test]
    fn upkeep_note_states_estimate_and_partial_index() {
        let mut finding = proposal(300.0, 50.0);
        let key = IndexKey::Column {
            name: "customer_id".into(),
            descending: false,
        };
        let predicate = Some("status = 'open'".to_string());
        let action = CreateIndex::new("public", "orders", vec![key], predicate);
        finding.proposed_action = Some(ProposedAction::CreateIndex(action));
        weigh(&mut finding, Effect::default(), &orders());
        let note = &finding.evidence.notes[0];
        assert!(
            note.starts_with("Upkeep: public.orders saw 50.0 row writes"),
            "{note}"
        );
        assert!(
            note.contains("estimated 0.50 ms of work per second"),
            "{note}"
        );
        assert!(note.contains("match its predicate"), "{note}");
        assert_eq!(finding.verdict, Verdict::IndexProposed);
    }
}
