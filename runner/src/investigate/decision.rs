//! The decision over the evaluated candidates of a statement: the proposal of the chosen
//! candidate, or the verdict that explains why none is proposed, with the notes behind it.

use contracts::{CreateIndex, Evidence};

use super::analyze::{Analyzer, estimated_rows};
use super::catalog::TableInfo;
use super::choice::Choice;
use super::findings::Verdict;
use super::partitions::{build_note, indexed_partitions, table_delta};
use super::plan::{GenericPlan, parallel_divisor, render_plan, seq_scans};
use super::statement::FilterTarget;

/// A scan that keeps at least this share of a table's rows, in percent, is taken as too
/// unselective for an index to beat a sequential scan. It is a rule of thumb: the break-even
/// point depends on row width and on how the rows are laid out.
const LOW_SELECTIVITY_PCT: f64 = 10.0;

impl Analyzer<'_> {
    /// Turns the chosen candidate, or the reasons against each table, into a verdict.
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
        // An estimate: the statement's execution time per second of the window, scaled by the
        // planned cost cut, as if time fell as cost does.
        evidence.estimated_saving_ms_per_second =
            Some(evidence.mean_time_ms * evidence.calls_per_second * best.reduction_pct / 100.0);

        let table = best.table.name.to_string();
        if best.reduction_pct < self.options.min_cost_reduction_pct {
            evidence.notes.push(format!(
                "The chosen candidate, {table} {}, cuts the planned cost by {:.1} %, below the \
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
        let mut action = CreateIndex::new(
            &best.table.name.schema,
            &best.table.name.name,
            best.candidate.index_keys(),
            best.candidate.predicate.clone(),
        );
        let mut notes = proposal_notes(&best, evidence);
        if best.table.kind == "p" {
            notes.push(build_note(&best.table, &action.index_name));
            let partitions = indexed_partitions(&best.table, &action.index_name);
            action = action.with_partitions(partitions);
        }
        notes.append(&mut evidence.notes);
        evidence.notes = notes;
        (Verdict::IndexProposed, Some(action))
    }

    /// Returns the share of the table's rows that the plan's sequential scan of it keeps, by
    /// the planner's estimates.
    fn rows_kept_pct(&self, plan: &GenericPlan, table: &TableInfo) -> Option<f64> {
        let rows = estimated_rows(&table_delta(self.deltas, table)?) as f64;
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
    let scan = match best.table.kind.as_str() {
        "p" => format!("the partitions of {table} with sequential scans"),
        _ => format!("{table} with a sequential scan"),
    };
    let mut notes = vec![format!(
        "The plan reads {scan}. With a hypothetical index on {keys}, \
         created by HypoPG, the statement's estimated cost falls from {cost_before:.1} to \
         {:.1} ({:.1} % less).",
        best.evaluation.plan.total_cost, best.reduction_pct
    )];
    if best
        .candidate
        .keys
        .iter()
        .any(|key| matches!(key.target, FilterTarget::Expression { .. }))
    {
        notes.push(format!(
            "The statement filters on an expression, so only an index on that expression, as \
             in {keys}, can serve it. A plain index on the column cannot."
        ));
    }
    let megabytes = megabytes(best.evaluation.index_bytes);
    let writes = evidence.table_writes_per_second.unwrap_or_default();
    notes.push(format!(
        "Cost: about {megabytes:.1} MB of disk by HypoPG's estimate, and upkeep on each of the \
         {writes:.1} row writes per second the table saw in the window. CREATE INDEX \
         CONCURRENTLY takes a SHARE UPDATE EXCLUSIVE lock, which lets reads and writes go on \
         but waits for transactions older than the build."
    ));
    notes
}

/// Converts bytes to decimal megabytes, the unit the dashboard shows sizes in.
fn megabytes(bytes: i64) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// Explains why another evaluated candidate was not proposed, following the rule of
/// [`super::choice::choose`]: fewer keys, then a smaller index, within a few points of the
/// largest cut.
pub(super) fn alternative_note(chosen: &Choice, other: &Choice, within_pct: f64) -> String {
    let keys = other.candidate.describe();
    let cut = other.reduction_pct;
    if cut >= chosen.reduction_pct - within_pct
        && other.candidate.keys.len() > chosen.candidate.keys.len()
    {
        return format!(
            "An index on {keys} cuts the cost by {cut:.1} %, within {within_pct:.0} points of \
             the proposed one, but has more keys to store and maintain."
        );
    }
    if cut >= chosen.reduction_pct {
        return format!(
            "An index on {keys} cuts the cost by {cut:.1} %, within {within_pct:.0} points of \
             the proposed one, but with as many keys it is no smaller by HypoPG's estimate \
             ({:.1} MB against {:.1} MB).",
            megabytes(other.evaluation.index_bytes),
            megabytes(chosen.evaluation.index_bytes)
        );
    }
    format!(
        "An index on {keys} was tried and cuts the cost by {cut:.1} %, less than the proposed one."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::candidates::{Candidate, Key};
    use crate::investigate::hypothetical::Evaluation;
    use crate::investigate::snapshot::TableName;

    fn choice(columns: &[&str], reduction_pct: f64, index_bytes: i64) -> Choice {
        Choice {
            table: TableInfo {
                oid: 1,
                name: TableName {
                    schema: "public".into(),
                    name: "t".into(),
                },
                kind: "r".into(),
                owner: "app".into(),
                may_build: true,
                role: "app".into(),
                partition_of: None,
                partitions: Vec::new(),
                columns: Vec::new(),
                indexes: Vec::new(),
            },
            candidate: Candidate {
                keys: columns
                    .iter()
                    .map(|column| Key {
                        target: FilterTarget::Column(column.to_string()),
                        descending: false,
                    })
                    .collect(),
                predicate: None,
            },
            evaluation: Evaluation {
                plan: GenericPlan {
                    json: serde_json::Value::Null,
                    total_cost: 1.0,
                },
                index_bytes,
            },
            reduction_pct,
        }
    }

    #[test]
    fn alternative_with_more_keys() {
        let chosen = choice(&["a"], 96.0, 1 << 20);
        let note = alternative_note(&chosen, &choice(&["a", "b"], 99.0, 2 << 20), 5.0);
        assert!(note.contains("more keys"), "{note}");
    }

    #[test]
    fn alternative_of_same_width_but_larger() {
        let chosen = choice(&["a"], 96.0, 1_000_000);
        let note = alternative_note(&chosen, &choice(&["b"], 97.0, 3_000_000), 5.0);
        assert!(note.contains("no smaller"), "{note}");
        assert!(note.contains("3.0 MB against 1.0 MB"), "{note}");
        assert!(!note.contains("less than"), "{note}");
    }

    #[test]
    fn alternative_with_smaller_cut() {
        let chosen = choice(&["a", "b"], 98.0, 2 << 20);
        let note = alternative_note(&chosen, &choice(&["a"], 60.0, 1 << 20), 5.0);
        assert!(note.contains("less than the proposed one"), "{note}");
    }
}
