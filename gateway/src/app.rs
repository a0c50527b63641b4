//! The state every request handler shares: configuration, the store, the running actors, the
//! token verifier and the Graph side.

use crate::auth::Verifier;
use crate::config::Config;
use crate::error::ApiError;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use stratus_actors::Node;
use stratus_graph::adapter::GraphAdapter;
use stratus_routing::ids::{M365TenantId, TenantId};
use stratus_store::FullStore;

/// Cheap to clone: every field is shared.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// Configuration, administration and reporting reads.
    pub store: Arc<dyn FullStore>,
    pub node: Node,
    pub verifier: Verifier,
    /// The Graph side: callback validation and parsing (and the `CallControl` the node uses).
    pub graph: GraphAdapter,
    /// Presence change notifications: validation handshake, `clientState`, stale updates.
    pub presence: Arc<crate::graph::PresenceIntake>,
    pub metrics: PrometheusHandle,
    /// False until every tenant is loaded, and again while shutting down.
    pub ready: Arc<AtomicBool>,
}

impl AppState {
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// The Stratus tenant a token's `tid` names: a Stratus tenant id, or the Microsoft 365
    /// tenant id bound to one. `None` when Stratus does not know it.
    pub async fn resolve_tenant(&self, tid: &str) -> Result<Option<TenantId>, ApiError> {
        if let Ok(m365) = tid.parse::<M365TenantId>()
            && let Some(t) = self.node.tenant_of_m365(&m365)
        {
            return Ok(Some(t));
        }
        let Ok(id) = tid.parse::<TenantId>() else {
            return Ok(None);
        };
        let tenants = self.store.list_tenants().await?;
        Ok(tenants
            .iter()
            .find(|t| t.id == id || t.m365_tenant.0 == id.0)
            .map(|t| t.id))
    }

    /// A tenant's configuration changed in the store: the running actors catch up. The write
    /// itself has succeeded; a failure here is logged and retried by the next change or restart.
    pub async fn tenant_changed(&self, tenant: TenantId) {
        if let Err(e) = self.node.load_tenant(tenant).await {
            tracing::error!(%tenant, error = %e, "could not apply a configuration change to the running tenant");
        }
        self.presence.sync_tenant(Arc::clone(&self.store), tenant);
    }
}
