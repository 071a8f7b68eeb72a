//! The choice among evaluated candidates: the largest cost cut, unless an index with fewer
//! keys or a smaller size comes close, because every extra key or row makes the index larger
//! and its upkeep costlier.

use super::candidates::Candidate;
use super::catalog::TableInfo;
use super::hypothetical::Evaluation;

/// An evaluated candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub table: TableInfo,
    pub candidate: Candidate,
    pub evaluation: Evaluation,
    /// `(cost before - cost with index) / cost before`, in percent from 0 to 100.
    pub reduction_pct: f64,
}

/// Returns the planned-cost cut in percent: 0 when the cost rises, when the cost before is not
/// positive, or when either cost is NaN.
pub fn reduction_pct(cost_before: f64, cost_after: f64) -> f64 {
    if cost_before.is_nan() || cost_after.is_nan() || cost_before <= 0.0 {
        return 0.0;
    }
    ((cost_before - cost_after) / cost_before * 100.0).max(0.0)
}

/// Returns the position in `candidates` of the one to propose: among those within
/// `narrower_within_pct` points of the largest cut, the one with the fewest keys, then the
/// smallest by HypoPG's size estimate, then the largest cut. When the largest cut reaches
/// `min_reduction_pct`, only candidates that reach it too are considered, so that a narrower
/// index below the threshold never displaces a wider one above it.
pub fn choose(
    candidates: &[Choice],
    narrower_within_pct: f64,
    min_reduction_pct: f64,
) -> Option<usize> {
    let best = candidates
        .iter()
        .map(|choice| choice.reduction_pct)
        .fold(f64::NEG_INFINITY, f64::max);
    let floor = if best >= min_reduction_pct {
        (best - narrower_within_pct).max(min_reduction_pct)
    } else {
        best - narrower_within_pct
    };
    candidates
        .iter()
        .enumerate()
        .filter(|(_, choice)| choice.reduction_pct >= floor)
        .min_by(|(_, a), (_, b)| {
            a.candidate
                .keys
                .len()
                .cmp(&b.candidate.keys.len())
                .then(a.evaluation.index_bytes.cmp(&b.evaluation.index_bytes))
                .then(b.reduction_pct.total_cmp(&a.reduction_pct))
        })
        .map(|(position, _)| position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::candidates::Key;
    use crate::investigate::plan::GenericPlan;
    use crate::investigate::snapshot::TableName;
    use crate::investigate::statement::FilterTarget;

    fn choice(width: usize, reduction_pct: f64) -> Choice {
        Choice {
            table: TableInfo {
                oid: 1,
                name: TableName {
                    schema: "public".into(),
                    name: "t".into(),
                },
                kind: "r".into(),
                owner: "app".into(),
                may_build: true,
                role: "app".into(),
                partition_of: None,
                partitions: Vec::new(),
                columns: Vec::new(),
                indexes: Vec::new(),
            },
            candidate: Candidate {
                keys: (0..width)
                    .map(|i| Key {
                        target: FilterTarget::Column(format!("c{i}")),
                        descending: false,
                    })
                    .collect(),
                predicate: None,
            },
            evaluation: Evaluation {
                plan: GenericPlan {
                    json: serde_json::Value::Null,
                    total_cost: 1.0,
                },
                index_bytes: 0,
            },
            reduction_pct,
        }
    }

    #[test]
    fn narrower_index_wins_when_close() {
        let candidates = [choice(2, 99.0), choice(1, 96.0), choice(3, 99.5)];
        assert_eq!(choose(&candidates, 5.0, 50.0), Some(1));
    }

    #[test]
    fn wider_index_wins_when_much_better() {
        let candidates = [choice(1, 60.0), choice(2, 98.0)];
        assert_eq!(choose(&candidates, 5.0, 50.0), Some(1));
    }

    #[test]
    fn narrower_index_below_threshold_loses() {
        let candidates = [choice(2, 52.0), choice(1, 48.0)];
        assert_eq!(choose(&candidates, 5.0, 50.0), Some(0));
    }

    #[test]
    fn no_candidates_no_choice() {
        assert_eq!(choose(&[], 5.0, 50.0), None);
    }

    #[test]
    fn reduction_handles_odd_costs() {
        assert_eq!(reduction_pct(200.0, 50.0), 75.0);
        assert_eq!(reduction_pct(0.0, 50.0), 0.0);
        assert_eq!(reduction_pct(100.0, 150.0), 0.0);
        assert_eq!(reduction_pct(f64::NAN, 1.0), 0.0);
    }
}
