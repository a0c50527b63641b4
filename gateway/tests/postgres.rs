#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The server on PostgreSQL (`database.url = postgres://…`): configuration through the API, a
//! call routed and its session stored. Runs against the throwaway server `scripts/test.sh` starts.

mod common;

use common::*;
use sqlx::Connection;
use std::time::Duration;
use stratus_graph::sim::{AgentBehaviour, CallerSpec};
use stratus_routing::model::{Activity, Availability};
use stratus_routing::task::Outcome;

fn pg_url() -> Option<String> {
    match std::env::var("STRATUS_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but STRATUS_TEST_PG_URL is unset: run the tests through scripts/test.sh"
            );
            eprintln!(
                "NOTICE: STRATUS_TEST_PG_URL is unset; the PostgreSQL server test is skipped"
            );
            None
        }
    }
}

/// A fresh database on the test server; its URL.
async fn fresh_database(url: &str) -> String {
    let name = format!("stratus_gw_{:016x}", rand::random::<u64>());
    let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.ok();
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_routed_and_recorded_on_postgresql() {
    let Some(url) = pg_url() else { return };
    let db = fresh_database(&url).await;
    let env = start_with(|c| c.database.url = db).await;
    let a = env.tenant(1, 1).await;
    let sim = env.server.simulator.clone().unwrap();
    sim.set_agent_behaviour(
        a.users[0],
        AgentBehaviour::Answer {
            after: Duration::from_millis(100),
            talk: Some(Duration::from_millis(300)),
        },
    );
    sim.set_presence(a.users[0], Availability::Available, Activity::Available)
        .await;
    let live = format!("/api/v1/users/{}/live", a.users[0]);
    eventually("the agent idle", Duration::from_secs(10), || async {
        let (_, b) = env.get(&live, &a.admin).await;
        (b["status"] == "Idle").then_some(())
    })
    .await;

    let svc = env
        .get(&format!("/api/v1/services/{}", a.service), &a.admin)
        .await
        .1;
    let mut spec = CallerSpec::phone("+41440000001", svc["app_instance_id"].as_str().unwrap());
    spec.tenant = Some(a.m365);
    sim.place_call(spec).await.unwrap();

    let sessions = stored_sessions(&env, a.tenant, Duration::from_secs(30)).await;
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].outcome, Outcome::UserAccepted);
    assert_eq!(sessions[0].user, Some(a.users[0]));
    let events = env
        .server
        .state
        .store
        .task_events(a.tenant, sessions[0].task)
        .await
        .unwrap();
    assert!(events.len() >= 5, "{events:?}");
    env.server.shutdown().await;
}
