//! The tenant supervisor: spawns the tenant's user, service and task actors, restarts a failed
//! one with backoff and an intensity limit, and rebuilds it from durable truth (the store's
//! configuration, the last Graph presence, the live-task snapshots), never from the dead actor.
//! It also reconciles the running tenant with the store after configuration writes.

use crate::flow::Flow;
use crate::metrics::{self, Kind};
use crate::service::{ServiceActor, ServiceArgs};
use crate::shared::{ChildKey, ServiceMsg, TaskMsg, TenantShared, UserMsg, tell};
use crate::task::{Start, TaskActor, TaskArgs};
use crate::user::{UserActor, UserArgs};
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use stratus_routing::call::{CallFlow, CallInput};
use stratus_routing::config::{ServiceConfig, UserConfig};
use stratus_routing::external::ExternalFlow;
use stratus_routing::ids::{CallId, OfferId, ServiceId, TaskId, UserId};
use stratus_routing::port::{CallAction, CallCommand, LiveTaskSnapshot, Record, TenantSnapshot};
use stratus_routing::queue::QueueInput;
use stratus_routing::task::Task;
use stratus_routing::task::TaskStateKind;
use stratus_routing::user::UserInput;

pub(crate) struct TenantActor;

pub(crate) enum TenantMsg {
    /// Time to bring a failed child back (after its backoff).
    Restart(ChildKey),
    /// Bring the running tenant in line with the store's configuration.
    Reconcile(Box<TenantSnapshot>, crate::shared::Reply<()>),
    /// Restore waiting tasks from their live snapshots (node start, tenant restart).
    Restore(Vec<LiveTaskSnapshot>),
    #[cfg(test)]
    Crash,
}

impl crate::shared::Kinded for TenantMsg {
    const KIND: Kind = Kind::Tenant;
}

pub(crate) struct TenantArgs {
    pub shared: Arc<TenantShared>,
    pub snapshot: TenantSnapshot,
    pub live: Vec<LiveTaskSnapshot>,
}

pub(crate) struct TenantState {
    shared: Arc<TenantShared>,
    restarts: HashMap<ChildKey, VecDeque<tokio::time::Instant>>,
}

impl Actor for TenantActor {
    type Msg = TenantMsg;
    type State = TenantState;
    type Arguments = TenantArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<TenantMsg>,
        args: TenantArgs,
    ) -> Result<TenantState, ActorProcessingErr> {
        let shared = args.shared;
        for s in &args.snapshot.services {
            shared.service_configs.insert(s.id, s.clone());
            if let Some(app) = &s.app_instance_id {
                shared.by_app_instance.insert(app.clone(), s.id);
            }
        }
        for u in &args.snapshot.users {
            shared.user_configs.insert(u.id, u.clone());
        }
        let state = TenantState {
            shared,
            restarts: HashMap::new(),
        };
        // Services first, so that users' first availability finds them.
        for s in &args.snapshot.services {
            spawn_service(&myself, &state.shared, s.clone()).await?;
        }
        for u in &args.snapshot.users {
            spawn_user(&myself, &state.shared, u.clone()).await?;
        }
        if !args.live.is_empty() {
            tell_tenant(&myself, TenantMsg::Restore(args.live));
        }
        Ok(state)
    }

    async fn post_stop(
        &self,
        myself: ActorRef<TenantMsg>,
        _state: &mut TenantState,
    ) -> Result<(), ActorProcessingErr> {
        // Children finish what is already in their mailboxes, then stop.
        myself
            .drain_children_and_wait(Some(Duration::from_secs(5)))
            .await;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<TenantMsg>,
        msg: TenantMsg,
        state: &mut TenantState,
    ) -> Result<(), ActorProcessingErr> {
        metrics::received(Kind::Tenant);
        let started = std::time::Instant::now();
        match msg {
            TenantMsg::Restart(key) => restart(&myself, state, key).await,
            TenantMsg::Reconcile(snapshot, reply) => {
                reconcile(&myself, state, *snapshot).await;
                let _ = reply.send(());
            }
            TenantMsg::Restore(live) => {
                for snap in live {
                    restore_task(&myself, &state.shared, snap, false).await;
                }
            }
            #[cfg(test)]
            #[allow(clippy::panic)]
            TenantMsg::Crash => panic!("injected tenant supervisor failure"),
        }
        metrics::handled(Kind::Tenant, started.elapsed());
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<TenantMsg>,
        event: SupervisionEvent,
        state: &mut TenantState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, err) => {
                let Some((_, key)) = state.shared.children.remove(&cell.get_id()) else {
                    return Ok(());
                };
                metrics::failure(key.kind());
                state
                    .shared
                    .rt
                    .note_failure(format!("tenant {} {key:?}: {err}", state.shared.id));
                tracing::error!(tenant = %state.shared.id, child = ?key, error = %err, "actor failed");
                lost(&state.shared, key, cell.get_id());
                let policy = state.shared.rt.config.restart;
                let now = tokio::time::Instant::now();
                // Forget children whose last failure left the window (task ids never repeat:
                // without this the map would grow with every failed task forever).
                state.restarts.retain(|_, times| {
                    times
                        .back()
                        .is_some_and(|t| now.duration_since(*t) <= policy.window)
                });
                let times = state.restarts.entry(key).or_default();
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > policy.window)
                {
                    times.pop_front();
                }
                if times.len() >= policy.max_restarts as usize {
                    metrics::given_up(key.kind());
                    tracing::error!(tenant = %state.shared.id, child = ?key, "restart limit reached: giving up");
                    give_up(&state.shared, key);
                    return Ok(());
                }
                let backoff = policy.backoff(times.len() as u32);
                times.push_back(now);
                let me = myself.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(backoff).await;
                    tell_tenant(&me, TenantMsg::Restart(key));
                });
            }
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                state.shared.children.remove(&cell.get_id());
            }
            SupervisionEvent::ActorStarted(_) | SupervisionEvent::ProcessGroupChanged(_) => {}
        }
        Ok(())
    }
}

pub(crate) fn tell_tenant(to: &ActorRef<TenantMsg>, msg: TenantMsg) {
    metrics::sent(Kind::Tenant);
    if to.cast(msg).is_err() {
        metrics::dropped(Kind::Tenant);
    }
}

async fn spawn_user(
    myself: &ActorRef<TenantMsg>,
    shared: &Arc<TenantShared>,
    config: UserConfig,
) -> Result<(), ActorProcessingErr> {
    let id = config.id;
    let args = UserArgs {
        shared: shared.clone(),
        config,
    };
    let (a, _) = Actor::spawn_linked(None, UserActor, args, myself.get_cell()).await?;
    shared.children.insert(a.get_id(), ChildKey::User(id));
    shared.users.insert(id, a);
    Ok(())
}

async fn spawn_service(
    myself: &ActorRef<TenantMsg>,
    shared: &Arc<TenantShared>,
    config: ServiceConfig,
) -> Result<(), ActorProcessingErr> {
    let id = config.id;
    let args = ServiceArgs {
        shared: shared.clone(),
        config,
    };
    let (a, _) = Actor::spawn_linked(None, ServiceActor, args, myself.get_cell()).await?;
    shared.children.insert(a.get_id(), ChildKey::Service(id));
    shared.services.insert(id, a);
    Ok(())
}

/// Spawns a task actor under the tenant and registers it.
pub(crate) fn spawn_task(
    tenant: &ActorRef<TenantMsg>,
    shared: &Arc<TenantShared>,
    flow: Flow,
    call: Option<stratus_routing::ids::CallId>,
    start: Start,
) -> Result<(), ActorProcessingErr> {
    let id = flow.task().id;
    let first = match &start {
        Start::NewCall => TaskMsg::Input(stratus_routing::call::CallInput::Start),
        Start::Restored(_) => TaskMsg::Requeue(flow.service().id),
    };
    let args = TaskArgs {
        shared: shared.clone(),
        flow,
        call: call.clone(),
        start,
    };
    let (a, _) = ractor::ActorRuntime::<TaskActor>::spawn_linked_instant(
        None,
        TaskActor,
        args,
        tenant.get_cell(),
    )?;
    // Known to the tenant before its first message: on a multi-threaded runtime a task without
    // a call may finish (and clean up after itself) before this function returns.
    shared.children.insert(a.get_id(), ChildKey::Task(id));
    shared.tasks.insert(id, a.clone());
    // First in the mailbox, ahead of any platform event for the call, which can only reach the
    // task once the call is registered below.
    tell(&a, first);
    if let Some(call) = call {
        shared.rt.calls.insert(call, (shared.id, id));
    }
    Ok(())
}

/// What the rest of the tenant must hear at once when a child dies, before any restart.
fn lost(shared: &Arc<TenantShared>, key: ChildKey, dead: ractor::ActorId) {
    match key {
        ChildKey::User(u) => {
            shared.users.remove_if(&u, |_, a| a.get_id() == dead);
            let services: Vec<ServiceId> = shared
                .user_configs
                .get(&u)
                .map(|c| c.memberships.iter().map(|m| m.service).collect())
                .unwrap_or_default();
            for s in services {
                shared.to_service(s, ServiceMsg::MemberLost(u));
            }
            for_each_task(shared, |a| {
                tell(a, TaskMsg::UserLost(u));
            });
        }
        ChildKey::Service(s) => {
            shared.services.remove_if(&s, |_, a| a.get_id() == dead);
        }
        ChildKey::Task(t) => {
            shared.tasks.remove_if(&t, |_, a| a.get_id() == dead);
            let service = shared.snapshots.get(&t).and_then(|s| s.service);
            if let Some(s) = service {
                shared.to_service(s, ServiceMsg::Input(QueueInput::Remove { task: t }));
            }
            // Its connected lease dies with it (the users are told below).
            for mut leases in shared.connected.iter_mut() {
                leases.retain(|l| l.task != t);
            }
            shared.connected.retain(|_, l| !l.is_empty());
            for_each_user(shared, |a| {
                tell(a, UserMsg::TaskGone(t));
            });
        }
    }
}

fn for_each_task(shared: &TenantShared, mut f: impl FnMut(&ActorRef<TaskMsg>)) {
    let all: Vec<ActorRef<TaskMsg>> = shared.tasks.iter().map(|e| e.value().clone()).collect();
    for a in &all {
        f(a);
    }
}

fn for_each_user(shared: &TenantShared, mut f: impl FnMut(&ActorRef<UserMsg>)) {
    let all: Vec<ActorRef<UserMsg>> = shared.users.iter().map(|e| e.value().clone()).collect();
    for a in &all {
        f(a);
    }
}

async fn restart(myself: &ActorRef<TenantMsg>, state: &mut TenantState, key: ChildKey) {
    let shared = state.shared.clone();
    metrics::restart(key.kind());
    tracing::info!(tenant = %shared.id, child = ?key, "restarting");
    let result = match key {
        ChildKey::User(u) => match shared.user_configs.get(&u).map(|c| c.clone()) {
            Some(config) => spawn_user(myself, &shared, config).await,
            None => Ok(()), // removed meanwhile
        },
        ChildKey::Service(s) => match shared.service_configs.get(&s).map(|c| c.clone()) {
            Some(config) => {
                let r = spawn_service(myself, &shared, config).await;
                if r.is_ok() {
                    // Rebuild the queue from the live tasks and the members' current state.
                    for_each_task(&shared, |a| {
                        tell(a, TaskMsg::Requeue(s));
                    });
                    let members: Vec<UserId> = shared
                        .user_configs
                        .iter()
                        .filter(|c| c.memberships.iter().any(|m| m.service == s))
                        .map(|c| c.id)
                        .collect();
                    for u in members {
                        shared.to_user(u, UserMsg::Republish);
                    }
                }
                r
            }
            None => Ok(()),
        },
        ChildKey::Task(t) => {
            match shared.snapshots.get(&t).map(|s| s.clone()) {
                Some(snap) => {
                    restore_task(myself, &shared, snap, true).await;
                }
                None => give_up(&shared, key),
            }
            Ok(())
        }
    };
    if let Err(e) = result {
        tracing::error!(tenant = %shared.id, child = ?key, error = %e, "restart failed");
        give_up(&shared, key);
    }
}

/// A waiting task comes back into its queue; any other live task cannot be rebuilt without the
/// platform's view of the call, so it is ended.
/// `counted`: the task is already in this node's live counters (an actor restart, not a node start).
async fn restore_task(
    myself: &ActorRef<TenantMsg>,
    shared: &Arc<TenantShared>,
    snap: LiveTaskSnapshot,
    counted: bool,
) {
    let waiting = matches!(snap.state, TaskStateKind::Queued | TaskStateKind::Offered);
    let config = snap
        .service
        .and_then(|s| shared.service_configs.get(&s).map(|c| c.clone()));
    if let (true, Some(config)) = (waiting, config) {
        let now = shared.rt.clock.now();
        let task = Task::restore_waiting(
            now,
            &snap,
            config.max_queue_time.duration(),
            config.sla.duration(),
        );
        if let Some(task) = task {
            let (flow, effects) = if snap.call.is_some() {
                let (f, effects) = CallFlow::restored(now, task, config);
                (Flow::Call(f), effects)
            } else {
                (
                    Flow::External(ExternalFlow::restored(task, config)),
                    Vec::new(),
                )
            };
            if spawn_task(
                myself,
                shared,
                flow,
                snap.call.clone(),
                Start::Restored(effects),
            )
            .is_ok()
            {
                shared.rt.stats.restored(counted.then_some(snap.state));
                return;
            }
        }
    }
    if counted {
        shared.rt.stats.forget(snap.state);
    }
    end_lost_task(shared, &snap);
}

/// Gives up on a child for good.
fn give_up(shared: &Arc<TenantShared>, key: ChildKey) {
    let t = match key {
        ChildKey::Task(t) => t,
        ChildKey::Service(s) => {
            // Its waiting tasks lose their queue and max-wait timer: they end now rather than
            // hold callers forever; new calls for it are refused at the door. Forgetting its
            // configuration lets the next configuration change start it afresh.
            shared.by_app_instance.retain(|_, id| *id != s);
            shared.service_configs.remove(&s);
            for_each_task(shared, |t| {
                tell(t, TaskMsg::ServiceRemoved(s));
            });
            return;
        }
        ChildKey::User(u) => {
            // The tenant runs on without the user; the next configuration change starts it afresh.
            shared.user_configs.remove(&u);
            return;
        }
    };
    if let Some((_, snap)) = shared.snapshots.remove(&t) {
        shared.rt.stats.forget(snap.state);
        end_lost_task(shared, &snap);
        return;
    }
    // Never snapshotted (it died before reaching a queue): only its call is known.
    let calls: Vec<CallId> = shared
        .rt
        .calls
        .iter()
        .filter(|e| *e.value() == (shared.id, t))
        .map(|e| e.key().clone())
        .collect();
    for call in calls {
        shared.rt.calls.remove(&call);
        hang_up(shared, call, t);
    }
    tracing::error!(tenant = %shared.id, task = %t, "task lost: ended");
    shared.rt.emit(Record::LiveTaskEnded {
        tenant: shared.id,
        task: t,
    });
}

/// A task whose actor is gone for good: hang the call up and close its records.
fn end_lost_task(shared: &Arc<TenantShared>, snap: &LiveTaskSnapshot) {
    shared.snapshots.remove(&snap.task);
    if let Some(call) = &snap.call {
        shared.rt.calls.remove(call);
        hang_up(shared, call.clone(), snap.task);
    }
    tracing::error!(tenant = %shared.id, task = %snap.task, "task lost: ended");
    shared.rt.emit(Record::LiveTaskEnded {
        tenant: shared.id,
        task: snap.task,
    });
}

/// Hangs a call up from outside its (lost) actor; spawned, never awaited by the supervisor.
fn hang_up(shared: &TenantShared, call: CallId, task: TaskId) {
    platform(shared, call, task, CallAction::HangUp);
}

/// A command for a call whose task actor is gone (so its own command queue is too), spawned.
fn platform(shared: &TenantShared, call: CallId, task: TaskId, action: CallAction) {
    let name = action.name();
    let cmd = CallCommand {
        tenant: shared.id,
        m365_tenant: shared.m365,
        call,
        task,
        action,
    };
    let calls = shared.rt.ports.calls.clone();
    tokio::spawn(async move {
        if let Err(e) = calls.execute(cmd).await {
            tracing::warn!(%task, action = name, error = %e, "a lost task's call command failed");
        }
    });
}

/// Withdraws, on the platform, a ring of a task whose actor died: Teams would otherwise keep
/// ringing the agent for a task Stratus no longer offers them, and let them join it unseen.
pub(crate) fn cancel_lost_ring(shared: &TenantShared, task: TaskId, offer: OfferId, user: UserId) {
    let call = shared
        .snapshots
        .get(&task)
        .and_then(|s| s.call.clone())
        .or_else(|| {
            shared
                .rt
                .calls
                .iter()
                .find(|e| *e.value() == (shared.id, task))
                .map(|e| e.key().clone())
        });
    if let Some(call) = call {
        platform(shared, call, task, CallAction::CancelRing { offer, user });
    }
}

async fn reconcile(myself: &ActorRef<TenantMsg>, state: &mut TenantState, snap: TenantSnapshot) {
    let shared = state.shared.clone();
    shared.set_catalog(&snap);
    // Services: new ones start, changed ones reconfigure, removed ones stop.
    let wanted: HashMap<ServiceId, ServiceConfig> =
        snap.services.iter().map(|s| (s.id, s.clone())).collect();
    let running: Vec<ServiceId> = shared.service_configs.iter().map(|e| *e.key()).collect();
    for id in running {
        if !wanted.contains_key(&id) {
            shared.service_configs.remove(&id);
            if let Some((_, a)) = shared.services.remove(&id) {
                a.stop(Some("service removed".into()));
            }
            // Its waiting tasks lose their queue (and its max-wait timer): they end now.
            for_each_task(&shared, |t| {
                tell(t, TaskMsg::ServiceRemoved(id));
            });
        }
    }
    // Resource accounts are updated in place, never cleared: an incoming call during a
    // configuration write must still find its service.
    shared.by_app_instance.retain(|app, id| {
        wanted
            .get(id)
            .is_some_and(|c| c.app_instance_id.as_deref() == Some(app.as_str()))
    });
    for (id, config) in wanted {
        if let Some(app) = &config.app_instance_id {
            shared.by_app_instance.insert(app.clone(), id);
        }
        let old = shared.service_configs.insert(id, config.clone());
        match old {
            None => {
                if let Err(e) = spawn_service(myself, &shared, config).await {
                    tracing::error!(tenant = %shared.id, service = %id, error = %e, "service start failed");
                }
            }
            Some(_) => {
                let policy = shared.policy(config.policy);
                // Its live tasks see the new settings at once (max wait, ACW when they end).
                for_each_task(&shared, |t| {
                    let input = CallInput::Reconfigure(Box::new(config.clone()));
                    tell(t, TaskMsg::Input(input));
                });
                shared.to_service(
                    id,
                    ServiceMsg::Input(QueueInput::Reconfigure {
                        config: Box::new(config),
                        policy,
                    }),
                );
            }
        }
    }
    // Users likewise.
    let wanted: HashMap<UserId, UserConfig> =
        snap.users.iter().map(|u| (u.id, u.clone())).collect();
    let running: Vec<UserId> = shared.user_configs.iter().map(|e| *e.key()).collect();
    for id in running {
        if !wanted.contains_key(&id)
            && let Some((_, old)) = shared.user_configs.remove(&id)
        {
            for m in &old.memberships {
                shared.to_service(
                    m.service,
                    ServiceMsg::Input(QueueInput::MemberRemoved { user: id }),
                );
            }
            shared.carried.remove(&id);
            if let Some((_, a)) = shared.users.remove(&id) {
                a.stop(Some("user removed".into()));
            }
        }
    }
    for (id, config) in wanted {
        let old = shared.user_configs.insert(id, config.clone());
        match old {
            None => {
                if let Err(e) = spawn_user(myself, &shared, config).await {
                    tracing::error!(tenant = %shared.id, user = %id, error = %e, "user start failed");
                }
            }
            Some(old) if old != config => {
                // Services the user left forget them.
                for m in &old.memberships {
                    if config.membership(m.service).is_none() {
                        shared.to_service(
                            m.service,
                            ServiceMsg::Input(QueueInput::MemberRemoved { user: id }),
                        );
                    }
                }
                if old.active_profile != config.active_profile
                    && let Some(p) = shared.profile(config.active_profile)
                {
                    shared.to_user(id, UserMsg::Input(UserInput::SetProfile(p)));
                }
                shared.to_user(id, UserMsg::Input(UserInput::UpdateConfig(config)));
            }
            Some(_) => {}
        }
    }
}
