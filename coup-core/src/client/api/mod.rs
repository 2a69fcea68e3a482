//! The typed REST API: one async method per endpoint of `coup-server`, with the
//! request and response types the server itself uses (`model` and the `service`
//! input types), and every failure an [`Error`] that keeps the server's code.
//!
//! Failures are classified once, here: an answer with the API's error body is
//! [`Error::Remote`] (its [`ErrorCode`] is the server's); no answer, a broken
//! connection or a gateway's 5xx without that body is [`Error::Transport`]
//! (`UNAVAILABLE`, worth retrying); an answer that does not have the documented
//! shape is [`Error::BadResponse`].
//!
//! The endpoints are grouped by area as the server's `routes/` are:
//! `accounts`, `me`, `studies`, `content`, `files`, `admin`. Their
//! paths are [`crate::api::paths`], the templates the server registers.

mod accounts;
mod admin;
mod content;
mod files;
mod me;
mod studies;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::paths;
use crate::error::{Error, ErrorBody, ErrorCode, Result};

/// Time limits of API calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a TCP connection.
    pub connect: Duration,
    /// A whole JSON request and its answer.
    pub request: Duration,
    /// A whole upload or download.
    pub transfer: Duration,
}

impl Default for Timeouts {
    /// The server's own limits: 30 s per request, 10 min per transfer.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(30),
            transfer: Duration::from_secs(600),
        }
    }
}

/// What a download was, besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The file's name as uploaded (from `Content-Disposition`), if the server gave one.
    pub file_name: Option<String>,
    /// The content type given at upload.
    pub content_type: String,
    /// Bytes written.
    pub size: u64,
}

/// A client of one server's REST API. Cheap to clone; clones share the session token.
#[derive(Debug, Clone)]
pub struct ApiClient {
    base: Arc<str>,
    http: reqwest::Client,
    timeouts: Timeouts,
    token: Arc<RwLock<Option<String>>>,
    /// The TLS configuration, shared with the live connection.
    tls: Arc<rustls::ClientConfig>,
}

impl ApiClient {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8080`), not signed in.
    pub fn new(base: &str) -> Result<Self> {
        Self::with_timeouts(base, Timeouts::default())
    }

    /// A client with explicit time limits.
    pub fn with_timeouts(base: &str, timeouts: Timeouts) -> Result<Self> {
        Self::with_options(base, timeouts, None)
    }

    /// A client with explicit time limits that also trusts the CA certificates
    /// in `extra_roots_pem` (PEM) for `https://` — for a server whose
    /// certificate comes from its owner's own CA.
    pub fn with_options(
        base: &str,
        timeouts: Timeouts,
        extra_roots_pem: Option<&[u8]>,
    ) -> Result<Self> {
        let base = base.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::validation(
                "server",
                "must be an http:// or https:// URL",
            ));
        }
        let tls = super::tls::client_config(extra_roots_pem)?;
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .use_preconfigured_tls((*tls).clone())
            .build()
            .map_err(|e| Error::failed("building the HTTP client", e))?;
        Ok(Self {
            base: base.into(),
            http,
            timeouts,
            token: Arc::new(RwLock::new(None)),
            tls,
        })
    }

    /// The server's base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The TLS configuration, for the live connection to use the same trust.
    pub(crate) fn tls(&self) -> Arc<rustls::ClientConfig> {
        self.tls.clone()
    }

    /// The session token sent with every request, if signed in.
    pub fn token(&self) -> Option<String> {
        self.token.read().map(|t| t.clone()).unwrap_or_default()
    }

    /// Uses `token` (e.g. one kept from an earlier login) for the following requests.
    pub fn set_token(&self, token: Option<String>) {
        if let Ok(mut slot) = self.token.write() {
            *slot = token;
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(self.timeouts.request);
        match self.token() {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends a request. An idempotent one (GET, PUT, DELETE) that fails without an
    /// answer is sent once more at once: a pooled connection to a server that
    /// restarted fails on first use, and the second attempt opens a fresh one.
    async fn execute(&self, request: RequestBuilder) -> Result<Response> {
        let request = request
            .build()
            .map_err(|e| Error::failed("building a request", e))?;
        let again = matches!(
            *request.method(),
            Method::GET | Method::PUT | Method::DELETE
        )
        .then(|| request.try_clone())
        .flatten();
        match (self.http.execute(request).await, again) {
            (Ok(response), _) => Ok(response),
            (Err(e), Some(again)) if !e.is_timeout() => {
                self.http.execute(again).await.map_err(transport)
            }
            (Err(e), _) => Err(transport(e)),
        }
    }

    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T> {
        let response = checked(self.execute(request).await?).await?;
        let bytes = response.bytes().await.map_err(transport)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::bad_response("decoding the answer", e))
    }

    async fn call_empty(&self, request: RequestBuilder) -> Result<()> {
        checked(self.execute(request).await?).await?;
        Ok(())
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(self.request(Method::GET, path)).await
    }

    async fn get_query<T: DeserializeOwned, Q: Serialize>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<T> {
        self.call(self.request(Method::GET, path).query(query))
            .await
    }

    async fn send_json<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.call(self.request(method, path).json(body)).await
    }

    async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(self.request(Method::POST, path)).await
    }

    async fn delete(&self, path: &str) -> Result<()> {
        self.call_empty(self.request(Method::DELETE, path)).await
    }

    // Operations.

    /// `GET /readyz`: the server and its store answer (e.g. a cheap probe before
    /// retrying); one that cannot serve is `UNAVAILABLE`. The other operator
    /// endpoints (`/healthz`, `/metrics`, `/api/openapi.json`) are not for apps.
    pub async fn ready(&self) -> Result<()> {
        self.call_empty(self.request(Method::GET, paths::READYZ))
            .await
    }
}

/// A request that got no answer.
fn transport(e: reqwest::Error) -> Error {
    if e.is_decode() {
        Error::bad_response("reading the answer", e)
    } else if let Some(why) = super::tls::untrusted_certificate(&e) {
        Error::transport(why, e)
    } else {
        Error::transport("sending the request", e)
    }
}

/// The response if it succeeded, else the error its body describes.
async fn checked(response: Response) -> Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let bytes = response.bytes().await.map_err(transport)?;
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Err(Error::from_remote(status.as_u16(), body.error)),
        // A proxy or load balancer in front of an unreachable or restarting server.
        Err(_)
            if matches!(
                status,
                StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ) =>
        {
            Err(Error::transport(
                "reading the answer",
                format!("HTTP {status} from a gateway"),
            ))
        }
        Err(e) => Err(Error::bad_response(
            format!("HTTP {status} without an error body"),
            e,
        )),
    }
}

/// The exact name in a `Content-Disposition` (`filename*=UTF-8''…`), else the plain one.
fn file_name_of(disposition: &str) -> Option<String> {
    let params = || disposition.split(';').map(str::trim);
    params()
        .find_map(|p| p.strip_prefix("filename*=UTF-8''"))
        .and_then(|encoded| {
            percent_encoding::percent_decode_str(encoded)
                .decode_utf8()
                .ok()
                .map(|name| name.into_owned())
        })
        .or_else(|| {
            params()
                .find_map(|p| p.strip_prefix("filename="))
                .map(|name| name.trim_matches('"').to_owned())
        })
}

/// Whether a failed call may succeed if tried again later without change: the
/// server could not be reached, was busy or broke; any other refusal is final.
pub fn is_transient(error: &Error) -> bool {
    matches!(
        error.code(),
        ErrorCode::Unavailable | ErrorCode::RateLimited | ErrorCode::Internal
    ) || matches!(error, Error::Remote { status: 500.., .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_prefer_the_exact_utf8_name() {
        let header = "attachment; filename=\"___ __.pdf\"; filename*=UTF-8''%EC%8A%A4%ED%84%B0%EB%94%94%20%EC%9E%90%EB%A3%8C.pdf";
        assert_eq!(file_name_of(header).as_deref(), Some("스터디 자료.pdf"));
        assert_eq!(
            file_name_of("attachment; filename=\"a.txt\"").as_deref(),
            Some("a.txt")
        );
        assert_eq!(file_name_of("attachment"), None);
    }

    #[test]
    fn only_unreachable_busy_or_broken_servers_are_worth_retrying() {
        let remote = |status, code: &str| {
            Error::from_remote(
                status,
                crate::error::ErrorDetail {
                    code: code.into(),
                    message: "m".into(),
                    field: None,
                    reason: None,
                },
            )
        };
        assert!(is_transient(&Error::transport("connecting", "refused")));
        assert!(is_transient(&remote(429, "RATE_LIMITED")));
        assert!(is_transient(&remote(503, "UNAVAILABLE")));
        assert!(is_transient(&remote(500, "INTERNAL")));
        assert!(!is_transient(&remote(403, "FORBIDDEN")));
        assert!(!is_transient(&remote(404, "NOT_FOUND")));
        assert!(!is_transient(&remote(400, "VALIDATION")));
        assert!(!is_transient(&Error::bad_response("decoding", "not json")));
        // Codes this build does not know are classified by their status.
        assert_eq!(
            remote(405, "METHOD_NOT_ALLOWED").code(),
            ErrorCode::NotFound
        );
        assert_eq!(remote(0, "NOT_SUBSCRIBED").code(), ErrorCode::Conflict);
    }
}
