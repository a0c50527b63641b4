//! 1,000 concurrent calls against 200 users across 5 services, with phones that answer, miss and
//! hang up: every task must end, and no user may ever hold two tasks.

use super::harness::*;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use stratus_routing::config::Distribution;
use stratus_routing::ids::{TaskId, UserId};
use stratus_routing::port::{CallAction, CallEventKind, Record};
use stratus_routing::task::TaskEventKind;

#[tokio::test(start_paused = true)]
async fn a_thousand_calls_two_hundred_users_five_services_all_end_with_no_invariant_broken() {
    let services: Vec<_> = (1..=5)
        .map(|n| service(n, Distribution::DirectConference))
        .collect();
    // Users 1..=200: each in its "home" service, every fourth also in the next one.
    let users: Vec<_> = (1..=200u128)
        .map(|n| {
            let home = n % 5 + 1;
            if n % 4 == 0 {
                user(n, &[home, home % 5 + 1])
            } else {
                user(n, &[home])
            }
        })
        .collect();
    let mut w = World::start(snapshot(services, users)).await;
    for n in 1..=200 {
        w.online(u(n)).await;
    }

    let mut calls: Vec<(String, TaskId)> = Vec::new();
    for i in 0..1000u128 {
        let call = format!("call-{i}");
        let svc = i % 5 + 1;
        w.node
            .call_event(stratus_routing::port::CallEvent {
                call: stratus_routing::ids::CallId::new(&call),
                kind: CallEventKind::Incoming {
                    m365_tenant: M365,
                    target: app(svc),
                    caller: Default::default(),
                    call_chain_id: None,
                },
            })
            .unwrap();
        calls.push((call, TaskId::default()));
    }
    w.settle().await;
    for (call, _) in &calls {
        w.platform(call, CallEventKind::Established).await;
    }
    let by_call: HashMap<String, TaskId> = w
        .calls
        .commands()
        .iter()
        .map(|c| (c.call.to_string(), c.task))
        .collect();
    assert_eq!(by_call.len(), 1000);

    // The phones: every 7th ring is missed (RONA), the rest answer at once and talk for 30 s;
    // every 50th caller hangs up while waiting.
    let mut seen = 0usize;
    let mut talking: Vec<(String, UserId, u32)> = Vec::new();
    let mut rings = 0u64;
    for (i, (call, _)) in calls.iter().enumerate() {
        if i % 50 == 49 {
            let _ = w.node.call_event(stratus_routing::port::CallEvent {
                call: stratus_routing::ids::CallId::new(call),
                kind: CallEventKind::Terminated { code: 0 },
            });
        }
    }
    for tick in 0..4_000u32 {
        let commands = w.calls.commands();
        for c in &commands[seen..] {
            if let CallAction::RingAgent { user, .. } = c.action {
                rings += 1;
                if !rings.is_multiple_of(7) {
                    let _ = w.node.call_event(stratus_routing::port::CallEvent {
                        call: c.call.clone(),
                        kind: CallEventKind::AgentJoined { user },
                    });
                    talking.push((c.call.to_string(), user, tick + 30));
                }
            }
        }
        seen = commands.len();
        talking.retain(|(call, user, until)| {
            if *until > tick {
                return true;
            }
            let _ = w.node.call_event(stratus_routing::port::CallEvent {
                call: stratus_routing::ids::CallId::new(call),
                kind: CallEventKind::AgentLeft { user: *user },
            });
            false
        });
        w.wait(Duration::from_secs(1)).await;
        if w.node.stats().waiting + w.node.stats().ringing + w.node.stats().connected == 0
            && talking.is_empty()
        {
            break;
        }
    }

    // Every task reached a terminal state.
    let records = w.sink.records();
    let terminated: HashSet<TaskId> = records
        .iter()
        .filter_map(|r| match r {
            Record::TaskEvent(e) if e.kind == TaskEventKind::Terminated => Some(e.task),
            _ => None,
        })
        .collect();
    for task in by_call.values() {
        assert!(terminated.contains(task), "task {task} never ended");
    }
    // No user ever held two tasks: replay the events in emission order.
    let mut holding: HashMap<UserId, TaskId> = HashMap::new();
    for r in &records {
        let Record::TaskEvent(e) = r else { continue };
        match (e.kind, e.user) {
            (TaskEventKind::Offered, Some(user)) => {
                if let Some(other) = holding.insert(user, e.task) {
                    panic!("{user} offered {} while holding {other}", e.task);
                }
            }
            (TaskEventKind::Rona | TaskEventKind::Declined, Some(user)) => {
                holding.remove(&user);
            }
            (TaskEventKind::Terminated, _) => holding.retain(|_, t| *t != e.task),
            _ => {}
        }
    }
    let stats = w.node.stats();
    assert_eq!(
        (stats.waiting, stats.ringing, stats.connected, stats.wrap_up),
        (0, 0, 0, 0)
    );
    assert_eq!(stats.handled + stats.abandoned, 1000);
    assert!(stats.rona > 0);
    assert!(w.store.live_tasks(TENANT).is_empty());
    w.finish().await;
}
