//! Table-style routing scenarios: calls, presence and timers in; commands and task events out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use std::time::Duration;
use stratus_routing::config::values::*;
use stratus_routing::config::*;
use stratus_routing::model::{Availability, Priority};
use stratus_routing::model::{Direction, Modality};
use stratus_routing::port::{CallEventKind, LegFailure};
use stratus_routing::queue::QueueInput;
use stratus_routing::task::Task;
use stratus_routing::task::{Outcome, PreferredUser, PreferredUsers};
use stratus_routing::user::{UserInput, UserStatus};

fn dc() -> ServiceConfig {
    service(1, Distribution::DirectConference, Algorithm::LongestIdle)
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn direct_conference_rona_then_next_user_then_connected() {
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1])).agent(user(2, &[1]));
    w.call(t(1), s(1));
    w.advance(20); // ring timeout: RONA
    w.join(t(1), u(2));
    w.c.platform(t(1), CallEventKind::AgentLeft { user: u(2) });
    assert_eq!(
        w.story(t(1)),
        strs(&[
            "#Created",
            "answer",
            "#AcceptedBySystem",
            "#Queued",
            "#Offered(u1)",
            "ring u1",
            "cancel u1",
            "#Rona(u1)",
            "#Offered(u2)",
            "ring u2",
            "#Accepted(u2)",
            "#Connected(u2)",
            "#Terminated(UserAccepted)",
            "hangup",
        ])
    );
    // Non-persistent RONA: u1 shows RONA for the cool-down, then is selectable again; u2 is
    // idle after the call (no ACW).
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Rona);
    assert_eq!(w.c.user(u(2)).unwrap().status(), UserStatus::Idle);
    w.advance(10);
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Idle);
    w.assert_clean();
}

#[test]
fn direct_rings_a_leg_and_bridges_it_when_answered() {
    let mut w = World::new();
    w.service(service(1, Distribution::Direct, Algorithm::LongestIdle))
        .agent(user(1, &[1]));
    w.call(t(1), s(1));
    w.c.platform(t(1), CallEventKind::LegEstablished { user: u(1) });
    w.join(t(1), u(1));
    let story = w.story(t(1));
    assert_eq!(
        &story[4..],
        &strs(&[
            "#Offered(u1)",
            "ring u1",
            "bridge u1",
            "#Accepted(u1)",
            "#Connected(u1)"
        ])[..]
    );
    w.assert_clean();
}

#[test]
fn broadcast_rings_longest_idle_batch_first_answer_wins_no_rona() {
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
    w.join(t(1), u(2));
    w.join(t(1), u(1)); // same instant: removed again
    let story = w.story(t(1));
    assert!(story.contains(&"cancel u1".to_string()), "{story:?}");
    assert!(!story.iter().any(|s| s.starts_with("#Rona")), "{story:?}");
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Idle);
    assert_eq!(w.c.user(u(2)).unwrap().status(), UserStatus::Connected);
    assert_eq!(w.c.user(u(3)).unwrap().status(), UserStatus::Idle);

    // A broadcast nobody answers rings again without RONA flags.
    let mut w = World::new();
    w.service(service(
        1,
        Distribution::Broadcast { batch: 10 },
        Algorithm::LongestIdle,
    ));
    w.agent(user(1, &[1])).agent(user(2, &[1]));
    w.call(t(1), s(1));
    w.advance(20);
    assert!(w.c.users().all(|u| u.status() != UserStatus::Rona));
    let story = w.story(t(1));
    let rings = |who: &str| {
        story
            .iter()
            .filter(|s| *s == &format!("ring {who}"))
            .count()
    };
    assert_eq!((rings("u1"), rings("u2")), (2, 2), "{story:?}");
    assert_eq!(w.ringing(t(1)).len(), 2, "the batch rings again");
    w.assert_clean();
}

#[test]
fn broadcast_same_instant_join_is_removed() {
    let mut w = World::new();
    w.service(service(
        1,
        Distribution::Broadcast { batch: 2 },
        Algorithm::LongestIdle,
    ));
    w.agent(user(1, &[1])).agent(user(2, &[1]));
    w.call(t(1), s(1));
    w.join(t(1), u(1));
    // u2's join raced with the cancel.
    w.c.platform(t(1), CallEventKind::AgentJoined { user: u(2) });
    assert_eq!(w.c.user(u(2)).unwrap().leases().len(), 0);
    w.assert_clean();
}

#[test]
fn pickup_waits_for_the_user_to_pull() {
    let mut w = World::new();
    w.service(service(1, Distribution::Pickup, Algorithm::LongestIdle))
        .agent(user(1, &[1]));
    w.call(t(1), s(1));
    assert!(w.ringing(t(1)).is_empty());
    // Pickup goes through the same lease path.
    assert_eq!(w.c.queue(s(1)).unwrap().len(), 1);
    w.assert_clean();
}

fn first_offer_among(algorithm: Algorithm, setup: impl FnOnce(&mut World)) -> String {
    let mut w = World::new();
    let mut cfg = service(1, Distribution::DirectConference, algorithm);
    cfg.ordered_users = vec![u(3), u(1), u(2)];
    w.service(cfg);
    for n in 1..=3 {
        w.agent(user(n, &[1]));
    }
    setup(&mut w);
    w.call(t(99), s(1));
    let r = w.ringing(t(99));
    assert_eq!(r.len(), 1, "{r:?}");
    w.assert_clean();
    r[0].clone()
}

/// Gives user `n` one handled call of `talk` seconds.
fn handle_call(w: &mut World, task: u128, n: u128, talk: u64) {
    for m in 1..=3 {
        if m != n {
            w.c.user_input(u(m), UserInput::SetNotAvailable(Some(Default::default())));
        }
    }
    w.call(t(task), s(1));
    w.join(t(task), u(n));
    w.advance(talk);
    w.c.platform(t(task), CallEventKind::AgentLeft { user: u(n) });
    for m in 1..=3 {
        w.c.user_input(u(m), UserInput::SetNotAvailable(None));
    }
}

#[test]
fn every_algorithm_picks_by_its_rule() {
    assert_eq!(first_offer_among(Algorithm::LongestIdle, |_| {}), "u1");
    assert_eq!(first_offer_among(Algorithm::Ordered, |_| {}), "u3");
    // u1 handled a call: FewestTasks skips it; LongestIdle then prefers u2.
    assert_eq!(
        first_offer_among(Algorithm::FewestTasks, |w| handle_call(w, 1, 1, 5)),
        "u2"
    );
    // u2 talked 100 s, u3 10 s, u1 none: least talk time is u1.
    assert_eq!(
        first_offer_among(Algorithm::LeastTalkTime, |w| {
            handle_call(w, 1, 2, 100);
            handle_call(w, 2, 3, 10);
        }),
        "u1"
    );
    // Round robin continues after the last user offered (ordered list u3, u1, u2).
    assert_eq!(
        first_offer_among(Algorithm::RoundRobin, |w| handle_call(w, 1, 1, 5)),
        "u2"
    );
    // Random is deterministic for a seed and picks a member.
    let a = first_offer_among(Algorithm::Random, |_| {});
    let b = first_offer_among(Algorithm::Random, |_| {});
    assert_eq!(a, b);
}

#[test]
fn persistent_rona_is_set_on_decline_and_reset_by_each_trigger() {
    let mut cfg = dc();
    cfg.persistent_rona = true;
    cfg.rona_reset = RonaResetTime::new(60).unwrap();
    let setup = || {
        let mut w = World::new();
        w.service(cfg.clone()).agent(user(1, &[1]));
        w.call(t(1), s(1));
        w.c.platform(
            t(1),
            CallEventKind::AgentFailed {
                user: u(1),
                cause: LegFailure::Declined,
            },
        );
        assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Rona);
        assert!(
            w.ringing(t(1)).is_empty(),
            "a user in RONA is not rung again"
        );
        w
    };
    // (a) timer
    let mut w = setup();
    w.advance(59);
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Rona);
    w.advance(1);
    // Nobody is excluded for a task's life: the reset user gets the same task again.
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    assert_ne!(w.c.user(u(1)).unwrap().status(), UserStatus::Rona);
    // (b) the user resets it: the waiting task rings them again at once.
    let mut w = setup();
    w.c.user_input(u(1), UserInput::ResetRona);
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    // (c) going Offline
    let mut w = setup();
    w.set_presence(u(1), Availability::Offline);
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Offline);
    w.set_presence(u(1), Availability::Available);
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    // (d) switching to Off Duty
    let mut w = setup();
    w.c.platform(t(1), CallEventKind::Terminated { code: 0 });
    w.c.user_input(u(1), UserInput::SetProfile(off_duty()));
    w.c.user_input(u(1), UserInput::SetProfile(on_duty()));
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Idle);
    // A new task reaches the reset user.
    w.call(t(2), s(1));
    assert_eq!(w.ringing(t(2)), strs(&["u1"]));
    w.assert_clean();
}

#[test]
fn persistent_rona_on_no_answer_blocks_other_services_too() {
    let mut cfg = dc();
    cfg.persistent_rona = true;
    let mut w = World::new();
    w.service(cfg)
        .service(service(
            2,
            Distribution::DirectConference,
            Algorithm::LongestIdle,
        ))
        .agent(user(1, &[1, 2]));
    w.call(t(1), s(1));
    w.advance(20);
    w.call(t(2), s(2));
    assert!(w.ringing(t(2)).is_empty());
    w.assert_clean();
}

#[test]
fn acw_blocks_all_services_and_ends_by_timer_early_end_or_extension() {
    let mut cfg = dc();
    cfg.acw = AcwSettings {
        enabled: true,
        time: AcwTime::new(30).unwrap(),
        early_end_allowed: true,
        extension: Some(AcwExtension::new(60).unwrap()),
    };
    let connected = || {
        let mut w = World::new();
        w.service(cfg.clone())
            .service(service(
                2,
                Distribution::DirectConference,
                Algorithm::LongestIdle,
            ))
            .agent(user(1, &[1, 2]));
        w.call(t(1), s(1));
        w.join(t(1), u(1));
        w.c.platform(t(1), CallEventKind::AgentLeft { user: u(1) });
        assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::WrapUp);
        w
    };
    // Timer; the task is terminal only once wrap-up ends; other services wait too.
    let mut w = connected();
    w.call(t(2), s(2));
    assert!(w.ringing(t(2)).is_empty());
    w.advance(30);
    assert_eq!(
        w.c.finished(t(1)).unwrap().outcome(),
        Some(Outcome::UserAccepted)
    );
    assert_eq!(w.ringing(t(2)), strs(&["u1"]));
    // Early end.
    let mut w = connected();
    let mut m = w.c.user(u(1)).unwrap().clone();
    assert!(m.end_acw(w.now()).is_ok());
    w.c.user_input(u(1), UserInput::EndAcw);
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Idle);
    // Extension: a fresh 60 s counter from the moment of extending.
    let mut w = connected();
    w.advance(25);
    w.c.user_input(u(1), UserInput::ExtendAcw);
    w.advance(59);
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::WrapUp);
    w.advance(1);
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Idle);
    w.assert_clean();
}

#[test]
fn acw_early_end_and_extension_respect_the_service_rules() {
    let mut cfg = dc();
    cfg.acw = AcwSettings {
        enabled: true,
        time: AcwTime::new(30).unwrap(),
        early_end_allowed: false,
        extension: None,
    };
    let mut w = World::new();
    w.service(cfg).agent(user(1, &[1]));
    w.call(t(1), s(1));
    w.join(t(1), u(1));
    w.c.platform(t(1), CallEventKind::AgentLeft { user: u(1) });
    let mut m = w.c.user(u(1)).unwrap().clone();
    assert!(m.end_acw(w.now()).is_err());
    assert!(m.extend_acw(w.now()).is_err());
}

#[test]
fn priorities_order_the_queue_and_strict_goes_first() {
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.c.user_input(u(1), UserInput::SetNotAvailable(Some(Default::default())));
    let prios = [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Strict,
        Priority::Normal,
    ];
    for (i, p) in prios.iter().enumerate() {
        w.call_with(t(i as u128), s(1), *p);
        w.advance(1);
    }
    let order: Vec<_> = w.c.queue(s(1)).unwrap().waiting().collect();
    assert_eq!(order, vec![t(3), t(2), t(1), t(4), t(0)]);
    // The first free user gets the Strict task.
    w.c.user_input(u(1), UserInput::SetNotAvailable(None));
    assert_eq!(w.ringing(t(3)), strs(&["u1"]));
    w.assert_clean();
}

#[test]
fn priority_never_preempts_an_offer_already_made() {
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.call_with(t(1), s(1), Priority::Low);
    w.call_with(t(2), s(1), Priority::Strict);
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    assert!(w.ringing(t(2)).is_empty());
    w.c.platform(
        t(1),
        CallEventKind::AgentFailed {
            user: u(1),
            cause: LegFailure::Declined,
        },
    );
    assert!(w.ringing(t(2)).is_empty(), "the decline's cool-down");
    w.advance(10);
    assert_eq!(w.ringing(t(2)), strs(&["u1"]));
    w.assert_clean();
}

#[test]
fn preferred_users_first_while_selectable() {
    let prefs = || {
        PreferredUsers::new(vec![
            PreferredUser {
                user: u(2),
                priority: 5,
            },
            PreferredUser {
                user: u(3),
                priority: 1,
            },
        ])
        .unwrap()
    };
    let setup = || {
        let mut w = World::new();
        w.service(dc());
        for n in 1..=3 {
            w.agent(user(n, &[1]));
            w.c.user_input(u(n), UserInput::SetNotAvailable(Some(Default::default())));
        }
        w.call(t(1), s(1));
        w.c.queue_input(
            s(1),
            QueueInput::UpdateTask {
                task: t(1),
                priority: None,
                preferred: Some(prefs()),
            },
        );
        w
    };
    // All free: the preferred user with priority 1 (u3) rings, not the longest idle (u1).
    let mut w = World::new();
    w.service(dc());
    for n in 1..=3 {
        w.agent(user(n, &[1]));
    }
    let (mut task, _) = Task::new(
        w.now(),
        t(1),
        TENANT,
        Modality::Call,
        Direction::Inbound,
        Default::default(),
    );
    task.preferred = prefs();
    w.c.incoming(task, s(1));
    w.c.platform(t(1), CallEventKind::Established);
    assert_eq!(w.ringing(t(1)), strs(&["u3"]));
    let d =
        w.c.trace
            .iter()
            .rev()
            .find_map(|t| match t {
                stratus_routing::sim::Trace::Decision(d) => Some(d.clone()),
                _ => None,
            })
            .unwrap();
    assert!(
        matches!(d.considered[0].verdict, stratus_routing::decision::Verdict::Chosen { score, .. } if score.preferred_priority == Some(1))
    );
    // u3 not selectable: the next preferred user (u2) comes before the others.
    let mut w = setup();
    w.c.user_input(u(1), UserInput::SetNotAvailable(None));
    w.c.user_input(u(2), UserInput::SetNotAvailable(None));
    let ringing = w.ringing(t(1));
    // u1 became free first and took the task; preference applies among those free at decision time.
    assert_eq!(ringing, strs(&["u1"]));
    let mut w = setup();
    w.c.user_input(u(2), UserInput::SetNotAvailable(None));
    w.c.user_input(u(1), UserInput::SetNotAvailable(None));
    assert_eq!(w.ringing(t(1)), strs(&["u2"]));
    // The preferred user declines: the task falls back to the service's algorithm.
    w.c.platform(
        t(1),
        CallEventKind::AgentFailed {
            user: u(2),
            cause: LegFailure::Declined,
        },
    );
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    w.assert_clean();
}

fn skills_policy() -> (ServiceConfig, DistributionPolicy) {
    let mut cfg = service(1, Distribution::DirectConference, Algorithm::LongestIdle);
    cfg.assignment = Assignment::SkillBased;
    let policy = DistributionPolicy {
        id: stratus_routing::ids::PolicyId::from_u128(1),
        tenant: TENANT,
        name: "german".into(),
        levels: vec![
            PolicyLevel {
                requirements: vec![SkillRequirement {
                    skill: skill(1),
                    min_level: 3,
                }],
                escalate_after: EscalateAfter::new(30).unwrap(),
            },
            PolicyLevel {
                requirements: vec![SkillRequirement {
                    skill: skill(1),
                    min_level: 2,
                }],
                escalate_after: EscalateAfter::new(30).unwrap(),
            },
            PolicyLevel {
                requirements: vec![SkillRequirement {
                    skill: skill(1),
                    min_level: 1,
                }],
                escalate_after: EscalateAfter::new(0).unwrap(),
            },
        ],
    };
    cfg.policy = Some(policy.id);
    (cfg, policy)
}

fn skilled(n: u128, level: u8) -> UserConfig {
    let mut c = user(n, &[1]);
    c.skills = vec![UserSkill {
        skill: skill(1),
        level,
    }];
    c
}

#[test]
fn policy_levels_widen_over_time_and_the_level_is_recorded() {
    let (cfg, policy) = skills_policy();
    let mut w = World::new();
    w.skill_service(cfg, policy)
        .agent(skilled(1, 1))
        .agent(skilled(2, 2));
    w.call(t(1), s(1));
    assert!(w.ringing(t(1)).is_empty(), "level 1 needs skill level 3");
    w.advance(30);
    assert_eq!(w.ringing(t(1)), strs(&["u2"]), "level 2 admits u2");
    w.join(t(1), u(2));
    w.c.platform(t(1), CallEventKind::AgentLeft { user: u(2) });
    let decisions: Vec<_> =
        w.c.trace
            .iter()
            .filter_map(|t| match t {
                stratus_routing::sim::Trace::Decision(d) => Some(d.clone()),
                _ => None,
            })
            .collect();
    let d = decisions.last().unwrap();
    assert_eq!(d.task_level, Some(2));
    // u1 was looked at and excluded for its skill level.
    assert!(
        d.considered.iter().any(|c| c.user == u(1)
            && c.verdict
                == stratus_routing::decision::Verdict::Excluded(
                    stratus_routing::availability::Exclusion::SkillLevel
                )),
        "{d:?}"
    );
    // Off duty users are not participating.
    w.c.user_input(u(1), UserInput::SetProfile(off_duty()));
    w.advance(60);
    w.call(t(2), s(1));
    w.advance(30);
    assert_eq!(w.ringing(t(2)), strs(&["u2"]));
    w.assert_clean();
}

#[test]
fn hang_up_in_each_state_terminates_with_its_outcome() {
    // Before Accept (not yet established).
    let mut w = World::new();
    w.service(dc());
    w.c.incoming_call(t(1), s(1));
    w.c.platform(t(1), CallEventKind::Terminated { code: 0 });
    assert_eq!(
        w.c.finished(t(1)).unwrap().outcome(),
        Some(Outcome::CustomerHangupBeforeAccept)
    );
    // In IVR (welcome prompt playing).
    let mut cfg = dc();
    cfg.welcome_prompt = Some("Welcome".into());
    let mut w = World::new();
    w.service(cfg).agent(user(1, &[1]));
    w.call(t(1), s(1));
    assert_eq!(w.story(t(1)).last().unwrap(), "play");
    w.c.platform(t(1), CallEventKind::Terminated { code: 0 });
    assert_eq!(
        w.c.finished(t(1)).unwrap().outcome(),
        Some(Outcome::CustomerHangupInIvr)
    );
    // In queue, and while ringing: the ringing user is freed at once.
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.call(t(1), s(1));
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    w.c.platform(t(1), CallEventKind::Terminated { code: 0 });
    assert_eq!(
        w.c.finished(t(1)).unwrap().outcome(),
        Some(Outcome::CustomerHangupInQueue)
    );
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Idle);
    assert!(w.c.queue(s(1)).unwrap().is_empty());
    // Connected: handled by the user.
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.call(t(1), s(1));
    w.join(t(1), u(1));
    w.c.platform(t(1), CallEventKind::Terminated { code: 0 });
    assert_eq!(
        w.c.finished(t(1)).unwrap().outcome(),
        Some(Outcome::UserAccepted)
    );
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Idle);
    w.assert_clean();
}

#[test]
fn max_queue_time_times_out_but_never_cuts_a_ringing_offer() {
    let mut cfg = dc();
    cfg.max_queue_time = MaxQueueTime::new(30).unwrap();
    cfg.ring_timeout = RingTimeout::new(20).unwrap();
    let mut w = World::new();
    w.service(cfg).agent(user(1, &[1]));
    w.advance(0);
    w.c.user_input(u(1), UserInput::SetNotAvailable(Some(Default::default())));
    w.call(t(1), s(1));
    w.advance(15);
    w.c.user_input(u(1), UserInput::SetNotAvailable(None));
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    w.advance(15); // max wait reached while ringing: the ring goes on
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    w.advance(5); // RONA after the deadline: the task times out instead of re-queueing
    assert_eq!(
        w.c.finished(t(1)).unwrap().outcome(),
        Some(Outcome::QueueTimeout)
    );
    assert!(
        w.story(t(1))
            .ends_with(&strs(&["#Terminated(QueueTimeout)", "hangup"]))
    );
    w.assert_clean();
}

#[test]
fn queue_capacity_refuses_extra_tasks() {
    let mut cfg = dc();
    cfg.queue_capacity = 1;
    let mut w = World::new();
    w.service(cfg);
    w.call(t(1), s(1));
    w.call(t(2), s(1));
    assert_eq!(
        w.c.finished(t(2)).unwrap().outcome(),
        Some(Outcome::QueueFull)
    );
    assert!(w.c.call(t(1)).is_some());
}

#[test]
fn presence_rules_and_stale_updates() {
    let mut cfg = dc();
    cfg.busy_selectable = true;
    let mut w = World::new();
    w.service(cfg).agent(user(1, &[1]));
    w.set_presence(u(1), Availability::Busy);
    w.call(t(1), s(1));
    assert_eq!(
        w.ringing(t(1)),
        strs(&["u1"]),
        "busy is selectable by opt-in"
    );
    // A stale presence (lower sequence) is dropped.
    let before = w.c.user(u(1)).unwrap().presence();
    w.c.presence(u(1), presence(Availability::Offline, 1));
    assert_eq!(w.c.user(u(1)).unwrap().presence(), before);
    // Away is not selectable without its opt-in; DND never.
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1])).agent(user(2, &[1]));
    w.set_presence(u(1), Availability::Away);
    w.set_presence(u(2), Availability::DoNotDisturb);
    w.call(t(1), s(1));
    assert!(w.ringing(t(1)).is_empty());
    w.assert_clean();
}

#[test]
fn teams_based_inactive_member_is_not_offered() {
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.c.user_input(
        u(1),
        UserInput::SetActive {
            service: s(1),
            active: false,
        },
    );
    w.call(t(1), s(1));
    assert!(w.ringing(t(1)).is_empty());
    w.c.user_input(
        u(1),
        UserInput::SetActive {
            service: s(1),
            active: true,
        },
    );
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
}

#[test]
fn agent_pull_grants_the_best_task_across_services() {
    // Two services share u1; a High task in s2 waited less than a Normal task in s1.
    let mut w = World::with_bid_window(Duration::from_millis(5));
    w.service(dc())
        .service(service(
            2,
            Distribution::DirectConference,
            Algorithm::LongestIdle,
        ))
        .agent(user(1, &[1, 2]));
    w.c.user_input(u(1), UserInput::SetNotAvailable(Some(Default::default())));
    w.call(t(1), s(1));
    w.advance(10);
    w.call_with(t(2), s(2), Priority::High);
    w.c.user_input(u(1), UserInput::SetNotAvailable(None));
    w.c.advance(Duration::from_millis(5)); // the bid window closes
    assert_eq!(w.ringing(t(2)), strs(&["u1"]));
    assert!(w.ringing(t(1)).is_empty());
    // Equal priority: the longer-waiting task wins.
    let mut w = World::with_bid_window(Duration::from_millis(5));
    w.service(dc())
        .service(service(
            2,
            Distribution::DirectConference,
            Algorithm::LongestIdle,
        ))
        .agent(user(1, &[1, 2]));
    w.c.user_input(u(1), UserInput::SetNotAvailable(Some(Default::default())));
    w.call(t(2), s(2));
    w.advance(10);
    w.call(t(1), s(1));
    w.c.user_input(u(1), UserInput::SetNotAvailable(None));
    w.c.advance(Duration::from_millis(5));
    assert_eq!(w.ringing(t(2)), strs(&["u1"]));
    w.assert_clean();
}

#[test]
fn capacity_two_calls_allows_a_second_call() {
    let mut w = World::new();
    let mut c = user(1, &[1]);
    c.capacity.calls = 2;
    w.service(dc()).agent(c);
    w.call(t(1), s(1));
    w.join(t(1), u(1));
    w.call(t(2), s(1));
    assert_eq!(w.ringing(t(2)), strs(&["u1"]));
    w.join(t(2), u(1));
    w.call(t(3), s(1));
    assert!(w.ringing(t(3)).is_empty(), "capacity reached");
    w.assert_clean();
}

#[test]
fn lease_safety_net_frees_a_user_whose_call_went_silent() {
    let mut w = World::new();
    w.service(dc()).agent(user(1, &[1]));
    w.call(t(1), s(1));
    // The call flow is cancelled without telling anyone (a dead call actor): the user frees itself.
    let offer = w.c.user(u(1)).unwrap().leases()[0].offer;
    w.c.user_input(
        u(1),
        UserInput::Timer(stratus_routing::user::UserTimer::Lease { offer }),
    );
    assert_eq!(
        w.c.user(u(1)).unwrap().leases().len(),
        1,
        "not before its deadline"
    );
    w.advance(20 + 2 + 5);
    assert!(
        w.c.user(u(1))
            .unwrap()
            .leases()
            .iter()
            .all(|l| l.offer != offer)
    );
    w.assert_clean();
}

#[test]
fn a_failed_command_means_what_it_failed_at() {
    use stratus_routing::call::CallInput;
    use stratus_routing::port::{CallAction, Prompt};
    // An announcement that cannot be played is skipped: the caller is queued and rung.
    let mut cfg = dc();
    cfg.welcome_prompt = Some("Welcome".into());
    let mut w = World::new();
    w.service(cfg).agent(user(1, &[1]));
    w.call(t(1), s(1));
    assert_eq!(w.story(t(1)).last().unwrap(), "play");
    let prompt = CallAction::PlayPrompt {
        prompt: Prompt::Text("Welcome".into()),
    };
    w.c.call_input(
        t(1),
        CallInput::CommandFailed {
            action: prompt,
            gone: false,
        },
    );
    assert_eq!(w.ringing(t(1)), strs(&["u1"]));
    // The platform says the call is gone: the task ends and the ringing user is free again.
    let ring = CallAction::RingAgent {
        offer: w.c.queue(s(1)).unwrap().offers_of(t(1))[0].0,
        user: u(1),
        mode: stratus_routing::port::RingMode::Invite,
    };
    w.c.call_input(
        t(1),
        CallInput::CommandFailed {
            action: ring,
            gone: true,
        },
    );
    assert_eq!(
        w.c.finished(t(1)).unwrap().outcome(),
        Some(Outcome::CustomerHangupInQueue)
    );
    assert_eq!(w.c.user(u(1)).unwrap().status(), UserStatus::Idle);
    w.assert_clean();
}
