//! Domain types and bus messages shared by every DBAgent component and the dashboard.
//!
//! The crate has no I/O and builds for `wasm32-unknown-unknown`, so the WASM dashboard and the
//! REST API deserialize the same types. Each module is one concept of the design:
//!
//! - [`ids`]: typed identifiers.
//! - [`server`], [`alert`], [`run`]: a monitored server, an alert about it, and the run that
//!   handles the alert, with the run's state machine.
//! - [`issue`], [`evidence`], [`action`]: what a run found, the facts behind it and the fix it
//!   proposes.
//! - [`partitioned_index`]: the names and statements of an index built partition by partition.
//! - [`instruction`], [`approval`]: standing permissions and a person's decision.
//! - [`risk`]: server facts that bear on the risk of acting without asking.
//! - [`timeline`]: events shown on the timeline.
//! - [`units`]: sizes and counts written for people.
//! - [`api`]: REST bodies that the dashboard and the API share.
//! - [`messages`]: the bus envelope and the `Trigger`, `Completion` and `Approval` messages.
//! - [`schema`]: JSON Schemas of the bus messages, written to `contracts/schemas/`.

pub mod action;
pub mod alert;
pub mod api;
pub mod approval;
pub mod evidence;
pub mod ids;
pub mod instruction;
pub mod issue;
pub mod messages;
pub mod partitioned_index;
pub mod risk;
pub mod run;
pub mod schema;
pub mod server;
pub mod timeline;
pub mod units;

pub use action::{ActionKind, CreateIndex, DropIndex, IndexKey, ProposedAction};
pub use alert::{Alert, AlertSource};
pub use approval::{ApprovalDecision, Decision};
pub use evidence::Evidence;
pub use ids::{AlertId, InstructionId, IssueId, MessageId, RunId, ServerId};
pub use instruction::{Instruction, InstructionScope, Limits, TimeWindow};
pub use issue::{Issue, IssueStatus, Resolution, ResolutionPath, Severity};
pub use messages::{
    Approval, Completion, CompletionOutcome, Envelope, SCHEMA_VERSION, Trigger, TriggerKind,
};
pub use risk::{BuildEstimate, DiskSpace, ReplicaFacts, RiskFacts, TableFacts};
pub use run::{BuildProgress, Run, RunState, RunStep, TransitionError};
pub use server::{CpuSample, MetricsSource, Server, ServerStatus};
pub use timeline::{TimelineEvent, TimelineEventKind};
