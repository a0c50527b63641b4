#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The `graph-sim` binary on loopback: it prints its URLs, places the calls it was asked for
//! with signed callbacks, and plays its agents; the adapter drives the calls through it.

mod common;

use common::*;
use std::process::Stdio;
use std::time::Duration;
use stratus_routing::ids::{CallId, M365TenantId, TaskId, TenantId, UserId};
use stratus_routing::port::{CallAction, CallCommand, CallControl, CallEventKind, RingMode};
use tokio::io::{AsyncBufReadExt, BufReader};

type Lines = tokio::io::Lines<BufReader<tokio::process::ChildStdout>>;

async fn read_url(lines: &mut Lines, prefix: &str) -> String {
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("graph-sim printed nothing")
        .unwrap()
        .unwrap();
    line.strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{line:?}"))
        .trim()
        .to_owned()
}

async fn next(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<stratus_routing::port::CallEvent>,
) -> stratus_routing::port::CallEvent {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("no event within 10 s")
        .unwrap()
}

const AGENT_BASE: &str = "00000000-0000-0000-0000-00d310000000";

#[tokio::test]
async fn the_binary_places_calls_and_plays_agents() {
    let (listener, webhook) = bind_webhook().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_graph-sim"))
        .args(["--listen", "127.0.0.1:0", "--webhook", &webhook])
        .args(["--bot-app-id", BOT_APP_ID, "--seed", "5"])
        .args(["--agent-base", AGENT_BASE, "--agents", "2"])
        .args(["--answer-after-ms", "20", "--talk-ms", "150"])
        .args([
            "--app-instance",
            APP_INSTANCE,
            "--calls",
            "2",
            "--rate",
            "20",
        ])
        .args(["--patience-s", "0"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let graph = read_url(&mut lines, "graph base url:").await;
    let authority = read_url(&mut lines, "authority url:").await;
    let openid = read_url(&mut lines, "openid config:").await;
    assert!(graph.ends_with("/v1.0") && openid.starts_with(&authority));
    // The calls queue on the bound listener until the adapter serves it.
    let (adapter, mut events) = serve_adapter(
        listener,
        &webhook,
        (graph, authority, openid),
        client_config(String::new()),
    );
    let mut calls: Vec<(CallId, M365TenantId)> = Vec::new();
    while calls.len() < 2 {
        let e = next(&mut events).await;
        let CallEventKind::Incoming {
            m365_tenant,
            target,
            ..
        } = e.kind
        else {
            panic!("{e:?}")
        };
        assert_eq!(target, APP_INSTANCE);
        calls.push((e.call, m365_tenant));
    }
    let (call, t) = calls[0].clone();
    let run = |action| {
        adapter.execute(CallCommand {
            tenant: TenantId::from_u128(1),
            m365_tenant: t,
            call: call.clone(),
            task: TaskId::from_u128(1),
            action,
        })
    };
    run(CallAction::Answer { prefetch: vec![] }).await.unwrap();
    let agent: UserId = "00000000-0000-0000-0000-00d310000001".parse().unwrap();
    let mut seen = Vec::new();
    loop {
        let e = next(&mut events).await;
        if e.call != call {
            continue;
        }
        if e.kind == CallEventKind::Established {
            run(CallAction::RingAgent {
                offer: offer(1),
                user: agent,
                mode: RingMode::Invite,
            })
            .await
            .unwrap();
        }
        let left = e.kind == CallEventKind::AgentLeft { user: agent };
        seen.push(e.kind);
        if left {
            break;
        }
    }
    // The agent answered after 20 ms and hung up after 150 ms of talk.
    assert!(
        seen.contains(&CallEventKind::AgentJoined { user: agent }),
        "{seen:?}"
    );
    child.kill().await.unwrap();
}
