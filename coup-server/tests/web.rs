//! The web UI at `/`, against the real server binary: the page and the
//! single-page app's routes, hashed assets cached for a year and precompressed
//! (Brotli and gzip, decoded here and compared with the original), conditional
//! requests, the page's Content-Security-Policy, missing files as 404s, the API's
//! own paths unchanged, and `--api-only` / `api_only = true` turning it all off.

mod common;

use std::io::Read;

use common::{start, start_with};
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, VARY,
};
use reqwest::{Method, StatusCode};

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    resp.headers()
        .get(&name)
        .map(|v| v.to_str().expect("ascii header").to_owned())
        .unwrap_or_default()
}

async fn get(srv: &common::Server, path: &str, encoding: Option<&str>) -> reqwest::Response {
    let mut req = srv.http.get(srv.url(path));
    if let Some(e) = encoding {
        req = req.header(ACCEPT_ENCODING, e);
    }
    req.send().await.expect("request")
}

/// `/assets/…` paths the page names.
fn asset_paths(html: &str) -> Vec<String> {
    html.split('"')
        .filter(|s| s.starts_with("/assets/"))
        .map(str::to_owned)
        .collect()
}

fn ensure_built() {
    assert!(
        coup_server::web::built(),
        "this coup-server was built without the web UI (npm was not found by build.rs)"
    );
}

#[tokio::test]
async fn the_page_its_routes_and_its_policy() {
    ensure_built();
    let srv = start();
    for path in ["/", "/study/9f0c", "/find", "/etc/passwd", "/apiary"] {
        let resp = get(&srv, path, None).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&resp, CONTENT_TYPE), "text/html; charset=utf-8");
        assert_eq!(header(&resp, CACHE_CONTROL), "no-cache", "{path}");
        let csp = header(&resp, CONTENT_SECURITY_POLICY);
        for directive in [
            "default-src 'self'",
            "script-src 'self';",
            "style-src 'self';",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "worker-src 'self'",
            "manifest-src 'self'",
            "media-src 'self' blob:",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: {directive} missing in {csp}"
            );
        }
        let host = srv.base.trim_start_matches("http://");
        assert!(
            csp.contains(&format!("connect-src 'self' ws://{host} wss://{host};")),
            "{csp}"
        );
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(
            header(&resp, "x-frame-options".parse().expect("name")),
            "DENY"
        );
        let html = resp.text().await.expect("body");
        assert!(html.contains("<div id=\"app\"></div>"), "{html}");
        assert!(html.contains("/manifest.webmanifest"), "{html}");
    }

    // Revalidation: the page's ETag answers 304 with no body; another does not.
    let page = get(&srv, "/", None).await;
    let etag = header(&page, ETAG);
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let again = srv
        .http
        .get(srv.url("/"))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, CACHE_CONTROL), "no-cache");
    assert!(again.bytes().await.expect("body").is_empty());
    let other = srv
        .http
        .get(srv.url("/"))
        .header(IF_NONE_MATCH, "\"0000\"")
        .send()
        .await
        .expect("request");
    assert_eq!(other.status(), StatusCode::OK);

    // HEAD is answered like GET, without a body.
    let head = srv
        .http
        .request(Method::HEAD, srv.url("/find"))
        .send()
        .await
        .expect("request");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, CONTENT_TYPE), "text/html; charset=utf-8");
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_precompressed() {
    ensure_built();
    let srv = start();
    let html = get(&srv, "/", None).await.text().await.expect("page");
    let assets = asset_paths(&html);
    assert!(
        assets.iter().any(|a| a.ends_with(".js")) && assets.iter().any(|a| a.ends_with(".css")),
        "the page names its script and style: {assets:?}"
    );
    for path in &assets {
        let plain = get(&srv, path, None).await;
        assert_eq!(plain.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header(&plain, CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(header(&plain, CONTENT_ENCODING), "", "{path}: identity");
        assert!(header(&plain, VARY).contains("accept-encoding"));
        let expected = if path.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        assert_eq!(header(&plain, CONTENT_TYPE), expected, "{path}");
        let original = plain.bytes().await.expect("body").to_vec();

        let br = get(&srv, path, Some("gzip, deflate, br")).await;
        assert_eq!(header(&br, CONTENT_ENCODING), "br", "{path}");
        let br_tag = header(&br, ETAG);
        let packed = br.bytes().await.expect("body").to_vec();
        assert!(packed.len() < original.len(), "{path}: Brotli is smaller");
        let mut unpacked = Vec::new();
        brotli::Decompressor::new(&packed[..], 4096)
            .read_to_end(&mut unpacked)
            .expect("valid Brotli");
        assert_eq!(unpacked, original, "{path}: Brotli decodes to the file");

        let gz = get(&srv, path, Some("gzip;q=1, br;q=0")).await;
        assert_eq!(header(&gz, CONTENT_ENCODING), "gzip", "{path}");
        assert_ne!(header(&gz, ETAG), br_tag, "one validator per encoding");
        let packed = gz.bytes().await.expect("body").to_vec();
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(&packed[..])
            .read_to_end(&mut unpacked)
            .expect("valid gzip");
        assert_eq!(unpacked, original, "{path}: gzip decodes to the file");
    }

    // The shell's fixed names are revalidated, never cached for a year.
    for (path, content_type) in [
        ("/sw.js", "text/javascript; charset=utf-8"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/icon-192.png", "image/png"),
    ] {
        let resp = get(&srv, path, Some("br")).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&resp, CONTENT_TYPE), content_type, "{path}");
        assert_eq!(header(&resp, CACHE_CONTROL), "no-cache", "{path}");
        if path.ends_with(".png") {
            assert_eq!(
                header(&resp, CONTENT_ENCODING),
                "",
                "PNG is not recompressed"
            );
        }
    }
}

#[tokio::test]
async fn missing_files_and_the_api_stay_404() {
    ensure_built();
    let srv = start();
    // A file that is not in the build is a 404, never the page (a stale tab
    // asking for an old bundle must not get HTML as its script).
    for path in [
        "/assets/index-00000000.js",
        "/assets/nope",
        "/favicon.ico",
        "/x/y.png",
    ] {
        let resp = srv.get(path, None).await;
        resp.err(404, "NOT_FOUND");
    }
    // The server's own paths are untouched.
    for path in [
        "/api",
        "/api/",
        "/api/nope",
        "/api/studies/x/y/z/w",
        "/ws/nope",
        "/metrics/x",
    ] {
        let resp = srv.get(path, None).await;
        resp.err(404, "NOT_FOUND");
        assert!(
            resp.headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json")),
            "{path}: JSON"
        );
    }
    assert_eq!(
        get(&srv, "/healthz", None)
            .await
            .text()
            .await
            .expect("body"),
        "ok"
    );
    let metrics = get(&srv, "/metrics", None).await;
    assert!(header(&metrics, CONTENT_TYPE).starts_with("text/plain"));
    let spec = srv.get("/api/openapi.json", None).await.ok(200);
    assert!(spec["paths"].is_object());
    // Only GET and HEAD reach the page: a POST to a page route is the API's 404.
    srv.call(Method::POST, "/study/1", None, None)
        .await
        .err(404, "NOT_FOUND");
}

#[tokio::test]
async fn api_only_by_flag_or_file() {
    let srv = start_with(&["--api-only"]);
    for path in ["/", "/study/1", "/sw.js", "/manifest.webmanifest"] {
        srv.get(path, None).await.err(404, "NOT_FOUND");
    }
    srv.get("/api/nope", None).await.err(404, "NOT_FOUND");
    assert_eq!(
        get(&srv, "/healthz", None)
            .await
            .text()
            .await
            .expect("body"),
        "ok"
    );
    drop(srv);

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("coup.toml");
    std::fs::write(&file, "api_only = true\n").expect("write");
    let srv = start_with(&["--config", file.to_str().expect("utf-8")]);
    srv.get("/", None).await.err(404, "NOT_FOUND");
    // And the default serves it (the same binary).
    ensure_built();
    let on = start();
    assert_eq!(get(&on, "/", None).await.status(), StatusCode::OK);
}
