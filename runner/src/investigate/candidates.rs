//! Candidate indexes for one table, built from the filters of a statement, and the check
//! against the indexes the table already has.

use contracts::IndexKey;

use super::catalog::{ExistingIndex, ExistingKey, TableInfo};
use super::expression::canonical_expression;
use super::statement::{Comparison, Filter, FilterTarget, OrderKey, ParsedStatement};

/// Maximum number of candidates evaluated per table, because each costs a planning round trip.
const MAX_CANDIDATES: usize = 20;

/// Returns the filters and `ORDER BY` keys of a statement that belong to one table.
///
/// An unqualified column in a statement over several tables belongs to the table that has it.
/// When more than one table has it, PostgreSQL would reject the statement as ambiguous, so the
/// filter is left out.
pub fn filters_for_table<'a>(
    statement: &'a ParsedStatement,
    tables: &[Option<TableInfo>],
    table: &TableInfo,
) -> TableFilters<'a> {
    let belongs = |relations: &[usize], target: &FilterTarget| {
        let columns = target_columns(target);
        let owners: Vec<&TableInfo> = relations
            .iter()
            .filter_map(|&index| tables.get(index).and_then(Option::as_ref))
            .filter(|info| info.has_columns(&columns))
            .collect();
        owners.len() == 1 && owners[0].oid == table.oid
    };
    let filters = statement
        .filters
        .iter()
        .filter(|filter| belongs(&filter.relations, &filter.target))
        .collect();
    let order_is_ours = statement
        .limited_order
        .iter()
        .all(|key| belongs(&key.relations, &key.target));
    let order: &[OrderKey] = if order_is_ours {
        &statement.limited_order
    } else {
        &[]
    };
    TableFilters { filters, order }
}

fn target_columns(target: &FilterTarget) -> Vec<&str> {
    match target {
        FilterTarget::Column(name) => vec![name.as_str()],
        FilterTarget::Expression { columns, .. } => columns.iter().map(String::as_str).collect(),
    }
}

/// A candidate index: its keys in order, and the predicate of a partial index.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub keys: Vec<Key>,
    /// `WHERE` clause of a partial index, without qualifiers, such as `role = 'admin'`.
    pub predicate: Option<String>,
}

/// One key of a candidate index.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub target: FilterTarget,
    pub descending: bool,
}

impl Candidate {
    fn plain(targets: Vec<FilterTarget>) -> Candidate {
        Candidate {
            keys: targets
                .into_iter()
                .map(|target| Key {
                    target,
                    descending: false,
                })
                .collect(),
            predicate: None,
        }
    }

    /// Describes the candidate for notes and titles, such as
    /// `(created_at DESC) WHERE role = 'admin'`.
    pub fn describe(&self) -> String {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|key| {
                let name = match &key.target {
                    FilterTarget::Column(name) => name.as_str(),
                    FilterTarget::Expression { sql, .. } => sql.as_str(),
                };
                if key.descending {
                    format!("{name} DESC")
                } else {
                    name.to_string()
                }
            })
            .collect();
        match &self.predicate {
            Some(predicate) => format!("({}) WHERE {predicate}", keys.join(", ")),
            None => format!("({})", keys.join(", ")),
        }
    }

    /// Converts the keys to those of the proposed action.
    pub fn index_keys(&self) -> Vec<IndexKey> {
        self.keys
            .iter()
            .map(|key| match &key.target {
                FilterTarget::Column(name) => IndexKey::Column {
                    name: name.clone(),
                    descending: key.descending,
                },
                FilterTarget::Expression { sql, .. } => IndexKey::Expression { sql: sql.clone() },
            })
            .collect()
    }
}

/// The filters and `ORDER BY` keys of a statement that belong to one table: the input of the
/// candidate search.
pub struct TableFilters<'a> {
    pub filters: Vec<&'a Filter>,
    /// The statement's `ORDER BY` under a `LIMIT`, when all its keys belong to this table.
    pub order: &'a [OrderKey],
}

/// Builds at most [`MAX_CANDIDATES`] candidates for one table:
///
/// - every filtered column or expression alone;
/// - equality keys in every order, with at most one range key last, because a btree can use
///   the keys after a range condition only as a filter;
/// - the `ORDER BY` keys, alone or after equality keys, when a `LIMIT` lets an index in that
///   order stop the scan early;
/// - for each equality with a literal, the same lists over the other filters as partial
///   indexes with that equality as predicate.
///
/// When there are more, the ranks that `priority` gives decide which are kept.
pub fn build_candidates(table: &TableFilters, max_columns: usize) -> Vec<Candidate> {
    let mut candidates = key_lists(&table.filters, table.order, max_columns)
        .into_iter()
        .map(Candidate::plain)
        .collect::<Vec<_>>();
    apply_order_directions(&mut candidates, table.order);

    for filter in &table.filters {
        let Some(predicate) = &filter.literal_predicate else {
            continue;
        };
        let others: Vec<&Filter> = table
            .filters
            .iter()
            .copied()
            .filter(|other| other.target != filter.target)
            .collect();
        let mut partial: Vec<Candidate> = key_lists(&others, table.order, max_columns)
            .into_iter()
            .map(Candidate::plain)
            .collect();
        apply_order_directions(&mut partial, table.order);
        for mut candidate in partial {
            candidate.predicate = Some(predicate.clone());
            push_unique(&mut candidates, candidate);
        }
    }

    let ranks: Vec<u8> = (0..candidates.len())
        .map(|position| priority(&candidates, position, table.order))
        .collect();
    let mut ranked: Vec<(u8, Candidate)> = ranks.into_iter().zip(candidates).collect();
    // A stable sort keeps the order of generation within a rank: fewer keys first, and the
    // statement's own order of filters first.
    ranked.sort_by_key(|(rank, _)| *rank);
    ranked
        .into_iter()
        .take(MAX_CANDIDATES)
        .map(|(_, candidate)| candidate)
        .collect()
}

/// Ranks a candidate for the cap of [`MAX_CANDIDATES`]: the lower the rank, the sooner it is
/// kept. The first ordering of each set of keys comes before the other orderings, which matter
/// only to other statements that could use a different leading key. Among first orderings,
/// plain single keys (or the `ORDER BY` keys alone) come first, then candidates that end with
/// the `ORDER BY` keys, then plain multi-key candidates, then the other partial candidates.
fn priority(candidates: &[Candidate], position: usize, order: &[OrderKey]) -> u8 {
    let candidate = &candidates[position];
    let first_ordering = !candidates[..position]
        .iter()
        .any(|earlier| same_key_set(earlier, candidate));
    if !first_ordering {
        return 4;
    }
    let order_targets: Vec<&FilterTarget> = order.iter().map(|key| &key.target).collect();
    let key_targets: Vec<&FilterTarget> = candidate.keys.iter().map(|key| &key.target).collect();
    let single = key_targets.len() == 1 || key_targets == order_targets;
    let serves_order = !order_targets.is_empty() && key_targets.ends_with(&order_targets);
    match (candidate.predicate.is_some(), single, serves_order) {
        (false, true, _) => 0,
        (_, _, true) => 1,
        (false, false, false) => 2,
        (true, _, false) => 3,
    }
}

/// Checks whether two candidates have the same predicate and the same keys in any order.
fn same_key_set(a: &Candidate, b: &Candidate) -> bool {
    a.predicate == b.predicate
        && a.keys.len() == b.keys.len()
        && a.keys.iter().all(|key| b.keys.contains(key))
}

fn key_lists(
    filters: &[&Filter],
    order: &[OrderKey],
    max_columns: usize,
) -> Vec<Vec<FilterTarget>> {
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
    let order: Vec<FilterTarget> = order
        .iter()
        .map(|key| key.target.clone())
        .filter(|target| !equalities.contains(&target))
        .collect();

    let width = max_columns.max(1);
    let mut lists: Vec<Vec<FilterTarget>> = Vec::new();
    let mut push = |keys: Vec<FilterTarget>| {
        if !keys.is_empty() && keys.len() <= width && !lists.contains(&keys) {
            lists.push(keys);
        }
    };
    for size in 1..=width {
        for keys in permutations(&equalities, size) {
            push(keys);
        }
        for prefix in permutations(&equalities, size - 1) {
            for range in &ranges {
                let mut keys = prefix.clone();
                keys.push((*range).clone());
                push(keys);
            }
            if !order.is_empty() {
                let mut keys = prefix.clone();
                keys.extend(order.iter().cloned());
                push(keys);
            }
        }
    }
    lists
}

/// Gives the `ORDER BY` keys of each candidate the statement's directions.
fn apply_order_directions(candidates: &mut [Candidate], order: &[OrderKey]) {
    for candidate in candidates {
        for key in &mut candidate.keys {
            if let Some(order_key) = order.iter().find(|o| o.target == key.target) {
                key.descending = order_key.descending;
            }
        }
    }
}

fn push_unique(candidates: &mut Vec<Candidate>, candidate: Candidate) {
    if !candidate.keys.is_empty() && !candidates.contains(&candidate) {
        candidates.push(candidate);
    }
}

/// Returns the ordered selections of `size` distinct items: every combination in every
/// order, because the best leading key depends on the other statements that could use it.
fn permutations(items: &[&FilterTarget], size: usize) -> Vec<Vec<FilterTarget>> {
    if size == 0 {
        return vec![Vec::new()];
    }
    let mut result = Vec::new();
    for (position, item) in items.iter().enumerate() {
        let rest: Vec<&FilterTarget> = items
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != position)
            .map(|(_, item)| *item)
            .collect();
        for mut tail in permutations(&rest, size - 1) {
            tail.insert(0, (*item).clone());
            result.push(tail);
        }
    }
    result
}

/// Returns the valid btree index that already serves every lookup the candidate would. Its
/// leading keys equal the candidate's keys, with default operator classes and the same
/// predicate (or none on both). Its key directions are the same or all reversed, because a
/// btree scans both ways.
pub fn covering_index<'a>(
    table: &'a TableInfo,
    candidate: &Candidate,
) -> Option<&'a ExistingIndex> {
    let expected: Vec<Option<ExistingKey>> = candidate
        .keys
        .iter()
        .map(|key| existing_key(table, &key.target))
        .collect();
    let predicate = candidate
        .predicate
        .as_ref()
        .map(|sql| canonical_expression(sql).unwrap_or(sql.clone()));
    table.indexes.iter().find(|index| {
        index.valid
            && index.method == "btree"
            && index.default_operator_classes
            && index.predicate == predicate
            && index.keys.len() >= expected.len()
            && expected
                .iter()
                .zip(&index.keys)
                .all(|(key, existing)| key.as_ref() == Some(existing))
            && same_directions(candidate, index)
    })
}

/// Checks that the index's leading keys sort as the candidate's do, or all the other way.
fn same_directions(candidate: &Candidate, index: &ExistingIndex) -> bool {
    let pairs: Vec<(bool, bool)> = candidate
        .keys
        .iter()
        .zip(&index.descending)
        .map(|(key, &descending)| (key.descending, descending))
        .collect();
    pairs.iter().all(|(wanted, has)| wanted == has)
        || pairs.iter().all(|(wanted, has)| wanted != has)
}

fn existing_key(table: &TableInfo, target: &FilterTarget) -> Option<ExistingKey> {
    match target {
        FilterTarget::Column(name) => table.column_number(name).map(ExistingKey::Column),
        FilterTarget::Expression { sql, .. } => Some(ExistingKey::Expression(
            canonical_expression(sql).unwrap_or(sql.clone()),
        )),
    }
}

#[cfg(test)]
#[path = "candidates_tests.rs"]
mod tests;
