//! Local PostgreSQL clusters that stand in for managed servers.
//!
//! DBAgent's local stack needs two clusters: a control cluster for the document store and the
//! message bus, and a target cluster configured like an Azure Database for PostgreSQL Flexible
//! Server. This crate creates them with the system's `initdb`, starts and stops them with
//! `pg_ctl`, and reuses their data on the next start.
//!
//! - [`binaries`] finds the PostgreSQL installation and checks for required extensions.
//! - [`Cluster`] is one cluster in a state directory: create, start, stop, connect.
//! - [`ClusterKind`] decides the server settings of each role.
//! - [`TempCluster`] is a throw-away cluster for tests, removed when the test process exits.
//! - `standby` copies a running cluster into a streaming-replication hot standby
//!   ([`Cluster::create_standby`], [`TempCluster::start_standby`]).
//!
//! This is its own crate, not part of `scenario`, so that the store and bus test suites can start
//! clusters without compiling the workload generator.

pub mod binaries;
mod cluster;
mod error;
mod kind;
mod os_user;
mod ports;
mod standby;
mod temp;

pub use binaries::PgBinaries;
pub use cluster::{Cluster, Credentials, StopMode};
pub use error::Error;
pub use kind::ClusterKind;
pub use temp::TempCluster;

pub type Result<T, E = Error> = std::result::Result<T, E>;
