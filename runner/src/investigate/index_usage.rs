//! Whether a statement's generic plan uses a given index, to verify a built index.

use serde_json::Value;
use tokio_postgres::Client;

use super::engine::server_version;
use super::plan::{PlanLimits, plan_generic};
use super::{Error, InvestigateOptions, Result, parse_statement};

/// Plans the statement as the investigation did and looks for any of `index_names` in any
/// plan node. An index on a partitioned table shows in plans by the names of its partitions'
/// indexes.
pub async fn plan_uses_index(
    client: &Client,
    statement: &str,
    index_names: &[&str],
    options: &InvestigateOptions,
) -> Result<bool> {
    let parsed = parse_statement(statement).map_err(|reason| Error::StatementRejected {
        query_id: 0,
        reason,
    })?;
    let limits = PlanLimits {
        statement_timeout: options.statement_timeout,
        lock_timeout: options.lock_timeout,
        server_version: server_version(client).await?,
    };
    let plan = plan_generic(client, &parsed, limits)
        .await
        .map_err(Error::database("plan the statement to verify its index"))?;
    Ok(uses_index(&plan.json, index_names))
}

fn uses_index(node: &Value, index_names: &[&str]) -> bool {
    match node {
        Value::Object(fields) => {
            let name = fields.get("Index Name").and_then(Value::as_str);
            name.is_some_and(|name| index_names.contains(&name))
                || fields.values().any(|child| uses_index(child, index_names))
        }
        Value::Array(items) => items.iter().any(|child| uses_index(child, index_names)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn nested_index_scan_is_found() {
        let plan = json!([{"Plan": {"Node Type": "Limit", "Plans": [
            {"Node Type": "Bitmap Heap Scan", "Plans": [
                {"Node Type": "Bitmap Index Scan", "Index Name": "idx_orders_customer_id"}]}]}}]);
        assert!(super::uses_index(&plan, &["idx_orders_customer_id"]));
        assert!(super::uses_index(
            &plan,
            &["idx_a", "idx_orders_customer_id"]
        ));
        assert!(!super::uses_index(&plan, &["idx_other"]));
    }
}
