//! Shapes shared by calls, participants and operations.

use serde::{Deserialize, Deserializer};

/// `resultInfo`: `code` and `subcode` arrive as numbers or as strings, and the key is `subcode`
/// or `subCode` depending on the doc page, so both are accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ResultInfo {
    #[serde(default, deserialize_with = "flex_int")]
    pub code: Option<i64>,
    #[serde(default, alias = "subCode", deserialize_with = "flex_int")]
    pub subcode: Option<i64>,
    #[serde(default)]
    pub message: Option<String>,
}

/// A number, a string holding a number, or null.
pub(crate) fn flex_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    let v = Option::<serde_json::Value>::deserialize(d)?;
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("not an integer: {n}"))),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("not an integer: {s:?}"))),
        Some(other) => Err(D::Error::custom(format!("not an integer: {other}"))),
    }
}

/// One `identity` inside an identitySet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

/// `identitySet`: exactly one of the members is normally set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySet {
    #[serde(default)]
    pub user: Option<Identity>,
    #[serde(default)]
    pub application: Option<Identity>,
    #[serde(default)]
    pub application_instance: Option<Identity>,
    #[serde(default)]
    pub phone: Option<Identity>,
    #[serde(default)]
    pub encrypted: Option<Identity>,
    #[serde(default)]
    pub guest: Option<Identity>,
}

/// `participantInfo` / `invitationParticipantInfo` (the fields Stratus reads).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantInfo {
    #[serde(default)]
    pub identity: Option<IdentitySet>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub participant_id: Option<String>,
    #[serde(default)]
    pub replaces_call_id: Option<String>,
}
