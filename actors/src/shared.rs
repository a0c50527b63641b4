//! State shared by the actors of one node and of one tenant: the typed directory through which
//! actors find their peers (no global registry names), configuration read by the edges, and the
//! last live-task snapshots the supervisor rebuilds from. Every map is a `DashMap` read without
//! going through an actor; no reference into one is held across an `.await`.

use crate::api::TaskAction;
use crate::clock::Clock;
use crate::config::NodeConfig;
use crate::error::ActorsError;
use crate::metrics::{self, Kind};
use crate::ports::Ports;
use crate::stats::Stats;
use crate::timers::{TimerId, Timers};
use dashmap::DashMap;
use ractor::{ActorId, ActorRef, Message, RpcReplyPort};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use stratus_routing::call::CallInput;
use stratus_routing::config::{
    DistributionPolicy, ResponsibilityProfile, ServiceConfig, TenantLimits, UserConfig,
};
use stratus_routing::decision::Decision;
use stratus_routing::ids::{
    CallId, Guid, M365TenantId, NotAvailableReasonId, PolicyId, ProfileId, ServiceId, TaskId,
    TenantId, UserId,
};
use stratus_routing::model::Presence;
use stratus_routing::offer::Lease;
use stratus_routing::port::{CallEventKind, LiveTaskSnapshot, Record, TenantSnapshot};
use stratus_routing::queue::QueueInput;
use stratus_routing::time::Instant;
use stratus_routing::user::UserInput;
use tokio_util::sync::CancellationToken;

/// Node-wide state: ports, clock, counters, and the call-id index of the hot path.
pub(crate) struct Runtime {
    pub clock: Clock,
    pub timers: Timers,
    pub config: NodeConfig,
    pub ports: Ports,
    pub stats: Stats,
    /// Graph call id -> (tenant, task), for every call event after `Incoming`.
    pub calls: DashMap<CallId, (TenantId, TaskId)>,
    /// Actor failures seen by any supervisor (the last ones, for tests and diagnostics).
    pub failures: Mutex<Vec<String>>,
}

impl Runtime {
    /// Starts the node's timer service (ends with `token`): call inside the tokio runtime.
    pub fn new(config: NodeConfig, ports: Ports, token: CancellationToken) -> Self {
        let clock = Clock::start();
        Runtime {
            clock,
            timers: Timers::start(token),
            config,
            ports,
            stats: Stats::default(),
            calls: DashMap::new(),
            failures: Mutex::new(Vec::new()),
        }
    }

    pub fn new_task_id(&self) -> TaskId {
        // Random (UUID v4): a sequential id would let one tenant guess the next task's id and
        // count another tenant's calls.
        TaskId(Guid(uuid::Uuid::new_v4().as_u128()))
    }

    /// Notes an actor failure (kept: the last 100).
    pub fn note_failure(&self, what: String) {
        if let Ok(mut f) = self.failures.lock() {
            if f.len() >= 100 {
                f.remove(0);
            }
            f.push(what);
        }
    }

    /// Sends `msg` to `to` when the machines' clock reads `at`. The deadline is fixed here, in the
    /// handler that asks for it, not when some timer task first runs (ractor's `send_after` gotcha).
    pub fn schedule_at<M: Kinded>(&self, at: Instant, to: &ActorRef<M>, msg: M) -> TimerId {
        let to = to.clone();
        self.timers.arm(
            self.clock.to_tokio(at),
            Box::new(move || {
                tell(&to, msg);
            }),
        )
    }

    pub fn emit(&self, record: Record) {
        self.ports.sink.emit(record);
    }
}

/// Names the actor kind of a message type (for mailbox-depth accounting).
pub(crate) trait Kinded: Message {
    const KIND: Kind;
}

/// Casts with mailbox accounting. A message to an actor that is gone is dropped: its peer
/// learns of the loss from the supervisor, never from a failed send.
pub(crate) fn tell<M: Kinded>(to: &ActorRef<M>, msg: M) -> bool {
    metrics::sent(M::KIND);
    if to.cast(msg).is_err() {
        metrics::dropped(M::KIND);
        return false;
    }
    true
}

pub(crate) type Reply<T> = RpcReplyPort<T>;

/// Messages of a user actor.
pub(crate) enum UserMsg {
    Input(UserInput),
    /// A resolved supervisor/agent command (the profile already looked up).
    Command(ResolvedCommand, Reply<Result<(), ActorsError>>),
    Live(Reply<crate::api::UserLive>),
    /// A service restarted: publish the current availability again.
    Republish,
    /// The actor of `task` died for good: settle any lease of it.
    TaskGone(TaskId),
    #[cfg(test)]
    Crash,
}

pub(crate) enum ResolvedCommand {
    Input(Box<UserInput>),
    EndAcw,
    ExtendAcw,
}

/// Messages of a service actor.
pub(crate) enum ServiceMsg {
    Input(QueueInput),
    /// A member's actor died: forget the member, and settle every offer asked of it (a lease
    /// request may have died in its mailbox).
    MemberLost(UserId),
    Live(Reply<crate::api::ServiceLive>),
    #[cfg(test)]
    Crash,
}

/// Messages of a task actor (a call or an external task).
pub(crate) enum TaskMsg {
    /// From the queue, users and timers, in the call flow's terms.
    Input(CallInput),
    Platform(CallEventKind),
    Action {
        user: UserId,
        action: TaskAction,
        reply: Reply<Result<(), ActorsError>>,
    },
    Update(Box<crate::api::TaskUpdate>, Reply<Result<(), ActorsError>>),
    Cancel(Reply<Result<(), ActorsError>>),
    Live(Reply<crate::api::TaskLive>),
    /// A service restarted: a task waiting in it enqueues again.
    Requeue(ServiceId),
    /// A service was removed from the configuration: a task waiting in it ends as timed out.
    ServiceRemoved(ServiceId),
    /// A user's actor died: withdraw any ring to them.
    UserLost(UserId),
    #[cfg(test)]
    Crash,
}

impl Kinded for UserMsg {
    const KIND: Kind = Kind::User;
}
impl Kinded for ServiceMsg {
    const KIND: Kind = Kind::Service;
}
impl Kinded for TaskMsg {
    const KIND: Kind = Kind::Task;
}

/// Who a supervised child is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum ChildKey {
    User(UserId),
    Service(ServiceId),
    Task(TaskId),
}

impl ChildKey {
    pub fn kind(self) -> Kind {
        match self {
            ChildKey::User(_) => Kind::User,
            ChildKey::Service(_) => Kind::Service,
            ChildKey::Task(_) => Kind::Task,
        }
    }
}

/// Profiles, policies and limits: rarely written, read by commands and reconfiguration.
#[derive(Clone, Debug, Default)]
pub(crate) struct Catalog {
    pub limits: TenantLimits,
    pub profiles: HashMap<ProfileId, ResponsibilityProfile>,
    pub policies: HashMap<PolicyId, DistributionPolicy>,
    /// The tenant's Not-Available reasons.
    pub reasons: std::collections::HashSet<NotAvailableReasonId>,
}

/// Decisions of live tasks, and of the last finished ones (bounded). Written by every service
/// actor of the tenant, so a concurrent map rather than one lock.
#[derive(Default)]
pub(crate) struct DecisionLog {
    by_task: DashMap<TaskId, Vec<Decision>>,
    finished: Mutex<VecDeque<TaskId>>,
}

/// Decisions kept per task: a task that bounces between many users keeps its latest ones.
const DECISIONS_PER_TASK: usize = 64;

impl DecisionLog {
    pub fn record(&self, d: Decision) {
        let mut v = self.by_task.entry(d.task).or_default();
        if v.len() >= DECISIONS_PER_TASK {
            v.remove(0);
        }
        v.push(d);
    }
    /// The task ended: its decisions stay until `keep` later tasks have ended.
    /// A decision that races in after the end is dropped with the task's turn, so the log stays
    /// bounded.
    pub fn finished(&self, task: TaskId, keep: usize) {
        let Ok(mut finished) = self.finished.lock() else {
            return;
        };
        finished.push_back(task);
        while finished.len() > keep {
            if let Some(old) = finished.pop_front() {
                self.by_task.remove(&old);
            }
        }
    }
    pub fn get(&self, task: TaskId) -> Option<Vec<Decision>> {
        self.by_task.get(&task).map(|v| v.clone())
    }
}

/// One tenant's directory and configuration, shared by its actors and read by the edges.
pub(crate) struct TenantShared {
    pub id: TenantId,
    pub m365: M365TenantId,
    pub rt: Arc<Runtime>,
    pub users: DashMap<UserId, ActorRef<UserMsg>>,
    pub services: DashMap<ServiceId, ActorRef<ServiceMsg>>,
    pub tasks: DashMap<TaskId, ActorRef<TaskMsg>>,
    /// A service's Teams resource account -> the service (incoming calls).
    pub by_app_instance: DashMap<String, ServiceId>,
    pub user_configs: DashMap<UserId, UserConfig>,
    pub service_configs: DashMap<ServiceId, ServiceConfig>,
    pub catalog: RwLock<Catalog>,
    /// Last Graph presence per user: an input kept at the edge, so a restarted user actor
    /// starts from what Teams last said rather than from "offline".
    pub presence: DashMap<UserId, Presence>,
    /// Last snapshot of every live task (what the store was also sent): restart truth.
    pub snapshots: DashMap<TaskId, LiveTaskSnapshot>,
    /// Connected leases per user, as the live tasks know them: a rebuilt user actor takes them
    /// back, so it is not offered work while it is on a task.
    pub connected: DashMap<UserId, Vec<Lease>>,
    /// What each user actor must not lose if it is rebuilt: RONA, wrap-up, Not-Available reason.
    pub carried: DashMap<UserId, stratus_routing::user::Carried>,
    /// Supervised children by actor id.
    pub children: DashMap<ActorId, ChildKey>,
    pub decisions: DecisionLog,
}

impl TenantShared {
    pub fn new(rt: Arc<Runtime>, snapshot: &TenantSnapshot) -> Self {
        let shared = TenantShared {
            id: snapshot.tenant.id,
            m365: snapshot.tenant.m365_tenant,
            rt,
            users: DashMap::new(),
            services: DashMap::new(),
            tasks: DashMap::new(),
            by_app_instance: DashMap::new(),
            user_configs: DashMap::new(),
            service_configs: DashMap::new(),
            catalog: RwLock::new(Catalog::default()),
            presence: DashMap::new(),
            snapshots: DashMap::new(),
            connected: DashMap::new(),
            carried: DashMap::new(),
            children: DashMap::new(),
            decisions: DecisionLog::default(),
        };
        shared.set_catalog(snapshot);
        shared
    }

    pub fn set_catalog(&self, snapshot: &TenantSnapshot) {
        let mut profiles: HashMap<ProfileId, ResponsibilityProfile> =
            builtin_profiles(snapshot.tenant.id)
                .into_iter()
                .map(|p| (p.id, p))
                .collect();
        for p in &snapshot.profiles {
            profiles.insert(p.id, p.clone());
        }
        let catalog = Catalog {
            limits: snapshot.tenant.limits,
            profiles,
            policies: snapshot
                .policies
                .iter()
                .map(|p| (p.id, p.clone()))
                .collect(),
            reasons: snapshot
                .not_available_reasons
                .iter()
                .filter(|r| r.tenant == snapshot.tenant.id)
                .map(|r| r.id)
                .collect(),
        };
        if let Ok(mut c) = self.catalog.write() {
            *c = catalog;
        }
    }

    pub fn profile(&self, id: ProfileId) -> Option<ResponsibilityProfile> {
        self.catalog
            .read()
            .ok()
            .and_then(|c| c.profiles.get(&id).cloned())
    }

    /// Whether `reason` is one of this tenant's Not-Available reasons.
    pub fn has_reason(&self, reason: NotAvailableReasonId) -> bool {
        self.catalog
            .read()
            .is_ok_and(|c| c.reasons.contains(&reason))
    }

    pub fn policy(&self, id: Option<PolicyId>) -> Option<DistributionPolicy> {
        let id = id?;
        self.catalog
            .read()
            .ok()
            .and_then(|c| c.policies.get(&id).cloned())
    }

    pub fn limits(&self) -> TenantLimits {
        self.catalog.read().map(|c| c.limits).unwrap_or_default()
    }

    pub fn user(&self, id: UserId) -> Option<ActorRef<UserMsg>> {
        self.users.get(&id).map(|r| r.value().clone())
    }
    pub fn service(&self, id: ServiceId) -> Option<ActorRef<ServiceMsg>> {
        self.services.get(&id).map(|r| r.value().clone())
    }
    pub fn task(&self, id: TaskId) -> Option<ActorRef<TaskMsg>> {
        self.tasks.get(&id).map(|r| r.value().clone())
    }

    pub fn to_user(&self, id: UserId, msg: UserMsg) -> bool {
        match self.user(id) {
            Some(a) => tell(&a, msg),
            None => false,
        }
    }
    pub fn to_service(&self, id: ServiceId, msg: ServiceMsg) -> bool {
        match self.service(id) {
            Some(a) => tell(&a, msg),
            None => false,
        }
    }
    pub fn to_task(&self, id: TaskId, msg: TaskMsg) -> bool {
        match self.task(id) {
            Some(a) => tell(&a, msg),
            None => false,
        }
    }

    pub fn record_decision(&self, d: Decision) {
        self.decisions.record(d);
    }
}

/// The built-in On Duty and Off Duty profiles, present whether or not the store lists them.
pub(crate) fn builtin_profiles(tenant: TenantId) -> [ResponsibilityProfile; 2] {
    use stratus_routing::config::ProfileKind;
    [
        ResponsibilityProfile {
            id: ResponsibilityProfile::ON_DUTY,
            tenant,
            name: "On Duty".into(),
            kind: ProfileKind::OnDuty,
        },
        ResponsibilityProfile {
            id: ResponsibilityProfile::OFF_DUTY,
            tenant,
            name: "Off Duty".into(),
            kind: ProfileKind::OffDuty,
        },
    ]
}
