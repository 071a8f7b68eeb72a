//! Message queues with Azure Service Bus peek-lock semantics, stored in PostgreSQL.
//!
//! DBAgent's components talk to each other only through queues: platform services dispatch runs
//! to runners, and runners report back. This crate defines the queue interface that they share
//! and implements it on the control cluster, so that the local stack needs no broker. The
//! interface follows Service Bus, so that a Service Bus client can implement it for Azure.
//!
//! - [`MessageBus`] is the interface: create queues, send, receive under a lock, settle.
//! - [`message`] contains what goes through a queue: [`OutgoingMessage`], [`Delivery`],
//!   [`LockToken`] and [`SendOutcome`].
//! - [`queue`] contains [`QueueOptions`] and the naming rules, including dead-letter queues.
//! - [`Error`] names what failed and whether a retry can help.
//! - [`PgBus`] is the PostgreSQL implementation, with one file per operation in `postgres/`.
//! - [`conformance`] is the behaviour every implementation must show, as async functions, and
//!   [`conformance_tests!`] turns them into one test each.

mod error;
pub mod message;
mod message_bus;
mod postgres;
pub mod queue;

pub mod conformance;

pub use error::{BoxError, Error, Result};
pub use message::{Delivery, LockToken, OutgoingMessage, SendOutcome};
pub use message_bus::MessageBus;
pub use postgres::{PgBus, PgBusOptions, SCHEMA};
pub use queue::{
    DEAD_LETTER_SUFFIX, MAX_DELIVERY_COUNT_EXCEEDED, QueueOptions, dead_letter_queue_name,
    parent_of_dead_letter_queue, validate_queue_name,
};
