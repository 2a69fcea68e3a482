//! One WebSocket connection, one task: `hello` first, then one loop that
//! handles frames in order, writes what the hub queued in the connection's
//! [`Outbox`] (everything queued at once, one flush) and keeps the heartbeat,
//! plus one replay task per resuming subscription while it replays. One
//! [`Ending`] ties them: whatever ends the connection (the client, the
//! heartbeat, a slow reader, a flood, the session) ends the loop and the
//! replays, unregisters it from the hub — presence, typing and calls end with
//! it — and closes the socket within a bounded time. An idle connection holds
//! its task, its socket and an empty outbox, nothing else. The loop ([`serve`])
//! is written over any message sink and stream, so tests drive it with
//! channels; [`run`] gives it an axum WebSocket's halves.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use coup_core::ids::{StudyId, UserId};
use coup_core::realtime::live::{ConnId, GoLive, LiveError};
use coup_core::realtime::protocol::{ClientFrame, PROTOCOL_VERSION, ServerFrame, close, codes};
use coup_core::service::accounts::Session;
use coup_core::service::chat::{self, ResumePoint, SendMessage};
use futures_util::future::BoxFuture;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::Semaphore;

use super::Gateway;
use super::hub::{Ending, Frame, Outbound, Outbox};
use crate::state::AppState;

/// How long a client has to say `hello`.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing connection waits for the client's close.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Largest `signal` payload, serialized.
const MAX_SIGNAL_BYTES: usize = 32 * 1024;

/// Frames read from the change feed per batch of a replay.
const REPLAY_BATCH: u32 = 64;
/// Replayed frames one connection may have queued and unwritten: a replay queues
/// its next batch only as the client reads, so it never fills the queue.
const REPLAY_WINDOW: usize = 2 * REPLAY_BATCH as usize;
/// The longest a write may take; a client that reads nothing for this long is gone.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a replay waits for the bus to listen to its study's channel
/// (a round trip to Redis, unless Redis is down); past it the subscription goes
/// on as during any bus outage, peers' changes meanwhile coming back by resume.
const WATCH_WAIT: Duration = Duration::from_secs(5);

/// What the connection writes to: axum's WebSocket half, or a test's channel.
pub trait Outgoing: Sink<Message, Error = axum::Error> + Unpin + Send + 'static {}
impl<T: Sink<Message, Error = axum::Error> + Unpin + Send + 'static> Outgoing for T {}

/// What the connection reads from: axum's WebSocket half, or a test's channel.
pub trait Incoming: Stream<Item = Result<Message, axum::Error>> + Unpin + Send {}
impl<T: Stream<Item = Result<Message, axum::Error>> + Unpin + Send> Incoming for T {}

/// Runs a WebSocket connection to its end. Not `async` itself: the socket is
/// split before the connection's future exists, so that future (which lives as
/// long as the connection) never holds the socket by value as well.
pub fn run(socket: WebSocket, app: Arc<AppState>) -> impl Future<Output = ()> {
    let (sink, stream) = socket.split();
    let gateway = app.gateway.clone();
    connection(sink, stream, app, gateway)
}

/// Runs a connection over any message sink and stream to its end: the whole
/// protocol — hello, frames, replays, heartbeats, the close — with no socket
/// of its own, so tests drive it with channels.
///
/// One task does it all. Frames are handled in order, one at a time; while one
/// is being handled (a store write, say) no further frame is read, but queued
/// frames are still written and heartbeats kept. What is queued is written as
/// one batch with one flush.
pub fn serve(
    sink: impl Outgoing,
    stream: impl Incoming,
    app: AppState,
    gateway: Arc<Gateway>,
) -> impl Future<Output = ()> {
    connection(sink, stream, Arc::new(app), gateway)
}

/// [`serve`] with the application state shared: the connection's future keeps
/// its arguments for its whole life, so they are pointers, not the state.
async fn connection(
    mut sink: impl Outgoing,
    mut stream: impl Incoming,
    app: Arc<AppState>,
    gateway: Arc<Gateway>,
) {
    // Boxed futures here and for each frame below: the connection's task keeps
    // its largest state for as long as it lives, so short-lived big states go
    // on the heap only while they run.
    let Some((session, hello_ok)) = Box::pin(hello(&mut sink, &mut stream, &app, &gateway)).await
    else {
        Box::pin(await_client_close(&mut stream)).await;
        return;
    };
    let outbox = Arc::new(Outbox::new(gateway.settings.queue_len + REPLAY_WINDOW));
    let ending = Ending::default();
    let user = session.user_id;
    let id = gateway
        .hub
        .register(user, session.token_hash, outbox.clone(), ending.clone());
    let _ = outbox.push(Outbound::frame(hello_ok));
    let heartbeat = gateway.settings.heartbeat;
    // Exactly one of the two is set: the reader waits for a frame, or is
    // inside the handling of one (and comes back when it is done).
    let mut reader = Some(Reader {
        app,
        gateway: gateway.clone(),
        id,
        user,
        ending: ending.clone(),
        bucket: Bucket::new(gateway.settings.frames_per_second),
        replay_window: None,
    });
    let mut handling: Option<BoxFuture<'static, Reader>> = None;
    let mut last_seen = Instant::now();
    let ping = tokio::time::sleep(heartbeat);
    tokio::pin!(ping);
    loop {
        tokio::select! {
            biased;
            () = ending.ended() => break,
            () = outbox.queued() => {
                let batch = outbox.take();
                if batch.is_empty() {
                    continue;
                }
                // Boxed: a write's state (its deadline among it) is held
                // only while it runs, not by every idle connection.
                if !Box::pin(write_within(&ending, write_batch(&mut sink, batch))).await {
                    ending.quietly();
                    break;
                }
                outbox.written();
            }
            () = &mut ping => {
                if last_seen.elapsed() > heartbeat * 2 {
                    ending.close(close::HEARTBEAT_TIMEOUT, "heartbeat timeout");
                    break;
                }
                // Due every heartbeat from the start, however late this one
                // ran: a connection is closed at the first heartbeat that
                // finds two whole intervals of silence.
                let next = ping.deadline() + heartbeat;
                ping.as_mut().reset(next);
                let sent = sink.send(Message::Ping(Default::default()));
                if !Box::pin(write_within(&ending, sent)).await {
                    ending.quietly();
                    break;
                }
            }
            handled = finished(&mut handling), if handling.is_some() => {
                handling = None;
                reader = Some(handled);
            }
            input = stream.next(), if reader.is_some() => {
                let Some(input) = input else {
                    break;
                };
                last_seen = Instant::now();
                match input {
                    Ok(Message::Text(text)) => {
                        if let Some(mut handler) = reader.take() {
                            handling = Some(Box::pin(async move {
                                handler.frame(text.as_str()).await;
                                handler
                            }));
                        }
                    }
                    Ok(Message::Binary(_)) => {
                        if let Some(reader) = &reader {
                            reader.reply(ServerFrame::protocol_error(
                                None,
                                codes::BAD_FRAME,
                                "frames are JSON text",
                            ));
                        }
                    }
                    Ok(Message::Ping(_) | Message::Pong(_)) => {}
                    Ok(Message::Close(_)) => break,
                    Err(e) => {
                        if let Some((code, reason)) = violation(e) {
                            ending.close(code, reason);
                        }
                        break;
                    }
                }
            }
        }
    }
    // However it ended — the client, a refusal, the heartbeat, a slow reader, the
    // session — the replays and the hub's record end now, so presence, typing
    // and calls end with the socket.
    ending.quietly();
    gateway.hub.unregister(id);
    drop(handling);
    drop(reader);
    Box::pin(send_close(&mut sink, &outbox, &ending)).await;
    Box::pin(await_client_close(&mut stream)).await;
}

/// What the frame being handled gives back when it is done: the reader.
async fn finished(handling: &mut Option<BoxFuture<'static, Reader>>) -> Reader {
    match handling {
        Some(handling) => handling.await,
        None => std::future::pending().await,
    }
}

/// Runs a write with a deadline, so a client that stops reading cannot hold
/// the connection; false when it failed, timed out or the connection ended.
async fn write_within(
    ending: &Ending,
    write: impl Future<Output = Result<(), axum::Error>>,
) -> bool {
    tokio::select! {
        written = tokio::time::timeout(WRITE_TIMEOUT, write) => matches!(written, Ok(Ok(()))),
        () = ending.ended() => false,
    }
}

/// Writes a batch of queued frames and flushes once. A replayed frame's window
/// permit is held until its frame is written.
async fn write_batch(
    sink: &mut impl Outgoing,
    batch: VecDeque<Outbound>,
) -> Result<(), axum::Error> {
    for Outbound { frame, window } in batch {
        sink.feed(Message::Text(frame)).await?;
        drop(window);
    }
    sink.flush().await
}

/// Sends the connection's close frame, if it ended with one: what was queued
/// before the close goes first (the error that explains it, say) — but not to
/// a client that stopped reading.
async fn send_close(sink: &mut impl Outgoing, outbox: &Outbox, ending: &Ending) {
    let Some((code, reason)) = ending.close_frame() else {
        return;
    };
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        if code != close::SLOW_CONSUMER {
            write_batch(sink, outbox.take()).await?;
        }
        sink.send(Message::Close(Some(frame))).await
    })
    .await;
}

/// The close code RFC 6455 gives a read failure, classified by its type: a
/// frame over the limit (1009), text that is not UTF-8 (1007), any other
/// violation of the protocol (1002). `None` when the socket just broke.
fn violation(e: axum::Error) -> Option<(u16, &'static str)> {
    use tokio_tungstenite::tungstenite::Error as WsError;
    let inner = e.into_inner();
    match inner.downcast_ref::<WsError>()? {
        WsError::Capacity(_) => Some((close::TOO_BIG, "frame too large")),
        WsError::Utf8(_) => Some((close::INVALID_PAYLOAD, "text is not UTF-8")),
        WsError::Protocol(_) => Some((close::PROTOCOL_ERROR, "protocol violation")),
        _ => None,
    }
}

/// Reads on until the client answers a close (or a second passes): closing a
/// socket with unread input makes the kernel reset it, and the client would lose
/// the close frame that says why. Dropping the socket afterwards closes it.
async fn await_client_close(stream: &mut impl Incoming) {
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
    sink: &mut impl Outgoing,
    stream: &mut impl Incoming,
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
        // Silent, or not a text frame: refused as not saying hello.
        Err(_) | Ok(Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_)))) => {
            Err(refuse(
                close::UNAUTHORIZED,
                ServerFrame::protocol_error(
                    None,
                    codes::NOT_AUTHENTICATED,
                    "the first frame must be hello",
                ),
                "hello expected",
            ))
        }
        Ok(Some(Err(e))) => {
            if let Some((code, reason)) = violation(e) {
                let frame = CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                };
                let _ = tokio::time::timeout(WRITE_TIMEOUT, sink.send(Message::Close(Some(frame))))
                    .await;
            }
            return None;
        }
        Ok(Some(Ok(Message::Close(_))) | None) => return None,
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
            let _ = tokio::time::timeout(WRITE_TIMEOUT, async {
                sink.send(Message::Text(
                    serde_json::to_string(&error).unwrap_or_default().into(),
                ))
                .await?;
                sink.send(Message::Close(Some(CloseFrame {
                    code,
                    reason: Utf8Bytes::from_static(reason),
                })))
                .await
            })
            .await;
            None
        }
    }
}

/// One subscription's replay: what a subscriber missed after a change number,
/// one batch of the change feed at a time as the client reads, then live.
struct Replay {
    app: Arc<AppState>,
    gateway: Arc<Gateway>,
    id: ConnId,
    study: StudyId,
    request_id: Option<String>,
    /// The connection's replay window (shared by its replays).
    window: Arc<Semaphore>,
    ending: Ending,
}

impl Replay {
    async fn run(self, mut after: i64) {
        let Self {
            app,
            gateway,
            id,
            study,
            request_id,
            window,
            ending,
        } = self;
        let hub = &gateway.hub;
        // Read the store only once Redis confirmed this node listens to the
        // study's channel: a peer's change published before that was committed
        // before the read and is in it; one published after arrives live (held
        // until the replay is done, and skipped if the read had it).
        tokio::select! {
            waited = tokio::time::timeout(WATCH_WAIT, hub.watching(id, study)) => {
                if waited.is_err() {
                    tracing::warn!(%study, "the bus did not confirm the study's channel in time");
                    metrics::counter!("coup_bus_watch_timeouts_total").increment(1);
                }
            }
            () = ending.ended() => return,
        }
        loop {
            let page = match app
                .core
                .read(move |tx| chat::changes_after(tx, study, after, REPLAY_BATCH))
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(error = %e, %study, "replay failed");
                    hub.abort_subscribe(id, study);
                    hub.reply(id, &ServerFrame::error(request_id, &e));
                    return;
                }
            };
            if !page.items.is_empty() {
                let wanted = u32::try_from(page.items.len()).unwrap_or(u32::MAX);
                let permits = tokio::select! {
                    permits = window.clone().acquire_many_owned(wanted) => permits,
                    () = ending.ended() => return,
                };
                let Ok(mut permits) = permits else {
                    return;
                };
                let frames: Vec<(Frame, _)> = page
                    .items
                    .into_iter()
                    .filter_map(|change| {
                        let permit = permits.split(1)?;
                        let frame = ServerFrame::from_change(study, change);
                        Some((
                            serde_json::to_string(&frame).unwrap_or_default().into(),
                            permit,
                        ))
                    })
                    .collect();
                if !hub.replay(id, study, frames) {
                    return;
                }
            }
            after = page.last_change;
            if !page.has_more {
                match hub.go_live(id, study, request_id.clone(), after, page.last_seq) {
                    GoLive::Live | GoLive::Gone => return,
                    GoLive::Behind => {}
                }
            }
        }
    }
}

/// Frames per second with a burst of twice that; sustained abuse closes.
///
/// Strikes (refused frames) count until the client has gone [`STRIKE_MEMORY`]
/// without one: accepted frames between refusals do not forgive them, so a
/// steady flood — some frames accepted as tokens trickle in — still reaches the
/// close.
struct Bucket {
    tokens: f64,
    rate: f64,
    last: Instant,
    strikes: u32,
    last_strike: Option<Instant>,
}

/// How long a client must go without a refused frame for its strikes to be
/// forgotten.
const STRIKE_MEMORY: Duration = Duration::from_secs(10);

impl Bucket {
    fn new(rate: u32) -> Self {
        let rate = f64::from(rate.max(1));
        Self {
            tokens: rate * 2.0,
            rate,
            last: Instant::now(),
            strikes: 0,
            last_strike: None,
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate)
            .min(self.rate * 2.0);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return true;
        }
        if self
            .last_strike
            .is_some_and(|at| now.duration_since(at) > STRIKE_MEMORY)
        {
            self.strikes = 0;
        }
        self.strikes += 1;
        self.last_strike = Some(now);
        false
    }
}

/// Strikes (refused frames) after which a flooding connection is closed.
const MAX_STRIKES: u32 = 20;

/// The `requestId` of a frame that did not parse as a [`ClientFrame`] (or whose
/// type has none), when it is a JSON object carrying one: the answer names it.
fn request_id_of(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "requestId")]
        request_id: Option<String>,
    }
    serde_json::from_str::<Probe>(text)
        .ok()
        .and_then(|p| p.request_id)
}

struct Reader {
    app: Arc<AppState>,
    gateway: Arc<Gateway>,
    id: ConnId,
    user: UserId,
    ending: Ending,
    bucket: Bucket,
    /// Shared by the connection's replays; made on the first.
    replay_window: Option<Arc<Semaphore>>,
}

impl Reader {
    fn reply(&self, frame: ServerFrame) {
        self.gateway.hub.reply(self.id, &frame);
    }

    fn refuse(&self, request_id: Option<String>, e: LiveError) {
        self.reply(match e {
            LiveError::Core(e) => ServerFrame::error(request_id, &e),
            LiveError::Protocol(code, message) => {
                ServerFrame::protocol_error(request_id, code, message)
            }
        });
    }

    /// Handles one text frame; a frame that ends the connection ends `ending`.
    /// Every frame that carries a `requestId` gets exactly one answer, refusals
    /// included.
    async fn frame(&mut self, text: &str) {
        if !self.bucket.take() {
            if self.bucket.strikes > MAX_STRIKES {
                self.ending.close(close::RATE_LIMITED, "too many frames");
                return;
            }
            // A request is answered; frames nobody waits for (typing) get one
            // warning per burst: answering each would flood back.
            let request_id = request_id_of(text);
            if request_id.is_some() || self.bucket.strikes == 1 {
                self.reply(ServerFrame::protocol_error(
                    request_id,
                    codes::RATE_LIMITED,
                    "too many frames; slow down",
                ));
            }
            return;
        }
        let frame = match serde_json::from_str::<ClientFrame>(text) {
            Ok(frame) => frame,
            Err(e) => {
                self.reply(ServerFrame::protocol_error(
                    request_id_of(text),
                    codes::BAD_FRAME,
                    e.to_string(),
                ));
                return;
            }
        };
        let caller = Some(self.user);
        let hub = &self.gateway.hub;
        match frame {
            ClientFrame::Hello { .. } => {
                self.reply(ServerFrame::protocol_error(
                    request_id_of(text),
                    codes::NOT_AUTHENTICATED,
                    "already authenticated",
                ));
            }
            ClientFrame::Subscribe {
                request_id,
                study_id,
                last_seq,
                last_change,
            } => {
                if let Err(e) = hub.begin_subscribe(self.id, study_id).await {
                    self.refuse(request_id, e);
                    return;
                }
                match self
                    .app
                    .core
                    .read(move |tx| chat::resume_point(tx, caller, study_id, last_seq, last_change))
                    .await
                {
                    Ok(point) => self.start_replay(study_id, request_id, point),
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
                        LiveError::Protocol(codes::NOT_SUBSCRIBED, "not subscribed".into()),
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
                        // The message's own frame reaches this socket before the ack.
                        self.gateway.hub.fanned_out().await;
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
                    Ok(_) => {
                        // The receipt's frame reaches this socket before the ack.
                        self.gateway.hub.fanned_out().await;
                        self.reply(ServerFrame::Ack {
                            request_id,
                            message: None,
                        });
                    }
                    Err(e) => self.refuse(request_id, e.into()),
                }
            }
            ClientFrame::Typing { study_id, typing } => {
                if let Err(e) = hub.typing(self.id, study_id, typing, Instant::now()) {
                    self.refuse(request_id_of(text), e);
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
                        LiveError::Protocol(codes::PAYLOAD_TOO_LARGE, message),
                    );
                    return;
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
    }

    /// Replays from the subscriber's resume point, or — past the replay limit —
    /// tells it to page over REST and goes live at once.
    fn start_replay(&mut self, study: StudyId, request_id: Option<String>, point: ResumePoint) {
        let limit = i64::from(self.gateway.settings.replay_limit);
        let after = match point.after {
            Some(after) if point.last_change - after > limit => {
                self.reply(ServerFrame::ResyncRequired {
                    study_id: study,
                    from_seq: point.after_seq,
                    to_seq: point.last_seq,
                    from_change: after,
                    to_change: point.last_change,
                });
                point.last_change
            }
            Some(after) => after,
            None => point.last_change,
        };
        let window = self
            .replay_window
            .get_or_insert_with(|| Arc::new(Semaphore::new(REPLAY_WINDOW)))
            .clone();
        let replay = Replay {
            app: self.app.clone(),
            gateway: self.gateway.clone(),
            id: self.id,
            study,
            request_id,
            window,
            ending: self.ending.clone(),
        };
        tokio::spawn(replay.run(after));
    }
}
