//! Catalog reads for building an index on a partitioned table: the partition tree as it is
//! now, and the state of each index the build creates.

use contracts::action::qualified_name;
use contracts::partitioned_index::IndexedPartition;
use contracts::{CreateIndex, ServerId};
use tokio_postgres::Client;

use crate::Error;
use crate::target::failed;

/// The partitions below a table, with `pg_class.relkind`, parents before their partitions.
const PARTITION_TREE_SQL: &str = "
    SELECT n.nspname::text, c.relname::text, pn.nspname::text, pc.relname::text,
           c.relkind::text
    FROM pg_partition_tree(to_regclass($1)) AS t
    JOIN pg_class c ON c.oid = t.relid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_class pc ON pc.oid = t.parentrelid
    JOIN pg_namespace pn ON pn.oid = pc.relnamespace
    WHERE t.level > 0
    ORDER BY t.level, n.nspname, c.relname";

/// The validity of an index by name, whether it belongs to the expected table, and whether it
/// is attached to the expected parent index.
const INDEX_STATE_SQL: &str = "
    SELECT i.indisvalid, i.indrelid = to_regclass($3),
           EXISTS (SELECT 1 FROM pg_inherits h
                   WHERE h.inhrelid = c.oid AND h.inhparent = to_regclass($4))
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relname = $2";

/// An index of the build that exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexState {
    pub valid: bool,
    /// Whether the index is on the table the build expects. An index of the same name on
    /// another table is someone else's, and the build stops rather than touch it.
    pub on_expected_table: bool,
    pub attached: bool,
}

/// Tells whether `schema.table` is a partitioned table now.
pub async fn is_partitioned_table(
    client: &Client,
    server_id: &ServerId,
    schema: &str,
    table: &str,
) -> Result<bool, Error> {
    let row = client
        .query_opt(
            "SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass($1)",
            &[&qualified_name(schema, table)],
        )
        .await
        .map_err(failed("look up the table's kind", server_id))?;
    Ok(row.is_some_and(|row| row.get(0)))
}

/// Reads the partitions below the action's table as they are now, with the names of their
/// indexes. A foreign-table partition stops the build: it cannot have an index, so the index
/// on the partitioned table could never become valid.
pub async fn current_partitions(
    client: &Client,
    server_id: &ServerId,
    action: &CreateIndex,
) -> Result<Vec<IndexedPartition>, Error> {
    let rows = client
        .query(
            PARTITION_TREE_SQL,
            &[&qualified_name(&action.schema, &action.table)],
        )
        .await
        .map_err(failed("list the partitions of the table", server_id))?;
    let mut partitions = Vec::new();
    for row in rows {
        let (schema, table): (String, String) = (row.get(0), row.get(1));
        let (parent_schema, parent_table): (String, String) = (row.get(2), row.get(3));
        let kind: String = row.get(4);
        if kind != "r" && kind != "p" {
            return Err(Error::PartitionNotIndexable {
                server_id: server_id.to_string(),
                table: format!("{}.{}", action.schema, action.table),
                partition: format!("{schema}.{table}"),
            });
        }
        partitions.push(IndexedPartition::new(
            &action.index_name,
            (&schema, &table),
            (&parent_schema, &parent_table),
            kind == "p",
        ));
    }
    Ok(partitions)
}

/// Reads the state of the index `schema.name`, expected on `table` and attached to
/// `parent_index` (both schema-qualified and quoted). `None` when no index has that name.
pub async fn index_state(
    client: &Client,
    server_id: &ServerId,
    (schema, name): (&str, &str),
    table: &str,
    parent_index: Option<&str>,
) -> Result<Option<IndexState>, Error> {
    let row = client
        .query_opt(INDEX_STATE_SQL, &[&schema, &name, &table, &parent_index])
        .await
        .map_err(failed("look up the index", server_id))?;
    Ok(row.map(|row| IndexState {
        valid: row.get(0),
        on_expected_table: row.get::<_, Option<bool>>(1).unwrap_or(false),
        attached: row.get::<_, Option<bool>>(2).unwrap_or(false),
    }))
}
