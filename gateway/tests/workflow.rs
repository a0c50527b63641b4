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
