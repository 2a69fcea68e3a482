//! The HTTP API: one module per area, handlers that parse, call a `coup-core`
//! service through [`write`] or [`read`], and convert the result. No rule lives here.

pub(crate) mod accounts;
pub(crate) mod admin;
pub(crate) mod content;
pub(crate) mod files;
pub(crate) mod me;
pub(crate) mod studies;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::get;
use coup_core::store::Tx;
use coup_core::{Outcome, Result};

use tower_http::timeout::TimeoutLayer;

use crate::error::ApiResult;
use crate::ops;
use crate::state::AppState;

/// Runs a mutating operation in one transaction and returns its value.
pub(crate) async fn write<T, F>(app: &AppState, op: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Tx) -> Result<Outcome<T>> + Send + 'static,
{
    Ok(app.core.write(op).await?.value)
}

/// Runs a read-only operation.
pub(crate) async fn read<T, F>(app: &AppState, op: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Tx) -> Result<T> + Send + 'static,
{
    Ok(app.core.read(op).await?)
}

/// The whole API, without transport concerns (timeouts, tracing, CORS), which
/// [`crate::app`] adds.
pub fn api(state: AppState) -> Router {
    let config = state.config.clone();
    let timeout = |secs| {
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(secs))
    };
    Router::new()
        .merge(accounts::routes())
        .merge(me::routes())
        .merge(studies::routes())
        .merge(content::routes())
        .merge(admin::routes())
        .layer(DefaultBodyLimit::max(config.json_body_limit))
        .layer(timeout(config.request_timeout_secs))
        .merge(files::routes().layer(timeout(config.transfer_timeout_secs)))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        // GET /api/openapi.json and the Swagger UI at GET /api/docs.
        .merge(crate::openapi::routes())
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .with_state(state)
}
