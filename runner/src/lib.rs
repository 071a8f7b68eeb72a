//! The runner: the only component that connects to target servers.
//!
//! It takes triggers from the bus and moves each run through its steps:
//!
//! - [`investigate`]: finds the statements that cost the most over a window and the index that
//!   would remove their sequential scans, proven with HypoPG.
//! - [`investigation_step`]: opens the issue with the server's [`risk`] facts, then executes
//!   at once when an always-allow instruction's limits hold ([`autonomy`]), or suspends the
//!   run for a person's decision.
//! - [`resolution_step`]: after a decision, checks the server again ([`preflight`]), builds
//!   the index ([`execute`], partition by partition on a partitioned table with
//!   [`execute_partitioned`]), proves the fix ([`verify`], with the statement's mean time from
//!   [`statement_timing`]) and closes the issue.
//!   [`build_progress`] stores the build's progress on the run while it runs.
//! - [`follow_up`]: when a built index brought no gain, opens an issue and a run that propose
//!   to drop it, which [`drop_step`] executes once approved.
//! - [`service`]: the loop over the bus with bounded concurrency, lock renewal and heartbeats.
//!   It starts with [`leftovers`], which drops INVALID indexes of builds a dead runner left.
//!
//! A run's state lives in the store, so any runner can continue a run another runner started.

pub mod autonomy;
pub mod build_progress;
mod config;
mod context;
pub mod drop_step;
mod error;
pub mod execute;
pub mod execute_partitioned;
pub mod follow_up;
pub mod investigate;
pub mod investigation_step;
pub mod leftovers;
pub mod partition_catalog;
pub mod preflight;
pub mod resolution_step;
pub mod risk;
pub mod schedule;
pub mod service;
pub mod standing_permission;
pub mod statement_timing;
mod steps;
pub mod target;
pub mod trigger;
pub mod verify;

pub use config::RunnerConfig;
pub use context::Context;
pub use error::Error;
