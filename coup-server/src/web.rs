//! The web UI at `/`: the files of `ui/`'s Vite build, embedded in the binary by
//! `build.rs` with gzip and Brotli copies, served as the router's fallback.
//!
//! - `/api`, `/ws`, `/healthz`, `/readyz` and `/metrics` (and anything under
//!   them) are never the UI's: an unknown path there stays a JSON 404.
//! - A file of the build is served as it is; any other `GET`/`HEAD` path whose
//!   last segment has no extension is a route of the single-page app and gets
//!   `index.html`. A missing file (`/assets/old-hash.js`, `/x.png`) is a 404,
//!   never the page, so a stale tab fails loudly instead of parsing HTML as code.
//! - `/assets/*` names carry Vite's content hash, so they are cached for a year
//!   and `immutable`; everything else (`index.html`, the service worker, the
//!   manifest) is `no-cache` with an `ETag`, revalidated on every load.
//! - Pages get [`app_csp`]: scripts, styles, workers and the manifest from this
//!   origin only, connections to this origin and its WebSocket, images and media
//!   from this origin, `data:` and `blob:`; no framing, no plugins, no `<base>`.
//! - `api_only` (`--api-only`) turns all of it off.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// One file of the UI's build.
#[derive(Debug)]
pub struct Asset {
    /// The URL path, e.g. `/assets/index-Bx1f3.js`.
    pub path: &'static str,
    pub content_type: &'static str,
    /// A strong validator of the uncompressed bytes.
    pub etag: &'static str,
    pub identity: &'static [u8],
    /// Present when smaller than `identity`.
    pub gzip: Option<&'static [u8]>,
    pub br: Option<&'static [u8]>,
}

/// Every file of the build, sorted by path (empty when the server was built
/// without npm; see `build.rs`).
pub static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// Path prefixes that belong to the server, never to the UI.
const RESERVED: [&str; 5] = ["/api", "/ws", "/healthz", "/readyz", "/metrics"];

/// Hashed build output: cached by browsers and proxies for a year.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else: kept, but revalidated before each use.
pub const REVALIDATE: &str = "no-cache";

/// Whether this binary carries the UI.
pub fn built() -> bool {
    find("/index.html").is_some()
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS
        .binary_search_by(|a| a.path.cmp(path))
        .ok()
        .and_then(|i| ASSETS.get(i))
}

fn reserved(path: &str) -> bool {
    RESERVED.iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The router's fallback: the UI for browsers, the JSON 404 for everything else.
pub async fn fallback(State(app): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    let method = request.method();
    if app.config.api_only || reserved(path) || !(method == Method::GET || method == Method::HEAD) {
        return crate::ops::not_found().await.into_response();
    }
    match resolve(path) {
        Some(asset) => respond(asset, request.headers()),
        None => crate::ops::not_found().await.into_response(),
    }
}

/// The file a path names, or the app's page for a route of the app.
fn resolve(path: &str) -> Option<&'static Asset> {
    if path == "/" {
        return find("/index.html");
    }
    if let Some(asset) = find(path) {
        return Some(asset);
    }
    let last = path.rsplit('/').next().unwrap_or("");
    if path.starts_with("/assets/") || last.contains('.') {
        return None;
    }
    find("/index.html")
}

/// Which stored encoding to send, by the request's `Accept-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// Brotli over gzip over identity, among those the client accepts with a
/// non-zero quality (`br;q=0` refuses it).
pub fn negotiate(headers: &HeaderMap) -> (bool, bool) {
    let mut br = false;
    let mut gzip = false;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            match name.as_str() {
                "br" => br = !refused,
                "gzip" => gzip = !refused,
                "*" if !refused => {
                    br = true;
                    gzip = true;
                }
                _ => {}
            }
        }
    }
    (br, gzip)
}

fn respond(asset: &'static Asset, request: &HeaderMap) -> Response {
    let (accepts_br, accepts_gzip) = negotiate(request);
    let (encoding, body) = match (asset.br, asset.gzip) {
        (Some(br), _) if accepts_br => (Encoding::Brotli, br),
        (_, Some(gz)) if accepts_gzip => (Encoding::Gzip, gz),
        _ => (Encoding::Identity, asset.identity),
    };
    // One validator per representation: a cache must not answer a gzip
    // request with the Brotli bytes it revalidated.
    let etag = match encoding {
        Encoding::Brotli => format!("{}-br\"", asset.etag.trim_end_matches('"')),
        Encoding::Gzip => format!("{}-gz\"", asset.etag.trim_end_matches('"')),
        Encoding::Identity => asset.etag.to_owned(),
    };
    let cache = if asset.path.starts_with("/assets/") {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let not_modified = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == etag || tag.trim() == "*");
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(body))
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    match encoding {
        Encoding::Brotli => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        }
        Encoding::Gzip => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Encoding::Identity => {}
    }
    if asset.content_type.starts_with("text/html")
        && let Ok(policy) = HeaderValue::from_str(&app_csp(request))
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// The page's policy. `connect-src 'self'` covers same-origin `ws:`/`wss:` in
/// CSP Level 3, but older WebKit (Safari before 15.4) does not match WebSocket
/// URLs by `'self'`, so the request's own host is named too — only when it is a
/// plain host name or address, so a hostile `Host` cannot widen the policy.
pub fn app_csp(request: &HeaderMap) -> String {
    let host = request
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    let sockets = host.map_or_else(String::new, |h| format!(" ws://{h} wss://{h}"));
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
         media-src 'self' blob:; font-src 'self'; connect-src 'self'{sockets}; worker-src 'self'; \
         manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).expect("ascii"),
        );
        h
    }

    #[test]
    fn encodings_by_accept_encoding() {
        assert_eq!(negotiate(&accept("gzip, deflate, br")), (true, true));
        assert_eq!(negotiate(&accept("gzip")), (false, true));
        assert_eq!(negotiate(&accept("br;q=0, gzip;q=0.5")), (false, true));
        assert_eq!(negotiate(&accept("*")), (true, true));
        assert_eq!(negotiate(&accept("identity")), (false, false));
        assert_eq!(negotiate(&accept("BR ; q=1")), (true, false));
        assert_eq!(negotiate(&HeaderMap::new()), (false, false));
    }

    #[test]
    fn reserved_prefixes_end_at_a_segment() {
        for path in [
            "/api",
            "/api/",
            "/api/nope",
            "/ws",
            "/healthz",
            "/metrics",
            "/readyz/x",
        ] {
            assert!(reserved(path), "{path}");
        }
        for path in ["/", "/apiary", "/wsx", "/study/1", "/metricsboard"] {
            assert!(!reserved(path), "{path}");
        }
    }

    #[test]
    fn hostile_hosts_stay_out_of_the_policy() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert!(
            app_csp(&h).contains("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;")
        );
        h.insert(
            header::HOST,
            HeaderValue::from_static("evil.example; script-src *"),
        );
        let policy = app_csp(&h);
        assert!(policy.contains("connect-src 'self';"), "{policy}");
        assert!(!policy.contains("evil"), "{policy}");
    }
}
