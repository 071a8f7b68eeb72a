//! Settings of an investigation, with defaults that suit a production server.

use std::time::Duration;

/// Settings of one investigation. `Default` gives the values documented on each field.
#[derive(Debug, Clone, PartialEq)]
pub struct InvestigateOptions {
    /// Time between the two statistics snapshots. Default 10 s.
    pub window: Duration,
    /// Whether to observe one more window when the counters were reset during the first.
    /// Default true.
    pub retry_after_reset: bool,
    /// Number of statements, by share of execution time, that get a finding. Default 5.
    pub top_statements: usize,
    /// Minimum share of the window's execution time, in percent, for a statement to be
    /// analyzed. Default 1 %.
    pub min_share_pct: f64,
    /// Minimum cut of the statement's planner cost, in percent, for an index to be proposed.
    /// Default 50 %.
    pub min_cost_reduction_pct: f64,
    /// When a narrower index saves within this many percentage points of a wider one, the
    /// narrower one is proposed. Default 5.
    pub narrower_within_pct: f64,
    /// Maximum number of key columns of a candidate index. Default 3.
    pub max_index_columns: usize,
    /// A table with fewer estimated rows than this and fewer pages than `min_table_pages` is
    /// too small for an index to pay off. Default 10,000 rows.
    pub min_table_rows: u64,
    /// See `min_table_rows`. Default 300 pages of 8 kB.
    pub min_table_pages: u64,
    /// `statement_timeout` of every diagnostic transaction. Default 5 s.
    pub statement_timeout: Duration,
    /// `lock_timeout` of every diagnostic transaction. Default 1 s.
    pub lock_timeout: Duration,
}

impl Default for InvestigateOptions {
    fn default() -> Self {
        InvestigateOptions {
            window: Duration::from_secs(10),
            retry_after_reset: true,
            top_statements: 5,
            min_share_pct: 1.0,
            min_cost_reduction_pct: 50.0,
            narrower_within_pct: 5.0,
            max_index_columns: 3,
            min_table_rows: 10_000,
            min_table_pages: 300,
            statement_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(1),
        }
    }
}
