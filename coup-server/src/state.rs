//! What every handler can reach: the core, blob storage, limits and metrics.

use std::sync::Arc;

use coup_core::Core;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::blobs::Blobs;
use crate::bus::Bus;
use crate::config::Config;
use crate::gateway::Gateway;
use crate::ratelimit::LoginLimiter;

/// Shared, cheaply cloneable server state.
#[derive(Clone)]
pub struct AppState {
    /// The CoUp core over the configured store.
    pub core: Core,
    /// Uploaded file bytes.
    pub blobs: Blobs,
    /// Login attempt limits.
    pub login_limiter: Arc<LoginLimiter>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The configuration the server runs with.
    pub config: Arc<Config>,
    /// The real-time gateway.
    pub gateway: Arc<Gateway>,
    /// The bus to the other nodes, when several serve one platform.
    pub bus: Option<Arc<Bus>>,
}
