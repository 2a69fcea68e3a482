//! The WebSocket contract under abuse, against the real server: close codes
//! reach the client (the closing handshake is finished on every path, before
//! `hello` too), RFC 6455 violations get RFC 6455's codes, a sustained flood is
//! closed with 4029, and every frame that carries a `requestId` is answered
//! exactly once — refusals included.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::raw_ws::{RawWs, Received};
use common::ws::Ws;
use common::{Server, start};
use serde_json::{Value, json};

async fn hello(srv: &Server, token: &str) -> RawWs {
    let mut ws = RawWs::open(srv).await;
    ws.text(&json!({"type": "hello", "version": 1, "token": token}).to_string())
        .await;
    match ws.recv().await {
        Received::Text(t) => assert!(t.contains("\"welcome\""), "{t}"),
        other => panic!("expected welcome, got {other:?}"),
    }
    ws
}

#[tokio::test]
async fn refusals_before_hello_reach_the_client_with_their_code_every_time() {
    let srv = start();
    for round in 0..20 {
        let mut ws = RawWs::open(&srv).await;
        let (frame, expected) = match round % 4 {
            0 => (
                json!({"type": "hello", "version": 1, "token": "forged"}).to_string(),
                4001,
            ),
            1 => (
                json!({"type": "subscribe", "studyId": "x"}).to_string(),
                4001,
            ),
            2 => (
                json!({"type": "hello", "version": 99, "token": "t"}).to_string(),
                4002,
            ),
            _ => ("x".repeat(70 * 1024), 1009),
        };
        ws.text(&frame).await;
        assert_eq!(ws.close_code().await, Some(expected), "round {round}");
    }
}

#[tokio::test]
async fn protocol_violations_get_rfc_6455_codes() {
    let srv = start();
    let (token, _) = srv.signup("kim").await;
    // (first byte, payload, expected close code)
    let cases: [(&str, u8, Vec<u8>, u16); 6] = [
        ("invalid UTF-8", 0x81, vec![0xff, 0xfe, 0xfd], 1007),
        ("reserved bit", 0x81 | 0x40, b"{}".to_vec(), 1002),
        ("unknown opcode", 0x83, b"x".to_vec(), 1002),
        ("fragmented ping", 0x09, b"p".to_vec(), 1002),
        ("bad close code", 0x88, 999u16.to_be_bytes().to_vec(), 1002),
        ("oversized frame", 0x81, vec![b' '; 70 * 1024], 1009),
    ];
    for (what, first, payload, expected) in cases {
        let mut ws = hello(&srv, &token).await;
        ws.frame(first, &payload).await;
        assert_eq!(ws.close_code().await, Some(expected), "{what}");
    }
    // A well-behaved connection beside them is unaffected.
    let mut fine = Ws::connect(&srv, &token).await;
    fine.send(json!({"type": "subscribe", "requestId": "s", "studyId": "00000000-0000-0000-0000-000000000000"}))
        .await;
    assert_eq!(fine.recv_type("error").await["requestId"], "s");
}

#[tokio::test]
async fn a_sustained_flood_is_closed_with_4029() {
    let srv = start();
    let (owner, _) = srv.signup("owner").await;
    let study = srv.study(&owner, "Flood", true, "AUTO").await;
    let mut ws = hello(&srv, &owner).await;
    ws.text(&json!({"type": "subscribe", "studyId": study}).to_string())
        .await;
    // About eight times the allowed 20 frames a second, steadily: some frames
    // are accepted as tokens come back, which must not forgive the refusals.
    let typing = json!({"type": "typing", "studyId": study, "typing": true}).to_string();
    let started = Instant::now();
    let mut warnings = 0;
    let code = loop {
        assert!(started.elapsed() < Duration::from_secs(10), "never closed");
        for _ in 0..16 {
            ws.text(&typing).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Drain what came back without waiting on an idle socket.
        let drained = tokio::time::timeout(Duration::from_millis(5), async {
            loop {
                match ws.recv().await {
                    Received::Text(t) if t.contains("RATE_LIMITED") => warnings += 1,
                    Received::Close(code) => return code,
                    Received::Eof => return None,
                    _ => {}
                }
            }
        })
        .await;
        if let Ok(code) = drained {
            break code;
        }
    };
    assert_eq!(code, Some(4029));
    assert!(
        (1..=3).contains(&warnings),
        "one warning per burst for frames nobody waits on, got {warnings}"
    );
}

#[tokio::test]
async fn every_request_is_answered_once_with_its_id() {
    let srv = start();
    let (owner, _) = srv.signup("owner").await;
    let mut studies = Vec::new();
    for i in 0..3 {
        studies.push(srv.study(&owner, &format!("S{i}"), true, "AUTO").await);
    }
    let mut ws = Ws::connect(&srv, &owner).await;
    // A burst of 60 requests: far past the rate limit, and each is answered.
    for i in 0..60 {
        ws.send(
            json!({"type": "subscribe", "requestId": format!("r{i}"), "studyId": studies[i % 3]}),
        )
        .await;
    }
    let mut answers: HashMap<String, Vec<Value>> = HashMap::new();
    while answers.len() < 60 {
        let frame = ws.recv().await;
        if let Some(id) = frame["requestId"].as_str() {
            answers
                .entry(id.to_owned())
                .or_default()
                .push(frame.clone());
        }
    }
    assert!(answers.values().all(|a| a.len() == 1), "one answer each");
    let limited = answers
        .values()
        .filter(|a| a[0]["code"] == "RATE_LIMITED")
        .count();
    assert!(limited > 0, "the burst was limited");
    // Frames the server cannot read, or refuses, still name their request.
    tokio::time::sleep(Duration::from_secs(3)).await; // the bucket refills
    for (id, frame) in [
        (
            "unknown",
            json!({"type": "launchMissiles", "requestId": "unknown"}),
        ),
        (
            "fields",
            json!({"type": "send", "requestId": "fields", "studyId": 7}),
        ),
        (
            "hello",
            json!({"type": "hello", "requestId": "hello", "version": 1, "token": owner}),
        ),
        (
            "typing",
            json!({"type": "typing", "requestId": "typing", "studyId": "00000000-0000-0000-0000-000000000000", "typing": true}),
        ),
    ] {
        ws.send(frame).await;
        let answer = loop {
            let f = ws.recv().await;
            if f["type"] == "error" {
                break f;
            }
        };
        assert_eq!(answer["requestId"], id, "{answer}");
    }
}
