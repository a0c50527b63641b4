#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The default workflow over the real server and simulator: accept → announcement → queue →
//! disconnect when the queue time runs out; and an announcement that cannot be played (a text
//! prompt without a text-to-speech endpoint) never costs the caller the call.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use stratus_graph::sim::CallerSpec;
use stratus_routing::task::Outcome;

async fn call_into(env: &Env, a: &Seeded, welcome: &str) -> String {
    let path = format!("/api/v1/services/{}", a.service);
    let (_, mut svc) = env.get(&path, &a.admin).await;
    svc["welcome_prompt"] = json!(welcome);
    svc["max_queue_secs"] = json!(5);
    let (s, b) = env.put(&path, &a.admin, svc.clone()).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let sim = env.server.simulator.clone().unwrap();
    let mut spec = CallerSpec::phone("+41440000001", svc["app_instance_id"].as_str().unwrap());
    spec.tenant = Some(a.m365);
    sim.place_call(spec).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_hears_the_announcement_waits_and_is_disconnected_at_the_queue_limit() {
    let env = start().await;
    // The only agent never becomes available: nobody can take the call.
    let a = env.tenant(1, 1).await;
    let call = call_into(&env, &a, "https://media.example/welcome.wav").await;
    let sim = env.server.simulator.clone().unwrap();
    let sessions = stored_sessions(&env, a.tenant, Duration::from_secs(30)).await;
    assert_eq!(sessions[0].outcome, Outcome::QueueTimeout);
    assert!(sessions[0].queue_ms >= 5_000, "{:?}", sessions[0]);
    let log: Vec<String> = sim
        .commands_for(&call)
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert!(
        log.first().is_some_and(|c| c.ends_with("/answer")),
        "{log:?}"
    );
    assert!(log.iter().any(|c| c.ends_with("/playPrompt")), "{log:?}");
    assert!(
        log.last()
            .is_some_and(|c| c.starts_with("DELETE") && c.ends_with(&call)),
        "{log:?}"
    );
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_that_cannot_be_played_is_skipped_not_fatal() {
    // No tts_url: a text announcement cannot be played by service-hosted media.
    let env = start().await;
    let a = env.tenant(1, 1).await;
    let call = call_into(&env, &a, "Welcome to Contoso").await;
    let sim = env.server.simulator.clone().unwrap();
    let sessions = stored_sessions(&env, a.tenant, Duration::from_secs(30)).await;
    assert_eq!(
        sessions[0].outcome,
        Outcome::QueueTimeout,
        "the caller was queued, not dropped"
    );
    let log = sim.commands_for(&call);
    assert!(
        log.first().is_some_and(|c| c.path.ends_with("/answer")),
        "answered despite the prompt: {log:?}"
    );
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_pickup_service_the_agent_takes_the_call_when_they_choose() {
    let env = start().await;
    let a = env.tenant(1, 1).await;
    let path = format!("/api/v1/services/{}", a.service);
    let (_, mut svc) = env.get(&path, &a.admin).await;
    svc["distribution"] = json!("Pickup");
    let (s, b) = env.put(&path, &a.admin, svc.clone()).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let agent_id = a.users[0];
    let sim = env.server.simulator.clone().unwrap();
    sim.set_presence(
        agent_id,
        stratus_routing::model::Availability::Available,
        stratus_routing::model::Activity::Available,
    )
    .await;
    let agent = token(
        &a.tenant.to_string(),
        &agent_id.to_string(),
        &[stratus_gateway::auth::Role::Agent],
    );
    eventually("the agent idle", Duration::from_secs(10), || async {
        let (_, b) = env
            .get(&format!("/api/v1/users/{agent_id}/live"), &agent)
            .await;
        (b["status"] == "Idle").then_some(())
    })
    .await;
    let mut spec = CallerSpec::phone("+41440000001", svc["app_instance_id"].as_str().unwrap());
    spec.tenant = Some(a.m365);
    let call = sim.place_call(spec).await.unwrap();
    let live = format!("{path}/live");
    eventually("the call waiting", Duration::from_secs(10), || async {
        let (_, b) = env.get(&live, &a.admin).await;
        (b["waiting"].as_array().is_some_and(|w| w.len() == 1)).then_some(())
    })
    .await;
    // Nothing is pushed to the agent in a Pickup service…
    tokio::time::sleep(Duration::from_millis(300)).await;
    let invited = |sim: &stratus_graph::sim::SimHandle| {
        sim.commands_for(&call)
            .iter()
            .any(|c| c.path.ends_with("/participants/invite"))
    };
    assert!(!invited(&sim), "a pickup service rang the agent by itself");
    // …until they take it.
    let (s, b) = env.post(&format!("{path}/pickup"), &agent, json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    eventually("the agent rung", Duration::from_secs(10), || async {
        invited(&sim).then_some(())
    })
    .await;
    env.server.shutdown().await;
}
