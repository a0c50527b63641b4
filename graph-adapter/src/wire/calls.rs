//! Calling notifications (`commsNotifications`) and the call, operation and participant
//! resources they carry.

use super::common::{ParticipantInfo, ResultInfo, flex_int};
use serde::Deserialize;

/// The body Graph POSTs to a calling webhook or a per-call `callbackUri`.
#[derive(Clone, Debug, Deserialize)]
pub struct CommsNotifications {
    pub value: Vec<CommsNotification>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommsNotification {
    pub change_type: String,
    #[serde(default)]
    pub resource_url: Option<String>,
    /// Legacy `/app/calls/{id}` form seen in real traffic.
    #[serde(default)]
    pub resource: Option<String>,
    /// One entity (call, operation) or an array (participants): kept raw and typed by the parser.
    #[serde(default)]
    pub resource_data: Option<serde_json::Value>,
    #[serde(default)]
    pub callback_uri: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncomingContext {
    #[serde(default)]
    pub source_participant_id: Option<String>,
    #[serde(default)]
    pub observed_participant_id: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToneInfo {
    #[serde(default, deserialize_with = "flex_int")]
    pub sequence_id: Option<i64>,
    #[serde(default)]
    pub tone: Option<String>,
}

/// The `call` resource (only what Stratus reads; everything else is ignored).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub callback_uri: Option<String>,
    #[serde(default)]
    pub source: Option<ParticipantInfo>,
    #[serde(default)]
    pub targets: Option<Vec<ParticipantInfo>>,
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub my_participant_id: Option<String>,
    #[serde(default)]
    pub call_chain_id: Option<String>,
    #[serde(default)]
    pub incoming_context: Option<IncomingContext>,
    #[serde(default)]
    pub result_info: Option<ResultInfo>,
    #[serde(default)]
    pub termination_reason: Option<String>,
    #[serde(default)]
    pub tone_info: Option<ToneInfo>,
    #[serde(default)]
    pub answered_by: Option<ParticipantInfo>,
    #[serde(default)]
    pub requested_modalities: Option<Vec<String>>,
}

/// A `commsOperation` (playPrompt, recordResponse, invite, …).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommsOperation {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub client_context: Option<String>,
    #[serde(default)]
    pub result_info: Option<ResultInfo>,
    #[serde(default)]
    pub completion_reason: Option<String>,
    #[serde(default)]
    pub recording_location: Option<String>,
    #[serde(default)]
    pub participants: Option<Vec<ParticipantInfo>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaStream {
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
}

/// A roster entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub info: Option<ParticipantInfo>,
    #[serde(default)]
    pub media_streams: Option<Vec<MediaStream>>,
    #[serde(default)]
    pub is_muted: Option<bool>,
    #[serde(default)]
    pub is_in_lobby: Option<bool>,
}
