//! The HTTP API: one module per area, handlers that parse, call a `coup-core`
//! service through `write` or `read`, and convert the result. No rule lives here.

pub(crate) mod accounts;
pub(crate) mod admin;
pub(crate) mod content;
pub(crate) mod files;
pub(crate) mod me;
pub(crate) mod studies;

use std::time::Duration;

use std::future::{Ready, ready};
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use coup_core::store::Tx;
use coup_core::{Error, Outcome, Result};
use futures_util::future::Either;
use tower::{Layer, Service};

use tower_http::timeout::TimeoutLayer;

use crate::error::{ApiError, ApiResult};
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
        .layer(BodyLimit(config.json_body_limit))
        .layer(timeout(config.request_timeout_secs))
        .merge(files::routes().layer(timeout(config.transfer_timeout_secs)))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        // GET /api/openapi.json and the Swagger UI at GET /api/docs.
        .merge(crate::openapi::routes())
        // The web UI for browsers' paths; the JSON 404 for the rest.
        .fallback(crate::web::fallback)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .with_state(state)
}

/// A route's body limit: the extractors' limit (axum's [`DefaultBodyLimit`]),
/// and a request that declares a longer body (`Content-Length`) is refused with
/// 413 `PAYLOAD_TOO_LARGE` at once, before a byte of it is read. Nested limits
/// each apply, so the innermost (smallest) one decides.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimit(pub usize);

impl<S> Layer<S> for BodyLimit {
    type Service = BodyLimitService<<DefaultBodyLimit as Layer<S>>::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyLimitService {
            limit: self.0,
            inner: DefaultBodyLimit::max(self.0).layer(inner),
        }
    }
}

/// The service of [`BodyLimit`].
#[derive(Debug, Clone)]
pub(crate) struct BodyLimitService<S> {
    limit: usize,
    inner: S,
}

impl<S, B> Service<Request<B>> for BodyLimitService<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<std::result::Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let limit = u64::try_from(self.limit).unwrap_or(u64::MAX);
        match declared {
            Some(length) if length > limit => {
                let refused = ApiError(Error::PayloadTooLarge { limit }).into_response();
                Either::Left(ready(Ok(refused)))
            }
            _ => Either::Right(self.inner.call(request)),
        }
    }
}
