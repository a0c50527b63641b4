//! Parsing Graph payloads into typed, wire-independent notifications. Tolerates the documented
//! quirks (numeric or string codes, `subcode`/`subCode`, optional `@odata.type`, enum case);
//! an unknown or malformed payload is a [`ParseError`], never a panic.

use crate::wire::{
    Call, CommsNotification, CommsNotifications, CommsOperation, Identity, IdentitySet,
    Participant, ParticipantInfo, ResultInfo, WirePresence, WirePresences,
};
use stratus_routing::model::{Activity, Availability};

/// Why a payload could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("malformed JSON: {0}")]
    Json(String),
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("unknown {field}: {value:?}")]
    Unknown { field: &'static str, value: String },
}

fn json_err(e: serde_json::Error) -> ParseError {
    ParseError::Json(e.to_string())
}

/// `changeType` of a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeType {
    Created,
    Updated,
    Deleted,
}

impl ChangeType {
    fn parse(s: &str) -> Result<Self, ParseError> {
        match s.to_ascii_lowercase().as_str() {
            "created" => Ok(ChangeType::Created),
            "updated" => Ok(ChangeType::Updated),
            "deleted" => Ok(ChangeType::Deleted),
            _ => Err(ParseError::Unknown {
                field: "changeType",
                value: s.to_owned(),
            }),
        }
    }
}

/// The call `state` enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallState {
    Incoming,
    Establishing,
    Ringing,
    Established,
    Hold,
    Transferring,
    TransferAccepted,
    Redirecting,
    Terminating,
    Terminated,
}

impl CallState {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "incoming" => CallState::Incoming,
            "establishing" => CallState::Establishing,
            "ringing" => CallState::Ringing,
            "established" => CallState::Established,
            "hold" => CallState::Hold,
            "transferring" => CallState::Transferring,
            "transferaccepted" => CallState::TransferAccepted,
            "redirecting" => CallState::Redirecting,
            "terminating" => CallState::Terminating,
            "terminated" => CallState::Terminated,
            _ => {
                return Err(ParseError::Unknown {
                    field: "state",
                    value: s.to_owned(),
                });
            }
        })
    }
}

/// A DTMF key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Digit(char),
    Flash,
}

impl Tone {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let l = s.to_ascii_lowercase();
        let c = match l.as_str() {
            "star" => '*',
            "pound" => '#',
            "a" | "b" | "c" | "d" => l.chars().next().map_or('A', |c| c.to_ascii_uppercase()),
            "flash" => return Ok(Tone::Flash),
            _ => match l.strip_prefix("tone").and_then(|d| d.parse::<u8>().ok()) {
                Some(d) if d <= 9 => char::from(b'0' + d),
                _ => {
                    return Err(ParseError::Unknown {
                        field: "tone",
                        value: s.to_owned(),
                    });
                }
            },
        };
        Ok(Tone::Digit(c))
    }

    /// The wire name of a digit (`tone0`…`tone9`, `star`, `pound`, `a`…`d`).
    pub fn wire_name(c: char) -> Option<String> {
        match c {
            '0'..='9' => Some(format!("tone{c}")),
            '*' => Some("star".into()),
            '#' => Some("pound".into()),
            'A'..='D' | 'a'..='d' => Some(c.to_ascii_lowercase().to_string()),
            _ => None,
        }
    }
}

/// Kind of identity a party has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartyKind {
    User,
    Application,
    ApplicationInstance,
    Phone,
    Encrypted,
    Guest,
    Unknown,
}

/// A participant's identity, flattened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyId {
    pub kind: PartyKind,
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub tenant_id: Option<String>,
}

impl PartyId {
    fn from_set(s: &IdentitySet) -> PartyId {
        let pick = |k: PartyKind, i: &Identity| PartyId {
            kind: k,
            id: i.id.clone(),
            display_name: i.display_name.clone(),
            tenant_id: i.tenant_id.clone(),
        };
        // applicationInstance before application: a resource account may carry both.
        if let Some(i) = &s.application_instance {
            pick(PartyKind::ApplicationInstance, i)
        } else if let Some(i) = &s.user {
            pick(PartyKind::User, i)
        } else if let Some(i) = &s.phone {
            pick(PartyKind::Phone, i)
        } else if let Some(i) = &s.application {
            pick(PartyKind::Application, i)
        } else if let Some(i) = &s.guest {
            pick(PartyKind::Guest, i)
        } else if let Some(i) = &s.encrypted {
            pick(PartyKind::Encrypted, i)
        } else {
            PartyId {
                kind: PartyKind::Unknown,
                id: None,
                display_name: None,
                tenant_id: None,
            }
        }
    }

    fn from_info(p: &ParticipantInfo) -> PartyId {
        p.identity.as_ref().map_or(
            PartyId {
                kind: PartyKind::Unknown,
                id: None,
                display_name: None,
                tenant_id: None,
            },
            PartyId::from_set,
        )
    }
}

/// A new inbound call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingCall {
    pub tenant_id: Option<String>,
    pub source: Option<PartyId>,
    pub targets: Vec<PartyId>,
    pub call_chain_id: Option<String>,
    pub my_participant_id: Option<String>,
    pub source_participant_id: Option<String>,
    pub callback_uri: Option<String>,
    pub requested_modalities: Vec<String>,
}

/// Which `commsOperation` finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationKind {
    PlayPrompt,
    Record,
    SubscribeToTone,
    CancelMediaProcessing,
    InviteParticipants,
    Mute,
    Unmute,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationStatus {
    NotStarted,
    Running,
    Completed,
    Failed,
}

impl OperationStatus {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "notstarted" => OperationStatus::NotStarted,
            "running" => OperationStatus::Running,
            "completed" => OperationStatus::Completed,
            "failed" => OperationStatus::Failed,
            _ => {
                return Err(ParseError::Unknown {
                    field: "status",
                    value: s.to_owned(),
                });
            }
        })
    }
}

/// A `resultInfo` with the codes made plain.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Outcome {
    pub code: i64,
    pub subcode: i64,
    pub message: Option<String>,
}

impl From<&ResultInfo> for Outcome {
    fn from(r: &ResultInfo) -> Self {
        Outcome {
            code: r.code.unwrap_or(0),
            subcode: r.subcode.unwrap_or(0),
            message: r.message.clone(),
        }
    }
}

/// An operation result (a notification or the action's response).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub id: Option<String>,
    pub kind: OperationKind,
    pub status: Option<OperationStatus>,
    pub result: Option<Outcome>,
    pub client_context: Option<String>,
    pub completion_reason: Option<String>,
    pub recording_location: Option<String>,
    pub participants: Vec<PartyId>,
}

/// One roster entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterEntry {
    pub participant_id: Option<String>,
    pub who: PartyId,
    pub in_lobby: bool,
    pub muted: bool,
    /// Has at least one media stream: connected rather than still being invited.
    pub has_media: bool,
}

/// What a calling notification says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotificationKind {
    Incoming(IncomingCall),
    /// An `updated` call with a new state. `result` set on `established` = transfer failed.
    StateChanged {
        state: CallState,
        result: Option<Outcome>,
    },
    Tone {
        tone: Tone,
        sequence_id: Option<i64>,
    },
    /// `deleted` on the call: final, whatever the state field says.
    Deleted {
        state: Option<CallState>,
        result: Option<Outcome>,
        termination_reason: Option<String>,
        answered_by: Option<PartyId>,
    },
    OperationFinished(Operation),
    /// Roster change; `removed` when the change type was `deleted`.
    Roster {
        participants: Vec<RosterEntry>,
        removed: bool,
    },
    /// Resources Stratus ignores (content sharing …).
    Ignored {
        resource: String,
    },
}

/// One parsed calling notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub call_id: String,
    pub change_type: ChangeType,
    pub callback_uri: Option<String>,
    pub kind: NotificationKind,
}

/// Parses a `commsNotifications` body.
pub fn parse_calling(body: &[u8]) -> Result<Vec<Notification>, ParseError> {
    let n: CommsNotifications = serde_json::from_slice(body).map_err(json_err)?;
    // One item Stratus cannot read must not cost the others (a `terminated` beside it):
    // unreadable items are logged and skipped; only a batch with nothing readable is an error.
    let mut out = Vec::with_capacity(n.value.len());
    let mut first_err = None;
    for item in &n.value {
        match parse_one(item) {
            Ok(x) => out.push(x),
            Err(e) => {
                tracing::warn!(error = %e, "unreadable item in a calling notification: skipped");
                metrics::counter!("stratus_graph_notification_items_skipped_total").increment(1);
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        Some(e) if out.is_empty() => Err(e),
        _ => Ok(out),
    }
}

/// The path segments after `/communications/calls/` (or legacy `/app/calls/`).
fn call_path(n: &CommsNotification) -> Result<Vec<String>, ParseError> {
    let url = n
        .resource_url
        .as_deref()
        .or(n.resource.as_deref())
        .ok_or(ParseError::Missing("resourceUrl"))?;
    let rest = url
        .split_once("/calls/")
        .map(|(_, r)| r)
        .ok_or_else(|| ParseError::Unknown {
            field: "resourceUrl",
            value: url.to_owned(),
        })?;
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if segs.is_empty() {
        return Err(ParseError::Missing("call id in resourceUrl"));
    }
    Ok(segs)
}

fn parse_one(n: &CommsNotification) -> Result<Notification, ParseError> {
    let change_type = ChangeType::parse(&n.change_type)?;
    let segs = call_path(n)?;
    let call_id = segs.first().cloned().unwrap_or_default();
    let data = n.resource_data.clone().unwrap_or(serde_json::Value::Null);
    let kind = match segs.get(1).map(|s| s.to_ascii_lowercase()) {
        None => parse_call(change_type, data, n.callback_uri.clone())?,
        Some(s) if s == "operations" => NotificationKind::OperationFinished(parse_operation(data)?),
        Some(s) if s == "participants" => {
            let list: Vec<Participant> = match data {
                serde_json::Value::Array(_) => serde_json::from_value(data).map_err(json_err)?,
                serde_json::Value::Object(_) => {
                    vec![serde_json::from_value(data).map_err(json_err)?]
                }
                _ => return Err(ParseError::Missing("participants resourceData")),
            };
            NotificationKind::Roster {
                participants: list.iter().map(roster_entry).collect(),
                removed: change_type == ChangeType::Deleted,
            }
        }
        Some(other) => NotificationKind::Ignored { resource: other },
    };
    Ok(Notification {
        call_id,
        change_type,
        callback_uri: n.callback_uri.clone(),
        kind,
    })
}

fn roster_entry(p: &Participant) -> RosterEntry {
    RosterEntry {
        participant_id: p.id.clone(),
        who: p.info.as_ref().map_or_else(
            || PartyId::from_info(&ParticipantInfo::default()),
            PartyId::from_info,
        ),
        in_lobby: p.is_in_lobby.unwrap_or(false),
        muted: p.is_muted.unwrap_or(false),
        has_media: p.media_streams.as_ref().is_some_and(|m| !m.is_empty()),
    }
}

fn parse_call(
    change_type: ChangeType,
    data: serde_json::Value,
    envelope_callback: Option<String>,
) -> Result<NotificationKind, ParseError> {
    if !data.is_object() {
        return Err(ParseError::Missing("call resourceData"));
    }
    let c: Call = serde_json::from_value(data).map_err(json_err)?;
    let state = c.state.as_deref().map(CallState::parse).transpose()?;
    let result = c.result_info.as_ref().map(Outcome::from);
    match change_type {
        ChangeType::Deleted => Ok(NotificationKind::Deleted {
            state,
            result,
            termination_reason: c.termination_reason.clone(),
            answered_by: c.answered_by.as_ref().map(PartyId::from_info),
        }),
        ChangeType::Created => Ok(NotificationKind::Incoming(IncomingCall {
            tenant_id: c.tenant_id.clone(),
            source: c.source.as_ref().map(PartyId::from_info),
            targets: c.targets.iter().flatten().map(PartyId::from_info).collect(),
            call_chain_id: c.call_chain_id.clone(),
            my_participant_id: c.my_participant_id.clone(),
            source_participant_id: c
                .incoming_context
                .as_ref()
                .and_then(|i| i.source_participant_id.clone())
                .or_else(|| c.source.as_ref().and_then(|s| s.id.clone())),
            callback_uri: c.callback_uri.clone().or(envelope_callback),
            requested_modalities: c.requested_modalities.clone().unwrap_or_default(),
        })),
        ChangeType::Updated => {
            if let Some(t) = &c.tone_info {
                let tone = Tone::parse(t.tone.as_deref().ok_or(ParseError::Missing("tone"))?)?;
                return Ok(NotificationKind::Tone {
                    tone,
                    sequence_id: t.sequence_id,
                });
            }
            let state = state.ok_or(ParseError::Missing("state"))?;
            Ok(NotificationKind::StateChanged { state, result })
        }
    }
}

fn operation_kind(t: Option<&str>) -> OperationKind {
    let t = t.unwrap_or("").to_ascii_lowercase();
    let t = t.trim_start_matches("#microsoft.graph.");
    match t {
        "playpromptoperation" => OperationKind::PlayPrompt,
        "recordoperation" => OperationKind::Record,
        "subscribetotoneoperation" => OperationKind::SubscribeToTone,
        "cancelmediaprocessingoperation" => OperationKind::CancelMediaProcessing,
        "inviteparticipantsoperation" => OperationKind::InviteParticipants,
        "muteparticipantoperation" => OperationKind::Mute,
        "unmuteparticipantoperation" => OperationKind::Unmute,
        _ => OperationKind::Other,
    }
}

/// Parses a `commsOperation` (from a notification or an action's 200 response).
pub fn parse_operation_value(data: serde_json::Value) -> Result<Operation, ParseError> {
    parse_operation(data)
}

/// Parses an action's 200 response body.
pub fn parse_operation_response(body: &[u8]) -> Result<Operation, ParseError> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(json_err)?;
    parse_operation(v)
}

fn parse_operation(data: serde_json::Value) -> Result<Operation, ParseError> {
    if !data.is_object() {
        return Err(ParseError::Missing("operation resourceData"));
    }
    let o: CommsOperation = serde_json::from_value(data).map_err(json_err)?;
    Ok(Operation {
        id: o.id.clone(),
        kind: operation_kind(o.odata_type.as_deref()),
        status: o
            .status
            .as_deref()
            .map(OperationStatus::parse)
            .transpose()?,
        result: o.result_info.as_ref().map(Outcome::from),
        client_context: o.client_context.clone(),
        completion_reason: o.completion_reason.clone(),
        recording_location: o.recording_location.clone(),
        participants: o
            .participants
            .iter()
            .flatten()
            .map(PartyId::from_info)
            .collect(),
    })
}

/// The parts of a `call` response (create call, get call) Stratus uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallInfo {
    pub id: String,
    pub state: Option<CallState>,
    pub call_chain_id: Option<String>,
    pub my_participant_id: Option<String>,
    pub targets: Vec<PartyId>,
    pub source: Option<PartyId>,
}

/// Parses a `call` resource (create-call 201, get-call 200).
pub fn parse_call_resource(body: &[u8]) -> Result<CallInfo, ParseError> {
    let c: Call = serde_json::from_slice(body).map_err(json_err)?;
    Ok(CallInfo {
        id: c.id.clone().ok_or(ParseError::Missing("id"))?,
        state: c.state.as_deref().map(CallState::parse).transpose()?,
        call_chain_id: c.call_chain_id.clone(),
        my_participant_id: c.my_participant_id.clone(),
        targets: c.targets.iter().flatten().map(PartyId::from_info).collect(),
        source: c.source.as_ref().map(PartyId::from_info),
    })
}

/// The parts of a `subscription` response (create 201, renew 200) Stratus uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionInfo {
    pub id: String,
    pub resource: Option<String>,
    pub expiration: Option<String>,
    pub client_state: Option<String>,
}

/// Parses a `subscription` resource.
pub fn parse_subscription(body: &[u8]) -> Result<SubscriptionInfo, ParseError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct S {
        id: Option<String>,
        resource: Option<String>,
        expiration_date_time: Option<String>,
        client_state: Option<String>,
    }
    let s: S = serde_json::from_slice(body).map_err(json_err)?;
    Ok(SubscriptionInfo {
        id: s.id.ok_or(ParseError::Missing("id"))?,
        resource: s.resource,
        expiration: s.expiration_date_time,
        client_state: s.client_state,
    })
}

/// Parses `{"value":[participant…]}` (list participants).
pub fn parse_participants(body: &[u8]) -> Result<Vec<RosterEntry>, ParseError> {
    #[derive(serde::Deserialize)]
    struct L {
        value: Vec<Participant>,
    }
    let l: L = serde_json::from_slice(body).map_err(json_err)?;
    Ok(l.value.iter().map(roster_entry).collect())
}

/// A Graph error body `{"error":{"code","message"}}`.
pub fn parse_error_body(body: &[u8]) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let e = v.get("error")?;
    Some((
        e.get("code")?.as_str()?.to_owned(),
        e.get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("")
            .to_owned(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Presence

/// One presence reading, wire-free.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresenceReading {
    pub user_id: String,
    pub availability: Availability,
    pub activity: Activity,
    /// Graph's lexicographically sortable version stamp, when sent.
    pub sequence_number: Option<String>,
}

/// Case-insensitive; values Graph added later than the routing model map to `PresenceUnknown`
/// (presence is a soft signal, an unknown value must not drop the update).
pub fn availability(s: &str) -> Availability {
    match s.to_ascii_lowercase().as_str() {
        "available" => Availability::Available,
        "availableidle" => Availability::AvailableIdle,
        "away" => Availability::Away,
        "berightback" => Availability::BeRightBack,
        "busy" => Availability::Busy,
        "busyidle" => Availability::BusyIdle,
        "donotdisturb" => Availability::DoNotDisturb,
        "offline" => Availability::Offline,
        _ => Availability::PresenceUnknown,
    }
}

/// Case-insensitive activity mapping (see [`availability`]).
pub fn activity(s: &str) -> Activity {
    match s.to_ascii_lowercase().as_str() {
        "available" => Activity::Available,
        "away" => Activity::Away,
        "berightback" => Activity::BeRightBack,
        "busy" => Activity::Busy,
        "donotdisturb" => Activity::DoNotDisturb,
        "inacall" => Activity::InACall,
        "inaconferencecall" => Activity::InAConferenceCall,
        "inameeting" => Activity::InAMeeting,
        "inactive" => Activity::Inactive,
        "offline" => Activity::Offline,
        "offwork" => Activity::OffWork,
        "outofoffice" => Activity::OutOfOffice,
        "presenting" => Activity::Presenting,
        "urgentinterruptionsonly" => Activity::UrgentInterruptionsOnly,
        _ => Activity::PresenceUnknown,
    }
}

fn reading(p: &WirePresence) -> PresenceReading {
    PresenceReading {
        user_id: p.id.clone(),
        availability: p
            .availability
            .as_deref()
            .map_or(Availability::PresenceUnknown, availability),
        activity: p
            .activity
            .as_deref()
            .map_or(Activity::PresenceUnknown, activity),
        sequence_number: p.sequence_number.clone(),
    }
}

/// Parses one `presence` resource, or a `{"value":[…]}` collection.
pub fn parse_presences(body: &[u8]) -> Result<Vec<PresenceReading>, ParseError> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(json_err)?;
    if v.get("value").is_some() {
        let l: WirePresences = serde_json::from_value(v).map_err(json_err)?;
        Ok(l.value.iter().map(reading).collect())
    } else {
        let p: WirePresence = serde_json::from_value(v).map_err(json_err)?;
        Ok(vec![reading(&p)])
    }
}

/// A lifecycle event of a subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LifecycleEvent {
    ReauthorizationRequired,
    SubscriptionRemoved,
    Missed,
}

/// One item of a change-notification POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeItem {
    /// A resource changed. For presence, `resource_id` is the user id; `presence` is set only
    /// when the notification carried the values in clear.
    Changed {
        subscription_id: Option<String>,
        client_state: Option<String>,
        tenant_id: Option<String>,
        resource: Option<String>,
        resource_id: Option<String>,
        encrypted: bool,
        presence: Option<PresenceReading>,
    },
    Lifecycle {
        subscription_id: Option<String>,
        client_state: Option<String>,
        tenant_id: Option<String>,
        event: LifecycleEvent,
    },
}

/// A change-notification (or lifecycle) POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeBatch {
    pub items: Vec<ChangeItem>,
    pub validation_tokens: Vec<String>,
}

/// Parses a presence change or lifecycle notification body.
pub fn parse_change_notifications(body: &[u8]) -> Result<ChangeBatch, ParseError> {
    let n: crate::wire::ChangeNotifications = serde_json::from_slice(body).map_err(json_err)?;
    let mut items = Vec::with_capacity(n.value.len());
    for c in &n.value {
        if let Some(ev) = &c.lifecycle_event {
            let event = match ev.to_ascii_lowercase().as_str() {
                "reauthorizationrequired" => LifecycleEvent::ReauthorizationRequired,
                "subscriptionremoved" => LifecycleEvent::SubscriptionRemoved,
                "missed" => LifecycleEvent::Missed,
                _ => {
                    return Err(ParseError::Unknown {
                        field: "lifecycleEvent",
                        value: ev.clone(),
                    });
                }
            };
            items.push(ChangeItem::Lifecycle {
                subscription_id: c.subscription_id.clone(),
                client_state: c.client_state.clone(),
                tenant_id: c.tenant_id.clone(),
                event,
            });
            continue;
        }
        if c.change_type.is_none() {
            return Err(ParseError::Missing("changeType or lifecycleEvent"));
        }
        let rd = c.resource_data.as_ref();
        let resource_id = rd.and_then(|r| r.id.clone());
        let presence = match (rd, &resource_id) {
            (Some(r), Some(id)) if r.availability.is_some() => Some(PresenceReading {
                user_id: id.clone(),
                availability: r
                    .availability
                    .as_deref()
                    .map_or(Availability::PresenceUnknown, availability),
                activity: r
                    .activity
                    .as_deref()
                    .map_or(Activity::PresenceUnknown, activity),
                sequence_number: r.sequence_number.clone(),
            }),
            _ => None,
        };
        items.push(ChangeItem::Changed {
            subscription_id: c.subscription_id.clone(),
            client_state: c.client_state.clone(),
            tenant_id: c.tenant_id.clone(),
            resource: c.resource.clone(),
            resource_id,
            encrypted: c.encrypted_content.is_some(),
            presence,
        });
    }
    Ok(ChangeBatch {
        items,
        validation_tokens: n.validation_tokens.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TERMINATED: &str =
        include_str!("../../../shared/graph-fixtures/notif-call-terminated.json");

    #[test]
    fn an_unreadable_item_does_not_cost_the_readable_ones() {
        let mut batch: serde_json::Value = serde_json::from_str(TERMINATED).unwrap();
        let good = batch["value"][0].clone();
        batch["value"] =
            serde_json::json!([{ "changeType": "updated", "resourceUrl": "/nonsense" }, good]);
        let parsed = parse_calling(batch.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.len(), 1, "the terminated notification survives");
        batch["value"] =
            serde_json::json!([{ "changeType": "updated", "resourceUrl": "/nonsense" }]);
        assert!(
            parse_calling(batch.to_string().as_bytes()).is_err(),
            "nothing readable is an error"
        );
    }
}
