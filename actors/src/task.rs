//! The task actor: one live task (a call, or an external task without a call). It runs the task's
//! flow machine and carries out its effects: call-control commands (sent in order by a per-call
//! drainer, never awaited in the handler), casts to the queue and users, timers, records.

use crate::api::TaskLive;
use crate::error::ActorsError;
use crate::flow::Flow;
use crate::metrics::{self, Kind};
use crate::shared::{ServiceMsg, TaskMsg, TenantShared, UserMsg, tell};
use crate::timers::TimerId;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use stratus_routing::call::{CallEffect, CallInput};
use stratus_routing::ids::{CallId, OfferId, ServiceId, TaskId, UserId};
use stratus_routing::offer::{Lease, LeaseTerms, OfferResult};
use stratus_routing::port::{CallAction, CallCommand, LiveTaskSnapshot, Record};
use stratus_routing::queue::{EnqueueTask, QueueInput};
use stratus_routing::task::{
    Applied, DataUpdate, OfferFailure, Task, TaskEventKind, TaskState, TaskStateKind,
};
use stratus_routing::time::Instant;
use stratus_routing::user::UserInput;

pub(crate) struct TaskActor;

/// How the task starts.
pub(crate) enum Start {
    /// A new call: answer it.
    NewCall,
    /// A waiting task restored after a restart: back into its queue, keeping its queue time;
    /// the flow's first effects (timers) run at start.
    Restored(Vec<CallEffect>),
}

pub(crate) struct TaskArgs {
    pub shared: Arc<TenantShared>,
    pub flow: Flow,
    pub call: Option<CallId>,
    pub start: Start,
}

pub(crate) struct TaskActorState {
    shared: Arc<TenantShared>,
    flow: Flow,
    call: Option<CallId>,
    /// Commands of this call, executed in order by one drainer at a time.
    commands: Option<Arc<Mutex<CommandQueue>>>,
    timers: Vec<TimerId>,
    /// The connected lease of this task, while it lasts.
    connected: Option<(OfferId, UserId)>,
    /// The state kind of the last snapshot sent.
    snapshot_kind: Option<TaskStateKind>,
}

impl TaskActorState {
    fn task_id(&self) -> TaskId {
        self.flow.task().id
    }
    fn service(&self) -> ServiceId {
        self.flow.service().id
    }
}

impl Actor for TaskActor {
    type Msg = TaskMsg;
    type State = TaskActorState;
    type Arguments = TaskArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<TaskMsg>,
        args: TaskArgs,
    ) -> Result<TaskActorState, ActorProcessingErr> {
        let mut state = TaskActorState {
            shared: args.shared,
            flow: args.flow,
            call: args.call,
            commands: None,
            timers: Vec::new(),
            snapshot_kind: None,
            connected: None,
        };
        // The first message (start or requeue) was sent by the spawner, ahead of any other.
        if let Start::Restored(effects) = args.start {
            let now = state.shared.rt.clock.now();
            run_effects(&myself, &mut state, now, effects);
        }
        Ok(state)
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<TaskMsg>,
        state: &mut TaskActorState,
    ) -> Result<(), ActorProcessingErr> {
        for t in state.timers.drain(..) {
            state.shared.rt.timers.cancel(t);
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<TaskMsg>,
        msg: TaskMsg,
        state: &mut TaskActorState,
    ) -> Result<(), ActorProcessingErr> {
        metrics::received(Kind::Task);
        let started = std::time::Instant::now();
        let span = tracing::info_span!("task", tenant = %state.shared.id, task = %state.task_id());
        span.in_scope(|| on_message(&myself, msg, state));
        metrics::handled(Kind::Task, started.elapsed());
        Ok(())
    }
}

/// One message, inside the actor's span.
fn on_message(myself: &ActorRef<TaskMsg>, msg: TaskMsg, state: &mut TaskActorState) {
    let now = state.shared.rt.clock.now();
    match msg {
        TaskMsg::Input(input) => step(myself, state, now, input),
        TaskMsg::Platform(kind) => step(myself, state, now, CallInput::Platform(kind)),
        TaskMsg::Action {
            user,
            action,
            reply,
        } => match state.flow.action(now, user, action) {
            Ok(effects) => {
                run_effects(myself, state, now, effects);
                let _ = reply.send(Ok(()));
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        },
        TaskMsg::Update(update, reply) => {
            let _ = reply.send(update_task(myself, state, now, *update));
        }
        TaskMsg::Cancel(reply) => {
            step(myself, state, now, CallInput::Cancel);
            let _ = reply.send(Ok(()));
        }
        TaskMsg::Live(reply) => {
            let _ = reply.send(TaskLive {
                task: state.flow.task().clone(),
                service: state.flow.task().service(),
                ringing: state.flow.offers().into_iter().map(|(_, u)| u).collect(),
            });
        }
        TaskMsg::ServiceRemoved(service) => {
            if service == state.service() {
                step(myself, state, now, CallInput::QueueTimedOut);
            }
        }
        TaskMsg::Requeue(service) => {
            if service == state.service() {
                // The rebuilt queue knows nothing of rings in progress: withdraw them, or the
                // queue would ring a second agent for the same call.
                withdraw(myself, state, now, |_| true);
                requeue(state, now);
            }
        }
        TaskMsg::UserLost(user) => {
            // A wrap-up survives the user's rebuild (carried state) and ends by its own
            // deadline if nobody reports it; rings to the lost user are withdrawn.
            withdraw(myself, state, now, |u| u == user);
        }
        #[cfg(test)]
        #[allow(clippy::panic)]
        TaskMsg::Crash => panic!("injected task actor failure"),
    }
}

/// Applies a data update; a waiting task's queue hears of a new priority or preferred users.
fn update_task(
    myself: &ActorRef<TaskMsg>,
    state: &mut TaskActorState,
    now: Instant,
    update: crate::api::TaskUpdate,
) -> Result<(), ActorsError> {
    let requeue =
        (update.priority.is_some() || update.preferred.is_some()).then(|| QueueInput::UpdateTask {
            task: state.task_id(),
            priority: update.priority,
            preferred: update.preferred.clone(),
        });
    let data = DataUpdate {
        context: update.context,
        customer: update.customer,
        preferred: update.preferred,
        priority: update.priority,
    };
    let effects = state.flow.update(now, data)?;
    run_effects(myself, state, now, effects);
    store_snapshot(state);
    let waiting = matches!(
        state.flow.task().state(),
        TaskState::Queued { .. } | TaskState::Offered { .. }
    );
    if let (true, Some(input)) = (waiting, requeue) {
        state
            .shared
            .to_service(state.service(), ServiceMsg::Input(input));
    }
    Ok(())
}

/// A waiting task enters its service's queue again, with its original queue time.
/// Withdraws the rings to the users `which` selects: the invitation is cancelled on the
/// platform and the offer fails without RONA.
fn withdraw(
    myself: &ActorRef<TaskMsg>,
    state: &mut TaskActorState,
    now: Instant,
    which: impl Fn(UserId) -> bool,
) {
    let rings: Vec<_> = state
        .flow
        .offers()
        .into_iter()
        .filter(|(_, u)| which(*u))
        .collect();
    for (offer, _) in rings {
        step(myself, state, now, CallInput::WithdrawRing { offer });
    }
}

fn requeue(state: &mut TaskActorState, now: Instant) {
    let task = state.flow.task();
    if !matches!(
        task.state(),
        TaskState::Queued { .. } | TaskState::Offered { .. }
    ) {
        return;
    }
    let e = EnqueueTask {
        task: task.id,
        modality: task.modality,
        priority: task.priority,
        preferred: task.preferred.clone(),
        enqueued_at: task.queued_at().unwrap_or(now),
    };
    state
        .shared
        .to_service(state.service(), ServiceMsg::Input(QueueInput::Enqueue(e)));
}

fn step(myself: &ActorRef<TaskMsg>, state: &mut TaskActorState, now: Instant, input: CallInput) {
    let (effects, refused) = state.flow.handle(now, input);
    if let Some(e) = refused {
        // A late or duplicate input; what the flow did before refusing is still carried out.
        tracing::debug!(tenant = %state.shared.id, task = %state.task_id(), error = %e, "input refused by the task");
    }
    run_effects(myself, state, now, effects);
}

fn command(myself: &ActorRef<TaskMsg>, state: &mut TaskActorState, action: CallAction) {
    let Some(call) = state.call.clone() else {
        return; // an external task has no call
    };
    let queue = state.commands.get_or_insert_with(Arc::default).clone();
    let start = {
        let mut q = lock(&queue);
        q.pending.push_back(action);
        !std::mem::replace(&mut q.draining, true)
    };
    if start {
        let template = CallCommand {
            tenant: state.shared.id,
            m365_tenant: state.shared.m365,
            call,
            task: state.task_id(),
            action: CallAction::KeepAlive,
        };
        tokio::spawn(drain_commands(
            state.shared.rt.ports.calls.clone(),
            template,
            queue,
            myself.clone(),
        ));
    }
}

/// A call's commands waiting to be executed, in order. At most one drainer runs at a time and it
/// ends when the queue is empty, so an idle call holds no task and no channel.
#[derive(Default)]
pub(crate) struct CommandQueue {
    pending: VecDeque<CallAction>,
    draining: bool,
}

fn lock(q: &Mutex<CommandQueue>) -> std::sync::MutexGuard<'_, CommandQueue> {
    // The queue holds plain values: a poisoned lock is still consistent.
    q.lock().unwrap_or_else(|e| e.into_inner())
}

/// Executes one call's queued commands in order; a failure goes back to the call flow.
async fn drain_commands(
    calls: Arc<dyn stratus_routing::port::CallControl>,
    template: CallCommand,
    queue: Arc<Mutex<CommandQueue>>,
    task: ActorRef<TaskMsg>,
) {
    loop {
        let action = {
            let mut q = lock(&queue);
            match q.pending.pop_front() {
                Some(a) => a,
                None => {
                    q.draining = false;
                    return;
                }
            }
        };
        let name = action.name();
        let failed = action.clone();
        let cmd = CallCommand {
            action,
            ..template.clone()
        };
        let ring = match &failed {
            CallAction::RingAgent { offer, .. } => Some(*offer),
            _ => None,
        };
        let result = calls.execute(cmd).await;
        if let (Ok(()), Some(offer)) = (&result, ring) {
            // Graph's 2xx is the only sign the ring reached the platform: the ring timer
            // starts now.
            tell(&task, TaskMsg::Input(CallInput::RingAcknowledged { offer }));
        }
        if let Err(e) = result {
            metrics::call_command_failed(name);
            tracing::warn!(tenant = %template.tenant, task = %template.task, call = %template.call, action = name, error = %e, "call command failed");
            // What the failure means for the call is the call flow's to decide.
            let gone = e == stratus_routing::port::CallControlError::CallGone;
            tell(
                &task,
                TaskMsg::Input(CallInput::CommandFailed {
                    action: failed,
                    gone,
                }),
            );
        }
    }
}

fn offer_label(result: OfferResult) -> &'static str {
    match result {
        OfferResult::Connected => "connected",
        OfferResult::Failed(OfferFailure::NoAnswer) => "rona",
        OfferResult::Failed(OfferFailure::Declined) => "declined",
        OfferResult::Failed(OfferFailure::Busy | OfferFailure::Unreachable) => "failed",
        OfferResult::Failed(OfferFailure::LostRace) => "lost_race",
        OfferResult::Failed(OfferFailure::Withdrawn) => "withdrawn",
    }
}

fn run_effects(
    myself: &ActorRef<TaskMsg>,
    state: &mut TaskActorState,
    now: Instant,
    effects: Vec<CallEffect>,
) {
    let shared = state.shared.clone();
    let service = state.service();
    let task = state.task_id();
    for e in effects {
        match e {
            CallEffect::Command(action) => command(myself, state, action),
            CallEffect::Enqueue(e) => {
                shared.to_service(service, ServiceMsg::Input(QueueInput::Enqueue(e)));
            }
            CallEffect::LeaveQueue => {
                shared.to_service(service, ServiceMsg::Input(QueueInput::Remove { task }));
            }
            CallEffect::OfferEnded {
                offer,
                user,
                result,
            } => {
                metrics::offer(offer_label(result));
                if result == OfferResult::Connected {
                    connect(state, now, offer, user);
                }
                shared.to_service(
                    service,
                    ServiceMsg::Input(QueueInput::OfferEnded { offer, result }),
                );
                shared.to_user(
                    user,
                    UserMsg::Input(UserInput::OfferEnded { offer, result }),
                );
            }
            CallEffect::TaskEnded { offer, user, acw } => {
                disconnect(&shared, offer, user);
                // Wrap-up ends when the user says so; a user whose actor is down (restarting or
                // given up) never will, and its rebuilt self knows nothing of this task: end the
                // wrap-up here rather than wait forever.
                if !shared.to_user(user, UserMsg::Input(UserInput::TaskEnded { offer, acw })) {
                    tell(myself, TaskMsg::Input(CallInput::WrapUpEnded));
                }
            }
            CallEffect::ArmTimer { timer, at } => {
                let h = shared
                    .rt
                    .schedule_at(at, myself, TaskMsg::Input(CallInput::Timer(timer)));
                state.timers.push(h);
            }
            CallEffect::Task(applied) => record(state, *applied),
            CallEffect::Finished => finish(myself, state),
        }
    }
}

fn record(state: &mut TaskActorState, applied: Applied) {
    let rt = &state.shared.rt;
    let changed = !applied.events.is_empty();
    let mut data_changed = false;
    for ev in applied.events {
        data_changed |= ev.kind == TaskEventKind::ParameterUpdated;
        rt.stats.on_event(&ev);
        rt.emit(Record::TaskEvent(ev));
    }
    for f in applied.service_sessions {
        rt.emit(Record::ServiceSession(f));
    }
    for f in applied.user_sessions {
        rt.emit(Record::UserSession(f));
    }
    if changed {
        metrics::queue_depth(rt.stats.snapshot().waiting);
        // A restart restores Offered like Queued: ringing changes no snapshot.
        let kind = state.flow.task().state().kind();
        if data_changed || (kind != TaskStateKind::Offered && state.snapshot_kind != Some(kind)) {
            store_snapshot(state);
        }
    }
}

/// Keeps the task's live snapshot (restart truth) and sends it to the store.
fn store_snapshot(state: &mut TaskActorState) {
    let task = state.flow.task();
    if task.state().is_terminal() {
        return;
    }
    let snap = snapshot(task, state.call.clone());
    state.snapshot_kind = Some(snap.state);
    state.shared.snapshots.insert(task.id, snap.clone());
    state.shared.rt.emit(Record::LiveTask(Box::new(snap)));
}

pub(crate) fn snapshot(task: &Task, call: Option<CallId>) -> LiveTaskSnapshot {
    LiveTaskSnapshot {
        tenant: task.tenant,
        task: task.id,
        call,
        service: task.service(),
        modality: task.modality,
        direction: task.direction,
        priority: task.priority,
        state: task.state().kind(),
        created_at: task.created_at,
        queued_at: task.queued_at(),
        connected_user: task.assigned_user(),
        system: task.system.clone(),
        context: task.context.clone(),
        preferred: task.preferred.clone(),
        customer: task.customer.clone(),
        seq: task.seq(),
        session_index: task.session_index(),
    }
}

/// Notes the connected lease in the tenant's live state (a rebuilt user takes it back).
fn connect(state: &mut TaskActorState, now: Instant, offer: OfferId, user: UserId) {
    let service = state.flow.service();
    let lease = Lease {
        offer,
        service: service.id,
        task: state.task_id(),
        user,
        modality: state.flow.task().modality,
        ringing: false,
        deadline: now,
        terms: LeaseTerms {
            assignment: service.assignment,
            busy_selectable: service.busy_selectable,
            away_selectable: service.away_selectable,
            applies_rona: service.distribution.applies_rona(),
            persistent_rona: service
                .persistent_rona
                .then(|| service.rona_reset.duration()),
            rona_cooldown: service.rona_cooldown.duration(),
            acw: service.acw,
            multitasking: service.multitasking,
        },
        connected_at: Some(now),
    };
    state.shared.connected.entry(user).or_default().push(lease);
    state.connected = Some((offer, user));
}

fn disconnect(shared: &TenantShared, offer: OfferId, user: UserId) {
    if let Some(mut leases) = shared.connected.get_mut(&user) {
        leases.retain(|l| l.offer != offer);
    }
    shared.connected.remove_if(&user, |_, l| l.is_empty());
}

/// The task is terminal: it leaves the directory and the actor stops.
fn finish(myself: &ActorRef<TaskMsg>, state: &mut TaskActorState) {
    let shared = &state.shared;
    let task = state.task_id();
    let me = myself.get_id();
    if let Some((offer, user)) = state.connected.take() {
        disconnect(shared, offer, user);
    }
    shared.tasks.remove_if(&task, |_, a| a.get_id() == me);
    shared.snapshots.remove(&task);
    if let Some(call) = &state.call {
        shared.rt.calls.remove(call);
    }
    shared
        .decisions
        .finished(task, shared.rt.config.decisions_kept);
    shared.rt.emit(Record::LiveTaskEnded {
        tenant: shared.id,
        task,
    });
    // Commands already queued still go out: the drainer holds the queue until it is empty.
    state.commands = None;
    myself.stop(None);
}
