//! Presence resources and change / lifecycle notifications.

use serde::Deserialize;

/// A `presence` resource.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WirePresence {
    pub id: String,
    #[serde(default)]
    pub availability: Option<String>,
    #[serde(default)]
    pub activity: Option<String>,
    #[serde(default)]
    pub sequence_number: Option<String>,
}

/// `{"value":[presence…]}` from getPresencesByUserId (and the presences collection).
#[derive(Clone, Debug, Deserialize)]
pub struct WirePresences {
    pub value: Vec<WirePresence>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub availability: Option<String>,
    #[serde(default)]
    pub activity: Option<String>,
    #[serde(default)]
    pub sequence_number: Option<String>,
}

/// One change notification or lifecycle notification (same envelope).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeNotification {
    #[serde(default)]
    pub subscription_id: Option<String>,
    #[serde(default)]
    pub client_state: Option<String>,
    #[serde(default)]
    pub change_type: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub subscription_expiration_date_time: Option<String>,
    #[serde(default)]
    pub resource_data: Option<ResourceRef>,
    #[serde(default)]
    pub encrypted_content: Option<serde_json::Value>,
    #[serde(default)]
    pub lifecycle_event: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeNotifications {
    pub value: Vec<ChangeNotification>,
    #[serde(default)]
    pub validation_tokens: Option<Vec<String>>,
}
