//! The ports the runtime is given: call control, store and event sink.

use std::sync::Arc;
use stratus_routing::port::{CallControl, EventSink, Store};

/// The outside world, as the composition root wires it in.
#[derive(Clone)]
pub struct Ports {
    pub calls: Arc<dyn CallControl>,
    pub store: Arc<dyn Store>,
    pub sink: Arc<dyn EventSink>,
}
