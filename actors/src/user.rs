//! The user actor: runs one `UserMachine`, the single writer of the user's state and the only
//! place a lease is granted. Its effects become casts to services and tasks, timers and records.

use crate::api::UserLive;
use crate::error::ActorsError;
use crate::metrics::{self, Kind};
use crate::shared::{ResolvedCommand, ServiceMsg, TaskMsg, TenantShared, UserMsg};
use crate::timers::TimerId;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::Arc;
use stratus_routing::call::CallInput;
use stratus_routing::config::{AcwSettings, UserConfig};
use stratus_routing::facts::UserStateInterval;
use stratus_routing::ids::OfferId;
use stratus_routing::offer::OfferResult;
use stratus_routing::port::Record;
use stratus_routing::queue::QueueInput;
use stratus_routing::task::OfferFailure;
use stratus_routing::time::Instant;
use stratus_routing::user::{Carried, UserEffect, UserInput, UserMachine, UserTimer};

pub(crate) struct UserActor;

pub(crate) struct UserArgs {
    pub shared: Arc<TenantShared>,
    pub config: UserConfig,
}

pub(crate) struct UserState {
    shared: Arc<TenantShared>,
    machine: UserMachine,
    /// Safety-net timers of ringing leases, cancelled once the lease is settled (it would
    /// otherwise stay in the node's heap for the whole ring timeout).
    lease_timers: Vec<(OfferId, TimerId)>,
    /// The last copy of the carried state handed to the tenant (written only when it changes).
    carried: Carried,
}

impl Actor for UserActor {
    type Msg = UserMsg;
    type State = UserState;
    type Arguments = UserArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<UserMsg>,
        args: UserArgs,
    ) -> Result<UserState, ActorProcessingErr> {
        let shared = args.shared;
        let now = shared.rt.clock.now();
        let profile = shared
            .profile(args.config.active_profile)
            .or_else(|| shared.profile(stratus_routing::config::ResponsibilityProfile::ON_DUTY))
            .ok_or("no On Duty profile")?;
        let id = args.config.id;
        let machine = UserMachine::new(now, args.config, profile, shared.rt.config.bid_window);
        let mut state = UserState {
            shared,
            machine,
            lease_timers: Vec::new(),
            carried: Carried::default(),
        };
        // Rebuilt from the live tasks (connected leases) and what Teams last said; then the
        // services learn who this user is.
        let leases = state
            .shared
            .connected
            .get(&id)
            .map(|l| l.clone())
            .unwrap_or_default();
        let mut effects = state.machine.restore_connected(now, &leases);
        if let Some(p) = state.shared.presence.get(&id).map(|p| *p) {
            effects.extend(state.machine.handle(now, UserInput::Presence(p)));
        }
        // RONA, wrap-up and the Not-Available reason survive the rebuild.
        if let Some(c) = state.shared.carried.get(&id).map(|c| c.clone()) {
            effects.extend(state.machine.restore_carried(now, &c));
            state.carried = c;
        }
        if effects.is_empty() {
            effects.push(UserEffect::Availability(state.machine.availability()));
        }
        run_effects(&myself, &mut state, now, effects);
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<UserMsg>,
        msg: UserMsg,
        state: &mut UserState,
    ) -> Result<(), ActorProcessingErr> {
        metrics::received(Kind::User);
        let started = std::time::Instant::now();
        let span =
            tracing::debug_span!("user", tenant = %state.shared.id, user = %state.machine.id());
        span.in_scope(|| on_message(&myself, msg, state));
        let carried = state.machine.carried();
        if carried != state.carried {
            state
                .shared
                .carried
                .insert(state.machine.id(), carried.clone());
            state.carried = carried;
        }
        metrics::handled(Kind::User, started.elapsed());
        Ok(())
    }
}

/// One message, inside the actor's span.
fn on_message(myself: &ActorRef<UserMsg>, msg: UserMsg, state: &mut UserState) {
    let now = state.shared.rt.clock.now();
    match msg {
        UserMsg::Input(input) => {
            let effects = state.machine.handle(now, input);
            run_effects(myself, state, now, effects);
        }
        UserMsg::Command(cmd, reply) => {
            let result = match cmd {
                ResolvedCommand::Input(input) => Ok(state.machine.handle(now, *input)),
                ResolvedCommand::EndAcw => state.machine.end_acw(now),
                ResolvedCommand::ExtendAcw => state.machine.extend_acw(now),
            };
            match result {
                Ok(effects) => {
                    run_effects(myself, state, now, effects);
                    let _ = reply.send(Ok(()));
                }
                Err(e) => {
                    let _ = reply.send(Err(ActorsError::Rejected(e.to_string())));
                }
            }
        }
        UserMsg::Live(reply) => {
            let _ = reply.send(live(state));
        }
        UserMsg::Republish => {
            let a = state.machine.availability();
            run_effects(myself, state, now, vec![UserEffect::Availability(a)]);
        }
        UserMsg::TaskGone(task) => {
            let gone: Vec<_> = state
                .machine
                .leases()
                .iter()
                .filter(|l| l.task == task)
                .map(|l| (l.offer, l.ringing))
                .collect();
            for (offer, ringing) in gone {
                if ringing {
                    crate::tenant::cancel_lost_ring(&state.shared, task, offer, state.machine.id());
                }
                let input = if ringing {
                    UserInput::OfferEnded {
                        offer,
                        result: OfferResult::Failed(OfferFailure::Withdrawn),
                    }
                } else {
                    // The task is gone: no wrap-up for it.
                    UserInput::TaskEnded {
                        offer,
                        acw: AcwSettings::default(),
                    }
                };
                let effects = state.machine.handle(now, input);
                run_effects(myself, state, now, effects);
            }
        }
        #[cfg(test)]
        #[allow(clippy::panic)]
        UserMsg::Crash => panic!("injected user actor failure"),
    }
}

fn live(state: &UserState) -> UserLive {
    let m = &state.machine;
    UserLive {
        user: m.id(),
        status: m.status(),
        presence: m.presence(),
        active_profile: m.profile().id,
        leases: m
            .leases()
            .iter()
            .map(|l| (l.task, l.service, l.ringing))
            .collect(),
        acw_until_ms: m.acw_until().map(Instant::as_millis),
        rona_until_ms: m.rona_until().map(Instant::as_millis),
    }
}

fn run_effects(
    myself: &ActorRef<UserMsg>,
    state: &mut UserState,
    now: Instant,
    effects: Vec<UserEffect>,
) {
    let shared = &state.shared;
    let user = state.machine.id();
    let mut lease_timers = Vec::new();
    for e in effects {
        match e {
            UserEffect::Granted { offer, service, .. } => {
                metrics::offer("granted");
                shared.to_service(service, ServiceMsg::Input(QueueInput::Granted { offer }));
            }
            UserEffect::Refused {
                offer,
                service,
                reason,
                version,
                ..
            } => {
                metrics::offer("refused");
                shared.to_service(
                    service,
                    ServiceMsg::Input(QueueInput::Refused {
                        offer,
                        reason,
                        version,
                    }),
                );
            }
            UserEffect::Availability(a) => {
                for ms in a.memberships.iter() {
                    shared.to_service(
                        ms.service,
                        ServiceMsg::Input(QueueInput::Availability(a.clone())),
                    );
                }
            }
            UserEffect::ArmTimer { timer, at } => {
                let id = shared
                    .rt
                    .schedule_at(at, myself, UserMsg::Input(UserInput::Timer(timer)));
                if let UserTimer::Lease { offer } = timer {
                    lease_timers.push((offer, id));
                }
            }
            UserEffect::LeaseExpired { offer, task, .. } => {
                tracing::warn!(tenant = %shared.id, %task, %user, %offer, "lease expired unreported");
                shared.to_task(task, TaskMsg::Input(CallInput::RingFailed { offer }));
            }
            UserEffect::WrapUpEnded { task } => {
                shared.to_task(task, TaskMsg::Input(CallInput::WrapUpEnded));
            }
            UserEffect::WrapUpExtended { task, until } => {
                shared.to_task(task, TaskMsg::Input(CallInput::WrapUpExtended { until }));
            }
            // An interval of no length (two changes in one millisecond) says nothing, and its
            // key (user, start) would shadow the real interval that starts at the same time.
            UserEffect::Status { from, since, .. } if since < now => {
                shared.rt.emit(Record::UserState(UserStateInterval {
                    tenant: shared.id,
                    user,
                    started_at: since,
                    ended_at: now,
                    state: from,
                }));
            }
            UserEffect::Status { .. } => {}
        }
    }
    // Safety nets of settled leases are void: cancel them now rather than at their deadline.
    state.lease_timers.extend(lease_timers);
    let (keep, gone): (Vec<_>, Vec<_>) = state.lease_timers.drain(..).partition(|(offer, _)| {
        state
            .machine
            .leases()
            .iter()
            .any(|l| l.offer == *offer && l.ringing)
    });
    state.lease_timers = keep;
    for (_, id) in gone {
        state.shared.rt.timers.cancel(id);
    }
}
