//! Validated configuration values. Each rejects out-of-range input at construction (and at
//! deserialization, through `try_from`) with a [`ValidationError`] naming its field.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

macro_rules! ranged_secs {
    ($(#[$m:meta])* $name:ident, $field:literal, $min:expr, $max:expr, $default:expr) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
        #[serde(try_from = "u32", into = "u32")]
        pub struct $name(u32);

        impl $name {
            pub const MIN: u32 = $min;
            pub const MAX: u32 = $max;
            pub const FIELD: &'static str = $field;

            pub fn new(secs: u32) -> Result<Self, ValidationError> {
                if !($min..=$max).contains(&secs) {
                    return Err(ValidationError::new(
                        $field,
                        format!("{secs} s is out of range {}..={} s", $min, $max),
                    ));
                }
                Ok($name(secs))
            }
            pub fn secs(self) -> u32 {
                self.0
            }
            pub fn duration(self) -> Duration {
                Duration::from_secs(u64::from(self.0))
            }
        }
        impl Default for $name {
            fn default() -> Self {
                $name($default)
            }
        }
        impl TryFrom<u32> for $name {
            type Error = ValidationError;
            fn try_from(v: u32) -> Result<Self, ValidationError> {
                $name::new(v)
            }
        }
        impl From<$name> for u32 {
            fn from(v: $name) -> u32 {
                v.0
            }
        }
    };
}

ranged_secs!(
    /// RONA time: how long an offer rings before it counts as not answered (5–300 s, default 20).
    RingTimeout,
    "ring_timeout_secs",
    5,
    300,
    20
);
ranged_secs!(
    /// Persistent-RONA reset time (10 s – 320 min, default 10 min).
    RonaResetTime,
    "rona_reset_secs",
    10,
    320 * 60,
    600
);
ranged_secs!(
    /// Non-persistent RONA: the cool-down after a missed, declined or unreachable ring during which
    /// the user shows RONA and gets no task (0–300 s, default 10; 0: none).
    RonaCooldown,
    "rona_cooldown_secs",
    0,
    300,
    10
);
ranged_secs!(
    /// ACW length (1 s – 60 min, default 20 s).
    AcwTime,
    "acw.seconds",
    1,
    3600,
    20
);
ranged_secs!(
    /// One ACW extension (1 s – 60 min, default 60 s); granted as a fresh counter.
    AcwExtension,
    "acw.extension_secs",
    1,
    3600,
    60
);
ranged_secs!(
    /// SLA threshold for reporting (1 s – 1 h, default 20 s).
    SlaTime,
    "sla_secs",
    1,
    3600,
    20
);
ranged_secs!(
    /// Maximum time a task may wait in the queue (5 s – 24 h, default 30 min).
    MaxQueueTime,
    "max_queue_secs",
    5,
    86_400,
    1800
);
ranged_secs!(
    /// Time a task spends on one distribution-policy level before the next applies (0–24 h).
    EscalateAfter,
    "escalate_after_secs",
    0,
    86_400,
    30
);

/// A custom context parameter id: 1–64 characters, letters, digits and `_` only (the product's
/// rule: tenant-unique, no spaces or special characters).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ParameterId(String);

impl ParameterId {
    pub const MAX_LEN: usize = 64;

    pub fn new(s: impl Into<String>) -> Result<Self, ValidationError> {
        let s = s.into();
        let n = s.chars().count();
        if n == 0 || n > Self::MAX_LEN {
            return Err(ValidationError::new(
                "parameter.id",
                format!("length {n} is out of range 1..=64"),
            ));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ValidationError::new(
                "parameter.id",
                "only letters, digits and '_' are allowed",
            ));
        }
        Ok(ParameterId(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for ParameterId {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, ValidationError> {
        ParameterId::new(s)
    }
}
impl From<ParameterId> for String {
    fn from(p: ParameterId) -> String {
        p.0
    }
}

/// A parameter value: at most 5120 characters; empty is allowed.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ParameterValue(String);

impl ParameterValue {
    pub const MAX_LEN: usize = 5120;

    pub fn new(s: impl Into<String>) -> Result<Self, ValidationError> {
        let s = s.into();
        let n = s.chars().count();
        if n > Self::MAX_LEN {
            return Err(ValidationError::new(
                "parameter.value",
                format!("length {n} exceeds 5120"),
            ));
        }
        Ok(ParameterValue(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for ParameterValue {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, ValidationError> {
        ParameterValue::new(s)
    }
}
impl From<ParameterValue> for String {
    fn from(p: ParameterValue) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_name_their_field() {
        assert_eq!(RingTimeout::new(2).unwrap_err().field, "ring_timeout_secs");
        assert!(RingTimeout::new(5).is_ok() && RingTimeout::new(300).is_ok());
        assert!(RingTimeout::new(301).is_err());
        assert_eq!(
            RonaResetTime::new(400 * 60).unwrap_err().field,
            "rona_reset_secs"
        );
        assert!(RonaResetTime::new(320 * 60).is_ok());
        assert_eq!(RonaResetTime::default().secs(), 600);
        assert_eq!(RingTimeout::default().secs(), 20);
        assert_eq!(RonaCooldown::default().secs(), 10);
        assert!(RonaCooldown::new(0).is_ok() && RonaCooldown::new(300).is_ok());
        assert_eq!(
            RonaCooldown::new(301).unwrap_err().field,
            "rona_cooldown_secs"
        );
        let e = serde_json::from_str::<RonaCooldown>("301").unwrap_err();
        assert!(e.to_string().contains("rona_cooldown_secs"), "{e}");
    }

    #[test]
    fn parameter_limits() {
        assert_eq!(
            ParameterId::new("a".repeat(65)).unwrap_err().field,
            "parameter.id"
        );
        assert!(ParameterId::new("a".repeat(64)).is_ok());
        assert!(ParameterId::new("has space").is_err());
        assert!(ParameterId::new("").is_err());
        assert!(ParameterValue::new("x".repeat(5121)).is_err());
        assert!(ParameterValue::new("x".repeat(5120)).is_ok());
        assert!(ParameterValue::new("").is_ok());
    }

    #[test]
    fn deserialization_validates() {
        let e = serde_json::from_str::<RingTimeout>("2").unwrap_err();
        assert!(e.to_string().contains("ring_timeout_secs"), "{e}");
        assert_eq!(
            serde_json::from_str::<RingTimeout>("30").unwrap().secs(),
            30
        );
    }
}
