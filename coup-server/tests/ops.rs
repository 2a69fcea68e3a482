//! Operating the server: probes, metrics, request ids, CORS, login rate limits,
//! graceful shutdown, the CLI, configuration layers and demo data.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{start, start_in, start_with};
use serde_json::json;

#[tokio::test]
async fn probes_metrics_and_request_ids() {
    let srv = start();
    let health = srv
        .http
        .get(srv.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    assert!(
        health.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );
    assert_eq!(
        srv.http
            .get(srv.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .status()
            .as_u16(),
        200
    );
    srv.get("/api/studies", None).await.ok(200);
    srv.get("/api/nope", None).await.err(404, "NOT_FOUND");
    let wrong_method = srv
        .call(
            reqwest::Method::PUT,
            "/api/auth/login",
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(wrong_method.status.as_u16(), 405);
    let metrics = srv.metrics().await;
    assert!(
        metrics.contains(
            "coup_http_requests_total{method=\"GET\",route=\"/api/studies\",status=\"200\"}"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("coup_http_request_duration_seconds"));
    assert!(metrics.contains("coup_open_connections"));
    let given = srv
        .http
        .get(srv.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .expect("healthz");
    assert_eq!(
        given.headers()["x-request-id"],
        "abc-123",
        "a caller's request id is kept"
    );
}

#[tokio::test]
async fn cors_is_off_by_default_and_configurable() {
    let srv = start();
    let res = srv
        .http
        .get(srv.url("/api/studies"))
        .header("origin", "https://app.example")
        .send()
        .await
        .expect("get");
    assert!(!res.headers().contains_key("access-control-allow-origin"));
    let srv = start_with(&["--cors-origin", "https://app.example"]);
    let res = srv
        .http
        .get(srv.url("/api/studies"))
        .header("origin", "https://app.example")
        .send()
        .await
        .expect("get");
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let other = srv
        .http
        .get(srv.url("/api/studies"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("get");
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_account_with_retry_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("coup.toml"),
        "login_per_account_per_minute = 3\n",
    )
    .expect("config");
    let config = dir.path().join("coup.toml");
    let srv = start_with(&["--config", config.to_str().expect("utf8")]);
    srv.signup("kim").await;
    for _ in 0..3 {
        srv.post(
            "/api/auth/login",
            None,
            json!({"email": "kim@example.com", "password": "wrongpass1"}),
        )
        .await
        .err(401, "UNAUTHORIZED");
    }
    let limited = srv
        .post(
            "/api/auth/login",
            None,
            json!({"email": "KIM@example.com", "password": "study-together-42"}),
        )
        .await;
    limited.err(429, "RATE_LIMITED");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry));
    srv.signup("lee").await;
    srv.post(
        "/api/auth/login",
        None,
        json!({"email": "lee@example.com", "password": "study-together-42"}),
    )
    .await
    .ok(200);
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_and_exits_cleanly() {
    let mut srv = start();
    srv.signup("kim").await;
    let pid = srv.child.id().to_string();
    let slow = srv
        .http
        .post(srv.url("/api/auth/login"))
        .json(&json!({"email": "kim@example.com", "password": "study-together-42"}))
        .send();
    let kill = async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
    };
    let (res, ()) = tokio::join!(slow, kill);
    assert_eq!(
        res.expect("in-flight request answered").status().as_u16(),
        200
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = srv.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "server did not stop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit status {status}");
}

fn cli(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coup-server"));
    cmd.args(args)
        .env("RUST_LOG", "warn")
        .env_remove("COUP_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run coup-server")
}

#[test]
fn cli_help_migrate_bad_config_and_create_admin() {
    let help = cli(&["--help"], &[]);
    let text = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "serve",
        "migrate",
        "create-admin",
        "--bind",
        "--data-dir",
        "--demo",
        "--config",
        "--database",
        "COUP_BIND",
    ] {
        assert!(text.contains(needle), "--help mentions {needle}:\n{text}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf8");
    let migrated = cli(&["migrate", "--data-dir", data], &[]);
    assert!(migrated.status.success());
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("at migration 4"));
    let missing = cli(&["migrate", "--config", "/nonexistent/coup.toml"], &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));
    let postgres = cli(&["migrate", "--database", "postgres://u:secret@db/x"], &[]);
    assert!(!postgres.status.success());
    assert!(
        !String::from_utf8_lossy(&postgres.stderr).contains("secret"),
        "credentials are never printed"
    );
    let bad_env = cli(
        &["migrate", "--data-dir", data],
        &[("COUP_SESSION_TTL_DAYS", "many")],
    );
    assert_eq!(
        bad_env.status.code(),
        Some(2),
        "a bad COUP_* value is refused"
    );

    let mut create = Command::new(env!("CARGO_BIN_EXE_coup-server"));
    let mut child = create
        .args([
            "create-admin",
            "--email",
            "root@example.com",
            "--system",
            "--data-dir",
            data,
        ])
        .env_remove("COUP_ADMIN_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"study-together-42\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("SYSTEM_ADMIN root@example.com"));
    let weak = cli(
        &[
            "create-admin",
            "--email",
            "x@example.com",
            "--data-dir",
            data,
        ],
        &[("COUP_ADMIN_PASSWORD", "short")],
    );
    assert!(!weak.status.success());
}

#[tokio::test]
async fn demo_data_is_seeded_once_and_kim_can_log_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = start_in(dir, &["--demo"]);
    let login = srv
        .post(
            "/api/auth/login",
            None,
            json!({"email": "kim@example.com", "password": "study-together-42"}),
        )
        .await
        .ok(200);
    let token = login["token"].as_str().expect("token").to_owned();
    assert_eq!(
        srv.get("/api/my-studies", Some(&token)).await.ok(200)["total"],
        6
    );
    let total = srv.get("/api/studies", Some(&token)).await.ok(200)["total"].clone();
    // Restart over the same data directory with --demo again: nothing is doubled.
    let mut srv = srv;
    let _ = srv.child.kill();
    let _ = srv.child.wait();
    let dir = std::mem::replace(&mut srv.dir, tempfile::tempdir().expect("tempdir"));
    drop(srv);
    let again = start_in(dir, &["--demo"]);
    let token = again
        .post(
            "/api/auth/login",
            None,
            json!({"email": "kim@example.com", "password": "study-together-42"}),
        )
        .await
        .ok(200)["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(
        again.get("/api/studies", Some(&token)).await.ok(200)["total"],
        total
    );
    let admin = again
        .post(
            "/api/auth/login",
            None,
            json!({"email": "admin@example.com", "password": "study-together-42"}),
        )
        .await
        .ok(200);
    let admin_token = admin["token"].as_str().expect("token");
    assert_eq!(
        again
            .get("/api/admin/stats", Some(admin_token))
            .await
            .ok(200)["userCount"],
        10
    );
}
