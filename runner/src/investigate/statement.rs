//! Parsing of a normalized statement with PostgreSQL's own parser (libpg_query): checks that it
//! is safe to plan, counts its parameters and finds the columns it filters on.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, Node, SelectStmt};

use super::filters::FilterWalker;

/// The kinds of statement the investigation plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    Select,
    Update,
    Delete,
}

/// A table named in a statement's FROM list, UPDATE target or DELETE target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationRef {
    /// The schema written in the statement; `None` means the search_path decides.
    pub schema: Option<String>,
    pub name: String,
    pub alias: Option<String>,
}

/// The comparison a filter makes between its column and a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Comparison {
    /// `col = value`, or `a.col = b.col` in a join condition.
    Equality,
    /// `col IN (...)` or `col = ANY(...)`.
    List,
    /// `<`, `<=`, `>`, `>=` or `BETWEEN`.
    Range,
}

/// The indexable side of a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FilterTarget {
    Column(String),
    /// An expression over columns of one table, deparsed without table qualifiers, such as
    /// `lower(email)`; `columns` are the columns it reads.
    Expression {
        sql: String,
        columns: Vec<String>,
    },
}

/// One indexable condition of a WHERE clause or join condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Indexes into [`ParsedStatement::relations`] that the filter may belong to: one when the
    /// column is qualified or the scope has one table, several when the catalog must decide.
    pub relations: Vec<usize>,
    pub target: FilterTarget,
    pub comparison: Comparison,
    /// The condition as SQL without qualifiers, such as `role = 'admin'`, when it compares a
    /// column with a literal: the predicate a partial index can have. `None` for parameters,
    /// whose value the generic plan does not know.
    pub literal_predicate: Option<String>,
    /// Whether the filter is `=` with a parameter, possibly cast, such as `role = $1`: the
    /// shape where a literal from the client would have allowed a partial index.
    pub compares_parameter: bool,
}

/// A key of the top-level `ORDER BY`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    /// Indexes into [`ParsedStatement::relations`] the key may belong to.
    pub relations: Vec<usize>,
    pub target: FilterTarget,
    pub descending: bool,
}

/// A condition that keeps btree indexes from serving a statement, recorded so that the
/// verdict can name it.
#[derive(Debug, Clone, PartialEq)]
pub struct Obstacle {
    /// Indexes into [`ParsedStatement::relations`] the condition reads.
    pub relations: Vec<usize>,
    pub kind: ObstacleKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ObstacleKind {
    /// Conditions on different tables joined with OR, such as `b.title = $1 OR a.name = $2`.
    OrAcrossTables { tables: Vec<String> },
    /// `column LIKE pattern` or `ILIKE`.
    PatternMatch {
        column: String,
        case_insensitive: bool,
        /// Whether the pattern is a literal that starts with a wildcard. `None` when the
        /// pattern is a parameter or computed, whose value is known only when the statement
        /// runs.
        leading_wildcard: Option<bool>,
    },
}

/// A statement that passed validation, with what the candidate search needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedStatement {
    pub kind: StatementKind,
    /// The statement deparsed from its validated parse tree; this, not the stored text, is
    /// what gets planned.
    pub sql: String,
    /// The highest `$n` in the statement.
    pub parameter_count: usize,
    pub relations: Vec<RelationRef>,
    pub filters: Vec<Filter>,
    pub obstacles: Vec<Obstacle>,
    /// Schemas to put before the session's search_path when planning, for tables the
    /// statement names without schema that are not on the runner's own search_path.
    pub search_path: Vec<String>,
    /// Functions the statement calls, as written, such as `order_count` or `app.total`.
    pub functions: Vec<String>,
    /// The top-level `ORDER BY`, kept only when a `LIMIT` lets an index in that order stop
    /// the scan early.
    pub limited_order: Vec<OrderKey>,
}

/// Parses a statement and checks that it is exactly one plain SELECT, or UPDATE or DELETE
/// with a WHERE clause. Returns the reason as a sentence when it is not.
pub fn parse_statement(query: &str) -> Result<ParsedStatement, String> {
    let parsed = pg_query::parse(query, 0)
        .map_err(|error| format!("the PostgreSQL parser rejected it ({error})"))?;
    let statements = &parsed.protobuf.stmts;
    if statements.len() != 1 {
        return Err(format!(
            "it contains {} statements, and only a single statement is planned",
            statements.len()
        ));
    }
    let node = statements[0]
        .stmt
        .as_ref()
        .and_then(|stmt| stmt.node.as_ref())
        .ok_or("the parser returned an empty statement")?;

    let mut walker = FilterWalker::default();
    let kind =
        match node {
            NodeEnum::SelectStmt(select) => {
                check_select(select)?;
                let scope = walker.walk_select(select);
                if select.limit_count.is_some() {
                    walker.add_order_by(&select.sort_clause, &scope);
                }
                StatementKind::Select
            }
            NodeEnum::UpdateStmt(update) => {
                check_with_clause(update.with_clause.as_ref())?;
                let where_clause = update.where_clause.as_deref().ok_or(
                    "it is an UPDATE without a WHERE clause, which no index can make cheaper",
                )?;
                walker.walk_modify(update.relation.as_ref(), &update.from_clause, where_clause);
                StatementKind::Update
            }
            NodeEnum::DeleteStmt(delete) => {
                check_with_clause(delete.with_clause.as_ref())?;
                let where_clause = delete.where_clause.as_deref().ok_or(
                    "it is a DELETE without a WHERE clause, which no index can make cheaper",
                )?;
                walker.walk_modify(delete.relation.as_ref(), &delete.using_clause, where_clause);
                StatementKind::Delete
            }
            _ => {
                let kind = parsed.statement_types().join(", ");
                return Err(format!(
                    "it is a {kind}, and only SELECT, UPDATE and DELETE are analyzed"
                ));
            }
        };

    let sql = parsed
        .deparse(pg_query::DeparseOptions::default())
        .map_err(|error| format!("the parse tree could not be turned back into SQL ({error})"))?;
    let (relations, filters, obstacles, limited_order) = walker.finish();
    let mut functions = parsed.functions();
    functions.sort();
    Ok(ParsedStatement {
        kind,
        sql,
        parameter_count: count_parameters(query)?,
        relations,
        filters,
        obstacles,
        search_path: Vec::new(),
        functions,
        limited_order,
    })
}

/// Rejects `SELECT ... INTO`, which creates a table, and data-modifying CTEs.
fn check_select(select: &SelectStmt) -> Result<(), String> {
    if select.into_clause.is_some() {
        return Err("it is a SELECT INTO, which creates a table".to_string());
    }
    check_with_clause(select.with_clause.as_ref())
}

fn check_with_clause(with: Option<&protobuf::WithClause>) -> Result<(), String> {
    let Some(with) = with else {
        return Ok(());
    };
    for cte in &with.ctes {
        let Some(NodeEnum::CommonTableExpr(cte)) = &cte.node else {
            continue;
        };
        let query = cte.ctequery.as_deref().and_then(|node| node.node.as_ref());
        if !matches!(query, Some(NodeEnum::SelectStmt(_))) {
            return Err(format!(
                "its WITH query {} modifies data, and only read-only CTEs are planned",
                cte.ctename
            ));
        }
    }
    Ok(())
}

/// Returns the highest parameter number, from the scanner's tokens so that every `$n`
/// counts, wherever it appears (select list, CASE, LIMIT).
fn count_parameters(query: &str) -> Result<usize, String> {
    let scanned =
        pg_query::scan(query).map_err(|error| format!("the scanner rejected it ({error})"))?;
    let mut highest = 0;
    for token in scanned.tokens {
        if token.token != protobuf::Token::Param as i32 {
            continue;
        }
        let text = query
            .get(token.start as usize..token.end as usize)
            .unwrap_or_default();
        let number = text.trim_start_matches('$').parse::<usize>().unwrap_or(0);
        highest = highest.max(number);
    }
    Ok(highest)
}

/// Wraps a node in a `Node` so that it can be stored in parse-tree lists.
pub(crate) fn node(inner: NodeEnum) -> Node {
    Node { node: Some(inner) }
}

#[cfg(test)]
#[path = "statement_tests.rs"]
mod tests;
