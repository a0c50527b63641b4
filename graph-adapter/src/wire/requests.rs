//! Request bodies Stratus sends to Graph, built in the shapes of the `req-*.json` fixtures
//! (the fixture tests compare them field by field).

use serde_json::{Value, json};

/// Who a participant is, on the request side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Party {
    User {
        id: String,
        display_name: Option<String>,
    },
    Phone(String),
    Application {
        id: String,
        display_name: Option<String>,
    },
    ApplicationInstance {
        id: String,
        display_name: Option<String>,
    },
}

fn ident(id: &str, display_name: &Option<String>) -> Value {
    let mut v = json!({"@odata.type": "#microsoft.graph.identity", "id": id});
    if let (Some(d), Some(o)) = (display_name, v.as_object_mut()) {
        o.insert("displayName".into(), Value::String(d.clone()));
    }
    v
}

/// An `identitySet` with one member.
pub fn identity_set(p: &Party) -> Value {
    let (key, val) = match p {
        Party::User { id, display_name } => ("user", ident(id, display_name)),
        Party::Phone(n) => ("phone", ident(n, &None)),
        Party::Application { id, display_name } => ("application", ident(id, display_name)),
        Party::ApplicationInstance { id, display_name } => {
            ("applicationInstance", ident(id, display_name))
        }
    };
    json!({"@odata.type": "#microsoft.graph.identitySet", key: val})
}

/// `invitationParticipantInfo`, optionally replacing another call (Direct bridge).
pub fn invitation(p: &Party, replaces_call_id: Option<&str>) -> Value {
    let mut v = json!({
        "@odata.type": "#microsoft.graph.invitationParticipantInfo",
        "identity": identity_set(p),
    });
    if let (Some(r), Some(o)) = (replaces_call_id, v.as_object_mut()) {
        o.insert("replacesCallId".into(), Value::String(r.to_owned()));
    }
    v
}

/// One prompt file: `uri` plus the `resourceId` Graph caches it under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaRef {
    pub uri: String,
    pub resource_id: String,
}

fn media_prompt(m: &MediaRef) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.mediaPrompt",
        "mediaInfo": {"@odata.type": "#microsoft.graph.mediaInfo", "uri": m.uri, "resourceId": m.resource_id}
    })
}

/// `POST /calls/{id}/answer` with service-hosted media and prompt pre-fetch.
pub fn answer(callback_uri: &str, prefetch: &[MediaRef]) -> Value {
    let mut media = json!({"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"});
    if !prefetch.is_empty()
        && let Some(o) = media.as_object_mut()
    {
        let list: Vec<Value> = prefetch
            .iter()
            .map(|m| json!({"uri": m.uri, "resourceId": m.resource_id}))
            .collect();
        o.insert("preFetchMedia".into(), Value::Array(list));
    }
    json!({"callbackUri": callback_uri, "acceptedModalities": ["audio"], "mediaConfig": media})
}

/// `POST /calls/{id}/playPrompt`.
pub fn play_prompt(prompts: &[MediaRef], client_context: &str) -> Value {
    json!({
        "clientContext": client_context,
        "prompts": prompts.iter().map(media_prompt).collect::<Vec<_>>(),
    })
}

/// Options of `recordResponse` (defaults as documented).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordOptions {
    pub prompt: Option<MediaRef>,
    pub barge_in_allowed: bool,
    pub initial_silence_timeout_s: u32,
    pub max_silence_timeout_s: u32,
    pub max_record_duration_s: u32,
    pub play_beep: bool,
    pub stop_tones: Vec<String>,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            prompt: None,
            barge_in_allowed: false,
            initial_silence_timeout_s: 5,
            max_silence_timeout_s: 5,
            max_record_duration_s: 5,
            play_beep: true,
            stop_tones: Vec::new(),
        }
    }
}

/// `POST /calls/{id}/recordResponse`.
pub fn record_response(o: &RecordOptions, client_context: &str) -> Value {
    json!({
        "bargeInAllowed": o.barge_in_allowed,
        "clientContext": client_context,
        "prompts": o.prompt.iter().map(media_prompt).collect::<Vec<_>>(),
        "maxRecordDurationInSeconds": o.max_record_duration_s,
        "initialSilenceTimeoutInSeconds": o.initial_silence_timeout_s,
        "maxSilenceTimeoutInSeconds": o.max_silence_timeout_s,
        "playBeep": o.play_beep,
        "stopTones": o.stop_tones,
    })
}

/// Body of subscribeToTone, cancelMediaProcessing, mute, unmute.
pub fn client_context(client_context: &str) -> Value {
    json!({"clientContext": client_context})
}

/// `POST /calls/{id}/reject`; `reason` is `none`, `busy` or `forbidden` (lower case, as sent in
/// the doc examples).
pub fn reject(reason: &str) -> Value {
    json!({"reason": reason})
}

/// `POST /calls/{id}/redirect`; `timeout_s` must be 15–90 (clamped).
pub fn redirect(targets: &[Party], callback_uri: &str, timeout_s: Option<u32>) -> Value {
    let mut v = json!({
        "targets": targets.iter().map(|t| invitation(t, None)).collect::<Vec<_>>(),
        "callbackUri": callback_uri,
    });
    if let Some(o) = v.as_object_mut() {
        if targets.len() > 1 {
            // Agents' forwarding or voicemail must not swallow a simultaneous ring.
            o.insert("routingPolicies".into(), json!(["disableForwarding"]));
        }
        if let Some(t) = timeout_s {
            o.insert("timeout".into(), json!(t.clamp(15, 90)));
        }
    }
    v
}

/// `POST /calls/{id}/transfer`. `transferee` (the caller's participant id and identity) is
/// required when the call has become a group call.
pub fn transfer(
    target: &Party,
    replaces_call_id: Option<&str>,
    transferee: Option<(&Party, &str)>,
    client_context: Option<&str>,
) -> Value {
    let mut tt = json!({"endpointType": "default", "identity": identity_set(target)});
    if let (Some(r), Some(o)) = (replaces_call_id, tt.as_object_mut()) {
        o.insert("replacesCallId".into(), json!(r));
    }
    let mut v = json!({"transferTarget": tt});
    if let Some(o) = v.as_object_mut() {
        if let Some((who, pid)) = transferee {
            o.insert(
                "transferee".into(),
                json!({"identity": identity_set(who), "participantId": pid}),
            );
        }
        if let Some(c) = client_context {
            o.insert("clientContext".into(), json!(c));
        }
    }
    v
}

/// `POST /communications/calls`: a P2P leg to `target`. With `source` set to the resource
/// account's application instance (PSTN, and so the agent sees the service), `tenant_id` is
/// required.
pub fn create_call(
    callback_uri: &str,
    target: &Party,
    source: Option<&Party>,
    tenant_id: Option<&str>,
) -> Value {
    let mut v = json!({
        "@odata.type": "#microsoft.graph.call",
        "callbackUri": callback_uri,
        "targets": [invitation(target, None)],
        "requestedModalities": ["audio"],
        "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
    });
    if let Some(o) = v.as_object_mut() {
        if let Some(s) = source {
            o.insert(
                "source".into(),
                json!({"@odata.type": "#microsoft.graph.participantInfo", "identity": identity_set(s)}),
            );
        }
        if let Some(t) = tenant_id {
            o.insert("tenantId".into(), json!(t));
        }
    }
    v
}

/// `POST /calls/{id}/participants/invite`.
pub fn invite(participants: &[(Party, Option<String>)], client_context: &str) -> Value {
    json!({
        "participants": participants
            .iter()
            .map(|(p, r)| invitation(p, r.as_deref()))
            .collect::<Vec<_>>(),
        "clientContext": client_context,
    })
}

/// `POST /communications/getPresencesByUserId` (≤ 650 ids).
pub fn get_presences(ids: &[String]) -> Value {
    json!({"ids": ids})
}

/// `POST /subscriptions` for presence of up to 650 users.
pub fn presence_subscription(
    user_ids: &[String],
    notification_url: &str,
    lifecycle_url: &str,
    expiration: &str,
    client_state: &str,
) -> Value {
    let resource = if user_ids.len() == 1 {
        format!(
            "communications/presences/{}",
            user_ids.first().map_or("", |s| s)
        )
    } else {
        let list: Vec<String> = user_ids.iter().map(|i| format!("'{i}'")).collect();
        format!(
            "/communications/presences?$filter=id in ({})",
            list.join(", ")
        )
    };
    json!({
        "changeType": "updated",
        "notificationUrl": notification_url,
        "lifecycleNotificationUrl": lifecycle_url,
        "resource": resource,
        "expirationDateTime": expiration,
        "clientState": client_state,
    })
}

/// `PATCH /subscriptions/{id}`.
pub fn renew_subscription(expiration: &str) -> Value {
    json!({"expirationDateTime": expiration})
}
