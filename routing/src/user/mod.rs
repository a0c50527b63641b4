//! The user (agent): its state machine and status.

mod machine;
mod status;

pub use machine::restore::{Carried, CarriedAcw};
pub use machine::{AcwError, LEASE_GRACE, UserEffect, UserInput, UserMachine, UserTimer};
pub use status::UserStatus;
