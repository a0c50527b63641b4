//! Every non-terminal state has a deadline; waiting tasks follow configuration changes; the ring
//! timer runs from the platform's acknowledgement; an answered leg is never cut by it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use stratus_routing::call::{CallEffect, CallFlow, CallInput, CallTimer};
use stratus_routing::config::values::*;
use stratus_routing::config::*;
use stratus_routing::ids::OfferId;
use stratus_routing::model::{Direction, Modality};
use stratus_routing::port::CallEventKind;
use stratus_routing::task::{Outcome, SystemParameters, Task, TaskStateKind};
use stratus_routing::time::Instant;
use stratus_routing::user::{UserInput, UserStatus};

fn dc() -> ServiceConfig {
    service(1, Distribution::DirectConference, Algorithm::LongestIdle)
}

fn with_acw(mut c: ServiceConfig, secs: u32) -> ServiceConfig {
    c.acw = AcwSettings {
        enabled: true,
        time: AcwTime::new(secs).unwrap(),
        early_end_allowed: true,
        extension: Some(AcwExtension::new(30).unwrap()),
    };
    c
}

#[test]
fn acw_turned_off_after_the_task_was_queued_ends_the_task_with_the_conversation() {
    let mut w = World::new();
    w.service(with_acw(dc(), 10)).agent(user(1, &[1]));
    w.c.user_input(u(1), UserInput::SetNotAvailable(Some(Default::default())));
    w.call(t(1), s(1));
    let mut cfg = with_acw(dc(), 10);
    cfg.acw.enabled = false;
    w.c.reconfigure(cfg, None);
    w.c.user_input(u(1), UserInput::SetNotAvailable(None));
    w.join(t(1), u(1));
    w.c.platform(t(1), CallEventKind::AgentLeft { user: u(1) });
    assert_eq!(
        w.c.finished(t(1)).map(|t| t.state().kind()),
        Some(TaskStateKind::Terminated),
        "no wrap-up: the task ends with the conversation"
    );
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Idle);
    w.assert_clean();
}

#[test]
fn acw_turned_on_after_the_task_was_queued_applies_to_task_and_user_alike() {
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.call(t(1), s(1));
    w.c.reconfigure(with_acw(dc(), 10), None);
    w.join(t(1), u(1));
    w.c.platform(t(1), CallEventKind::AgentLeft { user: u(1) });
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::WrapUp);
    assert!(w.c.finished(t(1)).is_none(), "the task wraps up too");
    w.advance(10);
    assert!(w.c.finished(t(1)).is_some());
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Idle);
    w.assert_clean();
}

#[test]
fn an_extended_wrap_up_moves_the_task_deadline() {
    let mut w = World::new();
    w.service(with_acw(dc(), 10)).agent(user(1, &[1]));
    w.call(t(1), s(1));
    w.join(t(1), u(1));
    w.c.platform(t(1), CallEventKind::AgentLeft { user: u(1) });
    w.advance(8);
    w.c.user_input(u(1), UserInput::ExtendAcw); // a fresh 30 s counter
    w.advance(20);
    assert!(
        w.c.finished(t(1)).is_none(),
        "the task's own deadline moved"
    );
    w.advance(10);
    assert!(w.c.finished(t(1)).is_some());
    w.assert_clean();
}

/// A call flow driven alone: nobody ever reports the end of the user's wrap-up (the user was
/// removed, or its actor rebuilt without it).
#[test]
fn wrap_up_ends_by_its_deadline_when_the_user_never_reports() {
    let cfg = with_acw(dc(), 10);
    let system = SystemParameters {
        service: Some(cfg.id),
        ..SystemParameters::default()
    };
    let now = Instant::from_secs(100);
    let (task, _) = Task::new(
        now,
        t(1),
        TENANT,
        Modality::Call,
        Direction::Inbound,
        system,
    );
    let mut f = CallFlow::new(task, cfg);
    let offer = OfferId(7);
    for input in [
        CallInput::Start,
        CallInput::Platform(CallEventKind::Established),
        CallInput::Offer {
            offer,
            user: u(1),
            level: None,
            ring_timeout: std::time::Duration::from_secs(20),
            distribution: Distribution::DirectConference,
        },
        CallInput::RingAcknowledged { offer },
        CallInput::Platform(CallEventKind::AgentJoined { user: u(1) }),
    ] {
        f.handle(now, input).unwrap();
    }
    let out = f
        .handle(
            now,
            CallInput::Platform(CallEventKind::AgentLeft { user: u(1) }),
        )
        .unwrap();
    let deadline = out
        .iter()
        .find_map(|e| match e {
            CallEffect::ArmTimer {
                timer: CallTimer::WrapUp,
                at,
            } => Some(*at),
            _ => None,
        })
        .expect("wrap-up has a deadline");
    assert_eq!(deadline, Instant::from_secs(115), "ACW 10 s + 5 s grace");
    assert_eq!(f.task().state().kind(), TaskStateKind::WrapUp);
    f.handle(deadline, CallInput::Timer(CallTimer::WrapUp))
        .unwrap();
    assert_eq!(f.task().state().kind(), TaskStateKind::Terminated);
}

#[test]
fn the_ring_timer_starts_when_the_platform_acknowledges_the_ring() {
    let mut w = World::new();
    w.c.ack_rings = false;
    w.service(dc()).agent(user(1, &[1]));
    w.call(t(1), s(1));
    let offer = w.c.queue(s(1)).unwrap().offers_of(t(1))[0].0;
    w.advance(5); // the invitation is held back (throttled)
    w.c.call_input(t(1), CallInput::RingAcknowledged { offer });
    w.advance(19);
    assert_eq!(w.ringing(t(1)), vec!["u1".to_string()], "20 s from the ack");
    w.advance(1);
    assert!(w.ringing(t(1)).is_empty());
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Rona);
    w.assert_clean();
}

#[test]
fn an_answered_direct_leg_is_never_cut_by_the_ring_timer() {
    let mut w = World::new();
    w.service(service(1, Distribution::Direct, Algorithm::LongestIdle))
        .agent(user(1, &[1]));
    w.call(t(1), s(1));
    w.advance(19);
    w.c.platform(t(1), CallEventKind::LegEstablished { user: u(1) });
    w.advance(3); // the bridge is in flight past the ring timeout
    assert!(
        !w.story(t(1)).contains(&"cancel u1".to_string()),
        "{:?}",
        w.story(t(1))
    );
    w.join(t(1), u(1));
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Connected);
    w.assert_clean();
}

#[test]
fn a_waiting_task_follows_a_shorter_maximum_wait_at_once() {
    let mut w = World::new();
    w.service(dc());
    w.call(t(1), s(1));
    w.advance(40);
    let mut cfg = dc();
    cfg.max_queue_time = MaxQueueTime::new(30).unwrap();
    w.c.reconfigure(cfg, None);
    assert_eq!(
        w.c.finished(t(1)).and_then(|t| t.outcome()),
        Some(Outcome::QueueTimeout)
    );
    w.assert_clean();
}
