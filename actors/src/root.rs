//! The node root: supervises the tenant supervisors. A failed tenant is reloaded from the store
//! (spawned, the result cast back) and restarted with backoff; on shutdown (the cancellation
//! token) it stops every tenant and waits for them.

use crate::directory::{TenantDirectory, TenantEntry};
use crate::metrics::{self, Kind};
use crate::shared::{Runtime, TenantShared};
use crate::tenant::{TenantActor, TenantArgs};
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use stratus_routing::ids::TenantId;
use stratus_routing::port::{LiveTaskSnapshot, StoreError, TenantSnapshot};
use tokio_util::sync::CancellationToken;

pub(crate) struct NodeRoot;

pub(crate) enum RootMsg {
    Reloaded(
        TenantId,
        Result<(TenantSnapshot, Vec<LiveTaskSnapshot>), StoreError>,
    ),
}

pub(crate) struct RootArgs {
    pub rt: Arc<Runtime>,
    pub dir: Arc<TenantDirectory>,
    pub token: CancellationToken,
}

pub(crate) struct RootState {
    rt: Arc<Runtime>,
    dir: Arc<TenantDirectory>,
    restarts: HashMap<TenantId, VecDeque<tokio::time::Instant>>,
    /// Live-task snapshots of a failed tenant, kept until it is rebuilt: the store's copy lags
    /// behind by the writer's batch, and a task it never saw must not be stranded.
    held: HashMap<TenantId, Vec<LiveTaskSnapshot>>,
}

/// Loads a tenant's configuration and live tasks (slow I/O: never inside a handler).
pub(crate) async fn load(
    rt: &Runtime,
    tenant: TenantId,
) -> Result<(TenantSnapshot, Vec<LiveTaskSnapshot>), StoreError> {
    let snapshot = rt.ports.store.load_tenant(tenant).await?;
    let live = rt.ports.store.load_live_tasks(tenant).await?;
    Ok((snapshot, live))
}

/// Spawns a tenant supervisor under the root and registers it in the directory.
pub(crate) async fn start_tenant(
    root: &ActorRef<RootMsg>,
    rt: &Arc<Runtime>,
    dir: &TenantDirectory,
    snapshot: TenantSnapshot,
    live: Vec<LiveTaskSnapshot>,
) -> Result<TenantEntry, ractor::SpawnErr> {
    let shared = Arc::new(TenantShared::new(rt.clone(), &snapshot));
    let args = TenantArgs {
        shared: shared.clone(),
        snapshot,
        live,
    };
    let (actor, _) = Actor::spawn_linked(None, TenantActor, args, root.get_cell()).await?;
    let entry = TenantEntry { actor, shared };
    dir.insert(entry.clone());
    Ok(entry)
}

impl Actor for NodeRoot {
    type Msg = RootMsg;
    type State = RootState;
    type Arguments = RootArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<RootMsg>,
        args: RootArgs,
    ) -> Result<RootState, ActorProcessingErr> {
        let token = args.token;
        let me = myself.clone();
        tokio::spawn(async move {
            token.cancelled().await;
            me.stop(Some("shutdown".into()));
        });
        Ok(RootState {
            rt: args.rt,
            dir: args.dir,
            restarts: HashMap::new(),
            held: HashMap::new(),
        })
    }

    async fn post_stop(
        &self,
        myself: ActorRef<RootMsg>,
        _state: &mut RootState,
    ) -> Result<(), ActorProcessingErr> {
        myself
            .drain_children_and_wait(Some(Duration::from_secs(10)))
            .await;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<RootMsg>,
        msg: RootMsg,
        state: &mut RootState,
    ) -> Result<(), ActorProcessingErr> {
        metrics::received(Kind::Root);
        match msg {
            RootMsg::Reloaded(tenant, Ok((snapshot, live))) => {
                // A configuration write may have started the tenant during the backoff: a
                // second supervisor would duplicate every actor.
                if state.dir.get(tenant).is_some() {
                    state.held.remove(&tenant);
                    return Ok(());
                }
                // The in-memory snapshots are at least as new as the stored ones.
                let mut live = live;
                for held in state.held.remove(&tenant).unwrap_or_default() {
                    match live.iter_mut().find(|l| l.task == held.task) {
                        Some(l) if l.seq <= held.seq => *l = held,
                        Some(_) => {}
                        None => live.push(held),
                    }
                }
                metrics::restart(Kind::Tenant);
                if let Err(e) = start_tenant(&myself, &state.rt, &state.dir, snapshot, live).await {
                    tracing::error!(%tenant, error = %e, "tenant restart failed; retrying");
                    schedule_reload(&myself, state, tenant);
                }
            }
            RootMsg::Reloaded(tenant, Err(e)) => {
                tracing::error!(%tenant, error = %e, "tenant reload failed; retrying");
                schedule_reload(&myself, state, tenant);
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<RootMsg>,
        event: SupervisionEvent,
        state: &mut RootState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, err) => {
                let Some(tenant) = state.dir.by_actor(cell.get_id()) else {
                    return Ok(());
                };
                if let Some(entry) = state.dir.remove_if_actor(tenant, cell.get_id()) {
                    let held: Vec<LiveTaskSnapshot> = entry
                        .shared
                        .snapshots
                        .iter()
                        .map(|e| e.value().clone())
                        .collect();
                    state.held.insert(tenant, held);
                }
                // Calls of the dead tenant route nowhere until it is rebuilt (which registers
                // the ones it restores again).
                state.rt.calls.retain(|_, (t, _)| *t != tenant);
                metrics::failure(Kind::Tenant);
                state.rt.note_failure(format!("tenant {tenant}: {err}"));
                tracing::error!(%tenant, error = %err, "tenant supervisor failed");
                schedule_reload(&myself, state, tenant);
            }
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                if let Some(tenant) = state.dir.by_actor(cell.get_id()) {
                    state.dir.remove_if_actor(tenant, cell.get_id());
                }
            }
            SupervisionEvent::ActorStarted(_) | SupervisionEvent::ProcessGroupChanged(_) => {}
        }
        Ok(())
    }
}

/// Reloads a tenant after its backoff, within the restart-intensity limit.
fn schedule_reload(myself: &ActorRef<RootMsg>, state: &mut RootState, tenant: TenantId) {
    let policy = state.rt.config.restart;
    let now = tokio::time::Instant::now();
    let times = state.restarts.entry(tenant).or_default();
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) > policy.window)
    {
        times.pop_front();
    }
    if times.len() >= policy.max_restarts as usize {
        metrics::given_up(Kind::Tenant);
        tracing::error!(%tenant, "tenant restart limit reached: giving up");
        state.held.remove(&tenant);
        return;
    }
    let backoff = policy.backoff(times.len() as u32);
    times.push_back(now);
    let rt = state.rt.clone();
    let me = myself.clone();
    tokio::spawn(async move {
        tokio::time::sleep(backoff).await;
        let result = load(&rt, tenant).await;
        metrics::sent(Kind::Root);
        if me.cast(RootMsg::Reloaded(tenant, result)).is_err() {
            metrics::dropped(Kind::Root);
        }
    });
}
