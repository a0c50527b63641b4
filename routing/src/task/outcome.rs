//! Outcomes and outcome groups: ids 1–7 are the product's documented ones; ours start at 8.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum OutcomeGroup {
    HandledByUser = 1,
    HandledBySystem = 2,
    HangupByCustomer = 3,
    NotHandled = 4,
    Error = 5,
    OutboundAccepted = 6,
    OutboundNotAccepted = 7,
}

impl OutcomeGroup {
    pub const ALL: [OutcomeGroup; 7] = [
        OutcomeGroup::HandledByUser,
        OutcomeGroup::HandledBySystem,
        OutcomeGroup::HangupByCustomer,
        OutcomeGroup::NotHandled,
        OutcomeGroup::Error,
        OutcomeGroup::OutboundAccepted,
        OutcomeGroup::OutboundNotAccepted,
    ];
    pub fn id(self) -> u8 {
        self as u8
    }
    pub fn name(self) -> &'static str {
        match self {
            OutcomeGroup::HandledByUser => "Handled By User",
            OutcomeGroup::HandledBySystem => "Handled By System",
            OutcomeGroup::HangupByCustomer => "Hangup By Customer",
            OutcomeGroup::NotHandled => "Not Handled",
            OutcomeGroup::Error => "Error",
            OutcomeGroup::OutboundAccepted => "Outbound Accepted",
            OutcomeGroup::OutboundNotAccepted => "Outbound Not Accepted",
        }
    }
}

/// A service session's outcome.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    CustomerHangupBeforeAccept = 1,
    CustomerHangupInIvr = 2,
    CustomerHangupInIvrAfterQueue = 3,
    CustomerHangupInQueue = 4,
    UserAccepted = 5,
    UserInternalTransferSuccess = 6,
    UserExternalTransferSuccess = 7,
    QueueTimeout = 8,
    QueueFull = 9,
    SystemTransfer = 10,
    SystemDisconnect = 11,
    Cancelled = 12,
    Abandoned = 13,
    Error = 14,
    UserInternalTransferFailed = 15,
}

impl Outcome {
    pub const ALL: [Outcome; 15] = [
        Outcome::CustomerHangupBeforeAccept,
        Outcome::CustomerHangupInIvr,
        Outcome::CustomerHangupInIvrAfterQueue,
        Outcome::CustomerHangupInQueue,
        Outcome::UserAccepted,
        Outcome::UserInternalTransferSuccess,
        Outcome::UserExternalTransferSuccess,
        Outcome::QueueTimeout,
        Outcome::QueueFull,
        Outcome::SystemTransfer,
        Outcome::SystemDisconnect,
        Outcome::Cancelled,
        Outcome::Abandoned,
        Outcome::Error,
        Outcome::UserInternalTransferFailed,
    ];

    pub fn id(self) -> u8 {
        self as u8
    }

    pub fn from_id(id: u8) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.id() == id)
    }

    pub fn group(self) -> OutcomeGroup {
        use Outcome::*;
        match self {
            CustomerHangupBeforeAccept
            | CustomerHangupInIvr
            | CustomerHangupInIvrAfterQueue
            | CustomerHangupInQueue => OutcomeGroup::HangupByCustomer,
            UserAccepted | UserInternalTransferSuccess | UserExternalTransferSuccess => {
                OutcomeGroup::HandledByUser
            }
            SystemTransfer | SystemDisconnect => OutcomeGroup::HandledBySystem,
            QueueTimeout | QueueFull | Cancelled | Abandoned | UserInternalTransferFailed => {
                OutcomeGroup::NotHandled
            }
            Error => OutcomeGroup::Error,
        }
    }

    pub fn means_handled(self) -> bool {
        self.group() == OutcomeGroup::HandledByUser
    }

    pub fn name(self) -> &'static str {
        use Outcome::*;
        match self {
            CustomerHangupBeforeAccept => "Customer Hangup Before Accept",
            CustomerHangupInIvr => "Customer Hangup In Ivr",
            CustomerHangupInIvrAfterQueue => "Customer Hangup In Ivr After Queue",
            CustomerHangupInQueue => "Customer Hangup In Queue",
            UserAccepted => "User Accepted",
            UserInternalTransferSuccess => "User Internal Transfer Success",
            UserExternalTransferSuccess => "User External Transfer Success",
            QueueTimeout => "Queue Timeout",
            QueueFull => "Queue Full",
            SystemTransfer => "System Transfer",
            SystemDisconnect => "System Disconnect",
            Cancelled => "Cancelled",
            Abandoned => "Abandoned",
            Error => "Error",
            UserInternalTransferFailed => "User Internal Transfer Failed",
        }
    }
}

/// How one offer to one user ended (user sessions).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum UserSessionOutcome {
    Accepted,
    Declined,
    Rona,
    /// The caller hung up, or the task was cancelled, while it rang.
    Cancelled,
    /// Broadcast: another user answered first.
    LostRace,
    /// The user could not be reached (busy, unreachable, ring failure).
    Failed,
    TransferredInternally,
    TransferredExternally,
}

impl UserSessionOutcome {
    pub const ALL: [UserSessionOutcome; 8] = [
        UserSessionOutcome::Accepted,
        UserSessionOutcome::Declined,
        UserSessionOutcome::Rona,
        UserSessionOutcome::Cancelled,
        UserSessionOutcome::LostRace,
        UserSessionOutcome::Failed,
        UserSessionOutcome::TransferredInternally,
        UserSessionOutcome::TransferredExternally,
    ];
    pub fn id(self) -> u8 {
        UserSessionOutcome::ALL
            .iter()
            .position(|o| *o == self)
            .map_or(0, |i| i as u8 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_ids_and_groups() {
        assert_eq!(Outcome::CustomerHangupInQueue.id(), 4);
        assert_eq!(Outcome::UserAccepted.group().id(), 1);
        assert_eq!(Outcome::UserExternalTransferSuccess.id(), 7);
        assert_eq!(
            Outcome::CustomerHangupBeforeAccept.group(),
            OutcomeGroup::HangupByCustomer
        );
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_id(o.id()), Some(o));
        }
        assert!(
            Outcome::ALL
                .iter()
                .filter(|o| o.id() >= 8)
                .all(|o| o.id() <= 15)
        );
    }
}
