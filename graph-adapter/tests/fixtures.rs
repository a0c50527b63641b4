#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every notification and response fixture parses, and means what the docs say; every request
//! body Stratus builds has the fixture's shape.

use serde_json::{Value, json};
use stratus_graph::parse::*;
use stratus_graph::wire::requests::{self as rq, MediaRef, Party, RecordOptions};
use stratus_routing::model::{Activity, Availability};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/graph-fixtures");

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn one(name: &str) -> Notification {
    let mut v = parse_calling(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(v.len(), 1, "{name}");
    v.remove(0)
}

fn out(code: i64, subcode: i64) -> Option<Outcome> {
    Some(Outcome {
        code,
        subcode,
        message: None,
    })
}

fn strip_msg(o: &Option<Outcome>) -> Option<Outcome> {
    o.clone().map(|mut o| {
        o.message = None;
        o
    })
}

fn incoming(name: &str) -> (String, IncomingCall) {
    let n = one(name);
    assert_eq!(n.change_type, ChangeType::Created);
    match n.kind {
        NotificationKind::Incoming(i) => (n.call_id, i),
        k => panic!("{name}: {k:?}"),
    }
}

#[test]
fn incoming_calls() {
    let (id, i) = incoming("notif-call-incoming-p2p-voip.json");
    assert_eq!(id, "57DAB8B1894C409AB240BD8BEAE78896");
    assert_eq!(i.source.as_ref().unwrap().kind, PartyKind::User);
    assert_eq!(
        i.source.unwrap().id.as_deref(),
        Some("8A34A46B-3D17-4ADC-8DCE-DC4E7D572698")
    );
    assert_eq!(i.targets[0].kind, PartyKind::Application);
    assert_eq!(i.requested_modalities, vec!["audio"]);

    let (id2, i2) = incoming("notif-call-incoming-p2p-voip-typed.json");
    assert_eq!(id2, id);
    assert_eq!(i2.targets[0].display_name.as_deref(), Some("Test BOT"));

    let (_, av) = incoming("notif-call-incoming-audio-video.json");
    assert_eq!(av.requested_modalities, vec!["audio", "video"]);
    assert_eq!(av.source.unwrap().display_name.as_deref(), Some("John"));

    let (id, u2b) = incoming("notif-call-incoming-user-to-bot.json");
    assert_eq!(id, "491f0b00-ffff-4bc9-a43e-b226498ec22a");
    assert_eq!(
        u2b.my_participant_id.as_deref(),
        Some("c339cede-4bd6-4f20-ab9f-3a13e65f6d00")
    );
    assert_eq!(
        u2b.callback_uri.as_deref(),
        Some("https://bot.contoso.com/api/calls/24701998-1a73-4d42-8085-bf46ed0ae039")
    );

    let (id, sr) = incoming("notif-call-incoming-before-simulring.json");
    assert_eq!(id, "481f0b00-ffff-4ca1-8c67-a5f1e31e8e82");
    assert_eq!(
        sr.source.unwrap().id.as_deref(),
        Some("ec040873-8235-45fd-a403-c7259a5a548e")
    );

    let (_, pstn) = incoming("notif-call-incoming-pstn-app-instance.json");
    assert_eq!(pstn.targets[0].kind, PartyKind::ApplicationInstance);
    assert_eq!(
        pstn.targets[0].id.as_deref(),
        Some("7629bdce-046c-4903-86b4-a8f718277e1a")
    );
    assert_eq!(
        pstn.tenant_id.as_deref(),
        Some("632899f8-2ea1-4604-8413-27bd2892079f")
    );

    let (id, pr) = incoming("notif-call-incoming-policy-recording.json");
    assert_eq!(id, "e71f0300-9c1f-4d99-b5f4-2722e877d497");
    assert_eq!(
        pr.call_chain_id.as_deref(),
        Some("05f2f70f-3a9c-47c1-80a9-cc79e91d8cec")
    );
    assert_eq!(
        pr.source_participant_id.as_deref(),
        Some("30fad2ce-8989-41a1-8a66-f6636e629a2a")
    );
    assert_eq!(pr.targets[0].kind, PartyKind::ApplicationInstance);
    assert_eq!(
        pr.tenant_id.as_deref(),
        Some("932899f8-2ea1-4604-8413-27bd2892079f")
    );

    let (_, beta) = incoming("notif-call-incoming-callroutes-beta.json");
    assert_eq!(
        beta.source.unwrap().display_name.as_deref(),
        Some("Test User")
    );
}

fn state(name: &str) -> (String, CallState, Option<Outcome>) {
    let n = one(name);
    assert_eq!(n.change_type, ChangeType::Updated, "{name}");
    match n.kind {
        NotificationKind::StateChanged { state, result } => (n.call_id, state, strip_msg(&result)),
        k => panic!("{name}: {k:?}"),
    }
}

fn deleted(name: &str) -> (String, Option<CallState>, Option<Outcome>, Option<String>) {
    let n = one(name);
    assert_eq!(n.change_type, ChangeType::Deleted, "{name}");
    match n.kind {
        NotificationKind::Deleted {
            state,
            result,
            termination_reason,
            ..
        } => (n.call_id, state, strip_msg(&result), termination_reason),
        k => panic!("{name}: {k:?}"),
    }
}

#[test]
fn call_state_updates() {
    let c = "57DAB8B1894C409AB240BD8BEAE78896".to_owned();
    assert_eq!(
        state("notif-call-establishing.json"),
        (c.clone(), CallState::Establishing, None)
    );
    assert_eq!(
        state("notif-call-established.json"),
        (c, CallState::Established, None)
    );
    assert_eq!(
        state("notif-call-outgoing-establishing.json"),
        (
            "2e1a0b00-2db4-4022-9570-243709c565ab".into(),
            CallState::Establishing,
            None
        )
    );
    let n = one("notif-call-outgoing-established.json");
    assert_eq!(
        n.callback_uri.as_deref(),
        Some("https://bot.contoso.com/callback")
    );
    assert_eq!(
        state("notif-call-outgoing-established.json").1,
        CallState::Established
    );
    let t = "57dab8b1-894c-409a-b240-bd8beae78896".to_owned();
    assert_eq!(
        state("notif-call-terminating.json"),
        (t.clone(), CallState::Terminating, None)
    );
    let x = "341a0500-d4bf-4224-8b19-1581168d328b".to_owned();
    assert_eq!(
        state("notif-transfer-transferring.json"),
        (x.clone(), CallState::Transferring, None)
    );
    assert_eq!(
        state("notif-transfer-accepted.json"),
        (x.clone(), CallState::TransferAccepted, None)
    );
    // Transfer failed: back to established with a result (subCode spelling).
    assert_eq!(
        state("notif-transfer-failed.json"),
        (x.clone(), CallState::Established, out(500, 7000))
    );
    assert_eq!(
        state("notif-transfer-failed-consultative.json"),
        (x, CallState::Established, out(500, 7700))
    );
}

#[test]
fn terminations() {
    let t = "57dab8b1-894c-409a-b240-bd8beae78896".to_owned();
    // String codes in both doc versions.
    assert_eq!(
        deleted("notif-call-terminated.json"),
        (t.clone(), Some(CallState::Terminated), out(200, 5001), None)
    );
    assert_eq!(
        deleted("notif-call-terminated-2021.json"),
        (t.clone(), Some(CallState::Terminated), out(0, 0), None)
    );
    assert_eq!(
        deleted("notif-call-deleted-after-reject.json"),
        (t, None, None, None)
    );
    let x = "341a0500-d4bf-4224-8b19-1581168d328b".to_owned();
    assert_eq!(
        deleted("notif-transfer-completed.json"),
        (x.clone(), Some(CallState::Terminated), out(0, 7015), None)
    );
    assert_eq!(
        deleted("notif-transfer-completed-apptransferred.json"),
        (
            x,
            Some(CallState::Terminated),
            None,
            Some("AppTransferred".into())
        )
    );
    let r = "491f0b00-ffff-4bc9-a43e-b226498ec22a".to_owned();
    assert_eq!(
        deleted("notif-call-terminated-after-redirect.json").0,
        r.clone()
    );
    // The doc mixes two ids; the resource URL addresses the notification.
    assert_eq!(
        deleted("notif-call-terminated-after-simulring-redirect.json").0,
        r.clone()
    );
    let n = one("notif-call-terminated-after-redirect-pstn-answeredby.json");
    match n.kind {
        NotificationKind::Deleted {
            answered_by: Some(a),
            state,
            ..
        } => {
            assert_eq!(a.kind, PartyKind::Encrypted);
            assert_eq!(
                a.id.as_deref(),
                Some("1xt4uextl99sdzwdxuvdxrvgrv8gehcq7jdgf9yhzeto")
            );
            assert_eq!(state, Some(CallState::Terminated));
        }
        k => panic!("{k:?}"),
    }
}

#[test]
fn tones_operations_and_rosters() {
    let n = one("notif-tone-received.json");
    assert_eq!(n.call_id, "57dab8b1-894c-409a-b240-bd8beae78896");
    assert_eq!(
        n.kind,
        NotificationKind::Tone {
            tone: Tone::Digit('1'),
            sequence_id: Some(1)
        }
    );

    let op = |name: &str| match one(name) {
        Notification {
            kind: NotificationKind::OperationFinished(o),
            change_type: ChangeType::Deleted,
            call_id,
            ..
        } => (call_id, o),
        k => panic!("{name}: {k:?}"),
    };
    let (c, p) = op("notif-playprompt-completed.json");
    assert_eq!(c, "57DAB8B1894C409AB240BD8BEAE78896");
    assert_eq!(p.kind, OperationKind::PlayPrompt);
    assert_eq!(p.status, Some(OperationStatus::Completed));
    assert_eq!(strip_msg(&p.result), out(200, 0));
    assert_eq!(
        p.client_context.as_deref(),
        Some("d45324c1-fcb5-430a-902c-f20af696537c")
    );
    let (_, r) = op("notif-recordresponse-completed.json");
    assert_eq!(r.kind, OperationKind::Record);
    assert_eq!(strip_msg(&r.result), out(200, 8515));
    assert_eq!(
        r.recording_location.as_deref(),
        Some("https://file.location/17e3b46c-f61d-4f4d-9635-c626ef18e6ad")
    );
    let (_, k) = op("notif-recordresponse-canceled.json");
    assert_eq!(k.status, Some(OperationStatus::Failed));
    assert_eq!(strip_msg(&k.result), out(400, 8508));
    assert_eq!(k.completion_reason.as_deref(), Some("operationCanceled"));
    let (c, i) = op("notif-invite-operation-completed.json");
    assert_eq!(c, "ab6233a5-20b7-4c5e-bea2-ce56c9776429");
    assert_eq!(i.kind, OperationKind::InviteParticipants);
    assert_eq!(
        i.id.as_deref(),
        Some("eec3812a-fdc3-4fb4-825c-a06c9f35414e")
    );
    assert_eq!(
        i.participants[0].id.as_deref(),
        Some("278405a3-f568-4b3e-b684-009193463064")
    );

    let roster = |name: &str| match one(name) {
        Notification {
            kind:
                NotificationKind::Roster {
                    participants,
                    removed,
                },
            call_id,
            ..
        } => (call_id, participants, removed),
        k => panic!("{name}: {k:?}"),
    };
    let (c, m, removed) = roster("notif-participants-updated-muted.json");
    assert!(!removed);
    assert_eq!(c, "57dab8b1-894c-409a-b240-bd8beae78896");
    assert_eq!(
        m[0].participant_id.as_deref(),
        Some("2765eb15-01f8-47c6-b12b-c32111a4a86f")
    );
    assert!(m[0].muted && m[0].has_media && !m[0].in_lobby);
    assert_eq!(m[0].who.kind, PartyKind::User);
    let (_, u, _) = roster("notif-participants-updated-unmuted.json");
    assert!(!u[0].muted);
    let (c, meeting, _) = roster("notif-participants-roster-meeting.json");
    assert_eq!(c, "2f1a1100-b174-40a0-aba7-0b405e01ed92");
    assert_eq!(meeting.len(), 2);
    assert_eq!(
        meeting[0].who.id.as_deref(),
        Some("112f7296-5fa4-42ca-bae8-6a692b15d4b8")
    );
    assert_eq!(meeting[1].who.kind, PartyKind::Application);
    let (_, added, _) = roster("notif-participants-roster-participant-added.json");
    assert_eq!(added[0].participant_id, None);
    assert_eq!(added[0].who.kind, PartyKind::Application);
}

#[test]
fn operation_and_call_responses() {
    let op = |n: &str| parse_operation_response(&read(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
    let p = op("resp-playprompt-200.json");
    assert_eq!(
        (p.kind, p.status),
        (OperationKind::PlayPrompt, Some(OperationStatus::Running))
    );
    assert_eq!(
        p.id.as_deref(),
        Some("0fe0623f-d628-42ed-b4bd-8ac290072cc5")
    );
    let r = op("resp-recordresponse-200.json");
    assert_eq!(
        (r.kind, r.status),
        (OperationKind::Record, Some(OperationStatus::Running))
    );
    let t = op("resp-subscribetotone-200.json");
    assert_eq!(
        (t.kind, t.status),
        (
            OperationKind::SubscribeToTone,
            Some(OperationStatus::Completed)
        )
    );
    let c = op("resp-cancelmediaprocessing-200.json");
    assert_eq!(
        (c.kind, c.status),
        (
            OperationKind::CancelMediaProcessing,
            Some(OperationStatus::Completed)
        )
    );
    // "Running" capitalised in this doc example.
    let i = op("resp-invite-participant-200.json");
    assert_eq!(
        (i.kind, i.status),
        (
            OperationKind::InviteParticipants,
            Some(OperationStatus::Running)
        )
    );
    assert_eq!(
        i.client_context.as_deref(),
        Some("f2fa86af-3c51-4bc2-8fc0-475452d9764f")
    );
    assert_eq!(op("resp-mute-200.json").kind, OperationKind::Mute);
    assert_eq!(op("resp-unmute-200.json").kind, OperationKind::Unmute);

    for n in [
        "resp-create-call-p2p-201.json",
        "resp-create-call-p2p-app-hosted-201.json",
        "resp-create-call-pstn-201.json",
    ] {
        let c = parse_call_resource(&read(n)).unwrap();
        assert_eq!(c.id, "2e1a0b00-2db4-4022-9570-243709c565ab", "{n}");
        assert_eq!(c.state, Some(CallState::Establishing));
        assert_eq!(
            c.call_chain_id.as_deref(),
            Some("d8217646-3110-40b1-bae6-e9ac6c3a9f74")
        );
        assert_eq!(
            c.my_participant_id.as_deref(),
            Some("499ff390-7a72-40e8-83a0-8fac6295ae7e")
        );
    }
    let pstn = parse_call_resource(&read("resp-create-call-pstn-201.json")).unwrap();
    assert_eq!(pstn.targets[0].kind, PartyKind::Phone);
    assert_eq!(pstn.source.unwrap().kind, PartyKind::ApplicationInstance);
    let g = parse_call_resource(&read("resp-get-call-200.json")).unwrap();
    assert_eq!(g.state, Some(CallState::Established));

    let l = parse_participants(&read("resp-list-participants-200.json")).unwrap();
    assert_eq!(l.len(), 2);
    assert_eq!(
        l[0].participant_id.as_deref(),
        Some("a7ebfb2d-871e-419c-87af-27290b22e8db")
    );
    assert_eq!(l[1].who.display_name.as_deref(), Some("Test Participant"));

    assert_eq!(
        parse_error_body(&read("resp-throttled-429.json")),
        Some((
            "TooManyRequests".to_owned(),
            "Please retry again later.".to_owned()
        ))
    );
    assert_eq!(
        parse_error_body(&read("resp-error-generic.json"))
            .unwrap()
            .0,
        "invalidRange"
    );
}

#[test]
fn presence_responses_and_notifications() {
    let p = parse_presences(&read("resp-get-presence-me-200.json")).unwrap();
    assert_eq!(
        (p[0].user_id.as_str(), p[0].availability, p[0].activity),
        (
            "fa8bf3dc-eca7-46b7-bad1-db199b62afc3",
            Availability::Available,
            Activity::Available
        )
    );
    let p = parse_presences(&read("resp-get-presence-user-200.json")).unwrap();
    assert_eq!(
        (p[0].availability, p[0].activity),
        (Availability::DoNotDisturb, Activity::Presenting)
    );
    let p = parse_presences(&read("resp-get-communications-presences-200.json")).unwrap();
    assert_eq!(
        (p[0].availability, p[0].activity),
        (Availability::Away, Activity::BeRightBack)
    );
    let p = parse_presences(&read("resp-get-presences-by-user-id-200.json")).unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0].availability, p[0].activity),
        (Availability::Busy, Activity::InAMeeting)
    );
    assert_eq!(
        (p[1].user_id.as_str(), p[1].availability, p[1].activity),
        (
            "66825e03-7ef5-42da-9069-724602c31f6b",
            Availability::Away,
            Activity::Away
        )
    );
    // Placeholder values from the doc: unknown values degrade to PresenceUnknown.
    let p = parse_presences(&read("presence-decrypted-resource-data.json")).unwrap();
    assert_eq!(p[0].availability, Availability::PresenceUnknown);
    // Enum case is not significant.
    assert_eq!(availability("inACall"), Availability::PresenceUnknown);
    assert_eq!(activity("inACall"), Activity::InACall);
    assert_eq!(availability("AVAILABLE"), Availability::Available);

    let b = parse_change_notifications(&read("notif-presence-basic.json")).unwrap();
    match &b.items[0] {
        ChangeItem::Changed {
            client_state,
            resource_id,
            encrypted,
            presence,
            ..
        } => {
            assert_eq!(client_state.as_deref(), Some("{secret client state}"));
            assert_eq!(resource_id.as_deref(), Some("{User Id}"));
            assert!(!encrypted);
            assert!(presence.is_none());
        }
        i => panic!("{i:?}"),
    }
    let r = parse_change_notifications(&read("notif-presence-rich-encrypted.json")).unwrap();
    assert_eq!(r.validation_tokens, vec!["{Validation Tokens}"]);
    assert!(matches!(
        &r.items[0],
        ChangeItem::Changed {
            encrypted: true,
            ..
        }
    ));
    let g = parse_change_notifications(&read("notif-change-generic-example.json")).unwrap();
    assert!(matches!(
        &g.items[0],
        ChangeItem::Changed { client_state: Some(s), .. } if s == "secretClientValue"
    ));
    for (f, ev) in [
        (
            "notif-lifecycle-reauthorization-required.json",
            LifecycleEvent::ReauthorizationRequired,
        ),
        (
            "notif-lifecycle-subscription-removed.json",
            LifecycleEvent::SubscriptionRemoved,
        ),
        ("notif-lifecycle-missed.json", LifecycleEvent::Missed),
    ] {
        let b = parse_change_notifications(&read(f)).unwrap();
        assert!(
            matches!(&b.items[0], ChangeItem::Lifecycle { event, .. } if *event == ev),
            "{f}"
        );
    }
    let lr =
        parse_change_notifications(&read("notif-lifecycle-reauthorization-required.json")).unwrap();
    assert!(matches!(
        &lr.items[0],
        ChangeItem::Lifecycle { subscription_id: Some(s), .. } if s == "e3898f08-5cd0-4a6a-80fc-6addbfb73b7b"
    ));
}

#[test]
fn every_notification_and_response_file_is_covered() {
    // Any new fixture of these kinds must at least parse.
    let mut parsed = 0;
    for e in std::fs::read_dir(DIR).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".json") {
            continue;
        }
        let body = read(&name);
        parsed += 1;
        if name.starts_with("notif-lifecycle")
            || name.starts_with("notif-presence")
            || name == "notif-change-generic-example.json"
        {
            parse_change_notifications(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        } else if name.starts_with("notif-") {
            parse_calling(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        } else if name.starts_with("resp-get-presence")
            || name.starts_with("resp-get-communications-presences")
            || name.starts_with("presence-")
        {
            parse_presences(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        } else if name.starts_with("resp-create-subscription") {
            parse_subscription(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        } else if name.starts_with("resp-create-call") || name == "resp-get-call-200.json" {
            parse_call_resource(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        } else if name.starts_with("resp-")
            && name.contains("-200")
            && name != "resp-list-participants-200.json"
        {
            parse_operation_response(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    assert_eq!(parsed, 89);
}

#[test]
fn subscription_response() {
    let s = parse_subscription(&read("resp-create-subscription-201.json")).unwrap();
    assert_eq!(s.id, "7f105c7d-2dc5-4530-97cd-4e7ae6534c07");
    assert_eq!(
        s.expiration.as_deref(),
        Some("2016-11-20T18:23:45.9356913Z")
    );
    assert_eq!(s.client_state.as_deref(), Some("secretClientValue"));
    assert!(parse_subscription(b"{\"resource\":\"x\"}").is_err());
}

#[test]
fn malformed_payloads_are_typed_errors() {
    let bad: &[&[u8]] = &[
        b"",
        b"not json",
        b"{}",
        b"[]",
        br#"{"value":[{"changeType":"exploded","resourceUrl":"/communications/calls/x"}]}"#,
        br#"{"value":[{"changeType":"updated"}]}"#,
        br#"{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/x","resourceData":{"state":"levitating"}}]}"#,
        br#"{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/x","resourceData":{"toneInfo":{"tone":"tone42"}}}]}"#,
        br#"{"value":[{"changeType":"deleted","resourceUrl":"/communications/calls/x","resourceData":{"resultInfo":{"code":"abc"}}}]}"#,
        br#"{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/x","resourceData":42}]}"#,
        br#"{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/x/participants","resourceData":"x"}]}"#,
        br#"{"value":[{"changeType":"updated","resourceUrl":"/elsewhere/x"}]}"#,
    ];
    for b in bad {
        assert!(parse_calling(b).is_err(), "{}", String::from_utf8_lossy(b));
    }
    assert!(parse_change_notifications(br#"{"value":[{"lifecycleEvent":"boom"}]}"#).is_err());
    assert!(parse_change_notifications(br#"{"value":[{}]}"#).is_err());
    assert!(parse_presences(b"{\"value\":3}").is_err());
}

/// Removes `@odata.type` annotations and nulls: optional on the wire.
fn norm(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, v)| k.as_str() != "@odata.type" && !v.is_null())
                .map(|(k, v)| (k.clone(), norm(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(norm).collect()),
        o => o.clone(),
    }
}

fn fixture(name: &str) -> Value {
    serde_json::from_slice(&read(name)).unwrap()
}

fn same_shape(built: Value, name: &str) {
    assert_eq!(norm(&built), norm(&fixture(name)), "{name}");
}

fn user(id: &str, name: Option<&str>) -> Party {
    Party::User {
        id: id.into(),
        display_name: name.map(Into::into),
    }
}

#[test]
fn request_bodies_match_fixture_shapes() {
    same_shape(
        rq::answer(
            "https://bot.contoso.com/api/calls",
            &[
                MediaRef {
                    uri: "https://cdn.contoso.com/beep.wav".into(),
                    resource_id: "1D6DE2D4-CD51-4309-8DAA-70768651088E".into(),
                },
                MediaRef {
                    uri: "https://cdn.contoso.com/cool.wav".into(),
                    resource_id: "1D6DE2D4-CD51-4309-8DAA-70768651088F".into(),
                },
            ],
        ),
        "req-answer-service-hosted-media.json",
    );
    let beep = MediaRef {
        uri: "https://cdn.contoso.com/beep.wav".into(),
        resource_id: "1D6DE2D4-CD51-4309-8DAA-70768651088E".into(),
    };
    // The typed fixture: compare exactly, annotations included.
    assert_eq!(
        rq::play_prompt(
            std::slice::from_ref(&beep),
            "d45324c1-fcb5-430a-902c-f20af696537c"
        ),
        fixture("req-playprompt.json")
    );
    same_shape(
        rq::record_response(
            &RecordOptions {
                prompt: Some(beep),
                barge_in_allowed: true,
                initial_silence_timeout_s: 5,
                max_silence_timeout_s: 2,
                max_record_duration_s: 10,
                play_beep: true,
                stop_tones: vec!["#".into(), "1".into(), "*".into()],
            },
            "d45324c1-fcb5-430a-902c-f20af696537c",
        ),
        "req-recordresponse.json",
    );
    same_shape(
        rq::client_context("fd1c7836-4d84-4e24-b6aa-23188688cc54"),
        "req-subscribetotone.json",
    );
    same_shape(
        rq::client_context("clientContext-value"),
        "req-cancelmediaprocessing.json",
    );
    same_shape(rq::reject("busy"), "req-reject-busy.json");
    same_shape(rq::reject("none"), "req-reject-none.json");
    let cb = "https://bot.contoso.com/api/calls/24701998-1a73-4d42-8085-bf46ed0ae039";
    same_shape(
        rq::redirect(&[Party::Phone("+12345678901".into())], cb, None),
        "req-redirect-pstn.json",
    );
    same_shape(
        rq::redirect(
            &[
                user("98da8a1a-1b87-452c-a713-65d3f10b1253", Some("test user")),
                user("bf5aae9a-d11d-47a8-93b1-782504c9c3f3", Some("test user 2")),
            ],
            cb,
            None,
        ),
        "req-redirect-simulring.json",
    );
    same_shape(
        rq::redirect(
            &[Party::Application {
                id: "22bfd41f-550e-477d-8789-f6f7bd2a5e8b".into(),
                display_name: Some("test bot 2".into()),
            }],
            cb,
            None,
        ),
        "req-redirect-single-target.json",
    );
    let heidi = user("550fae72-d251-43ec-868c-373732c2704f", Some("Heidi Steen"));
    same_shape(
        rq::transfer(&heidi, None, None, None),
        "req-transfer-blind.json",
    );
    same_shape(
        rq::transfer(
            &heidi,
            Some("e5d39592-99bd-4db8-bca8-30fb894ec51d"),
            None,
            None,
        ),
        "req-transfer-consultative.json",
    );
    let transferee = user("751f6800-3180-414d-bd94-333364659951", None);
    let built = rq::transfer(
        &heidi,
        None,
        Some((&transferee, "909c6581-5130-43e9-88f3-fcb3582cde37")),
        None,
    );
    // The fixture's transferee also carries the user's tenantId; everything else must match.
    let mut fx = fixture("req-transfer-from-group-call.json");
    fx["transferee"]["identity"]["user"]
        .as_object_mut()
        .unwrap()
        .remove("tenantId");
    assert_eq!(norm(&built), norm(&fx));
    // PSTN transfer: the fixture adds languageId/region placeholders, optional.
    let built = rq::transfer(
        &Party::Phone("+12345678901".into()),
        None,
        None,
        Some("9e90d1c1-f61e-43e7-9f75-d420159aae08"),
    );
    let mut fx = fixture("req-transfer-pstn.json");
    let tt = fx["transferTarget"].as_object_mut().unwrap();
    tt.remove("languageId");
    tt.remove("region");
    assert_eq!(norm(&built), norm(&fx));
}

#[test]
fn create_call_and_invite_and_presence_bodies() {
    let mut fx = fixture("req-create-call-p2p-service-hosted.json");
    fx.as_object_mut().unwrap().remove("callOptions");
    assert_eq!(
        norm(&rq::create_call(
            "https://bot.contoso.com/callback",
            &user("112f7296-5fa4-42ca-bae8-6a692b15d4b8", Some("John")),
            None,
            None,
        )),
        norm(&fx)
    );
    // PSTN via the application instance (source + tenantId).
    assert_eq!(
        norm(&rq::create_call(
            "https://bot.contoso.com/callback",
            &Party::Phone("+12345678901".into()),
            Some(&Party::ApplicationInstance {
                id: "3d913abb-aec0-4964-8fa6-3c6850c4f278".into(),
                display_name: Some("Calling Bot".into())
            }),
            Some("aa67bd4c-8475-432d-bd41-39f255720e0a"),
        )),
        norm(&fixture("req-create-call-pstn-service-hosted.json"))
    );
    same_shape(
        rq::invite(
            &[(
                user("278405a3-f568-4b3e-b684-009193463064", Some("string")),
                Some("a7ebfb2d-871e-419c-87af-27290b22e8db".into()),
            )],
            "f2fa86af-3c51-4bc2-8fc0-475452d9764f",
        ),
        "req-invite-participant.json",
    );
    same_shape(
        rq::get_presences(&[
            "fa8bf3dc-eca7-46b7-bad1-db199b62afc3".into(),
            "66825e03-7ef5-42da-9069-724602c31f6b".into(),
        ]),
        "req-get-presences-by-user-id.json",
    );
    same_shape(
        rq::renew_subscription("2016-03-22T11:00:00.0000000Z"),
        "req-subscription-renew.json",
    );
    // Subscriptions: basic notifications (no encryption certificate), same shape otherwise.
    let mut fx = fixture("req-subscription-presence-single.json");
    for k in [
        "includeResourceData",
        "encryptionCertificate",
        "encryptionCertificateId",
    ] {
        fx.as_object_mut().unwrap().remove(k);
    }
    assert_eq!(
        rq::presence_subscription(
            &["{id}".into()],
            "https://webhook.contoso.com/api",
            "https://webhook.contoso.com/api",
            "2023-09-14T10:00:00.0000000Z",
            "{secret client state}"
        ),
        fx
    );
    let bulk = rq::presence_subscription(
        &["a".into(), "b".into()],
        "https://webhook.contoso.com/api",
        "https://webhook.contoso.com/api",
        "2023-09-14T10:00:00.0000000Z",
        "s",
    );
    assert_eq!(
        bulk["resource"],
        json!("/communications/presences?$filter=id in ('a', 'b')")
    );
}
