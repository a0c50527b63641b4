//! The user's status as reporting and supervisors see it.

use crate::model::PresenceClass;
use serde::{Deserialize, Serialize};

/// One summary of a user's state (User States facts, live views).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UserStatus {
    Offline,
    /// Online but in no duty for any service, or presence not selectable.
    NotAvailable,
    /// A Not-Available reason is set.
    NotAvailableReason,
    Idle,
    Ringing,
    Connected,
    WrapUp,
    Rona,
}

impl UserStatus {
    pub fn from_presence(p: PresenceClass) -> UserStatus {
        match p {
            PresenceClass::Never => UserStatus::NotAvailable,
            _ => UserStatus::Idle,
        }
    }
}
