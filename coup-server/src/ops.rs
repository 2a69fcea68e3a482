//! Operations: health and readiness probes, Prometheus metrics, request
//! middleware (metrics, closing connections whose body was left unread), and
//! shutdown signals. Connections themselves are [`crate::listener`]'s.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use coup_core::api::paths;
use coup_core::error::ErrorBody;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::state::AppState;

/// The process-wide Prometheus recorder (installed once, shared by every server
/// in the process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (e.g. by an embedding
            // program); then this handle renders ours only, which stays empty.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The probes and metrics, documented under the tag `ops`.
pub(crate) fn routes() -> crate::routes::Routes {
    vec![routes!(healthz), routes!(readyz), routes!(metrics)]
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = paths::HEALTHZ,
    tag = "ops",
    responses((status = 200, description = "Always `ok`", body = String, example = "ok")),
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the store answers.
#[utoipa::path(
    get,
    path = paths::READYZ,
    tag = "ops",
    responses(
        (status = 200, description = "`ready`", body = String, example = "ready"),
        (status = 503, description = "`UNAVAILABLE`: the store cannot be reached", body = ErrorBody),
    ),
)]
pub async fn readyz(State(app): State<AppState>) -> ApiResult<&'static str> {
    app.core.store().ping().await?;
    Ok("ready")
}

/// Request counters and latencies in the Prometheus text format.
#[utoipa::path(
    get,
    path = paths::METRICS,
    tag = "ops",
    responses((
        status = 200,
        description = "Prometheus exposition format",
        body = String,
        content_type = "text/plain; version=0.0.4"
    )),
)]
pub async fn metrics(State(app): State<AppState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        app.metrics.render(),
    )
        .into_response()
}

/// Counts requests and their latency per method, route and status.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("coup_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("coup_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The policy of HTML pages (the API docs): only this server's scripts, styles
/// (inline style attributes too: Swagger UI sets them) and images; never framed.
pub const HTML_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of downloads: if a browser renders one anyway (an uploaded HTML
/// or SVG file), it runs nothing and reaches nothing.
pub const DOWNLOAD_CSP: &str = "sandbox; default-src 'none'; frame-ancestors 'none'";

/// Headers every response gets: `X-Content-Type-Options: nosniff`;
/// `Cache-Control: no-store` on the API (tokens and personal data; the public
/// docs and OpenAPI document excepted); a content security policy that forbids
/// framing on HTML pages; and a sandbox policy on downloads (responses with
/// `Content-Disposition: attachment`).
pub async fn security_headers(request: Request, next: Next) -> Response {
    use axum::http::{HeaderValue, header};
    let path = request.uri().path();
    let private = path.starts_with("/api/")
        && !(path == crate::openapi::SPEC_PATH || path.starts_with(crate::openapi::DOCS_PATH));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if private {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let starts = |name: header::HeaderName, prefix: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with(prefix))
    };
    let policy = if starts(header::CONTENT_DISPOSITION, "attachment") {
        Some(DOWNLOAD_CSP)
    } else if starts(header::CONTENT_TYPE, "text/html") {
        Some(HTML_CSP)
    } else {
        None
    };
    if let Some(policy) = policy {
        // A page that brings its own policy (the web UI's, see `web::app_csp`) keeps it.
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(policy),
            );
        }
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    response
}

/// Marks responses to requests whose body was left (partly) unread with
/// `Connection: close`. Hyper closes such a connection after the response
/// rather than read the rest; without the header a client may already have sent
/// its next request on it and see the connection reset (e.g. after a 413 for an
/// oversized body, or a 401 for a POST without a valid token).
pub async fn close_if_body_unread(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if http_body::Body::is_end_stream(&body) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let read = Arc::new(AtomicBool::new(false));
    let body = axum::body::Body::new(TrackedBody {
        inner: body,
        read: read.clone(),
    });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if !read.load(Ordering::Acquire) {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// A request body that records when it has been read to its end.
struct TrackedBody {
    inner: axum::body::Body,
    read: Arc<AtomicBool>,
}

impl http_body::Body for TrackedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let ended = match &polled {
            Poll::Ready(None) => true,
            Poll::Ready(Some(Ok(_))) => self.inner.is_end_stream(),
            _ => false,
        };
        if ended {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The client's address, for per-IP limits.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// The answer for routes that do not exist.
pub async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError(coup_core::Error::NotFound("route"))
}

/// The answer for a known route with the wrong method.
pub async fn method_not_allowed() -> Response {
    let body = coup_core::error::ErrorBody {
        error: coup_core::error::ErrorDetail {
            code: "METHOD_NOT_ALLOWED".to_owned(),
            message: "this route does not accept that method".to_owned(),
            field: None,
            reason: None,
        },
    };
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}
