//! Microsoft Graph wire types: what Graph sends (deserialised leniently) and the request bodies
//! Stratus sends (built as JSON in the fixture shapes). Nothing here leaves the crate's public
//! surface except through [`crate::parse`] results and the simulator.

mod calls;
mod common;
mod presence;
pub mod requests;

pub use calls::{
    Call, CommsNotification, CommsNotifications, CommsOperation, IncomingContext, MediaStream,
    Participant, ToneInfo,
};
pub use common::{Identity, IdentitySet, ParticipantInfo, ResultInfo};
pub use presence::{ChangeNotification, ChangeNotifications, WirePresence, WirePresences};
