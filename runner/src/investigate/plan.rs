//! Generic plans of normalized statements, and the walk over their JSON.

use std::time::Duration;

use contracts::action::quote_identifier;
use serde_json::Value;
use tokio_postgres::{Client, SimpleQueryMessage};

use super::findings::FullScan;
use super::snapshot::TableName;
use super::statement::ParsedStatement;

/// Name of the prepared statement used for planning on PostgreSQL 15 and older.
const PREPARED_NAME: &str = "dbagent_generic_plan";

/// The plan PostgreSQL uses when it cannot look at parameter values.
#[derive(Debug, Clone, PartialEq)]
pub struct GenericPlan {
    /// The `EXPLAIN (VERBOSE, FORMAT JSON)` output.
    pub json: Value,
    pub total_cost: f64,
}

/// A `Seq Scan` node of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct SeqScan {
    pub schema: String,
    pub relation: String,
    pub filter: Option<String>,
    pub total_cost: f64,
    /// The planner's row estimate (`Plan Rows`), which is per process for a parallel scan.
    pub plan_rows: f64,
    pub parallel_aware: bool,
}

/// Limits of the read-only transactions that plan statements.
#[derive(Debug, Clone, Copy)]
pub struct PlanLimits {
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    /// `server_version_num`, such as 150004.
    pub server_version: i32,
}

/// Plans a validated statement without running it.
///
/// The statement text has to be pasted into SQL, because PREPARE and EXPLAIN take no bind
/// parameter for it. That is safe only because `statement` went through
/// [`super::statement::parse_statement`]: it is the deparsed tree of exactly one SELECT, UPDATE
/// or DELETE. As a second guard it runs in a READ ONLY transaction with short statement and
/// lock timeouts, and EXPLAIN without ANALYZE executes nothing.
pub async fn plan_generic(
    client: &Client,
    statement: &ParsedStatement,
    limits: PlanLimits,
) -> Result<GenericPlan, tokio_postgres::Error> {
    let begin = format!(
        "BEGIN READ ONLY; SET LOCAL statement_timeout = {}; SET LOCAL lock_timeout = {}",
        limits.statement_timeout.as_millis(),
        limits.lock_timeout.as_millis()
    );
    client.batch_execute(&begin).await?;
    let planned = match prepend_search_path(client, &statement.search_path).await {
        Ok(()) => explain(client, statement, limits.server_version).await,
        Err(error) => Err(error),
    };

    // Both run whatever happened: a PREPARE survives the ROLLBACK of its transaction.
    let rolled_back = client.batch_execute("ROLLBACK").await;
    if limits.server_version < 160000 {
        let _ = client
            .batch_execute(&format!("DEALLOCATE {PREPARED_NAME}"))
            .await;
    }
    let text = planned?;
    rolled_back?;
    Ok(parse_plan(&text))
}

/// Prepends schemas to the session's search_path until the transaction ends. The schemas
/// are quoted as identifiers and passed as a bind value.
async fn prepend_search_path(
    client: &Client,
    schemas: &[String],
) -> Result<(), tokio_postgres::Error> {
    if schemas.is_empty() {
        return Ok(());
    }
    let quoted: Vec<String> = schemas.iter().map(|s| quote_identifier(s)).collect();
    client
        .query(
            "SELECT set_config('search_path', $1 || ', ' || current_setting('search_path'), true)",
            &[&quoted.join(", ")],
        )
        .await?;
    Ok(())
}

async fn explain(
    client: &Client,
    statement: &ParsedStatement,
    server_version: i32,
) -> Result<String, tokio_postgres::Error> {
    if server_version >= 160000 {
        let sql = format!(
            "EXPLAIN (GENERIC_PLAN, VERBOSE, FORMAT JSON) {}",
            statement.sql
        );
        return first_value(client, &sql).await;
    }
    // PostgreSQL 15 has no GENERIC_PLAN option: a prepared statement forced to its generic
    // plan gives the same plan, and the NULL arguments are never used because nothing runs.
    client
        .batch_execute(&format!(
            "SET LOCAL plan_cache_mode = force_generic_plan; PREPARE {PREPARED_NAME} AS {}",
            statement.sql
        ))
        .await?;
    let arguments = if statement.parameter_count == 0 {
        String::new()
    } else {
        format!("({})", vec!["NULL"; statement.parameter_count].join(", "))
    };
    let sql = format!("EXPLAIN (VERBOSE, FORMAT JSON) EXECUTE {PREPARED_NAME}{arguments}");
    first_value(client, &sql).await
}

async fn first_value(client: &Client, sql: &str) -> Result<String, tokio_postgres::Error> {
    let messages = client.simple_query(sql).await?;
    let text = messages.iter().find_map(|message| match message {
        SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    });
    Ok(text.unwrap_or_default())
}

fn parse_plan(text: &str) -> GenericPlan {
    let json: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let total_cost = json[0]["Plan"]["Total Cost"].as_f64().unwrap_or(f64::NAN);
    GenericPlan { json, total_cost }
}

/// Lists every sequential scan of a plan, including those inside joins and subplans.
pub fn seq_scans(plan: &GenericPlan) -> Vec<SeqScan> {
    scans_of_type(plan, "Seq Scan")
}

/// Lists every `Foreign Scan` node of a plan. No index of this server can serve one.
pub fn foreign_scans(plan: &GenericPlan) -> Vec<SeqScan> {
    scans_of_type(plan, "Foreign Scan")
}

fn scans_of_type(plan: &GenericPlan, node_type: &str) -> Vec<SeqScan> {
    let mut scans = Vec::new();
    collect_scans(&plan.json[0]["Plan"], node_type, &mut scans);
    scans
}

fn collect_scans(node: &Value, node_type: &str, scans: &mut Vec<SeqScan>) {
    if node["Node Type"] == node_type {
        scans.push(SeqScan {
            schema: node["Schema"].as_str().unwrap_or("public").to_string(),
            relation: node["Relation Name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            filter: node["Filter"].as_str().map(str::to_string),
            total_cost: node["Total Cost"].as_f64().unwrap_or(0.0),
            plan_rows: node["Plan Rows"].as_f64().unwrap_or(0.0),
            parallel_aware: node["Parallel Aware"].as_bool().unwrap_or(false),
        });
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        collect_scans(child, node_type, scans);
    }
}

/// Returns the divisor of a parallel plan's row estimates: the planned workers plus the
/// leader's share, which is 1 - 0.3 per worker when positive (`get_parallel_divisor` in
/// PostgreSQL's costsize.c). It assumes `parallel_leader_participation` is on, the default.
pub fn parallel_divisor(plan: &GenericPlan) -> f64 {
    let mut nodes = Vec::new();
    collect_nodes(&plan.json[0]["Plan"], &mut nodes);
    let workers = nodes
        .iter()
        .filter_map(|node| node["Workers Planned"].as_f64())
        .fold(0.0, f64::max);
    workers + (1.0 - 0.3 * workers).max(0.0)
}

/// Returns the table that every execution of the plan reads in full, which is when its only
/// scan node is a sequential scan and no Limit node can stop that scan early. Other nodes, such as a Gather,
/// an Aggregate or a ModifyTable, work on the scan's output and are allowed.
pub fn full_scan(plan: &GenericPlan) -> Option<FullScan> {
    let mut nodes = Vec::new();
    collect_nodes(&plan.json[0]["Plan"], &mut nodes);
    let node_type = |node: &Value| node["Node Type"].as_str().unwrap_or_default().to_string();
    if nodes.iter().any(|node| node_type(node) == "Limit") {
        return None;
    }
    let mut scans = nodes
        .iter()
        .filter(|node| node_type(node).ends_with("Scan"));
    let (Some(scan), None) = (scans.next(), scans.next()) else {
        return None;
    };
    if node_type(scan) != "Seq Scan" {
        return None;
    }
    let workers_planned = nodes
        .iter()
        .filter_map(|node| node["Workers Planned"].as_u64())
        .max()
        .unwrap_or(0);
    Some(FullScan {
        table: TableName {
            schema: scan["Schema"].as_str().unwrap_or("public").to_string(),
            name: scan["Relation Name"].as_str()?.to_string(),
        },
        workers_planned: u32::try_from(workers_planned).unwrap_or(u32::MAX),
    })
}

fn collect_nodes<'a>(node: &'a Value, nodes: &mut Vec<&'a Value>) {
    if node.is_null() {
        return;
    }
    nodes.push(node);
    for child in node["Plans"].as_array().into_iter().flatten() {
        collect_nodes(child, nodes);
    }
}

/// Renders a plan like `EXPLAIN`'s text format, with costs, row estimates and conditions.
pub fn render_plan(plan: &GenericPlan) -> String {
    let mut lines = Vec::new();
    render_node(&plan.json[0]["Plan"], 0, &mut lines);
    lines.join("\n")
}

fn render_node(node: &Value, depth: usize, lines: &mut Vec<String>) {
    let indent = if depth == 0 {
        String::new()
    } else {
        format!("{}->  ", " ".repeat(depth * 6 - 4))
    };
    let mut head = format!("{indent}{}", node["Node Type"].as_str().unwrap_or("?"));
    if let Some(index) = node["Index Name"].as_str() {
        head.push_str(&format!(" using {index}"));
    }
    if let Some(relation) = node["Relation Name"].as_str() {
        let schema = node["Schema"].as_str().unwrap_or("public");
        head.push_str(&format!(" on {schema}.{relation}"));
    }
    head.push_str(&format!(
        "  (cost={:.2}..{:.2} rows={})",
        node["Startup Cost"].as_f64().unwrap_or(0.0),
        node["Total Cost"].as_f64().unwrap_or(0.0),
        node["Plan Rows"].as_f64().unwrap_or(0.0)
    ));
    lines.push(head);

    let detail_indent = " ".repeat(depth * 6 + 2);
    for key in [
        "Index Cond",
        "Recheck Cond",
        "Hash Cond",
        "Join Filter",
        "Filter",
    ] {
        if let Some(condition) = node[key].as_str() {
            lines.push(format!("{detail_indent}{key}: {condition}"));
        }
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        render_node(child, depth + 1, lines);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOIN_PLAN: &str = r#"[{"Plan": {
        "Node Type": "Hash Join", "Startup Cost": 10.0, "Total Cost": 900.5, "Plan Rows": 5,
        "Hash Cond": "(a.id = b.a_id)",
        "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "b", "Schema": "shop", "Alias": "b",
             "Startup Cost": 0.0, "Total Cost": 850.0, "Plan Rows": 5,
             "Filter": "(b.code = $1)"},
            {"Node Type": "Hash", "Startup Cost": 5.0, "Total Cost": 5.0, "Plan Rows": 100,
             "Plans": [{"Node Type": "Index Scan", "Index Name": "a_pkey",
                        "Relation Name": "a", "Schema": "shop", "Startup Cost": 0.0,
                        "Total Cost": 4.0, "Plan Rows": 100}]}
        ]}}]"#;

    #[test]
    fn seq_scans_inside_joins_are_found() {
        let plan = parse_plan(JOIN_PLAN);
        assert_eq!(plan.total_cost, 900.5);
        let scans = seq_scans(&plan);
        assert_eq!(scans.len(), 1);
        assert_eq!(scans[0].schema, "shop");
        assert_eq!(scans[0].relation, "b");
        assert_eq!(scans[0].filter.as_deref(), Some("(b.code = $1)"));
    }

    #[test]
    fn rendering_shows_nodes_and_conditions() {
        let text = render_plan(&parse_plan(JOIN_PLAN));
        assert!(
            text.starts_with("Hash Join  (cost=10.00..900.50 rows=5)"),
            "{text}"
        );
        assert!(text.contains("->  Seq Scan on shop.b"), "{text}");
        assert!(text.contains("Filter: (b.code = $1)"), "{text}");
        assert!(text.contains("Index Scan using a_pkey on shop.a"), "{text}");
    }

    const PARALLEL_SCAN_PLAN: &str = r#"[{"Plan": {
        "Node Type": "Gather", "Workers Planned": 2, "Total Cost": 5000.0, "Plan Rows": 6,
        "Plans": [
            {"Node Type": "Seq Scan", "Parallel Aware": true, "Relation Name": "orders",
             "Schema": "shop", "Total Cost": 4000.0, "Plan Rows": 3,
             "Filter": "(orders.customer_id = $1)"}
        ]}}]"#;

    #[test]
    fn full_scan_found_under_gather() {
        let scan = full_scan(&parse_plan(PARALLEL_SCAN_PLAN)).unwrap();
        assert_eq!(scan.table.to_string(), "shop.orders");
        assert_eq!(scan.workers_planned, 2);
    }

    const LIMITED_SCAN_PLAN: &str = r#"[{"Plan": {
        "Node Type": "Limit", "Total Cost": 10.0, "Plan Rows": 1,
        "Plans": [{"Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "shop",
                   "Total Cost": 4000.0, "Plan Rows": 3}]
        }}]"#;

    #[test]
    fn full_scan_rejects_joins_and_limits() {
        assert_eq!(full_scan(&parse_plan(JOIN_PLAN)), None);
        let limited = parse_plan(LIMITED_SCAN_PLAN);
        assert_eq!(seq_scans(&limited).len(), 1);
        assert_eq!(full_scan(&limited), None);
    }

    #[test]
    fn unreadable_plan_has_no_cost() {
        assert!(parse_plan("not json").total_cost.is_nan());
    }
}
