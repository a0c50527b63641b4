//! The test world: a tenant with services and users in a `MemoryStore`, a node started under a
//! test root, and helpers to drive calls and read what happened.

use crate::fakes::{MemoryStore, RecordingCallControl, RecordingSink};
use crate::{Node, NodeConfig, Ports};
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stratus_routing::config::*;
use stratus_routing::ids::*;
use stratus_routing::model::*;
use stratus_routing::port::{
    CallAction, CallEvent, CallEventKind, CallerInfo, Record, TenantSnapshot,
};
use stratus_routing::task::{TaskEvent, TaskEventKind};

pub const TENANT: TenantId = TenantId::from_u128(0xA);
pub const M365: M365TenantId = M365TenantId::from_u128(0xA365);

pub fn s(n: u128) -> ServiceId {
    ServiceId::from_u128(0x5000 + n)
}
pub fn u(n: u128) -> UserId {
    UserId::from_u128(0x1000 + n)
}
pub fn app(n: u128) -> String {
    format!("app-{n}")
}
pub fn name_user(id: UserId) -> String {
    format!("u{}", id.0.0 - 0x1000)
}

pub fn service(n: u128, distribution: Distribution) -> ServiceConfig {
    ServiceConfig {
        id: s(n),
        tenant: TENANT,
        name: format!("service {n}"),
        display_name: format!("Service {n}"),
        app_instance_id: Some(app(n)),
        distribution,
        ..ServiceConfig::default()
    }
}

pub fn user(n: u128, services: &[u128]) -> UserConfig {
    UserConfig {
        id: u(n),
        tenant: TENANT,
        upn: format!("user{n}@example.com"),
        display_name: format!("User {n}"),
        memberships: services
            .iter()
            .map(|sv| Membership {
                service: s(*sv),
                role: Role::Agent,
                active: true,
            })
            .collect(),
        skills: Vec::new(),
        profiles: Vec::new(),
        active_profile: ResponsibilityProfile::ON_DUTY,
        not_available_reasons: Vec::new(),
        capacity: Capacity::default(),
    }
}

pub fn snapshot(services: Vec<ServiceConfig>, users: Vec<UserConfig>) -> TenantSnapshot {
    TenantSnapshot {
        tenant: Tenant {
            id: TENANT,
            partner: None,
            name: "Tenant A".into(),
            m365_tenant: M365,
            limits: TenantLimits::default(),
        },
        services,
        users,
        skill_categories: Vec::new(),
        skills: Vec::new(),
        profiles: Vec::new(),
        policies: Vec::new(),
        not_available_reasons: Vec::new(),
    }
}

pub fn available(seq: u64) -> Presence {
    Presence {
        availability: Availability::Available,
        activity: Activity::Available,
        sequence: seq,
    }
}

/// Supervises the node root: any failure or unexpected stop of it is recorded.
struct TestRoot;

impl Actor for TestRoot {
    type Msg = ();
    type State = Arc<Mutex<Vec<String>>>;
    type Arguments = Arc<Mutex<Vec<String>>>;

    async fn pre_start(
        &self,
        _myself: ActorRef<()>,
        log: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(log)
    }

    async fn handle_supervisor_evt(
        &self,
        _myself: ActorRef<()>,
        event: SupervisionEvent,
        log: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorFailed(_, e) = event {
            log.lock().unwrap().push(format!("node root failed: {e}"));
        }
        Ok(())
    }
}

pub struct World {
    pub node: Node,
    pub store: MemoryStore,
    pub sink: RecordingSink,
    pub calls: RecordingCallControl,
    root_log: Arc<Mutex<Vec<String>>>,
    root: ActorRef<()>,
    presence_seq: u64,
}

impl World {
    pub async fn start(snap: TenantSnapshot) -> World {
        Self::start_with(
            snap,
            NodeConfig {
                bid_window: Duration::ZERO,
                ..NodeConfig::default()
            },
        )
        .await
    }

    pub async fn start_with(snap: TenantSnapshot, config: NodeConfig) -> World {
        let store = MemoryStore::new();
        store.put_snapshot(snap);
        Self::start_on(store, config).await
    }

    /// A node over an existing store (a restart).
    pub async fn start_on(store: MemoryStore, config: NodeConfig) -> World {
        let sink = RecordingSink::writing_to(store.clone());
        let calls = RecordingCallControl::new();
        let ports = Ports {
            calls: Arc::new(calls.clone()),
            store: Arc::new(store.clone()),
            sink: Arc::new(sink.clone()),
        };
        let root_log = Arc::new(Mutex::new(Vec::new()));
        let (root, _) = Actor::spawn(None, TestRoot, root_log.clone())
            .await
            .unwrap();
        let node = Node::start_linked(config, ports, Some(root.get_cell()))
            .await
            .unwrap();
        World {
            node,
            store,
            sink,
            calls,
            root_log,
            root,
            presence_seq: 0,
        }
    }

    /// Lets every actor run until all are idle, moving the paused clock by 1 ms.
    pub async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    /// Moves the paused clock, firing every timer on the way.
    pub async fn wait(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    pub async fn online(&mut self, user: UserId) {
        self.presence_seq += 1;
        self.node
            .presence(TENANT, user, available(self.presence_seq))
            .unwrap();
        self.settle().await;
    }

    pub async fn incoming(&self, call: &str, service: u128) -> TaskId {
        self.node
            .call_event(CallEvent {
                call: CallId::new(call),
                kind: CallEventKind::Incoming {
                    m365_tenant: M365,
                    target: app(service),
                    caller: CallerInfo::default(),
                    call_chain_id: None,
                },
            })
            .unwrap();
        self.settle().await;
        self.task_of(call)
    }

    pub fn task_of(&self, call: &str) -> TaskId {
        let created = self.sink.records().into_iter().find_map(|r| match r {
            Record::TaskEvent(e)
                if e.kind == TaskEventKind::Created
                    && self.event_call(&e).as_deref() == Some(call) =>
            {
                Some(e.task)
            }
            _ => None,
        });
        created.expect("no task created for the call")
    }

    fn event_call(&self, e: &TaskEvent) -> Option<String> {
        // Created events carry no call id; the command log does.
        self.calls
            .commands()
            .iter()
            .find(|c| c.task == e.task)
            .map(|c| c.call.to_string())
    }

    pub async fn platform(&self, call: &str, kind: CallEventKind) {
        self.node
            .call_event(CallEvent {
                call: CallId::new(call),
                kind,
            })
            .unwrap();
        self.settle().await;
    }

    /// Commands sent for one task, compactly.
    pub fn commands(&self, task: TaskId) -> Vec<String> {
        self.calls
            .commands()
            .iter()
            .filter(|c| c.task == task)
            .map(|c| match &c.action {
                CallAction::Answer { .. } => "answer".to_string(),
                CallAction::PlayPrompt { .. } => "play".to_string(),
                CallAction::RingAgent { user, .. } => format!("ring {}", name_user(*user)),
                CallAction::CancelRing { user, .. } => format!("cancel {}", name_user(*user)),
                CallAction::RemoveAgent { user, .. } => format!("remove {}", name_user(*user)),
                CallAction::Bridge { user, .. } => format!("bridge {}", name_user(*user)),
                CallAction::HangUp => "hangup".to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    /// Events of one task, compactly.
    pub fn events(&self, task: TaskId) -> Vec<String> {
        self.sink
            .events(task)
            .iter()
            .map(|e| match (e.kind, e.user) {
                (TaskEventKind::Terminated, _) => {
                    format!("Terminated({:?})", e.outcome.unwrap())
                }
                (k, Some(u)) => format!("{k:?}({})", name_user(u)),
                (k, None) => format!("{k:?}"),
            })
            .collect()
    }

    /// Stops the node; fails the test if any actor failed unexpectedly.
    pub async fn finish(self) {
        self.finish_expecting(0).await;
    }

    /// Stops the node; exactly `expected` actor failures must have happened.
    pub async fn finish_expecting(self, expected: usize) {
        let failures = self.node.failures();
        let root = self.root_log.lock().unwrap().clone();
        self.node.clone().shutdown().await;
        self.root.stop(None);
        assert!(root.is_empty(), "the node root failed: {root:?}");
        assert_eq!(
            failures.len(),
            expected,
            "unexpected actor failures: {failures:?}"
        );
    }
}
