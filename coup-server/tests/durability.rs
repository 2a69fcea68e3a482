//! Durability under `kill -9`: writers over REST and over the WebSocket post chat
//! messages to one study while the server is killed (SIGKILL, no shutdown) five
//! times mid-traffic and restarted on the same data. After it all, every
//! message that was acknowledged is stored exactly once with the sequence it was
//! acknowledged with, resends of unacknowledged messages (same `clientId`) never
//! duplicate, and the study's sequence is gap-free from 1. On SQLite always; the
//! PostgreSQL run is `#[ignore]`d with what it needs, so a plain `cargo test`
//! reports it ignored, and runs with `--ignored` and `COUP_TEST_POSTGRES_URL`
//! set (CI does).

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use common::Server;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

/// What one writer had acknowledged: client id → sequence.
type Acked = Arc<Mutex<BTreeMap<String, i64>>>;

/// How long each round of traffic runs before the kill (deterministic, varied).
const ROUNDS_MS: [u64; 5] = [700, 350, 900, 500, 1200];

/// Posts over REST until the server stops answering; the message in flight
/// then (if any) is returned to be resent after the restart.
async fn rest_writer(
    base: String,
    token: String,
    study: String,
    acked: Acked,
    mut next: u64,
    mut resend: Option<String>,
) -> (u64, Option<String>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    loop {
        let client_id = resend.take().unwrap_or_else(|| {
            next += 1;
            format!("rest-{next}")
        });
        let res = http
            .post(format!("{base}/api/studies/{study}/chat"))
            .bearer_auth(&token)
            .json(&json!({"content": format!("over REST: {client_id}"), "clientId": client_id}))
            .send()
            .await;
        let body: Option<Value> = match res {
            Ok(res) if res.status().as_u16() == 201 => res.json().await.ok(),
            Ok(res) if res.status().is_server_error() => None,
            Ok(res) => panic!("{client_id}: {}", res.status()),
            Err(_) => None,
        };
        match body {
            Some(message) => {
                let seq = message["seq"].as_i64().expect("seq");
                let before = acked.lock().await.insert(client_id.clone(), seq);
                assert!(
                    before.is_none_or(|s| s == seq),
                    "{client_id} acknowledged twice, differently"
                );
            }
            // The server is gone (or going): resend this one next time.
            None => return (next, Some(client_id)),
        }
    }
}

/// The same over the WebSocket: `send` frames, each answered by an `ack`.
async fn ws_writer(
    base: String,
    token: String,
    study: String,
    acked: Acked,
    mut next: u64,
    mut resend: Option<String>,
) -> (u64, Option<String>) {
    let url = base.replace("http://", "ws://") + "/ws";
    let Ok((mut socket, _)) = tokio_tungstenite::connect_async(url).await else {
        return (next, resend);
    };
    let hello = json!({"type": "hello", "version": 1, "token": token}).to_string();
    if socket.send(Message::Text(hello.into())).await.is_err() {
        return (next, resend);
    }
    loop {
        let client_id = resend.take().unwrap_or_else(|| {
            next += 1;
            format!("ws-{next}")
        });
        let frame = json!({"type": "send", "requestId": client_id, "studyId": study,
                           "content": format!("over the socket: {client_id}"), "clientId": client_id});
        if socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .is_err()
        {
            return (next, Some(client_id));
        }
        let ack = loop {
            match tokio::time::timeout(Duration::from_secs(5), socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    let frame: Value = serde_json::from_str(&text).expect("json");
                    match frame["type"].as_str() {
                        Some("ack") if frame["requestId"] == client_id.as_str() => {
                            break Some(frame);
                        }
                        Some("error") => panic!("{client_id} refused: {frame}"),
                        _ => {}
                    }
                }
                Ok(Some(Ok(_))) => {}
                _ => break None,
            }
        };
        match ack {
            Some(ack) => {
                let seq = ack["message"]["seq"].as_i64().expect("seq");
                let before = acked.lock().await.insert(client_id.clone(), seq);
                assert!(
                    before.is_none_or(|s| s == seq),
                    "{client_id} acknowledged twice, differently"
                );
            }
            None => return (next, Some(client_id)),
        }
    }
}

/// Every message of `study`, in sequence order, paging forward.
async fn all_messages(srv: &Server, token: &str, study: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = srv
            .get(
                &format!("/api/studies/{study}/chat?after={after}&limit=100"),
                Some(token),
            )
            .await
            .ok(200);
        let items = page["items"].as_array().expect("items").clone();
        let Some(last) = items.last() else {
            return out;
        };
        after = last["seq"].as_i64().expect("seq");
        out.extend(items);
    }
}

async fn kill_nine_cycles(mut srv: Server) {
    let (owner, _) = srv.signup("owner").await;
    let (member, member_id) = srv.signup("member").await;
    let study = srv.study(&owner, "durability", true, "AUTO").await;
    srv.add_member(&study, &owner, &member, &member_id).await;
    let (rest_acked, ws_acked): (Acked, Acked) = Default::default();
    let (mut rest_state, mut ws_state) = ((0, None), (0, None));
    for (round, ms) in ROUNDS_MS.iter().enumerate() {
        let rest = tokio::spawn(rest_writer(
            srv.base.clone(),
            owner.clone(),
            study.clone(),
            rest_acked.clone(),
            rest_state.0,
            rest_state.1.take(),
        ));
        let ws = tokio::spawn(ws_writer(
            srv.base.clone(),
            member.clone(),
            study.clone(),
            ws_acked.clone(),
            ws_state.0,
            ws_state.1.take(),
        ));
        tokio::time::sleep(Duration::from_millis(*ms)).await;
        let stopped = srv.stop(); // SIGKILL: no shutdown, no flush
        rest_state = rest.await.expect("rest writer");
        ws_state = ws.await.expect("ws writer");
        eprintln!(
            "durability: round {round}: killed after {ms} ms; {} REST and {} WebSocket messages acknowledged so far",
            rest_acked.lock().await.len(),
            ws_acked.lock().await.len()
        );
        srv = stopped.start();
    }
    // One last quiet round: resend what was in flight at the last kill, so
    // idempotency is checked on restarted data too.
    for (writer, state, token, acked) in [
        ("rest", &mut rest_state, &owner, &rest_acked),
        ("ws", &mut ws_state, &member, &ws_acked),
    ] {
        if let Some(client_id) = state.1.take() {
            let res = srv
                .post(
                    &format!("/api/studies/{study}/chat"),
                    Some(token),
                    json!({"content": format!("resent: {client_id}"), "clientId": client_id}),
                )
                .await
                .ok(201);
            let seq = res["seq"].as_i64().expect("seq");
            eprintln!("durability: {writer} resent {client_id} after the last kill: seq {seq}");
            acked.lock().await.insert(client_id, seq);
        }
    }

    let messages = all_messages(&srv, &owner, &study).await;
    let seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();
    let expected: Vec<i64> = (1..=i64::try_from(seqs.len()).expect("count")).collect();
    assert_eq!(seqs, expected, "the sequence is gap-free from 1");
    let mut seen = HashSet::new();
    let mut stored = BTreeMap::new();
    for m in &messages {
        let client_id = m["clientId"]
            .as_str()
            .expect("every message here has a client id");
        assert!(
            seen.insert((m["authorId"].to_string(), client_id.to_owned())),
            "{client_id} is stored twice"
        );
        stored.insert(client_id.to_owned(), m["seq"].as_i64().expect("seq"));
    }
    let (rest_acked, ws_acked) = (rest_acked.lock().await, ws_acked.lock().await);
    assert!(
        rest_acked.len() > 20 && ws_acked.len() > 20,
        "traffic flowed: {} REST, {} WebSocket",
        rest_acked.len(),
        ws_acked.len()
    );
    for (client_id, seq) in rest_acked.iter().chain(ws_acked.iter()) {
        assert_eq!(
            stored.get(client_id),
            Some(seq),
            "{client_id} was acknowledged with seq {seq}"
        );
    }
    eprintln!(
        "durability: {} messages stored, gap-free; {} acknowledged over REST and {} over the WebSocket, all present once",
        messages.len(),
        rest_acked.len(),
        ws_acked.len()
    );
}

/// A config file that lets one socket send as fast as it is answered (the
/// writer waits for each ack, but the default frame rate would refuse it).
fn fast_sockets() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("coup.toml");
    std::fs::write(&path, "ws_frames_per_second = 10000\n").expect("config");
    let path = path.to_str().expect("utf-8").to_owned();
    (dir, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_messages_survive_kill_9_on_sqlite() {
    let (_config, path) = fast_sockets();
    kill_nine_cycles(common::start_with(&["--config", &path])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL (COUP_TEST_POSTGRES_URL); CI runs it"]
async fn acknowledged_messages_survive_kill_9_on_postgres() {
    let url = std::env::var("COUP_TEST_POSTGRES_URL")
        .expect("COUP_TEST_POSTGRES_URL is not set: the PostgreSQL durability test needs it");
    let (schema, scoped) = common::scratch_database(&url);
    let (_config, path) = fast_sockets();
    kill_nine_cycles(common::start_with(&[
        "--database",
        &scoped,
        "--config",
        &path,
    ]))
    .await;
    drop(schema);
}
