//! A WebSocket test client for the gateway's protocol.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::Server;

/// A study id no test creates: unsubscribing from it is refused without
/// changing anything, which makes it a request that can fence a socket.
const NO_STUDY: &str = "00000000-0000-0000-0000-000000000000";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Ws {
    pub socket: Socket,
}

impl Ws {
    pub async fn open(srv: &Server) -> Self {
        let url = srv.base.replace("http://", "ws://") + "/ws";
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("connect");
        Self { socket }
    }

    /// Connects and says hello; returns the socket after `welcome`.
    pub async fn connect(srv: &Server, token: &str) -> Self {
        let mut ws = Self::open(srv).await;
        ws.send(json!({"type": "hello", "version": 1, "token": token}))
            .await;
        let welcome = ws.recv().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        ws
    }

    pub async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("send");
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.to_owned().into()))
            .await
            .expect("send");
    }

    /// The next text frame (pings are answered by the library).
    pub async fn recv(&mut self) -> Value {
        self.recv_within(Duration::from_secs(5)).await
    }

    pub async fn recv_within(&mut self, wait: Duration) -> Value {
        loop {
            let next = tokio::time::timeout(wait, self.socket.next())
                .await
                .expect("a frame in time");
            match next.expect("stream open").expect("frame") {
                Message::Text(text) => return serde_json::from_str(&text).expect("json"),
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => {}
            }
        }
    }

    /// The next frame of a type, skipping others.
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == kind {
                return frame;
            }
        }
    }

    /// Asserts that the server queued no frame of `kind` for this socket before
    /// now, and that the socket is still open. The fence is an acknowledged
    /// request (unsubscribing from a study nobody follows, answered with
    /// `NOT_SUBSCRIBED`): the server answers on the connection's one outbound
    /// queue, behind every frame it queued before reading the request, so when
    /// the answer arrives nothing older is still on its way — no sleep has to
    /// guess how long is long enough. Frames of other kinds before the answer are
    /// consumed. This fences what this node has done; what another node does
    /// reaches it over the bus, so there fence with a later event on the same
    /// path ([`Ws::expect_none_before`]).
    pub async fn expect_none(&mut self, kind: &str) {
        let fence = format!("fence-{}", uuid::Uuid::new_v4());
        self.send(json!({"type": "unsubscribe", "requestId": fence, "studyId": NO_STUDY}))
            .await;
        loop {
            let frame = self.recv().await;
            if frame["requestId"] == fence.as_str() {
                assert_eq!(frame["code"], "NOT_SUBSCRIBED", "the fence: {frame}");
                return;
            }
            assert_ne!(frame["type"], kind, "unexpected {frame}");
        }
    }

    /// Reads up to the next frame of type `fence` and returns it, asserting that
    /// no frame of `kind` came before it (and that the socket stayed open).
    pub async fn expect_none_before(&mut self, kind: &str, fence: &str) -> Value {
        loop {
            let frame = self.recv().await;
            if frame["type"] == fence {
                return frame;
            }
            assert_ne!(frame["type"], kind, "unexpected {frame} before a {fence}");
        }
    }

    /// Keeps reading for `wait` — so that the library answers the server's pings —
    /// and panics if the socket closes meanwhile. For what only time can show
    /// (a heartbeat that keeps an attentive client connected).
    pub async fn stays_open(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(next) = tokio::time::timeout_at(deadline, self.socket.next()).await {
            match next {
                Some(Ok(Message::Close(frame))) => panic!("closed: {frame:?}"),
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("the socket failed: {e}"),
                None => panic!("the socket ended"),
            }
        }
    }

    /// Waits for the server to close; returns the close code.
    pub async fn closed(&mut self) -> u16 {
        self.closed_because().await.0
    }

    /// The close code and the close frame's reason (empty without one).
    pub async fn closed_because(&mut self) -> (u16, String) {
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("closed within 10 s")
            {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (u16::from(frame.code), frame.reason.as_str().to_owned());
                }
                Some(Ok(Message::Close(None))) | None => return (1005, String::new()),
                Some(Err(_)) => return (1006, String::new()),
                _ => {}
            }
        }
    }

    pub async fn subscribe(&mut self, study: &str, last_seq: Option<i64>) -> Value {
        self.send(
            json!({"type": "subscribe", "requestId": "sub", "studyId": study, "lastSeq": last_seq}),
        )
        .await;
        self.recv_type("subscribed").await
    }

    /// Resumes a study after `last_seq` / `last_change`; returns the replayed
    /// frames (everything before `subscribed`) and `subscribed`.
    pub async fn resume(
        &mut self,
        study: &str,
        last_seq: Option<i64>,
        last_change: Option<i64>,
    ) -> (Vec<Value>, Value) {
        self.send(
            json!({"type": "subscribe", "requestId": "sub", "studyId": study,
            "lastSeq": last_seq, "lastChange": last_change}),
        )
        .await;
        let mut replayed = Vec::new();
        loop {
            let frame = self.recv().await;
            if frame["type"] == "subscribed" {
                return (replayed, frame);
            }
            if frame["type"] == "error" {
                panic!("resume refused: {frame}");
            }
            replayed.push(frame);
        }
    }

    pub async fn chat(&mut self, study: &str, content: &str, client_id: &str) -> Value {
        self.send(json!({"type": "send", "requestId": client_id, "studyId": study, "content": content, "clientId": client_id})).await;
        let ack = self.recv_type("ack").await;
        assert_eq!(ack["requestId"], client_id);
        ack["message"].clone()
    }
}
