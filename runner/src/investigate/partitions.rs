//! Partitioned tables in an investigation: the partitions below one, their counters summed
//! as if they were one table, the reasons an index cannot be built on every partition, and
//! the partitions of the proposed action.

use contracts::partitioned_index::IndexedPartition;
use tokio_postgres::Client;

use super::catalog::TableInfo;
use super::delta::{Deltas, TableDelta};
use super::error::{Error, Result};
use super::findings::Verdict;
use super::snapshot::{TableCounters, TableName};

/// The verdict kind for a partitioned table with a foreign-table partition.
pub const FOREIGN_PARTITION_KIND: &str = "partitioned table with a foreign-table partition";

/// A partition at any depth below a partitioned table.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionInfo {
    pub name: TableName,
    /// The partitioned table this partition belongs to directly.
    pub parent: TableName,
    /// `pg_class.relkind`: `r` for a leaf table, `p` partitioned again, `f` foreign.
    pub kind: String,
    pub owner: String,
    /// Whether the current role may run `CREATE INDEX` on the partition.
    pub may_build: bool,
}

impl PartitionInfo {
    pub fn is_leaf(&self) -> bool {
        self.kind != "p"
    }
}

/// Lists the partitions below a partitioned table, parents before their partitions.
pub async fn load_partitions(client: &Client, oid: u32) -> Result<Vec<PartitionInfo>> {
    let rows = client
        .query(
            "SELECT n.nspname::text, c.relname::text, pn.nspname::text, pc.relname::text,
                    c.relkind::text, pg_get_userbyid(c.relowner)::text,
                    pg_has_role(current_user, c.relowner, 'USAGE')
                      AND has_schema_privilege(current_user, n.oid, 'CREATE')
             FROM pg_partition_tree($1::oid::regclass) AS t
             JOIN pg_class c ON c.oid = t.relid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_class pc ON pc.oid = t.parentrelid
             JOIN pg_namespace pn ON pn.oid = pc.relnamespace
             WHERE t.level > 0
             ORDER BY t.level, n.nspname, c.relname",
            &[&oid],
        )
        .await
        .map_err(Error::database(format!(
            "list the partitions of relation {oid}"
        )))?;
    Ok(rows
        .iter()
        .map(|row| PartitionInfo {
            name: TableName {
                schema: row.get(0),
                name: row.get(1),
            },
            parent: TableName {
                schema: row.get(2),
                name: row.get(3),
            },
            kind: row.get(4),
            owner: row.get(5),
            may_build: row.get(6),
        })
        .collect())
}

/// Sums the counters of a partitioned table's leaf partitions, because the statistics views
/// count rows and scans on the partitions and nothing on the partitioned table itself.
/// Returns the table's own delta for any other table.
pub fn table_delta(deltas: &Deltas, table: &TableInfo) -> Option<TableDelta> {
    if table.kind != "p" {
        return deltas.tables.get(&table.name).cloned();
    }
    let leaves: Vec<&TableDelta> = table
        .partitions
        .iter()
        .filter(|partition| partition.is_leaf())
        .filter_map(|partition| deltas.tables.get(&partition.name))
        .collect();
    let (first, rest) = leaves.split_first()?;
    let mut sum = (*first).clone();
    for delta in rest {
        add_delta(&mut sum, delta);
    }
    Some(sum)
}

fn add_delta(sum: &mut TableDelta, delta: &TableDelta) {
    sum.seq_scan += delta.seq_scan;
    sum.seq_tup_read += delta.seq_tup_read;
    sum.idx_scan += delta.idx_scan;
    sum.writes += delta.writes;
    let (total, part): (&mut TableCounters, &TableCounters) = (&mut sum.current, &delta.current);
    total.seq_scan += part.seq_scan;
    total.seq_tup_read += part.seq_tup_read;
    total.idx_scan += part.idx_scan;
    total.n_tup_ins += part.n_tup_ins;
    total.n_tup_upd += part.n_tup_upd;
    total.n_tup_del += part.n_tup_del;
    total.n_live_tup += part.n_live_tup;
    total.size_bytes += part.size_bytes;
    total.pages += part.pages;
    // -1 marks a partition that was never analyzed. The sum stays -1 only when no partition
    // has an estimate, so that the live row count is used instead.
    total.estimated_rows = match (total.estimated_rows < 0.0, part.estimated_rows < 0.0) {
        (true, true) => -1.0,
        (true, false) => part.estimated_rows,
        (false, true) => total.estimated_rows,
        (false, false) => total.estimated_rows + part.estimated_rows,
    };
}

/// Returns the verdict that rules out an index on a partitioned table because a partition
/// cannot get one: a foreign-table partition, or one the runner's role may not index.
pub fn partition_blocker(table: &TableInfo, notes: &mut Vec<String>) -> Option<Verdict> {
    let name = table.name.to_string();
    let foreign: Vec<String> = table
        .partitions
        .iter()
        .filter(|partition| partition.kind == "f")
        .map(|partition| partition.name.to_string())
        .collect();
    if !foreign.is_empty() {
        notes.push(format!(
            "{name} has the foreign-table partitions {}, which cannot have an index. An index \
             created ON ONLY {name} becomes valid only when every partition has one attached, \
             so it would stay INVALID. Indexes on the other partitions, built one by one, can \
             still serve their scans.",
            foreign.join(", ")
        ));
        return Some(Verdict::NotIndexable {
            table: name,
            kind: FOREIGN_PARTITION_KIND.into(),
        });
    }
    let barred = table
        .partitions
        .iter()
        .find(|partition| !partition.may_build)?;
    let verdict = Verdict::NotOwner {
        table: barred.name.to_string(),
        owner: barred.owner.clone(),
        role: table.role.clone(),
    };
    notes.push(format!(
        "No index was evaluated on {name}: {}. Every partition needs its own index. DBAgent \
         never changes owners or grants itself roles.",
        verdict.explanation()
    ));
    Some(verdict)
}

/// Describes the partitions of a partitioned table for the proposed action.
pub fn indexed_partitions(table: &TableInfo, index_name: &str) -> Vec<IndexedPartition> {
    table
        .partitions
        .iter()
        .map(|partition| {
            IndexedPartition::new(
                index_name,
                (&partition.name.schema, &partition.name.name),
                (&partition.parent.schema, &partition.parent.name),
                !partition.is_leaf(),
            )
        })
        .collect()
}

/// Explains how the index on a partitioned table is built.
pub fn build_note(table: &TableInfo, index_name: &str) -> String {
    let leaves = table.partitions.iter().filter(|p| p.is_leaf()).count();
    let levels = table.partitions.len() - leaves;
    let nested = match levels {
        0 => String::new(),
        1 => " One partition is partitioned itself and gets an index ON ONLY it, which \
              collects the indexes of its own partitions."
            .to_string(),
        n => format!(
            " {n} partitions are partitioned themselves and get an index ON ONLY them, which \
             collects the indexes of their own partitions."
        ),
    };
    format!(
        "{name} is partitioned, and CREATE INDEX CONCURRENTLY cannot build an index on a \
         partitioned table. {index_name} is created ON ONLY {name}, a catalog change that \
         takes a SHARE lock on {name} for a moment, then built with CREATE INDEX CONCURRENTLY \
         on each of the {leaves} leaf partitions and attached.{nested} PostgreSQL marks the \
         index valid once every partition has its index attached.",
        name = table.name
    )
}
