//! The real-time gateway end to end: several real WebSocket clients against the
//! real server binary.

mod common;

use std::time::Duration;

use common::ws::Ws;
use common::{Server, start, start_with};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

struct World {
    srv: Server,
    owner: (String, String),
    member: (String, String),
    outsider: (String, String),
    study: String,
}

async fn world_on(srv: Server) -> World {
    let owner = srv.signup("owner").await;
    let member = srv.signup("member").await;
    let outsider = srv.signup("outsider").await;
    let study = srv.study(&owner.0, "Live", true, "AUTO").await;
    srv.add_member(&study, &owner.0, &member.0, &member.1).await;
    World {
        srv,
        owner,
        member,
        outsider,
        study,
    }
}

async fn world() -> World {
    world_on(start()).await
}

#[tokio::test]
async fn chat_fans_out_to_members_only_and_acks_with_the_sequence() {
    let w = world().await;
    let mut a = Ws::connect(&w.srv, &w.owner.0).await;
    let mut b = Ws::connect(&w.srv, &w.member.0).await;
    let mut c = Ws::connect(&w.srv, &w.outsider.0).await;
    a.subscribe(&w.study, None).await;
    b.subscribe(&w.study, None).await;
    c.send(json!({"type": "subscribe", "requestId": "x", "studyId": w.study}))
        .await;
    let refused = c.recv_type("error").await;
    assert_eq!(
        (refused["requestId"].as_str(), refused["code"].as_str()),
        (Some("x"), Some("FORBIDDEN"))
    );
    let sent = a.chat(&w.study, "hello", "c-1").await;
    assert_eq!(sent["seq"], 1);
    let got = b.recv_type("message").await;
    assert_eq!(
        (
            got["message"]["seq"].as_i64(),
            got["message"]["content"].as_str()
        ),
        (Some(1), Some("hello"))
    );
    // REST sends appear on the socket the same way.
    w.srv
        .post(
            &format!("/api/studies/{}/chat", w.study),
            Some(&w.member.0),
            json!({"content": "via REST"}),
        )
        .await
        .ok(201);
    assert_eq!(a.recv_type("message").await["message"]["seq"], 2);
    c.expect_none("message").await;
}

#[tokio::test]
async fn read_receipts_typing_and_typing_expiry() {
    let w = world().await;
    let mut a = Ws::connect(&w.srv, &w.owner.0).await;
    let mut b = Ws::connect(&w.srv, &w.member.0).await;
    a.subscribe(&w.study, None).await;
    b.subscribe(&w.study, None).await;
    a.chat(&w.study, "read me", "r1").await;
    b.send(json!({"type": "read", "requestId": "rd", "studyId": w.study, "seq": 1}))
        .await;
    let receipt = a.recv_type("readReceipt").await;
    assert_eq!(
        (receipt["userId"].as_str(), receipt["lastReadSeq"].as_i64()),
        (Some(w.member.1.as_str()), Some(1))
    );
    b.send(json!({"type": "typing", "studyId": w.study, "typing": true}))
        .await;
    let typing = a.recv_type("typing").await;
    assert_eq!(
        (typing["userId"].as_str(), typing["typing"].as_bool()),
        (Some(w.member.1.as_str()), Some(true))
    );
    // Nobody says stop: the indicator expires by itself within a few seconds.
    let started = tokio::time::Instant::now();
    let stopped = loop {
        let f = a.recv_within(Duration::from_secs(10)).await;
        if f["type"] == "typing" {
            break f;
        }
    };
    assert_eq!(stopped["typing"], false);
    assert!(started.elapsed() >= Duration::from_secs(3));
    b.send(json!({"type": "typing", "studyId": "00000000-0000-0000-0000-000000000000", "typing": true})).await;
    assert_eq!(b.recv_type("error").await["code"], "NOT_SUBSCRIBED");
}

#[tokio::test]
async fn presence_counts_devices() {
    let w = world().await;
    let mut watcher = Ws::connect(&w.srv, &w.owner.0).await;
    watcher.subscribe(&w.study, None).await;
    let mut phone = Ws::connect(&w.srv, &w.member.0).await;
    let subscribed = phone.subscribe(&w.study, None).await;
    let online: Vec<&str> = subscribed["online"]
        .as_array()
        .expect("online")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(online.contains(&w.owner.1.as_str()) && online.contains(&w.member.1.as_str()));
    let came = loop {
        // The watcher's own arrival is announced too; wait for the member's.
        let f = watcher.recv_type("presence").await;
        if f["userId"] != w.owner.1.as_str() {
            break f;
        }
    };
    assert_eq!(
        (came["userId"].as_str(), came["online"].as_bool()),
        (Some(w.member.1.as_str()), Some(true))
    );
    let mut laptop = Ws::connect(&w.srv, &w.member.0).await;
    laptop.subscribe(&w.study, None).await;
    watcher.expect_none("presence").await;
    drop(phone);
    // Once the server counts the phone gone it has done all a disconnect does
    // (under the hub's lock), so the fence then covers its presence change.
    w.srv.wait_ws_connections(2).await;
    watcher.expect_none("presence").await;
    drop(laptop);
    let gone = watcher.recv_type("presence").await;
    assert_eq!(
        (gone["userId"].as_str(), gone["online"].as_bool()),
        (Some(w.member.1.as_str()), Some(false))
    );
}

#[tokio::test]
async fn notifications_are_pushed_live_and_kicked_members_are_cut_off() {
    let w = world().await;
    let mut member = Ws::connect(&w.srv, &w.member.0).await;
    member.subscribe(&w.study, None).await;
    w.srv
        .post(
            &format!("/api/studies/{}/notices", w.study),
            Some(&w.owner.0),
            json!({"title": "Exam", "content": "Friday"}),
        )
        .await
        .ok(201);
    let pushed = member.recv_type("notification").await;
    assert_eq!(pushed["notification"]["kind"], "NEW_NOTICE");
    assert_eq!(
        w.srv
            .delete(
                &format!("/api/studies/{}/members/{}", w.study, w.member.1),
                Some(&w.owner.0)
            )
            .await
            .status
            .as_u16(),
        204
    );
    let ended = member.recv_type("unsubscribed").await;
    assert_eq!(ended["reason"], "KICKED");
    assert_eq!(
        member.recv_type("notification").await["notification"]["kind"],
        "KICKED"
    );
    w.srv
        .post(
            &format!("/api/studies/{}/chat", w.study),
            Some(&w.owner.0),
            json!({"content": "after the kick"}),
        )
        .await
        .ok(201);
    member.expect_none("message").await;
    member
        .send(json!({"type": "subscribe", "requestId": "again", "studyId": w.study}))
        .await;
    assert_eq!(member.recv_type("error").await["code"], "FORBIDDEN");
}

#[tokio::test]
async fn a_call_is_set_up_between_two_participants_and_a_third_sees_none_of_it() {
    let w = world().await;
    let third = w.srv.signup("third").await;
    w.srv
        .add_member(&w.study, &w.owner.0, &third.0, &third.1)
        .await;
    let mut a = Ws::connect(&w.srv, &w.owner.0).await;
    let mut b = Ws::connect(&w.srv, &w.member.0).await;
    let mut c = Ws::connect(&w.srv, &third.0).await;
    for ws in [&mut a, &mut b, &mut c] {
        ws.subscribe(&w.study, None).await;
    }
    a.send(json!({"type": "callJoin", "requestId": "j", "studyId": w.study, "media": {"mic": true, "camera": true, "screen": false}})).await;
    let joined = a.recv_type("callJoined").await;
    assert!(joined["iceServers"].is_array());
    b.send(json!({"type": "callJoin", "requestId": "j", "studyId": w.study}))
        .await;
    let joined = b.recv_type("callJoined").await;
    assert_eq!(joined["participants"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        a.recv_type("callParticipantJoined").await["participant"]["userId"],
        w.member.1.as_str()
    );
    a.send(json!({"type": "signal", "requestId": "o", "studyId": w.study, "to": w.member.1, "kind": "offer", "payload": {"sdp": "v=0 offer"}})).await;
    let offer = b.recv_type("signal").await;
    assert_eq!(
        (
            offer["from"].as_str(),
            offer["kind"].as_str(),
            offer["payload"]["sdp"].as_str()
        ),
        (Some(w.owner.1.as_str()), Some("offer"), Some("v=0 offer"))
    );
    b.send(json!({"type": "signal", "studyId": w.study, "to": w.owner.1, "kind": "answer", "payload": {"sdp": "v=0 answer"}})).await;
    assert_eq!(a.recv_type("signal").await["kind"], "answer");
    for (from, to, to_id) in [
        (&mut a, "ice-a", &w.member.1),
        (&mut b, "ice-b", &w.owner.1),
    ] {
        from.send(json!({"type": "signal", "studyId": w.study, "to": to_id, "kind": "iceCandidate", "payload": {"candidate": to}})).await;
    }
    assert_eq!(b.recv_type("signal").await["payload"]["candidate"], "ice-a");
    assert_eq!(a.recv_type("signal").await["payload"]["candidate"], "ice-b");
    b.send(json!({"type": "media", "requestId": "m", "studyId": w.study, "media": {"mic": false, "camera": true, "screen": true}})).await;
    assert_eq!(a.recv_type("callMedia").await["media"]["screen"], true);
    // The third member is not in the call: no signal reaches them, and they cannot signal.
    c.expect_none("signal").await;
    c.send(json!({"type": "signal", "requestId": "s", "studyId": w.study, "to": w.owner.1, "kind": "offer", "payload": {}})).await;
    assert_eq!(c.recv_type("error").await["code"], "FORBIDDEN");
    a.send(json!({"type": "signal", "requestId": "t", "studyId": w.study, "to": third.1, "kind": "offer", "payload": {}})).await;
    assert_eq!(
        a.recv_type("error").await["code"],
        "NOT_FOUND",
        "signaling someone outside the call"
    );
    let huge = "x".repeat(40 * 1024);
    a.send(json!({"type": "signal", "requestId": "big", "studyId": w.study, "to": w.member.1, "kind": "offer", "payload": {"sdp": huge}})).await;
    assert_eq!(a.recv_type("error").await["code"], "PAYLOAD_TOO_LARGE");
    // Leaving on disconnect.
    drop(b);
    assert_eq!(
        a.recv_type("callParticipantLeft").await["userId"],
        w.member.1.as_str()
    );
}

#[tokio::test]
async fn resume_delivers_exactly_what_was_missed_and_resends_are_idempotent() {
    let w = world().await;
    let mut a = Ws::connect(&w.srv, &w.owner.0).await;
    a.subscribe(&w.study, None).await;
    let mut b = Ws::connect(&w.srv, &w.member.0).await;
    b.subscribe(&w.study, None).await;
    for i in 1..=3 {
        a.chat(&w.study, &format!("m{i}"), &format!("a{i}")).await;
        b.recv_type("message").await;
    }
    drop(b); // the connection drops; b saw up to seq 3
    for i in 4..=8 {
        a.chat(&w.study, &format!("m{i}"), &format!("a{i}")).await;
    }
    let mut b = Ws::connect(&w.srv, &w.member.0).await;
    let (replayed, subscribed) = b.resume(&w.study, Some(3), None).await;
    assert_eq!(subscribed["lastSeq"], 8);
    let seqs: Vec<i64> = replayed
        .iter()
        .filter(|f| f["type"] == "message")
        .filter_map(|f| f["message"]["seq"].as_i64())
        .collect();
    assert_eq!(seqs, vec![4, 5, 6, 7, 8], "in order, nothing missing");
    b.expect_none("message").await;
    // A resend after a dropped connection does not create a second message.
    let first = b.chat(&w.study, "only once", "b-1").await;
    drop(b);
    let mut b = Ws::connect(&w.srv, &w.member.0).await;
    b.subscribe(&w.study, Some(9)).await;
    let again = b.chat(&w.study, "only once", "b-1").await;
    assert_eq!(
        (first["id"].clone(), first["seq"].clone()),
        (again["id"].clone(), again["seq"].clone())
    );
    let all = w
        .srv
        .get(
            &format!("/api/studies/{}/chat?after=0&limit=100", w.study),
            Some(&w.member.0),
        )
        .await
        .ok(200);
    assert_eq!(all["items"].as_array().map(Vec::len), Some(9));
    // Too much missed: told to page over REST.
    let srv = start_with(&["--config", &write_config(&w.srv, "replay_limit = 2\n")]);
    let w2 = world_on(srv).await;
    let mut a = Ws::connect(&w2.srv, &w2.owner.0).await;
    a.subscribe(&w2.study, None).await;
    for i in 1..=5 {
        a.chat(&w2.study, &format!("m{i}"), &format!("x{i}")).await;
    }
    let mut b = Ws::connect(&w2.srv, &w2.member.0).await;
    let (replayed, subscribed) = b.resume(&w2.study, Some(1), None).await;
    let resync = &replayed[0];
    assert_eq!(resync["type"], "resyncRequired", "{replayed:?}");
    assert_eq!(
        (resync["fromSeq"].as_i64(), resync["toSeq"].as_i64()),
        (Some(1), Some(5))
    );
    assert_eq!(
        (resync["fromChange"].as_i64(), resync["toChange"].as_i64()),
        (Some(1), Some(5))
    );
    assert_eq!(replayed.len(), 1, "nothing replayed past the limit");
    assert_eq!(
        subscribed["lastChange"], 5,
        "live from the study's last change"
    );
    b.send(json!({"type": "subscribe", "requestId": "bad", "studyId": w2.study, "lastSeq": 99}))
        .await;
    assert_eq!(
        b.recv_type("error").await["code"],
        "CONFLICT",
        "already subscribed"
    );
}

fn write_config(srv: &Server, text: &str) -> String {
    let path = srv.dir.path().join(format!("extra-{}.toml", uuid_like()));
    std::fs::write(&path, text).expect("write config");
    path.to_string_lossy().into_owned()
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_slow_reader_is_dropped_while_the_others_continue() {
    let probe = start();
    let config = write_config(&probe, "ws_queue_len = 8\n");
    let w = world_on(start_with(&["--config", &config])).await;
    let mut fast = Ws::connect(&w.srv, &w.owner.0).await;
    fast.subscribe(&w.study, None).await;
    let mut slow = Ws::connect(&w.srv, &w.member.0).await;
    slow.subscribe(&w.study, None).await;
    // The slow client stops reading; the server's queue for it fills up once the
    // kernel's socket buffers are full, while the fast client keeps reading.
    const COUNT: usize = 800;
    let reader = tokio::spawn(async move {
        let mut seen = 0;
        while seen < COUNT {
            if fast.recv().await["type"] == "message" {
                seen += 1;
            }
        }
        seen
    });
    let big = "가".repeat(3900);
    for i in 0..COUNT {
        w.srv
            .post(
                &format!("/api/studies/{}/chat", w.study),
                Some(&w.owner.0),
                json!({"content": format!("{i}{big}")}),
            )
            .await
            .ok(201);
    }
    assert_eq!(
        reader.await.expect("fast reader"),
        COUNT,
        "the fast client got everything"
    );
    // The server gives up on the reader: with its buffers full the 4008 close frame
    // may not fit, and the socket is dropped instead.
    let code = slow.closed().await;
    assert!(
        matches!(code, 4008 | 1006),
        "closed as a slow consumer, got {code}"
    );
    let metrics = w.srv.metrics().await;
    assert!(metrics.contains("coup_ws_slow_consumers_total"));
}

#[tokio::test]
async fn bad_input_gets_error_frames_or_close_codes_and_changes_nothing() {
    let w = world().await;
    // Frames before hello, and a forged token.
    let mut ws = Ws::open(&w.srv).await;
    ws.send(json!({"type": "subscribe", "studyId": w.study}))
        .await;
    assert_eq!(ws.recv().await["code"], "NOT_AUTHENTICATED");
    assert_eq!(ws.closed().await, 4001);
    let mut ws = Ws::open(&w.srv).await;
    ws.send(json!({"type": "hello", "version": 1, "token": "forged"}))
        .await;
    assert_eq!(ws.recv().await["code"], "UNAUTHORIZED");
    assert_eq!(ws.closed().await, 4001);
    let mut ws = Ws::open(&w.srv).await;
    ws.send(json!({"type": "hello", "version": 99, "token": w.owner.0}))
        .await;
    ws.recv().await;
    assert_eq!(ws.closed().await, 4002);
    let mut ws = Ws::open(&w.srv).await;
    ws.send_raw("not json").await;
    ws.recv().await;
    assert_eq!(ws.closed().await, 4001);

    let mut ws = Ws::connect(&w.srv, &w.owner.0).await;
    ws.send_raw("{").await;
    assert_eq!(ws.recv().await["code"], "BAD_FRAME");
    ws.send(json!({"type": "launchMissiles"})).await;
    assert_eq!(ws.recv().await["code"], "BAD_FRAME");
    ws.send(json!({"type": "subscribe", "studyId": "not-a-uuid"}))
        .await;
    assert_eq!(ws.recv().await["code"], "BAD_FRAME");
    ws.send(json!({"type": "send", "requestId": "s", "studyId": w.study, "content": "", "clientId": "e"})).await;
    assert_eq!(ws.recv_type("error").await["code"], "VALIDATION");
    ws.send(json!({"type": "hello", "version": 1, "token": w.owner.0}))
        .await;
    assert_eq!(ws.recv().await["code"], "NOT_AUTHENTICATED");
    ws.subscribe(&w.study, None).await;
    let before = w
        .srv
        .get(&format!("/api/studies/{}/chat", w.study), Some(&w.owner.0))
        .await
        .ok(200);
    assert_eq!(
        before["items"].as_array().map(Vec::len),
        Some(0),
        "nothing was written"
    );

    // A frame over 64 KiB closes with 1009; the server keeps serving others.
    let mut big = Ws::connect(&w.srv, &w.member.0).await;
    big.send_raw(&format!(
        "{{\"type\":\"typing\",\"pad\":\"{}\"}}",
        "z".repeat(70 * 1024)
    ))
    .await;
    assert_eq!(big.closed().await, u16::from(CloseCode::Size));
    // A flood is answered with RATE_LIMITED, then closed.
    let mut flood = Ws::connect(&w.srv, &w.member.0).await;
    flood.subscribe(&w.study, None).await;
    let typing = json!({"type": "typing", "studyId": w.study, "typing": true}).to_string();
    for _ in 0..200 {
        // The server may close mid-flood; later sends then fail, which is the point.
        if flood
            .socket
            .send(Message::Text(typing.clone().into()))
            .await
            .is_err()
        {
            break;
        }
    }
    let mut limited = false;
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(5), flood.socket.next())
            .await
            .expect("frame")
        {
            Some(Ok(Message::Text(t))) => limited |= t.contains("RATE_LIMITED"),
            Some(Ok(Message::Close(Some(f)))) => break u16::from(f.code),
            Some(Ok(_)) => {}
            _ => break 1006,
        }
    };
    assert!(limited);
    assert_eq!(code, 4029);
    ws.chat(&w.study, "still fine", "ok-1").await;
}

#[tokio::test]
async fn heartbeat_drops_silent_clients_and_suspension_closes_sockets() {
    let probe = start();
    let config = write_config(&probe, "heartbeat_secs = 1\n");
    let w = world_on(start_with(&["--config", &config])).await;
    // A raw TCP client that completes the upgrade and then never answers pings.
    let mut silent = Ws::connect(&w.srv, &w.member.0).await;
    let started = tokio::time::Instant::now();
    // Not reading means no pongs are sent.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let code = silent.closed().await;
    assert_eq!(code, 4004, "closed for missing heartbeats");
    assert!(started.elapsed() >= Duration::from_secs(2));
    // An attentive client stays.
    let mut alive = Ws::connect(&w.srv, &w.member.0).await;
    alive.subscribe(&w.study, None).await;
    alive.stays_open(Duration::from_millis(3000)).await;
    alive.expect_none("unsubscribed").await;
    let (sys, _) = w.srv.admin("root", true).await;
    w.srv
        .post(
            &format!("/api/admin/users/{}/suspend", w.member.1),
            Some(&sys),
            json!({"reason": "spam"}),
        )
        .await
        .ok(200);
    assert_eq!(
        alive.closed_because().await,
        (4003, "ACCOUNT_SUSPENDED".to_owned()),
        "the close says why, for the app to word"
    );
}

#[tokio::test]
async fn logout_and_password_change_close_the_sockets_of_ended_sessions() {
    let w = world().await;
    let login = |srv: &Server| {
        let srv_url = srv.url("/api/auth/login");
        let http = srv.http.clone();
        async move {
            let res = http
                .post(srv_url)
                .json(&json!({"email": "member@example.com", "password": "study-together-42"}))
                .send()
                .await
                .expect("login");
            let body: Value = res.json().await.expect("json");
            body["token"].as_str().expect("token").to_owned()
        }
    };
    let (first, second, third) = (w.member.0.clone(), login(&w.srv).await, login(&w.srv).await);
    let mut on_first = Ws::connect(&w.srv, &first).await;
    let mut on_second = Ws::connect(&w.srv, &second).await;
    let mut on_third = Ws::connect(&w.srv, &third).await;
    assert_eq!(
        w.srv
            .post("/api/auth/logout", Some(&first), json!({}))
            .await
            .status
            .as_u16(),
        204
    );
    assert_eq!(
        on_first.closed_because().await,
        (4003, "SESSION_EXPIRED".to_owned()),
        "the logged-out session's socket closes"
    );
    on_second.subscribe(&w.study, None).await;
    let changed = w
        .srv
        .post(
            "/api/users/me/password",
            Some(&third),
            json!({"currentPassword": "study-together-42", "newPassword": "fresh-meadow-93"}),
        )
        .await;
    assert_eq!(changed.status.as_u16(), 204);
    assert_eq!(
        on_second.closed_because().await,
        (4003, "SESSION_EXPIRED".to_owned()),
        "other sessions end with a password change"
    );
    on_third.subscribe(&w.study, None).await;
    on_third.chat(&w.study, "still here", "t-1").await;
}
