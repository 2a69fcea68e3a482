//! The live connection: one WebSocket to `/ws` that connects, says `hello`,
//! subscribes, answers heartbeats, and reconnects by itself with backoff and
//! jitter, resuming every study from the last change of its chat it holds.
//!
//! Every post, deletion and read receipt of a study's chat has a change number
//! (see `service::chat`); the [`Cursor`] of a followed study holds the last one
//! delivered. A change at or below it is dropped (a replay after resume). A
//! resumed subscription first replays what was missed — in change order, skipping
//! numbers whose change was superseded — and then says `subscribed` with the
//! change it reached; from there changes arrive live, one number after the other,
//! and a gap (a change past the next number, or `resyncRequired` after a long
//! absence) is filled from the REST change feed before the change itself. So the
//! application sees every message, deletion and receipt once and in order, and
//! neither replays nor resyncs, only `LiveEvent`s.
//!
//! Everything runs on one task that owns the socket; the `Live` handle talks to
//! it over a channel. Events go out on a bounded channel: an application that
//! stops reading makes the task stop reading the socket, the server then drops the
//! connection as a slow consumer, and the resume on reconnect loses nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::api::{ApiClient, is_transient};
use super::backoff::Backoff;
use crate::api::chat::{CHANGES_PAGE_MAX, ChangesQuery};
use crate::error::{Error, ErrorCode, ErrorDetail, Reason, Result};
use crate::ids::{StudyId, UserId};
use crate::realtime::protocol::{ClientFrame, IceServer, PROTOCOL_VERSION, ServerFrame, close};

/// How the live connection behaves.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// The first reconnect window.
    pub min_backoff: Duration,
    /// The largest reconnect window.
    pub max_backoff: Duration,
    /// Events held for the application before the connection stops reading.
    pub event_buffer: usize,
    /// How long connecting, `hello` and a request's answer may take.
    pub answer_timeout: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            min_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            event_buffer: 1024,
            answer_timeout: Duration::from_secs(10),
        }
    }
}

/// What the live connection tells the client.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LiveEvent {
    /// Connecting (at start, after a pause or a network change, or a backoff).
    Connecting,
    /// Connected and authenticated (again, after a reconnect); subscriptions resume.
    Connected {
        user_id: UserId,
        heartbeat_secs: u64,
        ice_servers: Vec<IceServer>,
    },
    /// The connection is down; the next attempt is in `retry_in`.
    Disconnected { reason: String, retry_in: Duration },
    /// The server refused the session (logged out, password changed, suspended,
    /// bad token, unsupported version): the connection will not come back by itself.
    Stopped {
        code: ErrorCode,
        message: String,
        reason: Option<Reason>,
    },
    /// A frame from the server: chat (exactly once, in order), deletions, read
    /// receipts, typing, presence, notifications, membership, subscriptions and
    /// call signaling. Answers to [`Live::request`] go to the request instead.
    Frame(Box<ServerFrame>),
}

enum Command {
    Subscribe(StudyId, Cursor),
    Unsubscribe(StudyId),
    Request(ClientFrame, oneshot::Sender<Result<(ServerFrame, u64)>>),
    Send(ClientFrame),
    /// Close the connection and stay closed until `Resume`.
    Pause,
    /// Connect now (after `Pause`, or instead of waiting out a backoff).
    Resume,
    /// The network changed: drop the connection and connect again at once.
    Reconnect,
}

/// Where a followed study's chat stands: the last change and the last message
/// delivered (`None` until known).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The last change number delivered (messages, deletions, receipts).
    pub change: Option<i64>,
    /// The last message sequence delivered.
    pub seq: Option<i64>,
}

impl Cursor {
    /// The later of two cursors, field by field.
    fn max(self, other: Self) -> Self {
        Self {
            change: self.change.max(other.change),
            seq: self.seq.max(other.seq),
        }
    }
}

/// A followed study on the current connection.
#[derive(Debug, Clone, Copy, Default)]
struct Followed {
    cursor: Cursor,
    /// Between `subscribe` and `subscribed`: replayed changes may skip numbers.
    replaying: bool,
}

/// The followed studies.
type Held = Arc<Mutex<HashMap<StudyId, Followed>>>;

/// A handle to the live connection; dropping it closes the connection.
#[derive(Debug)]
pub(crate) struct Live {
    commands: mpsc::UnboundedSender<Command>,
    task: JoinHandle<()>,
    /// The number of the connection welcomed last (see [`Live::connection`]).
    connection: Arc<AtomicU64>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Live {
    /// Starts the connection for `api`'s session; events arrive on the receiver.
    pub fn start(api: ApiClient, config: LiveConfig) -> (Self, mpsc::Receiver<LiveEvent>) {
        let (events_tx, events) = mpsc::channel(config.event_buffer.max(1));
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let connection = Arc::new(AtomicU64::new(0));
        let runner = Runner {
            connection: connection.clone(),
            url: websocket_url(api.base()),
            api,
            backoff: Backoff::new(config.min_backoff, config.max_backoff),
            config,
            events: events_tx,
            commands: commands_rx,
            held: Held::default(),
            pending: HashMap::new(),
            next_request: 0,
        };
        let task = tokio::spawn(runner.run());
        (
            Self {
                commands,
                task,
                connection,
            },
            events,
        )
    }

    /// The number of the connection the server welcomed last: 1 for the first,
    /// one more for each after it (0 before any). State the server keeps per
    /// connection — a seat in a call — is gone once this number has moved past
    /// the connection that made it; the connection events say so too, but they
    /// reach the application in order with the live frames, and so may come
    /// after answers that the new connection already gave.
    pub fn connection(&self) -> u64 {
        self.connection.load(Ordering::SeqCst)
    }

    /// Follows a study, resuming after `cursor` (what the caller holds) or, with
    /// an empty cursor, from now on. Kept across reconnects.
    pub fn subscribe(&self, study: StudyId, cursor: Cursor) {
        let _ = self.commands.send(Command::Subscribe(study, cursor));
    }

    /// Stops following a study.
    pub fn unsubscribe(&self, study: StudyId) {
        let _ = self.commands.send(Command::Unsubscribe(study));
    }

    /// Sends a frame that expects an answer (`ack`, `callJoined`), giving it a
    /// request id; a refusal is an [`Error::Remote`] with the server's code. Fails
    /// at once with `UNAVAILABLE` while disconnected.
    pub async fn request(&self, frame: ClientFrame) -> Result<ServerFrame> {
        Ok(self.request_on(frame).await?.0)
    }

    /// [`Live::request`], with the number of the connection that answered
    /// (see [`Live::connection`]).
    pub async fn request_on(&self, frame: ClientFrame) -> Result<(ServerFrame, u64)> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Request(frame, tx))
            .map_err(|_| Error::transport("sending a request", "the live connection is closed"))?;
        rx.await.map_err(|_| {
            Error::transport("waiting for the answer", "the live connection is closed")
        })?
    }

    /// Sends a frame without waiting for an answer (e.g. typing); dropped while
    /// disconnected.
    pub fn send(&self, frame: ClientFrame) {
        let _ = self.commands.send(Command::Send(frame));
    }

    /// Closes the connection and keeps it closed (the app went to the background).
    pub fn pause(&self) {
        let _ = self.commands.send(Command::Pause);
    }

    /// Connects again at once after [`Self::pause`], or cuts a backoff short.
    pub fn resume(&self) {
        let _ = self.commands.send(Command::Resume);
    }

    /// The device's network changed: the current connection (if any) may be
    /// dead, so drop it and connect again at once, without waiting out a backoff.
    pub fn network_changed(&self) {
        let _ = self.commands.send(Command::Reconnect);
    }
}

/// `ws://host/ws` for `http://host`, `wss://` for `https://`.
fn websocket_url(base: &str) -> String {
    let rest = base
        .strip_prefix("https://")
        .map(|r| format!("wss://{r}"))
        .or_else(|| base.strip_prefix("http://").map(|r| format!("ws://{r}")))
        .unwrap_or_else(|| base.to_owned());
    format!("{rest}/ws")
}

/// `frame` with its request id set to `id` (frames without one are unchanged).
fn with_request_id(frame: ClientFrame, id: String) -> ClientFrame {
    use ClientFrame as F;
    let id = Some(id);
    match frame {
        F::Subscribe {
            study_id,
            last_seq,
            last_change,
            ..
        } => F::Subscribe {
            request_id: id,
            study_id,
            last_seq,
            last_change,
        },
        F::Unsubscribe { study_id, .. } => F::Unsubscribe {
            request_id: id,
            study_id,
        },
        F::Send {
            study_id,
            content,
            client_id,
            file_id,
            ..
        } => F::Send {
            request_id: id,
            study_id,
            content,
            client_id,
            file_id,
        },
        F::Read { study_id, seq, .. } => F::Read {
            request_id: id,
            study_id,
            seq,
        },
        F::CallJoin {
            study_id, media, ..
        } => F::CallJoin {
            request_id: id,
            study_id,
            media,
        },
        F::CallLeave { study_id, .. } => F::CallLeave {
            request_id: id,
            study_id,
        },
        F::Signal {
            study_id,
            to,
            kind,
            payload,
            ..
        } => F::Signal {
            request_id: id,
            study_id,
            to,
            kind,
            payload,
        },
        F::Media {
            study_id, media, ..
        } => F::Media {
            request_id: id,
            study_id,
            media,
        },
        other @ (F::Hello { .. } | F::Typing { .. }) => other,
    }
}

/// The request id an answer frame repeats.
fn answer_id(frame: &ServerFrame) -> Option<&str> {
    match frame {
        ServerFrame::Ack { request_id, .. }
        | ServerFrame::CallJoined { request_id, .. }
        | ServerFrame::Error { request_id, .. } => request_id.as_deref(),
        _ => None,
    }
}

/// Why a connection ended.
enum Ended {
    /// Try again after a delay.
    Retry(String),
    /// Try again at once, with the backoff reset (the network changed).
    Reconnect,
    /// Stay closed until resumed.
    Paused,
    /// The session is over; stop.
    Stop(Error),
    /// The application is gone (handle and events dropped).
    Gone,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Runner {
    url: String,
    api: ApiClient,
    config: LiveConfig,
    backoff: Backoff,
    events: mpsc::Sender<LiveEvent>,
    commands: mpsc::UnboundedReceiver<Command>,
    held: Held,
    pending: HashMap<String, oneshot::Sender<Result<(ServerFrame, u64)>>>,
    next_request: u64,
    /// Numbers the connections as they are welcomed (shared with [`Live`]).
    connection: Arc<AtomicU64>,
}

impl Runner {
    async fn run(mut self) {
        loop {
            if self.events.send(LiveEvent::Connecting).await.is_err() {
                return;
            }
            let ended = match self.connect().await {
                Ok((socket, heartbeat)) => {
                    let started = tokio::time::Instant::now();
                    let ended = self.session(socket, heartbeat).await;
                    // Only a connection that lived through a heartbeat interval counts
                    // as a success: a server that welcomes and then drops every
                    // connection at once must still see the delays grow.
                    if started.elapsed() >= heartbeat {
                        self.backoff.reset();
                    }
                    ended
                }
                Err(ended) => ended,
            };
            self.fail_pending();
            match ended {
                Ended::Gone => return,
                Ended::Stop(error) => {
                    let _ = self
                        .events
                        .send(LiveEvent::Stopped {
                            code: error.code(),
                            message: error.public_message(),
                            reason: error.reason(),
                        })
                        .await;
                    // Keep answering the handle (requests fail) until it is dropped.
                    while let Some(command) = self.commands.recv().await {
                        self.offline(command);
                    }
                    return;
                }
                Ended::Reconnect => self.backoff.reset(),
                Ended::Paused => {
                    let paused = LiveEvent::Disconnected {
                        reason: "paused".into(),
                        retry_in: Duration::ZERO,
                    };
                    if self.events.send(paused).await.is_err() || !self.wait(None).await {
                        return;
                    }
                }
                Ended::Retry(reason) => {
                    let retry_in = self.backoff.next_delay();
                    if self
                        .events
                        .send(LiveEvent::Disconnected { reason, retry_in })
                        .await
                        .is_err()
                    {
                        return;
                    }
                    if !self.wait(Some(retry_in)).await {
                        return;
                    }
                }
            }
        }
    }

    /// Waits `delay` (with `None`, until resumed) while answering commands; a
    /// resume or a network change cuts it short, a pause makes it wait for a
    /// resume. False when the handle is gone.
    async fn wait(&mut self, delay: Option<Duration>) -> bool {
        let mut deadline = delay.map(|d| Box::pin(tokio::time::sleep(d)));
        loop {
            let elapsed = async {
                match deadline.as_mut() {
                    Some(deadline) => deadline.await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = elapsed => return true,
                command = self.commands.recv() => match command {
                    Some(Command::Pause) => deadline = None,
                    Some(Command::Resume) => return true,
                    Some(Command::Reconnect) => {
                        self.backoff.reset();
                        return true;
                    }
                    Some(command) => self.offline(command),
                    None => return false,
                },
            }
        }
    }

    /// A command while there is no connection.
    fn offline(&mut self, command: Command) {
        match command {
            Command::Subscribe(study, cursor) => self.hold(study, cursor),
            Command::Unsubscribe(study) => self.forget(study),
            Command::Request(_, reply) => {
                let _ = reply.send(Err(Error::transport("sending a request", "not connected")));
            }
            Command::Send(_) | Command::Pause | Command::Resume | Command::Reconnect => {}
        }
    }

    fn hold(&self, study: StudyId, cursor: Cursor) {
        if let Ok(mut held) = self.held.lock() {
            let slot = held.entry(study).or_insert(Followed {
                cursor,
                replaying: true,
            });
            slot.cursor = slot.cursor.max(cursor);
        }
    }

    fn followed(&self, study: StudyId) -> Option<Followed> {
        self.held
            .lock()
            .ok()
            .and_then(|held| held.get(&study).copied())
    }

    fn update(&self, study: StudyId, change: impl FnOnce(&mut Followed)) {
        if let Ok(mut held) = self.held.lock()
            && let Some(followed) = held.get_mut(&study)
        {
            change(followed);
        }
    }

    fn forget(&self, study: StudyId) {
        if let Ok(mut held) = self.held.lock() {
            held.remove(&study);
        }
    }

    fn held(&self) -> Vec<(StudyId, Cursor)> {
        self.held
            .lock()
            .map(|held| held.iter().map(|(s, f)| (*s, f.cursor)).collect())
            .unwrap_or_default()
    }

    fn fail_pending(&mut self) {
        for (_, reply) in self.pending.drain() {
            let _ = reply.send(Err(Error::transport(
                "waiting for the answer",
                "the connection was lost",
            )));
        }
    }

    /// Opens the socket and authenticates; returns it with the server's heartbeat.
    async fn connect(&mut self) -> std::result::Result<(Socket, Duration), Ended> {
        let Some(token) = self.api.token() else {
            return Err(Ended::Stop(Error::Unauthorized("sign in first")));
        };
        let timeout = self.config.answer_timeout;
        let (mut socket, _) = match tokio::time::timeout(
            timeout,
            tokio_tungstenite::connect_async_tls_with_config(
                &self.url,
                None,
                true,
                Some(tokio_tungstenite::Connector::Rustls(self.api.tls())),
            ),
        )
        .await
        {
            Ok(Ok(connected)) => connected,
            Ok(Err(e)) => {
                let why = super::tls::untrusted_certificate(&e).unwrap_or_else(|| e.to_string());
                return Err(Ended::Retry(format!("connecting: {why}")));
            }
            Err(_) => return Err(Ended::Retry("connecting timed out".into())),
        };
        let hello = ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            token,
        };
        if let Err(e) = send(&mut socket, &hello).await {
            return Err(Ended::Retry(e.to_string()));
        }
        let welcome = tokio::time::timeout(timeout, async {
            loop {
                match socket.next().await {
                    Some(Ok(Message::Text(text))) => return Ok(text),
                    Some(Ok(Message::Close(frame))) => return Err(closed(frame.as_ref())),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(Ended::Retry(e.to_string())),
                    None => return Err(Ended::Retry("closed during hello".into())),
                }
            }
        })
        .await
        .map_err(|_| Ended::Retry("no welcome in time".into()))??;
        match serde_json::from_str::<ServerFrame>(&welcome) {
            Ok(ServerFrame::Welcome {
                user_id,
                heartbeat_secs,
                ice_servers,
                ..
            }) => {
                self.connection.fetch_add(1, Ordering::SeqCst);
                let connected = LiveEvent::Connected {
                    user_id,
                    heartbeat_secs,
                    ice_servers,
                };
                if self.events.send(connected).await.is_err() {
                    return Err(Ended::Gone);
                }
                Ok((socket, Duration::from_secs(heartbeat_secs.max(1))))
            }
            Ok(ServerFrame::Error {
                code,
                message,
                reason,
                ..
            }) => {
                let error = Error::from_remote(
                    0,
                    ErrorDetail {
                        code,
                        message,
                        field: None,
                        reason,
                    },
                );
                Err(match error.code() {
                    ErrorCode::Unauthorized | ErrorCode::Validation => Ended::Stop(error),
                    _ => Ended::Retry(error.to_string()),
                })
            }
            _ => Err(Ended::Retry(format!("expected welcome, got {welcome}"))),
        }
    }

    /// Runs one authenticated connection until it ends.
    async fn session(&mut self, mut socket: Socket, heartbeat: Duration) -> Ended {
        for (study, cursor) in self.held() {
            self.update(study, |f| f.replaying = true);
            if let Err(e) = send(&mut socket, &subscribe(study, cursor)).await {
                return Ended::Retry(e.to_string());
            }
        }
        loop {
            // The server pings every heartbeat; two silent intervals mean it is gone.
            let silence = heartbeat * 2 + Duration::from_secs(5);
            tokio::select! {
                incoming = tokio::time::timeout(silence, socket.next()) => {
                    let message = match incoming {
                        Err(_) => return Ended::Retry("the server went silent".into()),
                        Ok(None) => return Ended::Retry("the connection closed".into()),
                        Ok(Some(Err(e))) => return Ended::Retry(e.to_string()),
                        Ok(Some(Ok(message))) => message,
                    };
                    match message {
                        Message::Text(text) => {
                            let frame = match serde_json::from_str::<ServerFrame>(&text) {
                                Ok(frame) => frame,
                                Err(e) => {
                                    tracing::warn!(error = %e, "ignoring an unreadable frame");
                                    continue;
                                }
                            };
                            if let Err(ended) = self.incoming(frame).await {
                                return ended;
                            }
                        }
                        Message::Close(frame) => return closed(frame.as_ref()),
                        // Pings are answered by the library while we read.
                        _ => {}
                    }
                }
                command = self.commands.recv() => {
                    let ended = match command {
                        None => Some(Ended::Gone),
                        Some(Command::Pause) => Some(Ended::Paused),
                        Some(Command::Reconnect) => Some(Ended::Reconnect),
                        Some(Command::Resume) => None,
                        Some(command) => self.command(&mut socket, command).await.err().map(|e| Ended::Retry(e.to_string())),
                    };
                    if let Some(ended) = ended {
                        if !matches!(ended, Ended::Gone) {
                            // Say goodbye; the server ends the presence at once.
                            let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
                        }
                        return ended;
                    }
                }
            }
        }
    }

    async fn command(&mut self, socket: &mut Socket, command: Command) -> Result<()> {
        match command {
            Command::Subscribe(study, cursor) => {
                let followed = self.followed(study).is_some();
                self.hold(study, cursor);
                if followed {
                    // Subscribed on this connection already; a resume uses the held cursor.
                    return Ok(());
                }
                let cursor = self.followed(study).map(|f| f.cursor).unwrap_or_default();
                send(socket, &subscribe(study, cursor)).await
            }
            Command::Unsubscribe(study) => {
                self.forget(study);
                send(
                    socket,
                    &ClientFrame::Unsubscribe {
                        request_id: None,
                        study_id: study,
                    },
                )
                .await
            }
            Command::Request(frame, reply) => {
                self.next_request += 1;
                let id = format!("c{}", self.next_request);
                let frame = with_request_id(frame, id.clone());
                match send(socket, &frame).await {
                    Ok(()) => {
                        self.pending.insert(id, reply);
                        Ok(())
                    }
                    Err(e) => {
                        // The caller gets the failure itself; the session only
                        // needs its words to end and reconnect.
                        let why = e.to_string();
                        let _ = reply.send(Err(e));
                        Err(Error::transport("sending a request", why))
                    }
                }
            }
            Command::Send(frame) => send(socket, &frame).await,
            // Handled by the session loop.
            Command::Pause | Command::Resume | Command::Reconnect => Ok(()),
        }
    }

    /// Handles one frame from the server.
    async fn incoming(&mut self, frame: ServerFrame) -> std::result::Result<(), Ended> {
        if let Some(id) = answer_id(&frame)
            && let Some(reply) = self.pending.remove(id)
        {
            let answer = match frame {
                ServerFrame::Error {
                    code,
                    message,
                    reason,
                    ..
                } => Err(Error::from_remote(
                    0,
                    ErrorDetail {
                        code,
                        message,
                        field: None,
                        reason,
                    },
                )),
                other => Ok((other, self.connection.load(Ordering::SeqCst))),
            };
            let _ = reply.send(answer);
            return Ok(());
        }
        match frame {
            ServerFrame::Welcome { .. } | ServerFrame::Ack { .. } => Ok(()),
            ServerFrame::Subscribed {
                study_id,
                last_seq,
                last_change,
                ..
            } => {
                // The replay reached `last_change`; live changes follow it in order.
                // A fresh subscription starts at the study's current sequence.
                self.update(study_id, |f| {
                    f.replaying = false;
                    f.cursor.change = f.cursor.change.max(Some(last_change));
                    f.cursor.seq = f.cursor.seq.or(Some(last_seq));
                });
                self.deliver(frame).await
            }
            ServerFrame::Message { .. }
            | ServerFrame::MessageDeleted { .. }
            | ServerFrame::ReadReceipt { .. } => self.change(frame).await,
            ServerFrame::ResyncRequired {
                study_id,
                to_change,
                ..
            } => self.fill(study_id, to_change).await,
            ServerFrame::Unsubscribed { study_id, .. } => {
                // Kicked, left or deleted: do not subscribe again after a reconnect.
                self.forget(study_id);
                self.deliver(frame).await
            }
            other => self.deliver(other).await,
        }
    }

    async fn deliver(&self, frame: ServerFrame) -> std::result::Result<(), Ended> {
        self.events
            .send(LiveEvent::Frame(Box::new(frame)))
            .await
            .map_err(|_| Ended::Gone)
    }

    /// Delivers a chat change exactly once and in order, filling a gap first.
    async fn change(&mut self, frame: ServerFrame) -> std::result::Result<(), Ended> {
        let (Some(study), Some(change)) = (chat_study(&frame), frame.change()) else {
            return Ok(());
        };
        match self.followed(study) {
            // Not followed (any more): nothing to keep in order.
            None => return Ok(()),
            Some(f) if f.cursor.change.is_some_and(|last| change <= last) => return Ok(()),
            Some(Followed {
                cursor: Cursor {
                    change: Some(last), ..
                },
                replaying: false,
            }) if change > last + 1 => self.fill(study, change - 1).await?,
            Some(_) => {}
        }
        self.accept(study, frame).await
    }

    /// Records and delivers a change that is the next one of its study.
    async fn accept(
        &mut self,
        study: StudyId,
        frame: ServerFrame,
    ) -> std::result::Result<(), Ended> {
        let Some(change) = frame.change() else {
            return Ok(());
        };
        let mut fresh = false;
        self.update(study, |f| {
            if f.cursor.change.is_none_or(|last| change > last) {
                fresh = true;
                f.cursor.change = Some(change);
                if let ServerFrame::Message { message, .. } = &frame {
                    f.cursor.seq = f.cursor.seq.max(Some(message.seq));
                }
            }
        });
        if !fresh {
            return Ok(());
        }
        self.deliver(frame).await
    }

    /// Pages the study's change feed over REST from the held change up to `to_change`.
    async fn fill(&mut self, study: StudyId, to_change: i64) -> std::result::Result<(), Ended> {
        loop {
            // Not followed (any more, e.g. a `resyncRequired` answering a
            // subscription since dropped): nothing is accepted for it, so paging
            // would never advance.
            let Some(followed) = self.followed(study) else {
                return Ok(());
            };
            let after = followed.cursor.change.unwrap_or(0);
            if after >= to_change {
                return Ok(());
            }
            let query = ChangesQuery {
                after,
                limit: Some(CHANGES_PAGE_MAX),
            };
            let page = match self.api.chat_changes(study, &query).await {
                Ok(page) => page,
                // Busy or broken, not only unreachable: delivering the change
                // anyway would leave a hole, so reconnect and resume instead.
                Err(e) if is_transient(&e) => {
                    return Err(Ended::Retry(format!("catching up: {e}")));
                }
                // The session ended meanwhile: stop rather than deliver past a hole.
                Err(e) if e.code() == ErrorCode::Unauthorized => return Err(Ended::Stop(e)),
                // No longer allowed to read it (kicked meanwhile): nothing to fill.
                Err(e) => {
                    tracing::warn!(error = %e, %study, "cannot catch up on a study");
                    return Ok(());
                }
            };
            for change in page.items {
                self.accept(study, ServerFrame::from_change(study, change))
                    .await?;
            }
            // Superseded changes have no item: the page says where it reached.
            self.update(study, |f| {
                f.cursor.change = f.cursor.change.max(Some(page.last_change));
            });
            if !page.has_more || page.last_change <= after {
                return Ok(());
            }
        }
    }
}

/// The study a chat change frame belongs to.
fn chat_study(frame: &ServerFrame) -> Option<StudyId> {
    match frame {
        ServerFrame::Message { message, .. } => Some(message.study_id),
        ServerFrame::MessageDeleted { study_id, .. }
        | ServerFrame::ReadReceipt { study_id, .. } => Some(*study_id),
        _ => None,
    }
}

/// The `subscribe` frame resuming `study` after `cursor`.
fn subscribe(study: StudyId, cursor: Cursor) -> ClientFrame {
    ClientFrame::Subscribe {
        request_id: None,
        study_id: study,
        last_seq: cursor.seq,
        last_change: cursor.change,
    }
}

async fn send(socket: &mut Socket, frame: &ClientFrame) -> Result<()> {
    let text = serde_json::to_string(frame).map_err(|e| Error::failed("encoding a frame", e))?;
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|e| Error::transport("sending a frame", e))
}

/// What a close frame from the server means for reconnecting.
fn closed(frame: Option<&tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> Ended {
    let Some(frame) = frame else {
        return Ended::Retry("closed".into());
    };
    let reason = format!(
        "closed ({}): {}",
        u16::from(frame.code),
        frame.reason.as_str()
    );
    match frame.code {
        CloseCode::Library(close::UNAUTHORIZED) => {
            Ended::Stop(Error::Unauthorized("the session ended"))
        }
        CloseCode::Library(close::SESSION_ENDED) => {
            let ended = Error::Unauthorized("the session ended");
            // The server says why (a suspension, or a session ended elsewhere).
            Ended::Stop(match Reason::from_wire(frame.reason.as_str()) {
                Some(reason) => ended.because(reason),
                None => ended,
            })
        }
        CloseCode::Library(close::UNSUPPORTED_VERSION) => Ended::Stop(Error::Remote {
            status: 0,
            code: ErrorCode::Validation,
            server_code: "UNSUPPORTED_VERSION".into(),
            message: reason,
            field: None,
            reason: None,
        }),
        _ => Ended::Retry(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that welcomes every connection and drops it at once; counts them.
    async fn welcoming_and_dropping() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = count.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Ok(mut socket) = tokio_tungstenite::accept_async(tcp).await else {
                    continue;
                };
                let _hello = socket.next().await;
                let welcome = serde_json::json!({
                    "type": "welcome", "version": 1, "userId": UserId::new(),
                    "heartbeatSecs": 25, "replayLimit": 500, "iceServers": [],
                });
                let _ = socket.send(Message::Text(welcome.to_string().into())).await;
                let _ = socket.close(None).await;
            }
        });
        (base, count)
    }

    #[tokio::test]
    async fn connections_dropped_right_after_the_welcome_still_back_off() {
        let (base, count) = welcoming_and_dropping().await;
        let api = ApiClient::new(&base).expect("client");
        api.set_token(Some("token".into()));
        let config = LiveConfig {
            min_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_secs(5),
            ..LiveConfig::default()
        };
        let (live, _events) = Live::start(api, config);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        drop(live);
        // Doubling from 20 ms, 1.5 s hold at most 8 attempts; a backoff reset on
        // every welcome would reconnect every 10-20 ms (dozens of attempts).
        let attempts = count.load(std::sync::atomic::Ordering::SeqCst);
        assert!((2..=10).contains(&attempts), "{attempts} connections");
    }

    #[test]
    fn websocket_urls_follow_the_api_scheme() {
        assert_eq!(
            websocket_url("http://127.0.0.1:8080"),
            "ws://127.0.0.1:8080/ws"
        );
        assert_eq!(
            websocket_url("https://coup.example"),
            "wss://coup.example/ws"
        );
    }

    #[test]
    fn requests_get_their_id_and_answers_name_it() {
        let study = StudyId::new();
        let frame = with_request_id(
            ClientFrame::CallLeave {
                request_id: None,
                study_id: study,
            },
            "c7".into(),
        );
        assert_eq!(
            frame,
            ClientFrame::CallLeave {
                request_id: Some("c7".into()),
                study_id: study,
            }
        );
        let ack = ServerFrame::Ack {
            request_id: Some("c7".into()),
            message: None,
        };
        assert_eq!(answer_id(&ack), Some("c7"));
        let typing = ServerFrame::Typing {
            study_id: study,
            user_id: UserId::new(),
            typing: true,
        };
        assert_eq!(answer_id(&typing), None);
    }
}
