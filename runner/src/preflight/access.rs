//! Checks made right before a build or a drop, because the server may have changed since the
//! issue was opened: a failover can turn it into a standby, and ownership can move.

use contracts::action::quote_identifier;
use contracts::{ActionKind, CreateIndex, DropIndex, ServerId};
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

/// Partitions of a partitioned table, at any depth, whose owner the runner's role neither is
/// nor belongs to, with that owner. Every partition gets an index of its own, which only a
/// member of the partition's owner role may create. `pg_partition_tree` returns just the table
/// itself for a table without partitions.
const FOREIGN_OWNED_PARTITIONS_SQL: &str = "
    SELECT t.relid::regclass::text, pg_get_userbyid(c.relowner)::text
    FROM pg_partition_tree(to_regclass($1)) AS t
    JOIN pg_class c ON c.oid = t.relid
    WHERE t.level > 0 AND NOT pg_has_role(current_user, c.relowner, 'USAGE')
    ORDER BY t.level, 1";

/// The table whose index an action builds or drops.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub schema: &'a str,
    pub table: &'a str,
    pub kind: ActionKind,
}

impl<'a> From<&'a CreateIndex> for Target<'a> {
    fn from(action: &'a CreateIndex) -> Target<'a> {
        Target {
            schema: &action.schema,
            table: &action.table,
            kind: ActionKind::CreateIndex,
        }
    }
}

impl<'a> From<&'a DropIndex> for Target<'a> {
    fn from(action: &'a DropIndex) -> Target<'a> {
        Target {
            schema: &action.schema,
            table: &action.table,
            kind: ActionKind::DropIndex,
        }
    }
}

/// Returns why the index cannot be built or dropped now, as a sentence for the issue, or
/// `None` when every check passes. Both need the table's owner role, and only a build needs
/// `CREATE` on the schema.
pub async fn blocker<'a>(
    client: &Client,
    server_id: &ServerId,
    target: impl Into<Target<'a>>,
) -> Result<Option<String>, Error> {
    let target = target.into();
    let (verb, past_participle) = match target.kind {
        ActionKind::CreateIndex => ("build", "built"),
        ActionKind::DropIndex => ("drop", "dropped"),
    };
    // The name goes to to_regclass as a bind value, quoted so that each part is one identifier.
    let table = format!(
        "{}.{}",
        quote_identifier(target.schema),
        quote_identifier(target.table)
    );
    let row = client
        .query_one(PREFLIGHT_SQL, &[&table])
        .await
        .map_err(failed("check the server before the action", server_id))?;
    let in_recovery: bool = row.get(0);
    let exists: bool = row.get(1);
    let owner: Option<String> = row.get(2);
    let may_use_owner: bool = row.get(3);
    let may_create: bool = row.get(4);
    let role: String = row.get(5);

    let reason = if in_recovery {
        Some(format!(
            "Preflight failed: server {server_id} is in recovery (a standby), where no index \
             can be {past_participle}. Run the action on the primary."
        ))
    } else if !exists {
        Some(format!(
            "Preflight failed: table {table} no longer exists on server {server_id}."
        ))
    } else if !may_use_owner {
        Some(format!(
            "Preflight failed: {table} belongs to the role {}, and the runner's role {role} \
             neither is nor belongs to it. An owner of the table has to {verb} the index; \
             DBAgent never changes owners or grants itself roles.",
            owner.unwrap_or_default()
        ))
    } else if target.kind == ActionKind::CreateIndex && !may_create {
        Some(format!(
            "Preflight failed: the runner's role {role} may not create objects in the schema \
             of {table}, which building an index requires."
        ))
    } else if target.kind == ActionKind::CreateIndex {
        foreign_owned_partitions(client, server_id, &table, &role).await?
    } else {
        None
    };
    Ok(reason)
}

/// Returns why the runner cannot index every partition of `table`, or `None` when it can.
async fn foreign_owned_partitions(
    client: &Client,
    server_id: &ServerId,
    table: &str,
    role: &str,
) -> Result<Option<String>, Error> {
    let rows = client
        .query(FOREIGN_OWNED_PARTITIONS_SQL, &[&table])
        .await
        .map_err(failed("check the owners of the partitions", server_id))?;
    if rows.is_empty() {
        return Ok(None);
    }
    let partitions: Vec<String> = rows
        .iter()
        .map(|row| {
            format!(
                "{} (owner {})",
                row.get::<_, String>(0),
                row.get::<_, String>(1)
            )
        })
        .collect();
    Ok(Some(format!(
        "Preflight failed: the runner's role {role} neither is nor belongs to the owner of \
         these partitions of {table}, and each partition gets an index of its own: {}. An \
         owner has to build the index; DBAgent never changes owners or grants itself roles.",
        partitions.join(", ")
    )))
}
