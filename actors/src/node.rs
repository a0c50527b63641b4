//! `Node`: the runtime's handle for the gateway. Hot-path calls (call events, presence, stats)
//! are plain casts through the directory; queries and commands ask the owning actor with a
//! timeout; configuration loads await the store here, at the edge, never inside a handler.

use crate::api::{
    NewTask, NodeStats, ServiceLive, TaskAction, TaskLive, TaskUpdate, UserCommand, UserLive,
};
use crate::config::NodeConfig;
use crate::directory::{TenantDirectory, TenantEntry};
use crate::error::ActorsError;
use crate::flow::Flow;
use crate::ports::Ports;
use crate::root::{NodeRoot, RootArgs, RootMsg, load, start_tenant};
use crate::shared::{Kinded, ResolvedCommand, Runtime, ServiceMsg, TaskMsg, UserMsg};
use crate::task::Start;
use crate::tenant::{TenantMsg, spawn_task};
use ractor::{Actor, ActorRef, RpcReplyPort, rpc::CallResult};
use std::sync::Arc;
use std::time::Duration;
use stratus_routing::call::CallFlow;
use stratus_routing::decision::Decision;
use stratus_routing::external::ExternalFlow;
use stratus_routing::ids::{CallId, M365TenantId, ServiceId, TaskId, TenantId, UserId};
use stratus_routing::model::{Direction, Modality, Presence};
use stratus_routing::port::{CallEvent, CallEventKind, Record};
use stratus_routing::task::{SystemParameters, Task};
use stratus_routing::user::UserInput;
use tokio_util::sync::CancellationToken;

/// How long an edge request waits for an actor's answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// The running actor system of one node. Cheap to clone.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

struct Inner {
    rt: Arc<Runtime>,
    dir: Arc<TenantDirectory>,
    root: ActorRef<RootMsg>,
    root_done: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    token: CancellationToken,
    /// Serialises tenant loads so a tenant is never started twice.
    loading: tokio::sync::Mutex<()>,
}

impl Node {
    /// Spawns the node root and starts every tenant the store lists, with their waiting tasks
    /// re-queued from their live snapshots.
    pub async fn start(config: NodeConfig, ports: Ports) -> Result<Node, ActorsError> {
        Self::start_linked(config, ports, None).await
    }

    /// Like [`Node::start`], with the root supervised by `parent` (tests: a root that fails the
    /// test when the node root dies).
    pub(crate) async fn start_linked(
        config: NodeConfig,
        ports: Ports,
        parent: Option<ractor::ActorCell>,
    ) -> Result<Node, ActorsError> {
        let token = CancellationToken::new();
        let rt = Arc::new(Runtime::new(config, ports, token.clone()));
        let dir = Arc::new(TenantDirectory::default());
        let args = RootArgs {
            rt: rt.clone(),
            dir: dir.clone(),
            token: token.clone(),
        };
        let spawned = match parent {
            Some(p) => Actor::spawn_linked(None, NodeRoot, args, p).await,
            None => Actor::spawn(None, NodeRoot, args).await,
        };
        let (root, done) = spawned.map_err(ActorsError::unavailable)?;
        let node = Node {
            inner: Arc::new(Inner {
                rt: rt.clone(),
                dir,
                root,
                root_done: tokio::sync::Mutex::new(Some(done)),
                token,
                loading: tokio::sync::Mutex::new(()),
            }),
        };
        // One tenant that cannot start must not keep the others from routing.
        for t in rt.ports.store.list_tenants().await? {
            if let Err(e) = node.load_tenant(t.id).await {
                tracing::error!(tenant = %t.id, error = %e, "tenant not started; it starts with its next configuration change");
                rt.note_failure(format!("tenant {}: start failed: {e}", t.id));
            }
        }
        Ok(node)
    }

    /// Starts a tenant, or reconciles a running one with the store's current configuration
    /// (services and users added, changed, removed) after REST writes.
    pub async fn load_tenant(&self, tenant: TenantId) -> Result<(), ActorsError> {
        let _guard = self.inner.loading.lock().await;
        match self.inner.dir.get(tenant) {
            Some(entry) => {
                let snapshot = self.inner.rt.ports.store.load_tenant(tenant).await?;
                ask(&entry.actor, |reply| {
                    TenantMsg::Reconcile(Box::new(snapshot), reply)
                })
                .await
            }
            None => {
                let (snapshot, live) = load(&self.inner.rt, tenant).await?;
                start_tenant(
                    &self.inner.root,
                    &self.inner.rt,
                    &self.inner.dir,
                    snapshot,
                    live,
                )
                .await
                .map(|_| ())
                .map_err(ActorsError::unavailable)
            }
        }
    }

    fn tenant(&self, tenant: TenantId) -> Result<TenantEntry, ActorsError> {
        self.inner.dir.get(tenant).ok_or(ActorsError::UnknownTenant)
    }

    /// Non-blocking. `Incoming` is routed by its Microsoft 365 tenant id, then by `target` = a
    /// service's `app_instance_id`; every other event by call id.
    pub fn call_event(&self, event: CallEvent) -> Result<(), ActorsError> {
        let CallEvent { call, kind } = event;
        if let CallEventKind::Incoming {
            m365_tenant,
            target,
            caller,
            call_chain_id,
        } = kind
        {
            if self.inner.rt.calls.contains_key(&call) {
                return Ok(()); // a redelivered notification
            }
            let tenant = self
                .inner
                .dir
                .by_m365(&m365_tenant)
                .ok_or(ActorsError::UnknownTenant)?;
            let entry = self.tenant(tenant)?;
            let service = entry
                .shared
                .by_app_instance
                .get(&target)
                .map(|s| *s)
                .ok_or(ActorsError::UnknownService)?;
            let config = entry
                .shared
                .service_configs
                .get(&service)
                .map(|c| c.clone())
                .ok_or(ActorsError::UnknownService)?;
            let rt = &self.inner.rt;
            let system = SystemParameters {
                caller_id: caller.id,
                caller_number: caller.number,
                caller_upn: caller.upn,
                anonymous: caller.anonymous,
                service: Some(service),
                call_chain_id,
                call_id: Some(call.clone()),
                reference_id: None,
            };
            let (mut task, created) = Task::new(
                rt.clock.now(),
                rt.new_task_id(),
                tenant,
                Modality::Call,
                Direction::Inbound,
                system,
            );
            task.priority = config.default_priority;
            tracing::info!(%tenant, task = %task.id, %call, %service, "incoming call");
            rt.stats.on_event(&created);
            rt.emit(Record::TaskEvent(created));
            let flow = Flow::Call(CallFlow::new(task, config));
            return spawn_task(
                &entry.actor,
                &entry.shared,
                flow,
                Some(call),
                Start::NewCall,
            )
            .map_err(ActorsError::unavailable);
        }
        let (tenant, task) = self
            .inner
            .rt
            .calls
            .get(&call)
            .map(|e| *e.value())
            .ok_or(ActorsError::UnknownCall)?;
        let entry = self.tenant(tenant)?;
        if entry.shared.to_task(task, TaskMsg::Platform(kind)) {
            Ok(())
        } else {
            Err(ActorsError::UnknownCall)
        }
    }

    /// The Microsoft 365 tenant a live call belongs to (by Graph call id).
    pub fn m365_of_call(&self, call: &CallId) -> Option<M365TenantId> {
        let tenant = self.inner.rt.calls.get(call).map(|e| e.value().0)?;
        self.inner.dir.get(tenant).map(|e| e.shared.m365)
    }

    pub fn tenant_of_m365(&self, m365: &M365TenantId) -> Option<TenantId> {
        self.inner.dir.by_m365(m365)
    }

    /// Teams presence from Graph, by the user's object id. A cast; stale sequence numbers are
    /// dropped by the user's machine.
    pub fn presence(
        &self,
        tenant: TenantId,
        user: UserId,
        presence: Presence,
    ) -> Result<(), ActorsError> {
        let entry = self.tenant(tenant)?;
        if !entry.shared.user_configs.contains_key(&user) {
            return Err(ActorsError::UnknownUser);
        }
        let newer = entry
            .shared
            .presence
            .get(&user)
            .is_none_or(|p| presence.sequence == 0 || presence.sequence > p.sequence);
        if newer {
            entry.shared.presence.insert(user, presence);
        }
        entry
            .shared
            .to_user(user, UserMsg::Input(UserInput::Presence(presence)));
        Ok(())
    }

    /// Pickup: `user` takes a waiting task of `service` (`task`, or the best one for them). A
    /// cast; the lease protocol decides, and the task rings the user as any offer does.
    pub fn pickup(
        &self,
        tenant: TenantId,
        service: ServiceId,
        user: UserId,
        task: Option<TaskId>,
    ) -> Result<(), ActorsError> {
        let entry = self.tenant(tenant)?;
        let member = entry
            .shared
            .user_configs
            .get(&user)
            .ok_or(ActorsError::UnknownUser)?
            .membership(service)
            .is_some();
        if !entry.shared.service_configs.contains_key(&service) {
            return Err(ActorsError::UnknownService);
        }
        if !member {
            return Err(ActorsError::Rejected(format!(
                "user {user} is not a member of service {service}"
            )));
        }
        if entry.shared.to_service(
            service,
            ServiceMsg::Input(stratus_routing::queue::QueueInput::Pickup { user, task }),
        ) {
            Ok(())
        } else {
            Err(ActorsError::Unavailable("the service is restarting".into()))
        }
    }

    /// Supervisor and agent actions. Duty and Active changes are also saved to the store, so a
    /// restarted user actor (or node) keeps them.
    pub async fn user_command(
        &self,
        tenant: TenantId,
        user: UserId,
        cmd: UserCommand,
    ) -> Result<(), ActorsError> {
        let entry = self.tenant(tenant)?;
        let shared = &entry.shared;
        let mut config = shared
            .user_configs
            .get(&user)
            .map(|c| c.clone())
            .ok_or(ActorsError::UnknownUser)?;
        let mut persist = false;
        let resolved = match cmd {
            UserCommand::SetProfile(id) => {
                let profile = shared
                    .profile(id)
                    .filter(|_| config.may_use_profile(id))
                    .ok_or_else(|| ActorsError::Invalid {
                        field: "profile".into(),
                        message: format!("profile {id} is not one of this user's profiles"),
                    })?;
                config.active_profile = id;
                persist = true;
                ResolvedCommand::Input(Box::new(UserInput::SetProfile(profile)))
            }
            UserCommand::SetActive { service, active } => {
                let Some(m) = config.memberships.iter_mut().find(|m| m.service == service) else {
                    return Err(ActorsError::Invalid {
                        field: "service".into(),
                        message: format!("the user is not a member of service {service}"),
                    });
                };
                m.active = active;
                persist = true;
                ResolvedCommand::Input(Box::new(UserInput::SetActive { service, active }))
            }
            UserCommand::SetNotAvailable(reason) => {
                if let Some(r) = reason
                    && (!shared.has_reason(r)
                        || (!config.not_available_reasons.is_empty()
                            && !config.not_available_reasons.contains(&r)))
                {
                    return Err(ActorsError::Invalid {
                        field: "reason".into(),
                        message: format!("reason {r} is not allowed for this user"),
                    });
                }
                ResolvedCommand::Input(Box::new(UserInput::SetNotAvailable(reason)))
            }
            UserCommand::EndAcw => ResolvedCommand::EndAcw,
            UserCommand::ExtendAcw => ResolvedCommand::ExtendAcw,
            UserCommand::ResetRona => ResolvedCommand::Input(Box::new(UserInput::ResetRona)),
        };
        let actor = shared.user(user).ok_or(ActorsError::UnknownUser)?;
        ask(&actor, |reply| UserMsg::Command(resolved, reply)).await??;
        if persist {
            shared.user_configs.insert(user, config.clone());
            if let Err(e) = shared.rt.ports.store.save_user(config).await {
                // The live change stands; the store catches up with the next configuration write.
                tracing::warn!(%tenant, %user, error = %e, "saving the user's duty change failed");
            }
        }
        Ok(())
    }

    pub async fn service_live(
        &self,
        tenant: TenantId,
        service: ServiceId,
    ) -> Result<ServiceLive, ActorsError> {
        let entry = self.tenant(tenant)?;
        let actor = entry
            .shared
            .service(service)
            .ok_or(ActorsError::UnknownService)?;
        ask(&actor, ServiceMsg::Live).await
    }

    pub async fn user_live(&self, tenant: TenantId, user: UserId) -> Result<UserLive, ActorsError> {
        let entry = self.tenant(tenant)?;
        let actor = entry.shared.user(user).ok_or(ActorsError::UnknownUser)?;
        ask(&actor, UserMsg::Live).await
    }

    /// A live task; ended tasks are `UnknownTask`.
    pub async fn task(&self, tenant: TenantId, task: TaskId) -> Result<TaskLive, ActorsError> {
        let actor = self.task_actor(tenant, task)?;
        ask(&actor, TaskMsg::Live).await
    }

    fn task_actor(&self, tenant: TenantId, task: TaskId) -> Result<ActorRef<TaskMsg>, ActorsError> {
        let entry = self.tenant(tenant)?;
        entry.shared.task(task).ok_or(ActorsError::UnknownTask)
    }

    /// Routing explanations of a live task or of one of the last finished ones.
    pub async fn decisions(
        &self,
        tenant: TenantId,
        task: TaskId,
    ) -> Result<Vec<Decision>, ActorsError> {
        let entry = self.tenant(tenant)?;
        let kept = entry.shared.decisions.get(task);
        match kept {
            Some(d) => Ok(d),
            None if entry.shared.tasks.contains_key(&task) => Ok(Vec::new()),
            None => Err(ActorsError::UnknownTask),
        }
    }

    /// An external task (no call): queued in `service` and offered by the same lease protocol;
    /// the agent answers it through [`Node::task_action`].
    pub async fn create_task(&self, tenant: TenantId, new: NewTask) -> Result<TaskId, ActorsError> {
        if new.modality == Modality::Call {
            return Err(ActorsError::Invalid {
                field: "modality".into(),
                message: "calls come from the platform, not through the API".into(),
            });
        }
        let entry = self.tenant(tenant)?;
        let config = entry
            .shared
            .service_configs
            .get(&new.service)
            .map(|c| c.clone())
            .ok_or(ActorsError::UnknownService)?;
        let rt = &self.inner.rt;
        let system = SystemParameters {
            service: Some(new.service),
            ..new.system
        };
        let (mut task, created) = Task::new(
            rt.clock.now(),
            rt.new_task_id(),
            tenant,
            new.modality,
            Direction::Inbound,
            system,
        );
        task.priority = new.priority.unwrap_or(config.default_priority);
        task.context = new.context;
        task.customer = new.customer;
        task.preferred = new.preferred;
        let id = task.id;
        tracing::info!(%tenant, task = %id, service = %new.service, "external task created");
        rt.stats.on_event(&created);
        rt.emit(Record::TaskEvent(created));
        let flow = Flow::External(ExternalFlow::new(task, config));
        spawn_task(&entry.actor, &entry.shared, flow, None, Start::NewCall)
            .map_err(ActorsError::unavailable)?;
        Ok(id)
    }

    pub async fn update_task(
        &self,
        tenant: TenantId,
        task: TaskId,
        update: TaskUpdate,
    ) -> Result<(), ActorsError> {
        let actor = self.task_actor(tenant, task)?;
        ask(&actor, |reply| TaskMsg::Update(Box::new(update), reply)).await?
    }

    pub async fn cancel_task(&self, tenant: TenantId, task: TaskId) -> Result<(), ActorsError> {
        let actor = self.task_actor(tenant, task)?;
        ask(&actor, TaskMsg::Cancel).await?
    }

    pub async fn task_action(
        &self,
        tenant: TenantId,
        task: TaskId,
        user: UserId,
        action: TaskAction,
    ) -> Result<(), ActorsError> {
        let actor = self.task_actor(tenant, task)?;
        ask(&actor, |reply| TaskMsg::Action {
            user,
            action,
            reply,
        })
        .await?
    }

    /// The machines' clock (Unix-epoch milliseconds), the base of every time the node reports.
    pub fn now(&self) -> stratus_routing::time::Instant {
        self.inner.rt.clock.now()
    }

    /// Timers armed on the node and heap slots held (bounded by live tasks and users: a task's
    /// and a settled lease's timers are cancelled).
    pub fn timer_sizes(&self) -> (usize, usize) {
        self.inner.rt.timers.sizes()
    }

    /// Live counters (atomics; no actor round trip).
    pub fn stats(&self) -> NodeStats {
        self.inner.rt.stats.snapshot()
    }

    /// Cancels the token; the root stops every tenant (which stop their children) and the call
    /// returns once the root is gone.
    pub async fn shutdown(self) {
        self.inner.token.cancel();
        let done = self.inner.root_done.lock().await.take();
        if let Some(done) = done {
            let _ = done.await;
        }
    }

    /// Actor failures seen so far (the last 100).
    pub fn failures(&self) -> Vec<String> {
        self.inner
            .rt
            .failures
            .lock()
            .map(|f| f.clone())
            .unwrap_or_default()
    }

    #[cfg(test)]
    pub(crate) fn shared(&self, tenant: TenantId) -> Option<Arc<crate::shared::TenantShared>> {
        self.inner.dir.get(tenant).map(|e| e.shared)
    }

    #[cfg(test)]
    pub(crate) fn crash_tenant(&self, tenant: TenantId) {
        if let Some(e) = self.inner.dir.get(tenant) {
            let _ = e.actor.cast(TenantMsg::Crash);
        }
    }
}

/// Asks an actor and waits for its answer (edges only; never between actors).
async fn ask<M: Kinded, T: Send + 'static>(
    actor: &ActorRef<M>,
    msg: impl FnOnce(RpcReplyPort<T>) -> M,
) -> Result<T, ActorsError> {
    crate::metrics::sent(M::KIND);
    let r = actor.call(msg, Some(ASK_TIMEOUT)).await;
    if r.is_err() {
        crate::metrics::dropped(M::KIND);
    }
    answer(r.map_err(ActorsError::unavailable)?)
}

fn answer<T>(r: CallResult<T>) -> Result<T, ActorsError> {
    match r {
        CallResult::Success(t) => Ok(t),
        CallResult::Timeout => Err(ActorsError::Unavailable("the actor did not answer".into())),
        CallResult::SenderError => Err(ActorsError::Unavailable("the actor is gone".into())),
    }
}
