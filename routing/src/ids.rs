//! Newtype identifiers. Entity ids are UUIDs (Teams object ids and Graph tenant ids are GUIDs too);
//! ids Stratus does not mint (Graph call ids) are opaque strings.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A 128-bit id printed as a GUID. Kept dependency-free so `routing` stays tiny.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Guid(pub u128);

impl Guid {
    /// Builds a deterministic id from a small number (tests, demo data, simulators).
    pub const fn from_u128(v: u128) -> Self {
        Guid(v)
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            (v >> 96) as u32,
            (v >> 80) as u16,
            (v >> 64) as u16,
            (v >> 48) as u16,
            v & 0xffff_ffff_ffff
        )
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The text was not a GUID (`8-4-4-4-12` hex digits, braces optional).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a GUID: {0:?}")]
pub struct GuidParseError(pub String);

impl FromStr for Guid {
    type Err = GuidParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim_start_matches('{').trim_end_matches('}');
        let groups: Vec<&str> = t.split('-').collect();
        let lens = [8, 4, 4, 4, 12];
        if groups.len() != 5 || groups.iter().zip(lens).any(|(g, l)| g.len() != l) {
            return Err(GuidParseError(s.to_owned()));
        }
        let hex: String = groups.concat();
        u128::from_str_radix(&hex, 16)
            .map(Guid)
            .map_err(|_| GuidParseError(s.to_owned()))
    }
}

impl Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

macro_rules! guid_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Guid);

        impl $name {
            pub const fn from_u128(v: u128) -> Self {
                $name(Guid(v))
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
        impl FromStr for $name {
            type Err = GuidParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

guid_id!(
    /// A Partner (reseller) owning tenants.
    PartnerId
);
guid_id!(
    /// A Stratus tenant.
    TenantId
);
guid_id!(
    /// The Microsoft 365 (Entra ID) tenant id a Stratus tenant is bound to: Graph's `tenantId` / `tid`.
    M365TenantId
);
guid_id!(
    /// An organization unit inside a tenant.
    OrgUnitId
);
guid_id!(
    /// A service (queue line).
    ServiceId
);
guid_id!(
    /// A user (agent); equal to the Teams / Entra object id.
    UserId
);
guid_id!(
    /// A task (call, chat, email, external task).
    TaskId
);
guid_id!(
    /// A skill category.
    SkillCategoryId
);
guid_id!(
    /// A skill.
    SkillId
);
guid_id!(
    /// A responsibility profile.
    ProfileId
);
guid_id!(
    /// A distribution policy.
    PolicyId
);
guid_id!(
    /// A Not-Available reason.
    NotAvailableReasonId
);
guid_id!(
    /// A workflow.
    WorkflowId
);

/// A Graph call id (or the simulator's). Opaque: Stratus never mints these.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallId(pub String);

impl CallId {
    pub fn new(s: impl Into<String>) -> Self {
        CallId(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl fmt::Debug for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CallId({})", self.0)
    }
}

/// One offer lease. Minted by the service queue from a seed the caller supplies, so ids stay
/// unique across restarts of the queue's actor without `routing` reading a clock or an RNG.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfferId(pub u64);

impl fmt::Display for OfferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offer-{:x}", self.0)
    }
}
impl fmt::Debug for OfferId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_round_trips_through_text() {
        let s = "491f0b00-ffff-4bc9-a43e-b226498ec22a";
        let g: Guid = s.parse().unwrap();
        assert_eq!(g.to_string(), s);
        assert_eq!(
            "{491F0B00-FFFF-4BC9-A43E-B226498EC22A}"
                .parse::<Guid>()
                .unwrap(),
            g
        );
    }

    #[test]
    fn bad_guids_are_errors() {
        for s in [
            "",
            "abc",
            "491f0b00-ffff-4bc9-a43e-b226498ec22",
            "491f0b00ffff4bc9a43eb226498ec22a",
            "zzzzzzzz-ffff-4bc9-a43e-b226498ec22a",
        ] {
            assert!(s.parse::<Guid>().is_err(), "{s}");
        }
    }
}
