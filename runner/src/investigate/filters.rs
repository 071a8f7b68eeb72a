//! A walk over FROM lists, WHERE clauses and join conditions that collects the tables and the
//! indexable filters of a statement, scope by scope.

use std::collections::HashSet;

use pg_query::NodeEnum;
use pg_query::protobuf::{self, AExprKind, BoolExprType, Node, RangeVar, SelectStmt};

use super::expression::{ColumnName, Operand, classify, index_expression_sql};
use super::statement::{
    Comparison, Filter, FilterTarget, Obstacle, ObstacleKind, OrderKey, RelationRef,
};

/// The relations in one FROM list, by index into the walker's relation list.
pub type Scope = Vec<usize>;

/// Collects relations and filters.
///
/// NOTE: conditions under OR and NOT are not collected as filters, so a statement whose only
/// filters sit in an OR gets no candidate even where a BitmapOr over two indexes would help.
/// An OR across tables and a LIKE are recorded as obstacles, so that the verdict can name them.
#[derive(Debug, Default)]
pub struct FilterWalker {
    relations: Vec<RelationRef>,
    filters: Vec<Filter>,
    obstacles: Vec<Obstacle>,
    order: Vec<OrderKey>,
    cte_names: HashSet<String>,
}

impl FilterWalker {
    pub fn finish(self) -> (Vec<RelationRef>, Vec<Filter>, Vec<Obstacle>, Vec<OrderKey>) {
        (self.relations, self.filters, self.obstacles, self.order)
    }

    /// Records the keys of an `ORDER BY` in `scope`. Keys that are not plain columns or
    /// expressions over one table, such as output-column positions, end the list, because an
    /// index can serve only a leading part of the order.
    pub fn add_order_by(&mut self, sort_clause: &[Node], scope: &Scope) {
        for item in sort_clause {
            let Some(NodeEnum::SortBy(sort)) = &item.node else {
                return;
            };
            let Some(node) = sort.node.as_deref() else {
                return;
            };
            let Some((target, columns)) = target_of(classify(node)) else {
                return;
            };
            let Some(relations) = self.owners(&columns, scope) else {
                return;
            };
            self.order.push(OrderKey {
                relations,
                target,
                descending: sort.sortby_dir == protobuf::SortByDir::SortbyDesc as i32,
            });
        }
    }

    /// Walks a SELECT with its CTEs and set operations; subqueries get scopes of their own.
    /// Returns the scope of its own FROM list.
    pub fn walk_select(&mut self, select: &SelectStmt) -> Scope {
        if let Some(with) = &select.with_clause {
            for cte in &with.ctes {
                if let Some(NodeEnum::CommonTableExpr(cte)) = &cte.node {
                    self.cte_names.insert(cte.ctename.clone());
                    if let Some(NodeEnum::SelectStmt(query)) =
                        cte.ctequery.as_deref().and_then(|n| n.node.as_ref())
                    {
                        self.walk_select(query);
                    }
                }
            }
        }
        for branch in [&select.larg, &select.rarg].into_iter().flatten() {
            self.walk_select(branch);
        }
        let mut scope = Scope::new();
        for item in &select.from_clause {
            self.walk_from_item(item, &mut scope);
        }
        if let Some(condition) = &select.where_clause {
            self.walk_condition(condition, &scope);
        }
        scope
    }

    /// Walks the target and FROM (UPDATE) or USING (DELETE) list of a data-modifying statement.
    pub fn walk_modify(&mut self, target: Option<&RangeVar>, from: &[Node], condition: &Node) {
        let mut scope = Scope::new();
        if let Some(target) = target {
            self.add_relation(target, &mut scope);
        }
        for item in from {
            self.walk_from_item(item, &mut scope);
        }
        self.walk_condition(condition, &scope);
    }

    fn walk_from_item(&mut self, item: &Node, scope: &mut Scope) {
        match &item.node {
            Some(NodeEnum::RangeVar(range)) => self.add_relation(range, scope),
            Some(NodeEnum::JoinExpr(join)) => {
                for side in [&join.larg, &join.rarg].into_iter().flatten() {
                    self.walk_from_item(side, scope);
                }
                if let Some(quals) = &join.quals {
                    self.walk_condition(quals, scope);
                }
            }
            Some(NodeEnum::RangeSubselect(sub)) => {
                if let Some(NodeEnum::SelectStmt(select)) =
                    sub.subquery.as_deref().and_then(|n| n.node.as_ref())
                {
                    self.walk_select(select);
                }
            }
            _ => {}
        }
    }

    /// Records a table, unless the name is a CTE of the statement.
    fn add_relation(&mut self, range: &RangeVar, scope: &mut Scope) {
        if range.schemaname.is_empty() && self.cte_names.contains(&range.relname) {
            return;
        }
        self.relations.push(RelationRef {
            schema: Some(range.schemaname.clone()).filter(|s| !s.is_empty()),
            name: range.relname.clone(),
            alias: range.alias.as_ref().map(|alias| alias.aliasname.clone()),
        });
        scope.push(self.relations.len() - 1);
    }

    fn walk_condition(&mut self, condition: &Node, scope: &Scope) {
        match &condition.node {
            Some(NodeEnum::BoolExpr(expr)) if expr.boolop == BoolExprType::AndExpr as i32 => {
                for arg in &expr.args {
                    self.walk_condition(arg, scope);
                }
            }
            Some(NodeEnum::BoolExpr(expr)) if expr.boolop == BoolExprType::OrExpr as i32 => {
                self.check_or(&expr.args, scope)
            }
            Some(NodeEnum::AExpr(expr))
                if expr.kind == AExprKind::AexprLike as i32
                    || expr.kind == AExprKind::AexprIlike as i32 =>
            {
                self.add_pattern_match(expr, scope)
            }
            Some(NodeEnum::AExpr(expr)) => self.add_comparison(expr, scope),
            Some(NodeEnum::SubLink(link)) => {
                if let Some(NodeEnum::SelectStmt(select)) =
                    link.subselect.as_deref().and_then(|n| n.node.as_ref())
                {
                    self.walk_select(select);
                }
            }
            _ => {}
        }
    }

    /// Records an OR whose branches read different tables of the scope, because no index on
    /// either table can narrow its rows before the join.
    fn check_or(&mut self, branches: &[Node], scope: &Scope) {
        let mut touched: Vec<usize> = Vec::new();
        for branch in branches {
            let mut columns = Vec::new();
            collect_column_refs(branch, &mut columns);
            for column in columns {
                let owners = self.owners(std::slice::from_ref(&column), scope);
                if let Some([only]) = owners.as_deref()
                    && !touched.contains(only)
                {
                    touched.push(*only);
                }
            }
        }
        if touched.len() < 2 {
            return;
        }
        let tables = touched
            .iter()
            .map(|&index| self.relations[index].name.clone())
            .collect();
        self.obstacles.push(Obstacle {
            relations: touched,
            kind: ObstacleKind::OrAcrossTables { tables },
        });
    }

    fn add_pattern_match(&mut self, expr: &protobuf::AExpr, scope: &Scope) {
        let (Some(left), Some(right)) = (expr.lexpr.as_deref(), expr.rexpr.as_deref()) else {
            return;
        };
        let Operand::Column(column) = classify(left) else {
            return;
        };
        let Some(relations) = self.owners(std::slice::from_ref(&column), scope) else {
            return;
        };
        let leading_wildcard = pattern_start(right)
            .filter(|start| !start.is_empty())
            .map(|start| start.starts_with('%') || start.starts_with('_'));
        self.obstacles.push(Obstacle {
            relations,
            kind: ObstacleKind::PatternMatch {
                column: column.name,
                case_insensitive: expr.kind == AExprKind::AexprIlike as i32,
                leading_wildcard,
            },
        });
    }

    fn add_comparison(&mut self, expr: &protobuf::AExpr, scope: &Scope) {
        let (Some(left), Some(right)) = (expr.lexpr.as_deref(), expr.rexpr.as_deref()) else {
            return;
        };
        let Some(comparison) = comparison_of(expr) else {
            return;
        };
        let equality_operator =
            comparison == Comparison::Equality && expr.kind == AExprKind::AexprOp as i32;
        let literal = (equality_operator && (is_literal(left) || is_literal(right)))
            .then(|| literal_predicate(expr))
            .flatten();
        let parameter = equality_operator && (is_parameter(left) || is_parameter(right));
        match (classify(left), classify(right)) {
            (Operand::Column(a), Operand::Column(b)) if comparison == Comparison::Equality => {
                // A join condition: either side may be the inner side of a nested loop.
                self.add_filter(Operand::Column(a), comparison, None, false, scope);
                self.add_filter(Operand::Column(b), comparison, None, false, scope);
            }
            (operand, Operand::Value) => {
                self.add_filter(operand, comparison, literal, parameter, scope)
            }
            (Operand::Value, operand) if expr.kind == AExprKind::AexprOp as i32 => {
                self.add_filter(operand, comparison, literal, parameter, scope)
            }
            _ => {}
        }
    }

    fn add_filter(
        &mut self,
        operand: Operand,
        comparison: Comparison,
        literal_predicate: Option<String>,
        compares_parameter: bool,
        scope: &Scope,
    ) {
        let Some((target, columns)) = target_of(operand) else {
            return;
        };
        let Some(relations) = self.owners(&columns, scope) else {
            return;
        };
        let filter = Filter {
            relations,
            target,
            comparison,
            literal_predicate,
            compares_parameter,
        };
        if !self.filters.contains(&filter) {
            self.filters.push(filter);
        }
    }

    /// Returns the scope's relations that the columns may belong to: the one their common
    /// qualifier names, or all of the scope when no column is qualified. Returns `None` when
    /// the columns name different tables, or a qualifier outside this scope.
    fn owners(&self, columns: &[ColumnName], scope: &Scope) -> Option<Vec<usize>> {
        let qualifiers: HashSet<Option<&str>> =
            columns.iter().map(|c| c.qualifier.as_deref()).collect();
        if qualifiers.len() != 1 {
            return None;
        }
        match qualifiers.into_iter().next().flatten() {
            None => Some(scope.clone()).filter(|scope| !scope.is_empty()),
            Some(qualifier) => scope
                .iter()
                .copied()
                .find(|&index| self.is_named_by(index, qualifier))
                .map(|index| vec![index]),
        }
    }

    /// Checks whether a qualifier refers to a relation: its alias, or its name when it has none.
    fn is_named_by(&self, index: usize, qualifier: &str) -> bool {
        let relation = &self.relations[index];
        match &relation.alias {
            Some(alias) => alias == qualifier,
            None => relation.name == qualifier,
        }
    }
}

/// Maps an operator expression to a comparison a btree can serve, or `None`.
fn comparison_of(expr: &protobuf::AExpr) -> Option<Comparison> {
    let operator = expr.name.last().and_then(|name| match &name.node {
        Some(NodeEnum::String(text)) => Some(text.sval.as_str()),
        _ => None,
    })?;
    let kind = AExprKind::try_from(expr.kind).ok()?;
    match (kind, operator) {
        (AExprKind::AexprOp, "=") => Some(Comparison::Equality),
        (AExprKind::AexprOp, "<" | "<=" | ">" | ">=") => Some(Comparison::Range),
        (AExprKind::AexprIn, "=") | (AExprKind::AexprOpAny, "=") => Some(Comparison::List),
        (AExprKind::AexprBetween | AExprKind::AexprBetweenSym, _) => Some(Comparison::Range),
        _ => None,
    }
}

/// Collects the column references anywhere in a condition, subqueries excepted.
fn collect_column_refs(node: &Node, columns: &mut Vec<ColumnName>) {
    match &node.node {
        Some(NodeEnum::ColumnRef(_)) => {
            if let Operand::Column(column) = classify(node) {
                columns.push(column);
            }
        }
        Some(NodeEnum::BoolExpr(expr)) => expr
            .args
            .iter()
            .for_each(|arg| collect_column_refs(arg, columns)),
        Some(NodeEnum::AExpr(expr)) => {
            for side in [expr.lexpr.as_deref(), expr.rexpr.as_deref()]
                .into_iter()
                .flatten()
            {
                collect_column_refs(side, columns);
            }
        }
        Some(NodeEnum::FuncCall(call)) => call
            .args
            .iter()
            .for_each(|arg| collect_column_refs(arg, columns)),
        Some(NodeEnum::TypeCast(cast)) => {
            if let Some(arg) = cast.arg.as_deref() {
                collect_column_refs(arg, columns);
            }
        }
        Some(NodeEnum::NullTest(test)) => {
            if let Some(arg) = test.arg.as_deref() {
                collect_column_refs(arg, columns);
            }
        }
        _ => {}
    }
}

/// Turns a column or an expression over columns into an index target and the columns it reads.
fn target_of(operand: Operand) -> Option<(FilterTarget, Vec<ColumnName>)> {
    match operand {
        Operand::Column(column) => Some((FilterTarget::Column(column.name.clone()), vec![column])),
        Operand::Expression { node, columns } => {
            let sql = index_expression_sql(&node)?;
            let names = columns.iter().map(|c| c.name.clone()).collect();
            Some((
                FilterTarget::Expression {
                    sql,
                    columns: names,
                },
                columns,
            ))
        }
        Operand::Value | Operand::Other => None,
    }
}

/// Checks whether a node is a constant, possibly cast, such as `'admin'` or `'admin'::text`.
fn is_literal(node: &Node) -> bool {
    match &node.node {
        Some(NodeEnum::AConst(constant)) => !constant.isnull,
        Some(NodeEnum::TypeCast(cast)) => cast.arg.as_deref().is_some_and(is_literal),
        _ => false,
    }
}

/// Checks whether a node is a parameter, possibly cast, such as `$1` or `$1::text`.
fn is_parameter(node: &Node) -> bool {
    match &node.node {
        Some(NodeEnum::ParamRef(_)) => true,
        Some(NodeEnum::TypeCast(cast)) => cast.arg.as_deref().is_some_and(is_parameter),
        _ => false,
    }
}

/// Deparses `column = literal` without qualifiers, for the WHERE clause of a partial index.
fn literal_predicate(expr: &protobuf::AExpr) -> Option<String> {
    index_expression_sql(&Node {
        node: Some(NodeEnum::AExpr(Box::new(expr.clone()))),
    })
}

/// Returns the literal text a pattern starts with: the pattern itself when it is a literal,
/// or the leftmost literal of a concatenation such as `'%' || $1 || '%'`.
fn pattern_start(pattern: &Node) -> Option<&str> {
    match &pattern.node {
        Some(NodeEnum::AConst(constant)) => match &constant.val {
            Some(protobuf::a_const::Val::Sval(text)) => Some(text.sval.as_str()),
            _ => None,
        },
        Some(NodeEnum::TypeCast(cast)) => cast.arg.as_deref().and_then(pattern_start),
        Some(NodeEnum::AExpr(expr)) if is_concatenation(expr) => {
            expr.lexpr.as_deref().and_then(pattern_start)
        }
        _ => None,
    }
}

fn is_concatenation(expr: &protobuf::AExpr) -> bool {
    expr.kind == AExprKind::AexprOp as i32
        && expr.name.last().is_some_and(
            |name| matches!(&name.node, Some(NodeEnum::String(text)) if text.sval == "||"),
        )
}
