//! Investigation of a hot server: which statements cost the most over a window, and which
//! index would remove their sequential scans, proven with HypoPG hypothetical indexes.
//!
//! The flow, one module per step:
//!
//! - [`snapshot`] reads `pg_stat_statements` and `pg_stat_user_tables`; [`delta`] subtracts
//!   two snapshots, detects counter resets and ranks statements by execution time.
//! - `statement` parses a statement with PostgreSQL's parser, checks that it is safe to plan
//!   and finds its filters with the help of `filters` and `expression`. `catalog` resolves its
//!   tables.
//! - `plan` gets the generic plan and its sequential scans; `candidates` builds index key
//!   lists; `hypothetical` plans them with HypoPG; `choice` picks one.
//! - `analyze` and `table_analysis` run those steps for one statement; [`findings`] holds the
//!   result; `engine` has the entry points [`investigate`] and [`investigate_between`].

mod activity;
mod analyze;
mod candidates;
mod catalog;
mod choice;
mod decision;
pub mod delta;
mod engine;
mod error;
mod expression;
mod filters;
pub mod findings;
mod functions;
mod hypothetical;
mod index_usage;
mod literals;
mod options;
mod partitions;
mod plan;
pub mod report;
mod server_role;
mod shape_notes;
pub mod snapshot;
mod statement;
mod table_analysis;
mod variables;
mod weighing;

pub use activity::{ActivitySamples, sample_activity};
pub use delta::{CounterReset, StatementDelta, TableDelta, Window};
pub use engine::{investigate, investigate_between, investigate_observed};
pub use error::{Error, Result};
pub use findings::{Finding, FullScan, Investigation, Verdict};
pub use index_usage::plan_uses_index;
pub use options::InvestigateOptions;
pub use server_role::{ServerRole, server_role};
pub use snapshot::{Snapshot, StatementKey, TableName, take_snapshot};
pub use statement::{ParsedStatement, parse_statement};
