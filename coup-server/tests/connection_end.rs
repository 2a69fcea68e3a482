//! However a live connection ends — missed heartbeats, a slow reader, a flood,
//! the session ending, the client closing or vanishing — its socket is closed
//! within a bounded time, it stops being counted, and its presence and call
//! membership end for everyone else. Each way is one test against the real
//! server.

mod common;

use std::time::{Duration, Instant};

use common::ws::Ws;
use common::{Server, start_with};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

struct World {
    srv: Server,
    watcher: Ws,
    member: (String, String),
    study: String,
}

/// A server with a 1 s heartbeat (and `extra` settings), a study, an owner
/// watching it live and a member who is in it.
async fn world(extra: &str) -> World {
    let config = tempfile::NamedTempFile::new().expect("config");
    std::fs::write(config.path(), format!("heartbeat_secs = 1\n{extra}")).expect("write");
    let srv = start_with(&["--config", config.path().to_str().expect("utf-8")]);
    let owner = srv.signup("owner").await;
    let member = srv.signup("member").await;
    let study = srv.study(&owner.0, "Ends", true, "AUTO").await;
    srv.add_member(&study, &owner.0, &member.0, &member.1).await;
    let mut watcher = Ws::connect(&srv, &owner.0).await;
    watcher.subscribe(&study, None).await;
    World {
        srv,
        watcher,
        member,
        study,
    }
}

impl World {
    /// The member connects, follows the study (the watcher sees them online)
    /// and joins its call.
    async fn member_online(&mut self) -> Ws {
        let mut ws = Ws::connect(&self.srv, &self.member.0).await;
        ws.subscribe(&self.study, None).await;
        let online = self.presence().await;
        assert_eq!(online["online"], true);
        ws.send(json!({"type": "callJoin", "requestId": "j", "studyId": self.study}))
            .await;
        assert_eq!(ws.recv_type("callJoined").await["requestId"], "j");
        assert_eq!(
            self.watcher.recv_type("callParticipantJoined").await["participant"]["userId"],
            self.member.1.as_str()
        );
        assert_eq!(self.srv.ws_connections().await, 2);
        ws
    }

    async fn presence(&mut self) -> Value {
        loop {
            let frame = self.watcher.recv_within(Duration::from_secs(10)).await;
            if frame["type"] == "presence" && frame["userId"] == self.member.1.as_str() {
                return frame;
            }
        }
    }

    /// The member's end as the others see it: they leave the call and go
    /// offline within `bound`, and only the watcher's connection is counted.
    async fn member_gone(&mut self, bound: Duration) {
        let started = Instant::now();
        let (mut left_call, mut offline) = (false, false);
        while !(left_call && offline) {
            let frame = self.watcher.recv_within(bound).await;
            let about_member = frame["userId"] == self.member.1.as_str();
            match frame["type"].as_str() {
                Some("callParticipantLeft") if about_member => left_call = true,
                Some("presence") if about_member => {
                    assert_eq!(frame["online"], false, "{frame}");
                    offline = true;
                }
                _ => {}
            }
        }
        assert!(started.elapsed() < bound, "{:?}", started.elapsed());
        assert_eq!(
            self.srv.ws_connections().await,
            1,
            "only the watcher is counted"
        );
    }
}

/// Reads what is left of a socket the server ended: the close code it sent,
/// and that the TCP connection itself then closed (the stream ends) within
/// `bound`.
async fn closed_for_good(ws: &mut Ws, bound: Duration) -> Option<u16> {
    let mut code = None;
    let ended = tokio::time::timeout(bound, async {
        while let Some(next) = ws.socket.next().await {
            match next {
                Ok(Message::Close(frame)) => code = frame.map(|f| u16::from(f.code)),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the server kept the socket open past {bound:?}"
    );
    code
}

#[tokio::test]
async fn a_frozen_client_is_closed_and_goes_offline_everywhere() {
    let mut w = world("").await;
    let mut frozen = w.member_online().await;
    // Frozen: reads nothing, so it answers no ping (the library pongs as it reads).
    let started = Instant::now();
    w.member_gone(Duration::from_secs(6)).await;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "two silent heartbeats first"
    );
    assert_eq!(
        closed_for_good(&mut frozen, Duration::from_secs(3)).await,
        Some(4004)
    );
}

#[tokio::test]
async fn a_slow_reader_is_closed_and_goes_offline() {
    let mut w = world("ws_queue_len = 8\n").await;
    let mut slow = w.member_online().await;
    // Big messages until the slow reader's buffers and queue are full, while
    // the watcher reads on.
    let big = "가".repeat(3900);
    let owner_token = w.watcher_token().await;
    let (http, url) = (
        w.srv.http.clone(),
        w.srv.url(&format!("/api/studies/{}/chat", w.study)),
    );
    let poster = async move {
        for i in 0..600 {
            let sent = http
                .post(&url)
                .bearer_auth(&owner_token)
                .json(&json!({"content": format!("{i}{big}")}))
                .send()
                .await
                .expect("post");
            assert_eq!(sent.status().as_u16(), 201);
        }
    };
    tokio::join!(poster, w.member_gone(Duration::from_secs(60)));
    let code = closed_for_good(&mut slow, Duration::from_secs(10)).await;
    // With its buffers full the 4008 close frame may not fit.
    assert!(matches!(code, Some(4008) | None), "{code:?}");
}

#[tokio::test]
async fn a_flooding_client_is_closed_and_goes_offline() {
    let mut w = world("").await;
    let mut flood = w.member_online().await;
    let typing = json!({"type": "typing", "studyId": w.study, "typing": true}).to_string();
    for _ in 0..400 {
        if flood
            .socket
            .send(Message::Text(typing.clone().into()))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(
        closed_for_good(&mut flood, Duration::from_secs(5)).await,
        Some(4029)
    );
    w.member_gone(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn an_ended_session_closes_its_socket_and_goes_offline() {
    let mut w = world("").await;
    let mut ws = w.member_online().await;
    let logout = w
        .srv
        .post("/api/auth/logout", Some(&w.member.0), json!({}))
        .await;
    assert_eq!(logout.status.as_u16(), 204);
    assert_eq!(
        closed_for_good(&mut ws, Duration::from_secs(5)).await,
        Some(4003)
    );
    w.member_gone(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_client_that_closes_or_vanishes_goes_offline() {
    let mut w = world("").await;
    let mut ws = w.member_online().await;
    ws.socket.close(None).await.expect("close");
    assert_eq!(
        closed_for_good(&mut ws, Duration::from_secs(5)).await,
        None,
        "the server answers a close without a code of its own"
    );
    w.member_gone(Duration::from_secs(5)).await;
    // Vanishing: the TCP connection drops without a close frame.
    let ws = w.member_online().await;
    drop(ws);
    w.member_gone(Duration::from_secs(5)).await;
}

impl World {
    /// A token of the watcher's account (the owner), for REST calls.
    async fn watcher_token(&self) -> String {
        let body = self
            .srv
            .post(
                "/api/auth/login",
                None,
                json!({"email": "owner@example.com", "password": "study-together-42"}),
            )
            .await
            .ok(200);
        body["token"].as_str().expect("token").to_owned()
    }
}
