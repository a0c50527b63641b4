//! The tenant directory: running tenants by id and by Microsoft 365 tenant id, read on the hot
//! path (every webhook) without passing through any actor.

use crate::shared::TenantShared;
use crate::tenant::TenantMsg;
use dashmap::DashMap;
use ractor::ActorRef;
use std::sync::Arc;
use stratus_routing::ids::{M365TenantId, TenantId};

/// A running tenant: its supervisor and its shared state.
#[derive(Clone)]
pub(crate) struct TenantEntry {
    pub actor: ActorRef<TenantMsg>,
    pub shared: Arc<TenantShared>,
}

#[derive(Default)]
pub(crate) struct TenantDirectory {
    tenants: DashMap<TenantId, TenantEntry>,
    by_m365: DashMap<M365TenantId, TenantId>,
}

impl TenantDirectory {
    pub fn get(&self, id: TenantId) -> Option<TenantEntry> {
        self.tenants.get(&id).map(|e| e.value().clone())
    }

    pub fn by_m365(&self, m365: &M365TenantId) -> Option<TenantId> {
        self.by_m365.get(m365).map(|e| *e.value())
    }

    pub fn insert(&self, entry: TenantEntry) {
        self.by_m365.insert(entry.shared.m365, entry.shared.id);
        self.tenants.insert(entry.shared.id, entry);
    }

    /// Removes the tenant if `actor` is still the one registered.
    pub fn remove_if_actor(&self, id: TenantId, actor: ractor::ActorId) -> Option<TenantEntry> {
        let (_, e) = self
            .tenants
            .remove_if(&id, |_, e| e.actor.get_id() == actor)?;
        self.by_m365.remove_if(&e.shared.m365, |_, t| *t == id);
        Some(e)
    }

    /// The tenant whose supervisor is `actor`.
    pub fn by_actor(&self, actor: ractor::ActorId) -> Option<TenantId> {
        self.tenants
            .iter()
            .find(|e| e.value().actor.get_id() == actor)
            .map(|e| *e.key())
    }
}
