//! The result of an investigation: one finding per hot statement, with evidence, a verdict,
//! a severity and, when an index helps, the proposed action.

use std::collections::HashMap;

use contracts::{Evidence, ProposedAction, Severity};

use super::delta::{CounterReset, StatementDelta, TableDelta, Window};
use super::partitions::FOREIGN_PARTITION_KIND;
use super::server_role::ServerRole;
use super::snapshot::TableName;

/// The result of an investigation over one observation window.
#[derive(Debug, Clone, PartialEq)]
pub struct Investigation {
    pub window: Window,
    /// A reset of all `pg_stat_statements` entries during `window` whose time is unknown or
    /// leaves too short a window after it. When set, `statements` and `findings` are empty,
    /// because deltas across a reset are meaningless.
    pub counter_reset: Option<CounterReset>,
    /// A reset of all `pg_stat_statements` entries during the observation window. `window`
    /// then starts at the reset.
    pub shortened_by: Option<CounterReset>,
    /// Earlier windows that were discarded because of a reset, oldest first.
    pub discarded_windows: Vec<CounterReset>,
    /// Every statement that ran in the window, most execution time first.
    pub statements: Vec<StatementDelta>,
    /// One finding per analyzed statement, in the order of `statements`.
    pub findings: Vec<Finding>,
    /// Counters of every user table over `window`, empty after a reset.
    pub tables: HashMap<TableName, TableDelta>,
    /// Whether the server is a primary or a standby, and which primary a standby follows.
    pub server_role: ServerRole,
    /// Facts about the window and the server that bear on every finding, in plain sentences,
    /// such as a reset that shortened the window. Each finding's notes repeat them.
    pub notes: Vec<String>,
}

impl Investigation {
    /// Returns the finding whose proposed index saves the most execution time across the
    /// window's statements, if any finding has a proposal. Ties go to the statement with more
    /// execution time.
    pub fn top_proposal(&self) -> Option<&Finding> {
        let saving = |finding: &Finding| {
            finding
                .evidence
                .estimated_saving_ms_per_second
                .unwrap_or_default()
        };
        self.findings
            .iter()
            .filter(|finding| finding.proposed_action.is_some())
            .reduce(|best, finding| {
                if saving(finding) > saving(best) {
                    finding
                } else {
                    best
                }
            })
    }

    /// Returns the finding an issue is opened for, which is the top proposal or else the
    /// finding about the statement with the most execution time.
    pub fn issue_finding(&self) -> Option<&Finding> {
        self.top_proposal().or_else(|| self.findings.first())
    }

    /// Returns the statement with the most execution time in the window.
    pub fn most_expensive(&self) -> Option<&StatementDelta> {
        self.statements.first()
    }

    /// Returns the finding about a statement, by `pg_stat_statements.queryid`.
    pub fn finding(&self, query_id: i64) -> Option<&Finding> {
        self.findings
            .iter()
            .find(|f| f.evidence.query_id == Some(query_id))
    }
}

/// The investigation of one statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    /// One line, such as "Missing index on public.invoices (account_ref)".
    pub title: String,
    /// One or two sentences: what the statement costs and what to do about it.
    pub summary: String,
    pub evidence: Evidence,
    pub proposed_action: Option<ProposedAction>,
    pub verdict: Verdict,
    /// The table that each execution reads in full, when the generic plan before any new index
    /// shows that. The statement's mean time then measures one scan of that table.
    pub full_scan: Option<FullScan>,
}

/// A plan whose only scan reads one table in full.
#[derive(Debug, Clone, PartialEq)]
pub struct FullScan {
    pub table: TableName,
    /// Parallel workers that the plan's Gather node planned; 0 when one process scans.
    pub workers_planned: u32,
}

/// The reason an index was or was not proposed for a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    IndexProposed,
    /// The statement is not one plain SELECT, or UPDATE or DELETE with a WHERE clause.
    NotAnalyzed {
        reason: String,
    },
    /// PostgreSQL could not produce a generic plan, for example because a parameter's type
    /// cannot be inferred.
    PlanFailed {
        reason: String,
    },
    /// The plan reads every table through an index already.
    NoSequentialScan,
    /// The statement calls a function whose own statements cost the time, and
    /// `pg_stat_statements.track` hides them.
    CostInsideFunction {
        function: String,
        track: String,
    },
    /// The scanned table is so small that a sequential scan is as cheap as an index.
    TableTooSmall {
        table: String,
        rows: u64,
        pages: u64,
    },
    /// The relation is a foreign table, a view or another kind that cannot have an index, or
    /// a partitioned table with a partition of such a kind.
    NotIndexable {
        table: String,
        kind: String,
    },
    /// The runner's role lacks the owner's privileges on the table or the CREATE privilege on
    /// its schema, so it may not build an index there.
    NotOwner {
        table: String,
        owner: String,
        role: String,
    },
    /// A valid btree index with the candidate's keys, or keys it is a prefix of, exists.
    IndexExists {
        table: String,
        index: String,
    },
    /// The statement's shape keeps any btree index from serving it, such as an OR across
    /// tables or a pattern with a leading wildcard. `reason` names the shape.
    QueryShape {
        table: String,
        reason: String,
    },
    /// The statement has no filter on the scanned table that a btree index serves.
    NoCandidate {
        table: String,
    },
    /// The filters keep so large a share of the table's rows that a scan of the index would
    /// read most of the table anyway.
    LowSelectivity {
        table: String,
        rows_kept_pct: f64,
    },
    /// The best candidate cut the plan's cost by less than the threshold.
    SavingTooSmall {
        table: String,
        best_reduction_pct: f64,
    },
    /// The best candidate would make another frequent statement costlier by more than the
    /// allowed margin, or cost more in upkeep on writes than it saves.
    HarmsOtherStatements {
        table: String,
        reason: String,
    },
    /// A query failed while this statement was analyzed.
    Failed {
        reason: String,
        retryable: bool,
    },
}

impl Verdict {
    /// Returns a stable identifier of the verdict's kind for JSON output, such as
    /// `index_proposed`.
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::IndexProposed => "index_proposed",
            Verdict::NotAnalyzed { .. } => "not_analyzed",
            Verdict::PlanFailed { .. } => "plan_failed",
            Verdict::NoSequentialScan => "no_sequential_scan",
            Verdict::CostInsideFunction { .. } => "cost_inside_function",
            Verdict::TableTooSmall { .. } => "table_too_small",
            Verdict::NotIndexable { .. } => "not_indexable",
            Verdict::NotOwner { .. } => "not_owner",
            Verdict::IndexExists { .. } => "index_exists",
            Verdict::QueryShape { .. } => "query_shape",
            Verdict::NoCandidate { .. } => "no_candidate",
            Verdict::LowSelectivity { .. } => "low_selectivity",
            Verdict::SavingTooSmall { .. } => "saving_too_small",
            Verdict::HarmsOtherStatements { .. } => "harms_other_statements",
            Verdict::Failed { .. } => "failed",
        }
    }

    /// Explains why no index is proposed, as a clause that completes "No index is proposed:
    /// ...". Returns an empty string for [`Verdict::IndexProposed`].
    pub fn explanation(&self) -> String {
        match self {
            Verdict::IndexProposed => String::new(),
            Verdict::NotAnalyzed { reason } | Verdict::PlanFailed { reason } => {
                format!("it was not analyzed, because {reason}")
            }
            Verdict::Failed { reason, .. } => format!("the analysis failed: {reason}"),
            Verdict::NoSequentialScan => {
                "its plan already reads every table through an index".into()
            }
            Verdict::CostInsideFunction { function, track } if track == "all" => format!(
                "its time is spent inside the function {function}, and the statements the \
                 function runs are analyzed on their own"
            ),
            Verdict::CostInsideFunction { function, track } => format!(
                "its time is spent inside the function {function}, whose statements \
                 pg_stat_statements does not record with track = {track}, and setting \
                 pg_stat_statements.track = all records them"
            ),
            Verdict::TableTooSmall { table, rows, pages } => format!(
                "{table} has about {rows} rows in {pages} pages, so a sequential scan is as \
                 cheap as an index"
            ),
            Verdict::NotIndexable { table, kind } if kind == FOREIGN_PARTITION_KIND => format!(
                "{table} has a foreign-table partition, which cannot have an index, so an index \
                 on {table} could never become valid"
            ),
            Verdict::NotIndexable { table, kind } => {
                format!("{table} is a {kind}, which cannot have an index")
            }
            Verdict::NotOwner { table, owner, role } => format!(
                "{table} belongs to the role {owner}, and the runner's role {role} either \
                 lacks that role's privileges or may not create objects in the table's schema, \
                 so an owner of the table has to build the index"
            ),
            Verdict::IndexExists { table, index } => {
                format!("the existing index {index} on {table} already covers the filtered columns")
            }
            Verdict::QueryShape { reason, .. } => reason.clone(),
            Verdict::NoCandidate { table } => {
                format!("it has no filter on {table} that a btree index can serve")
            }
            Verdict::LowSelectivity {
                table,
                rows_kept_pct,
            } => format!(
                "its filters keep about {rows_kept_pct:.0} % of the rows of {table}, so reading \
                 them through an index costs more than a sequential scan"
            ),
            Verdict::SavingTooSmall {
                table,
                best_reduction_pct,
            } => format!(
                "the best index on {table} cuts the planned cost by only {best_reduction_pct:.1} %"
            ),
            Verdict::HarmsOtherStatements { reason, .. } => reason.clone(),
        }
    }
}

/// Grades a finding by the statement's share of execution time and whether it scans a large
/// table sequentially: most of the server's time in a large scan is critical.
pub fn severity(share_of_time_pct: f64, large_seq_scan: bool) -> Severity {
    match (share_of_time_pct, large_seq_scan) {
        (share, true) if share >= 50.0 => Severity::Critical,
        (share, _) if share >= 50.0 => Severity::High,
        (share, true) if share >= 20.0 => Severity::High,
        (share, _) if share >= 20.0 => Severity::Medium,
        (_, true) => Severity::Medium,
        _ => Severity::Low,
    }
}

/// Writes the title and summary of a finding.
pub fn describe(
    verdict: &Verdict,
    evidence: &Evidence,
    action: Option<&ProposedAction>,
) -> (String, String) {
    let query_id = evidence.query_id.unwrap_or_default();
    let share = format!("{:.1} %", evidence.share_of_time_pct);
    let cost = format!(
        "Statement {query_id} used {share} of execution time in the window \
         ({:.1} calls per second, {:.2} ms per call).",
        evidence.calls_per_second, evidence.mean_time_ms
    );
    let (title, outcome) = match verdict {
        Verdict::IndexProposed => {
            let table = evidence.table.as_deref().unwrap_or_default();
            let ddl = action.map(ProposedAction::summary).unwrap_or_default();
            let reduction = evidence.cost_reduction_pct.unwrap_or_default();
            (
                format!("Missing index on {table}"),
                format!("An index cuts its planned cost by {reduction:.1} %: {ddl}."),
            )
        }
        Verdict::NotAnalyzed { reason } | Verdict::PlanFailed { reason } => (
            format!("Statement {query_id} was not analyzed"),
            format!("No index was evaluated because {reason}."),
        ),
        Verdict::Failed { reason, .. } => (
            format!("Analysis of statement {query_id} failed"),
            format!("No index was evaluated because the analysis failed: {reason}."),
        ),
        other => (
            format!("Statement {query_id} uses {share} of execution time"),
            format!("No index is proposed: {}.", other.explanation()),
        ),
    };
    (title, format!("{cost} {outcome}"))
}
