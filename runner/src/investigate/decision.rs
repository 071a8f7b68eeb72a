//! The decision over the evaluated candidates of a statement: propose the best, or say why
//! not, with the notes that explain it.

use contracts::{CreateIndex, Evidence};

use super::analyze::{Analyzer, estimated_rows};
use super::catalog::TableInfo;
use super::choice::Choice;
use super::findings::Verdict;
use super::plan::{GenericPlan, parallel_divisor, render_plan, seq_scans};
use super::statement::FilterTarget;

/// A filter that keeps at least this share of a table's rows is too unselective for an index
/// to beat a sequential scan.
const LOW_SELECTIVITY_PCT: f64 = 10.0;

impl Analyzer<'_> {
    /// Turns the best evaluated candidate, or the reasons against each table, into a verdict.
    pub(super) fn decide(
        &self,
        best: Option<Choice>,
        rejections: Vec<Verdict>,
        before: &GenericPlan,
        evidence: &mut Evidence,
    ) -> (Verdict, Option<CreateIndex>) {
        let Some(best) = best else {
            let verdict = rejections
                .into_iter()
                .next()
                .unwrap_or(Verdict::NoSequentialScan);
            return (verdict, None);
        };
        self.fill_table_evidence(evidence, &best.table);
        evidence.plan_with_index = Some(render_plan(&best.evaluation.plan));
        evidence.cost_with_index = Some(best.evaluation.plan.total_cost);
        evidence.cost_reduction_pct = Some(best.reduction_pct);
        evidence.estimated_index_bytes = Some(best.evaluation.index_bytes.max(0) as u64);
        // The statement's execution time per second of the window, cut by the planned share.
        evidence.estimated_saving_ms_per_second =
            Some(evidence.mean_time_ms * evidence.calls_per_second * best.reduction_pct / 100.0);

        let table = best.table.name.to_string();
        if best.reduction_pct < self.options.min_cost_reduction_pct {
            evidence.notes.push(format!(
                "The best candidate, {table} {}, cuts the planned cost by {:.1} %, below the \
                 {:.0} % needed to propose it.",
                best.candidate.describe(),
                best.reduction_pct,
                self.options.min_cost_reduction_pct
            ));
            if let Some(rows_kept_pct) = self.rows_kept_pct(before, &best.table)
                && rows_kept_pct >= LOW_SELECTIVITY_PCT
            {
                return (
                    Verdict::LowSelectivity {
                        table,
                        rows_kept_pct,
                    },
                    None,
                );
            }
            let best_reduction_pct = best.reduction_pct;
            return (
                Verdict::SavingTooSmall {
                    table,
                    best_reduction_pct,
                },
                None,
            );
        }
        let action = CreateIndex::new(
            &best.table.name.schema,
            &best.table.name.name,
            best.candidate.index_keys(),
            best.candidate.predicate.clone(),
        );
        let mut notes = proposal_notes(&best, evidence);
        notes.append(&mut evidence.notes);
        evidence.notes = notes;
        (Verdict::IndexProposed, Some(action))
    }

    /// Returns the share of the table's rows that the plan's sequential scan of it keeps, by
    /// the planner's estimates.
    fn rows_kept_pct(&self, plan: &GenericPlan, table: &TableInfo) -> Option<f64> {
        let rows = estimated_rows(self.deltas.tables.get(&table.name)?) as f64;
        let scan = seq_scans(plan)
            .into_iter()
            .find(|scan| scan.schema == table.name.schema && scan.relation == table.name.name)?;
        let processes = if scan.parallel_aware {
            parallel_divisor(plan)
        } else {
            1.0
        };
        (rows > 0.0).then(|| (scan.plan_rows * processes / rows * 100.0).min(100.0))
    }
}

/// Explains the proposal: what it replaces, what it saves and what it costs.
fn proposal_notes(best: &Choice, evidence: &Evidence) -> Vec<String> {
    let table = best.table.name.to_string();
    let keys = best.candidate.describe();
    let cost_before = evidence.cost_before.unwrap_or_default();
    let mut notes = vec![format!(
        "The plan reads {table} with a sequential scan; with an index on {keys} its \
         estimated cost falls from {cost_before:.1} to {:.1} ({:.1} % less), as HypoPG's \
         hypothetical index shows.",
        best.evaluation.plan.total_cost, best.reduction_pct
    )];
    if best
        .candidate
        .keys
        .iter()
        .any(|key| matches!(key.target, FilterTarget::Expression { .. }))
    {
        notes.push(format!(
            "The statement filters on an expression, so only an index on the same expression \
             {keys} can serve it; a plain index on the column cannot."
        ));
    }
    let megabytes = best.evaluation.index_bytes as f64 / (1024.0 * 1024.0);
    let writes = evidence.table_writes_per_second.unwrap_or_default();
    notes.push(format!(
        "Cost: about {megabytes:.1} MiB of disk by HypoPG's estimate, and upkeep on each of the \
         {writes:.1} row writes per second the table saw in the window. CREATE INDEX \
         CONCURRENTLY takes a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes go on \
         but waits for transactions older than the build."
    ));
    notes
}

pub(super) fn alternative_note(chosen: &Choice, other: &Choice, within_pct: f64) -> String {
    let keys = other.candidate.describe();
    if other.reduction_pct >= chosen.reduction_pct - within_pct
        && other.candidate.keys.len() > chosen.candidate.keys.len()
    {
        return format!(
            "An index on {keys} cuts the cost by {:.1} %, within {within_pct:.0} points of the \
             proposed one, but has more keys to store and maintain.",
            other.reduction_pct
        );
    }
    format!(
        "An index on {keys} was tried and cuts the cost by {:.1} %, less than the proposed one.",
        other.reduction_pct
    )
}
