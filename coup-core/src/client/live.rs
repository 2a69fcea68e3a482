//! The live connection: one WebSocket to `/ws` that connects, says `hello`,
//! subscribes, answers heartbeats, and reconnects by itself with backoff and
//! jitter, resuming every study from the last chat sequence it holds.
//!
//! Chat is delivered exactly once and in order per study: a `message` at or below
//! the held sequence is dropped (a replay after resume), and a gap — a message
//! beyond the next sequence, or `resyncRequired` after a long absence — is filled
//! from REST pages before the message itself. The application sees neither
//! replays nor resyncs, only [`LiveEvent`]s.
//!
//! Everything runs on one task that owns the socket; the [`Live`] handle talks to
//! it over a channel. Events go out on a bounded channel: an application that
//! stops reading makes the task stop reading the socket, the server then drops the
//! connection as a slow consumer, and the resume on reconnect loses nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::api::{ApiClient, is_transient};
use super::backoff::Backoff;
use crate::error::{Error, ErrorCode, ErrorDetail, Result};
use crate::ids::{StudyId, UserId};
use crate::model::ChatMessage;
use crate::realtime::protocol::{ClientFrame, IceServer, PROTOCOL_VERSION, ServerFrame, close};
use crate::service::chat::ChatQuery;

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

/// What the live connection tells the application.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
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
    Stopped { code: ErrorCode, message: String },
    /// A frame from the server: chat (exactly once, in order), deletions, read
    /// receipts, typing, presence, notifications, membership, subscriptions and
    /// call signaling. Answers to [`Live::request`] go to the request instead.
    Frame(Box<ServerFrame>),
}

enum Command {
    Subscribe(StudyId, Option<i64>),
    Unsubscribe(StudyId),
    Request(ClientFrame, oneshot::Sender<Result<ServerFrame>>),
    Send(ClientFrame),
}

/// The chat sequence held per followed study (`None` until the first is known).
type Held = Arc<Mutex<HashMap<StudyId, Option<i64>>>>;

/// A handle to the live connection; dropping it closes the connection.
#[derive(Debug)]
pub struct Live {
    commands: mpsc::UnboundedSender<Command>,
    held: Held,
    task: JoinHandle<()>,
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
        let held = Held::default();
        let runner = Runner {
            url: websocket_url(api.base()),
            api,
            backoff: Backoff::new(config.min_backoff, config.max_backoff),
            config,
            events: events_tx,
            commands: commands_rx,
            held: held.clone(),
            pending: HashMap::new(),
            next_request: 0,
        };
        let task = tokio::spawn(runner.run());
        (
            Self {
                commands,
                held,
                task,
            },
            events,
        )
    }

    /// Follows a study, resuming after `last_seq` (the last message the caller
    /// holds) or, with `None`, from now on. Kept across reconnects.
    pub fn subscribe(&self, study: StudyId, last_seq: Option<i64>) {
        let _ = self.commands.send(Command::Subscribe(study, last_seq));
    }

    /// Stops following a study.
    pub fn unsubscribe(&self, study: StudyId) {
        let _ = self.commands.send(Command::Unsubscribe(study));
    }

    /// The last chat sequence delivered for a followed study.
    pub fn last_seq(&self, study: StudyId) -> Option<i64> {
        self.held
            .lock()
            .ok()
            .and_then(|held| held.get(&study).copied().flatten())
    }

    /// Sends a frame that expects an answer (`ack`, `callJoined`), giving it a
    /// request id; a refusal is an [`Error::Remote`] with the server's code. Fails
    /// at once with `UNAVAILABLE` while disconnected.
    pub async fn request(&self, frame: ClientFrame) -> Result<ServerFrame> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Request(frame, tx))
            .map_err(|_| Error::Transport("the live connection is closed".into()))?;
        rx.await
            .map_err(|_| Error::Transport("the live connection is closed".into()))?
    }

    /// Sends a frame without waiting for an answer (e.g. typing); dropped while
    /// disconnected.
    pub fn send(&self, frame: ClientFrame) {
        let _ = self.commands.send(Command::Send(frame));
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
            study_id, last_seq, ..
        } => F::Subscribe {
            request_id: id,
            study_id,
            last_seq,
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
    pending: HashMap<String, oneshot::Sender<Result<ServerFrame>>>,
    next_request: u64,
}

impl Runner {
    async fn run(mut self) {
        loop {
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
                        })
                        .await;
                    // Keep answering the handle (requests fail) until it is dropped.
                    while let Some(command) = self.commands.recv().await {
                        self.offline(command);
                    }
                    return;
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
                    if !self.wait(retry_in).await {
                        return;
                    }
                }
            }
        }
    }

    /// Waits `delay` while answering commands; false when the handle is gone.
    async fn wait(&mut self, delay: Duration) -> bool {
        let deadline = tokio::time::sleep(delay);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => return true,
                command = self.commands.recv() => match command {
                    Some(command) => self.offline(command),
                    None => return false,
                },
            }
        }
    }

    /// A command while there is no connection.
    fn offline(&mut self, command: Command) {
        match command {
            Command::Subscribe(study, last_seq) => self.hold(study, last_seq),
            Command::Unsubscribe(study) => self.forget(study),
            Command::Request(_, reply) => {
                let _ = reply.send(Err(Error::Transport("not connected".into())));
            }
            Command::Send(_) => {}
        }
    }

    fn hold(&self, study: StudyId, last_seq: Option<i64>) {
        if let Ok(mut held) = self.held.lock() {
            let slot = held.entry(study).or_insert(last_seq);
            *slot = (*slot).max(last_seq);
        }
    }

    fn forget(&self, study: StudyId) {
        if let Ok(mut held) = self.held.lock() {
            held.remove(&study);
        }
    }

    fn held(&self) -> Vec<(StudyId, Option<i64>)> {
        self.held
            .lock()
            .map(|held| held.iter().map(|(s, q)| (*s, *q)).collect())
            .unwrap_or_default()
    }

    fn fail_pending(&mut self) {
        for (_, reply) in self.pending.drain() {
            let _ = reply.send(Err(Error::Transport("the connection was lost".into())));
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
            tokio_tungstenite::connect_async(&self.url),
        )
        .await
        {
            Ok(Ok(connected)) => connected,
            Ok(Err(e)) => return Err(Ended::Retry(format!("connecting: {e}"))),
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
            Ok(ServerFrame::Error { code, message, .. }) => {
                let error = Error::from_remote(
                    0,
                    ErrorDetail {
                        code,
                        message,
                        field: None,
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
        for (study, last_seq) in self.held() {
            let frame = ClientFrame::Subscribe {
                request_id: None,
                study_id: study,
                last_seq,
            };
            if let Err(e) = send(&mut socket, &frame).await {
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
                    let Some(command) = command else { return Ended::Gone };
                    if let Err(e) = self.command(&mut socket, command).await {
                        return Ended::Retry(e.to_string());
                    }
                }
            }
        }
    }

    async fn command(&mut self, socket: &mut Socket, command: Command) -> Result<()> {
        match command {
            Command::Subscribe(study, last_seq) => {
                let followed = self.held().iter().any(|(s, _)| *s == study);
                self.hold(study, last_seq);
                if followed {
                    // Subscribed on this connection already; a resume uses the held sequence.
                    return Ok(());
                }
                let last_seq = self
                    .held()
                    .into_iter()
                    .find(|(s, _)| *s == study)
                    .and_then(|(_, q)| q);
                send(
                    socket,
                    &ClientFrame::Subscribe {
                        request_id: None,
                        study_id: study,
                        last_seq,
                    },
                )
                .await
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
                        let _ = reply.send(Err(Error::Transport(e.to_string())));
                        Err(e)
                    }
                }
            }
            Command::Send(frame) => send(socket, &frame).await,
        }
    }

    /// Handles one frame from the server.
    async fn incoming(&mut self, frame: ServerFrame) -> std::result::Result<(), Ended> {
        if let Some(id) = answer_id(&frame)
            && let Some(reply) = self.pending.remove(id)
        {
            let answer = match frame {
                ServerFrame::Error { code, message, .. } => Err(Error::from_remote(
                    0,
                    ErrorDetail {
                        code,
                        message,
                        field: None,
                    },
                )),
                other => Ok(other),
            };
            let _ = reply.send(answer);
            return Ok(());
        }
        match frame {
            ServerFrame::Welcome { .. } | ServerFrame::Ack { .. } => Ok(()),
            ServerFrame::Subscribed {
                study_id, last_seq, ..
            } => {
                // A fresh subscription starts at the study's current sequence.
                if let Ok(mut held) = self.held.lock()
                    && let Some(slot @ None) = held.get_mut(&study_id)
                {
                    *slot = Some(last_seq);
                }
                self.deliver(frame).await
            }
            ServerFrame::Message { message } => self.message(message).await,
            ServerFrame::ResyncRequired {
                study_id, to_seq, ..
            } => self.fill(study_id, to_seq).await,
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

    /// Delivers a chat message exactly once and in order, filling a gap first.
    async fn message(&mut self, message: ChatMessage) -> std::result::Result<(), Ended> {
        let study = message.study_id;
        let held = self
            .held
            .lock()
            .ok()
            .and_then(|held| held.get(&study).copied());
        match held {
            // Not followed (any more): nothing to keep in order.
            None => return Ok(()),
            Some(Some(last)) if message.seq <= last => return Ok(()),
            Some(Some(last)) if message.seq > last + 1 => self.fill(study, message.seq - 1).await?,
            _ => {}
        }
        self.accept(message).await
    }

    /// Records and delivers a message that is the next in its study.
    async fn accept(&mut self, message: ChatMessage) -> std::result::Result<(), Ended> {
        if let Ok(mut held) = self.held.lock() {
            match held.get_mut(&message.study_id) {
                Some(slot) if slot.is_none_or(|last| message.seq > last) => {
                    *slot = Some(message.seq);
                }
                _ => return Ok(()),
            }
        }
        self.deliver(ServerFrame::Message { message }).await
    }

    /// Pages the study's chat over REST from the held sequence up to `to_seq`.
    async fn fill(&mut self, study: StudyId, to_seq: i64) -> std::result::Result<(), Ended> {
        loop {
            let held = self
                .held
                .lock()
                .ok()
                .and_then(|held| held.get(&study).copied());
            // Not followed (any more, e.g. a `resyncRequired` answering a
            // subscription since dropped): nothing is accepted for it, so paging
            // would never advance.
            let Some(after) = held else {
                return Ok(());
            };
            if after.is_some_and(|last| last >= to_seq) {
                return Ok(());
            }
            let query = ChatQuery {
                after: Some(after.unwrap_or(0)),
                before: None,
                limit: Some(crate::service::chat::PAGE_MAX),
            };
            let page = match self.api.messages(study, &query).await {
                Ok(page) => page,
                // Busy or broken, not only unreachable: delivering the message
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
            let Some(last) = page.items.last().map(|m| m.seq) else {
                return Ok(());
            };
            for message in page.items {
                if message.seq <= to_seq {
                    self.accept(message).await?;
                }
            }
            if !page.has_newer || last >= to_seq {
                return Ok(());
            }
        }
    }
}

async fn send(socket: &mut Socket, frame: &ClientFrame) -> Result<()> {
    let text = serde_json::to_string(frame).map_err(|e| Error::Internal(e.to_string()))?;
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|e| Error::Transport(e.to_string()))
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
        CloseCode::Library(close::UNAUTHORIZED) | CloseCode::Library(close::SESSION_ENDED) => {
            Ended::Stop(Error::Unauthorized("the session ended"))
        }
        CloseCode::Library(close::UNSUPPORTED_VERSION) => Ended::Stop(Error::Remote {
            status: 0,
            code: ErrorCode::Validation,
            server_code: "UNSUPPORTED_VERSION".into(),
            message: reason,
            field: None,
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
