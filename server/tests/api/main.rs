//! The REST API against a real control cluster. One binary, so that all tests share one
//! cluster. Each test keeps to its own database and server ids.

mod assessment;
mod auth;
mod decisions;
mod drop_index;
mod instructions;
mod issues;
mod lists;
mod scenario;
mod serve;
mod sessions;
mod support;
