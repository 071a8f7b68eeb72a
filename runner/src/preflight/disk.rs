//! Whether the file system under the data directory has room for the index, its sort files
//! and its WAL.

use contracts::action::quote_identifier;
use contracts::units::bytes;
use contracts::{CreateIndex, DiskSpace, ServerId};
use tokio_postgres::Client;

use crate::Error;
use crate::target::failed;

/// The table's size now and `maintenance_work_mem`, in bytes.
const SIZES_SQL: &str = "
    SELECT pg_table_size(to_regclass($1)),
           pg_size_bytes(current_setting('maintenance_work_mem'))";

/// Space a build needs, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiskNeed {
    /// The finished index.
    pub index_bytes: u64,
    /// Temporary files of the sort, which spills to disk when its data exceeds
    /// `maintenance_work_mem`.
    pub sort_bytes: u64,
    /// WAL the build writes, which stays in `pg_wal` until the next checkpoint or until
    /// standbys and archiving have it.
    pub wal_bytes: u64,
}

impl DiskNeed {
    /// Estimates the need from the index size HypoPG gave when the issue was opened, scaled up
    /// by the growth of the table since then.
    ///
    /// The sort's temporary files hold roughly the index's tuples, so a sort that does not fit
    /// in `maintenance_work_mem` is counted as one more index. With `wal_level` replica or
    /// logical, the build writes every index page to WAL, counted as one more index again.
    /// NOTE: temporary files may live in `temp_tablespaces`, and WAL in a `pg_wal` on another
    /// file system; both are counted here all the same.
    pub fn estimate(
        index_bytes_then: u64,
        table_bytes_then: Option<u64>,
        table_bytes_now: u64,
        maintenance_work_mem_bytes: u64,
    ) -> DiskNeed {
        let growth = match table_bytes_then {
            Some(then) if then > 0 && table_bytes_now > then => {
                table_bytes_now as f64 / then as f64
            }
            _ => 1.0,
        };
        let index_bytes = (index_bytes_then as f64 * growth).ceil() as u64;
        let sort_bytes = if index_bytes > maintenance_work_mem_bytes {
            index_bytes
        } else {
            0
        };
        DiskNeed {
            index_bytes,
            sort_bytes,
            wal_bytes: index_bytes,
        }
    }

    pub fn total_bytes(&self) -> u64 {
        self.index_bytes
            .saturating_add(self.sort_bytes)
            .saturating_add(self.wal_bytes)
    }
}

/// Returns why the build does not fit, or `None` when `space` covers `need` and still keeps
/// `reserve_fraction` of the file system free afterwards.
pub fn shortfall(need: DiskNeed, space: DiskSpace, reserve_fraction: f64) -> Option<String> {
    let reserve = (space.total_bytes as f64 * reserve_fraction.clamp(0.0, 1.0)).ceil() as u64;
    let required = need.total_bytes().saturating_add(reserve);
    if space.free_bytes >= required {
        return None;
    }
    Some(format!(
        "Preflight failed: the build needs about {} (index {}, sort files {}, WAL {}) and {} \
         must stay free ({:.0} % of {}), but only {} is free. Free disk space or grow the \
         server's storage; the next investigation of this server can propose the index again.",
        bytes(need.total_bytes()),
        bytes(need.index_bytes),
        bytes(need.sort_bytes),
        bytes(need.wal_bytes),
        bytes(reserve),
        reserve_fraction * 100.0,
        bytes(space.total_bytes),
        bytes(space.free_bytes),
    ))
}

/// Reads the table's current size and `maintenance_work_mem` and estimates the build's need.
pub async fn need(
    client: &Client,
    server_id: &ServerId,
    action: &CreateIndex,
    index_bytes_then: u64,
    table_bytes_then: Option<u64>,
) -> Result<DiskNeed, Error> {
    let table = format!(
        "{}.{}",
        quote_identifier(&action.schema),
        quote_identifier(&action.table)
    );
    let row = client
        .query_one(SIZES_SQL, &[&table])
        .await
        .map_err(failed(
            "measure the table and maintenance_work_mem",
            server_id,
        ))?;
    let table_bytes_now: Option<i64> = row.get(0);
    let maintenance_work_mem: i64 = row.get(1);
    Ok(DiskNeed::estimate(
        index_bytes_then,
        table_bytes_then,
        table_bytes_now.unwrap_or(0).max(0) as u64,
        maintenance_work_mem.max(0) as u64,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1_000_000_000;

    #[test]
    fn nearly_full_disk_rejects_build() {
        // A 40 GB table with an estimated 6 GB index and 8 GB free: the sort spills as much
        // again and the WAL contains it once more, so 18 GB are needed.
        let need = DiskNeed::estimate(6 * GB, Some(40 * GB), 40 * GB, 64_000_000);
        assert_eq!(need.sort_bytes, 6 * GB);
        let space = DiskSpace {
            free_bytes: 8 * GB,
            total_bytes: 100 * GB,
        };
        let reason = shortfall(need, space, 0.1).expect("a shortfall");
        assert!(reason.contains("needs about 18.0 GB"), "{reason}");
        assert!(reason.contains("only 8.0 GB is free"), "{reason}");
    }

    #[test]
    fn sort_within_memory_needs_no_files() {
        let need = DiskNeed::estimate(10_000_000, Some(GB), GB, 64_000_000);
        assert_eq!(need.sort_bytes, 0);
    }

    #[test]
    fn table_growth_scales_the_index() {
        let need = DiskNeed::estimate(GB, Some(10 * GB), 15 * GB, 64_000_000);
        assert_eq!(need.index_bytes, 3 * GB / 2);
    }

    #[test]
    fn reserve_is_kept_free() {
        // 1 GB index sorted in memory and 1 GB of WAL.
        let need = DiskNeed::estimate(GB, Some(GB), GB, 2 * GB);
        let space = DiskSpace {
            free_bytes: 16 * GB,
            total_bytes: 100 * GB,
        };
        assert_eq!(shortfall(need, space, 0.1), None);
        let reason = shortfall(need, space, 0.15).expect("the reserve is not kept");
        assert!(reason.contains("15.0 GB must stay free"), "{reason}");
    }
}
