//! Statements recorded inside PL/pgSQL functions name the function's variables, as in
//! `WHERE customer_id = p_customer`, which no standalone plan can resolve. Turning each such
//! name into a parameter gives the statement the function actually runs.

use std::collections::{BTreeMap, HashSet};

use pg_query::protobuf::Token;

/// Replaces identifiers that name no column, table or alias of the statement with new
/// parameters after its highest `$n`, one per distinct name. Returns `None` when nothing is
/// left to replace.
///
/// An identifier after `.`, `AS` or `::`, or before `(` or `.`, names something else (a
/// qualified column, an output name, a type, a function, a qualifier) and is kept.
pub fn parameterize_variables(
    query: &str,
    known: &HashSet<String>,
    highest_parameter: usize,
) -> Option<String> {
    let tokens = pg_query::scan(query).ok()?.tokens;
    let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
    let mut replacements = Vec::new();
    for (position, token) in tokens.iter().enumerate() {
        if token.token != Token::Ident as i32 {
            continue;
        }
        let kind = |offset: isize| {
            position
                .checked_add_signed(offset)
                .and_then(|index| tokens.get(index))
                .map(|token| token.token)
        };
        let after = [Token::Ascii46, Token::As, Token::Typecast];
        let before = [Token::Ascii40, Token::Ascii46];
        if after.iter().any(|t| kind(-1) == Some(*t as i32))
            || before.iter().any(|t| kind(1) == Some(*t as i32))
        {
            continue;
        }
        let (start, end) = (token.start as usize, token.end as usize);
        let name = query.get(start..end)?.trim_matches('"').to_string();
        if known.contains(&name) {
            continue;
        }
        let next = highest_parameter + numbers.len() + 1;
        let number = *numbers.entry(name).or_insert(next);
        replacements.push((start, end, number));
    }
    if replacements.is_empty() {
        return None;
    }
    let mut sql = String::with_capacity(query.len());
    let mut copied = 0;
    for (start, end, number) in replacements {
        sql.push_str(&query[copied..start]);
        sql.push_str(&format!("${number}"));
        copied = end;
    }
    sql.push_str(&query[copied..]);
    Some(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(names: &[&str]) -> HashSet<String> {
        names.iter().map(|name| name.to_string()).collect()
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
}
