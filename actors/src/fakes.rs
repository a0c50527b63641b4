//! In-memory implementations of the ports, for tests and for the demo: a [`MemoryStore`], a
//! [`RecordingSink`] that keeps every record, and a [`RecordingCallControl`] that accepts (or, on
//! demand, refuses) every command and keeps them in order. None of them does I/O, so they work
//! under tokio's paused time.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use stratus_routing::config::{
    DistributionPolicy, NotAvailableReason, ResponsibilityProfile, ServiceConfig, Skill,
    SkillCategory, Tenant, UserConfig,
};
use stratus_routing::facts::{ServiceSessionFact, UserSessionFact, UserStateInterval};
use stratus_routing::ids::{ServiceId, TaskId, TenantId, UserId};
use stratus_routing::port::{
    BoxFuture, CallCommand, CallControl, CallControlError, EventSink, LiveTaskSnapshot, Record,
    Store, StoreError, TenantSnapshot,
};
use stratus_routing::task::TaskEvent;
use stratus_routing::time::Instant;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned fake is still usable: the data is plain values.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Default, Clone)]
struct TenantData {
    tenant: Option<Tenant>,
    services: BTreeMap<ServiceId, ServiceConfig>,
    users: BTreeMap<UserId, UserConfig>,
    skill_categories: Vec<SkillCategory>,
    skills: Vec<Skill>,
    profiles: Vec<ResponsibilityProfile>,
    policies: Vec<DistributionPolicy>,
    reasons: Vec<NotAvailableReason>,
    live: BTreeMap<TaskId, LiveTaskSnapshot>,
}

#[derive(Default)]
struct StoreData {
    tenants: BTreeMap<TenantId, TenantData>,
    events: Vec<TaskEvent>,
    service_sessions: Vec<ServiceSessionFact>,
    user_sessions: Vec<UserSessionFact>,
    user_states: Vec<UserStateInterval>,
}

/// A `Store` in memory. Saving into an unknown tenant creates it implicitly.
#[derive(Default, Clone)]
pub struct MemoryStore {
    data: Arc<Mutex<StoreData>>,
}

fn upsert_by<T: Clone, K: PartialEq>(v: &mut Vec<T>, item: T, key: impl Fn(&T) -> K) {
    let k = key(&item);
    match v.iter_mut().find(|x| key(x) == k) {
        Some(x) => *x = item,
        None => v.push(item),
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces a tenant's whole configuration (tests, demo seeding).
    pub fn put_snapshot(&self, s: TenantSnapshot) {
        let mut d = lock(&self.data);
        let t = d.tenants.entry(s.tenant.id).or_default();
        t.tenant = Some(s.tenant);
        t.services = s.services.into_iter().map(|x| (x.id, x)).collect();
        t.users = s.users.into_iter().map(|x| (x.id, x)).collect();
        t.skill_categories = s.skill_categories;
        t.skills = s.skills;
        t.profiles = s.profiles;
        t.policies = s.policies;
        t.reasons = s.not_available_reasons;
    }

    /// Live-task snapshots currently stored for a tenant.
    pub fn live_tasks(&self, tenant: TenantId) -> Vec<LiveTaskSnapshot> {
        lock(&self.data)
            .tenants
            .get(&tenant)
            .map(|t| t.live.values().cloned().collect())
            .unwrap_or_default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut StoreData) -> T) -> T {
        f(&mut lock(&self.data))
    }
}

fn ready<'a, T: Send + 'a>(v: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(v))
}

impl Store for MemoryStore {
    fn list_tenants(&self) -> BoxFuture<'_, Result<Vec<Tenant>, StoreError>> {
        ready(Ok(self.with(|d| {
            d.tenants
                .values()
                .filter_map(|t| t.tenant.clone())
                .collect()
        })))
    }
    fn save_tenant(&self, tenant: Tenant) -> BoxFuture<'_, Result<(), StoreError>> {
        let id = tenant.id;
        self.with(|d| d.tenants.entry(id).or_default().tenant = Some(tenant));
        ready(Ok(()))
    }
    fn load_tenant(&self, tenant: TenantId) -> BoxFuture<'_, Result<TenantSnapshot, StoreError>> {
        let r = self.with(|d| {
            let t = d.tenants.get(&tenant).ok_or_else(|| StoreError::NotFound {
                entity: "tenant",
                id: tenant.to_string(),
            })?;
            let tenant = t.tenant.clone().ok_or_else(|| StoreError::NotFound {
                entity: "tenant",
                id: tenant.to_string(),
            })?;
            Ok(TenantSnapshot {
                tenant,
                services: t.services.values().cloned().collect(),
                users: t.users.values().cloned().collect(),
                skill_categories: t.skill_categories.clone(),
                skills: t.skills.clone(),
                profiles: t.profiles.clone(),
                policies: t.policies.clone(),
                not_available_reasons: t.reasons.clone(),
            })
        });
        ready(r)
    }
    fn save_service(&self, service: ServiceConfig) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| {
            d.tenants
                .entry(service.tenant)
                .or_default()
                .services
                .insert(service.id, service)
        });
        ready(Ok(()))
    }
    fn delete_service(
        &self,
        tenant: TenantId,
        service: ServiceId,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| {
            if let Some(t) = d.tenants.get_mut(&tenant) {
                t.services.remove(&service);
            }
        });
        ready(Ok(()))
    }
    fn save_user(&self, user: UserConfig) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| {
            d.tenants
                .entry(user.tenant)
                .or_default()
                .users
                .insert(user.id, user)
        });
        ready(Ok(()))
    }
    fn delete_user(&self, tenant: TenantId, user: UserId) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| {
            if let Some(t) = d.tenants.get_mut(&tenant) {
                t.users.remove(&user);
            }
        });
        ready(Ok(()))
    }
    fn save_skill_category(&self, c: SkillCategory) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| {
            let t = d.tenants.entry(c.tenant).or_default();
            upsert_by(&mut t.skill_categories, c, |x| x.id);
        });
        ready(Ok(()))
    }
    fn save_skill(&self, s: Skill) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| {
            let t = d.tenants.entry(s.tenant).or_default();
            upsert_by(&mut t.skills, s, |x| x.id);
        });
        ready(Ok(()))
    }
    fn save_profile(&self, p: ResponsibilityProfile) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| {
            let t = d.tenants.entry(p.tenant).or_default();
            upsert_by(&mut t.profiles, p, |x| x.id);
        });
        ready(Ok(()))
    }
    fn save_policy(&self, p: DistributionPolicy) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| {
            let t = d.tenants.entry(p.tenant).or_default();
            upsert_by(&mut t.policies, p, |x| x.id);
        });
        ready(Ok(()))
    }
    fn save_not_available_reason(
        &self,
        r: NotAvailableReason,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| {
            let t = d.tenants.entry(r.tenant).or_default();
            upsert_by(&mut t.reasons, r, |x| x.id);
        });
        ready(Ok(()))
    }
    fn snapshot_live_task(&self, s: LiveTaskSnapshot) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| {
            d.tenants
                .entry(s.tenant)
                .or_default()
                .live
                .insert(s.task, s)
        });
        ready(Ok(()))
    }
    fn remove_live_task(
        &self,
        tenant: TenantId,
        task: TaskId,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| {
            if let Some(t) = d.tenants.get_mut(&tenant) {
                t.live.remove(&task);
            }
        });
        ready(Ok(()))
    }
    fn load_live_tasks(
        &self,
        tenant: TenantId,
    ) -> BoxFuture<'_, Result<Vec<LiveTaskSnapshot>, StoreError>> {
        ready(Ok(self.live_tasks(tenant)))
    }
    fn append_events(&self, events: Vec<TaskEvent>) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| d.events.extend(events));
        ready(Ok(()))
    }
    fn task_events(
        &self,
        tenant: TenantId,
        task: TaskId,
    ) -> BoxFuture<'_, Result<Vec<TaskEvent>, StoreError>> {
        ready(Ok(self.with(|d| {
            d.events
                .iter()
                .filter(|e| e.tenant == tenant && e.task == task)
                .cloned()
                .collect()
        })))
    }
    fn record_service_sessions(
        &self,
        facts: Vec<ServiceSessionFact>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| d.service_sessions.extend(facts));
        ready(Ok(()))
    }
    fn record_user_sessions(
        &self,
        facts: Vec<UserSessionFact>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| d.user_sessions.extend(facts));
        ready(Ok(()))
    }
    fn record_user_states(
        &self,
        facts: Vec<UserStateInterval>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|d| d.user_states.extend(facts));
        ready(Ok(()))
    }
    fn service_sessions(
        &self,
        tenant: TenantId,
        task: Option<TaskId>,
    ) -> BoxFuture<'_, Result<Vec<ServiceSessionFact>, StoreError>> {
        ready(Ok(self.with(|d| {
            d.service_sessions
                .iter()
                .filter(|f| f.tenant == tenant && task.is_none_or(|t| f.task == t))
                .cloned()
                .collect()
        })))
    }
    fn user_sessions(
        &self,
        tenant: TenantId,
        task: Option<TaskId>,
    ) -> BoxFuture<'_, Result<Vec<UserSessionFact>, StoreError>> {
        ready(Ok(self.with(|d| {
            d.user_sessions
                .iter()
                .filter(|f| f.tenant == tenant && task.is_none_or(|t| f.task == t))
                .cloned()
                .collect()
        })))
    }
    fn purge_context(&self, _before: Instant) -> BoxFuture<'_, Result<u64, StoreError>> {
        ready(Ok(0))
    }
}

/// An `EventSink` that keeps every record, in order. With a store attached it also applies
/// live-task snapshots and their end to it, as the real batched writer does.
#[derive(Default, Clone)]
pub struct RecordingSink {
    records: Arc<Mutex<Vec<Record>>>,
    store: Option<MemoryStore>,
}

impl RecordingSink {
    pub fn new() -> Self {
        Self::default()
    }
    /// Also writes live-task snapshots into `store` (so a restarted node finds them).
    pub fn writing_to(store: MemoryStore) -> Self {
        RecordingSink {
            records: Arc::default(),
            store: Some(store),
        }
    }
    pub fn records(&self) -> Vec<Record> {
        lock(&self.records).clone()
    }
    /// Task events of one task, in order.
    pub fn events(&self, task: TaskId) -> Vec<TaskEvent> {
        lock(&self.records)
            .iter()
            .filter_map(|r| match r {
                Record::TaskEvent(e) if e.task == task => Some(e.clone()),
                _ => None,
            })
            .collect()
    }
    pub fn clear(&self) {
        lock(&self.records).clear();
    }
}

impl EventSink for RecordingSink {
    fn emit(&self, record: Record) {
        if let Some(store) = &self.store {
            store.with(|d| match &record {
                Record::LiveTask(s) => {
                    d.tenants
                        .entry(s.tenant)
                        .or_default()
                        .live
                        .insert(s.task, (**s).clone());
                }
                Record::LiveTaskEnded { tenant, task } => {
                    if let Some(t) = d.tenants.get_mut(tenant) {
                        t.live.remove(task);
                    }
                }
                _ => {}
            });
        }
        lock(&self.records).push(record);
    }
}

/// A `CallControl` that records every command in order. Actions listed with
/// [`RecordingCallControl::fail`] are refused with a transport error; with
/// [`RecordingCallControl::gone`], as if the call no longer existed.
#[derive(Default, Clone)]
pub struct RecordingCallControl {
    commands: Arc<Mutex<Vec<CallCommand>>>,
    failing: Arc<Mutex<HashMap<&'static str, (u32, CallControlError)>>>,
}

impl RecordingCallControl {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn commands(&self) -> Vec<CallCommand> {
        lock(&self.commands).clone()
    }
    /// The next `times` commands whose action is named `action` (e.g. "ring_agent") fail.
    pub fn fail(&self, action: &'static str, times: u32) {
        let e = CallControlError::Transport("injected failure".into());
        lock(&self.failing).insert(action, (times, e));
    }
    /// The next `times` commands named `action` find the call gone.
    pub fn gone(&self, action: &'static str, times: u32) {
        lock(&self.failing).insert(action, (times, CallControlError::CallGone));
    }
}

impl CallControl for RecordingCallControl {
    fn execute(&self, cmd: CallCommand) -> BoxFuture<'_, Result<(), CallControlError>> {
        let n = cmd.action.name();
        let fail = {
            let mut f = lock(&self.failing);
            match f.get_mut(n) {
                Some((left, e)) if *left > 0 => {
                    *left -= 1;
                    Some(e.clone())
                }
                _ => None,
            }
        };
        lock(&self.commands).push(cmd);
        ready(fail.map_or(Ok(()), Err))
    }
}
