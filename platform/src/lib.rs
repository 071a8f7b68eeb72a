//! Platform Services: turns alerts into runs and keeps one run at a time on each server.
//!
//! An alert, from the CPU monitor or later an Azure Monitor webhook, enters through
//! [`Platform::handle_alert`]. It checks the server, takes the server's lock, stores the alert,
//! queues a run and sends the runner a start trigger. Runners report back on the completions
//! queue, people decide on the approvals queue, and the sweeper frees servers whose run stopped
//! making progress. Every handler is idempotent: the same alert or message twice has one effect.
//!
//! - [`lock`]: the per-server lock document, [`ServerLock`], with ETag-conditional writes.
//! - [`alerts`]: alert intake and dispatch.
//! - [`monitor`]: the CPU monitor over local clusters, with its sliding window.
//! - [`completions`]: keeping the lock of a suspended run, releasing it for a finished one.
//! - [`approvals`]: resuming a suspended run after a person's decision.
//! - [`leases`]: the sweeper that fails runs without progress and frees their servers.
//! - [`service`]: [`Platform`], its loops with backoff and shutdown.
//! - [`PlatformConfig`]: intervals, window and lease.
//!
//! Each handler has a one-step form (`handle_*_once`, [`Platform::sweep_once`],
//! [`Monitor::tick`]) so tests drive the service without sleeping.

pub mod alerts;
pub mod approvals;
pub mod completions;
mod config;
mod consumer;
mod error;
pub mod leases;
pub mod lock;
pub mod monitor;
pub mod service;
mod window;

pub use alerts::AlertOutcome;
pub use approvals::ApprovalOutcome;
pub use completions::LockChange;
pub use config::PlatformConfig;
pub use consumer::HANDLER_FAILED;
pub use error::Error;
pub use leases::Reclaimed;
pub use lock::ServerLock;
pub use monitor::{Monitor, Reading};
pub use service::Platform;

pub type Result<T, E = Error> = std::result::Result<T, E>;
