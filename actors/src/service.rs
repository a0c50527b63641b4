//! The service actor: runs one `ServiceQueue` (waiting tasks, the members' availability view,
//! offers as leases asked of the users' own actors) and turns its effects into casts and timers.

use crate::api::{ServiceLive, WaitingTask};
use crate::metrics::{self, Kind};
use crate::shared::{ServiceMsg, TaskMsg, TenantShared, UserMsg};
use crate::timers::TimerId;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::collections::HashMap;
use std::sync::Arc;
use stratus_routing::availability::{Exclusion, Flag, UserAvailability};
use stratus_routing::call::CallInput;
use stratus_routing::config::ServiceConfig;
use stratus_routing::ids::TaskId;
use stratus_routing::model::PresenceClass;
use stratus_routing::offer::{OfferResult, RefuseReason};
use stratus_routing::queue::{QueueEffect, QueueInput, ServiceQueue};
use stratus_routing::task::OfferFailure;
use stratus_routing::time::Instant;
use stratus_routing::user::{UserInput, UserStatus};

pub(crate) struct ServiceActor;

pub(crate) struct ServiceArgs {
    pub shared: Arc<TenantShared>,
    pub config: ServiceConfig,
}

pub(crate) struct ServiceState {
    shared: Arc<TenantShared>,
    queue: ServiceQueue,
    /// Timers armed per waiting task, cancelled when it leaves (max wait is 30 min by default:
    /// left alone, every call that passed through would keep one in the node's heap).
    timers: HashMap<TaskId, Vec<TimerId>>,
}

impl Actor for ServiceActor {
    type Msg = ServiceMsg;
    type State = ServiceState;
    type Arguments = ServiceArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<ServiceMsg>,
        args: ServiceArgs,
    ) -> Result<ServiceState, ActorProcessingErr> {
        let shared = args.shared;
        let now = shared.rt.clock.now();
        let policy = shared.policy(args.config.policy);
        // Offer ids stay unique across restarts: the clock in the high bits, a counter below.
        let seed = now.as_millis() << 20;
        let queue = ServiceQueue::new(args.config, policy, shared.limits(), seed);
        Ok(ServiceState {
            shared,
            queue,
            timers: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<ServiceMsg>,
        msg: ServiceMsg,
        state: &mut ServiceState,
    ) -> Result<(), ActorProcessingErr> {
        metrics::received(Kind::Service);
        let started = std::time::Instant::now();
        let span =
            tracing::debug_span!("service", tenant = %state.shared.id, service = %state.queue.id());
        span.in_scope(|| on_message(&myself, msg, state));
        metrics::handled(Kind::Service, started.elapsed());
        Ok(())
    }
}

/// One message, inside the actor's span.
fn on_message(myself: &ActorRef<ServiceMsg>, msg: ServiceMsg, state: &mut ServiceState) {
    let now = state.shared.rt.clock.now();
    match msg {
        ServiceMsg::Input(input) => {
            let effects = state.queue.handle(now, input);
            run_effects(myself, state, now, effects);
        }
        ServiceMsg::MemberLost(user) => {
            let offered: Vec<_> = state
                .queue
                .waiting()
                .flat_map(|t| state.queue.offers_of(t).into_iter().map(move |o| (t, o)))
                .filter(|(_, (_, u))| *u == user)
                .collect();
            // An offer this queue already passed to a task (after the user granted it, just
            // before dying) may still be on its way: telling the task after it, from this same
            // mailbox order, withdraws that ring too.
            for (task, _) in &offered {
                state.shared.to_task(*task, TaskMsg::UserLost(user));
            }
            let offers: Vec<_> = offered.into_iter().map(|(_, (o, _))| o).collect();
            let mut effects = state.queue.handle(now, QueueInput::MemberRemoved { user });
            for offer in offers {
                let reason = RefuseReason::NotSelectable(Exclusion::Presence(PresenceClass::Never));
                effects.extend(state.queue.handle(
                    now,
                    QueueInput::Refused {
                        offer,
                        reason,
                        version: 0,
                    },
                ));
            }
            run_effects(myself, state, now, effects);
        }
        ServiceMsg::Live(reply) => {
            let _ = reply.send(live(&state.queue, now));
        }
        #[cfg(test)]
        #[allow(clippy::panic)]
        ServiceMsg::Crash => panic!("injected service actor failure"),
    }
}

fn live(q: &ServiceQueue, now: Instant) -> ServiceLive {
    let waiting: Vec<WaitingTask> = q
        .waiting()
        .filter_map(|task| {
            let v = q.task_view(task)?;
            Some(WaitingTask {
                task,
                priority: v.priority,
                waiting_ms: now.since(v.enqueued_at).as_millis() as u64,
                level: v.level,
                offers: v.offers as u32,
            })
        })
        .collect();
    let longest_wait_ms = waiting.iter().map(|w| w.waiting_ms).max().unwrap_or(0);
    let mut by_status: HashMap<UserStatus, u32> = HashMap::new();
    for a in q.member_views() {
        *by_status.entry(status_of(a)).or_default() += 1;
    }
    let mut users_by_status: Vec<(UserStatus, u32)> = by_status.into_iter().collect();
    users_by_status.sort_by_key(|(s, _)| format!("{s:?}"));
    ServiceLive {
        service: q.id(),
        waiting,
        longest_wait_ms,
        users_by_status,
        selectable: q.selectable_members() as u32,
    }
}

/// The user's status as the queue's view shows it (same precedence as the user machine's).
fn status_of(a: &UserAvailability) -> UserStatus {
    if a.offline {
        UserStatus::Offline
    } else if a.flags.has(Flag::Ringing) {
        UserStatus::Ringing
    } else if a.flags.has(Flag::Connected) {
        UserStatus::Connected
    } else if a.flags.has(Flag::WrapUp) {
        UserStatus::WrapUp
    } else if a.flags.has(Flag::Rona) {
        UserStatus::Rona
    } else if a.flags.has(Flag::NotAvailableReason) {
        UserStatus::NotAvailableReason
    } else if a.presence == PresenceClass::Never {
        UserStatus::NotAvailable
    } else {
        UserStatus::Idle
    }
}

fn run_effects(
    myself: &ActorRef<ServiceMsg>,
    state: &mut ServiceState,
    now: Instant,
    effects: Vec<QueueEffect>,
) {
    let shared = state.shared.clone();
    let mut follow_up: Vec<QueueInput> = Vec::new();
    for e in effects {
        match e {
            QueueEffect::Reserve { user, request } => {
                if !shared.to_user(user, UserMsg::Input(UserInput::Reserve(request))) {
                    // The user's actor is gone (restarting): forget the member until it publishes
                    // again, and settle the request as refused.
                    follow_up.push(QueueInput::MemberRemoved { user });
                    follow_up.push(QueueInput::Refused {
                        offer: request.offer,
                        reason: RefuseReason::NotSelectable(Exclusion::Presence(
                            PresenceClass::Never,
                        )),
                        version: 0,
                    });
                }
            }
            QueueEffect::Offer {
                task,
                offer,
                user,
                level,
                ring_timeout,
                distribution,
            } => {
                let sent = shared.to_task(
                    task,
                    TaskMsg::Input(CallInput::Offer {
                        offer,
                        user,
                        level,
                        ring_timeout,
                        distribution,
                    }),
                );
                if !sent {
                    // The task is gone: the lease is void.
                    let result = OfferResult::Failed(OfferFailure::Withdrawn);
                    shared.to_user(
                        user,
                        UserMsg::Input(UserInput::OfferEnded { offer, result }),
                    );
                    follow_up.push(QueueInput::OfferEnded { offer, result });
                }
            }
            QueueEffect::Release {
                user, offer, cause, ..
            } => {
                shared.to_user(user, UserMsg::Input(UserInput::Release { offer, cause }));
            }
            QueueEffect::ArmTimer { timer, at } => {
                let id =
                    shared
                        .rt
                        .schedule_at(at, myself, ServiceMsg::Input(QueueInput::Timer(timer)));
                state.timers.entry(timer.task()).or_default().push(id);
            }
            QueueEffect::TaskGone { task } => {
                for id in state.timers.remove(&task).unwrap_or_default() {
                    shared.rt.timers.cancel(id);
                }
            }
            QueueEffect::TimedOut { task } => {
                shared.to_task(task, TaskMsg::Input(CallInput::QueueTimedOut));
            }
            QueueEffect::Refused { task, reason } => {
                shared.to_task(task, TaskMsg::Input(CallInput::QueueRefused(reason)));
            }
            QueueEffect::Decision(d) => shared.record_decision(*d),
        }
    }
    for input in follow_up {
        let effects = state.queue.handle(now, input);
        run_effects(myself, state, now, effects);
    }
}
