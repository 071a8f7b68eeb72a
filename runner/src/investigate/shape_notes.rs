//! Notes on statement shapes that keep an index from helping, or a partial index from being
//! tried.

use super::candidates::TableFilters;
use super::catalog::TableInfo;
use super::literals::MIN_AGREEING_EXECUTIONS;
use super::statement::{Comparison, FilterTarget, ObstacleKind, ParsedStatement};

/// Explains why no partial index is tried for an `ORDER BY ... LIMIT` with an equality on a
/// parameter, the shape that a partial index would otherwise serve best.
pub(super) fn parameter_partial_note(filters: &TableFilters) -> Option<String> {
    if filters.order.is_empty() {
        return None;
    }
    let filter = filters.filters.iter().find(|filter| {
        filter.comparison == Comparison::Equality
            && filter.compares_parameter
            && matches!(filter.target, FilterTarget::Column(_))
    })?;
    let FilterTarget::Column(column) = &filter.target else {
        return None;
    };
    Some(format!(
        "No partial index WHERE {column} = <value> is tried: the statement compares {column} \
         with a parameter, and a generic plan cannot use a partial index whose predicate \
         depends on a parameter's value. The value is a parameter when the client or a \
         function binds it, or when pg_stat_activity did not show the same literal for it in \
         at least {MIN_AGREEING_EXECUTIONS} sampled executions."
    ))
}

/// Explains why the statement's shape keeps a btree index on `table` from helping, when one
/// of its obstacles reads that table. The explanation completes "No index is proposed: ...".
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
             narrow the rows before the join, and the existing indexes go unused. Splitting it \
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
                 only LIKE patterns with a fixed prefix, and only under the C collation or with \
                 the text_pattern_ops operator class. A trigram GIN index (pg_trgm) could serve \
                 it, but HypoPG cannot evaluate one, so it is unvalidated: it is not proposed \
                 here and never built under an always-allow rule"
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::candidates::filters_for_table;
    use crate::investigate::snapshot::TableName;
    use crate::investigate::statement::parse_statement;

    fn table(oid: u32, name: &str, columns: &[&str]) -> TableInfo {
        TableInfo {
            oid,
            name: TableName {
                schema: "public".into(),
                name: name.into(),
            },
            kind: "r".into(),
            owner: "app".into(),
            may_build: true,
            role: "app".into(),
            partition_of: None,
            partitions: Vec::new(),
            columns: (1..)
                .zip(columns)
                .map(|(number, column)| (number, column.to_string()))
                .collect(),
            indexes: Vec::new(),
        }
    }

    /// Returns the note for the `parcels` table of a statement over `parcels` and `depots`.
    fn note_for(query: &str) -> Option<String> {
        let parsed = parse_statement(query).unwrap();
        let parcels = table(1, "parcels", &["id", "zone", "sent", "depot"]);
        let depots = table(2, "depots", &["id", "city"]);
        let tables: Vec<Option<TableInfo>> = parsed
            .relations
            .iter()
            .map(|relation| match relation.name.as_str() {
                "depots" => Some(depots.clone()),
                _ => Some(parcels.clone()),
            })
            .collect();
        parameter_partial_note(&filters_for_table(&parsed, &tables, &parcels))
    }

    #[test]
    fn parameter_with_limited_order_gets_note() {
        let note =
            note_for("SELECT * FROM parcels WHERE zone = $1::text ORDER BY sent DESC LIMIT 20");
        let note = note.unwrap();
        assert!(
            note.starts_with("No partial index WHERE zone = <value>"),
            "{note}"
        );
        assert!(note.contains("at least 3 sampled executions"), "{note}");
    }

    #[test]
    fn literal_join_or_function_gets_no_note() {
        for query in [
            "SELECT * FROM parcels WHERE zone = 'north' ORDER BY sent DESC LIMIT 20",
            "SELECT * FROM parcels p, depots d WHERE p.zone = d.city ORDER BY p.sent LIMIT 20",
            "SELECT * FROM parcels WHERE zone = current_user ORDER BY sent LIMIT 20",
            "SELECT * FROM parcels WHERE zone = $1 ORDER BY sent",
        ] {
            assert_eq!(note_for(query), None, "{query}");
        }
    }
}
