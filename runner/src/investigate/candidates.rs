//! Candidate indexes for one table, built from the filters of a statement, and the check
//! against the indexes the table already has.

use contracts::IndexKey;

use super::catalog::{ExistingIndex, ExistingKey, TableInfo};
use super::expression::canonical_expression;
use super::statement::{Comparison, Filter, FilterTarget, ParsedStatement};

/// Maximum number of candidates evaluated per table, because each costs a planning round trip.
const MAX_CANDIDATES: usize = 20;

/// The filters of a statement that belong to one table.
///
/// An unqualified column in a statement over several tables belongs to the table that has it.
/// When more than one table has it, PostgreSQL would reject the statement as ambiguous, so the
/// filter is left out.
pub fn filters_for_table<'a>(
    statement: &'a ParsedStatement,
    tables: &[Option<TableInfo>],
    table: &TableInfo,
) -> Vec<&'a Filter> {
    statement
        .filters
        .iter()
        .filter(|filter| {
            let columns = target_columns(&filter.target);
            let owners: Vec<&TableInfo> = filter
                .relations
                .iter()
                .filter_map(|&index| tables.get(index).and_then(Option::as_ref))
                .filter(|info| info.has_columns(&columns))
                .collect();
            owners.len() == 1 && owners[0].oid == table.oid
        })
        .collect()
}

fn target_columns(target: &FilterTarget) -> Vec<&str> {
    match target {
        FilterTarget::Column(name) => vec![name.as_str()],
        FilterTarget::Expression { columns, .. } => columns.iter().map(String::as_str).collect(),
    }
}

/// Builds candidate key lists: every filtered column or expression alone, then combinations
/// with equality keys first and at most one range key last, because a btree can use the keys
/// after a range condition only as a filter.
pub fn build_candidates(filters: &[&Filter], max_columns: usize) -> Vec<Vec<FilterTarget>> {
    let mut equalities: Vec<&FilterTarget> = Vec::new();
    let mut ranges: Vec<&FilterTarget> = Vec::new();
    for filter in filters {
        let list = match filter.comparison {
            Comparison::Equality | Comparison::List => &mut equalities,
            Comparison::Range => &mut ranges,
        };
        if !list.contains(&&filter.target) {
            list.push(&filter.target);
        }
    }
    ranges.retain(|range| !equalities.contains(range));

    let mut candidates: Vec<Vec<FilterTarget>> = Vec::new();
    for width in 1..=max_columns.max(1) {
        for prefix in combinations(&equalities, width) {
            push_unique(&mut candidates, prefix.clone());
        }
        for prefix in combinations(&equalities, width - 1) {
            for range in &ranges {
                let mut keys = prefix.clone();
                keys.push((*range).clone());
                push_unique(&mut candidates, keys);
            }
        }
    }
    candidates.truncate(MAX_CANDIDATES);
    candidates
}

fn push_unique(candidates: &mut Vec<Vec<FilterTarget>>, keys: Vec<FilterTarget>) {
    if !keys.is_empty() && !candidates.contains(&keys) {
        candidates.push(keys);
    }
}

/// Returns the subsets of `items` with `size` elements, each in the items' order.
fn combinations(items: &[&FilterTarget], size: usize) -> Vec<Vec<FilterTarget>> {
    if size == 0 {
        return vec![Vec::new()];
    }
    let mut result = Vec::new();
    for (position, item) in items.iter().enumerate() {
        for mut rest in combinations(&items[position + 1..], size - 1) {
            rest.insert(0, (*item).clone());
            result.push(rest);
        }
    }
    result
}

/// Returns the valid, non-partial btree index whose leading keys equal the candidate's keys,
/// because such an index already serves every lookup the candidate would.
pub fn covering_index<'a>(
    table: &'a TableInfo,
    candidate: &[FilterTarget],
) -> Option<&'a ExistingIndex> {
    let expected: Vec<Option<ExistingKey>> = candidate
        .iter()
        .map(|target| existing_key(table, target))
        .collect();
    table.indexes.iter().find(|index| {
        index.valid
            && !index.partial
            && index.method == "btree"
            && index.keys.len() >= expected.len()
            && expected
                .iter()
                .zip(&index.keys)
                .all(|(key, existing)| key.as_ref() == Some(existing))
    })
}

fn existing_key(table: &TableInfo, target: &FilterTarget) -> Option<ExistingKey> {
    match target {
        FilterTarget::Column(name) => table.column_number(name).map(ExistingKey::Column),
        FilterTarget::Expression { sql, .. } => Some(ExistingKey::Expression(
            canonical_expression(sql).unwrap_or(sql.clone()),
        )),
    }
}

/// Converts candidate keys to the index keys of the proposed action.
pub fn index_keys(candidate: &[FilterTarget]) -> Vec<IndexKey> {
    candidate
        .iter()
        .map(|target| match target {
            FilterTarget::Column(name) => IndexKey::Column {
                name: name.clone(),
                descending: false,
            },
            FilterTarget::Expression { sql, .. } => IndexKey::Expression { sql: sql.clone() },
        })
        .collect()
}

/// Describes keys for notes and titles, such as `(account_ref, lower(email))`.
pub fn describe_keys(candidate: &[FilterTarget]) -> String {
    let keys: Vec<&str> = candidate
        .iter()
        .map(|target| match target {
            FilterTarget::Column(name) => name.as_str(),
            FilterTarget::Expression { sql, .. } => sql.as_str(),
        })
        .collect();
    format!("({})", keys.join(", "))
}

#[cfg(test)]
#[path = "candidates_tests.rs"]
mod tests;
