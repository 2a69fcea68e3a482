//! # coup-server
//!
//! The CoUp HTTP server over `coup-core`: REST API, file storage, configuration
//! and operations. Handlers are thin: parse, call the core, convert.
//!
//! - [`cli`]: the `coup-server` command (serve, migrate, create-admin).
//! - [`config`]: layered configuration (defaults, TOML, `COUP_*`, flags).
//! - [`demo`]: the demo data `--demo` seeds.
//! - [`routes`]: the API, one module per area.
//! - [`extract`], [`error`]: request parsing and the error → response mapping.
//! - [`blobs`]: uploaded file bytes on disk.
//! - [`ratelimit`]: login attempt limits.
//! - [`listener`]: the accept loop: connection limit, header timeout, graceful shutdown.
//! - [`ops`]: health, readiness, metrics, request middleware, shutdown.
//! - `state`: `AppState`, what every handler is given.
//! - [`gateway`]: the real-time WebSocket gateway (`/ws`): the hub and one task set per connection.
//! - [`bus`]: the Redis bus between the nodes of one platform.
//! - [`openapi`]: the OpenAPI 3.1 document (`/api/openapi.json`) and Swagger UI (`/api/docs`).
//! - [`web`]: the web UI at `/`, embedded at build time (off with `--api-only`).

pub mod blobs;
pub mod bus;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod extract;
pub mod gateway;
pub mod listener;
pub mod openapi;
pub mod ops;
pub mod ratelimit;
pub mod routes;
pub mod state;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use coup_core::{Core, CoreConfig};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::blobs::Blobs;
use crate::config::Config;
use crate::gateway::{Gateway, GatewaySettings};
use crate::ratelimit::LoginLimiter;
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Any start-up failure, for the CLI to print.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Opens the store and blob directory the configuration names.
pub fn state(config: Config) -> Result<AppState, BoxError> {
    std::fs::create_dir_all(&config.data_dir)?;
    let store = config.open_store()?;
    let gateway = Arc::new(Gateway::new(
        GatewaySettings {
            heartbeat: Duration::from_secs(config.heartbeat_secs.max(1)),
            queue_len: config.ws_queue_len.max(1),
            max_frame_bytes: config.ws_max_frame_bytes,
            frames_per_second: config.ws_frames_per_second,
            replay_limit: config.replay_limit,
            ice_servers: config.ice_servers.clone(),
        },
        config.ws_max_subscriptions,
        config.call_participant_limit,
    )?);
    let session_ttl = chrono::Duration::days(i64::from(config.session_ttl_days));
    // The hub hears every committed event, in commit order, and shares it on the
    // bus when one is configured.
    let bus = match &config.redis {
        Some(url) => Some(Arc::new(bus::connect(
            bus::BusSettings {
                url: url.clone(),
                channel: config.redis_channel.clone(),
                refresh: Duration::from_secs(config.presence_refresh_secs.max(1)),
                expiry: Duration::from_secs(config.presence_expiry_secs.max(2)),
            },
            gateway.hub.clone(),
        )?)),
        None => None,
    };
    let core = Core::new(
        store,
        CoreConfig {
            session_ttl,
            hash_wait: Duration::from_millis(config.password_hash_wait_ms),
        },
    )
    .with_event_sink(gateway.hub.clone());
    Ok(AppState {
        core,
        blobs: Blobs::open(config.files_dir())?,
        login_limiter: Arc::new(match &config.redis {
            Some(url) => LoginLimiter::shared(
                config.login_per_account_per_minute,
                config.login_per_ip_per_minute,
                url,
                &config.redis_channel,
            )?,
            None => LoginLimiter::new(
                config.login_per_account_per_minute,
                config.login_per_ip_per_minute,
            ),
        }),
        metrics: ops::metrics_handle(),
        config: Arc::new(config),
        gateway,
        bus,
    })
}

/// The full application: API plus request ids, tracing, metrics and CORS.
pub fn app(state: AppState) -> Router {
    let cors = cors(&state.config.cors_origins);
    let live = Router::new()
        .route("/ws", axum::routing::get(gateway::upgrade))
        .method_not_allowed_fallback(ops::method_not_allowed)
        .with_state(state.clone());
    let router = routes::api(state)
        .merge(live)
        .layer(axum::middleware::from_fn(ops::track))
        .layer(axum::middleware::from_fn(ops::close_if_body_unread));
    let router = match cors {
        Some(layer) => router.layer(layer),
        None => router,
    };
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<axum::body::Body>| {
                let id = req
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", id, method = %req.method(), uri = %req.uri().path())
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn(ops::security_headers))
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(Duration::from_secs(3600)),
    )
}
