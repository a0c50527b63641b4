//! Liveness scenarios (DESIGN §3.2): no caller waits while an agent who could take the call is
//! idle, beyond a bounded, documented pause. Each test is one way a contact centre lost that.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::time::Duration;
use stratus_routing::call::CallInput;
use stratus_routing::config::*;
use stratus_routing::model::Availability;
use stratus_routing::port::{CallAction, CallEventKind, LegFailure, RingMode};
use stratus_routing::user::{UserInput, UserStatus};

fn dc() -> ServiceConfig {
    service(1, Distribution::DirectConference, Algorithm::LongestIdle)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// How many times the story of `task` rang `user`.
fn rings(w: &World, task: u128, user: &str) -> usize {
    let ring = format!("ring {user}");
    w.story(t(task)).iter().filter(|s| **s == ring).count()
}

fn fail(w: &mut World, task: u128, user: u128, cause: LegFailure) {
    w.c.platform(
        t(task),
        CallEventKind::AgentFailed {
            user: u(user),
            cause,
        },
    );
}

#[test]
fn one_agent_who_missed_a_ring_gets_the_same_call_after_the_cool_down() {
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.call(t(1), s(1));
    w.advance(20); // missed: non-persistent RONA
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Rona);
    assert!(w.ringing(t(1)).is_empty(), "no task during the cool-down");
    w.advance(9);
    assert!(w.ringing(t(1)).is_empty());
    w.advance(1); // the default cool-down is 10 s
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    assert_eq!(rings(&w, 1, "u1"), 2);
    w.join(t(1), u(1));
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Connected);
    w.assert_clean();
}

#[test]
fn broadcast_nobody_answered_rings_its_batch_again_without_rona() {
    let mut w = World::new();
    w.service(service(
        1,
        Distribution::Broadcast { batch: 10 },
        Algorithm::LongestIdle,
    ));
    w.agent(user(1, &[1])).agent(user(2, &[1]));
    w.call(t(1), s(1));
    assert_eq!(w.ringing(t(1)), strs(&["u1", "u2"]));
    w.advance(20);
    assert!(w.c.users().all(|u| u.status() != UserStatus::Rona));
    let mut again = w.ringing(t(1));
    again.sort();
    assert_eq!(again, strs(&["u1", "u2"]), "the batch rings again");
    assert_eq!(rings(&w, 1, "u1"), 2);
    assert_eq!(rings(&w, 1, "u2"), 2);
    w.assert_clean();
}

#[test]
fn broadcast_batch_takes_the_agents_this_task_rang_fewest_times_first() {
    let mut w = World::new();
    w.service(service(
        1,
        Distribution::Broadcast { batch: 2 },
        Algorithm::LongestIdle,
    ));
    for n in 1..=3 {
        w.agent(user(n, &[1]));
    }
    w.call(t(1), s(1));
    assert_eq!(w.ringing(t(1)), strs(&["u1", "u2"]));
    w.advance(20);
    // u3 was never rung: it goes first; then the longest idle of those rung once.
    let mut again = w.ringing(t(1));
    again.sort();
    assert_eq!(again, strs(&["u1", "u3"]));
    w.advance(20);
    let mut third = w.ringing(t(1));
    third.sort();
    assert_eq!(third, strs(&["u2", "u3"]), "u2 was rung once, u1 twice");
    w.assert_clean();
}

#[test]
fn the_service_that_lost_a_simultaneous_push_offers_the_agent_again() {
    // Two services push their tasks to the same idle agent in the same instant.
    let mut w = World::new();
    w.service(dc())
        .service(service(
            2,
            Distribution::DirectConference,
            Algorithm::LongestIdle,
        ))
        .agent(user(1, &[1, 2]));
    w.c.user_input(u(1), UserInput::SetNotAvailable(Some(Default::default())));
    w.call(t(1), s(1));
    w.call(t(2), s(2));
    w.c.user_input(u(1), UserInput::SetNotAvailable(None));
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    assert!(w.ringing(t(2)).is_empty());
    w.join(t(1), u(1));
    w.c.platform(t(1), CallEventKind::AgentLeft { user: u(1) });
    // No ACW: the agent is free, and the task that lost the race gets them.
    assert_eq!(w.ringing(t(2)), strs(&["u1"]));
    w.assert_clean();
}

#[test]
fn an_unreachable_agent_gets_the_cool_down_then_the_same_call() {
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.call(t(1), s(1));
    let offer = w.c.queue(s(1)).unwrap().offers_of(t(1))[0].0;
    let ring = CallAction::RingAgent {
        offer,
        user: u(1),
        mode: RingMode::Invite,
    };
    w.c.call_input(
        t(1),
        CallInput::CommandFailed {
            action: ring,
            gone: false,
        },
    );
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Rona);
    assert!(w.ringing(t(1)).is_empty());
    w.advance(10);
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    w.assert_clean();
}

#[test]
fn a_decline_without_persistent_rona_is_followed_by_the_cool_down() {
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.call(t(1), s(1));
    fail(&mut w, 1, 1, LegFailure::Declined);
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Rona);
    assert!(w.ringing(t(1)).is_empty(), "no decline → ring loop");
    w.advance(10);
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    w.assert_clean();
}

#[test]
fn busy_in_teams_is_no_rona_and_waits_for_a_presence_change_or_30_s() {
    // (a) 30 s pass.
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.call(t(1), s(1));
    fail(&mut w, 1, 1, LegFailure::Busy);
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Idle);
    assert!(w.ringing(t(1)).is_empty());
    w.advance(29);
    assert!(w.ringing(t(1)).is_empty());
    w.advance(1);
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    // Another task is not held back by this task's busy ring.
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.call(t(1), s(1));
    fail(&mut w, 1, 1, LegFailure::Busy);
    w.c.platform(t(1), CallEventKind::Terminated { code: 0 });
    w.call(t(2), s(1));
    assert_eq!(w.ringing(t(2)), strs(&["u1"]));
    // (b) the presence changes (the Busy that Teams knew arrives, then Available).
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.call(t(1), s(1));
    fail(&mut w, 1, 1, LegFailure::Busy);
    w.advance(3);
    w.set_presence(u(1), Availability::Busy);
    assert!(w.ringing(t(1)).is_empty());
    w.set_presence(u(1), Availability::Available);
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    w.assert_clean();
}

#[test]
fn a_task_prefers_agents_it_rang_fewer_times() {
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1])).agent(user(2, &[1]));
    w.call(t(1), s(1));
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    w.advance(20);
    assert_eq!(w.ringing(t(1)), strs(&["u2"]));
    w.advance(20);
    // Both rung once; u1's cool-down is over, u2's is not.
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    w.assert_clean();
    let _ = Duration::ZERO;
}
