//! Literal values of a normalized statement, recovered from the texts clients sent.
//!
//! `pg_stat_statements` stores `WHERE role = $1` both for a client that sends
//! `WHERE role = 'admin'` and for one that binds a parameter. The difference decides whether a
//! partial index can serve the statement, and literals let the planner use the column's
//! statistics. Comments aside, the scanner's tokens of the normalized text and of the sampled
//! statement line up one to one. The exception is each `$n` of the normalized text, which is
//! a literal, a negative number (`-` and a number) or a parameter in the sample.

use std::collections::BTreeMap;

use pg_query::protobuf::{ScanToken, Token};

/// Minimum number of sampled executions that must line up with the normalized text before
/// any literal is bound. A literal is bound only when all of them show the same value, so
/// that one sampled value of a varying literal is not mistaken for a constant.
pub const MIN_AGREEING_EXECUTIONS: usize = 3;

/// A normalized statement with the parameters that were the same literal in every sampled
/// execution replaced by that literal, and the others renumbered from `$1`.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundStatement {
    pub sql: String,
    /// The original parameter numbers and the literal each was replaced with.
    pub literals: BTreeMap<usize, String>,
    /// Original parameter numbers that a client bound as a parameter in at least one sample.
    pub parameters: Vec<usize>,
    /// Number of sampled executions that lined up with the normalized text: the executions
    /// the literals agree over. Samples of other shapes are left out of it.
    pub executions: usize,
}

/// The token of a sampled execution in the place of one `$n` of the normalized text.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Literal(String),
    Parameter,
}

/// Binds the literals the samples agree on. Returns `None` when fewer than
/// [`MIN_AGREEING_EXECUTIONS`] samples line up with the normalized text.
///
/// The samples must be whole texts: a text that `pg_stat_activity` cut at
/// `track_activity_query_size` can end inside a number (`LIMIT 200` shown as `LIMIT 20`) and
/// still line up, so the caller leaves such texts out.
pub fn bind_literals(normalized: &str, samples: &[String]) -> Option<BoundStatement> {
    let tokens = significant_tokens(normalized)?;
    let aligned: Vec<BTreeMap<usize, Value>> = samples
        .iter()
        .filter_map(|sample| align_sample(normalized, &tokens, sample))
        .collect();
    if aligned.len() < MIN_AGREEING_EXECUTIONS {
        return None;
    }

    let mut literals = BTreeMap::new();
    let mut parameters = Vec::new();
    for (&number, first) in &aligned[0] {
        let values: Vec<Option<&Value>> = aligned.iter().map(|other| other.get(&number)).collect();
        if values.contains(&Some(&Value::Parameter)) {
            parameters.push(number);
            continue;
        }
        let agreed = values.iter().all(|value| *value == Some(first));
        if let (true, Value::Literal(text)) = (agreed, first) {
            literals.insert(number, text.clone());
        }
    }
    Some(BoundStatement {
        sql: rewrite(normalized, &tokens, &literals),
        literals,
        parameters,
        executions: aligned.len(),
    })
}

/// Scans a text and drops its comments, which `pg_stat_statements` keeps only inside the
/// statement while `pg_stat_activity` shows all of them, so they take no part in aligning.
fn significant_tokens(text: &str) -> Option<Vec<ScanToken>> {
    let comments = [Token::SqlComment as i32, Token::CComment as i32];
    let tokens = pg_query::scan(text).ok()?.tokens;
    Some(
        tokens
            .into_iter()
            .filter(|token| !comments.contains(&token.token))
            .collect(),
    )
}

/// Maps each `$n` of the normalized text to what one statement of the sample has in its
/// place, or returns `None` when no statement of the sample lines up.
///
/// `pg_stat_activity` shows the whole query string a client sent, which may end with `;` or
/// hold several statements (`BEGIN; SELECT ...; COMMIT`), so every statement of it is tried.
/// When two statements line up with different values, the sample does not tell which one was
/// running and is dropped.
fn align_sample(
    normalized: &str,
    tokens: &[ScanToken],
    sample: &str,
) -> Option<BTreeMap<usize, Value>> {
    let sample_tokens = significant_tokens(sample)?;
    let is_semicolon = |position: usize| {
        sample_tokens
            .get(position)
            .is_some_and(|token| token.token == Token::Ascii59 as i32)
    };
    let starts = (0..sample_tokens.len()).filter(|&start| start == 0 || is_semicolon(start - 1));

    let mut found: Option<BTreeMap<usize, Value>> = None;
    for start in starts {
        let Some((values, end)) = align_at(normalized, tokens, sample, &sample_tokens, start)
        else {
            continue;
        };
        if end != sample_tokens.len() && !is_semicolon(end) {
            continue;
        }
        match &found {
            Some(previous) if *previous != values => return None,
            Some(_) => {}
            None => found = Some(values),
        }
    }
    found
}

/// Aligns the normalized tokens with the sample's tokens from `start` on. Returns the values
/// in place of each `$n` and the position after the last sample token used.
fn align_at(
    normalized: &str,
    tokens: &[ScanToken],
    sample: &str,
    sample_tokens: &[ScanToken],
    start: usize,
) -> Option<(BTreeMap<usize, Value>, usize)> {
    let mut values = BTreeMap::new();
    let mut position = start;
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
            // `pg_stat_statements` replaces `-3` and `- 3` as one constant, from the minus
            // on. Both are kept as `-3`, so that they compare equal.
            let digits = sample_tokens.get(position)?;
            position += 1;
            if !is_literal(digits.token) {
                return None;
            }
            Value::Literal(format!("-{}", text_of(sample, digits.start, digits.end)?))
        } else if is_literal(theirs.token) {
            Value::Literal(text_of(sample, theirs.start, theirs.end)?.to_string())
        } else {
            return None;
        };
        values.insert(number, value);
    }
    Some((values, position))
}

/// Checks whether a token is a constant, which `pg_stat_statements` may replace with `$n`.
fn is_literal(token: i32) -> bool {
    [
        Token::Sconst,
        Token::Usconst,
        Token::Iconst,
        Token::Fconst,
        Token::Bconst,
        Token::Xconst,
        Token::TrueP,
        Token::FalseP,
        Token::NullP,
    ]
    .iter()
    .any(|kind| *kind as i32 == token)
}

/// Checks whether a token can be the whole type name of a typed literal such as
/// `DATE '2024-01-01'` or `interval '1 day'`. Qualified and multi-word names such as
/// `timestamp with time zone` are not recognized.
fn is_type_name(tokens: &[ScanToken], position: usize) -> bool {
    let Some(token) = tokens.get(position) else {
        return false;
    };
    let after_dot = position
        .checked_sub(1)
        .and_then(|before| tokens.get(before))
        .is_some_and(|before| before.token == Token::Ascii46 as i32);
    if token.token == Token::Ident as i32 {
        return !after_dot;
    }
    [
        Token::Interval,
        Token::Timestamp,
        Token::Time,
        Token::IntP,
        Token::Integer,
        Token::Smallint,
        Token::Bigint,
        Token::Real,
        Token::FloatP,
        Token::DecimalP,
        Token::Dec,
        Token::Numeric,
        Token::BooleanP,
        Token::Varchar,
        Token::CharP,
        Token::Character,
    ]
    .iter()
    .any(|kind| *kind as i32 == token.token)
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
///
/// `pg_stat_statements` turns the typed literal `DATE '2024-01-01'` into `DATE $1`, which
/// PostgreSQL does not parse, so a parameter left after a type name becomes the cast
/// `$1::DATE`, which gives the parameter the same type.
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
    for (position, token) in tokens.iter().enumerate() {
        if token.token != Token::Param as i32 {
            continue;
        }
        let (Some(number), Ok(start), Ok(end)) = (
            parameter_number(normalized, token),
            usize::try_from(token.start),
            usize::try_from(token.end),
        ) else {
            continue;
        };
        if let Some(literal) = literals.get(&number) {
            sql.push_str(&normalized[copied..start]);
            sql.push_str(literal);
            copied = end;
            continue;
        }
        let renumbered = remaining.iter().position(|n| *n == number).unwrap_or(0) + 1;
        match type_name_before(normalized, tokens, position) {
            Some((type_start, name)) if type_start >= copied => {
                sql.push_str(&normalized[copied..type_start]);
                sql.push_str(&format!("${renumbered}::{name}"));
            }
            _ => {
                sql.push_str(&normalized[copied..start]);
                sql.push_str(&format!("${renumbered}"));
            }
        }
        copied = end;
    }
    sql.push_str(&normalized[copied..]);
    sql
}

/// Returns the start and text of the type name right before the token at `position`, when
/// the two form a typed literal.
fn type_name_before<'a>(
    text: &'a str,
    tokens: &[ScanToken],
    position: usize,
) -> Option<(usize, &'a str)> {
    let before = position.checked_sub(1)?;
    if !is_type_name(tokens, before) {
        return None;
    }
    let token = &tokens[before];
    Some((
        usize::try_from(token.start).ok()?,
        text_of(text, token.start, token.end)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::statement::parse_statement;

    fn samples(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|text| text.to_string()).collect()
    }

    const NORMALIZED: &str =
        "SELECT id FROM users WHERE role = $1 AND score > $2 ORDER BY created_at DESC LIMIT $3";

    /// A statement as PostgreSQL 15's `pg_stat_statements` stores it, with typed literals, a
    /// cast, a boolean, a negative number and an IN list.
    const TYPED: &str = "SELECT * FROM t WHERE a = $1 AND i > interval $2 AND d = DATE $3 \
                         AND b = $4::text AND f = $5 AND a IN ($6, $7, $8)";

    fn typed_sample(a: &str, date: &str, last: &str) -> String {
        format!(
            "SELECT * FROM t WHERE a = {a} AND i > interval '1 day' AND d = DATE '{date}' \
             AND b = 'x'::text AND f = true AND a IN (1, 2, {last})"
        )
    }

    #[test]
    fn agreeing_literals_are_bound() {
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
        assert_eq!(bound.executions, 3);
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

    #[test]
    fn typed_literals_casts_and_lists_bind() {
        let sampled = vec![
            typed_sample("-3", "2024-01-01", "3"),
            typed_sample("- 3", "2024-01-01", "3"),
            typed_sample("-3", "2024-01-01", "3"),
        ];
        let bound = bind_literals(TYPED, &sampled).unwrap();
        assert_eq!(bound.sql, typed_sample("-3", "2024-01-01", "3"));
        assert_eq!(bound.literals.get(&1).map(String::as_str), Some("-3"));
        assert_eq!(bound.literals.get(&2).map(String::as_str), Some("'1 day'"));
        assert_eq!(
            bound.literals.get(&3).map(String::as_str),
            Some("'2024-01-01'")
        );
        assert_eq!(bound.literals.get(&4).map(String::as_str), Some("'x'"));
        assert_eq!(bound.literals.get(&5).map(String::as_str), Some("true"));
        assert_eq!(bound.literals.get(&8).map(String::as_str), Some("3"));
        assert!(parse_statement(&bound.sql).is_ok(), "{}", bound.sql);
    }

    #[test]
    fn varying_typed_literal_becomes_cast() {
        let sampled = vec![
            typed_sample("-3", "2024-01-01", "3"),
            typed_sample("-3", "2024-02-01", "4"),
            typed_sample("-3", "2024-03-01", "5"),
        ];
        let bound = bind_literals(TYPED, &sampled).unwrap();
        assert_eq!(
            bound.sql,
            "SELECT * FROM t WHERE a = -3 AND i > interval '1 day' AND d = $1::DATE \
             AND b = 'x'::text AND f = true AND a IN (1, 2, $2)"
        );
        assert!(parse_statement(&bound.sql).is_ok(), "{}", bound.sql);
    }

    #[test]
    fn varying_interval_becomes_cast() {
        let normalized = "SELECT * FROM t WHERE i > interval $1 AND j < INTERVAL $2 DAY";
        let sampled = samples(&[
            "SELECT * FROM t WHERE i > interval '1 day' AND j < INTERVAL '3' DAY",
            "SELECT * FROM t WHERE i > interval '2 days' AND j < INTERVAL '4' DAY",
            "SELECT * FROM t WHERE i > interval '3 days' AND j < INTERVAL '3' DAY",
        ]);
        let bound = bind_literals(normalized, &sampled).unwrap();
        assert_eq!(
            bound.sql,
            "SELECT * FROM t WHERE i > $1::interval AND j < $2::INTERVAL DAY"
        );
        assert!(parse_statement(&bound.sql).is_ok(), "{}", bound.sql);
    }

    #[test]
    fn list_of_other_length_is_left_out() {
        let mut sampled = vec![
            typed_sample("-3", "2024-01-01", "3"),
            typed_sample("-3", "2024-01-01", "3"),
            typed_sample("-3", "2024-01-01", "3"),
        ];
        sampled.push(sampled[0].replace("IN (1, 2, 3)", "IN (1, 2, 3, 4)"));
        let bound = bind_literals(TYPED, &sampled).unwrap();
        assert_eq!(bound.executions, 3);
        assert_eq!(bound.literals.get(&8).map(String::as_str), Some("3"));
    }

    #[test]
    fn semicolon_and_comments_still_line_up() {
        let normalized = "/* app */ SELECT id FROM users WHERE role = $1";
        let sampled = samples(&[
            "/* app */ SELECT id FROM users WHERE role = 'admin';",
            "SELECT id FROM users -- from psql\n WHERE role = 'admin' ;",
            "/* app */ SELECT id FROM users WHERE role = 'admin'; -- done",
        ]);
        let bound = bind_literals(normalized, &sampled).unwrap();
        assert_eq!(bound.executions, 3);
        assert_eq!(
            bound.sql,
            "/* app */ SELECT id FROM users WHERE role = 'admin'"
        );
    }

    #[test]
    fn statement_inside_query_string_lines_up() {
        let normalized = "SELECT id FROM users WHERE role = $1";
        let text = "BEGIN; SELECT id FROM users WHERE role = 'admin'; COMMIT;";
        let bound = bind_literals(normalized, &samples(&[text, text, text])).unwrap();
        assert_eq!(bound.sql, "SELECT id FROM users WHERE role = 'admin'");
    }

    #[test]
    fn ambiguous_query_string_is_left_out() {
        let normalized = "SELECT id FROM users WHERE role = $1";
        let whole = "SELECT id FROM users WHERE role = 'admin'";
        let ambiguous = "SELECT id FROM users WHERE role = 'admin'; \
                         SELECT id FROM users WHERE role = 'guest'";
        let repeated = "SELECT id FROM users WHERE role = 'admin'; \
                        SELECT id FROM users WHERE role = 'admin'";
        assert_eq!(
            bind_literals(normalized, &samples(&[whole, whole, ambiguous])),
            None
        );
        let bound = bind_literals(normalized, &samples(&[whole, whole, repeated])).unwrap();
        assert_eq!(bound.executions, 3);
    }

    #[test]
    fn literal_and_parameter_mix_stays_parameter() {
        let normalized = "SELECT id FROM users WHERE role = $1";
        let sampled = samples(&[
            "SELECT id FROM users WHERE role = 'admin'",
            "SELECT id FROM users WHERE role = $1",
            "SELECT id FROM users WHERE role = 'admin'",
        ]);
        let bound = bind_literals(normalized, &sampled).unwrap();
        assert_eq!(bound.parameters, vec![1]);
        assert!(bound.literals.is_empty());
        assert_eq!(bound.sql, normalized);
    }

    #[test]
    fn cut_text_is_left_out_when_unscannable() {
        // A text cut inside a quoted literal no longer scans. A text cut inside a number
        // still does, which is why the caller drops texts that may have been cut.
        let normalized = "SELECT id FROM users WHERE role = $1 AND name = $2";
        let whole = "SELECT id FROM users WHERE role = 'admin' AND name = 'ann'";
        let cut = "SELECT id FROM users WHERE role = 'admin' AND name = 'an";
        assert_eq!(
            bind_literals(normalized, &samples(&[whole, whole, cut])),
            None
        );
    }
}
