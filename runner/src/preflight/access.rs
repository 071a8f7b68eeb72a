//! Checks made right before a build, because the server may have changed since the issue was
//! opened: a failover can turn it into a standby, and ownership can move.

use contracts::action::quote_identifier;
use contracts::{CreateIndex, ServerId};
use tokio_postgres::Client;

use crate::Error;
use crate::target::failed;

/// The recovery state, the table's owner and the runner's privileges, read in one round trip.
const PREFLIGHT_SQL: &str = "
    SELECT pg_is_in_recovery(), c.oid IS NOT NULL, pg_get_userbyid(c.relowner)::text,
           coalesce(pg_has_role(current_user, c.relowner, 'USAGE'), false),
           coalesce(has_schema_privilege(current_user, c.relnamespace, 'CREATE'), false),
           current_user::text
    FROM (SELECT to_regclass($1) AS oid) AS t
    LEFT JOIN pg_class c ON c.oid = t.oid";

/// Returns why the index cannot be built now, as a sentence for the issue, or `None` when
/// every check passes.
pub async fn blocker(
    client: &Client,
    server_id: &ServerId,
    action: &CreateIndex,
) -> Result<Option<String>, Error> {
    // The name goes to to_regclass as a bind value, quoted so that each part is one identifier.
    let table = format!(
        "{}.{}",
        quote_identifier(&action.schema),
        quote_identifier(&action.table)
    );
    let row = client
        .query_one(PREFLIGHT_SQL, &[&table])
        .await
        .map_err(failed("check the server before the build", server_id))?;
    let in_recovery: bool = row.get(0);
    let exists: bool = row.get(1);
    let owner: Option<String> = row.get(2);
    let may_use_owner: bool = row.get(3);
    let may_create: bool = row.get(4);
    let role: String = row.get(5);

    let reason = if in_recovery {
        Some(format!(
            "Preflight failed: server {server_id} is in recovery (a standby), where no index \
             can be built. Build it on the primary."
        ))
    } else if !exists {
        Some(format!(
            "Preflight failed: table {table} no longer exists on server {server_id}."
        ))
    } else if !may_use_owner {
        Some(format!(
            "Preflight failed: {table} belongs to the role {}, and the runner's role {role} \
             neither is nor belongs to it. An owner of the table has to build the index; \
             DBAgent never changes owners or grants itself roles.",
            owner.unwrap_or_default()
        ))
    } else if !may_create {
        Some(format!(
            "Preflight failed: the runner's role {role} may not create objects in the schema \
             of {table}, which building an index requires."
        ))
    } else {
        None
    };
    Ok(reason)
}
