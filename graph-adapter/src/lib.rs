//! stratus-graph (docs filled in below)
pub mod adapter;
pub mod auth;
pub mod client;
pub mod events;
pub mod parse;
pub mod presence;
pub mod sim;
pub mod wire;
