//! The server under hostile clients: what one client (or many addresses acting
//! together) could do to take it down, each measured against the real binary.
//!
//! Run with `--nocapture` to see the measured numbers (SECURITY.md quotes them).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Server, start_with};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The server's resident memory, in KiB (`VmRSS` of `/proc/<pid>/status`).
fn rss_kib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .expect("read /proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

/// A server started with extra TOML settings (and `args`), keeping the config
/// file's directory alive with it.
fn start_configured(toml: &str, args: &[&str]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("coup.toml");
    std::fs::write(&path, toml).expect("write config");
    let path = path.to_str().expect("utf-8 path").to_owned();
    let mut all = vec!["--config", path.as_str()];
    all.extend_from_slice(args);
    (start_with(&all), dir)
}

/// 500 concurrent bad logins (half for unknown emails, half wrong passwords for a
/// real account), from one address with the per-address and per-account limits
/// lifted — as if they came from many addresses. On main before the hashing pool,
/// 48 such attempts took RSS from 142 MB to 2.06 GB and kept it there.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_flood_neither_exhausts_memory_nor_stalls_other_requests() {
    let (srv, _config) = start_configured(
        "login_per_account_per_minute = 1000000\nlogin_per_ip_per_minute = 1000000\n",
        &[],
    );
    let (token, _) = srv.signup("kim").await;
    for _ in 0..3 {
        srv.get("/api/users/me", Some(&token)).await.ok(200);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = rss_kib(&srv);
    let srv = Arc::new(srv);

    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(idle));
    let sampler = {
        let (srv, done, peak) = (srv.clone(), done.clone(), peak.clone());
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(&srv), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    // Meanwhile a real user keeps using the API, and the health probe keeps asking.
    let prober = {
        let (srv, done, token) = (srv.clone(), done.clone(), token.clone());
        tokio::spawn(async move {
            let mut worst = Duration::ZERO;
            let mut probes = 0u32;
            while !done.load(Ordering::Relaxed) {
                let started = Instant::now();
                let health = srv.http.get(srv.url("/healthz")).send().await;
                assert_eq!(
                    health.map(|r| r.status().as_u16()).ok(),
                    Some(200),
                    "healthz answers during the flood"
                );
                srv.get("/api/users/me", Some(&token)).await.ok(200);
                worst = worst.max(started.elapsed());
                probes += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (probes, worst)
        })
    };

    let flood_client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let started = Instant::now();
    let attempts: Vec<_> = (0..500)
        .map(|i| {
            let (client, url) = (flood_client.clone(), srv.url("/api/auth/login"));
            let email = if i % 2 == 0 {
                format!("nobody{i}@example.com")
            } else {
                "kim@example.com".to_owned()
            };
            tokio::spawn(async move {
                let res = client
                    .post(url)
                    .json(&json!({"email": email, "password": format!("wrong password {i}")}))
                    .send()
                    .await
                    .expect("every attempt is answered");
                let retry_after = res.headers().get("retry-after").cloned();
                (res.status().as_u16(), retry_after)
            })
        })
        .collect();
    let (mut unauthorized, mut refused) = (0, 0);
    for attempt in attempts {
        match attempt.await.expect("attempt task") {
            (401, _) => unauthorized += 1,
            (429, Some(retry_after)) => {
                assert_eq!(retry_after, "1");
                refused += 1;
            }
            other => panic!("a bad login got {other:?}"),
        }
    }
    let flood_time = started.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.await.expect("sampler");
    let (probes, worst) = prober.await.expect("prober");
    let peak = peak.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(&srv);

    eprintln!(
        "login flood: 500 attempts in {flood_time:.1?}: {unauthorized} × 401, {refused} × 429; \
         RSS idle {} MiB, peak {} MiB (+{} MiB), 2 s later {} MiB; \
         {probes} probes (healthz + /api/users/me), slowest {worst:.0?}",
        idle / 1024,
        peak / 1024,
        (peak - idle) / 1024,
        after / 1024
    );
    assert!(unauthorized > 0, "some attempts were checked");
    assert!(
        peak - idle < 150 * 1024,
        "RSS grew by {} MiB during the flood",
        (peak - idle) / 1024
    );
    assert!(after - idle.min(after) < 150 * 1024);
    assert!(probes >= 3, "the probes ran during the flood");
    assert!(worst < Duration::from_secs(2), "a probe took {worst:?}");
    // And the real user can still sign in once it is over.
    srv.post(
        "/api/auth/login",
        None,
        json!({"email": "kim@example.com", "password": "study-together-42"}),
    )
    .await
    .ok(200);
}

/// Connects a raw TCP socket to the server.
async fn raw(srv: &Server) -> TcpStream {
    TcpStream::connect(srv.base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// Reads until the server closes the socket (or `limit` passes); returns what
/// was read and when the close came (`None`: still open at `limit`).
async fn until_closed(socket: &mut TcpStream, limit: Duration) -> (Vec<u8>, Option<Duration>) {
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, socket.read(&mut buf)).await {
            Err(_) => return (seen, None),
            Ok(Ok(0) | Err(_)) => return (seen, Some(started.elapsed())),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sockets that send nothing, send half a request's headers, or go quiet after a
/// response are all closed once `header_timeout_secs` has passed. On main they
/// stayed open indefinitely (seen after 240 s).
#[tokio::test]
async fn idle_sockets_and_half_sent_headers_are_closed_within_the_header_timeout() {
    let (srv, _config) = start_configured("header_timeout_secs = 2\n", &[]);
    let mut silent = raw(&srv).await;
    let mut half = raw(&srv).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: coup\r\nX-Slow: ")
        .await
        .expect("write");
    let mut kept_alive = raw(&srv).await;
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: coup\r\n\r\n")
        .await
        .expect("write");
    let mut first = [0u8; 512];
    let n = kept_alive.read(&mut first).await.expect("response");
    assert!(
        first[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&first[..n])
    );
    let (silent, half, kept_alive) = tokio::join!(
        until_closed(&mut silent, Duration::from_secs(10)),
        until_closed(&mut half, Duration::from_secs(10)),
        until_closed(&mut kept_alive, Duration::from_secs(10)),
    );
    for (what, (_, closed)) in [
        ("a silent socket", silent),
        ("half-sent headers", half),
        ("an idle keep-alive connection", kept_alive),
    ] {
        let closed = closed.unwrap_or_else(|| panic!("{what} is still open after 10 s"));
        eprintln!("slowloris: {what} closed after {closed:.1?} (header timeout 2 s)");
        assert!(
            closed >= Duration::from_millis(1500) && closed < Duration::from_secs(4),
            "{what} closed after {closed:?}"
        );
    }
}

/// An upgraded WebSocket that never says `hello` is closed by the gateway's
/// 10 s hello timeout.
#[tokio::test]
async fn a_websocket_that_never_says_hello_is_closed() {
    use futures_util::StreamExt;
    let srv = common::start();
    let started = Instant::now();
    let mut ws = common::ws::Ws::open(&srv).await;
    let end = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(Ok(frame)) = ws.socket.next().await {
            if frame.is_close() {
                break;
            }
        }
    })
    .await;
    let waited = started.elapsed();
    eprintln!("slowloris: a silent WebSocket closed after {waited:.1?}");
    assert!(end.is_ok(), "still open after 20 s");
    assert!(waited >= Duration::from_secs(9), "closed early: {waited:?}");
}

/// Starts the server with its open-files limit (soft and hard) lowered to
/// `files`, the way a host's `ulimit -n` would.
fn start_with_open_files(files: u32, toml: &str) -> (Server, tempfile::TempDir) {
    use std::io::BufRead;
    let config = tempfile::tempdir().expect("tempdir");
    let path = config.path().join("coup.toml");
    std::fs::write(&path, toml).expect("write config");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = std::process::Command::new("sh");
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("COUP_")) {
        command.env_remove(key);
    }
    let mut child = command
        .arg("-c")
        .arg(format!("ulimit -n {files} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_coup-server"))
        .args(["--bind", "127.0.0.1:0", "--config"])
        .arg(&path)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening")
        .to_owned();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let srv = Server {
        base,
        http,
        child,
        dir,
        args: Vec::new(),
    };
    (srv, config)
}

/// Under a 200-descriptor limit (auto connection limit: 200 − 64 = 136), 300
/// idle sockets fill the server's connections; it stops accepting instead of
/// running out of descriptors, so a connection already open can still use the
/// database and upload a file, and once the idle sockets go, new connections are
/// served again. On main, 562 idle sockets under a 512 limit made accept fail
/// with "Too many open files".
#[tokio::test]
async fn the_connection_limit_keeps_descriptors_for_the_database_and_uploads() {
    let (srv, _config) = start_with_open_files(200, "header_timeout_secs = 60\n");
    let (token, _) = srv.signup("kim").await;
    let study = srv.study(&token, "limits", true, "AUTO").await;
    // One keep-alive connection, opened before the flood.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let me = srv.url("/api/users/me");
    let ok = client
        .get(&me)
        .bearer_auth(&token)
        .send()
        .await
        .expect("me");
    assert_eq!(ok.status().as_u16(), 200);
    // (Every body is read to its end, so the connection goes back to the pool.)
    ok.bytes().await.expect("body");

    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(raw(&srv).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let metrics = client
        .get(srv.url("/metrics"))
        .send()
        .await
        .expect("metrics on the open connection")
        .text()
        .await
        .expect("text");
    let open: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("coup_open_connections "))
        .and_then(|v| v.trim().parse().ok())
        .expect("coup_open_connections");
    eprintln!("connection limit: 300 idle sockets, {open} connections held (limit 136)");
    assert_eq!(open, 136.0, "the server holds exactly its limit");

    // The connection that was already open still reaches the store and the disk.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![7u8; 100_000])
            .file_name("notes.txt")
            .mime_str("text/plain")
            .expect("mime"),
    );
    let uploaded = client
        .post(srv.url(&format!("/api/studies/{study}/files")))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(uploaded.status().as_u16(), 201, "upload at the limit");
    uploaded.bytes().await.expect("body");
    let ok = client
        .get(&me)
        .bearer_auth(&token)
        .send()
        .await
        .expect("me");
    assert_eq!(ok.status().as_u16(), 200, "the store at the limit");

    // A new connection waits (the server is not accepting) …
    let fresh = reqwest::Client::new();
    let waiting = tokio::spawn({
        let url = srv.url("/healthz");
        async move {
            let started = Instant::now();
            let res = fresh.get(url).send().await.expect("healthz");
            (res.status().as_u16(), started.elapsed())
        }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!waiting.is_finished(), "served past the limit");
    // … and is served once the idle sockets are gone.
    drop(idle);
    let (status, waited) = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("healthz answered once the idle sockets closed")
        .expect("task");
    assert_eq!(status, 200);
    eprintln!("connection limit: a new /healthz waited {waited:.1?}, answered once they closed");
}

/// A request that declares a body over its route's limit is refused with 413 at
/// once, and the connection is closed. On main a declared 10^12 bytes waited
/// 30 s for a 408.
#[tokio::test]
async fn a_declared_oversized_body_is_refused_at_once() {
    let srv = common::start();
    let (token, _) = srv.signup("kim").await;
    let study = srv.study(&token, "limits", true, "AUTO").await;
    for (path, length) in [
        ("/api/studies".to_owned(), "1000000000000"),
        ("/api/auth/signup".to_owned(), "1000000"),
        (format!("/api/studies/{study}/chat"), "70000"),
    ] {
        let mut socket = raw(&srv).await;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: coup\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{"
        );
        let started = Instant::now();
        socket.write_all(head.as_bytes()).await.expect("write");
        let (answer, closed) = until_closed(&mut socket, Duration::from_secs(5)).await;
        let took = started.elapsed();
        let answer = String::from_utf8_lossy(&answer).to_lowercase();
        eprintln!("declared body: {length} bytes to {path} refused in {took:.0?}");
        assert!(answer.starts_with("http/1.1 413"), "{path}: {answer}");
        assert!(answer.contains("\"payload_too_large\""), "{answer}");
        assert!(answer.contains("connection: close"), "{answer}");
        assert!(closed.is_some(), "the connection is closed");
        assert!(took < Duration::from_secs(1), "{path} took {took:?}");
    }
    // A body within the limit still goes through.
    srv.post("/api/studies", Some(&token), json!({"name": "x"}))
        .await
        .err(400, "VALIDATION");
}

/// No response shows a user another user's email, except to platform admins:
/// members, join requests, what approving and role changes return, notices, chat,
/// files, the dashboard and notifications (on main, `GET …/members` listed every
/// member's email to every member).
#[tokio::test]
async fn members_never_see_each_others_emails() {
    use reqwest::Method;
    let srv = common::start();
    let (owner, _) = srv.signup("owner").await;
    let (member, member_id) = srv.signup("member").await;
    let (applicant, applicant_id) = srv.signup("applicant").await;
    let (late, late_id) = srv.signup("late").await;
    let study = srv.study(&owner, "emails", true, "APPROVAL").await;
    srv.add_member(&study, &owner, &member, &member_id).await;
    for token in [&applicant, &late] {
        srv.post(
            &format!("/api/studies/{study}/join"),
            Some(token),
            json!({}),
        )
        .await
        .ok(201);
    }
    srv.post(
        &format!("/api/studies/{study}/notices"),
        Some(&owner),
        json!({"title": "hi", "content": "welcome"}),
    )
    .await
    .ok(201);
    srv.post(
        &format!("/api/studies/{study}/chat"),
        Some(&member),
        json!({"content": "hello @owner"}),
    )
    .await
    .ok(201);
    let mut answers: Vec<(&str, String, String)> = Vec::new();
    let approved = srv
        .post(
            &format!("/api/studies/{study}/members/{late_id}/approve"),
            Some(&owner),
            json!({}),
        )
        .await
        .ok(200);
    answers.push(("owner", "approve".into(), approved.to_string()));
    let promoted = srv
        .call(
            Method::PATCH,
            &format!("/api/studies/{study}/members/{member_id}/role"),
            Some(&owner),
            Some(json!({"role": "ADMIN"})),
        )
        .await
        .ok(200);
    answers.push(("owner", "role".into(), promoted.to_string()));
    let paths = [
        format!("/api/studies/{study}"),
        format!("/api/studies/{study}/members"),
        format!("/api/studies/{study}/join-requests"),
        format!("/api/studies/{study}/notices"),
        format!("/api/studies/{study}/chat"),
        format!("/api/studies/{study}/files"),
        format!("/api/studies/{study}/calendar"),
        "/api/dashboard".into(),
        "/api/my-studies".into(),
        "/api/notifications".into(),
        "/api/studies".into(),
    ];
    for (who, token) in [
        ("owner", &owner),
        ("member", &member),
        ("late", &late),
        ("applicant", &applicant),
    ] {
        for path in &paths {
            let res = srv.get(path, Some(token)).await;
            answers.push((who, path.clone(), res.body.to_string()));
        }
    }
    let everyone = ["owner", "member", "applicant", "late"];
    let mut listed_members = 0;
    for (who, what, body) in &answers {
        for other in everyone.iter().filter(|o| *o != who) {
            assert!(
                !body.contains(&format!("{other}@example.com")),
                "{who} sees {other}'s email in {what}: {body}"
            );
        }
        if what.ends_with("/members") && body.contains("\"userId\"") {
            listed_members += 1;
        }
    }
    assert!(listed_members >= 3, "the member lists were read");
    // Each sees their own; platform admins see everyone's.
    let own = srv
        .get(&format!("/api/studies/{study}/members"), Some(&member))
        .await
        .ok(200);
    assert!(own.to_string().contains("member@example.com"), "{own}");
    let (admin, _) = srv.admin("overseer", false).await;
    let detail = srv
        .get(&format!("/api/admin/studies/{study}"), Some(&admin))
        .await
        .ok(200);
    for who in ["owner", "member", "late"] {
        assert!(
            detail.to_string().contains(&format!("{who}@example.com")),
            "{detail}"
        );
    }
    let user = srv
        .get(&format!("/api/admin/users/{applicant_id}"), Some(&admin))
        .await
        .ok(200);
    assert!(user.to_string().contains("applicant@example.com"), "{user}");
}

/// `nosniff` on every response, `no-store` on the API, a frame-forbidding CSP
/// on HTML pages, and downloads (an uploaded HTML page, an SVG) as sandboxed
/// attachments. On main `/api/docs` had no CSP and API answers no Cache-Control.
#[tokio::test]
async fn responses_carry_the_security_headers() {
    let srv = common::start();
    let (token, _) = srv.signup("kim").await;
    let study = srv.study(&token, "headers", true, "AUTO").await;
    let get = |path: String, auth: bool| {
        let mut req = srv.http.get(srv.url(&path));
        if auth {
            req = req.bearer_auth(&token);
        }
        async move { req.send().await.expect("request") }
    };
    for (path, auth, private) in [
        ("/healthz".to_owned(), false, false),
        ("/metrics".to_owned(), false, false),
        ("/api/studies".to_owned(), false, true),
        ("/api/users/me".to_owned(), true, true),
        ("/api/users/me".to_owned(), false, true),
        ("/api/nope".to_owned(), false, true),
        (format!("/api/studies/{study}/members"), true, true),
        ("/api/openapi.json".to_owned(), false, false),
    ] {
        let res = get(path.clone(), auth).await;
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        if private {
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
    }
    let login = srv
        .http
        .post(srv.url("/api/auth/login"))
        .json(&json!({"email": "kim@example.com", "password": "study-together-42"}))
        .send()
        .await
        .expect("login");
    assert_eq!(
        login.headers()["cache-control"],
        "no-store",
        "a token is never cached"
    );

    let docs = get("/api/docs/".to_owned(), false).await;
    assert_eq!(docs.status().as_u16(), 200);
    assert!(
        docs.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let csp = docs.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe-eval") && csp.contains("default-src 'self'"),
        "{csp}"
    );
    assert_eq!(docs.headers()["x-frame-options"], "DENY");

    for (name, mime, bytes) in [
        (
            "page.html",
            "text/html",
            &b"<script>alert(document.cookie)</script>"[..],
        ),
        (
            "image.svg",
            "image/svg+xml",
            &b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"[..],
        ),
        ("data.xml", "text/xml", &b"<x/>"[..]),
    ] {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec())
                .file_name(name)
                .mime_str(mime)
                .expect("mime"),
        );
        let uploaded = srv
            .http
            .post(srv.url(&format!("/api/studies/{study}/files")))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        let file: serde_json::Value = uploaded.json().await.expect("json");
        let id = file["id"].as_str().expect("id");
        let res = get(format!("/api/studies/{study}/files/{id}/download"), true).await;
        assert_eq!(res.status().as_u16(), 200);
        let h = res.headers();
        assert!(
            h["content-disposition"]
                .to_str()
                .expect("ascii")
                .starts_with("attachment")
        );
        let csp = h["content-security-policy"].to_str().expect("ascii");
        assert!(
            csp.starts_with("sandbox") && csp.contains("default-src 'none'"),
            "{name}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store");
    }
}

/// Guessable passwords are refused with a reason, at signup and when changed,
/// and the refusal changes nothing. On main `password1` and `aaaaaaa1` were
/// accepted.
#[tokio::test]
async fn guessable_passwords_are_refused_with_the_reason() {
    let srv = common::start();
    for (password, why) in [
        ("password1", "This is a very common password."),
        ("aaaaaaa1", "too easy to guess"),
        ("qwerty123", "too easy to guess"),
    ] {
        let res = srv
            .post(
                "/api/auth/signup",
                None,
                json!({"email": "kim@example.com", "password": password, "name": "kim"}),
            )
            .await;
        res.err(400, "VALIDATION");
        assert_eq!(res.body["error"]["field"], "password");
        let message = res.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{password}: {message}");
    }
    // Nothing was created: the same email signs up with a strong password.
    let (token, _) = srv.signup("kim").await;
    let res = srv
        .post(
            "/api/users/me/password",
            Some(&token),
            json!({"currentPassword": common::PASSWORD, "newPassword": "aaaaaaa1"}),
        )
        .await;
    res.err(400, "VALIDATION");
    assert_eq!(res.body["error"]["field"], "newPassword");
    srv.post(
        "/api/auth/login",
        None,
        json!({"email": "kim@example.com", "password": common::PASSWORD}),
    )
    .await
    .ok(200);
}

/// A small deterministic generator (xorshift64*), so the randomized test below
/// sends the same requests on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A hostile multipart file name: pieces of paths, dots, quotes, CR/LF,
/// controls, bidirectional and invisible characters, several scripts, or long.
fn hostile_name(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "report",
        "스터디",
        "مستند",
        "😀",
        ".",
        "..",
        "/",
        "\\",
        "\"",
        "'",
        ";",
        " ",
        "\r\n",
        "\t",
        "\u{0}",
        "\u{7f}",
        "\u{202E}",
        "\u{202D}",
        "\u{2066}",
        "\u{2069}",
        "\u{200F}",
        "\u{061C}",
        "\u{200B}",
        "\u{FEFF}",
        "\u{2028}",
        "%22",
        "%0d%0a",
        ".pdf",
        ".exe",
        "fdp.exe",
        "=?utf-8?q?x?=",
        "*",
        "\u{9b}",
        "C:",
    ];
    let mut name = String::new();
    if rng.below(20) == 0 {
        name = "a".repeat(200 + rng.below(200));
    }
    for _ in 0..rng.below(8) {
        name.push_str(rng.pick::<&str>(PIECES));
    }
    name
}

/// A multipart upload body with a `file` field named `name`, sometimes broken
/// (no closing boundary, a missing header end, random bytes, a different field).
fn multipart_body(rng: &mut Rng, name: &str) -> Vec<u8> {
    const TYPES: &[&str] = &[
        "text/plain",
        "text/html",
        "image/svg+xml",
        "",
        "x",
        "a/b\u{7f}",
    ];
    let field = if rng.below(10) == 0 { "other" } else { "file" };
    let mut body = format!(
        "--BOUNDARY\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n"
    )
    .into_bytes();
    let content_type = *rng.pick::<&str>(TYPES);
    if !content_type.is_empty() {
        body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
    }
    match rng.below(8) {
        0 => {} // the headers never end
        1 => {
            body.extend_from_slice(b"\r\n");
            body.extend((0..rng.below(300)).map(|_| u8::try_from(rng.next() % 256).unwrap_or(0)));
        }
        _ => {
            body.extend_from_slice(b"\r\nhello, study\r\n--BOUNDARY--\r\n");
        }
    }
    body
}

/// 400 uploads with hostile file names and broken multipart bodies: every one
/// is answered 201 or 400 (never a server error); what was stored has a clean
/// name; and what was refused left nothing behind. (The multipart/file-name path,
/// exercised in-process-free against the real server; see also
/// `coup-core/tests/file_names.rs`.)
#[tokio::test]
async fn hostile_upload_names_are_stored_clean_or_refused() {
    let srv = common::start();
    let (token, _) = srv.signup("kim").await;
    let study = srv.study(&token, "uploads", true, "AUTO").await;
    let mut rng = Rng(0x5EED_0013);
    let cases: Vec<(String, Vec<u8>)> = (0..400)
        .map(|_| {
            let name = hostile_name(&mut rng);
            let body = multipart_body(&mut rng, &name);
            (name, body)
        })
        .collect();
    let url = srv.url(&format!("/api/studies/{study}/files"));
    let answers = futures_util::future::join_all(cases.iter().map(|(name, body)| {
        let req = srv
            .http
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "multipart/form-data; boundary=BOUNDARY")
            .body(body.clone());
        async move {
            let res = req.send().await.expect("answered");
            let status = res.status().as_u16();
            let json: serde_json::Value = res.json().await.unwrap_or_default();
            (name, status, json)
        }
    }))
    .await;
    let mut stored = 0;
    for (name, status, json) in &answers {
        match status {
            201 => {
                stored += 1;
                let shown = json["name"].as_str().expect("name");
                assert!(
                    !shown.chars().any(|c| c.is_control()
                        || coup_core::validate::is_bidi_control(c)
                        || c == '/'
                        || c == '\\'),
                    "{name:?} stored as {shown:?}"
                );
            }
            400 => assert_eq!(json["error"]["code"], "VALIDATION", "{name:?}: {json}"),
            other => panic!("{name:?}: {other} {json}"),
        }
    }
    eprintln!(
        "uploads: {} hostile requests, {stored} stored, {} refused",
        answers.len(),
        answers.len() - stored
    );
    assert!(
        stored > 20 && stored < answers.len() - 20,
        "both kinds happen"
    );
    let listed = srv
        .get(&format!("/api/studies/{study}/files?limit=1"), Some(&token))
        .await
        .ok(200);
    assert_eq!(
        listed["total"], stored,
        "every stored file, and only those, is listed"
    );
    let blobs = std::fs::read_dir(srv.dir.path().join("data").join("files"))
        .expect("files dir")
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().is_file()))
        .count();
    assert_eq!(blobs, stored, "refused uploads left no bytes behind");
}
