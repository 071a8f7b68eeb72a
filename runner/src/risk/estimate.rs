//! An estimate of how long `CREATE INDEX CONCURRENTLY` takes on the table, from the
//! time one full scan of that table took in the investigation's window.

use contracts::BuildEstimate;

use crate::investigate::Finding;

/// Work of a concurrent build, counted in full scans of the table. The build reads the whole
/// table twice, once to build the index and once to validate it, and between those it sorts
/// every key and reads the new index. The sorts and the index read are counted as one more
/// scan; they are not measured.
const SCANS_PER_BUILD: f64 = 3.0;

/// Estimates the build's duration, when the finding's statement reads its table in full on
/// every call so that its mean time measures one scan. Waits for running transactions, which
/// a concurrent build also makes, are not part of the estimate.
pub fn build_estimate(finding: &Finding) -> Option<BuildEstimate> {
    let scan = finding.full_scan.as_ref()?;
    let evidence = &finding.evidence;
    let table = scan.table.to_string();
    if evidence.table.as_deref() != Some(table.as_str()) {
        return None;
    }
    let scan_ms = evidence.mean_time_ms;
    if !scan_ms.is_finite() || scan_ms <= 0.0 {
        return None;
    }
    let workers = match scan.workers_planned {
        0 => String::new(),
        1 => " with 1 parallel worker".to_string(),
        count => format!(" with {count} parallel workers"),
    };
    Some(BuildEstimate {
        seconds: SCANS_PER_BUILD * scan_ms / 1000.0,
        basis: format!(
            "About {SCANS_PER_BUILD} full scans of {table}, because the build reads the table \
             twice and sorts its keys, and one scan{workers} took {scan_ms:.1} ms in the window."
        ),
    })
}

#[cfg(test)]
mod tests {
    use contracts::{Evidence, Severity};

    use super::*;
    use crate::investigate::{FullScan, TableName, Verdict};

    fn finding(mean_time_ms: f64, full_scan: Option<FullScan>) -> Finding {
        Finding {
            severity: Severity::High,
            title: String::new(),
            summary: String::new(),
            evidence: Evidence {
                mean_time_ms,
                table: Some("public.orders".to_string()),
                ..Evidence::default()
            },
            proposed_action: None,
            verdict: Verdict::IndexProposed,
            full_scan,
        }
    }

    fn scan_of(name: &str, workers_planned: u32) -> Option<FullScan> {
        Some(FullScan {
            table: TableName {
                schema: "public".to_string(),
                name: name.to_string(),
            },
            workers_planned,
        })
    }

    #[test]
    fn estimate_is_three_measured_scans() {
        let estimate = build_estimate(&finding(42.0, scan_of("orders", 0))).unwrap();
        assert!((estimate.seconds - 0.126).abs() < 1e-9, "{estimate:?}");
        assert_eq!(
            estimate.basis,
            "About 3 full scans of public.orders, because the build reads the table twice and \
             sorts its keys, and one scan took 42.0 ms in the window."
        );
    }

    #[test]
    fn basis_names_parallel_workers() {
        let estimate = build_estimate(&finding(10.0, scan_of("orders", 2))).unwrap();
        assert!(
            estimate
                .basis
                .contains("one scan with 2 parallel workers took 10.0 ms"),
            "{}",
            estimate.basis
        );
    }

    #[test]
    fn no_estimate_without_a_measured_scan() {
        assert_eq!(build_estimate(&finding(42.0, None)), None);
        assert_eq!(
            build_estimate(&finding(42.0, scan_of("customers", 0))),
            None
        );
        assert_eq!(build_estimate(&finding(0.0, scan_of("orders", 0))), None);
    }
}
