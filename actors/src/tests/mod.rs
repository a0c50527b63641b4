//! Actor tests under tokio's paused time, with the in-memory ports. Every test runs the node under
//! a test root and ends with `finish`, which fails the test on any unexpected actor failure.

mod harness;

mod call;
mod commands;
mod distribution;
mod external;
mod load;
mod supervision;
mod timers;
