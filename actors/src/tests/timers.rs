//! The timers of the live actors: max queue time, policy-level escalation, call keep-alive; and a
//! ring command the platform refuses.

use super::harness::*;
use std::time::Duration;
use stratus_routing::config::values::{EscalateAfter, MaxQueueTime};
use stratus_routing::config::*;
use stratus_routing::ids::{PolicyId, SkillId};
use stratus_routing::port::CallEventKind;

#[tokio::test(start_paused = true)]
async fn a_call_waiting_past_its_max_queue_time_is_ended() {
    let mut svc = service(1, Distribution::DirectConference);
    svc.max_queue_time = MaxQueueTime::new(60).unwrap();
    let w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    w.wait(Duration::from_secs(59)).await;
    assert_eq!(w.commands(task), ["answer"]);
    w.wait(Duration::from_secs(1)).await;
    assert_eq!(w.commands(task), ["answer", "hangup"]);
    assert_eq!(w.events(task).last().unwrap(), "Terminated(QueueTimeout)");
    assert_eq!(w.node.stats().waiting, 0);
    w.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_long_call_gets_a_keep_alive_every_fifteen_minutes() {
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    w.online(u(1)).await;
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    w.platform("call-1", CallEventKind::AgentJoined { user: u(1) })
        .await;
    w.wait(Duration::from_secs(14 * 60 + 58)).await;
    assert_eq!(w.commands(task), ["answer", "ring u1"]);
    w.wait(Duration::from_secs(2)).await;
    assert_eq!(w.commands(task), ["answer", "ring u1", "KeepAlive"]);
    w.wait(Duration::from_secs(15 * 60)).await;
    assert_eq!(
        w.commands(task),
        ["answer", "ring u1", "KeepAlive", "KeepAlive"]
    );
    w.platform("call-1", CallEventKind::AgentLeft { user: u(1) })
        .await;
    // The ended call's timer is stopped with it: no keep-alive after the end.
    w.wait(Duration::from_secs(30 * 60)).await;
    assert_eq!(
        w.commands(task),
        ["answer", "ring u1", "KeepAlive", "KeepAlive", "hangup"]
    );
    w.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_skill_based_call_widens_to_the_next_policy_level_on_time() {
    let skill = SkillId::from_u128(0x3001);
    let policy = DistributionPolicy {
        id: PolicyId::from_u128(0x9001),
        tenant: TENANT,
        name: "experts first".into(),
        levels: vec![
            PolicyLevel {
                requirements: vec![SkillRequirement {
                    skill,
                    min_level: 3,
                }],
                escalate_after: EscalateAfter::new(10).unwrap(),
            },
            PolicyLevel {
                requirements: vec![SkillRequirement {
                    skill,
                    min_level: 1,
                }],
                escalate_after: EscalateAfter::new(0).unwrap(),
            },
        ],
    };
    let mut svc = service(1, Distribution::DirectConference);
    svc.assignment = Assignment::SkillBased;
    svc.policy = Some(policy.id);
    let mut novice = user(1, &[1]);
    novice.skills = vec![UserSkill { skill, level: 1 }];
    let mut snap = snapshot(vec![svc], vec![novice]);
    snap.policies = vec![policy];
    let mut w = World::start(snap).await;
    w.online(u(1)).await;
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    w.wait(Duration::from_secs(9)).await;
    assert_eq!(w.commands(task), ["answer"], "level 1 wants experts only");
    w.wait(Duration::from_secs(1)).await;
    assert_eq!(w.commands(task), ["answer", "ring u1"]);
    let decisions = w.node.decisions(TENANT, task).await.unwrap();
    assert_eq!(decisions.last().unwrap().task_level, Some(2));
    w.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_refused_ring_command_comes_back_as_a_ring_failure_and_the_next_user_is_rung() {
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1]), user(2, &[1])])).await;
    w.online(u(1)).await;
    w.wait(Duration::from_secs(1)).await;
    w.online(u(2)).await;
    w.calls.fail("ring_agent", 1);
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    assert_eq!(w.commands(task), ["answer", "ring u1", "ring u2"]);
    assert_eq!(
        w.events(task)[3..],
        ["Offered(u1)", "Declined(u1)", "Offered(u2)"]
    );
    // A failed ring is not the user's fault: no RONA.
    assert_eq!(w.node.stats().rona, 0);
    w.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_call_the_platform_reports_gone_ends_instead_of_ringing_agent_after_agent() {
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1]), user(2, &[1])])).await;
    w.online(u(1)).await;
    w.wait(Duration::from_secs(1)).await;
    w.online(u(2)).await;
    // The caller hung up and Graph's `terminated` was lost: the invitation finds no call.
    w.calls.gone("ring_agent", 1);
    let task = w.incoming("call-1", 1).await;
    w.platform("call-1", CallEventKind::Established).await;
    w.wait(Duration::from_millis(100)).await;
    assert!(
        w.events(task).last().unwrap().starts_with("Terminated"),
        "{:?}",
        w.events(task)
    );
    assert!(
        !w.commands(task).contains(&"ring u2".to_string()),
        "{:?}",
        w.commands(task)
    );
    w.finish().await;
}

#[tokio::test(start_paused = true)]
async fn calls_that_passed_through_leave_no_timer_behind() {
    // The default max wait is 30 min and a lease's safety net outlives its ring: both must be
    // cancelled when the call ends, or every call that passed through stays in the heap.
    let svc = service(1, Distribution::DirectConference);
    let mut w = World::start(snapshot(vec![svc], vec![user(1, &[1])])).await;
    w.online(u(1)).await;
    w.settle().await;
    let (idle, _) = w.node.timer_sizes();
    for n in 0..20 {
        let call = format!("call-{n}");
        let task = w.incoming(&call, 1).await;
        w.platform(&call, CallEventKind::Established).await;
        assert_eq!(w.commands(task), ["answer", "ring u1"]);
        w.platform(&call, CallEventKind::Terminated { code: 0 })
            .await;
    }
    w.settle().await;
    let (armed, slots) = w.node.timer_sizes();
    assert!(
        armed <= idle + 1,
        "{armed} timers armed after 20 calls (idle: {idle}, heap slots {slots})"
    );
    w.finish().await;
}
