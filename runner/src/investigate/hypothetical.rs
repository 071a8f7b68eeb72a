//! Evaluation of candidate indexes with HypoPG hypothetical indexes, which exist only in the
//! planner of this session and cost neither disk nor locks.

use contracts::IndexKey;
use contracts::action::quote_identifier;
use tokio_postgres::Client;

use super::error::{Error, Result, server_detail};
use super::plan::{GenericPlan, PlanLimits, plan_generic};
use super::snapshot::TableName;
use super::statement::ParsedStatement;

/// The plan of a statement with one hypothetical index in place.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub plan: GenericPlan,
    /// HypoPG's estimate of the index's size on disk.
    pub index_bytes: i64,
}

/// Makes sure HypoPG is installed in the database, creating the extension when it is
/// available on the server but not yet created. A standby cannot create it, so there the
/// extension has to be created on the primary and reach the standby by replication.
pub async fn ensure_hypopg(client: &Client, server_version: i32, standby: bool) -> Result<()> {
    let installed = client
        .query_opt("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'", &[])
        .await
        .map_err(Error::database("check for the hypopg extension"))?
        .is_some();
    if installed {
        return Ok(());
    }
    if standby {
        return Err(Error::MissingExtension {
            extension: "hypopg",
            package: format!("postgresql-{}-hypopg", server_version / 10000),
            reason: "this server is a standby, where no extension can be created; run CREATE \
                     EXTENSION hypopg on its primary, and it reaches this standby by \
                     replication"
                .into(),
        });
    }
    client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        .await
        .map_err(|source| Error::MissingExtension {
            extension: "hypopg",
            package: format!("postgresql-{}-hypopg", server_version / 10000),
            reason: server_detail(&source),
        })
}

/// Renders the DDL HypoPG reads: a plain CREATE INDEX, because HypoPG rejects CONCURRENTLY,
/// with the same quoted keys and predicate as the proposed action.
pub fn hypothetical_ddl(table: &TableName, keys: &[IndexKey], predicate: Option<&str>) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|key| match key {
            IndexKey::Column { name, descending } => {
                let direction = if *descending { " DESC" } else { "" };
                format!("{}{direction}", quote_identifier(name))
            }
            IndexKey::Expression { sql } => format!("({sql})"),
        })
        .collect();
    let mut ddl = format!(
        "CREATE INDEX ON {}.{} USING btree ({})",
        quote_identifier(&table.schema),
        quote_identifier(&table.name),
        keys.join(", ")
    );
    if let Some(predicate) = predicate {
        ddl.push_str(&format!(" WHERE {predicate}"));
    }
    ddl
}

/// Plans the statement with a hypothetical index on `table` and measures the index.
///
/// All hypothetical indexes of the session are removed afterwards, also when planning fails,
/// so that no evaluation plans with another one's index.
pub async fn evaluate(
    client: &Client,
    statement: &ParsedStatement,
    table: &TableName,
    keys: &[IndexKey],
    predicate: Option<&str>,
    limits: PlanLimits,
) -> Result<Evaluation> {
    let ddl = hypothetical_ddl(table, keys, predicate);
    let evaluation = evaluate_with(client, statement, &ddl, limits).await;
    let reset = client
        .batch_execute("SELECT hypopg_reset()")
        .await
        .map_err(Error::database(
            "remove hypothetical indexes with hypopg_reset()",
        ));
    let evaluation = evaluation?;
    reset?;
    Ok(evaluation)
}

async fn evaluate_with(
    client: &Client,
    statement: &ParsedStatement,
    ddl: &str,
    limits: PlanLimits,
) -> Result<Evaluation> {
    let action = format!("create hypothetical index {ddl}");
    let index_oid: u32 = client
        .query_one("SELECT indexrelid FROM hypopg_create_index($1)", &[&ddl])
        .await
        .map_err(Error::database(&action))?
        .get(0);
    let plan = plan_generic(client, statement, limits)
        .await
        .map_err(Error::database(format!("plan the statement with {ddl}")))?;
    let index_bytes: i64 = client
        .query_one("SELECT hypopg_relation_size($1)", &[&index_oid])
        .await
        .map_err(Error::database(format!("estimate the size of {ddl}")))?
        .get(0);
    Ok(Evaluation { plan, index_bytes })
}
