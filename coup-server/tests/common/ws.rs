//! A WebSocket test client for the gateway's protocol.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::Server;

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

    /// Asserts that no text frame of `kind` arrives within `wait`.
    pub async fn expect_none(&mut self, kind: &str, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(next) = tokio::time::timeout_at(deadline, self.socket.next()).await {
            if let Some(Ok(Message::Text(text))) = next {
                let frame: Value = serde_json::from_str(&text).expect("json");
                assert_ne!(frame["type"], kind, "unexpected {frame}");
            } else if next.is_none() {
                return;
            }
        }
    }

    /// Waits for the server to close; returns the close code.
    pub async fn closed(&mut self) -> u16 {
        loop {
            match tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("closed within 10 s")
            {
                Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
                Some(Ok(Message::Close(None))) | None => return 1005,
                Some(Err(_)) => return 1006,
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
