//! Platform Services against a real control cluster. One test binary, so the control cluster
//! starts once; each test uses its own database, so no test receives another's messages.

mod alerts;
mod follow_up;
mod leases;
mod monitor;
mod runs;
mod service;
mod support;
