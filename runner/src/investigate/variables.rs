//! Statements recorded inside PL/pgSQL and SQL functions name the function's variables, as in
//! `WHERE customer_id = p_customer`, which no standalone plan can resolve. Turning each such
//! name into a parameter gives the statement the function actually runs.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

/// Names a statement declares itself: output names, table and column aliases, CTE names and
/// the columns of functions in FROM. A reference to one of them is no variable.
#[derive(Debug, Default)]
struct DeclaredNames(HashSet<String>);

/// Replaces the column references that name no column, table or alias of the statement, nor
/// a name the statement declares, with new parameters after its highest `$n`, one per
/// distinct name. Returns `None` when nothing is left to replace or the statement does not
/// parse.
///
/// Only unqualified column references of the parse tree count, so function names, types,
/// output names (`SELECT total t`), `EXTRACT(epoch FROM ...)` fields and collations are kept.
/// `known` contains names as PostgreSQL stores them: unquoted names folded to lower case.
///
/// NOTE: names are not resolved by scope, so a variable that shares its name with an output
/// name or alias anywhere in the statement stays as it is, and planning it fails again.
pub fn parameterize_variables(
    query: &str,
    known: &HashSet<String>,
    highest_parameter: usize,
) -> Option<String> {
    let parsed = pg_query::parse(query, 0).ok()?;
    let tree = serde_json::to_value(&parsed.protobuf).ok()?;
    let mut declared = DeclaredNames::default();
    let mut references = Vec::new();
    collect(&tree, &mut declared, &mut references);
    references.sort_unstable();
    references.dedup();

    let tokens = pg_query::scan(query).ok()?.tokens;
    let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
    let mut replacements = Vec::new();
    for (location, name) in references {
        if known.contains(&name) || declared.0.contains(&name) {
            continue;
        }
        let token = tokens
            .iter()
            .find(|token| usize::try_from(token.start).ok() == Some(location))?;
        let end = usize::try_from(token.end).ok()?;
        let next = highest_parameter + numbers.len() + 1;
        let number = *numbers.entry(name).or_insert(next);
        replacements.push((location, end, number));
    }
    if replacements.is_empty() {
        return None;
    }

    let mut sql = String::with_capacity(query.len());
    let mut copied = 0;
    for (start, end, number) in replacements {
        sql.push_str(query.get(copied..start)?);
        sql.push_str(&format!("${number}"));
        copied = end;
    }
    sql.push_str(query.get(copied..)?);
    Some(sql)
}

/// Walks the parse tree, as JSON so that every node kind is reached, and collects the
/// declared names and the byte offset and name of each unqualified column reference.
fn collect(node: &Value, declared: &mut DeclaredNames, references: &mut Vec<(usize, String)>) {
    match node {
        Value::Array(items) => {
            for item in items {
                collect(item, declared, references);
            }
        }
        Value::Object(fields) => {
            if let Some(reference) = fields.get("ColumnRef").and_then(unqualified_reference) {
                references.push(reference);
            }
            declared.add_from(fields);
            for value in fields.values() {
                collect(value, declared, references);
            }
        }
        _ => {}
    }
}

/// Reads a `ColumnRef` with one name, such as `p_customer` but not `o.customer_id` or `*`.
fn unqualified_reference(column: &Value) -> Option<(usize, String)> {
    let [field] = column.get("fields")?.as_array()?.as_slice() else {
        return None;
    };
    let name = field.pointer("/node/String/sval")?.as_str()?;
    let location = usize::try_from(column.get("location")?.as_i64()?).ok()?;
    Some((location, name.to_string()))
}

impl DeclaredNames {
    /// Adds the names one node of the tree declares.
    fn add_from(&mut self, fields: &serde_json::Map<String, Value>) {
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_string);
        // `ResTarget.name` is an output name in a select list and a column in UPDATE SET.
        let names = [
            text(
                fields
                    .get("ResTarget")
                    .and_then(|target| target.get("name")),
            ),
            text(
                fields
                    .get("ColumnDef")
                    .and_then(|column| column.get("colname")),
            ),
            text(fields.get("aliasname")),
            text(fields.get("ctename")),
        ];
        self.0
            .extend(names.into_iter().flatten().filter(|name| !name.is_empty()));
        for list in ["colnames", "aliascolnames"] {
            let Some(items) = fields.get(list).and_then(Value::as_array) else {
                continue;
            };
            let strings = items
                .iter()
                .filter_map(|item| item.pointer("/node/String/sval")?.as_str());
            self.0.extend(strings.map(str::to_string));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(names: &[&str]) -> HashSet<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    fn orders() -> HashSet<String> {
        known(&[
            "orders",
            "o",
            "customer_id",
            "status",
            "total",
            "note",
            "ts",
        ])
    }

    #[test]
    fn variables_become_parameters() {
        let sql = parameterize_variables(
            "SELECT count(*) AS n FROM orders o WHERE o.customer_id = p_customer \
             AND status = p_status AND total > $1 AND note::text = p_customer",
            &known(&["orders", "o", "customer_id", "status", "total", "note"]),
            1,
        );
        assert_eq!(
            sql.as_deref(),
            Some(
                "SELECT count(*) AS n FROM orders o WHERE o.customer_id = $2 \
                 AND status = $3 AND total > $1 AND note::text = $2"
            )
        );
    }

    #[test]
    fn nothing_unknown_gives_none() {
        assert_eq!(
            parameterize_variables(
                "SELECT id FROM orders WHERE customer_id = $1",
                &known(&["orders", "id", "customer_id"]),
                1
            ),
            None
        );
    }

    #[test]
    fn output_names_stay_names() {
        let sql = parameterize_variables(
            "SELECT total t, status AS s FROM orders WHERE customer_id = p_customer \
             ORDER BY t, s LIMIT p_limit",
            &orders(),
            0,
        );
        assert_eq!(
            sql.as_deref(),
            Some(
                "SELECT total t, status AS s FROM orders WHERE customer_id = $1 \
                 ORDER BY t, s LIMIT $2"
            )
        );
    }

    #[test]
    fn function_keywords_and_collations_stay() {
        let sql = parameterize_variables(
            "SELECT extract(epoch FROM ts), trim(both ' ' FROM note) FROM orders \
             WHERE note COLLATE \"C\" > p_note AND ts > now() - make_interval(days => p_days)",
            &orders(),
            0,
        );
        assert_eq!(
            sql.as_deref(),
            Some(
                "SELECT extract(epoch FROM ts), trim(both ' ' FROM note) FROM orders \
                 WHERE note COLLATE \"C\" > $1 AND ts > now() - make_interval(days => $2)"
            )
        );
    }

    #[test]
    fn quoted_identifiers_compare_exactly() {
        // `"P_Customer"` keeps its case, while unquoted `P_Status` folds to `p_status`, a
        // known column here.
        let sql = parameterize_variables(
            "SELECT id FROM orders WHERE customer_id = \"P_Customer\" AND P_Status = \"p_status\" \
             AND note = \"P_Customer\"",
            &known(&["orders", "id", "customer_id", "p_status", "note"]),
            0,
        );
        assert_eq!(
            sql.as_deref(),
            Some(
                "SELECT id FROM orders WHERE customer_id = $1 AND P_Status = \"p_status\" AND note = $1"
            )
        );
    }

    #[test]
    fn declared_aliases_and_ctes_stay() {
        let sql = parameterize_variables(
            "WITH recent(cid) AS (SELECT customer_id FROM orders WHERE ts > p_since) \
             SELECT r.cid, u.id, x.a FROM recent r, unnest(p_ids) AS u(id), \
             jsonb_to_recordset(p_rows) AS x(a int) WHERE cid = id AND a > p_min",
            &orders(),
            0,
        );
        assert_eq!(
            sql.as_deref(),
            Some(
                "WITH recent(cid) AS (SELECT customer_id FROM orders WHERE ts > $1) \
                 SELECT r.cid, u.id, x.a FROM recent r, unnest($2) AS u(id), \
                 jsonb_to_recordset($3) AS x(a int) WHERE cid = id AND a > $4"
            )
        );
    }

    #[test]
    fn unparsable_statement_gives_none() {
        assert_eq!(
            parameterize_variables("SELECT FROM WHERE p_x", &orders(), 0),
            None
        );
    }
}
