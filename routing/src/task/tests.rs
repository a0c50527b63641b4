use super::*;
use crate::ids::{ServiceId, TaskId, TenantId, UserId};

fn at(s: u64) -> Instant {
    Instant::from_secs(s)
}
fn svc(n: u128) -> ServiceId {
    ServiceId::from_u128(n)
}
fn user(n: u128) -> UserId {
    UserId::from_u128(n)
}
fn new_task() -> Task {
    Task::new(
        at(0),
        TaskId::from_u128(1),
        TenantId::from_u128(1),
        Modality::Call,
        Direction::Inbound,
        SystemParameters::default(),
    )
    .0
}
fn enqueue(s: u128) -> TaskInput {
    TaskInput::Enqueue {
        service: svc(s),
        max_wait: Duration::from_secs(60),
        sla: Duration::from_secs(20),
    }
}

/// Runs inputs and renders the event kinds produced, "!" for an error.
fn run(task: &mut Task, inputs: Vec<(u64, TaskInput)>) -> Vec<String> {
    let mut out = Vec::new();
    for (t, i) in inputs {
        match task.apply(at(t), i) {
            Ok(a) => out.extend(a.events.iter().map(|e| format!("{:?}", e.kind))),
            Err(e) => out.push(format!("!{:?}", e.state)),
        }
    }
    out
}

#[test]
fn events_are_numbered_per_task_and_carry_their_cause() {
    let mut t = new_task();
    let a = t.apply(at(1), TaskInput::AcceptBySystem).unwrap();
    let b = t.apply(at(2), enqueue(1)).unwrap();
    assert_eq!(a.events[0].seq, 2);
    assert_eq!(b.events[0].seq, 3);
    assert_eq!(
        (b.events[0].from, b.events[0].to),
        (TaskStateKind::InIvr, TaskStateKind::Queued)
    );
    assert_eq!(b.events[0].kind, TaskEventKind::Queued);
}

#[test]
fn full_life_with_decline_rona_hold_and_wrap_up_produces_facts() {
    let mut t = new_task();
    let o = |n| OfferId(n);
    let story = run(
        &mut t,
        vec![
            (1, TaskInput::AcceptBySystem),
            (2, enqueue(1)),
            (
                3,
                TaskInput::Offer {
                    offer: o(1),
                    user: user(1),
                    level: None,
                },
            ),
            (
                4,
                TaskInput::OfferFailed {
                    offer: o(1),
                    cause: OfferFailure::Declined,
                },
            ),
            (
                5,
                TaskInput::Offer {
                    offer: o(2),
                    user: user(2),
                    level: Some(2),
                },
            ),
            (
                25,
                TaskInput::OfferFailed {
                    offer: o(2),
                    cause: OfferFailure::NoAnswer,
                },
            ),
            (
                26,
                TaskInput::Offer {
                    offer: o(3),
                    user: user(3),
                    level: Some(1),
                },
            ),
            (27, TaskInput::Accept { offer: o(3) }),
            (27, TaskInput::Connect),
            (30, TaskInput::Hold),
            (40, TaskInput::Resume),
            (60, TaskInput::EndConversation { acw: true }),
            (80, TaskInput::EndWrapUp),
        ],
    );
    assert_eq!(
        story,
        [
            "AcceptedBySystem",
            "Queued",
            "Offered",
            "Declined",
            "Offered",
            "Rona",
            "Offered",
            "Accepted",
            "Connected",
            "Held",
            "Resumed",
            "WrapUp",
            "Terminated"
        ]
    );
    assert_eq!(t.outcome(), Some(Outcome::UserAccepted));
}

#[test]
fn service_session_fact_accumulates_times() {
    let mut t = new_task();
    t.apply(at(1), TaskInput::AcceptBySystem).unwrap();
    t.apply(at(3), enqueue(1)).unwrap();
    t.apply(
        at(13),
        TaskInput::Offer {
            offer: OfferId(1),
            user: user(1),
            level: Some(2),
        },
    )
    .unwrap();
    t.apply(at(15), TaskInput::Accept { offer: OfferId(1) })
        .unwrap();
    t.apply(at(15), TaskInput::Connect).unwrap();
    t.apply(at(75), TaskInput::EndConversation { acw: true })
        .unwrap();
    let a = t.apply(at(95), TaskInput::EndWrapUp).unwrap();
    let f = &a.service_sessions[0];
    assert_eq!(
        (f.ivr_ms, f.queue_ms, f.connected_ms, f.acw_ms),
        (2_000, 12_000, 60_000, 20_000)
    );
    assert!(f.under_sla);
    assert_eq!(f.policy_level, Some(2));
    assert_eq!(f.user, Some(user(1)));
    assert_eq!(f.outcome.id(), 5);
}

#[test]
fn caller_hang_up_in_each_state() {
    let cases: Vec<(Vec<TaskInput>, Outcome)> = vec![
        (vec![], Outcome::CustomerHangupBeforeAccept),
        (
            vec![TaskInput::AcceptBySystem],
            Outcome::CustomerHangupInIvr,
        ),
        (
            vec![TaskInput::AcceptBySystem, enqueue(1)],
            Outcome::CustomerHangupInQueue,
        ),
        (
            vec![
                TaskInput::AcceptBySystem,
                enqueue(1),
                TaskInput::Offer {
                    offer: OfferId(1),
                    user: user(1),
                    level: None,
                },
            ],
            Outcome::CustomerHangupInQueue,
        ),
        (
            vec![
                TaskInput::AcceptBySystem,
                enqueue(1),
                TaskInput::QueueTimeout { to_ivr: true },
            ],
            Outcome::CustomerHangupInIvrAfterQueue,
        ),
        (
            vec![
                TaskInput::AcceptBySystem,
                enqueue(1),
                TaskInput::Offer {
                    offer: OfferId(1),
                    user: user(1),
                    level: None,
                },
                TaskInput::Accept { offer: OfferId(1) },
            ],
            Outcome::UserAccepted,
        ),
        (
            vec![
                TaskInput::AcceptBySystem,
                enqueue(1),
                TaskInput::Offer {
                    offer: OfferId(1),
                    user: user(1),
                    level: None,
                },
                TaskInput::Accept { offer: OfferId(1) },
                TaskInput::Connect,
                TaskInput::Hold,
            ],
            Outcome::UserAccepted,
        ),
        (
            vec![
                TaskInput::AcceptBySystem,
                TaskInput::Transfer {
                    target: TransferTarget::Service(svc(2)),
                },
            ],
            Outcome::CustomerHangupInIvr,
        ),
    ];
    for (inputs, outcome) in cases {
        let mut t = new_task();
        for i in inputs.clone() {
            t.apply(at(1), i).unwrap();
        }
        let a = t.apply(at(2), TaskInput::CallerHangUp).unwrap();
        assert_eq!(t.outcome(), Some(outcome), "after {inputs:?}");
        assert_eq!(a.events.last().unwrap().kind, TaskEventKind::Terminated);
        assert!(t.state().is_terminal());
    }
    // In wrap-up the caller is gone already: nothing changes.
    let mut t = new_task();
    for i in [
        TaskInput::AcceptBySystem,
        enqueue(1),
        TaskInput::Offer {
            offer: OfferId(1),
            user: user(1),
            level: None,
        },
        TaskInput::Accept { offer: OfferId(1) },
        TaskInput::EndConversation { acw: true },
    ] {
        t.apply(at(1), i).unwrap();
    }
    assert_eq!(
        t.apply(at(2), TaskInput::CallerHangUp).unwrap(),
        Applied::default()
    );
    assert_eq!(t.state().kind(), TaskStateKind::WrapUp);
}

#[test]
fn transfer_to_another_service_restarts_the_state_and_keeps_the_task() {
    let mut t = new_task();
    t.apply(at(1), TaskInput::AcceptBySystem).unwrap();
    t.apply(at(2), enqueue(1)).unwrap();
    t.apply(
        at(3),
        TaskInput::Transfer {
            target: TransferTarget::Service(svc(2)),
        },
    )
    .unwrap();
    let a = t.apply(at(4), TaskInput::TransferSucceeded).unwrap();
    assert_eq!(t.state().kind(), TaskStateKind::Created);
    assert_eq!(t.service_chain, vec![svc(1), svc(2)]);
    assert_eq!(a.service_sessions[0].outcome, Outcome::SystemTransfer);
    assert_eq!(a.service_sessions[0].service, svc(1));
    // The new service session may queue again (one queue per service session).
    t.apply(at(5), TaskInput::AcceptBySystem).unwrap();
    t.apply(at(6), enqueue(2)).unwrap();
    assert_eq!(t.service(), Some(svc(2)));
}

#[test]
fn transfers_out_of_stratus_end_the_task_with_the_transfer_outcome() {
    for (by_user, target, outcome) in [
        (
            true,
            TransferTarget::External("+41000".into()),
            Outcome::UserExternalTransferSuccess,
        ),
        (
            true,
            TransferTarget::Service(svc(2)),
            Outcome::UserInternalTransferSuccess,
        ),
        (
            false,
            TransferTarget::External("+41000".into()),
            Outcome::SystemTransfer,
        ),
    ] {
        let mut t = new_task();
        t.apply(at(1), TaskInput::AcceptBySystem).unwrap();
        t.apply(at(2), enqueue(1)).unwrap();
        if by_user {
            t.apply(
                at(3),
                TaskInput::Offer {
                    offer: OfferId(1),
                    user: user(1),
                    level: None,
                },
            )
            .unwrap();
            t.apply(at(4), TaskInput::Accept { offer: OfferId(1) })
                .unwrap();
            t.apply(at(4), TaskInput::Connect).unwrap();
        }
        t.apply(at(5), TaskInput::Transfer { target }).unwrap();
        let a = t.apply(at(6), TaskInput::TransferSucceeded).unwrap();
        assert_eq!(a.service_sessions[0].outcome, outcome);
    }
    // A failed system transfer returns the task to the IVR.
    let mut t = new_task();
    t.apply(at(1), TaskInput::AcceptBySystem).unwrap();
    t.apply(
        at(2),
        TaskInput::Transfer {
            target: TransferTarget::External("+1".into()),
        },
    )
    .unwrap();
    t.apply(at(3), TaskInput::TransferFailed).unwrap();
    assert_eq!(t.state().kind(), TaskStateKind::InIvr);
}

#[test]
fn illegal_transitions_are_errors_and_leave_the_task_unchanged() {
    let mut t = new_task();
    let before = t.clone();
    let e = t.apply(at(1), TaskInput::Connect).unwrap_err();
    assert_eq!(e.state, TaskStateKind::Created);
    assert_eq!(t, before);
    assert!(
        t.apply(at(1), TaskInput::Accept { offer: OfferId(9) })
            .is_err()
    );
    t.apply(at(1), TaskInput::AcceptBySystem).unwrap();
    t.apply(at(2), enqueue(1)).unwrap();
    // An unknown offer, a duplicate offer to the same user, and re-queueing in the same session.
    assert!(
        t.apply(
            at(3),
            TaskInput::OfferFailed {
                offer: OfferId(9),
                cause: OfferFailure::Declined
            }
        )
        .is_err()
    );
    t.apply(
        at(3),
        TaskInput::Offer {
            offer: OfferId(1),
            user: user(1),
            level: None,
        },
    )
    .unwrap();
    assert!(
        t.apply(
            at(3),
            TaskInput::Offer {
                offer: OfferId(2),
                user: user(1),
                level: None
            }
        )
        .is_err()
    );
    t.apply(at(4), TaskInput::QueueTimeout { to_ivr: true })
        .unwrap();
    assert!(
        t.apply(at(5), enqueue(1)).is_err(),
        "one queue per service session"
    );
    t.apply(at(6), TaskInput::Cancel).unwrap();
    assert!(
        t.apply(at(7), TaskInput::CallerHangUp).is_err(),
        "terminal is final"
    );
}

#[test]
fn decline_after_max_queue_time_terminates_instead_of_requeueing() {
    let mut t = new_task();
    t.apply(at(1), TaskInput::AcceptBySystem).unwrap();
    t.apply(at(2), enqueue(1)).unwrap(); // max wait 60 s
    t.apply(
        at(50),
        TaskInput::Offer {
            offer: OfferId(1),
            user: user(1),
            level: None,
        },
    )
    .unwrap();
    let a = t
        .apply(
            at(70),
            TaskInput::OfferFailed {
                offer: OfferId(1),
                cause: OfferFailure::NoAnswer,
            },
        )
        .unwrap();
    assert_eq!(t.outcome(), Some(Outcome::QueueTimeout));
    assert_eq!(a.user_sessions[0].outcome, UserSessionOutcome::Rona);
}

#[test]
fn broadcast_winner_makes_the_others_lose_the_race() {
    let mut t = new_task();
    t.apply(at(1), TaskInput::AcceptBySystem).unwrap();
    t.apply(at(2), enqueue(1)).unwrap();
    for n in 1..=3 {
        t.apply(
            at(3),
            TaskInput::Offer {
                offer: OfferId(n),
                user: user(n as u128),
                level: None,
            },
        )
        .unwrap();
    }
    let a = t
        .apply(at(4), TaskInput::Accept { offer: OfferId(2) })
        .unwrap();
    let lost: Vec<_> = a
        .user_sessions
        .iter()
        .map(|f| (f.user, f.outcome))
        .collect();
    assert_eq!(
        lost,
        vec![
            (user(1), UserSessionOutcome::LostRace),
            (user(3), UserSessionOutcome::LostRace)
        ]
    );
}

#[test]
fn parameter_updates_are_events_in_any_live_state() {
    let mut t = new_task();
    let id = ParameterId::new("OrderNo").unwrap();
    let a = t
        .apply(
            at(1),
            TaskInput::UpdateParameter {
                id: id.clone(),
                value: ParameterValue::new("42").unwrap(),
            },
        )
        .unwrap();
    assert_eq!(a.events[0].kind, TaskEventKind::ParameterUpdated);
    assert_eq!(t.context.get(&id).unwrap().as_str(), "42");
}
