//! Limits enforced as configuration: concurrent calls per service (waiting, ringing and
//! connected), one agent per Pickup offer, and the cross-modality rule.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::time::Duration;
use stratus_routing::config::*;
use stratus_routing::ids::OfferId;
use stratus_routing::model::{Activity, Availability, Modality, Presence, Priority};
use stratus_routing::offer::{LeaseTerms, OfferResult, RefuseReason, ReserveRequest, Score};
use stratus_routing::queue::QueueInput;
use stratus_routing::sim::Center;
use stratus_routing::task::Outcome;
use stratus_routing::time::Instant;
use stratus_routing::user::{UserEffect, UserInput, UserMachine};

#[test]
fn the_service_limit_counts_waiting_ringing_and_connected_calls() {
    let limits = TenantLimits {
        max_concurrent_calls_per_service: 2,
        ..TenantLimits::default()
    };
    let mut c = Center::new(TENANT, limits, Duration::ZERO);
    let mut cfg = service(1, Distribution::DirectConference, Algorithm::LongestIdle);
    cfg.queue_capacity = 2;
    c.add_service(cfg, None);
    c.add_user(user(1, &[1]), on_duty());
    c.presence(u(1), presence(Availability::Available, 1));
    for n in 1..=3 {
        c.incoming_call(t(n), s(1));
        c.platform(t(n), stratus_routing::port::CallEventKind::Established);
        if n == 1 {
            c.platform(
                t(1),
                stratus_routing::port::CallEventKind::AgentJoined { user: u(1) },
            );
        }
    }
    // t1 connected, t2 waiting: t3 is one call too many, although only one call waits.
    assert_eq!(c.queue(s(1)).unwrap().len(), 1);
    assert_eq!(c.queue(s(1)).unwrap().connected_calls(), 1);
    assert_eq!(
        c.finished(t(3)).unwrap().outcome(),
        Some(Outcome::QueueFull)
    );
    // The connected call ends: room for one more.
    c.platform(
        t(1),
        stratus_routing::port::CallEventKind::AgentLeft { user: u(1) },
    );
    assert_eq!(c.queue(s(1)).unwrap().connected_calls(), 0);
    c.incoming_call(t(4), s(1));
    c.platform(t(4), stratus_routing::port::CallEventKind::Established);
    assert!(c.finished(t(4)).is_none());
    assert!(c.violations.is_empty(), "{:?}", c.violations);
}

#[test]
fn a_pickup_never_offers_a_task_already_offered_to_another_agent() {
    let mut w = World::new();
    w.service(service(1, Distribution::Pickup, Algorithm::LongestIdle))
        .agent(user(1, &[1]))
        .agent(user(2, &[1]));
    w.call(t(1), s(1));
    w.c.queue_input(
        s(1),
        QueueInput::Pickup {
            user: u(1),
            task: Some(t(1)),
        },
    );
    assert_eq!(w.ringing(t(1)), vec!["u1".to_string()]);
    w.c.queue_input(
        s(1),
        QueueInput::Pickup {
            user: u(2),
            task: Some(t(1)),
        },
    );
    assert_eq!(w.ringing(t(1)), vec!["u1".to_string()], "no second agent");
    w.assert_clean();
}

fn request(offer: u64, modality: Modality, multitasking: bool) -> ReserveRequest {
    ReserveRequest {
        offer: OfferId(offer),
        service: s(1),
        task: t(offer as u128),
        modality,
        score: Score {
            priority: Priority::Normal,
            waiting_since: Instant::ZERO,
            task: t(offer as u128),
        },
        ring_deadline: Instant::from_secs(30),
        skills_version: 1,
        terms: LeaseTerms {
            assignment: Assignment::TeamsBased,
            busy_selectable: false,
            away_selectable: false,
            applies_rona: true,
            persistent_rona: None,
            rona_cooldown: Duration::from_secs(10),
            acw: AcwSettings::default(),
            multitasking,
        },
    }
}

fn granted(out: &[UserEffect]) -> bool {
    out.iter().any(|e| matches!(e, UserEffect::Granted { .. }))
}

#[test]
fn a_connected_call_blocks_other_modalities_unless_the_service_multitasks() {
    let mut m = UserMachine::new(Instant::ZERO, user(1, &[1]), on_duty(), Duration::ZERO);
    m.handle(
        Instant::ZERO,
        UserInput::Presence(Presence {
            availability: Availability::Available,
            activity: Activity::Available,
            sequence: 1,
        }),
    );
    let now = Instant::from_secs(1);
    assert!(granted(&m.handle(
        now,
        UserInput::Reserve(request(1, Modality::Call, false))
    )));
    m.handle(
        now,
        UserInput::OfferEnded {
            offer: OfferId(1),
            result: OfferResult::Connected,
        },
    );
    let out = m.handle(now, UserInput::Reserve(request(2, Modality::Chat, false)));
    assert!(
        out.iter().any(|e| matches!(
            e,
            UserEffect::Refused {
                reason: RefuseReason::NotSelectable(_),
                ..
            }
        )),
        "{out:?}"
    );
    assert!(granted(&m.handle(
        now,
        UserInput::Reserve(request(3, Modality::Chat, true))
    )));
    // Calls never exceed the call capacity (1 by default), multitasking or not.
    assert!(!granted(&m.handle(
        now,
        UserInput::Reserve(request(4, Modality::Call, true))
    )));
}
