//! The scenario that DBAgent fixes: a shop database that runs hot for want of an index.
//!
//! The crate seeds a shop (customers, products, orders, order items, shipments) with realistic
//! data, leaves two indexes out on purpose, and generates the load that makes those gaps hurt.
//! It also measures a local server's CPU the way a managed service reports it, so that the rise
//! and the fall after the fix can be shown and tested.
//!
//! - [`schema`]: the tables, constraints and indexes, and the two that are missing.
//! - [`seed()`]: loads the data inside the server, idempotently, at a chosen [`Scale`].
//! - [`scale`]: sizes and the distributions that seeding and the workloads share.
//! - [`workload`]: the named workloads and a rate-limited runner with N sessions.
//! - [`pgbench`]: the same workloads as pgbench scripts, and the pgbench command line.
//! - [`cpu`]: CPU use of a postmaster and its children, from `/proc`.
//!
//! Starting the local clusters is the job of the `cluster` crate. Everything here takes a
//! connection string, so the workloads also run against a server elsewhere.

pub mod cpu;
mod db;
mod error;
pub mod pgbench;
pub mod scale;
pub mod schema;
mod seed;
pub mod workload;

pub use cpu::{CpuSampler, CpuSnapshot, sample_cpu};
pub use error::Error;
pub use scale::Scale;
pub use seed::{SeedOptions, SeedOutcome, read_scale, seed};
pub use workload::{RunOptions, RunReport, Workload};

pub type Result<T, E = Error> = std::result::Result<T, E>;
