//! stratus-graph (docs filled in below)
pub mod parse;
pub mod wire;
