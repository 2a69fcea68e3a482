//! One WebSocket connection: `hello` first, then a reader that handles frames in
//! order and a writer that drains the bounded outbound queue and keeps the
//! heartbeat. Every entry into the loop is an [`Input`], so all triggers are
//! visible in one place.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use coup_core::ids::UserId;
use coup_core::realtime::protocol::{ClientFrame, PROTOCOL_VERSION, ServerFrame, close, codes};
use coup_core::service::accounts::Session;
use coup_core::service::chat::{self, SendMessage};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Gateway;
use super::hub::{ConnId, Frame, HubError, Outbound};
use crate::state::AppState;

/// How long a client has to say `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection waits for the client's close.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Largest `signal` payload, serialized.
const MAX_SIGNAL_BYTES: usize = 32 * 1024;

/// Runs a connection to its end.
pub async fn run(socket: WebSocket, app: AppState, gateway: Arc<Gateway>) {
    let (mut sink, mut stream) = socket.split();
    // Boxed futures here and for each frame below: the connection's task keeps
    // its largest state for as long as it lives, so short-lived big states go
    // on the heap only while they run.
    let Some((session, hello_ok)) = Box::pin(hello(&mut sink, &mut stream, &app, &gateway)).await
    else {
        return;
    };
    let (tx, rx) = mpsc::channel(gateway.settings.queue_len);
    let cancel = CancellationToken::new();
    let user = session.user_id;
    let id = gateway
        .hub
        .register(user, session.token_hash, tx.clone(), cancel.clone());
    let _ = tx.try_send(Outbound::Text(hello_ok));
    let last_seen = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let writer = tokio::spawn(write_loop(
        sink,
        rx,
        gateway.settings.heartbeat,
        last_seen.clone(),
        started,
        cancel.clone(),
    ));
    let mut reader = Reader {
        app,
        gateway: gateway.clone(),
        id,
        user,
        tx,
        bucket: Bucket::new(gateway.settings.frames_per_second),
    };
    loop {
        let input = tokio::select! {
            input = stream.next() => match input {
                Some(input) => input,
                None => break,
            },
            () = cancel.cancelled() => break,
        };
        last_seen.store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        let keep_going = match input {
            Ok(Message::Text(text)) => Box::pin(reader.frame(text.as_str())).await,
            Ok(Message::Binary(_)) => {
                reader.reply(ServerFrame::protocol_error(
                    None,
                    codes::BAD_FRAME,
                    "frames are JSON text",
                ));
                true
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => true,
            Ok(Message::Close(_)) => false,
            Err(e) => {
                let too_big =
                    e.to_string().contains("too long") || e.to_string().contains("Space limit");
                if too_big {
                    let _ = reader
                        .tx
                        .try_send(Outbound::Close(close::TOO_BIG, "frame too large"));
                }
                false
            }
        };
        if !keep_going {
            break;
        }
    }
    gateway.hub.unregister(id);
    drop(reader);
    let _ = writer.await;
    // Read on until the client answers the close (or a second passes): closing a
    // socket with unread input makes the kernel reset it, and the client would
    // lose the close frame that says why.
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(input)) = stream.next().await {
            if matches!(input, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Waits for `hello`; answers a refusal with an error frame and a close code.
async fn hello(
    sink: &mut SplitSink<WebSocket, Message>,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    app: &AppState,
    gateway: &Gateway,
) -> Option<(Session, Frame)> {
    let refuse = |code: u16, error: ServerFrame, reason: &'static str| (code, error, reason);
    let outcome = match tokio::time::timeout(HELLO_TIMEOUT, stream.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => {
            match serde_json::from_str::<ClientFrame>(text.as_str()) {
                Ok(ClientFrame::Hello { version, .. }) if version != PROTOCOL_VERSION => {
                    Err(refuse(
                        close::UNSUPPORTED_VERSION,
                        ServerFrame::protocol_error(
                            None,
                            codes::BAD_FRAME,
                            format!(
                                "protocol version {version} is not supported; use {PROTOCOL_VERSION}"
                            ),
                        ),
                        "unsupported protocol version",
                    ))
                }
                Ok(ClientFrame::Hello { token, .. }) => match app.core.authenticate(&token).await {
                    Ok(session) => Ok(session),
                    Err(e) => Err(refuse(
                        close::UNAUTHORIZED,
                        ServerFrame::error(None, &e),
                        "unauthorized",
                    )),
                },
                Ok(_) => Err(refuse(
                    close::UNAUTHORIZED,
                    ServerFrame::protocol_error(
                        None,
                        codes::NOT_AUTHENTICATED,
                        "the first frame must be hello",
                    ),
                    "hello expected",
                )),
                Err(e) => Err(refuse(
                    close::UNAUTHORIZED,
                    ServerFrame::protocol_error(None, codes::BAD_FRAME, e.to_string()),
                    "hello expected",
                )),
            }
        }
        _ => return None,
    };
    match outcome {
        Ok(session) => {
            let welcome = ServerFrame::Welcome {
                version: PROTOCOL_VERSION,
                user_id: session.user_id,
                heartbeat_secs: gateway.settings.heartbeat.as_secs(),
                replay_limit: gateway.settings.replay_limit,
                ice_servers: gateway.settings.ice_servers.clone(),
            };
            let text = serde_json::to_string(&welcome).unwrap_or_default().into();
            Some((session, text))
        }
        Err((code, error, reason)) => {
            let _ = sink
                .send(Message::Text(
                    serde_json::to_string(&error).unwrap_or_default().into(),
                ))
                .await;
            let _ = sink
                .send(Message::Close(Some(CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                })))
                .await;
            None
        }
    }
}

/// Drains the queue into the socket, pings every heartbeat and closes a connection
/// that stayed silent for two heartbeats.
async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Outbound>,
    heartbeat: Duration,
    last_seen: Arc<AtomicU64>,
    started: Instant,
    cancel: CancellationToken,
) {
    let mut ticker = tokio::time::interval(heartbeat);
    ticker.tick().await;
    loop {
        tokio::select! {
            () = cancel.cancelled() => {
                // The client stopped reading: say why if its buffers still take it, then drop it.
                let frame = CloseFrame { code: close::SLOW_CONSUMER, reason: Utf8Bytes::from_static("slow consumer") };
                let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(Some(frame)))).await;
                return;
            }
            next = rx.recv() => match next {
                Some(Outbound::Text(text)) => {
                    let sent = tokio::select! {
                        r = sink.send(Message::Text(text)) => r.is_ok(),
                        () = cancel.cancelled() => true,
                    };
                    if !sent {
                        return;
                    }
                }
                Some(Outbound::Close(code, reason)) => {
                    let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }))).await;
                    return;
                }
                None => {
                    let _ = sink.send(Message::Close(Some(CloseFrame { code: close::GOING_AWAY, reason: Utf8Bytes::from_static("bye") }))).await;
                    return;
                }
            },
            _ = ticker.tick() => {
                let silent = started.elapsed().saturating_sub(Duration::from_millis(last_seen.load(Ordering::Relaxed)));
                if silent > heartbeat * 2 {
                    let frame = CloseFrame { code: close::HEARTBEAT_TIMEOUT, reason: Utf8Bytes::from_static("heartbeat timeout") };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    return;
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Frames per second with a burst of twice that; sustained abuse closes.
struct Bucket {
    tokens: f64,
    rate: f64,
    last: Instant,
    strikes: u32,
}

impl Bucket {
    fn new(rate: u32) -> Self {
        let rate = f64::from(rate.max(1));
        Self {
            tokens: rate * 2.0,
            rate,
            last: Instant::now(),
            strikes: 0,
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate)
            .min(self.rate * 2.0);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.strikes = 0;
            true
        } else {
            self.strikes += 1;
            false
        }
    }
}

/// Strikes (refused frames) after which a flooding connection is closed.
const MAX_STRIKES: u32 = 20;

struct Reader {
    app: AppState,
    gateway: Arc<Gateway>,
    id: ConnId,
    user: UserId,
    tx: mpsc::Sender<Outbound>,
    bucket: Bucket,
}

impl Reader {
    fn reply(&self, frame: ServerFrame) {
        self.gateway.hub.reply(self.id, &frame);
    }

    fn refuse(&self, request_id: Option<String>, e: HubError) {
        self.reply(match e {
            HubError::Core(e) => ServerFrame::error(request_id, &e),
            HubError::Protocol(code, message) => {
                ServerFrame::protocol_error(request_id, code, message)
            }
        });
    }

    /// Handles one text frame; false ends the connection.
    async fn frame(&mut self, text: &str) -> bool {
        if !self.bucket.take() {
            if self.bucket.strikes > MAX_STRIKES {
                let _ = self
                    .tx
                    .try_send(Outbound::Close(close::RATE_LIMITED, "too many frames"));
                return false;
            }
            // One warning per burst: answering every refused frame would flood back.
            if self.bucket.strikes == 1 {
                self.reply(ServerFrame::protocol_error(
                    None,
                    codes::RATE_LIMITED,
                    "too many frames; slow down",
                ));
            }
            return true;
        }
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(e) => {
                self.reply(ServerFrame::protocol_error(
                    None,
                    codes::BAD_FRAME,
                    e.to_string(),
                ));
                return true;
            }
        };
        let caller = Some(self.user);
        let hub = &self.gateway.hub;
        match frame {
            ClientFrame::Hello { .. } => {
                self.reply(ServerFrame::protocol_error(
                    None,
                    codes::NOT_AUTHENTICATED,
                    "already authenticated",
                ));
            }
            ClientFrame::Subscribe {
                request_id,
                study_id,
                last_seq,
            } => {
                if let Err(e) = hub.begin_subscribe(self.id, study_id) {
                    self.refuse(request_id, e);
                    return true;
                }
                let limit = self.gateway.settings.replay_limit;
                match self
                    .app
                    .core
                    .read(move |tx| chat::catch_up(tx, caller, study_id, last_seq, limit))
                    .await
                {
                    Ok(catch_up) => hub.finish_subscribe(self.id, study_id, request_id, catch_up),
                    Err(e) => {
                        hub.abort_subscribe(self.id, study_id);
                        self.refuse(request_id, e.into());
                    }
                }
            }
            ClientFrame::Unsubscribe {
                request_id,
                study_id,
            } => {
                if hub.unsubscribe(self.id, study_id) {
                    self.reply(ServerFrame::Unsubscribed {
                        request_id,
                        study_id,
                        reason: coup_core::realtime::protocol::UnsubscribeReason::Requested,
                    });
                } else {
                    self.refuse(
                        request_id,
                        HubError::Protocol(codes::NOT_SUBSCRIBED, "not subscribed".into()),
                    );
                }
            }
            ClientFrame::Send {
                request_id,
                study_id,
                content,
                client_id,
                file_id,
            } => {
                let input = SendMessage {
                    content,
                    file_id,
                    client_id: Some(client_id),
                };
                match self
                    .app
                    .core
                    .write(move |tx| chat::send(tx, caller, study_id, input))
                    .await
                {
                    Ok(out) => {
                        let _ = hub.typing(self.id, study_id, false, Instant::now());
                        self.reply(ServerFrame::Ack {
                            request_id,
                            message: Some(out.value),
                        });
                    }
                    Err(e) => self.refuse(request_id, e.into()),
                }
            }
            ClientFrame::Read {
                request_id,
                study_id,
                seq,
            } => {
                match self
                    .app
                    .core
                    .write(move |tx| chat::mark_read(tx, caller, study_id, seq))
                    .await
                {
                    Ok(_) => self.reply(ServerFrame::Ack {
                        request_id,
                        message: None,
                    }),
                    Err(e) => self.refuse(request_id, e.into()),
                }
            }
            ClientFrame::Typing { study_id, typing } => {
                if let Err(e) = hub.typing(self.id, study_id, typing, Instant::now()) {
                    self.refuse(None, e);
                }
            }
            ClientFrame::CallJoin {
                request_id,
                study_id,
                media,
            } => match hub.call_join(self.id, study_id, media) {
                Ok(participants) => self.reply(ServerFrame::CallJoined {
                    request_id,
                    study_id,
                    participants,
                    ice_servers: self.gateway.settings.ice_servers.clone(),
                }),
                Err(e) => self.refuse(request_id, e),
            },
            ClientFrame::CallLeave {
                request_id,
                study_id,
            } => match hub.call_leave(self.id, study_id) {
                Ok(()) => self.reply(ServerFrame::Ack {
                    request_id,
                    message: None,
                }),
                Err(e) => self.refuse(request_id, e),
            },
            ClientFrame::Signal {
                request_id,
                study_id,
                to,
                kind,
                payload,
            } => {
                if serde_json::to_string(&payload).map_or(usize::MAX, |s| s.len())
                    > MAX_SIGNAL_BYTES
                {
                    let message =
                        format!("signal payloads are limited to {MAX_SIGNAL_BYTES} bytes");
                    self.refuse(
                        request_id,
                        HubError::Protocol(codes::PAYLOAD_TOO_LARGE, message),
                    );
                    return true;
                }
                match hub.signal(self.id, study_id, to, kind, payload) {
                    Ok(()) => self.reply(ServerFrame::Ack {
                        request_id,
                        message: None,
                    }),
                    Err(e) => self.refuse(request_id, e),
                }
            }
            ClientFrame::Media {
                request_id,
                study_id,
                media,
            } => match hub.media(self.id, study_id, media) {
                Ok(()) => self.reply(ServerFrame::Ack {
                    request_id,
                    message: None,
                }),
                Err(e) => self.refuse(request_id, e),
            },
        }
        true
    }
}
