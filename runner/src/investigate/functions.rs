//! Statements whose time is spent inside a function: `SELECT order_count($1)` shows at top
//! level, while the statements the function runs are recorded only with
//! `pg_stat_statements.track = all`.

use tokio_postgres::Client;

use super::error::{Error, Result};
use super::findings::Verdict;
use super::statement::ParsedStatement;

/// Finds a function by name, in the schema given or else in the first schema of the runner
/// session's search_path that has one. Only functions in a language that runs statements,
/// such as PL/pgSQL or SQL, count: `internal` and `c` functions run none.
const FUNCTION_SQL: &str = "
    SELECT p.oid::regprocedure::text, l.lanname::text
    FROM pg_proc p
    JOIN pg_language l ON l.oid = p.prolang
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.proname = $1
      AND l.lanname NOT IN ('internal', 'c')
      AND CASE WHEN $2::text IS NULL THEN n.nspname = ANY (current_schemas(false))
               ELSE n.nspname = $2 END
    ORDER BY array_position(current_schemas(false), n.nspname::name)
    LIMIT 1";

/// Returns the verdict for a statement without sequential scans that calls a function that
/// runs statements, naming the function and the `pg_stat_statements.track` setting that
/// decides whether those statements are recorded.
pub async fn cost_inside_function(
    client: &Client,
    statement: &ParsedStatement,
) -> Result<Option<Verdict>> {
    for name in &statement.functions {
        let (schema, function) = match name.rsplit_once('.') {
            Some((schema, function)) => (Some(schema), function),
            None => (None, name.as_str()),
        };
        let row = client
            .query_opt(FUNCTION_SQL, &[&function, &schema])
            .await
            .map_err(Error::database(format!("look up function {name}")))?;
        if let Some(row) = row {
            let track = tracking(client).await?;
            return Ok(Some(Verdict::CostInsideFunction {
                function: row.get(0),
                track,
            }));
        }
    }
    Ok(None)
}

async fn tracking(client: &Client) -> Result<String> {
    let row = client
        .query_one(
            "SELECT current_setting('pg_stat_statements.track', true)",
            &[],
        )
        .await
        .map_err(Error::database("read pg_stat_statements.track"))?;
    Ok(row
        .get::<_, Option<String>>(0)
        .unwrap_or_else(|| "top".into()))
}
