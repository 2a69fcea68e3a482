//! Catching up after an absence, against the real server: gaps of every size
//! replayed exactly once and in order (paced by the client's reading, never
//! closed as a slow consumer), the change feed that brings deletions and read
//! receipts made meanwhile, and typing that ends when a message is committed
//! however it was sent. (A thousand clients resuming at once: `resume_load.rs`.)

mod common;

use std::time::{Duration, Instant};

use common::catch_up::{gap_table, post_many};
use common::ws::Ws;
use common::{Server, start};
use serde_json::json;

async fn study_with_member(srv: &Server) -> ((String, String), (String, String), String) {
    let owner = srv.signup("owner").await;
    let member = srv.signup("member").await;
    let study = srv.study(&owner.0, "Resume", true, "AUTO").await;
    srv.add_member(&study, &owner.0, &member.0, &member.1).await;
    (owner, member, study)
}

#[tokio::test]
async fn gaps_of_every_size_are_replayed_exactly_once_in_order() {
    let srv = start();
    let (owner, member, study) = study_with_member(&srv).await;
    gap_table(&srv, &srv, &owner.0, &member.0, &study).await;
}

#[tokio::test]
async fn deletions_and_receipts_made_while_away_reach_a_resuming_client() {
    let srv = start();
    let (owner, member, study) = study_with_member(&srv).await;
    post_many(&srv, &owner.0, &study, 1, 3).await;
    let chat = format!("/api/studies/{study}/chat");
    let page = srv.get(&chat, Some(&member.0)).await.ok(200);
    let held_change = page["lastChange"]
        .as_i64()
        .expect("the chat page says its change");
    assert_eq!(held_change, 3);
    let second = page["items"][1]["id"].as_str().expect("id").to_owned();

    // Away: the owner deletes message 2, the member reads up to 3 on another
    // device, and the owner posts message 4.
    srv.delete(&format!("{chat}/{second}"), Some(&owner.0))
        .await
        .ok(204);
    let third = page["items"][2]["id"].as_str().expect("id").to_owned();
    srv.post(&format!("{chat}/{third}/read"), Some(&member.0), json!({}))
        .await
        .ok(200);
    post_many(&srv, &owner.0, &study, 4, 1).await;

    // Resuming by change: the deletion, then the receipt, then the new message.
    let mut ws = Ws::connect(&srv, &member.0).await;
    let (replayed, subscribed) = ws.resume(&study, None, Some(held_change)).await;
    let kinds: Vec<(&str, i64)> = replayed
        .iter()
        .map(|f| {
            (
                f["type"].as_str().unwrap_or(""),
                f["change"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![("messageDeleted", 4), ("readReceipt", 5), ("message", 6)],
        "{replayed:?}"
    );
    assert_eq!(replayed[0]["messageId"], second.as_str());
    assert_eq!(replayed[1]["userId"], member.1.as_str());
    assert_eq!(replayed[1]["lastReadSeq"], 3);
    assert_eq!(replayed[2]["message"]["seq"], 4);
    assert_eq!(subscribed["lastChange"], 6);

    // The same over REST, and where a page reaches.
    let changes = srv
        .get(
            &format!("{chat}/changes?after={held_change}"),
            Some(&member.0),
        )
        .await
        .ok(200);
    let rest: Vec<(&str, i64)> = changes["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap_or(""),
                c["change"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(rest, kinds);
    assert_eq!(
        (changes["lastChange"].as_i64(), changes["hasMore"].as_bool()),
        (Some(6), Some(false))
    );
    let first_page = srv
        .get(&format!("{chat}/changes?after=0&limit=2"), Some(&member.0))
        .await
        .ok(200);
    assert_eq!(first_page["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        (
            first_page["lastChange"].as_i64(),
            first_page["hasMore"].as_bool()
        ),
        (Some(2), Some(true))
    );
    // From the start, message 2 is shown as it is now (a tombstone) in its place,
    // and its deletion is not repeated.
    let all = srv
        .get(&format!("{chat}/changes?after=0"), Some(&member.0))
        .await
        .ok(200);
    let items = all["items"].as_array().expect("items");
    assert_eq!(items[1]["message"]["isDeleted"], true);
    assert!(
        items.iter().all(|c| c["type"] != "messageDeleted"),
        "{items:?}"
    );

    // Resuming by sequence alone (older clients) also gets the deletion.
    drop(ws);
    let mut old = Ws::connect(&srv, &member.0).await;
    let (replayed, _) = old.resume(&study, Some(3), None).await;
    let kinds: Vec<&str> = replayed.iter().filter_map(|f| f["type"].as_str()).collect();
    assert_eq!(kinds, vec!["messageDeleted", "readReceipt", "message"]);

    // Bad cursors are refused and change nothing.
    for (query, field) in [
        ("after=-1", "after"),
        ("after=99", "after"),
        ("after=0&limit=0", "limit"),
        ("after=0&limit=501", "limit"),
        ("after=x", "query"),
    ] {
        let refused = srv
            .get(&format!("{chat}/changes?{query}"), Some(&member.0))
            .await;
        refused.err(400, "VALIDATION");
        assert_eq!(refused.body["error"]["field"], field, "{query}");
    }
    let outsider = srv.signup("outsider").await;
    srv.get(&format!("{chat}/changes"), Some(&outsider.0))
        .await
        .err(403, "FORBIDDEN");
    srv.get(&format!("{chat}/changes"), None)
        .await
        .err(401, "UNAUTHORIZED");
    old.send(json!({"type": "subscribe", "requestId": "x", "studyId": study, "lastChange": 99}))
        .await;
    let error = old.recv_type("error").await;
    assert_eq!(
        (error["requestId"].as_str(), error["code"].as_str()),
        (Some("x"), Some("CONFLICT"))
    );
    let mut fresh = Ws::connect(&srv, &member.0).await;
    fresh
        .send(json!({"type": "subscribe", "requestId": "y", "studyId": study, "lastChange": 99}))
        .await;
    let error = fresh.recv_type("error").await;
    assert_eq!(
        (error["requestId"].as_str(), error["code"].as_str()),
        (Some("y"), Some("VALIDATION"))
    );
    // …and the refused subscription left nothing behind: subscribing works.
    let (_, subscribed) = fresh.resume(&study, None, Some(6)).await;
    assert_eq!(subscribed["lastChange"], 6);
}

#[tokio::test]
async fn a_message_posted_over_rest_ends_its_authors_typing_at_once() {
    let srv = start();
    let (owner, member, study) = study_with_member(&srv).await;
    let mut watcher = Ws::connect(&srv, &owner.0).await;
    watcher.subscribe(&study, None).await;
    let mut typist = Ws::connect(&srv, &member.0).await;
    typist.subscribe(&study, None).await;
    typist
        .send(json!({"type": "typing", "studyId": study, "typing": true}))
        .await;
    assert_eq!(watcher.recv_type("typing").await["typing"], true);
    // The outbox sends over REST, not over the socket that typed.
    let started = Instant::now();
    srv.post(
        &format!("/api/studies/{study}/chat"),
        Some(&member.0),
        json!({"content": "done typing", "clientId": "t-1"}),
    )
    .await
    .ok(201);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let frame = watcher.recv().await;
        if matches!(frame["type"].as_str(), Some("typing" | "message")) {
            seen.push(frame);
        }
    }
    assert_eq!(
        seen[0]["type"], "typing",
        "the indicator ends before the message shows"
    );
    assert_eq!(
        (seen[0]["userId"].as_str(), seen[0]["typing"].as_bool()),
        (Some(member.1.as_str()), Some(false))
    );
    assert_eq!(seen[1]["message"]["content"], "done typing");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "not the 5 s expiry: {:?}",
        started.elapsed()
    );
}
