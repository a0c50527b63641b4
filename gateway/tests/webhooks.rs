#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Graph's way in, on a real socket: callback tokens, unreadable bodies, calls for nobody,
//! the presence validation handshake and `clientState`.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use stratus_graph::sim::CallerSpec;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/graph-fixtures");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calling_webhook_refuses_bad_tokens_and_acknowledges_unreadable_bodies() {
    let env = start().await;
    let sim = env.server.simulator.clone().unwrap();
    let url = format!("{}/graph/calls", env.base);
    let body = fixture("notif-call-established.json");

    let r = env.http.post(&url).body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let b: Value = r.json().await.unwrap();
    assert!(b["error"]["message"].is_string(), "{b}");
    let r = env
        .http
        .post(&url)
        .bearer_auth("not-a-jwt")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A genuine token on a body that is not a notification: acknowledged (Graph must not resend
    // it forever), logged, and nothing else happens.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = sim
        .sign(&json!({
            "iss": "https://graph.microsoft.com",
            "aud": env.server.state.config.graph.app_id,
            "tid": "11111111-2222-3333-4444-555555555555",
            "exp": now + 600, "nbf": now - 10, "iat": now,
        }))
        .unwrap();
    let r = env
        .http
        .post(&url)
        .bearer_auth(&token)
        .body("{ garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(env.server.state.node.stats().waiting, 0);
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_for_an_unknown_resource_account_is_rejected_not_left_ringing() {
    let env = start().await;
    let a = env.tenant(1, 1).await;
    let sim = env.server.simulator.clone().unwrap();
    let mut spec = CallerSpec::phone("+41440000001", "99999999-9999-9999-9999-999999999999");
    spec.tenant = Some(a.m365);
    let call = sim.place_call(spec).await.unwrap();
    eventually("the call rejected", Duration::from_secs(10), || async {
        sim.commands()
            .iter()
            .any(|c| c.method == "POST" && c.path.ends_with(&format!("{call}/reject")))
            .then_some(())
    })
    .await;
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_notifications_answer_the_handshake_and_check_client_state() {
    let env = start().await;
    let a = env.tenant(1, 1).await;
    let url = format!("{}/graph/presence/{}", env.base, a.m365);

    let r = env
        .http
        .post(format!(
            "{url}?validationToken=Validation%3A%20Testing%20client"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(r.text().await.unwrap(), "Validation: Testing client");

    let forged = fixture("notif-presence-basic.json");
    let r = env
        .http
        .post(&url)
        .body(forged.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let ours = forged.replace(
        "{secret client state}",
        &env.server.state.config.graph.client_state,
    );
    let r = env.http.post(&url).body(ours).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);

    let r = env.http.post(&url).body("not json").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let lifecycle = format!("{}/graph/lifecycle/{}", env.base, a.m365);
    let r = env
        .http
        .post(&lifecycle)
        .body(fixture("notif-lifecycle-missed.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the fixture's clientState is not ours"
    );

    let r = env
        .http
        .post(format!(
            "{}/graph/presence/00000000-0000-0000-0000-000000000bad",
            env.base
        ))
        .body(fixture("notif-presence-basic.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Stratus subscribed to its users' presence, and deletes the subscriptions when it stops.
    let sim = env.server.simulator.clone().unwrap();
    eventually(
        "a presence subscription",
        Duration::from_secs(5),
        || async { (!sim.subscriptions().is_empty()).then_some(()) },
    )
    .await;
    env.server.shutdown().await;
    assert!(sim.subscriptions().is_empty(), "{:?}", sim.subscriptions());
}
