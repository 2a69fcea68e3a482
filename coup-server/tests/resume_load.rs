//! A thousand clients resuming 500 missed messages at the same moment, against
//! the real server: each gets every message once, in order, and the server's
//! memory stays bounded (the replay is paced per connection). In a file of its
//! own so no other test loads the machine while it measures.

mod common;

use std::time::{Duration, Instant};

use common::catch_up::post_many;
use common::start;
use common::ws::Ws;
use serde_json::{Value, json};

/// A line of a process's `/proc` status, in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_clients_resuming_at_once_keep_the_server_s_memory_bounded() {
    const CLIENTS: usize = 1000;
    const MISSED: usize = 500;
    let srv = start();
    let owner = srv.signup("owner").await;
    let member = srv.signup("member").await;
    let study = srv.study(&owner.0, "Resume", true, "AUTO").await;
    srv.add_member(&study, &owner.0, &member.0, &member.1).await;
    let pid = srv.child.id();
    // Everyone holds the study's start; then 500 messages are posted.
    let mut clients = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        clients.push(Ws::connect(&srv, &member.0).await);
    }
    post_many(&srv, &owner.0, &study, 0, MISSED).await;
    let idle = status_kib(pid, "VmRSS:");
    // Resets the peak (`VmHWM`) to the current RSS, so the peak read afterwards is
    // the resume's.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset the peak RSS");
    let started = Instant::now();
    let runs = clients.into_iter().map(|mut ws| {
        let study = study.clone();
        tokio::spawn(async move {
            // A loaded 2-core machine serves 500,000 frames here: allow each
            // client a long pause between two of them.
            ws.send(json!({"type": "subscribe", "studyId": study, "lastChange": 0}))
                .await;
            let mut replayed: Vec<Value> = Vec::new();
            let subscribed = loop {
                let frame = ws.recv_within(Duration::from_secs(60)).await;
                if frame["type"] == "subscribed" {
                    break frame;
                }
                replayed.push(frame);
            };
            let seqs: Vec<i64> = replayed
                .iter()
                .filter_map(|f| f["message"]["seq"].as_i64())
                .collect();
            (seqs, subscribed["lastChange"].as_i64())
        })
    });
    let results = futures_util::future::join_all(runs).await;
    let elapsed = started.elapsed();
    let peak = status_kib(pid, "VmHWM:");
    let expected: Vec<i64> = (1..=MISSED as i64).collect();
    for result in results {
        let (seqs, reached) = result.expect("client task");
        assert_eq!(
            seqs, expected,
            "every client got every message once, in order"
        );
        assert_eq!(reached, Some(MISSED as i64));
    }
    let grown_mib = peak.saturating_sub(idle) / 1024;
    println!(
        "{CLIENTS} clients resumed {MISSED} messages each in {elapsed:?}; server RSS {} MiB idle, \
         +{grown_mib} MiB at the peak",
        idle / 1024
    );
    // A queue per client holds at most 256 + 128 frames; unpaced, 1,000 clients
    // x 500 frames would all sit in memory at once.
    assert!(grown_mib < 200, "server RSS grew by {grown_mib} MiB");
}
