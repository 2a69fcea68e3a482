//! The REST scenarios: a fixed number of workers, each sending its next request as
//! soon as the previous one is answered, for the send phase.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use hdrhistogram::Histogram;

use crate::scenario::{Measurement, Scenario, Settings, Span, bar, latency_ms};
use crate::server::Server;

/// Runs `rest-list` or `rest-chat` against a CoUp server and fills in `m`.
pub async fn run(
    scenario: Scenario,
    server: &Server,
    settings: &Settings,
    m: &mut Measurement,
) -> Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(settings.rest_concurrency)
        .tcp_nodelay(true)
        .build()?;
    let length = Duration::from_secs(settings.send_secs);
    let latency_us = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("constant bounds are valid"),
    ));
    let progress = bar(format!("{scenario}: {} workers", settings.rest_concurrency));
    progress.set_length(length.as_secs());
    let span = Span::start(server.pid());
    let deadline = Instant::now() + length;
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..settings.rest_concurrency {
        let room = &server.rooms[w % server.rooms.len()];
        let token = room.tokens[(w / server.rooms.len()) % room.tokens.len()].clone();
        let url = match scenario {
            Scenario::RestList => format!("http://{}/api/studies?page=1&limit=20", server.addr),
            _ => format!("http://{}/api/studies/{}/chat", server.addr, room.study_id),
        };
        let (http, latency_us) = (http.clone(), latency_us.clone());
        workers.spawn(async move {
            let (mut ok, mut errors) = (0u64, 0u64);
            while Instant::now() < deadline {
                let started = Instant::now();
                let request = match scenario {
                    Scenario::RestList => http.get(&url),
                    _ => http.post(&url).json(&serde_json::json!({
                        "content": format!("rest bench {w}-{ok}"),
                        "clientId": format!("rest-{w}-{ok}"),
                    })),
                };
                let answered = request.bearer_auth(&token).send().await;
                let good = match answered {
                    Ok(resp) => resp.status().is_success() && resp.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if good {
                    ok += 1;
                    if let Ok(mut h) = latency_us.lock() {
                        h.saturating_record(started.elapsed().as_micros() as u64);
                    }
                } else {
                    errors += 1;
                }
            }
            (ok, errors)
        });
    }
    let started = Instant::now();
    while !workers.is_empty() && started.elapsed() < length {
        tokio::time::sleep(Duration::from_millis(250)).await;
        progress.set_position(started.elapsed().as_secs());
    }
    let (mut ok, mut errors) = (0, 0);
    while let Some(done) = workers.join_next().await {
        let (o, e) = done?;
        ok += o;
        errors += e;
    }
    span.finish(m);
    progress.finish_and_clear();
    m.sent = ok + errors;
    m.received = ok;
    m.requests_per_sec = Some(ok as f64 / m.active_secs);
    m.request_errors = Some(errors);
    m.latency_ms = latency_us.lock().ok().and_then(|h| latency_ms(&h));
    Ok(())
}
