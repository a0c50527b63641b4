//! Domain values ↔ column values. Ids are GUID text, times epoch milliseconds, enums their serde
//! variant names (the same names the REST API and webhooks use).

use crate::error::corrupt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Display;
use std::str::FromStr;
use stratus_routing::config::Distribution;
use stratus_routing::port::StoreError;
use stratus_routing::time::Instant;

pub(crate) fn text(v: impl Display) -> String {
    v.to_string()
}

pub(crate) fn opt_text(v: Option<impl Display>) -> Option<String> {
    v.map(|v| v.to_string())
}

pub(crate) fn parse<T: FromStr>(what: &str, s: &str) -> Result<T, StoreError>
where
    T::Err: Display,
{
    s.parse().map_err(|e| corrupt(what, e))
}

pub(crate) fn parse_opt<T: FromStr>(what: &str, s: Option<&str>) -> Result<Option<T>, StoreError>
where
    T::Err: Display,
{
    s.map(|s| parse(what, s)).transpose()
}

/// The variant name of a unit enum (`Modality::Call` → `"Call"`).
pub(crate) fn tag<T: Serialize>(v: &T) -> Result<String, StoreError> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(other) => Err(StoreError::Other(format!("{other} is not a unit variant"))),
        Err(e) => Err(StoreError::Other(e.to_string())),
    }
}

pub(crate) fn untag<T: DeserializeOwned>(what: &str, s: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|e| corrupt(what, e))
}

/// The distribution's name, for the `distribution` column (the full value lives in `settings`).
pub(crate) fn distribution_name(d: Distribution) -> &'static str {
    match d {
        Distribution::Broadcast { .. } => "Broadcast",
        Distribution::Direct => "Direct",
        Distribution::DirectConference => "DirectConference",
        Distribution::Pickup => "Pickup",
    }
}

// Unsigned domain numbers travel as i64, the one integer type both back ends share. The casts
// are bit-for-bit and undone on reading, so even values past i64::MAX (offer ids) round-trip.
pub(crate) fn int(v: u64) -> i64 {
    v as i64
}

pub(crate) fn uint(v: i64) -> u64 {
    v as u64
}

pub(crate) fn ms(t: Instant) -> i64 {
    int(t.as_millis())
}

pub(crate) fn instant(v: i64) -> Instant {
    Instant::from_millis(uint(v))
}

/// A small unsigned column (levels, counts) read back into its domain width.
pub(crate) fn narrow<T: TryFrom<i64>>(what: &str, v: i64) -> Result<T, StoreError> {
    T::try_from(v).map_err(|_| corrupt(what, format!("{v} is out of range")))
}
