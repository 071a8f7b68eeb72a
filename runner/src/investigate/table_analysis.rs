//! The analysis of one sequentially scanned table of a statement: the checks that rule it
//! out, and the evaluation of its candidates.

use super::analyze::{Analyzer, TableOutcome, estimated_rows};
use super::candidates::{build_candidates, covering_index, filters_for_table};
use super::catalog::TableInfo;
use super::choice::{Choice, choose, reduction_pct};
use super::decision::alternative_note;
use super::findings::Verdict;
use super::hypothetical::evaluate;
use super::partitions::{partition_blocker, table_delta};
use super::plan::GenericPlan;
use super::shape_notes::{obstacle_reason, parameter_partial_note};
use super::statement::ParsedStatement;

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
            let kind = table.kind_name().to_string();
            notes.push(format!("{name} is a {kind}, which cannot have an index."));
            return Ok(TableOutcome::Rejected(Verdict::NotIndexable {
                table: name,
                kind,
            }));
        }
        if !table.may_build {
            let verdict = Verdict::NotOwner {
                table: name,
                owner: table.owner.clone(),
                role: table.role.clone(),
            };
            notes.push(format!(
                "No index was evaluated: {}. DBAgent never changes owners or grants itself \
                 roles.",
                verdict.explanation()
            ));
            return Ok(TableOutcome::Rejected(verdict));
        }
        if let Some(verdict) = partition_blocker(table, notes) {
            return Ok(TableOutcome::Rejected(verdict));
        }

        let filters = filters_for_table(parsed, tables, table);
        notes.extend(parameter_partial_note(&filters));
        let candidates = build_candidates(&filters, self.options.max_index_columns);
        if candidates.is_empty() {
            if let Some(reason) = obstacle_reason(parsed, tables, table) {
                notes.push(format!("No index is proposed on {name}: {reason}."));
                return Ok(TableOutcome::Rejected(Verdict::QueryShape {
                    table: name,
                    reason,
                }));
            }
            notes.push(format!(
                "The statement filters {name} on nothing a btree index serves: equality, IN, a \
                 range, or a function of a column."
            ));
            return Ok(TableOutcome::Rejected(Verdict::NoCandidate { table: name }));
        }

        let mut evaluated = Vec::new();
        let mut existing = None;
        for candidate in candidates {
            if let Some(index) = covering_index(table, &candidate) {
                notes.push(format!(
                    "An index on {name} {} would duplicate the existing index {}.",
                    candidate.describe(),
                    index.name
                ));
                existing.get_or_insert_with(|| index.name.clone());
                continue;
            }
            match evaluate(
                self.client,
                parsed,
                &table.name,
                &candidate.index_keys(),
                candidate.predicate.as_deref(),
                self.limits,
            )
            .await
            {
                Ok(evaluation) => evaluated.push(Choice {
                    table: table.clone(),
                    reduction_pct: reduction_pct(before.total_cost, evaluation.plan.total_cost),
                    candidate,
                    evaluation,
                }),
                Err(error) => notes.push(format!(
                    "The candidate {} on {name} could not be evaluated: {error}.",
                    candidate.describe()
                )),
            }
        }
        let outcome = self.pick(evaluated, existing, name.clone(), notes);
        // When the best index saves too little and the statement's shape defeats btree
        // indexes, the verdict names the shape, which is the cause, not the small saving.
        if let TableOutcome::Evaluated(choice) = &outcome
            && choice.reduction_pct < self.options.min_cost_reduction_pct
            && let Some(reason) = obstacle_reason(parsed, tables, table)
        {
            notes.push(format!("No index is proposed on {name}: {reason}."));
            return Ok(TableOutcome::Rejected(Verdict::QueryShape {
                table: name,
                reason,
            }));
        }
        Ok(outcome)
    }

    fn pick(
        &self,
        mut evaluated: Vec<Choice>,
        existing: Option<String>,
        table: String,
        notes: &mut Vec<String>,
    ) -> TableOutcome {
        let Some(position) = choose(
            &evaluated,
            self.options.narrower_within_pct,
            self.options.min_cost_reduction_pct,
        ) else {
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
        TableOutcome::Evaluated(Box::new(chosen))
    }

    /// Returns the verdict for a table below both size limits.
    fn too_small(&self, table: &TableInfo) -> Option<Verdict> {
        let delta = table_delta(self.deltas, table)?;
        let rows = estimated_rows(&delta);
        let pages = delta.current.pages.max(0) as u64;
        let small = rows < self.options.min_table_rows && pages < self.options.min_table_pages;
        small.then(|| Verdict::TableTooSmall {
            table: table.name.to_string(),
            rows,
            pages,
        })
    }
}
