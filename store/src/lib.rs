//! The document store of DBAgent: JSON documents in partitioned containers with ETag-based
//! optimistic concurrency, shaped after Cosmos DB so that the same callers run on Cosmos DB in
//! Azure and on PostgreSQL locally.
//!
//! - [`DocumentStore`] is the object-safe trait that callers hold as `Arc<dyn DocumentStore>`.
//! - [`Document`], [`ETag`] and [`DocumentKey`] are what it stores and how errors name it.
//! - [`Query`] selects documents within one partition: equality filters, sort, limit.
//! - [`DocumentStoreExt`] reads and writes the caller's own `serde` types.
//! - [`Error`] is the one error type; [`Error::is_retryable`] distinguishes transient failures.
//! - [`PgStore`] is the PostgreSQL implementation, used on the control cluster.
//! - [`conformance`] contains the behaviour every implementation must show, and
//!   [`document_store_conformance_tests!`] turns it into one test per behaviour.

pub mod conformance;
mod document;
mod error;
mod postgres;
mod query;
mod store;
mod typed;
mod validate;

pub use document::{Document, DocumentKey, ETag};
pub use error::{BoxError, Error};
pub use postgres::{PgStore, PoolSettings};
pub use query::{Filter, OrderBy, Query, SortDirection};
pub use store::DocumentStore;
pub use typed::{DocumentStoreExt, TypedDocument};
