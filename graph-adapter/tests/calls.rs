#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The adapter against the simulator on loopback: IVR, the three distribution flows, RONA,
//! declines, transfer, throttling.

mod common;

use common::*;
use std::time::Duration;
use stratus_graph::sim::{AgentBehaviour, CallerSpec, Fault};
use stratus_routing::port::{
    CallAction, CallControlError, CallEventKind, LegFailure, Prompt, RingMode,
};
use stratus_routing::task::TransferTarget;

fn pstn() -> CallerSpec {
    CallerSpec::phone("+41445550100", APP_INSTANCE)
}

const BEEP: &str = "https://cdn.example.test/queue.wav";

#[tokio::test]
async fn answer_prompt_and_dtmf() {
    let mut env = env(|_| {}).await;
    let id = env.sim.place_call(pstn()).await.unwrap();
    let e = env.next().await;
    let CallEventKind::Incoming {
        m365_tenant,
        caller,
        call_chain_id,
        ..
    } = e.kind.clone()
    else {
        panic!("{e:?}")
    };
    assert_eq!(caller.number.as_deref(), Some("+41445550100"));
    assert!(call_chain_id.is_some());
    let call = e.call;
    env.run(
        &call,
        m365_tenant,
        CallAction::Answer {
            prefetch: vec![Prompt::Audio(BEEP.into())],
        },
    )
    .await
    .unwrap();
    env.until("Established", |e| e.kind == CallEventKind::Established)
        .await;
    // The answer request: service-hosted media, pre-fetch, per-call callback.
    let answer = &env.commands_matching("POST", "/answer")[0];
    assert_eq!(answer.status, 202);
    assert_eq!(
        answer.body["mediaConfig"]["@odata.type"],
        "#microsoft.graph.serviceHostedMediaConfig"
    );
    assert_eq!(answer.body["mediaConfig"]["preFetchMedia"][0]["uri"], BEEP);
    assert_eq!(
        answer.body["callbackUri"],
        format!("{}/{}/{}", env.webhook, m365_tenant, id)
    );

    env.run(
        &call,
        m365_tenant,
        CallAction::CollectDigits {
            prompt: Some(Prompt::Audio(BEEP.into())),
            max_digits: 2,
            timeout: Duration::from_secs(5),
        },
    )
    .await
    .unwrap();
    assert_eq!(env.commands_matching("POST", "/subscribeToTone").len(), 1);
    let e = env.next().await;
    assert_eq!(e.kind, CallEventKind::PromptDone);
    env.sim.press_digits(&id, "4#").await;
    assert_eq!(env.next().await.kind, CallEventKind::Tone { digit: '4' });
    assert_eq!(env.next().await.kind, CallEventKind::Tone { digit: '#' });

    // Barge-in: a cancelled prompt does not report PromptDone.
    env.run(
        &call,
        m365_tenant,
        CallAction::PlayPrompt {
            prompt: Prompt::Audio(BEEP.into()),
        },
    )
    .await
    .unwrap();
    env.run(&call, m365_tenant, CallAction::CancelMedia)
        .await
        .unwrap();
    let quiet = env.quiet(Duration::from_millis(300)).await;
    assert!(quiet.is_empty(), "{quiet:?}");
    // Text prompts need a TTS URL.
    let r = env
        .run(
            &call,
            m365_tenant,
            CallAction::PlayPrompt {
                prompt: Prompt::Text("hello".into()),
            },
        )
        .await;
    assert!(matches!(r, Err(CallControlError::Unsupported(_))));
    env.run(&call, m365_tenant, CallAction::KeepAlive)
        .await
        .unwrap();
    env.run(&call, m365_tenant, CallAction::HangUp)
        .await
        .unwrap();
    let e = env.next().await;
    assert_eq!(e.kind, CallEventKind::Terminated { code: 200 });
    // After the end: keepAlive says the call is gone; hang-up is idempotent.
    let r = env.run(&call, m365_tenant, CallAction::KeepAlive).await;
    assert_eq!(r, Err(CallControlError::CallGone));
    env.run(&call, m365_tenant, CallAction::HangUp)
        .await
        .unwrap();
    // One token for the whole conversation.
    assert_eq!(env.sim.token_requests(), 1);
}

#[tokio::test]
async fn direct_conference_answered_then_conversation_ends() {
    let mut env = env(|_| {}).await;
    let a = user(1);
    env.sim.set_agent_behaviour(
        a,
        AgentBehaviour::Answer {
            after: Duration::from_millis(100),
            talk: Some(Duration::from_millis(1000)),
        },
    );
    let (call, t) = env.answered_call(pstn()).await;
    env.run(
        &call,
        t,
        CallAction::RingAgent {
            offer: offer(1),
            user: a,
            mode: RingMode::Invite,
        },
    )
    .await
    .unwrap();
    let inv = &env.commands_matching("POST", "/participants/invite")[0];
    assert_eq!(
        inv.body["participants"][0]["identity"]["user"]["id"],
        a.to_string()
    );
    let e = env.next().await;
    assert_eq!(e.kind, CallEventKind::AgentJoined { user: a });
    assert_eq!(e.call, call);
    assert_eq!(
        env.sim.call(call.as_str()).unwrap().joined_users,
        vec![a.to_string()]
    );
    // Stratus stayed in the call: it sees the agent end the conversation.
    let e = env.next().await;
    assert_eq!(e.kind, CallEventKind::AgentLeft { user: a });
    env.run(&call, t, CallAction::HangUp).await.unwrap();
    assert_eq!(
        env.next().await.kind,
        CallEventKind::Terminated { code: 200 }
    );
    assert!(env.sim.call(call.as_str()).is_none());
}

#[tokio::test]
async fn rona_cancels_the_invitation_and_rerings_another_agent() {
    let mut env = env(|_| {}).await;
    let (a, b) = (user(1), user(2));
    env.sim.set_agent_behaviour(a, AgentBehaviour::Ignore);
    env.sim
        .set_agent_behaviour(b, AgentBehaviour::answer_after(Duration::from_millis(50)));
    let (call, t) = env.answered_call(pstn()).await;
    env.run(
        &call,
        t,
        CallAction::RingAgent {
            offer: offer(1),
            user: a,
            mode: RingMode::Invite,
        },
    )
    .await
    .unwrap();
    // The core's ring timer fires.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        env.sim.call(call.as_str()).unwrap().ringing_users,
        vec![a.to_string()]
    );
    env.run(
        &call,
        t,
        CallAction::CancelRing {
            offer: offer(1),
            user: a,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        env.commands_matching("DELETE", "")
            .iter()
            .filter(|c| c.path.contains("/participants/"))
            .count(),
        1
    );
    eventually("A stops ringing", || {
        env.sim
            .call(call.as_str())
            .unwrap()
            .ringing_users
            .is_empty()
    })
    .await;
    env.run(
        &call,
        t,
        CallAction::RingAgent {
            offer: offer(2),
            user: b,
            mode: RingMode::Invite,
        },
    )
    .await
    .unwrap();
    let e = env.next().await;
    // No AgentFailed for A: Stratus cancelled that invitation itself.
    assert_eq!(e.kind, CallEventKind::AgentJoined { user: b });
    assert_eq!(
        env.sim.call(call.as_str()).unwrap().joined_users,
        vec![b.to_string()]
    );
}

#[tokio::test]
async fn caller_hangs_up_while_the_agent_rings() {
    let mut env = env(|_| {}).await;
    let a = user(1);
    env.sim.set_agent_behaviour(a, AgentBehaviour::Ignore);
    let (call, t) = env
        .answered_call(pstn().with_patience(Duration::from_millis(1000)))
        .await;
    env.run(
        &call,
        t,
        CallAction::RingAgent {
            offer: offer(1),
            user: a,
            mode: RingMode::Invite,
        },
    )
    .await
    .unwrap();
    let e = env.next().await;
    assert_eq!(e.call, call);
    assert!(
        matches!(e.kind, CallEventKind::Terminated { code: 200 }),
        "{e:?}"
    );
    assert!(env.sim.call(call.as_str()).is_none());
    // Commands on the dead call: the port says so.
    let r = env
        .run(
            &call,
            t,
            CallAction::CancelRing {
                offer: offer(1),
                user: a,
            },
        )
        .await;
    assert!(r.is_ok() || r == Err(CallControlError::CallGone), "{r:?}");
}

#[tokio::test]
async fn broadcast_two_agents_answer_at_once() {
    let mut env = env(|_| {}).await;
    let (a, b, c) = (user(1), user(2), user(3));
    for u in [a, b] {
        env.sim
            .set_agent_behaviour(u, AgentBehaviour::answer_after(Duration::from_millis(150)));
    }
    env.sim.set_agent_behaviour(c, AgentBehaviour::Ignore);
    let (call, t) = env.answered_call(pstn()).await;
    for u in [a, b, c] {
        env.run(
            &call,
            t,
            CallAction::RingAgent {
                offer: offer(7),
                user: u,
                mode: RingMode::Invite,
            },
        )
        .await
        .unwrap();
    }
    let first = env.next().await;
    let CallEventKind::AgentJoined { user: winner } = first.kind else {
        panic!("{first:?}")
    };
    let second = env.next().await;
    let CallEventKind::AgentJoined { user: loser } = second.kind else {
        panic!("{second:?}")
    };
    assert_ne!(winner, loser);
    assert!([a, b].contains(&winner) && [a, b].contains(&loser));
    // The core keeps the first, removes the one who joined in the same instant, cancels the rest.
    env.run(
        &call,
        t,
        CallAction::RemoveAgent {
            offer: offer(7),
            user: loser,
        },
    )
    .await
    .unwrap();
    env.run(
        &call,
        t,
        CallAction::CancelRing {
            offer: offer(7),
            user: c,
        },
    )
    .await
    .unwrap();
    eventually("only the winner left", || {
        let v = env.sim.call(call.as_str()).unwrap();
        v.joined_users == vec![winner.to_string()] && v.ringing_users.is_empty()
    })
    .await;
    // The removal is not reported back as an AgentLeft, nor the cancel as a failure.
    let rest = env.quiet(Duration::from_millis(300)).await;
    assert!(rest.is_empty(), "{rest:?}");
}

#[tokio::test]
async fn direct_leg_then_bridge() {
    let mut env = env(|_| {}).await;
    let (a, b) = (user(1), user(2));
    env.sim
        .set_agent_behaviour(a, AgentBehaviour::answer_after(Duration::from_millis(100)));
    env.sim.set_agent_behaviour(b, AgentBehaviour::Ignore);
    let (call, t) = env.answered_call(pstn()).await;

    // RONA on a leg: the leg is deleted, and no failure is reported.
    env.run(
        &call,
        t,
        CallAction::RingAgent {
            offer: offer(1),
            user: b,
            mode: RingMode::Leg,
        },
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    env.run(
        &call,
        t,
        CallAction::CancelRing {
            offer: offer(1),
            user: b,
        },
    )
    .await
    .unwrap();
    let legs = env.commands_matching("POST", "/communications/calls");
    assert_eq!(legs.len(), 1);
    // Rung from the resource account the caller dialled.
    assert_eq!(
        legs[0].body["source"]["identity"]["applicationInstance"]["id"],
        APP_INSTANCE
    );
    assert_eq!(
        legs[0].body["targets"][0]["identity"]["user"]["id"],
        b.to_string()
    );
    assert_eq!(env.commands_matching("DELETE", "").len(), 1);

    env.run(
        &call,
        t,
        CallAction::RingAgent {
            offer: offer(2),
            user: a,
            mode: RingMode::Leg,
        },
    )
    .await
    .unwrap();
    let e = env.next().await;
    assert_eq!(
        e.call, call,
        "leg events are addressed to the caller's call"
    );
    assert_eq!(e.kind, CallEventKind::LegEstablished { user: a });
    env.run(
        &call,
        t,
        CallAction::Bridge {
            offer: offer(2),
            user: a,
        },
    )
    .await
    .unwrap();
    let inv = &env.commands_matching("POST", "/participants/invite")[0];
    let leg_id = env.commands_matching("POST", "/communications/calls")[1].clone();
    let _ = leg_id;
    assert!(inv.body["participants"][0]["replacesCallId"].is_string());
    let e = env.next().await;
    assert_eq!(e.kind, CallEventKind::AgentJoined { user: a });
    assert_eq!(
        env.sim.call(call.as_str()).unwrap().joined_users,
        vec![a.to_string()]
    );
    let rest = env.quiet(Duration::from_millis(200)).await;
    assert!(
        rest.is_empty(),
        "the replaced leg's end is silent: {rest:?}"
    );
}

#[tokio::test]
async fn declined_busy_and_unreachable_invitations() {
    let mut env = env(|_| {}).await;
    let cases = [
        (
            user(1),
            AgentBehaviour::Decline {
                after: Duration::from_millis(50),
            },
            LegFailure::Declined,
        ),
        (user(2), AgentBehaviour::Busy, LegFailure::Busy),
        (
            user(3),
            AgentBehaviour::Unreachable,
            LegFailure::Unreachable,
        ),
    ];
    let (call, t) = env.answered_call(pstn()).await;
    for (i, (u, b, cause)) in cases.into_iter().enumerate() {
        env.sim.set_agent_behaviour(u, b);
        env.run(
            &call,
            t,
            CallAction::RingAgent {
                offer: offer(i as u64),
                user: u,
                mode: RingMode::Invite,
            },
        )
        .await
        .unwrap();
        let e = env.next().await;
        assert_eq!(e.kind, CallEventKind::AgentFailed { user: u, cause });
    }
    // A declined Direct leg too.
    let d = user(4);
    env.sim.set_agent_behaviour(
        d,
        AgentBehaviour::Decline {
            after: Duration::from_millis(30),
        },
    );
    env.run(
        &call,
        t,
        CallAction::RingAgent {
            offer: offer(9),
            user: d,
            mode: RingMode::Leg,
        },
    )
    .await
    .unwrap();
    let e = env.next().await;
    assert_eq!(
        (e.call, e.kind),
        (
            call,
            CallEventKind::AgentFailed {
                user: d,
                cause: LegFailure::Declined
            }
        )
    );
}

#[tokio::test]
async fn transfer_to_an_external_number() {
    let mut env = env(|_| {}).await;
    let (call, t) = env.answered_call(pstn()).await;
    env.run(
        &call,
        t,
        CallAction::Transfer {
            target: TransferTarget::External("+14255550199".into()),
        },
    )
    .await
    .unwrap();
    let x = &env.commands_matching("POST", "/transfer")[0];
    assert_eq!(x.status, 202);
    assert_eq!(
        x.body["transferTarget"]["identity"]["phone"]["id"],
        "+14255550199"
    );
    assert_eq!(env.next().await.kind, CallEventKind::TransferAccepted);
    assert_eq!(env.next().await.kind, CallEventKind::TransferCompleted);
    // A service transfer never reaches Graph.
    let r = env
        .run(
            &call,
            t,
            CallAction::Transfer {
                target: TransferTarget::Service(stratus_routing::ids::ServiceId::from_u128(1)),
            },
        )
        .await;
    assert!(matches!(r, Err(CallControlError::Unsupported(_))));
}

#[tokio::test]
async fn transfer_out_of_a_group_call_names_the_transferee_and_can_fail() {
    let mut env = env(|_| {}).await;
    let (a, x) = (user(1), user(2));
    env.sim
        .set_agent_behaviour(a, AgentBehaviour::answer_after(Duration::from_millis(20)));
    env.sim.set_agent_behaviour(
        x,
        AgentBehaviour::Decline {
            after: Duration::from_millis(20),
        },
    );
    let (call, t) = env.answered_call(pstn()).await;
    env.run(
        &call,
        t,
        CallAction::RingAgent {
            offer: offer(1),
            user: a,
            mode: RingMode::Invite,
        },
    )
    .await
    .unwrap();
    env.until("joined", |e| {
        matches!(e.kind, CallEventKind::AgentJoined { .. })
    })
    .await;
    env.run(
        &call,
        t,
        CallAction::Transfer {
            target: TransferTarget::User(x.to_string()),
        },
    )
    .await
    .unwrap();
    let tr = &env.commands_matching("POST", "/transfer")[0];
    assert_eq!(tr.status, 202, "{:?}", tr.body);
    assert!(tr.body["transferee"]["participantId"].is_string());
    assert_eq!(
        env.next().await.kind,
        CallEventKind::TransferFailed { code: 500 }
    );
}

#[tokio::test]
async fn a_429_storm_is_ridden_out_without_losing_a_command() {
    let mut env = env(|_| {}).await;
    let (call, t) = env.answered_call(pstn()).await;
    env.sim.inject(Fault::Throttle {
        count: 12,
        retry_after_s: 0.15,
    });
    let started = tokio::time::Instant::now();
    let mut jobs = Vec::new();
    for _ in 0..5 {
        let a = env.adapter.clone();
        let call = call.clone();
        jobs.push(tokio::spawn(async move {
            use stratus_routing::port::{CallCommand, CallControl};
            a.execute(CallCommand {
                tenant: stratus_routing::ids::TenantId::from_u128(1),
                m365_tenant: t,
                call,
                task: stratus_routing::ids::TaskId::from_u128(1),
                action: CallAction::PlayPrompt {
                    prompt: Prompt::Audio(BEEP.into()),
                },
            })
            .await
        }));
    }
    for j in jobs {
        j.await.unwrap().unwrap();
    }
    let prompts = env.commands_matching("POST", "/playPrompt");
    assert_eq!(prompts.iter().filter(|c| c.status == 429).count(), 12);
    assert_eq!(prompts.iter().filter(|c| c.status == 200).count(), 5);
    // Retry-After was honoured (fractional seconds), at least once per storm round.
    assert!(started.elapsed() >= Duration::from_millis(150));
    let done = env.quiet(Duration::from_millis(400)).await;
    assert_eq!(
        done.iter()
            .filter(|e| e.kind == CallEventKind::PromptDone)
            .count(),
        5
    );

    // 5xx: an idempotent request is retried, a non-idempotent one is not.
    env.sim.inject(Fault::ServerError {
        count: 1,
        status: 503,
    });
    env.run(&call, t, CallAction::KeepAlive).await.unwrap();
    env.sim.inject(Fault::ServerError {
        count: 1,
        status: 503,
    });
    let r = env
        .run(
            &call,
            t,
            CallAction::PlayPrompt {
                prompt: Prompt::Audio(BEEP.into()),
            },
        )
        .await;
    assert!(
        matches!(r, Err(CallControlError::Rejected { status: 503, .. })),
        "{r:?}"
    );
    let keep = env.commands_matching("POST", "/keepAlive");
    assert_eq!(
        keep.iter().map(|c| c.status).collect::<Vec<_>>(),
        vec![503, 200]
    );
}

#[tokio::test]
async fn reject_and_lost_callbacks() {
    let mut env = env(|_| {}).await;
    let id = env.sim.place_call(pstn()).await.unwrap();
    let e = env.next().await;
    let CallEventKind::Incoming { m365_tenant, .. } = e.kind else {
        panic!()
    };
    env.run(
        &e.call,
        m365_tenant,
        CallAction::Reject {
            reason: stratus_routing::port::RejectReason::Busy,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        env.commands_matching("POST", "/reject")[0].body["reason"],
        "busy"
    );
    assert_eq!(env.next().await.kind, CallEventKind::Terminated { code: 0 });
    assert!(env.sim.call(&id).is_none());
    // A lost callback is simply not delivered (Graph does not retry calling callbacks).
    env.sim.inject(Fault::LoseCallbacks { count: 1 });
    assert!(env.sim.place_call(pstn()).await.is_err());
}

#[tokio::test]
async fn an_invitation_nobody_answers_fails_as_no_answer_when_the_platform_gives_up() {
    let mut env = env(|c| c.ring_timeout = Duration::from_millis(150)).await;
    let a = user(1);
    env.sim.set_agent_behaviour(a, AgentBehaviour::Ignore);
    let (call, t) = env.answered_call(pstn()).await;
    env.run(
        &call,
        t,
        CallAction::RingAgent {
            offer: offer(1),
            user: a,
            mode: RingMode::Invite,
        },
    )
    .await
    .unwrap();
    let e = env.next().await;
    assert_eq!(
        e.kind,
        CallEventKind::AgentFailed {
            user: a,
            cause: LegFailure::NoAnswer
        }
    );
    assert!(
        env.sim
            .call(call.as_str())
            .unwrap()
            .ringing_users
            .is_empty()
    );
}

#[tokio::test]
async fn record_redirect_and_participant_list_on_the_wire() {
    use stratus_graph::wire::requests::{MediaRef, Party, RecordOptions};
    let mut env = env(|_| {}).await;
    let a = user(1);
    env.sim
        .set_agent_behaviour(a, AgentBehaviour::answer_after(Duration::from_millis(10)));
    let (call, t) = env.answered_call(pstn()).await;
    // recordResponse: an operation id back, then the completed operation.
    let opts = RecordOptions {
        prompt: Some(MediaRef {
            uri: BEEP.into(),
            resource_id: "r1".into(),
        }),
        ..RecordOptions::default()
    };
    let op = env
        .adapter
        .record_response(t, call.as_str(), &opts, "rec-1")
        .await
        .unwrap();
    assert!(op.is_some());
    let rec = &env.commands_matching("POST", "/recordResponse")[0];
    assert_eq!(rec.status, 200);
    assert_eq!(rec.body["maxRecordDurationInSeconds"], 5);
    eventually("the recording completed", || {
        env.sim.callbacks().iter().any(|c| {
            c.body["value"][0]["resourceData"]["id"].as_str() == op.as_deref()
                && c.body["value"][0]["resourceData"]["status"] == "completed"
        })
    })
    .await;
    // The participant list names the agent once joined.
    env.run(
        &call,
        t,
        CallAction::RingAgent {
            offer: offer(1),
            user: a,
            mode: RingMode::Invite,
        },
    )
    .await
    .unwrap();
    env.until("joined", |e| {
        e.kind == CallEventKind::AgentJoined { user: a }
    })
    .await;
    let roster = env
        .adapter
        .list_participants(t, call.as_str())
        .await
        .unwrap();
    assert!(
        roster
            .iter()
            .any(|p| p.who.id.as_deref() == Some(a.to_string().as_str())),
        "{roster:?}"
    );
    // Redirect before answering: the bot loses the call to the target.
    let id = env.sim.place_call(pstn()).await.unwrap();
    env.until("incoming", |e| {
        e.call.as_str() == id && matches!(e.kind, CallEventKind::Incoming { .. })
    })
    .await;
    env.adapter
        .redirect(
            t,
            &id,
            &[Party::User {
                id: user(2).to_string(),
                display_name: None,
            }],
            Some(5),
        )
        .await
        .unwrap();
    let r = &env.commands_matching("POST", "/redirect")[0];
    assert_eq!((r.status, r.body["timeout"].as_i64()), (202, Some(15)));
    eventually("the redirected call is gone", || {
        env.sim.call(&id).is_none()
    })
    .await;
    // Redirect after answering is refused with the documented 400.
    let e = env
        .adapter
        .redirect(t, call.as_str(), &[Party::Phone("+15550100".into())], None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("400"), "{e}");
}

#[tokio::test]
async fn a_lost_callback_is_recovered_by_reading_the_call() {
    let mut env = env(|_| {}).await;
    let id = env.sim.place_call(pstn()).await.unwrap();
    let e = env.next().await;
    let CallEventKind::Incoming { m365_tenant: t, .. } = e.kind else {
        panic!("{e:?}")
    };
    // establishing and established are both lost.
    env.sim.inject(Fault::LoseCallbacks { count: 2 });
    env.run(&e.call, t, CallAction::Answer { prefetch: vec![] })
        .await
        .unwrap();
    let quiet = env.quiet(Duration::from_millis(200)).await;
    assert!(quiet.is_empty(), "{quiet:?}");
    let c = env.adapter.get_call(t, &id).await.unwrap();
    assert_eq!(c.id, id);
    assert_eq!(c.state, Some(stratus_graph::parse::CallState::Established));
    let dropped = env
        .sim
        .callbacks()
        .iter()
        .filter(|c| c.status.is_none())
        .count();
    assert_eq!(dropped, 2);
    env.run(&e.call, t, CallAction::HangUp).await.unwrap();
    assert_eq!(
        env.next().await.kind,
        CallEventKind::Terminated { code: 200 }
    );
    let gone = env.adapter.get_call(t, &id).await.unwrap_err();
    assert_eq!(gone, stratus_graph::client::GraphError::NotFound);
}

#[tokio::test]
async fn an_unplayable_prefetch_does_not_keep_the_call_from_being_answered() {
    let mut env = env(|_| {}).await;
    env.sim.place_call(pstn()).await.unwrap();
    let e = env.next().await;
    let CallEventKind::Incoming { m365_tenant: t, .. } = e.kind else {
        panic!("{e:?}")
    };
    // No TTS URL: the text prompt cannot be played, the audio one is still pre-fetched.
    env.run(
        &e.call,
        t,
        CallAction::Answer {
            prefetch: vec![Prompt::Text("Welcome".into()), Prompt::Audio(BEEP.into())],
        },
    )
    .await
    .unwrap();
    env.until("Established", |x| x.kind == CallEventKind::Established)
        .await;
    let answer = &env.commands_matching("POST", "/answer")[0];
    let pre = answer.body["mediaConfig"]["preFetchMedia"]
        .as_array()
        .unwrap();
    assert_eq!(pre.len(), 1);
    assert_eq!(pre[0]["uri"], BEEP);
}
