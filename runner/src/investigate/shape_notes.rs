//! Notes on statement shapes that keep an index from helping, or a partial index from being
//! tried.

use super::candidates::TableFilters;
use super::catalog::TableInfo;
use super::statement::{Comparison, FilterTarget, ObstacleKind, ParsedStatement};

/// Says why no partial index is tried for an `ORDER BY ... LIMIT` filtered by a parameter,
/// the shape where a partial index would otherwise be the natural answer.
pub(super) fn parameter_partial_note(filters: &TableFilters) -> Option<String> {
    if filters.order.is_empty() {
        return None;
    }
    let filter = filters.filters.iter().find(|filter| {
        filter.comparison == Comparison::Equality
            && filter.literal_predicate.is_none()
            && matches!(filter.target, FilterTarget::Column(_))
    })?;
    let FilterTarget::Column(column) = &filter.target else {
        return None;
    };
    Some(format!(
        "No partial index WHERE {column} = <value> is tried: the client passes {column} as a \
         parameter, and the generic plan of a prepared statement cannot use a partial index \
         whose predicate depends on a parameter's value."
    ))
}

/// Explains why the statement's shape keeps a btree index on `table` from helping, when one
/// of its obstacles reads that table.
pub(super) fn obstacle_reason(
    parsed: &ParsedStatement,
    tables: &[Option<TableInfo>],
    table: &TableInfo,
) -> Option<String> {
    let is_this_table = |index: &usize| {
        tables
            .get(*index)
            .and_then(Option::as_ref)
            .is_some_and(|info| info.oid == table.oid)
    };
    let obstacle = parsed
        .obstacles
        .iter()
        .find(|obstacle| obstacle.relations.iter().any(is_this_table))?;
    Some(match &obstacle.kind {
        ObstacleKind::OrAcrossTables { tables } => format!(
            "the statement joins conditions on {} with OR, so an index on one table cannot \
             narrow the rows before the join, and the existing indexes go unused; splitting it \
             into a UNION of one query per condition lets each use its index",
            tables.join(" and ")
        ),
        ObstacleKind::PatternMatch {
            column,
            case_insensitive,
            leading_wildcard,
        } => {
            let operator = if *case_insensitive { "ILIKE" } else { "LIKE" };
            let pattern = match leading_wildcard {
                Some(true) => "a pattern that starts with a wildcard",
                Some(false) => "a pattern",
                None => "a pattern known only at run time, which may start with a wildcard",
            };
            format!(
                "it matches {column} with {operator} against {pattern}, and a btree index serves \
                 only case-sensitive patterns with a fixed prefix. A trigram GIN index \
                 (pg_trgm) could serve it, but HypoPG cannot evaluate one, so it is \
                 unvalidated: it is not proposed here and never built under an always-allow \
                 rule"
            )
        }
    })
}
