//! The analysis of one sequentially scanned table of a statement, and the decision over all
//! of them.

use contracts::{CreateIndex, Evidence};

use super::analyze::{Analyzer, TableOutcome, estimated_rows};
use super::candidates::{
    build_candidates, covering_index, describe_keys, filters_for_table, index_keys,
};
use super::catalog::TableInfo;
use super::choice::{Choice, choose, reduction_pct};
use super::findings::Verdict;
use super::hypothetical::evaluate;
use super::plan::{GenericPlan, render_plan};
use super::statement::{FilterTarget, ParsedStatement};

/// Relation kinds an index can be built on: tables, partitioned tables, materialized views.
const INDEXABLE_KINDS: [&str; 3] = ["r", "p", "m"];

impl Analyzer<'_> {
    /// Evaluates the candidates for one table, or returns the verdict that rules it out.
    pub(super) async fn examine_table(
        &self,
        parsed: &ParsedStatement,
        tables: &[Option<TableInfo>],
        table: &TableInfo,
        before: &GenericPlan,
        notes: &mut Vec<String>,
    ) -> super::error::Result<TableOutcome> {
        let name = table.name.to_string();
        if let Some(verdict) = self.too_small(table) {
            notes.push(format!(
                "{name} is small enough that a sequential scan costs about as much as an index \
                 lookup, and an index would still cost upkeep on every write."
            ));
            return Ok(TableOutcome::Rejected(verdict));
        }
        if !INDEXABLE_KINDS.contains(&table.kind.as_str()) {
            notes.push(format!("{name} is not a table that can have an index."));
            return Ok(TableOutcome::Rejected(Verdict::NoCandidate { table: name }));
        }

        let filters = filters_for_table(parsed, tables, table);
        let candidates = build_candidates(&filters, self.options.max_index_columns);
        if candidates.is_empty() {
            notes.push(format!(
                "The statement filters {name} on nothing a btree index serves: equality, IN, a \
                 range, or a function of a column."
            ));
            return Ok(TableOutcome::Rejected(Verdict::NoCandidate { table: name }));
        }

        let mut evaluated = Vec::new();
        let mut existing = None;
        for keys in candidates {
            if let Some(index) = covering_index(table, &keys) {
                notes.push(format!(
                    "An index on {name} {} would duplicate the existing index {}.",
                    describe_keys(&keys),
                    index.name
                ));
                existing.get_or_insert_with(|| index.name.clone());
                continue;
            }
            match evaluate(
                self.client,
                parsed,
                &table.name,
                &index_keys(&keys),
                self.limits,
            )
            .await
            {
                Ok(evaluation) => evaluated.push(Choice {
                    table: table.clone(),
                    reduction_pct: reduction_pct(before.total_cost, evaluation.plan.total_cost),
                    keys,
                    evaluation,
                }),
                Err(error) => notes.push(format!(
                    "The candidate {} on {name} could not be evaluated: {error}.",
                    describe_keys(&keys)
                )),
            }
        }
        Ok(self.pick(evaluated, existing, name, notes))
    }

    fn pick(
        &self,
        mut evaluated: Vec<Choice>,
        existing: Option<String>,
        table: String,
        notes: &mut Vec<String>,
    ) -> TableOutcome {
        let Some(position) = choose(&evaluated, self.options.narrower_within_pct) else {
            return TableOutcome::Rejected(match existing {
                Some(index) => Verdict::IndexExists { table, index },
                None => Verdict::NoCandidate { table },
            });
        };
        let chosen = evaluated.swap_remove(position);
        for other in &evaluated {
            notes.push(alternative_note(
                &chosen,
                other,
                self.options.narrower_within_pct,
            ));
        }
        if let Some(index) = existing
            && chosen.reduction_pct < self.options.min_cost_reduction_pct
        {
            return TableOutcome::Rejected(Verdict::IndexExists { table, index });
        }
        TableOutcome::Evaluated(chosen)
    }

    /// Returns the verdict for a table below both size limits.
    fn too_small(&self, table: &TableInfo) -> Option<Verdict> {
        let delta = self.deltas.tables.get(&table.name)?;
        let rows = estimated_rows(delta);
        let pages = delta.current.pages.max(0) as u64;
        let small = rows < self.options.min_table_rows && pages < self.options.min_table_pages;
        small.then(|| Verdict::TableTooSmall {
            table: table.name.to_string(),
            rows,
            pages,
        })
    }

    /// Turns the best evaluated candidate, or the reasons against each table, into a verdict.
    pub(super) fn decide(
        &self,
        best: Option<Choice>,
        rejections: Vec<Verdict>,
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

        let table = best.table.name.to_string();
        if best.reduction_pct < self.options.min_cost_reduction_pct {
            evidence.notes.push(format!(
                "The best candidate, {table} {}, cuts the planned cost by {:.1} %, below the \
                 {:.0} % needed to propose it.",
                describe_keys(&best.keys),
                best.reduction_pct,
                self.options.min_cost_reduction_pct
            ));
            let best_reduction_pct = best.reduction_pct;
            return (
                Verdict::SavingTooSmall {
                    table,
                    best_reduction_pct,
                },
                None,
            );
        }
        let keys = index_keys(&best.keys);
        let action = CreateIndex::new(&best.table.name.schema, &best.table.name.name, keys, None);
        let mut notes = proposal_notes(&best, evidence);
        notes.append(&mut evidence.notes);
        evidence.notes = notes;
        (Verdict::IndexProposed, Some(action))
    }
}

/// Explains the proposal: what it replaces, what it saves and what it costs.
fn proposal_notes(best: &Choice, evidence: &Evidence) -> Vec<String> {
    let table = best.table.name.to_string();
    let keys = describe_keys(&best.keys);
    let cost_before = evidence.cost_before.unwrap_or_default();
    let mut notes = vec![format!(
        "The generic plan reads {table} with a sequential scan; with an index on {keys} its \
         estimated cost falls from {cost_before:.1} to {:.1} ({:.1} % less), as HypoPG's \
         hypothetical index shows.",
        best.evaluation.plan.total_cost, best.reduction_pct
    )];
    if best
        .keys
        .iter()
        .any(|key| matches!(key, FilterTarget::Expression { .. }))
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

fn alternative_note(chosen: &Choice, other: &Choice, within_pct: f64) -> String {
    let keys = describe_keys(&other.keys);
    if other.reduction_pct >= chosen.reduction_pct - within_pct
        && other.keys.len() > chosen.keys.len()
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
