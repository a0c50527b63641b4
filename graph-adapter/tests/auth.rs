#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Callback JWT validation against the simulator's OpenID configuration and JWKS, and the
//! client-credentials token cache.

mod common;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use stratus_graph::adapter::CallbackError;
use stratus_graph::auth::{CallbackAuthError, TokenCache, TokenConfig};
use stratus_graph::sim::keys::OTHER_KEY_PEM;
use stratus_graph::sim::{SimConfig, Simulator};
use stratus_routing::ids::M365TenantId;

const TID: &str = "1fdd12d0-4620-44ed-baec-459b611f84b2";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims() -> Value {
    let n = now();
    json!({"aud": BOT_APP_ID, "iss": "https://api.botframework.com", "iat": n, "nbf": n, "exp": n + 3600, "tid": TID})
}

fn with(mut c: Value, k: &str, v: Value) -> Value {
    if v.is_null() {
        c.as_object_mut().unwrap().remove(k);
    } else {
        c[k] = v;
    }
    c
}

const BODY: &[u8] = include_bytes!("../../../shared/graph-fixtures/notif-call-established.json");

#[tokio::test]
async fn callback_tokens_are_checked() {
    let mut env = env(|_| {}).await;
    let sign = |c: &Value| format!("Bearer {}", env.sim.sign(c).unwrap());

    // A good token passes and carries the tenant.
    let n = env
        .adapter
        .handle_callback(Some(&sign(&claims())), BODY)
        .await
        .unwrap();
    assert_eq!(n, 1);

    let expect = |r: Result<usize, CallbackError>, want: CallbackAuthError| {
        let e = r.unwrap_err();
        assert_eq!(e, CallbackError::Unauthorized(want.clone()), "{want:?}");
        assert_eq!(e.http_status(), 403);
    };
    let a = &env.adapter;
    expect(
        a.handle_callback(
            Some(&sign(&with(claims(), "iss", json!("https://evil.example")))),
            BODY,
        )
        .await,
        CallbackAuthError::WrongIssuer,
    );
    expect(
        a.handle_callback(
            Some(&sign(&with(claims(), "aud", json!("another-bot")))),
            BODY,
        )
        .await,
        CallbackAuthError::WrongAudience,
    );
    expect(
        a.handle_callback(
            Some(&sign(&with(claims(), "exp", json!(now() - 600)))),
            BODY,
        )
        .await,
        CallbackAuthError::Expired,
    );
    expect(
        a.handle_callback(
            Some(&sign(&with(claims(), "nbf", json!(now() + 600)))),
            BODY,
        )
        .await,
        CallbackAuthError::NotYetValid,
    );
    expect(
        a.handle_callback(Some(&sign(&with(claims(), "tid", Value::Null))), BODY)
            .await,
        CallbackAuthError::MissingTenant,
    );
    // Signed by a key the JWKS does not publish, under the simulator's key id.
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("stratus-sim-1".into());
    let forged = jsonwebtoken::encode(
        &h,
        &claims(),
        &EncodingKey::from_rsa_pem(OTHER_KEY_PEM.as_bytes()).unwrap(),
    )
    .unwrap();
    expect(
        a.handle_callback(Some(&format!("Bearer {forged}")), BODY)
            .await,
        CallbackAuthError::BadSignature,
    );
    // An unknown key id.
    h.kid = Some("nobody".into());
    let unknown = jsonwebtoken::encode(
        &h,
        &claims(),
        &EncodingKey::from_rsa_pem(OTHER_KEY_PEM.as_bytes()).unwrap(),
    )
    .unwrap();
    expect(
        a.handle_callback(Some(&format!("Bearer {unknown}")), BODY)
            .await,
        CallbackAuthError::UnknownKey(Some("nobody".into())),
    );
    // HS256 with the public key as secret (algorithm confusion) is refused.
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    assert!(matches!(
        a.handle_callback(Some(&format!("Bearer {hs}")), BODY).await,
        Err(CallbackError::Unauthorized(CallbackAuthError::Malformed(_)))
    ));
    expect(
        a.handle_callback(None, BODY).await,
        CallbackAuthError::MissingToken,
    );
    assert!(
        a.handle_callback(Some("Bearer not.a.jwt"), BODY)
            .await
            .is_err()
    );

    // Keys were fetched once and cached (the unknown kid may trigger one rate-limited re-read).
    assert!(env.sim.jwks_fetches() <= 2, "{}", env.sim.jwks_fetches());

    // Over HTTP on loopback: each bad token is answered 403 and nothing reaches the core;
    // the same request with a good token is accepted.
    let bad = [
        (
            "wrong issuer",
            env.sim
                .sign(&with(claims(), "iss", json!("https://evil.example")))
                .unwrap(),
        ),
        (
            "wrong audience",
            env.sim
                .sign(&with(claims(), "aud", json!("another-bot")))
                .unwrap(),
        ),
        (
            "expired",
            env.sim
                .sign(&with(claims(), "exp", json!(now() - 600)))
                .unwrap(),
        ),
        ("bad signature", forged.clone()),
        (
            "missing tid",
            env.sim.sign(&with(claims(), "tid", Value::Null)).unwrap(),
        ),
    ];
    let http = reqwest::Client::new();
    let post = |token: String| {
        http.post(&env.webhook)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(BODY)
            .send()
    };
    for (what, token) in bad {
        let r = post(token).await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "{what}");
    }
    let unsigned = http.post(&env.webhook).body(BODY).send().await.unwrap();
    assert_eq!(unsigned.status().as_u16(), 403, "no token");
    // Nothing but the first, good callback was published.
    let mut published = 0;
    while env.events.try_recv().is_ok() {
        published += 1;
    }
    assert_eq!(published, 1);
    // The same request with a good token is accepted.
    assert_eq!(
        post(env.sim.sign(&claims()).unwrap())
            .await
            .unwrap()
            .status()
            .as_u16(),
        202
    );
    // A good token with a garbage body: acknowledged (202) and logged, never a panic.
    assert_eq!(
        a.handle_callback(Some(&sign(&claims())), b"{\"value\":[{\"changeType\":1}]}")
            .await
            .unwrap_err()
            .http_status(),
        202
    );
}

#[tokio::test]
async fn the_documented_callback_claims_are_accepted() {
    let env = env(|_| {}).await;
    // The claims Graph documents, moved to now with the same lifetime.
    let mut c: Value = serde_json::from_slice(include_bytes!(
        "../../../shared/graph-fixtures/callback-jwt-claims-example.json"
    ))
    .unwrap();
    let life = c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap();
    let n = now();
    c["iat"] = json!(n);
    c["nbf"] = json!(n);
    c["exp"] = json!(n + life);
    assert_eq!(c["aud"], BOT_APP_ID);
    let v = stratus_graph::auth::CallbackValidator::new(
        reqwest::Client::new(),
        stratus_graph::auth::CallbackAuthConfig::new(env.sim.openid_config_url(), BOT_APP_ID),
    );
    let claims = v
        .validate(Some(&format!("Bearer {}", env.sim.sign(&c).unwrap())))
        .await
        .unwrap();
    assert_eq!(claims.tenant.to_string(), TID);
    assert_eq!(claims.issuer, "https://api.botframework.com");
}

#[tokio::test]
async fn signing_keys_are_cached_and_refreshed() {
    let env = env(|_| {}).await;
    let mut cfg =
        stratus_graph::auth::CallbackAuthConfig::new(env.sim.openid_config_url(), BOT_APP_ID);
    cfg.refresh_every = Duration::from_millis(200);
    cfg.min_refetch = Duration::from_millis(100);
    let v = stratus_graph::auth::CallbackValidator::new(reqwest::Client::new(), cfg);
    let good = format!("Bearer {}", env.sim.sign(&claims()).unwrap());
    for _ in 0..5 {
        v.validate(Some(&good)).await.unwrap();
    }
    assert_eq!(env.sim.jwks_fetches(), 1, "keys are cached");
    // An unknown key id re-reads the keys, at most once per min_refetch.
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("rotated".into());
    let other = EncodingKey::from_rsa_pem(OTHER_KEY_PEM.as_bytes()).unwrap();
    let rotated = format!(
        "Bearer {}",
        jsonwebtoken::encode(&h, &claims(), &other).unwrap()
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    for _ in 0..3 {
        assert!(v.validate(Some(&rotated)).await.is_err());
    }
    assert_eq!(env.sim.jwks_fetches(), 2);
    // Stale keys are re-read.
    tokio::time::sleep(Duration::from_millis(250)).await;
    v.validate(Some(&good)).await.unwrap();
    assert_eq!(env.sim.jwks_fetches(), 3);
}

#[tokio::test]
async fn keys_read_in_the_background_leave_callbacks_nothing_to_fetch() {
    let env = env(|_| {}).await;
    let v = Arc::new(stratus_graph::auth::CallbackValidator::new(
        reqwest::Client::new(),
        stratus_graph::auth::CallbackAuthConfig::new(env.sim.openid_config_url(), BOT_APP_ID),
    ));
    let task = v.spawn_refresh();
    eventually("keys read at start", || env.sim.jwks_fetches() == 1).await;
    let good = format!("Bearer {}", env.sim.sign(&claims()).unwrap());
    v.validate(Some(&good)).await.unwrap();
    assert_eq!(env.sim.jwks_fetches(), 1, "the callback used the cache");
    task.abort();
}

#[tokio::test]
async fn tokens_are_cached_per_tenant_and_renewed_before_expiry() {
    let sim = Simulator::start({
        let mut c = SimConfig::new("http://127.0.0.1:9/none", BOT_APP_ID);
        c.token_lifetime = Duration::from_secs(2);
        c
    })
    .await
    .unwrap();
    let mut cfg = TokenConfig::new(sim.authority_url(), BOT_APP_ID);
    cfg.renew_before = Duration::from_millis(1500);
    let cache = Arc::new(TokenCache::new(reqwest::Client::new(), cfg));
    let (t1, t2) = (M365TenantId::from_u128(1), M365TenantId::from_u128(2));
    let a = cache.token(t1).await.unwrap();
    assert_eq!(cache.token(t1).await.unwrap(), a);
    assert!(a.contains(&t1.to_string()));
    let b = cache.token(t2).await.unwrap();
    assert_ne!(a, b);
    assert_eq!(sim.token_requests(), 2);
    // Concurrent users of one tenant share a single fetch.
    let mut js = Vec::new();
    for _ in 0..10 {
        let c = cache.clone();
        js.push(tokio::spawn(async move { c.token(t1).await.unwrap() }));
    }
    for j in js {
        j.await.unwrap();
    }
    assert_eq!(sim.token_requests(), 2);
    // 2 s lifetime, renewed 1.5 s before expiry: a new token after 0.5 s.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let a2 = cache.token(t1).await.unwrap();
    assert_ne!(a2, a);
    assert_eq!(sim.token_requests(), 3);
}

/// An incoming call for `tenant` (body `tenantId` = `tenant`), call id `call`.
fn incoming(call: &str, tenant: &str) -> Vec<u8> {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/graph-fixtures/notif-call-incoming-pstn-app-instance.json"
    ))
    .unwrap()
    .replace("632899f8-2ea1-4604-8413-27bd2892079f", tenant)
    .replace("491f0b00-ffff-4bc9-a43e-b226498ec22a", call)
    .into_bytes()
}

#[tokio::test]
async fn callbacks_are_bound_to_the_tenant_their_call_was_first_seen_in() {
    use stratus_graph::adapter::CallbackRoute;
    let env = env(|_| {}).await;
    const OTHER: &str = "2fdd12d0-4620-44ed-baec-459b611f84b2";
    let as_tid = format!("Bearer {}", env.sim.sign(&claims()).unwrap());
    let as_other = format!(
        "Bearer {}",
        env.sim.sign(&with(claims(), "tid", json!(OTHER))).unwrap()
    );
    let foreign = |r: Result<usize, CallbackError>| {
        let e = r.unwrap_err();
        assert!(matches!(e, CallbackError::Foreign(_)), "{e:?}");
        assert_eq!(e.http_status(), 403);
    };
    let call = "491f0b00-0000-4bc9-a43e-b226498ec22a";
    // The body names another tenant than the token: refused, not created anywhere.
    foreign(
        env.adapter
            .handle_callback(Some(&as_other), &incoming(call, TID))
            .await,
    );
    assert_eq!(env.adapter.registry().owner(call), None);
    // Seen first under TID: it belongs to TID.
    let n = env
        .adapter
        .handle_callback(Some(&as_tid), &incoming(call, TID))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let tid: M365TenantId = TID.parse().unwrap();
    assert_eq!(env.adapter.registry().owner(call), Some(tid));
    // Another tenant's token cannot hang it up, on any path.
    let hang_up = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/graph-fixtures/notif-call-terminated.json"
    ))
    .unwrap()
    .replace("57dab8b1-894c-409a-b240-bd8beae78896", call)
    .into_bytes();
    foreign(env.adapter.handle_callback(Some(&as_other), &hang_up).await);
    let path = CallbackRoute {
        tenant: Some(OTHER),
        call: Some(call),
        owner: None,
    };
    foreign(
        env.adapter
            .handle_callback_at(Some(&as_other), &hang_up, &path)
            .await,
    );
    // The right token on a path naming another tenant, or another call: refused.
    foreign(
        env.adapter
            .handle_callback_at(Some(&as_tid), &hang_up, &path)
            .await,
    );
    let other_call = CallbackRoute {
        tenant: Some(TID),
        call: Some("a-different-call"),
        owner: None,
    };
    env.adapter
        .handle_callback(Some(&as_tid), &incoming("a-different-call", TID))
        .await
        .unwrap();
    foreign(
        env.adapter
            .handle_callback_at(Some(&as_tid), &hang_up, &other_call)
            .await,
    );
    // A call the registry has not seen (restored after a restart) is checked through the
    // owner the caller knows.
    let restored = "11111111-0000-4bc9-a43e-b226498ec22a";
    let owner = |c: &str| (c == restored).then_some(tid);
    let route = CallbackRoute {
        tenant: None,
        call: None,
        owner: Some(&owner),
    };
    let hang_up_restored = String::from_utf8(hang_up.clone())
        .unwrap()
        .replace(call, restored)
        .into_bytes();
    foreign(
        env.adapter
            .handle_callback_at(Some(&as_other), &hang_up_restored, &route)
            .await,
    );
    // And the genuine one passes.
    let right = CallbackRoute {
        tenant: Some(TID),
        call: Some(call),
        owner: None,
    };
    env.adapter
        .handle_callback_at(Some(&as_tid), &hang_up, &right)
        .await
        .unwrap();
}
