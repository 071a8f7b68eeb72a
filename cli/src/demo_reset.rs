//! Puts the local stack back to the scenario's start, so that `dbagent demo` can play again.
//! It drops the indexes that the demo's workloads need, and it revokes standing permissions so
//! that the first incident waits for a person's decision again.

use contracts::Instruction;
use contracts::action::quote_identifier;
use tokio_postgres::NoTls;

use crate::api_client::ApiClient;
use crate::stack;

/// Indexes whose first key is the filtered column of one of the scenario's workloads.
const SCENARIO_INDEXES: &str = "
    SELECT n.nspname::text, c.relname::text
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
    WHERE n.nspname = 'public' AND t.relname = $1 AND a.attname = $2";

pub async fn reset(
    state_dir: &std::path::Path,
    api: &ApiClient,
    server_id: &str,
) -> anyhow::Result<()> {
    let target = stack::running_target(state_dir)?;
    let (client, connection) = target.config(stack::TARGET_DATABASE).connect(NoTls).await?;
    tokio::spawn(connection);
    for workload in scenario::Workload::ALL {
        let (table, column) = workload.filter_column();
        for row in client.query(SCENARIO_INDEXES, &[&table, &column]).await? {
            let (schema, index): (String, String) = (row.get(0), row.get(1));
            let drop = format!(
                "DROP INDEX CONCURRENTLY IF EXISTS {}.{}",
                quote_identifier(&schema),
                quote_identifier(&index)
            );
            client.batch_execute(&drop).await?;
            eprintln!("Dropped index {schema}.{index} left by an earlier demo");
        }
    }

    let instructions: Vec<Instruction> = api
        .get(&format!("/api/instructions?server={server_id}"))
        .await?;
    for instruction in instructions
        .iter()
        .filter(|instruction| instruction.revoked_at.is_none())
    {
        let body = serde_json::json!({ "actor": "dbagent demo" });
        api.post::<_, serde_json::Value>(
            &format!("/api/instructions/{}/revoke", instruction.id),
            &body,
        )
        .await?;
        eprintln!(
            "Revoked always-allow instruction {} from an earlier demo",
            instruction.id
        );
    }
    Ok(())
}
