//! The control plane that Platform Services, the runner and the API share.
//!
//! Components talk only through the document store and the bus. This crate fixes where each
//! record lives and which queue carries which message, so that they agree:
//!
//! - [`layout`]: container and queue names, and creating them.
//! - [`ControlPlane`]: a store and a bus, with typed reads and writes per record kind
//!   ([`servers`], [`runs`], [`issues`], [`instructions`], [`decisions`], [`timeline`]).
//! - [`messaging`]: sending and receiving enveloped messages, with ids derived so that a repeated
//!   send is dropped by the bus's duplicate detection.
//! - [`Versioned`]: a record with its ETag, for read-modify-write under optimistic concurrency.
//!
//! Every record is partitioned by server id, because every query the components make is about
//! one server.

pub mod decisions;
mod error;
pub mod instructions;
pub mod issues;
pub mod layout;
pub mod messaging;
mod plane;
pub mod runs;
pub mod servers;
pub mod timeline;
mod versioned;

pub use error::Error;
pub use plane::ControlPlane;
pub use versioned::Versioned;

pub type Result<T, E = Error> = std::result::Result<T, E>;
