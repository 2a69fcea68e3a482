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
        json!({"email": "kim@example.com", "password": "password123"}),
    )
    .await
    .ok(200);
}
