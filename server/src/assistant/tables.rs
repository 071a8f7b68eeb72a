//! The issue's table, and the largest tables that a permission on its schema would cover.

use contracts::{IndexKey, RiskFacts, TableFacts};

use super::format::{bytes, count, rate};
use super::{Facts, Finding};

pub(super) fn issue_table(facts: &Facts) -> Finding {
    let table = &facts.table;
    let evidence = facts.evidence;
    let size = match facts.table_bytes {
        Some(size) => format!("{} without indexes", bytes(size)),
        None => "an unrecorded size".to_string(),
    };
    let rows = match evidence.table_rows {
        Some(rows) => format!("about {} rows (planner estimate)", count(rows)),
        None => "an unrecorded number of rows".to_string(),
    };
    let writes = match evidence.table_writes_per_second {
        Some(writes) => format!(
            "During the investigation, {} rows were written to it per second.",
            rate(writes)
        ),
        None => "Its write rate was not measured.".to_string(),
    };
    let columns = match key_columns(&facts.action.keys) {
        Some(columns) => columns,
        None => "a column that the index reads".to_string(),
    };
    let mut text = format!(
        "{table} holds {size} and {rows}. {writes} The new index adds work to every INSERT, and \
         to every UPDATE that changes {columns}, which can then no longer be a HOT update."
    );
    if facts.table_bytes.is_some() {
        return Finding::info("Table", text);
    }
    text.push_str(
        " Without the table's size, the proposed size limit falls back to a default and the \
         disk needed cannot be checked against it.",
    );
    Finding::caution("Table", text)
}

/// Names the indexed columns, or `None` when a key is an expression.
fn key_columns(keys: &[IndexKey]) -> Option<String> {
    let mut names = Vec::new();
    for key in keys {
        match key {
            IndexKey::Column { name, .. } => names.push(name.as_str()),
            IndexKey::Expression { .. } => return None,
        }
    }
    Some(names.join(", "))
}

/// Describes the database's largest table and the largest one in the issue's schema, which a
/// permission on that schema covers unless `max_table_bytes` leaves it out.
pub(super) fn largest(facts: &Facts, risk: &RiskFacts, max_table_bytes: Option<u64>) -> Finding {
    let schema = &facts.action.schema;
    let Some(top) = risk.largest_tables.first() else {
        let text = format!(
            "The runner listed none of the database's tables, so the tables that a permission \
             on schema {schema} covers are unknown."
        );
        return Finding::caution("Largest table", text);
    };

    let mut text = if top.name == facts.table {
        format!(
            "{} is the largest table in the database ({} with indexes, of {} in all).",
            top.name,
            bytes(top.total_bytes),
            bytes(risk.database_bytes)
        )
    } else {
        format!(
            "The largest table in the database is {} ({} with indexes, about {} rows), of {} in \
             all.",
            top.name,
            bytes(top.total_bytes),
            count(top.rows),
            bytes(risk.database_bytes)
        )
    };
    let prefix = format!("{schema}.");
    if !top.name.starts_with(&prefix) {
        text.push_str(&format!(
            " The proposed scope, schema {schema}, leaves it out."
        ));
    }
    // The list is sorted largest first, so the first match is the schema's largest table.
    let in_schema = risk
        .largest_tables
        .iter()
        .find(|table| table.name.starts_with(&prefix));
    if let Some(in_schema) = in_schema {
        let is_top = in_schema.name == top.name;
        text.push(' ');
        text.push_str(&coverage(facts, in_schema, is_top, max_table_bytes));
    }
    Finding::info("Largest table", text)
}

/// Says whether a permission on the schema, with the proposed size limit, covers `largest`,
/// which the sentence before names when `is_top` is set.
fn coverage(
    facts: &Facts,
    largest: &TableFacts,
    is_top: bool,
    max_table_bytes: Option<u64>,
) -> String {
    let schema = &facts.action.schema;
    if largest.name == facts.table {
        return format!(
            "{} is the largest table in schema {schema}, so a permission on the schema covers no \
             bigger table.",
            facts.table
        );
    }
    let subject = if is_top {
        "It".to_string()
    } else {
        format!(
            "Schema {schema}'s largest table, {} ({} with indexes),",
            largest.name,
            bytes(largest.total_bytes)
        )
    };
    match max_table_bytes {
        None => {
            format!("{subject} is covered by a permission on schema {schema}, with no size limit.")
        }
        Some(limit) if largest.total_bytes <= limit => format!(
            "{subject} is under the proposed {} limit, so a permission on schema {schema} covers \
             it too and DBAgent would build indexes on it without asking.",
            bytes(limit)
        ),
        // The runner compares the limit with the size without indexes, which the facts lack.
        Some(limit) => format!(
            "{subject} is most likely above the proposed {} limit, which applies to the size \
             without indexes, so builds on it would still ask first.",
            bytes(limit)
        ),
    }
}
