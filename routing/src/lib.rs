//! The pure routing core of Stratus.
//!
//! Every routing decision lives here as a sans-IO state machine: `handle(now, input) -> effects`.
//! No runtime, no I/O and no clock reads: time is passed in as [`time::Instant`]. The actor runtime
//! (`stratus-actors`) runs these machines live; tests and benches drive them directly.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod availability;
pub mod call;
pub mod config;
pub mod decision;
pub mod error;
pub mod external;
pub mod facts;
pub mod ids;
pub mod model;
pub mod offer;
#[cfg(feature = "openapi")]
mod openapi;
pub mod port;
pub mod queue;
pub mod sim;
pub mod task;
pub mod time;
pub mod user;
