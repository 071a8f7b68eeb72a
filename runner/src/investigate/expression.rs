//! Classification of the two sides of a comparison, and deparsing of index expressions.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, Node};

use super::statement::node;

/// A column as written in a statement: an optional qualifier (table name or alias) and a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnName {
    pub qualifier: Option<String>,
    pub name: String,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Column(ColumnName),
    /// A function, cast or operator over columns, such as `lower(u.email)`.
    Expression {
        node: Box<Node>,
        columns: Vec<ColumnName>,
    },
    /// A parameter, constant, or an expression over those alone.
    Value,
    /// Anything the candidate search does not handle, such as a subquery.
    Other,
}

/// Classifies one side of a comparison.
pub fn classify(node: &Node) -> Operand {
    if let Some(NodeEnum::ColumnRef(column)) = &node.node {
        return match column_name(column) {
            Some(column) => Operand::Column(column),
            None => Operand::Other,
        };
    }
    let mut columns = Vec::new();
    if !collect_columns(node, &mut columns) {
        return Operand::Other;
    }
    if columns.is_empty() {
        return Operand::Value;
    }
    Operand::Expression {
        node: Box::new(node.clone()),
        columns,
    }
}

/// Reads `name` or `qualifier.name`; `schema.table.name` keeps only the table as qualifier,
/// and `t.*` is no column.
fn column_name(column: &protobuf::ColumnRef) -> Option<ColumnName> {
    let parts: Vec<&str> = column
        .fields
        .iter()
        .map(|field| match &field.node {
            Some(NodeEnum::String(text)) => Some(text.sval.as_str()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let (name, qualifiers) = parts.split_last()?;
    Some(ColumnName {
        qualifier: qualifiers.last().map(|q| q.to_string()),
        name: name.to_string(),
    })
}

/// Collects the columns of an expression built from functions, casts, operators, constants
/// and parameters. Returns false for any other node, such as a subquery or an aggregate.
fn collect_columns(node: &Node, columns: &mut Vec<ColumnName>) -> bool {
    match &node.node {
        Some(NodeEnum::ColumnRef(column)) => match column_name(column) {
            Some(column) => {
                columns.push(column);
                true
            }
            None => false,
        },
        Some(NodeEnum::ParamRef(_)) | Some(NodeEnum::AConst(_)) => true,
        Some(NodeEnum::TypeCast(cast)) => cast
            .arg
            .as_deref()
            .is_some_and(|arg| collect_columns(arg, columns)),
        Some(NodeEnum::FuncCall(call)) => {
            let plain = call.agg_order.is_empty()
                && call.agg_filter.is_none()
                && call.over.is_none()
                && !call.agg_star
                && !call.agg_distinct;
            plain && call.args.iter().all(|arg| collect_columns(arg, columns))
        }
        Some(NodeEnum::AExpr(expr)) if expr.kind == protobuf::AExprKind::AexprOp as i32 => {
            let sides = [expr.lexpr.as_deref(), expr.rexpr.as_deref()];
            sides
                .into_iter()
                .flatten()
                .all(|side| collect_columns(side, columns))
        }
        Some(NodeEnum::List(list)) => list.items.iter().all(|item| collect_columns(item, columns)),
        _ => false,
    }
}

/// Deparses an expression for use as an index key: column qualifiers removed, because an
/// index expression names the columns of its own table only.
pub fn index_expression_sql(expression: &Node) -> Option<String> {
    let mut expression = expression.clone();
    strip_qualifiers(&mut expression);
    deparse_expression(expression)
}

/// Rewrites an expression into the form the parser's deparser prints, so that expressions
/// from a statement and from `pg_get_indexdef` compare equal when they mean the same.
pub fn canonical_expression(sql: &str) -> Option<String> {
    let parsed = pg_query::parse(&format!("SELECT {sql}"), 0).ok()?;
    let statement = parsed.protobuf.stmts.first()?.stmt.as_deref()?;
    let Some(NodeEnum::SelectStmt(select)) = &statement.node else {
        return None;
    };
    let Some(NodeEnum::ResTarget(target)) = &select.target_list.first()?.node else {
        return None;
    };
    index_expression_sql(target.val.as_deref()?)
}

fn strip_qualifiers(expression: &mut Node) {
    match &mut expression.node {
        Some(NodeEnum::ColumnRef(column)) => {
            let last = column.fields.pop();
            column.fields = last.into_iter().collect();
        }
        Some(NodeEnum::TypeCast(cast)) => cast.arg.iter_mut().for_each(|a| strip_qualifiers(a)),
        Some(NodeEnum::FuncCall(call)) => call.args.iter_mut().for_each(strip_qualifiers),
        Some(NodeEnum::AExpr(expr)) => {
            expr.lexpr
                .iter_mut()
                .for_each(|side| strip_qualifiers(side));
            expr.rexpr
                .iter_mut()
                .for_each(|side| strip_qualifiers(side));
        }
        Some(NodeEnum::List(list)) => list.items.iter_mut().for_each(strip_qualifiers),
        _ => {}
    }
}

/// Deparses an expression by printing `SELECT <expression>` and removing the keyword, because
/// the deparser prints whole statements only.
fn deparse_expression(expression: Node) -> Option<String> {
    let target = protobuf::ResTarget {
        val: Some(Box::new(expression)),
        ..Default::default()
    };
    let select = protobuf::SelectStmt {
        target_list: vec![node(NodeEnum::ResTarget(Box::new(target)))],
        op: protobuf::SetOperation::SetopNone as i32,
        limit_option: protobuf::LimitOption::Default as i32,
        ..Default::default()
    };
    let text = NodeEnum::SelectStmt(Box::new(select))
        .deparse(pg_query::DeparseOptions::default())
        .ok()?;
    text.strip_prefix("SELECT ").map(str::to_string)
}
