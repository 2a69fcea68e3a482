//! The HTTP API: one module per area, handlers that parse, call a `coup-core`
//! service through `write` or `read`, and convert the result. No rule lives here.
//!
//! Each area hands over its routes as utoipa-axum `routes!(...)`, one per path:
//! a handler and its `#[utoipa::path]` annotation (at a path of
//! [`coup_core::api::paths`]) are registered together, so the router and the
//! OpenAPI document ([`crate::openapi`]) list the same operations by construction.
//! An area's routes go through `signed_in`, which gives their operations the
//! area's tag and the bearer scheme, so an annotation states only what is its
//! own; a handler takes [`Api`] (or [`InStudy`] under a study's path) and answers
//! with one of its runs.

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
use coup_core::ids::{StudyId, UserId};
use coup_core::store::Tx;
use coup_core::{Error, Outcome, Result};
use futures_util::future::Either;
use tower::{Layer, Service};

use tower_http::timeout::TimeoutLayer;
use utoipa::openapi::security::SecurityRequirement;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Api, InStudy, Json};
use crate::ops;
use crate::state::AppState;

/// A handler's answer: the value as JSON (200).
pub(crate) type Answer<T> = ApiResult<Json<T>>;
/// A handler's answer for what it made: 201 and the new thing as JSON.
pub(crate) type Created<T> = ApiResult<(StatusCode, Json<T>)>;

/// What an area hands over: its routes, each registered with its documentation.
pub(crate) type Routes = Vec<UtoipaMethodRouter<AppState>>;

/// `routes` of the area `tag` for signed-in callers: each operation gets the tag
/// when it names none, and the bearer scheme when it states no `security` of
/// its own (a public one, like a study search, says `security((), ("bearer" = []))`).
pub(crate) fn signed_in(tag: &str, mut routes: Routes) -> Routes {
    let bearer = SecurityRequirement::new(crate::openapi::BEARER, Vec::<String>::new());
    for (_, paths, _) in &mut routes {
        for item in paths.paths.values_mut() {
            for operation in crate::openapi::operations_mut(item) {
                operation.tags.get_or_insert_with(|| vec![tag.to_owned()]);
                operation
                    .security
                    .get_or_insert_with(|| vec![bearer.clone()]);
            }
        }
    }
    routes
}

/// A service call as a handler's answer: each runs `op` as the caller, whose
/// session is checked in the same transaction.
impl Api {
    /// A read-only operation; answers with its value.
    pub(crate) async fn read<T, F>(&self, op: F) -> Answer<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx, Option<UserId>) -> Result<T> + Send + 'static,
    {
        let bearer = self.bearer.clone();
        let read = self.app.core.read(move |tx| {
            let caller = bearer.caller(tx)?;
            op(tx, caller)
        });
        Ok(Json(read.await?))
    }

    /// A mutating operation in one transaction; answers with its value.
    pub(crate) async fn write<T, F>(&self, op: F) -> Answer<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx, Option<UserId>) -> Result<Outcome<T>> + Send + 'static,
    {
        let bearer = self.bearer.clone();
        let write = write(&self.app, move |tx| {
            let caller = bearer.caller(tx)?;
            op(tx, caller)
        });
        write.await.map(Json)
    }

    /// [`Api::write`] of something new: 201 with its value.
    pub(crate) async fn created<T, F>(&self, op: F) -> Created<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx, Option<UserId>) -> Result<Outcome<T>> + Send + 'static,
    {
        Ok((StatusCode::CREATED, self.write(op).await?))
    }

    /// [`Api::write`] answered with 204 alone.
    pub(crate) async fn no_content<T, F>(&self, op: F) -> ApiResult<StatusCode>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx, Option<UserId>) -> Result<Outcome<T>> + Send + 'static,
    {
        self.write(op).await?;
        Ok(StatusCode::NO_CONTENT)
    }
}

/// [`Api`]'s runs for an operation on the study of the path, which it is given.
impl InStudy {
    /// [`Api::read`] in the study.
    pub(crate) async fn read<T, F>(&self, op: F) -> Answer<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx, Option<UserId>, StudyId) -> Result<T> + Send + 'static,
    {
        let id = self.id;
        self.api.read(move |tx, caller| op(tx, caller, id)).await
    }

    /// [`Api::write`] in the study.
    pub(crate) async fn write<T, F>(&self, op: F) -> Answer<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx, Option<UserId>, StudyId) -> Result<Outcome<T>> + Send + 'static,
    {
        let id = self.id;
        self.api.write(move |tx, caller| op(tx, caller, id)).await
    }

    /// [`Api::created`] in the study.
    pub(crate) async fn created<T, F>(&self, op: F) -> Created<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx, Option<UserId>, StudyId) -> Result<Outcome<T>> + Send + 'static,
    {
        let id = self.id;
        self.api.created(move |tx, caller| op(tx, caller, id)).await
    }

    /// [`Api::no_content`] in the study.
    pub(crate) async fn no_content<T, F>(&self, op: F) -> ApiResult<StatusCode>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx, Option<UserId>, StudyId) -> Result<Outcome<T>> + Send + 'static,
    {
        let id = self.id;
        self.api
            .no_content(move |tx, caller| op(tx, caller, id))
            .await
    }
}

/// Runs a mutating operation in one transaction and returns its value.
pub(crate) async fn write<T, F>(app: &AppState, op: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Tx) -> Result<Outcome<T>> + Send + 'static,
{
    Ok(app.core.write(op).await?.value)
}

/// The whole API, without transport concerns (timeouts, tracing, CORS), which
/// [`crate::app`] adds.
pub fn api(state: AppState) -> Router {
    let (router, registered) = documented(&state.config).split_for_parts();
    router
        // GET /api/openapi.json and the Swagger UI at GET /api/docs.
        .merge(crate::openapi::routes(crate::openapi::assemble(registered)))
        // The web UI for browsers' paths; the JSON 404 for the rest.
        .fallback(crate::web::fallback)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .with_state(state)
}

/// Every documented route with its layers: JSON operations with the body limit and
/// the request timeout, file transfers with the transfer timeout, and the probes.
pub(crate) fn documented(config: &Config) -> OpenApiRouter<AppState> {
    let timeout = |secs| {
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(secs))
    };
    let json = [
        accounts::routes(),
        me::routes(),
        studies::routes(),
        content::routes(),
        admin::routes(),
    ];
    registered(json.into_iter().flatten())
        .layer(BodyLimit(config.json_body_limit))
        .layer(timeout(config.request_timeout_secs))
        .merge(registered(files::routes()).layer(timeout(config.transfer_timeout_secs)))
        .merge(registered(ops::routes()))
}

/// A router of `routes` and their documentation.
fn registered(
    routes: impl IntoIterator<Item = UtoipaMethodRouter<AppState>>,
) -> OpenApiRouter<AppState> {
    routes
        .into_iter()
        .fold(OpenApiRouter::default(), OpenApiRouter::routes)
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
