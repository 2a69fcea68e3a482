//! The connection loop without a socket: `gateway::connection::serve` driven
//! over channels (as axum's testing-websockets example does), against the real
//! application state on a temporary data directory. Each test speaks the
//! protocol as a client would and reads what the loop writes, close frames
//! included, with no network, no server process and no WebSocket library.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use coup_core::api::accounts::Signup;
use coup_core::realtime::protocol::{close, codes};
use coup_server::config::Config;
use coup_server::gateway::connection::serve;
use coup_server::state::AppState;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A client's end of one connection: what it sends in, what the loop wrote.
struct Client {
    to_server: mpsc::Sender<Result<Message, axum::Error>>,
    from_server: mpsc::Receiver<Message>,
    served: JoinHandle<()>,
    _dir: tempfile::TempDir,
}

fn state(heartbeat_secs: u64) -> (AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config {
        data_dir: dir.path().to_owned(),
        heartbeat_secs,
        ..Config::default()
    };
    (coup_server::state(config).expect("state"), dir)
}

/// Starts the loop over two channels.
fn connect(app: AppState, dir: tempfile::TempDir) -> Client {
    let (to_server, incoming) = mpsc::channel::<Result<Message, axum::Error>>(16);
    let (outgoing, from_server) = mpsc::channel::<Message>(64);
    let stream = Box::pin(futures_util::stream::unfold(
        incoming,
        |mut rx| async move { rx.recv().await.map(|m| (m, rx)) },
    ));
    let sink = Box::pin(futures_util::sink::unfold(
        outgoing,
        |tx, message: Message| async move {
            tx.send(message).await.map_err(axum::Error::new)?;
            Ok::<_, axum::Error>(tx)
        },
    ));
    let gateway = app.gateway.clone();
    let served = tokio::spawn(serve(sink, stream, app, gateway));
    Client {
        to_server,
        from_server,
        served,
        _dir: dir,
    }
}

async fn token(app: &AppState, name: &str) -> String {
    let signed_up = app
        .core
        .signup(Signup {
            email: format!("{name}@example.com"),
            password: "study-together-42".into(),
            name: name.into(),
        })
        .await
        .expect("signup");
    signed_up.value.token
}

impl Client {
    async fn send(&self, frame: Value) {
        self.to_server
            .send(Ok(Message::Text(frame.to_string().into())))
            .await
            .expect("the loop reads");
    }

    /// The next message the loop wrote (pings skipped).
    async fn next(&mut self) -> Option<Message> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.from_server.recv())
                .await
                .expect("the loop wrote in time")?;
            if !matches!(message, Message::Ping(_)) {
                return Some(message);
            }
        }
    }

    async fn frame(&mut self) -> Value {
        match self.next().await {
            Some(Message::Text(text)) => serde_json::from_str(text.as_str()).expect("JSON"),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    async fn closed_with(&mut self) -> u16 {
        loop {
            match self.next().await {
                Some(Message::Close(Some(CloseFrame { code, .. }))) => return code,
                Some(Message::Text(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }

    /// The loop returns once the client is gone.
    async fn ends(self) {
        drop(self.to_server);
        tokio::time::timeout(Duration::from_secs(5), self.served)
            .await
            .expect("the loop ended")
            .expect("the loop did not panic");
    }
}

#[tokio::test]
async fn a_session_says_hello_and_bad_frames_are_answered_without_ending_it() {
    let (app, dir) = state(25);
    let token = token(&app, "kim").await;
    let mut client = connect(app, dir);
    client
        .send(json!({"type": "hello", "version": 1, "token": token}))
        .await;
    assert_eq!(client.frame().await["type"], "welcome");
    // Binary, then text that is no frame, then a frame for no study: each an
    // error frame, and the connection goes on.
    client
        .to_server
        .send(Ok(Message::Binary(vec![1, 2, 3].into())))
        .await
        .expect("send");
    let refused = client.frame().await;
    assert_eq!(
        (refused["type"].as_str(), refused["code"].as_str()),
        (Some("error"), Some(codes::BAD_FRAME))
    );
    client.send(json!({"type": "nonsense"})).await;
    assert_eq!(client.frame().await["code"], codes::BAD_FRAME);
    client
        .send(json!({"type": "subscribe", "requestId": "s1", "studyId": "00000000-0000-0000-0000-000000000000"}))
        .await;
    let answer = client.frame().await;
    assert_eq!(
        (answer["type"].as_str(), answer["requestId"].as_str()),
        (Some("error"), Some("s1")),
        "{answer}"
    );
    // Still served: a close from the client ends it.
    client
        .to_server
        .send(Ok(Message::Close(None)))
        .await
        .expect("send");
    client.ends().await;
}

#[tokio::test]
async fn a_forged_token_is_refused_with_its_close_code() {
    let (app, dir) = state(25);
    let mut client = connect(app, dir);
    client
        .send(json!({"type": "hello", "version": 1, "token": "forged"}))
        .await;
    assert_eq!(client.frame().await["type"], "error");
    assert_eq!(client.closed_with().await, close::UNAUTHORIZED);
    client.ends().await;
}

#[tokio::test]
async fn a_first_frame_that_is_not_hello_is_refused() {
    let (app, dir) = state(25);
    let mut client = connect(app, dir);
    client
        .send(json!({"type": "subscribe", "studyId": "00000000-0000-0000-0000-000000000000"}))
        .await;
    assert_eq!(client.frame().await["code"], codes::NOT_AUTHENTICATED);
    assert_eq!(client.closed_with().await, close::UNAUTHORIZED);
    client.ends().await;
}

#[tokio::test]
async fn a_silent_client_is_closed_after_two_heartbeats() {
    let (app, dir) = state(1);
    let token = token(&app, "lee").await;
    let mut client = connect(app, dir);
    client
        .send(json!({"type": "hello", "version": 1, "token": token}))
        .await;
    assert_eq!(client.frame().await["type"], "welcome");
    // Nothing more from the client: pings go out, then the close.
    assert_eq!(client.closed_with().await, close::HEARTBEAT_TIMEOUT);
    client.ends().await;
}
