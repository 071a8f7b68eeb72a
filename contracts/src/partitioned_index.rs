//! An index on a partitioned table, built partition by partition.
//!
//! `CREATE INDEX CONCURRENTLY` cannot run on a partitioned table, and a plain `CREATE INDEX`
//! on one blocks writes to every partition for the whole build. The index is therefore created
//! `ON ONLY` the partitioned table, which is a catalog change that leaves it INVALID, then
//! built concurrently on each leaf partition and attached. A partition that is partitioned
//! itself gets an `ON ONLY` index of its own, which collects the indexes of its partitions and
//! is attached above them once they are all attached. PostgreSQL marks a partitioned index
//! valid as soon as every partition has a valid index attached to it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{CreateIndex, qualified_name};

/// PostgreSQL truncates identifiers longer than this many bytes (`NAMEDATALEN - 1`).
const MAX_IDENTIFIER_BYTES: usize = 63;

/// A partition below the table of a [`CreateIndex`], with the index it gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndexedPartition {
    pub schema: String,
    pub table: String,
    /// The partitioned table this partition belongs to directly: the action's table, or a
    /// partition that is partitioned itself.
    pub parent_schema: String,
    pub parent_table: String,
    /// Whether the partition is partitioned itself, so that its index is created `ON ONLY` it
    /// instead of being built.
    pub partitioned: bool,
    /// The partition's index, in the partition's schema, from [`partition_index_name`].
    pub index_name: String,
}

impl IndexedPartition {
    /// Describes a partition and names its index after `root_index`.
    pub fn new(
        root_index: &str,
        (schema, table): (&str, &str),
        (parent_schema, parent_table): (&str, &str),
        partitioned: bool,
    ) -> IndexedPartition {
        IndexedPartition {
            schema: schema.to_string(),
            table: table.to_string(),
            parent_schema: parent_schema.to_string(),
            parent_table: parent_table.to_string(),
            partitioned,
            index_name: partition_index_name(root_index, table),
        }
    }
}

impl CreateIndex {
    /// Tells whether the action builds the index partition by partition.
    pub fn is_partitioned(&self) -> bool {
        !self.partitions.is_empty()
    }

    /// Turns the action into one for a partitioned table with these partitions, given
    /// parents first, and renders every statement of the build into `ddl`.
    pub fn with_partitions(mut self, partitions: Vec<IndexedPartition>) -> CreateIndex {
        self.partitions = build_order(partitions);
        self.ddl = self.render_partitioned_ddl();
        self
    }

    /// Returns the DDL, or for a partitioned table its first statement and what follows it.
    pub fn summary(&self) -> String {
        if !self.is_partitioned() {
            return self.ddl.clone();
        }
        let leaves = self.partitions.iter().filter(|p| !p.partitioned).count();
        format!(
            "{}, then CREATE INDEX CONCURRENTLY and ALTER INDEX ... ATTACH PARTITION on each of \
             the {leaves} leaf partitions",
            self.on_only_ddl(&self.index_name, &self.schema, &self.table)
        )
    }

    /// Renders `CREATE INDEX name ON ONLY schema.table (...)`, which creates an INVALID index
    /// on the partitioned table alone, without touching its partitions.
    pub fn on_only_ddl(&self, index_name: &str, schema: &str, table: &str) -> String {
        let only_table = format!("ONLY {}", qualified_name(schema, table));
        self.render_create("CREATE INDEX", index_name, &only_table)
    }

    /// Renders `CREATE INDEX CONCURRENTLY` of the partition's index on a leaf partition.
    pub fn partition_ddl(&self, partition: &IndexedPartition) -> String {
        let table = qualified_name(&partition.schema, &partition.table);
        self.render_create("CREATE INDEX CONCURRENTLY", &partition.index_name, &table)
    }

    /// Returns the schema and name of the index that a partition's index is attached to.
    pub fn parent_index_of(&self, partition: &IndexedPartition) -> (String, String) {
        if partition.parent_schema == self.schema && partition.parent_table == self.table {
            return (self.schema.clone(), self.index_name.clone());
        }
        let name = partition_index_name(&self.index_name, &partition.parent_table);
        (partition.parent_schema.clone(), name)
    }

    /// Renders `ALTER INDEX parent ATTACH PARTITION child` for a partition's index.
    pub fn attach_ddl(&self, partition: &IndexedPartition) -> String {
        let (parent_schema, parent_index) = self.parent_index_of(partition);
        format!(
            "ALTER INDEX {} ATTACH PARTITION {}",
            qualified_name(&parent_schema, &parent_index),
            qualified_name(&partition.schema, &partition.index_name)
        )
    }

    /// Renders every statement of the build, one per line, in the order the runner runs
    /// them: the `ON ONLY` indexes from the top down, then each leaf's build and attach, then
    /// the attach of each partitioned partition's index from the bottom up.
    fn render_partitioned_ddl(&self) -> String {
        let mut statements = vec![self.on_only_ddl(&self.index_name, &self.schema, &self.table)];
        for partition in self.partitions.iter().filter(|p| p.partitioned) {
            statements.push(self.on_only_ddl(
                &partition.index_name,
                &partition.schema,
                &partition.table,
            ));
        }
        for partition in self.partitions.iter().filter(|p| !p.partitioned) {
            statements.push(self.partition_ddl(partition));
            statements.push(self.attach_ddl(partition));
        }
        for partition in self.partitions.iter().rev().filter(|p| p.partitioned) {
            statements.push(self.attach_ddl(partition));
        }
        statements
            .iter()
            .map(|statement| format!("{statement};"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Orders partitions so that every partitioned partition comes before the partitions below
/// it, keeping the given order otherwise.
fn build_order(partitions: Vec<IndexedPartition>) -> Vec<IndexedPartition> {
    let depth = |partition: &IndexedPartition| {
        let mut depth = 0;
        let mut parent = (&partition.parent_schema, &partition.parent_table);
        while let Some(above) = partitions.iter().find(|p| (&p.schema, &p.table) == parent) {
            depth += 1;
            parent = (&above.parent_schema, &above.parent_table);
            if depth > partitions.len() {
                break;
            }
        }
        depth
    };
    let mut ordered: Vec<(usize, IndexedPartition)> = partitions
        .iter()
        .map(|partition| (depth(partition), partition.clone()))
        .collect();
    ordered.sort_by_key(|(depth, _)| *depth);
    ordered
        .into_iter()
        .map(|(_, partition)| partition)
        .collect()
}

/// Names the index of a partition `<root_index>_<partition>`. A name longer than PostgreSQL's
/// identifier limit is cut on a character boundary and ends in `_` and eight hex digits of an
/// FNV-1a hash of the whole name. Two long partition names that share a prefix so get
/// distinct names, and the same partition always gets the same one.
pub fn partition_index_name(root_index: &str, partition: &str) -> String {
    let name = format!("{root_index}_{partition}");
    if name.len() <= MAX_IDENTIFIER_BYTES {
        return name;
    }
    let suffix = format!("_{:08x}", fnv1a_32(name.as_bytes()));
    let mut cut = MAX_IDENTIFIER_BYTES - suffix.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &name[..cut])
}

/// The 32-bit FNV-1a hash, written out because the standard library's hasher may change
/// between Rust releases and names must stay the same across runner versions.
fn fnv1a_32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IndexKey;

    fn events_index() -> CreateIndex {
        let key = IndexKey::Column {
            name: "device_ref".into(),
            descending: false,
        };
        let root = CreateIndex::new("public", "events", vec![key], None);
        let name = root.index_name.clone();
        let partition = |table: &str, parent: &str, partitioned: bool| {
            IndexedPartition::new(&name, ("public", table), ("public", parent), partitioned)
        };
        root.with_partitions(vec![
            partition("events_eu_2025", "events_eu", false),
            partition("events_eu", "events", true),
            partition("events_eu_2026", "events_eu", false),
        ])
    }

    #[test]
    fn partitioned_ddl_lists_every_step_in_order() {
        let action = events_index();
        let lines: Vec<&str> = action.ddl.lines().collect();
        assert_eq!(
            lines,
            [
                r#"CREATE INDEX "idx_events_device_ref" ON ONLY "public"."events" ("device_ref");"#,
                r#"CREATE INDEX "idx_events_device_ref_events_eu" ON ONLY "public"."events_eu" ("device_ref");"#,
                r#"CREATE INDEX CONCURRENTLY "idx_events_device_ref_events_eu_2025" ON "public"."events_eu_2025" ("device_ref");"#,
                r#"ALTER INDEX "public"."idx_events_device_ref_events_eu" ATTACH PARTITION "public"."idx_events_device_ref_events_eu_2025";"#,
                r#"CREATE INDEX CONCURRENTLY "idx_events_device_ref_events_eu_2026" ON "public"."events_eu_2026" ("device_ref");"#,
                r#"ALTER INDEX "public"."idx_events_device_ref_events_eu" ATTACH PARTITION "public"."idx_events_device_ref_events_eu_2026";"#,
                r#"ALTER INDEX "public"."idx_events_device_ref" ATTACH PARTITION "public"."idx_events_device_ref_events_eu";"#,
            ]
        );
    }

    #[test]
    fn json_without_partitions_still_reads() {
        let mut value = serde_json::to_value(CreateIndex::new("s", "t", Vec::new(), None)).unwrap();
        assert!(value.get("partitions").is_none());
        value.as_object_mut().unwrap().remove("partitions");
        let action: CreateIndex = serde_json::from_value(value).unwrap();
        assert!(!action.is_partitioned());
        let round_trip: CreateIndex =
            serde_json::from_value(serde_json::to_value(events_index()).unwrap()).unwrap();
        assert!(round_trip.is_partitioned());
    }

    #[test]
    fn long_partition_names_get_distinct_hashed_names() {
        let root = "idx_measurements_sensor_ref";
        let first = partition_index_name(root, &format!("{}_2025", "m".repeat(40)));
        let second = partition_index_name(root, &format!("{}_2026", "m".repeat(40)));
        assert_eq!(first.len(), MAX_IDENTIFIER_BYTES);
        assert_ne!(first, second);
        assert_eq!(
            first,
            partition_index_name(root, &format!("{}_2025", "m".repeat(40)))
        );
        assert_eq!(partition_index_name("idx_t_a", "t_1"), "idx_t_a_t_1");
    }

    #[test]
    fn multibyte_names_are_cut_on_a_character_boundary() {
        let name = partition_index_name("idx_ü", &"ü".repeat(40));
        assert!(name.len() <= MAX_IDENTIFIER_BYTES, "{name}");
    }
}
