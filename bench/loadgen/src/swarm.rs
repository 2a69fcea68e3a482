//! A swarm of WebSocket clients, cheap enough to hold 19,000 in one process: one
//! task per connection, small tungstenite buffers, and source addresses spread over
//! 127.0.0.1–127.0.0.32 so that no single address runs out of ephemeral ports.
//!
//! Each client speaks either CoUp's protocol (`hello`, `subscribe`, `send`) or
//! Engine.IO v4 / Socket.IO v5 over the websocket transport (open packet, namespace
//! connect with an auth payload, `join` with an acknowledgement, `chat` events,
//! answering the server's pings). A chat message carries the time it was sent, in
//! microseconds since the swarm started; every receiver, the sender included,
//! records the delay to its arrival.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::seed::Room;
use crate::server::Target;

/// Source addresses used round-robin (all of 127.0.0.0/8 is loopback on Linux).
const SOURCE_ADDRESSES: u8 = 32;
/// Connections being opened at once during the ramp.
const RAMP_CONCURRENCY: usize = 200;
/// How long one connection may take to connect, authenticate and join its room.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest latency recorded (anything later is clamped to it): two minutes.
const MAX_LATENCY_US: u64 = 120_000_000;

/// What every client should be doing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Connected, sending nothing.
    Quiet,
    /// Each client sends one message per `interval`, starting at a staggered
    /// offset so the swarm's sends are spread evenly over the interval.
    Send { interval: Duration },
    /// Close and end.
    Stop,
}

/// What the swarm measured since the last [`Swarm::take`].
#[derive(Debug)]
pub struct Tally {
    pub sent: u64,
    pub expected: u64,
    pub received: u64,
    pub latency_us: Histogram<u64>,
}

/// Counters shared by every client of the swarm.
struct Shared {
    start: Instant,
    target: Target,
    latency_us: Mutex<Histogram<u64>>,
    received: AtomicU64,
    sent_per_room: Vec<AtomicU64>,
    live_per_room: Vec<AtomicU64>,
    connected: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    first_failure: Mutex<Option<String>>,
}

impl Shared {
    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn delivered(&self, stamp_us: u64) {
        let delay = self
            .now_us()
            .saturating_sub(stamp_us)
            .clamp(1, MAX_LATENCY_US);
        if let Ok(mut h) = self.latency_us.lock() {
            h.saturating_record(delay);
        }
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    fn failed(&self, why: &anyhow::Error) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_failure.lock() {
            first.get_or_insert_with(|| format!("{why:#}"));
        }
    }
}

/// The clients of one scenario.
pub struct Swarm {
    shared: Arc<Shared>,
    phase: watch::Sender<Phase>,
    tasks: JoinSet<()>,
    size: usize,
}

/// One client's assignment.
struct Plan {
    index: usize,
    size: usize,
    room: usize,
    room_id: String,
    token: String,
    source: Ipv4Addr,
}

impl Swarm {
    /// Opens `size` connections to `addr`, filling `rooms` one after the other, and
    /// returns once every connection is ready or has failed.
    pub async fn connect(
        target: Target,
        addr: SocketAddr,
        rooms: &[Room],
        size: usize,
        progress: &ProgressBar,
    ) -> Result<Self> {
        let room_size = rooms.first().map_or(0, |r| r.tokens.len());
        if room_size == 0 || rooms.len() * room_size < size {
            bail!(
                "{size} clients need more than {} rooms of {room_size}",
                rooms.len()
            );
        }
        let shared = Arc::new(Shared {
            start: Instant::now(),
            target,
            latency_us: Mutex::new(new_histogram()),
            received: AtomicU64::new(0),
            sent_per_room: rooms.iter().map(|_| AtomicU64::new(0)).collect(),
            live_per_room: rooms.iter().map(|_| AtomicU64::new(0)).collect(),
            connected: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            first_failure: Mutex::new(None),
        });
        let (phase, phase_rx) = watch::channel(Phase::Quiet);
        let ramp = Arc::new(Semaphore::new(RAMP_CONCURRENCY));
        let mut tasks = JoinSet::new();
        for index in 0..size {
            let room = index / room_size;
            let plan = Plan {
                index,
                size,
                room,
                room_id: rooms[room].study_id.clone(),
                token: rooms[room].tokens[index % room_size].clone(),
                source: Ipv4Addr::new(127, 0, 0, 1 + (index % SOURCE_ADDRESSES as usize) as u8),
            };
            tasks.spawn(client(
                plan,
                addr,
                shared.clone(),
                phase_rx.clone(),
                ramp.clone(),
            ));
        }
        progress.set_length(size as u64);
        loop {
            let done =
                shared.connected.load(Ordering::Relaxed) + shared.failed.load(Ordering::Relaxed);
            progress.set_position(done);
            if done >= size as u64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Self {
            shared,
            phase,
            tasks,
            size,
        })
    }

    /// Tells every client what to do now.
    pub fn set_phase(&self, phase: Phase) {
        self.phase.send_replace(phase);
    }

    /// Connections that completed the handshake.
    pub fn connected(&self) -> u64 {
        self.shared.connected.load(Ordering::Relaxed)
    }

    /// Connections that could not be opened or authenticated.
    pub fn failed(&self) -> u64 {
        self.shared.failed.load(Ordering::Relaxed)
    }

    /// Ready connections that the server closed or that broke.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Why the first failed connection failed.
    pub fn first_failure(&self) -> Option<String> {
        self.shared
            .first_failure
            .lock()
            .ok()
            .and_then(|f| f.clone())
    }

    /// Clients in the swarm.
    pub fn size(&self) -> usize {
        self.size
    }

    /// What was sent and received since the last call, and resets the counts. Call
    /// it when nothing is in flight (after a quiet pause).
    pub fn take(&self) -> Tally {
        let mut sent = 0;
        let mut expected = 0;
        for (room_sent, live) in self
            .shared
            .sent_per_room
            .iter()
            .zip(&self.shared.live_per_room)
        {
            let n = room_sent.swap(0, Ordering::Relaxed);
            sent += n;
            expected += n * live.load(Ordering::Relaxed);
        }
        let latency_us = self
            .shared
            .latency_us
            .lock()
            .map(|mut h| std::mem::replace(&mut *h, new_histogram()))
            .unwrap_or_else(|_| new_histogram());
        Tally {
            sent,
            expected,
            received: self.shared.received.swap(0, Ordering::Relaxed),
            latency_us,
        }
    }

    /// Closes every connection and waits for the clients to end.
    pub async fn stop(mut self) {
        self.set_phase(Phase::Stop);
        let all_done = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(20), all_done)
            .await
            .is_err()
        {
            self.tasks.abort_all();
        }
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("constant histogram bounds are valid")
}

type Socket = WebSocketStream<TcpStream>;

/// One client, from connect to close.
async fn client(
    plan: Plan,
    addr: SocketAddr,
    shared: Arc<Shared>,
    mut phase: watch::Receiver<Phase>,
    ramp: Arc<Semaphore>,
) {
    let opened = {
        let Ok(_permit) = ramp.acquire().await else {
            return;
        };
        tokio::time::timeout(HANDSHAKE_TIMEOUT, open(shared.target, addr, &plan))
            .await
            .unwrap_or_else(|_| Err(anyhow!("handshake timed out")))
    };
    let mut ws = match opened {
        Ok(ws) => ws,
        Err(e) => {
            shared.failed(&e);
            return;
        }
    };
    shared.live_per_room[plan.room].fetch_add(1, Ordering::Relaxed);
    shared.connected.fetch_add(1, Ordering::Relaxed);
    let broke = run(&mut ws, &plan, &shared, &mut phase).await.is_err();
    shared.live_per_room[plan.room].fetch_sub(1, Ordering::Relaxed);
    if broke {
        shared.dropped.fetch_add(1, Ordering::Relaxed);
    } else {
        let _ = tokio::time::timeout(Duration::from_secs(5), ws.close(None)).await;
    }
}

/// Connects from the plan's source address, then authenticates and joins the room.
async fn open(target: Target, addr: SocketAddr, plan: &Plan) -> Result<Socket> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((plan.source, 0)))?;
    let stream = socket.connect(addr).await.context("connect")?;
    stream.set_nodelay(true)?;
    let url = match target {
        Target::Coup => format!("ws://{addr}/ws"),
        Target::Socketio => format!("ws://{addr}/socket.io/?EIO=4&transport=websocket"),
    };
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
        .await
        .context("websocket upgrade")?;
    match target {
        Target::Coup => {
            let hello = format!(r#"{{"type":"hello","version":1,"token":"{}"}}"#, plan.token);
            ws.send(Message::text(hello)).await?;
            expect(&mut ws, |t| t.starts_with(r#"{"type":"welcome""#)).await?;
            let subscribe = format!(
                r#"{{"type":"subscribe","requestId":"s","studyId":"{}"}}"#,
                plan.room_id
            );
            ws.send(Message::text(subscribe)).await?;
            expect(&mut ws, |t| t.starts_with(r#"{"type":"subscribed""#)).await?;
        }
        Target::Socketio => {
            expect(&mut ws, |t| t.starts_with('0')).await?;
            ws.send(Message::text(format!(r#"40{{"token":"{}"}}"#, plan.token)))
                .await?;
            expect(&mut ws, |t| t.starts_with("40")).await?;
            ws.send(Message::text(format!(r#"420["join","{}"]"#, plan.room_id)))
                .await?;
            expect(&mut ws, |t| t.starts_with("430")).await?;
        }
    }
    Ok(ws)
}

/// Reads until a text frame passes `wanted`; an `error` frame or a close fails.
async fn expect(ws: &mut Socket, wanted: impl Fn(&str) -> bool) -> Result<()> {
    while let Some(frame) = ws.next().await {
        match frame? {
            Message::Text(text) if wanted(text.as_str()) => return Ok(()),
            Message::Text(text)
                if text.starts_with(r#"{"type":"error""#) || text.starts_with("44") =>
            {
                bail!("refused: {}", text.as_str())
            }
            Message::Close(frame) => bail!("closed: {frame:?}"),
            _ => {}
        }
    }
    bail!("connection ended during the handshake")
}

/// The client's life after the handshake. `Err` when the connection broke before
/// it was told to stop.
async fn run(
    ws: &mut Socket,
    plan: &Plan,
    shared: &Shared,
    phase: &mut watch::Receiver<Phase>,
) -> Result<()> {
    let mut sent = 0u64;
    let mut next_send: Option<tokio::time::Instant> = None;
    let mut current = *phase.borrow_and_update();
    loop {
        if let Phase::Send { interval } = current
            && next_send.is_none()
        {
            let offset = interval.mul_f64(plan.index as f64 / plan.size as f64);
            next_send = Some(tokio::time::Instant::now() + offset);
        }
        let send_at =
            next_send.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            frame = ws.next() => {
                let frame = frame.ok_or_else(|| anyhow!("closed by the server"))??;
                match frame {
                    Message::Text(text) => on_text(ws, shared, text.as_str()).await?,
                    Message::Close(_) => bail!("closed by the server"),
                    _ => {}
                }
            }
            () = tokio::time::sleep_until(send_at), if next_send.is_some() => {
                let Phase::Send { interval } = current else { continue };
                let frame = chat_frame(shared, plan, sent);
                ws.send(Message::text(frame)).await?;
                sent += 1;
                shared.sent_per_room[plan.room].fetch_add(1, Ordering::Relaxed);
                next_send = Some(send_at + interval);
            }
            changed = phase.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                current = *phase.borrow_and_update();
                next_send = None;
                if current == Phase::Stop {
                    return Ok(());
                }
            }
        }
    }
}

fn chat_frame(shared: &Shared, plan: &Plan, sent: u64) -> String {
    let stamp = shared.now_us();
    match shared.target {
        Target::Coup => format!(
            r#"{{"type":"send","studyId":"{}","content":"b:{stamp}","clientId":"{}-{sent}"}}"#,
            plan.room_id, plan.index
        ),
        Target::Socketio => format!(
            r#"42["chat",{{"room":"{}","content":"b:{stamp}"}}]"#,
            plan.room_id
        ),
    }
}

/// Records a delivered chat message; answers Engine.IO pings.
async fn on_text(ws: &mut Socket, shared: &Shared, text: &str) -> Result<()> {
    let delivery = match shared.target {
        Target::Coup => text.starts_with(r#"{"type":"message""#),
        Target::Socketio => {
            if text == "2" {
                ws.send(Message::text("3")).await?;
                return Ok(());
            }
            text.starts_with(r#"42["chat""#)
        }
    };
    if delivery && let Some(stamp) = stamp_of(text) {
        shared.delivered(stamp);
    }
    Ok(())
}

/// The send time carried in a chat message's content (`"content":"b:<µs>"`).
fn stamp_of(text: &str) -> Option<u64> {
    let at = text.find(r#""content":"b:"#)? + r#""content":"b:"#.len();
    let digits = &text[at..];
    let end = digits.find(|c: char| !c.is_ascii_digit())?;
    digits[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_read_from_both_protocols() {
        let coup = r#"{"type":"message","message":{"id":"x","seq":3,"content":"b:123456","clientId":"1-0"}}"#;
        assert_eq!(stamp_of(coup), Some(123_456));
        let sio = r#"42["chat",{"room":"room-1","content":"b:98"}]"#;
        assert_eq!(stamp_of(sio), Some(98));
        assert_eq!(
            stamp_of(r#"{"type":"message","message":{"content":"hi"}}"#),
            None
        );
        assert_eq!(stamp_of(r#"{"content":"b:12"#), None);
    }
}
