#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Presence subscriptions against the simulator: handshake, chunking, notifications, clientState,
//! recreate on subscriptionRemoved, renewal, stale updates.

mod common;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use common::*;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use stratus_graph::presence::{PresenceConfig, PresenceManager, iso8601, validation_token};
use stratus_graph::sim::Fault;
use stratus_routing::ids::{M365TenantId, UserId};
use stratus_routing::model::{Activity, Availability, Presence};
use tokio::sync::mpsc;

type Rx = mpsc::UnboundedReceiver<(M365TenantId, UserId, Presence)>;

async fn notified(
    State(m): State<Arc<PresenceManager>>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    if let Some(t) = validation_token(q.as_deref()) {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], t).into_response();
    }
    match m.handle_notification(&body).await {
        Ok(_) => StatusCode::ACCEPTED.into_response(),
        Err(e) => StatusCode::from_u16(e.http_status())
            .unwrap()
            .into_response(),
    }
}

async fn lifecycle(
    State(m): State<Arc<PresenceManager>>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    if let Some(t) = validation_token(q.as_deref()) {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], t).into_response();
    }
    match m.handle_lifecycle(&body).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(e) => StatusCode::from_u16(e.http_status())
            .unwrap()
            .into_response(),
    }
}

async fn setup(chunk: usize) -> (Env, Arc<PresenceManager>, Rx, M365TenantId) {
    setup_with(|c| c.chunk = chunk).await
}

async fn setup_with(
    tune: impl FnOnce(&mut PresenceConfig),
) -> (Env, Arc<PresenceManager>, Rx, M365TenantId) {
    let env = env(|_| {}).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let tenant = M365TenantId::from_u128(0x5eed);
    let mut cfg = PresenceConfig::new(
        format!("{base}/graph/presence"),
        format!("{base}/graph/lifecycle"),
        "s3cret",
    );
    tune(&mut cfg);
    let m = Arc::new(PresenceManager::new(
        env.adapter.clone(),
        tenant,
        cfg,
        Arc::new(tx),
    ));
    let app = Router::new()
        .route("/graph/presence", post(notified))
        .route("/graph/lifecycle", post(lifecycle))
        .with_state(m.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (env, m, rx, tenant)
}

async fn next(rx: &mut Rx) -> (UserId, Presence) {
    let (_, u, p) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("no presence within 5 s")
        .unwrap();
    (u, p)
}

#[tokio::test]
async fn subscribe_notify_resync_and_recreate() {
    let (env, m, mut rx, _) = setup(2).await;
    let users: Vec<UserId> = (1..=5).map(user).collect();
    env.sim
        .set_presence(users[0], Availability::Busy, Activity::InACall)
        .await;
    m.set_users(&users).await.unwrap();
    // 5 users in chunks of 2: three subscriptions, each created after the handshake.
    let subs = env.sim.subscriptions();
    assert_eq!(subs.len(), 3);
    assert_eq!(subs.iter().map(|s| s.1.len()).sum::<usize>(), 5);
    let creates = env.commands_matching("POST", "/subscriptions");
    assert!(creates.iter().all(|c| c.status == 201), "{creates:?}");
    assert_eq!(creates[0].body["clientState"], "s3cret");
    assert_eq!(creates[0].body["changeType"], "updated");
    // The initial resync read everyone once.
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(next(&mut rx).await);
    }
    let first = got.iter().find(|(u, _)| *u == users[0]).unwrap();
    assert_eq!(
        (first.1.availability, first.1.activity),
        (Availability::Busy, Activity::InACall)
    );

    // A change: basic notification, then a read-back.
    env.sim
        .set_presence(users[3], Availability::Available, Activity::Available)
        .await;
    let (u, p) = next(&mut rx).await;
    assert_eq!((u, p.availability), (users[3], Availability::Available));
    assert!(p.sequence >= 2, "local sequence grows: {p:?}");

    // A change is lost (a gap), then Graph drops the subscription: it is recreated after the
    // handshake, its users are read back with getPresencesByUserId, and only what changed during
    // the gap reaches the core (unchanged sequence numbers are not news).
    let (gone, gone_users) = env.sim.subscriptions()[0].clone();
    let changed: UserId = gone_users[0].parse().unwrap();
    env.sim.inject(Fault::LoseCallbacks { count: 1 });
    env.sim
        .set_presence(changed, Availability::Away, Activity::Away)
        .await;
    assert_eq!(env.sim.callbacks().last().unwrap().status, None);
    let reads_before = env.commands_matching("POST", "/getPresencesByUserId").len();
    env.sim.remove_subscription(&gone).await;
    let (u, p) = next(&mut rx).await;
    assert_eq!((u, p.availability), (changed, Availability::Away));
    let reads = env.commands_matching("POST", "/getPresencesByUserId");
    assert_eq!(reads.len(), reads_before + 1);
    let read_ids: Vec<String> =
        serde_json::from_value(reads.last().unwrap().body["ids"].clone()).unwrap();
    assert_eq!(read_ids, gone_users);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(rx.try_recv().is_err(), "unchanged users re-announced");
    let subs = env.sim.subscriptions();
    assert_eq!(subs.len(), 3);
    assert!(subs.iter().all(|(id, _)| *id != gone));
    assert_eq!(subs.iter().map(|s| s.1.len()).sum::<usize>(), 5);
}

#[tokio::test]
async fn stale_updates_and_forged_client_state_are_dropped() {
    let (env, m, mut rx, _) = setup(650).await;
    let u = user(9);
    m.set_users(&[u]).await.unwrap();
    let _ = next(&mut rx).await; // initial resync
    // A notification with clear values and sequence numbers: newer passes, older is dropped.
    let sub = env.sim.subscriptions()[0].0.clone();
    let note = |seq: &str, av: &str| {
        json!({"value": [{"subscriptionId": sub, "clientState": "s3cret", "changeType": "updated",
            "resource": format!("communications/presences/{u}"),
            "resourceData": {"@odata.type": "#microsoft.graph.presence", "id": u.to_string(),
                "availability": av, "activity": av, "sequenceNumber": seq}}]})
        .to_string()
    };
    assert_eq!(
        m.handle_notification(note("99999999999999999999", "Away").as_bytes())
            .await
            .unwrap(),
        1
    );
    assert_eq!(next(&mut rx).await.1.availability, Availability::Away);
    assert_eq!(
        m.handle_notification(note("00000000000000000005", "Available").as_bytes())
            .await
            .unwrap(),
        0,
        "stale update applied"
    );
    // A forged clientState is refused with 403.
    let forged = note("99999999999999999999", "Offline").replace("s3cret", "guess");
    let e = m.handle_notification(forged.as_bytes()).await.unwrap_err();
    assert_eq!(e.http_status(), 403);
    assert!(rx.try_recv().is_err());
    // Malformed bodies are typed errors.
    assert!(m.handle_notification(b"{").await.is_err());
}

#[tokio::test]
async fn subscriptions_are_renewed_before_expiry() {
    let env = env(|_| {}).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, _rx) = mpsc::unbounded_channel();
    let mut cfg = PresenceConfig::new(format!("{base}/p"), format!("{base}/l"), "s");
    cfg.lifetime = Duration::from_millis(400);
    cfg.renew_before = Duration::from_millis(300);
    let m = Arc::new(PresenceManager::new(
        env.adapter.clone(),
        M365TenantId::from_u128(0x5eed),
        cfg,
        Arc::new(tx),
    ));
    let app = Router::new()
        .route("/p", post(notified))
        .route("/l", post(lifecycle))
        .with_state(m.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    m.set_users(&[user(1)]).await.unwrap();
    m.reconcile().await.unwrap();
    assert!(
        env.commands_matching("PATCH", "").is_empty(),
        "renewed too early"
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    m.reconcile().await.unwrap();
    let patches = env.commands_matching("PATCH", "");
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].status, 200);
    assert!(
        patches[0].body["expirationDateTime"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    // A subscription Graph forgot (404 on PATCH) is recreated.
    let id = env.sim.subscriptions()[0].0.clone();
    reqwest::Client::new()
        .delete(format!("{}/subscriptions/{id}", env.sim.graph_base_url()))
        .bearer_auth("sim.x")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    m.reconcile().await.unwrap();
    assert_eq!(env.sim.subscriptions().len(), 1);
    assert_ne!(env.sim.subscriptions()[0].0, id);
}

#[tokio::test]
async fn a_failed_handshake_fails_the_subscription() {
    let env = env(|_| {}).await;
    // Nothing listens there: validation fails, Graph answers 400.
    let (tx, _rx) = mpsc::unbounded_channel();
    let m = PresenceManager::new(
        env.adapter.clone(),
        M365TenantId::from_u128(0x5eed),
        PresenceConfig::new("http://127.0.0.1:9/p", "http://127.0.0.1:9/l", "s"),
        Arc::new(tx),
    );
    let e = m.set_users(&[user(1)]).await.unwrap_err();
    assert!(e.to_string().contains("400"), "{e}");
    assert!(env.sim.subscriptions().is_empty());
}

#[tokio::test]
async fn a_subscription_covers_at_most_650_users() {
    let (env, m, mut rx, _) = setup(stratus_graph::presence::MAX_IDS).await;
    let users: Vec<UserId> = (1..=651).map(user).collect();
    m.set_users(&users).await.unwrap();
    let mut sizes: Vec<usize> = env.sim.subscriptions().iter().map(|s| s.1.len()).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, vec![1, 650]);
    let creates = env.commands_matching("POST", "/subscriptions");
    assert_eq!(creates.len(), 2);
    assert!(
        creates[0].body["resource"]
            .as_str()
            .unwrap()
            .starts_with("/communications/presences?$filter=id in (")
    );
    // The first read covers everyone, 650 ids per getPresencesByUserId.
    let reads: Vec<usize> = env
        .commands_matching("POST", "/getPresencesByUserId")
        .iter()
        .map(|c| c.body["ids"].as_array().unwrap().len())
        .collect();
    assert_eq!(reads, vec![650, 1]);
    for _ in 0..651 {
        next(&mut rx).await;
    }
}

#[tokio::test]
async fn missed_notifications_resync_and_reauthorization_renews() {
    let (env, m, mut rx, _) = setup(650).await;
    let (a, b) = (user(1), user(2));
    m.set_users(&[a, b]).await.unwrap();
    next(&mut rx).await;
    next(&mut rx).await;
    let sub = env.sim.subscriptions()[0].0.clone();
    // A change whose notification is lost, then Graph says it missed some.
    env.sim.inject(Fault::LoseCallbacks { count: 1 });
    env.sim
        .set_presence(b, Availability::DoNotDisturb, Activity::Presenting)
        .await;
    assert!(rx.try_recv().is_err());
    assert_eq!(env.sim.lifecycle_event(&sub, "missed").await, Some(202));
    let (u, p) = next(&mut rx).await;
    assert_eq!(
        (u, p.availability, p.activity),
        (b, Availability::DoNotDisturb, Activity::Presenting)
    );
    // reauthorizationRequired: the subscription is renewed at once, not recreated.
    assert!(env.commands_matching("PATCH", "").is_empty());
    assert_eq!(
        env.sim
            .lifecycle_event(&sub, "reauthorizationRequired")
            .await,
        Some(202)
    );
    let patches = env.commands_matching("PATCH", &format!("/subscriptions/{sub}"));
    assert_eq!(patches.len(), 1);
    assert_eq!(patches[0].status, 200);
    assert_eq!(env.sim.subscriptions()[0].0, sub);
    // A lifecycle event with a forged clientState is refused.
    let forged = serde_json::json!({"value": [{"subscriptionId": sub, "clientState": "guess",
        "lifecycleEvent": "subscriptionRemoved"}]});
    let e = m
        .handle_lifecycle(forged.to_string().as_bytes())
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), 403);
    assert_eq!(env.sim.subscriptions().len(), 1);
}

#[tokio::test]
async fn subscriptions_never_ask_for_more_than_60_minutes() {
    let (env, m, _rx, _) = setup_with(|c| c.lifetime = Duration::from_secs(2 * 3600)).await;
    let before = std::time::SystemTime::now();
    m.set_users(&[user(1)]).await.unwrap();
    let create = &env.commands_matching("POST", "/subscriptions")[0];
    let exp = create.body["expirationDateTime"].as_str().unwrap();
    // Same fixed-width format: the strings order as the instants do.
    assert!(
        exp <= iso8601(before + Duration::from_secs(3601)).as_str(),
        "{exp}"
    );
    assert!(
        exp >= iso8601(before + Duration::from_secs(3590)).as_str(),
        "{exp}"
    );
    // The defaults renew well before Graph's limit.
    let d = PresenceConfig::new("a", "b", "c");
    assert!(d.lifetime <= Duration::from_secs(3600) && d.renew_before < d.lifetime);
}

#[tokio::test]
async fn users_no_longer_wanted_are_unsubscribed() {
    let (env, m, mut rx, _) = setup(1).await;
    let (a, b) = (user(1), user(2));
    m.set_users(&[a, b]).await.unwrap();
    next(&mut rx).await;
    next(&mut rx).await;
    assert_eq!(env.sim.subscriptions().len(), 2);
    m.set_users(&[a]).await.unwrap();
    let subs = env.sim.subscriptions();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].1, vec![a.to_string()]);
    assert_eq!(env.commands_matching("DELETE", "").len(), 1);
    assert_eq!(m.subscriptions().await.len(), 1);
    // Only the new subscription's users are read: nothing new for a.
    assert!(rx.try_recv().is_err());
}
