//! Literal values of a normalized statement, recovered from the texts clients sent.
//!
//! `pg_stat_statements` stores `WHERE role = $1` both for a client that sends
//! `WHERE role = 'admin'` and for one that binds a parameter. The difference decides whether a
//! partial index can serve the statement, and literals let the planner use the column's
//! statistics. The scanner's tokens of the normalized text and of a sampled text line up one
//! to one, except that a `$n` of the normalized text stands for a literal or a parameter in
//! the sample.

use std::collections::BTreeMap;

use pg_query::protobuf::{ScanToken, Token};

/// Executions that must show the same literal before a parameter is taken for a literal, so
/// that one sampled value of a varying literal is not mistaken for a constant.
pub const MIN_AGREEING_EXECUTIONS: usize = 3;

/// A normalized statement with the parameters that were the same literal in every sampled
/// execution replaced by that literal, and the others renumbered from `$1`.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundStatement {
    pub sql: String,
    /// The original parameter numbers and the literal each stands for.
    pub literals: BTreeMap<usize, String>,
    /// Original parameter numbers that clients bound as parameters in the samples.
    pub parameters: Vec<usize>,
}

/// What a `$n` of the normalized text was in one sampled execution.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Literal(String),
    Parameter,
}

/// Binds the literals the samples agree on. Returns `None` when fewer than
/// [`MIN_AGREEING_EXECUTIONS`] samples line up with the normalized text.
pub fn bind_literals(normalized: &str, samples: &[String]) -> Option<BoundStatement> {
    let tokens = pg_query::scan(normalized).ok()?.tokens;
    let aligned: Vec<BTreeMap<usize, Value>> = samples
        .iter()
        .filter_map(|sample| align(normalized, &tokens, sample))
        .collect();
    if aligned.len() < MIN_AGREEING_EXECUTIONS {
        return None;
    }
    let mut literals = BTreeMap::new();
    let mut parameters = Vec::new();
    for (&number, value) in &aligned[0] {
        let agreed = aligned
            .iter()
            .all(|other| other.get(&number) == Some(value));
        match value {
            Value::Literal(text) if agreed => {
                literals.insert(number, text.clone());
            }
            Value::Parameter => parameters.push(number),
            Value::Literal(_) => {}
        }
    }
    Some(BoundStatement {
        sql: rewrite(normalized, &tokens, &literals),
        literals,
        parameters,
    })
}

/// Maps each `$n` of the normalized text to what the sample has in its place, or returns
/// `None` when the two texts do not line up.
fn align(normalized: &str, tokens: &[ScanToken], sample: &str) -> Option<BTreeMap<usize, Value>> {
    let sample_tokens = pg_query::scan(sample).ok()?.tokens;
    let mut values = BTreeMap::new();
    let mut position = 0;
    for token in tokens {
        let theirs = sample_tokens.get(position)?;
        position += 1;
        if token.token != Token::Param as i32 {
            if theirs.token != token.token {
                return None;
            }
            continue;
        }
        let number = parameter_number(normalized, token)?;
        let value = if theirs.token == Token::Param as i32 {
            Value::Parameter
        } else if theirs.token == Token::Ascii45 as i32 {
            // A negative number: the minus sign belongs to the literal.
            let digits = sample_tokens.get(position)?;
            position += 1;
            if !is_literal(digits.token) {
                return None;
            }
            Value::Literal(text_of(sample, theirs.start, digits.end)?.to_string())
        } else if is_literal(theirs.token) {
            Value::Literal(text_of(sample, theirs.start, theirs.end)?.to_string())
        } else {
            return None;
        };
        values.insert(number, value);
    }
    (position == sample_tokens.len()).then_some(values)
}

fn is_literal(token: i32) -> bool {
    [
        Token::Sconst,
        Token::Iconst,
        Token::Fconst,
        Token::Bconst,
        Token::Xconst,
        Token::TrueP,
        Token::FalseP,
    ]
    .iter()
    .any(|kind| *kind as i32 == token)
}

fn text_of(text: &str, start: i32, end: i32) -> Option<&str> {
    text.get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
}

fn parameter_number(text: &str, token: &ScanToken) -> Option<usize> {
    text_of(text, token.start, token.end)?
        .trim_start_matches('$')
        .parse()
        .ok()
}

/// Replaces bound parameters with their literals and renumbers the rest in order, because a
/// prepared statement cannot skip parameter numbers.
fn rewrite(normalized: &str, tokens: &[ScanToken], literals: &BTreeMap<usize, String>) -> String {
    let mut remaining: Vec<usize> = tokens
        .iter()
        .filter(|token| token.token == Token::Param as i32)
        .filter_map(|token| parameter_number(normalized, token))
        .filter(|number| !literals.contains_key(number))
        .collect();
    remaining.sort_unstable();
    remaining.dedup();

    let mut sql = String::with_capacity(normalized.len());
    let mut copied = 0;
    for token in tokens.iter().filter(|t| t.token == Token::Param as i32) {
        let (Some(number), Ok(start), Ok(end)) = (
            parameter_number(normalized, token),
            usize::try_from(token.start),
            usize::try_from(token.end),
        ) else {
            continue;
        };
        sql.push_str(&normalized[copied..start]);
        match literals.get(&number) {
            Some(literal) => sql.push_str(literal),
            None => {
                let renumbered = remaining.iter().position(|n| *n == number).unwrap_or(0) + 1;
                sql.push_str(&format!("${renumbered}"));
            }
        }
        copied = end;
    }
    sql.push_str(&normalized[copied..]);
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|text| text.to_string()).collect()
    }

    const NORMALIZED: &str =
        "SELECT id FROM users WHERE role = $1 AND score > $2 ORDER BY created_at DESC LIMIT $3";

    #[test]
    fn agreeing_literals_are_bound_and_varying_ones_renumbered() {
        let sampled = samples(&[
            "SELECT id FROM users WHERE role = 'admin' AND score > 5 ORDER BY created_at DESC LIMIT 20",
            "SELECT id FROM users WHERE role = 'admin' AND score > 7 ORDER BY created_at DESC LIMIT 20",
            "SELECT id FROM users WHERE role = 'admin' AND score > -3 ORDER BY created_at DESC LIMIT 20",
        ]);
        let bound = bind_literals(NORMALIZED, &sampled).unwrap();
        assert_eq!(
            bound.sql,
            "SELECT id FROM users WHERE role = 'admin' AND score > $1 ORDER BY created_at DESC LIMIT 20"
        );
        assert_eq!(bound.literals.get(&1).map(String::as_str), Some("'admin'"));
        assert!(bound.parameters.is_empty());
    }

    #[test]
    fn bound_parameters_stay_parameters() {
        let text =
            "SELECT id FROM users WHERE role = $1 AND score > $2 ORDER BY created_at DESC LIMIT $3";
        let bound = bind_literals(NORMALIZED, &samples(&[text, text, text])).unwrap();
        assert_eq!(bound.sql, NORMALIZED);
        assert_eq!(bound.parameters, vec![1, 2, 3]);
    }

    #[test]
    fn too_few_or_unrelated_samples_bind_nothing() {
        let one = "SELECT id FROM users WHERE role = 'admin' AND score > 5 ORDER BY created_at DESC LIMIT 20";
        assert_eq!(bind_literals(NORMALIZED, &samples(&[one, one])), None);
        let other = "SELECT 1";
        assert_eq!(
            bind_literals(NORMALIZED, &samples(&[other, other, other])),
            None
        );
    }
}
