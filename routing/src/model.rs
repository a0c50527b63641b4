//! Small shared vocabulary: modality, direction, priority, presence.

use serde::{Deserialize, Serialize};

/// What kind of work a task is. Capacity is counted per modality.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Modality {
    Call,
    Chat,
    Email,
    ExternalTask,
}

impl Modality {
    pub const ALL: [Modality; 4] = [
        Modality::Call,
        Modality::Chat,
        Modality::Email,
        Modality::ExternalTask,
    ];
    pub fn index(self) -> usize {
        match self {
            Modality::Call => 0,
            Modality::Chat => 1,
            Modality::Email => 2,
            Modality::ExternalTask => 3,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Direction {
    #[default]
    Inbound,
    Outbound,
    None,
}

/// Task priority. `Strict` always goes first; the others order the queue but never pre-empt an
/// offer already made.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Strict,
}

/// Teams presence availability (Graph `availability`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Availability {
    Available,
    AvailableIdle,
    Away,
    BeRightBack,
    Busy,
    BusyIdle,
    DoNotDisturb,
    #[default]
    Offline,
    PresenceUnknown,
}

/// Teams presence activity (Graph `activity`), reduced to what routing distinguishes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Activity {
    Available,
    Away,
    BeRightBack,
    Busy,
    DoNotDisturb,
    InACall,
    InAConferenceCall,
    InAMeeting,
    Inactive,
    Offline,
    OffWork,
    OutOfOffice,
    Presenting,
    UrgentInterruptionsOnly,
    #[default]
    PresenceUnknown,
}

/// One presence reading with Graph's `sequenceNumber`, so stale updates can be dropped.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Presence {
    pub availability: Availability,
    pub activity: Activity,
    pub sequence: u64,
}

/// How routing sees a presence: the four classes the selectable predicate distinguishes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PresenceClass {
    Available,
    Busy,
    Away,
    /// Offline, Do Not Disturb, in a call, unknown: never selectable.
    Never,
}

impl Presence {
    pub fn class(&self) -> PresenceClass {
        use Activity as A;
        use Availability as V;
        if matches!(
            self.activity,
            A::InACall
                | A::InAConferenceCall
                | A::DoNotDisturb
                | A::Presenting
                | A::UrgentInterruptionsOnly
        ) {
            return PresenceClass::Never;
        }
        match self.availability {
            V::Available | V::AvailableIdle => PresenceClass::Available,
            V::Busy | V::BusyIdle => PresenceClass::Busy,
            V::Away | V::BeRightBack => PresenceClass::Away,
            V::DoNotDisturb | V::Offline | V::PresenceUnknown => PresenceClass::Never,
        }
    }

    pub fn is_offline(&self) -> bool {
        matches!(self.availability, Availability::Offline)
    }
}
