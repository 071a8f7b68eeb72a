//! Catalog lookups: the table a statement names, its columns and its existing indexes.

use contracts::action::quote_identifier;
use tokio_postgres::{Client, Row};

use super::error::{Error, Result};
use super::expression::canonical_expression;
use super::partitions::{PartitionInfo, load_partitions};
use super::snapshot::TableName;
use super::statement::RelationRef;

/// A table as the catalog describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    pub oid: u32,
    pub name: TableName,
    /// `pg_class.relkind`: `r` for a table, `p` partitioned, `f` foreign, `v` view.
    pub kind: String,
    /// The role that owns the table.
    pub owner: String,
    /// Whether the current role may run `CREATE INDEX` on the table, which requires the
    /// owner's privileges (by owning it or by inheriting from the owner) and the CREATE
    /// privilege on its schema.
    pub may_build: bool,
    /// The current role, for explanations.
    pub role: String,
    /// The partitioned table this table is a direct partition of, if any.
    pub partition_of: Option<ParentTable>,
    /// The partitions at every depth below a partitioned table, parents first. Empty for
    /// any other relation.
    pub partitions: Vec<PartitionInfo>,
    /// Column numbers (`attnum`) and names.
    pub columns: Vec<(i16, String)>,
    pub indexes: Vec<ExistingIndex>,
}

/// A partitioned table that a partition belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct ParentTable {
    pub oid: u32,
    /// The name as `regclass` prints it, schema-qualified when off the runner's search_path.
    pub name: String,
}

/// An index that exists on a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ExistingIndex {
    pub name: String,
    /// Access method, such as `btree` or `gist`.
    pub method: String,
    pub valid: bool,
    /// The `WHERE` clause of a partial index, in canonical form.
    pub predicate: Option<String>,
    /// Whether every key uses its type's default operator class. A key with another class,
    /// such as `text_pattern_ops`, serves other comparisons.
    pub default_operator_classes: bool,
    pub keys: Vec<ExistingKey>,
    /// Whether each key is sorted descending, in the order of `keys`.
    pub descending: Vec<bool>,
}

/// A key of an existing index: a column number, or an expression in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExistingKey {
    Column(i16),
    Expression(String),
}

impl TableInfo {
    /// Names the relation kind in words, such as "foreign table".
    pub fn kind_name(&self) -> &'static str {
        match self.kind.as_str() {
            "r" => "table",
            "p" => "partitioned table",
            "m" => "materialized view",
            "v" => "view",
            "f" => "foreign table",
            "S" => "sequence",
            _ => "relation",
        }
    }

    pub fn column_number(&self, name: &str) -> Option<i16> {
        self.columns
            .iter()
            .find(|(_, column)| column == name)
            .map(|(number, _)| *number)
    }

    pub fn has_columns(&self, names: &[&str]) -> bool {
        names.iter().all(|name| self.column_number(name).is_some())
    }
}

const COLUMNS_SQL: &str = "
    SELECT attnum, attname::text FROM pg_attribute
    WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped
    ORDER BY attnum";

const INDEXES_SQL: &str = "
    SELECT ic.relname::text, am.amname::text, i.indisvalid,
           pg_get_expr(i.indpred, i.indrelid, true),
           i.indkey::int2[],
           ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
                 FROM generate_series(1, i.indnkeyatts::int) AS k ORDER BY k),
           coalesce((SELECT bool_and(opc.opcdefault) FROM pg_opclass opc
                     WHERE opc.oid = ANY (i.indclass::oid[])), true),
           i.indoption::int2[]
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_am am ON am.oid = ic.relam
    WHERE i.indrelid = $1
    ORDER BY ic.relname";

/// Looks a relation up as the statement names it: with its own schema, or through the
/// session's search_path. Returns `None` when no such relation exists.
pub async fn load_table(client: &Client, relation: &RelationRef) -> Result<Option<TableInfo>> {
    // The name goes to to_regclass as a bind value; quoting makes it one identifier each.
    let qualified = match &relation.schema {
        Some(schema) => format!(
            "{}.{}",
            quote_identifier(schema),
            quote_identifier(&relation.name)
        ),
        None => quote_identifier(&relation.name),
    };
    let action = format!("look up table {qualified}");
    let row = client
        .query_opt(
            "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text,
                    pg_get_userbyid(c.relowner)::text,
                    pg_has_role(current_user, c.relowner, 'USAGE')
                      AND has_schema_privilege(current_user, n.oid, 'CREATE'),
                    current_user::text,
                    (SELECT i.inhparent FROM pg_inherits i
                     WHERE c.relispartition AND i.inhrelid = c.oid),
                    (SELECT i.inhparent::regclass::text FROM pg_inherits i
                     WHERE c.relispartition AND i.inhrelid = c.oid)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.oid = to_regclass($1)",
            &[&qualified],
        )
        .await
        .map_err(Error::database(&action))?;
    let Some(row) = row else {
        return Ok(None);
    };

    let oid: u32 = row.get(0);
    let kind: String = row.get(3);
    let partitions = match kind.as_str() {
        "p" => load_partitions(client, oid).await?,
        _ => Vec::new(),
    };
    let columns = client
        .query(COLUMNS_SQL, &[&oid])
        .await
        .map_err(Error::database(&action))?;
    let indexes = client
        .query(INDEXES_SQL, &[&oid])
        .await
        .map_err(Error::database(&action))?;
    Ok(Some(TableInfo {
        oid,
        name: TableName {
            schema: row.get(1),
            name: row.get(2),
        },
        kind,
        owner: row.get(4),
        may_build: row.get(5),
        role: row.get(6),
        partition_of: row
            .get::<_, Option<u32>>(7)
            .zip(row.get::<_, Option<String>>(8))
            .map(|(oid, name)| ParentTable { oid, name }),
        partitions,
        columns: columns.iter().map(|r| (r.get(0), r.get(1))).collect(),
        indexes: indexes.iter().map(existing_index).collect(),
    }))
}

fn existing_index(row: &Row) -> ExistingIndex {
    let numbers: Vec<i16> = row.get(4);
    let definitions: Vec<String> = row.get(5);
    let keys = definitions
        .iter()
        .enumerate()
        .map(|(position, definition)| match numbers.get(position) {
            Some(&number) if number != 0 => ExistingKey::Column(number),
            _ => ExistingKey::Expression(
                canonical_expression(definition).unwrap_or_else(|| definition.clone()),
            ),
        })
        .collect();
    ExistingIndex {
        name: row.get(0),
        method: row.get(1),
        valid: row.get(2),
        predicate: row
            .get::<_, Option<String>>(3)
            .map(|sql| canonical_expression(&sql).unwrap_or(sql)),
        default_operator_classes: row.get(6),
        keys,
        // Bit 0 of each key's indoption is INDOPTION_DESC.
        descending: row
            .get::<_, Vec<i16>>(7)
            .iter()
            .map(|option| option & 1 == 1)
            .collect(),
    }
}

/// Returns the schemas that contain a table, view or foreign table of this name, for a
/// statement that names it without schema from a session whose search_path differs from the
/// runner's.
pub async fn schemas_with_relation(client: &Client, name: &str) -> Result<Vec<String>> {
    let rows = client
        .query(
            "SELECT n.nspname::text FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'm', 'v', 'f')
             ORDER BY 1",
            &[&name],
        )
        .await
        .map_err(Error::database(format!(
            "find the schemas that contain a relation named {name}"
        )))?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// Returns the partitioned tables above a partition, nearest first, up to the root of its
/// partition tree. Empty for a relation that is no partition.
pub async fn partition_ancestors(client: &Client, oid: u32) -> Result<Vec<ParentTable>> {
    // pg_partition_ancestors (PostgreSQL 12 and later) lists the relation itself first.
    let rows = client
        .query(
            "SELECT a.relid::oid, a.relid::text
             FROM pg_partition_ancestors($1::oid::regclass) WITH ORDINALITY AS a(relid, level)
             WHERE a.relid::oid <> $1
             ORDER BY a.level",
            &[&oid],
        )
        .await
        .map_err(Error::database(format!(
            "list the partition ancestors of relation {oid}"
        )))?;
    Ok(rows
        .iter()
        .map(|row| ParentTable {
            oid: row.get(0),
            name: row.get(1),
        })
        .collect())
}
