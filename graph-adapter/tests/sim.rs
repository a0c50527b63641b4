#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The simulator itself: determinism for a seed, call plans, per-call command logs, agents'
//! presence while on a call, slow answers.

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;
use stratus_graph::sim::{AgentBehaviour, BehaviourMix, CallPlan, Fault, SimAgent};
use stratus_routing::ids::CallId;
use stratus_routing::model::{Activity, Availability};
use stratus_routing::port::{CallAction, CallControlError, CallEventKind, Prompt, RingMode};

/// Places three calls at once, then serves the first one: answer, invite an agent, hang up.
/// Returns the call ids and the callbacks the first call received.
async fn script(seed: u64) -> (Vec<String>, Vec<Value>) {
    let mut env = env(|c| c.seed = seed).await;
    let a = user(1);
    env.sim
        .set_agent_behaviour(a, AgentBehaviour::answer_after(Duration::from_millis(30)));
    let ids: Vec<String> = env
        .sim
        .place_calls(CallPlan::new(3, 1000.0, APP_INSTANCE))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let first = CallId::new(ids[0].clone());
    let e = env
        .until("the first call", |e| {
            e.call == first && matches!(e.kind, CallEventKind::Incoming { .. })
        })
        .await;
    let CallEventKind::Incoming { m365_tenant: t, .. } = e.kind else {
        panic!()
    };
    env.run(&first, t, CallAction::Answer { prefetch: vec![] })
        .await
        .unwrap();
    env.until("Established", |e| {
        e.call == first && e.kind == CallEventKind::Established
    })
    .await;
    env.run(
        &first,
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
        e.call == first && e.kind == CallEventKind::AgentJoined { user: a }
    })
    .await;
    env.run(&first, t, CallAction::HangUp).await.unwrap();
    env.until("ended", |e| {
        e.call == first && matches!(e.kind, CallEventKind::Terminated { .. })
    })
    .await;
    let mine: Vec<Value> = env
        .sim
        .callbacks()
        .into_iter()
        .map(|c| c.body)
        .filter(|b| {
            b["value"][0]["resourceUrl"]
                .as_str()
                .is_some_and(|u| u.contains(&ids[0]))
        })
        .collect();
    (ids, mine)
}

#[tokio::test]
async fn the_same_seed_gives_the_same_ids_however_calls_interleave() {
    let (ids_a, cbs_a) = script(7).await;
    let (ids_b, cbs_b) = script(7).await;
    let (ids_c, _) = script(8).await;
    assert_eq!(ids_a, ids_b);
    // Every callback of the call, participant and operation ids included, is the same.
    assert!(cbs_a.len() >= 6, "{cbs_a:?}");
    assert_eq!(cbs_a, cbs_b);
    assert!(
        ids_a.iter().all(|i| !ids_c.contains(i)),
        "another seed, other ids"
    );
}

#[tokio::test]
async fn a_call_plan_paces_callers_who_run_out_of_patience() {
    let mut env = env(|_| {}).await;
    let mut plan = CallPlan::new(5, 50.0, APP_INSTANCE);
    plan.patience = Some((Duration::from_millis(150), Duration::from_millis(250)));
    let started = tokio::time::Instant::now();
    let placed = env.sim.place_calls(plan).await;
    // Five callers, 20 ms apart: the last one dials 80 ms after the first.
    assert!(started.elapsed() >= Duration::from_millis(80));
    assert_eq!(placed.iter().filter(|r| r.is_ok()).count(), 5);
    let mut incoming = 0;
    let mut ended = 0;
    while ended < 5 {
        match env.next().await.kind {
            CallEventKind::Incoming { .. } => incoming += 1,
            CallEventKind::Terminated { .. } => ended += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(incoming, 5);
    let st = env.sim.stats();
    assert_eq!(
        (st.calls_placed, st.callers_abandoned, st.calls_live),
        (5, 5, 0)
    );
}

#[tokio::test]
async fn commands_are_kept_per_call_with_their_agent_legs() {
    let mut env = env(|_| {}).await;
    let (a, b) = (user(1), user(2));
    env.sim.set_agent_behaviour(a, AgentBehaviour::Ignore);
    env.sim
        .set_agent_behaviour(b, AgentBehaviour::answer_after(Duration::from_millis(20)));
    let (call, t) = env.answered_call(pstn()).await;
    let (other, _) = env.answered_call(pstn()).await;
    for (o, u) in [(1, a), (2, b)] {
        env.run(
            &call,
            t,
            CallAction::RingAgent {
                offer: offer(o),
                user: u,
                mode: RingMode::Leg,
            },
        )
        .await
        .unwrap();
    }
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
    env.until("leg up", |e| {
        e.kind == CallEventKind::LegEstablished { user: b }
    })
    .await;
    let mine: Vec<(String, String)> = env
        .sim
        .commands_for(call.as_str())
        .into_iter()
        .map(|c| (c.method, c.path))
        .collect();
    let legs: Vec<&(String, String)> = mine
        .iter()
        .filter(|(m, p)| m == "POST" && p == "/communications/calls")
        .collect();
    assert_eq!(mine[0].1, format!("/communications/calls/{call}/answer"));
    assert_eq!(legs.len(), 2, "{mine:?}");
    // The cancelled leg's DELETE counts for the caller's call too.
    assert!(
        mine.iter()
            .any(|(m, p)| m == "DELETE" && p.starts_with("/communications/calls/")),
        "{mine:?}"
    );
    assert!(env.sim.commands_for(other.as_str()).len() == 1);
    assert!(env.sim.commands_for("no-such-call").is_empty());
}

#[tokio::test]
async fn agents_show_in_a_call_while_connected() {
    let a = user(1);
    let mut env = env(|c| {
        c.agents = vec![SimAgent::available(
            a,
            AgentBehaviour::Answer {
                after: Duration::from_millis(20),
                talk: Some(Duration::from_millis(1500)),
            },
        )]
    })
    .await;
    let (call, t) = env.answered_call(pstn()).await;
    let read = |env: &Env| {
        let adapter = env.adapter.clone();
        async move {
            let p = adapter.get_presences(t, &[a.to_string()]).await.unwrap();
            (p[0].availability, p[0].activity)
        }
    };
    assert_eq!(
        read(&env).await,
        (Availability::Available, Activity::Available)
    );
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
    assert_eq!(read(&env).await, (Availability::Busy, Activity::InACall));
    env.until("left", |e| e.kind == CallEventKind::AgentLeft { user: a })
        .await;
    assert_eq!(
        read(&env).await,
        (Availability::Available, Activity::Available)
    );
    assert_eq!(env.sim.stats().agents_joined, 1);
}

#[tokio::test]
async fn slow_answers_time_out_and_only_idempotent_requests_are_retried() {
    let mut env = env_with(|_| {}, |c| c.request_timeout = Duration::from_millis(500)).await;
    let (call, t) = env.answered_call(pstn()).await;
    env.sim.inject(Fault::Slow {
        count: 1,
        delay: Duration::from_millis(1500),
    });
    env.run(&call, t, CallAction::KeepAlive).await.unwrap();
    env.sim.inject(Fault::Slow {
        count: 1,
        delay: Duration::from_millis(1500),
    });
    let r = env
        .run(
            &call,
            t,
            CallAction::PlayPrompt {
                prompt: Prompt::Audio("https://cdn.example.test/a.wav".into()),
            },
        )
        .await;
    assert!(
        matches!(&r, Err(CallControlError::Transport(m)) if m.contains("timed out")),
        "{r:?}"
    );
    // The slow keepAlive was answered late and tried again; the prompt was sent once.
    eventually("the slow requests were served", || {
        env.commands_matching("POST", "/playPrompt").len() == 1
    })
    .await;
    assert_eq!(env.commands_matching("POST", "/keepAlive").len(), 2);
}

#[tokio::test]
async fn behaviour_mixes_are_drawn_from_the_seed() {
    let sim = env(|c| c.seed = 3).await.sim;
    let users: Vec<_> = (1..=200).map(user).collect();
    let mix = BehaviourMix {
        decline_pct: 20,
        ignore_pct: 10,
        ..BehaviourMix::default()
    };
    let agents = sim.agents_from_mix(&users, &mix);
    let declines = agents
        .iter()
        .filter(|a| matches!(a.behaviour, AgentBehaviour::Decline { .. }))
        .count();
    let ignores = agents
        .iter()
        .filter(|a| a.behaviour == AgentBehaviour::Ignore)
        .count();
    assert!((20..=60).contains(&declines), "{declines}");
    assert!((5..=35).contains(&ignores), "{ignores}");
    for a in &agents {
        if let AgentBehaviour::Answer { after, talk } = a.behaviour {
            assert!((Duration::from_secs(1)..=Duration::from_secs(4)).contains(&after));
            assert!(talk.is_some_and(|t| t >= Duration::from_secs(20)));
        }
    }
    let again = env(|c| c.seed = 3).await;
    assert_eq!(again.sim.agents_from_mix(&users, &mix), agents);
}

#[tokio::test]
async fn a_call_not_kept_alive_is_ended_by_graph() {
    let mut env = env(|c| c.keep_alive_timeout = Duration::from_millis(1000)).await;
    let (call, t) = env.answered_call(pstn()).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    env.run(&call, t, CallAction::KeepAlive).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        env.sim.call(call.as_str()).is_some(),
        "alive only thanks to the keepAlive"
    );
    let e = env.next().await;
    assert_eq!(
        (e.call, e.kind),
        (call.clone(), CallEventKind::Terminated { code: 408 })
    );
    let r = env.run(&call, t, CallAction::KeepAlive).await;
    assert_eq!(r, Err(CallControlError::CallGone));
}

#[tokio::test]
async fn endpoints_answer_with_the_documented_status_codes_and_bodies() {
    use stratus_graph::parse::{
        parse_call_resource, parse_error_body, parse_operation_response, parse_participants,
        parse_presences,
    };
    let mut env = env(|_| {}).await;
    let (call, _) = env.answered_call(pstn()).await;
    let base = env.sim.graph_base_url();
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut r = http
            .request(method, format!("{base}{path}"))
            .bearer_auth("sim.test");
        if let Some(b) = body {
            r = r.json(&b);
        }
        async move {
            let r = r.send().await.unwrap();
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            (status, headers, r.bytes().await.unwrap().to_vec())
        }
    };
    let c = format!("/communications/calls/{call}");
    use reqwest::Method as M;
    let (s, _, b) = send(M::GET, c.clone(), None).await;
    assert_eq!(s, 200);
    assert_eq!(parse_call_resource(&b).unwrap().id, call.as_str());
    let (s, h, b) = send(
        M::POST,
        format!("{c}/playPrompt"),
        Some(serde_json::json!({"clientContext": "x", "prompts": [{"@odata.type": "#microsoft.graph.mediaPrompt",
            "mediaInfo": {"uri": "https://cdn.example.test/a.wav", "resourceId": "1"}}]})),
    )
    .await;
    assert_eq!(s, 200);
    let op = parse_operation_response(&b).unwrap();
    assert!(
        h["location"]
            .to_str()
            .unwrap()
            .ends_with(op.id.as_deref().unwrap())
    );
    let (s, _, b) = send(
        M::POST,
        format!("{c}/subscribeToTone"),
        Some(serde_json::json!({"clientContext": "x"})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(parse_operation_response(&b).is_ok());
    let (s, _, _) = send(M::POST, format!("{c}/keepAlive"), None).await;
    assert_eq!(s, 200);
    // A leg to an agent: 201 Created, establishing, with a Location.
    let leg_body = serde_json::json!({"@odata.type": "#microsoft.graph.call",
        "callbackUri": format!("{}/x", env.webhook), "requestedModalities": ["audio"],
        "mediaConfig": {"@odata.type": "#microsoft.graph.serviceHostedMediaConfig"},
        "targets": [{"identity": {"user": {"id": user(5).to_string()}}}]});
    let (s, h, b) = send(M::POST, "/communications/calls".into(), Some(leg_body)).await;
    assert_eq!(s, 201);
    let leg = parse_call_resource(&b).unwrap();
    assert!(leg.my_participant_id.is_some() && leg.call_chain_id.is_some());
    assert!(h["location"].to_str().unwrap().ends_with(&leg.id));
    // A PSTN leg without an application instance is refused.
    let pstn_body = serde_json::json!({"callbackUri": "http://x", "mediaConfig": {},
        "targets": [{"identity": {"phone": {"id": "+15550100"}}}]});
    let (s, _, _) = send(M::POST, "/communications/calls".into(), Some(pstn_body)).await;
    assert_eq!(s, 403);
    // Invite, list, cancel the invitation.
    let (s, _, b) = send(
        M::POST,
        format!("{c}/participants/invite"),
        Some(serde_json::json!({"clientContext": "i",
            "participants": [{"identity": {"user": {"id": user(6).to_string()}}}]})),
    )
    .await;
    assert_eq!(s, 200);
    assert!(parse_operation_response(&b).is_ok());
    let (s, _, b) = send(M::GET, format!("{c}/participants"), None).await;
    assert_eq!(s, 200);
    let roster = parse_participants(&b).unwrap();
    let pid = roster[0].participant_id.clone().unwrap();
    let (s, _, _) = send(M::DELETE, format!("{c}/participants/{pid}"), None).await;
    assert_eq!(s, 204);
    let (s, _, _) = send(M::DELETE, format!("{c}/participants/{pid}"), None).await;
    assert_eq!(s, 404);
    // Presence reads: 1 to 650 ids.
    let (s, _, b) = send(
        M::POST,
        "/communications/getPresencesByUserId".into(),
        Some(serde_json::json!({"ids": [user(5).to_string()]})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(parse_presences(&b).unwrap().len(), 1);
    let many: Vec<String> = (0..651).map(|n| user(n).to_string()).collect();
    let (s, _, _) = send(
        M::POST,
        "/communications/getPresencesByUserId".into(),
        Some(serde_json::json!({ "ids": many })),
    )
    .await;
    assert_eq!(s, 400);
    // Throttled: 429, Retry-After, the documented error body.
    env.sim.inject(Fault::Throttle {
        count: 1,
        retry_after_s: 2.5,
    });
    let (s, h, b) = send(M::POST, format!("{c}/keepAlive"), None).await;
    assert_eq!((s, h["retry-after"].to_str().unwrap()), (429, "2.5"));
    assert_eq!(parse_error_body(&b).unwrap().0, "TooManyRequests");
    // Hang up: 204, then the call is gone (keepAlive 404).
    let (s, _, _) = send(M::DELETE, c.clone(), None).await;
    assert_eq!(s, 204);
    env.until("ended", |e| {
        matches!(e.kind, CallEventKind::Terminated { .. })
    })
    .await;
    let (s, _, b) = send(M::POST, format!("{c}/keepAlive"), None).await;
    assert_eq!(s, 404);
    assert!(parse_error_body(&b).is_some());
    // Without a token: 401.
    let r = http.get(format!("{base}{c}")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn presence_churns_among_agents_off_a_call() {
    let env = env(|c| {
        c.presence_churn = Some(Duration::from_millis(20));
        c.agents = (1..=3)
            .map(|n| SimAgent::available(user(n), AgentBehaviour::Ignore))
            .collect();
    })
    .await;
    let at_start = env.sim.stats().presence_changes;
    assert!(at_start >= 3, "the seeded presence");
    eventually("some agents stepped away and back", || {
        env.sim.stats().presence_changes >= at_start + 5
    })
    .await;
    let ids: Vec<String> = (1..=3).map(|n| user(n).to_string()).collect();
    let now = env
        .adapter
        .get_presences(stratus_routing::ids::M365TenantId::from_u128(0x5eed), &ids)
        .await
        .unwrap();
    assert!(
        now.iter()
            .all(|p| matches!(p.availability, Availability::Available | Availability::Away)),
        "{now:?}"
    );
}

#[tokio::test]
async fn long_runs_count_instead_of_keeping_records() {
    let mut env = env(|c| c.keep_records = false).await;
    let (call, t) = env.answered_call(pstn()).await;
    env.run(&call, t, CallAction::KeepAlive).await.unwrap();
    let st = env.sim.stats();
    assert_eq!(st.graph_requests, 2, "answer and keepAlive");
    assert!(
        st.callbacks_sent >= 3,
        "incoming, establishing, established"
    );
    assert!(env.sim.commands().is_empty() && env.sim.callbacks().is_empty());
}

/// Every key path of a JSON document (`a.b`, arrays as `a[]`), values ignored.
fn paths(v: &Value, at: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                // identitySet members are interchangeable (reference/graph-api.md §1).
                let member = at.ends_with("identity")
                    && matches!(
                        k.as_str(),
                        "user" | "phone" | "application" | "applicationInstance" | "guest"
                    );
                let p = if member {
                    format!("{at}.<who>")
                } else {
                    format!("{at}.{k}")
                };
                out.insert(p.clone());
                paths(x, &p, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                paths(x, &format!("{at}[]"), out);
            }
        }
        _ => {}
    }
}

fn fixture_paths(prefixes: &[&str]) -> std::collections::BTreeSet<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/graph-fixtures");
    let mut out = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") && prefixes.iter().any(|p| name.starts_with(p)) {
            let v: Value =
                serde_json::from_slice(&std::fs::read(format!("{dir}/{name}")).unwrap()).unwrap();
            paths(&v, "", &mut out);
        }
    }
    out
}

#[tokio::test]
async fn callbacks_use_only_fields_the_fixtures_show() {
    let mut env = env(|c| c.prompt_duration = Duration::from_millis(20)).await;
    let (a, b) = (user(1), user(2));
    env.sim.set_agent_behaviour(
        a,
        AgentBehaviour::Answer {
            after: Duration::from_millis(10),
            talk: Some(Duration::from_millis(50)),
        },
    );
    env.sim.set_agent_behaviour(b, AgentBehaviour::Busy);
    let (call, t) = env.answered_call(pstn()).await;
    let beep = || Prompt::Audio("https://cdn.example.test/a.wav".into());
    env.run(
        &call,
        t,
        CallAction::CollectDigits {
            prompt: Some(beep()),
            max_digits: 1,
            timeout: Duration::from_secs(1),
        },
    )
    .await
    .unwrap();
    env.sim.press_digits(call.as_str(), "5").await;
    env.until("tone", |e| matches!(e.kind, CallEventKind::Tone { .. }))
        .await;
    for (o, u) in [(1, a), (2, b)] {
        env.run(
            &call,
            t,
            CallAction::RingAgent {
                offer: offer(o),
                user: u,
                mode: RingMode::Invite,
            },
        )
        .await
        .unwrap();
    }
    env.until("left", |e| e.kind == CallEventKind::AgentLeft { user: a })
        .await;
    env.run(
        &call,
        t,
        CallAction::Transfer {
            target: stratus_routing::task::TransferTarget::External("+15550100".into()),
        },
    )
    .await
    .unwrap();
    env.until("ended", |e| {
        matches!(e.kind, CallEventKind::TransferCompleted)
    })
    .await;
    let calls = fixture_paths(&["notif-call-", "notif-transfer-", "notif-tone-"]);
    let ops = fixture_paths(&[
        "notif-invite-",
        "notif-playprompt-",
        "notif-recordresponse-",
    ]);
    let roster = fixture_paths(&["notif-participants-"]);
    let mut kinds = std::collections::BTreeSet::new();
    for c in env.sim.callbacks() {
        let item = &c.body["value"][0];
        let url = item["resourceUrl"].as_str().unwrap();
        let (kind, allowed) = if url.ends_with("/participants") {
            ("roster", &roster)
        } else if url.contains("/operations/") {
            ("operation", &ops)
        } else {
            ("call", &calls)
        };
        kinds.insert(kind);
        let mut mine = std::collections::BTreeSet::new();
        paths(&c.body, "", &mut mine);
        let extra: Vec<&String> = mine.difference(allowed).collect();
        assert!(
            extra.is_empty(),
            "{kind} callback with {extra:?}: {}",
            c.body
        );
    }
    assert_eq!(kinds.len(), 3, "{kinds:?}");
}
