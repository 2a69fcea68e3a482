//! The floor of a chat scenario: what it costs this machine just to write one
//! small WebSocket frame per delivery to as many loopback sockets, at the same
//! delivery rate. A server would do at least this; CoUp's and Socket.IO's server
//! CPU per delivery are judged against it (BENCHMARKS.md).
//!
//! The floor server (`coup-loadgen floor-server`, a process of its own so its
//! CPU is read from `/proc` as the others' is) accepts the connections, waits
//! for the go byte, then for the send phase writes each room's message to its
//! members, paced like the chat scenario (every client's message once per
//! interval, so `clients / interval` messages per second, each to a room of
//! `room_size`). There is no protocol beyond the frame: no reading, no
//! handshake, no per-connection queue, no task per connection — one thread and
//! one `write` per delivery, on non-blocking sockets. The frame carries the
//! time it was written (microseconds since the Unix epoch, as every process of
//! the machine reads it) so the clients also record latency.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpSocket;
use tokio::process::Command;
use tokio::sync::Semaphore;

use crate::scenario::{Measurement, Settings, Span, latency_ms};
use crate::server::rss_bytes;

/// Bytes of a frame's payload: about a CoUp chat frame (ids, author, body, times).
pub const PAYLOAD_BYTES: usize = 256;
/// Where the send time sits in the payload, and its width in digits.
const STAMP_AT: usize = 8;
const STAMP_DIGITS: usize = 20;
/// A text frame of [`PAYLOAD_BYTES`]: FIN + text opcode, then a 16-bit length.
const HEADER: [u8; 4] = [
    0x81,
    126,
    (PAYLOAD_BYTES >> 8) as u8,
    (PAYLOAD_BYTES & 0xff) as u8,
];
const FRAME_BYTES: usize = HEADER.len() + PAYLOAD_BYTES;
/// Source addresses used round-robin, as the swarm does.
const SOURCE_ADDRESSES: u8 = 32;
/// Largest latency recorded: two minutes.
const MAX_LATENCY_US: u64 = 120_000_000;

/// What the floor server is asked to do.
#[derive(Debug, Clone, clap::Args)]
pub struct FloorPlan {
    /// Connections to accept before the go byte.
    #[arg(long)]
    pub connections: usize,
    /// Members of each room (consecutive connections).
    #[arg(long)]
    pub room_size: usize,
    /// Every connection's message once per this many milliseconds.
    #[arg(long)]
    pub interval_ms: u64,
    /// Seconds of sending.
    #[arg(long)]
    pub send_secs: u64,
}

fn unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// A frame stamped with `now_us`.
fn frame(now_us: u64) -> [u8; FRAME_BYTES] {
    let mut frame = [b' '; FRAME_BYTES];
    frame[..HEADER.len()].copy_from_slice(&HEADER);
    let payload = &mut frame[HEADER.len()..];
    payload[..STAMP_AT].copy_from_slice(br#"{"sent":"#);
    let digits = format!("{now_us:0STAMP_DIGITS$}");
    payload[STAMP_AT..STAMP_AT + STAMP_DIGITS].copy_from_slice(digits.as_bytes());
    payload[PAYLOAD_BYTES - 1] = b'}';
    frame
}

/// The send time in a frame's payload.
fn stamp(payload: &[u8]) -> Option<u64> {
    std::str::from_utf8(payload.get(STAMP_AT..STAMP_AT + STAMP_DIGITS)?)
        .ok()?
        .parse()
        .ok()
}

/// The floor server: prints `listening PORT`, accepts the connections, waits for
/// the go byte on stdin, sends for the send phase, prints `sent MESSAGES
/// DELIVERIES REFUSED` and keeps the sockets open until stdin closes. (The go
/// byte once came on the first accepted socket, but the clients connect
/// concurrently: the first accepted is not always the one that sent it, and
/// the floor then waited for ever.)
pub fn serve(plan: &FloorPlan) -> Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("listening {}", listener.local_addr()?.port());
    std::io::stdout().flush()?;
    let mut sockets = Vec::with_capacity(plan.connections);
    while sockets.len() < plan.connections {
        let (socket, _) = listener.accept()?;
        socket.set_nodelay(true)?;
        sockets.push(socket);
    }
    let mut go = [0u8; 1];
    std::io::stdin()
        .read_exact(&mut go)
        .context("waiting for the go byte")?;
    for socket in &sockets {
        socket.set_nonblocking(true)?;
    }
    let room_size = plan.room_size.max(1);
    let rooms = plan.connections.div_ceil(room_size);
    let rate = plan.connections as f64 / (plan.interval_ms.max(1) as f64 / 1000.0);
    let total = (rate * plan.send_secs as f64) as u64;
    let (mut sent, mut deliveries, mut refused) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    while sent < total {
        let due = ((started.elapsed().as_secs_f64() * rate) as u64).min(total);
        while sent < due {
            let room = sent as usize % rooms;
            let frame = frame(unix_us());
            let members = room * room_size..((room + 1) * room_size).min(sockets.len());
            for mut socket in &sockets[members] {
                match socket.write(&frame) {
                    Ok(n) if n == frame.len() => deliveries += 1,
                    // A partial write would break the framing of the rest:
                    // counted, and never seen at the rates measured.
                    _ => refused += 1,
                }
            }
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    println!("sent {sent} {deliveries} {refused}");
    std::io::stdout().flush()?;
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    Ok(())
}

/// What the clients of the floor saw.
struct Seen {
    received: AtomicU64,
    latency_us: std::sync::Mutex<Histogram<u64>>,
    broken: AtomicU64,
}

/// Runs the floor of `chat-<clients>` and measures it as the chat scenario is
/// measured: server CPU over the send phase and the settling after it.
pub async fn run(clients: usize, settings: &Settings) -> Result<Measurement> {
    let plan = FloorPlan {
        connections: clients,
        room_size: settings.room_size,
        interval_ms: settings.interval_ms,
        send_secs: settings.send_secs,
    };
    let mut child = Command::new(std::env::current_exe()?)
        .arg("floor-server")
        .args(["--connections", &plan.connections.to_string()])
        .args(["--room-size", &plan.room_size.to_string()])
        .args(["--interval-ms", &plan.interval_ms.to_string()])
        .args(["--send-secs", &plan.send_secs.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting the floor server")?;
    let pid = child.id().unwrap_or(0);
    let mut lines = BufReader::new(child.stdout.take().context("floor stdout")?).lines();
    let port: u16 = match lines.next_line().await? {
        Some(line) if line.starts_with("listening ") => line["listening ".len()..].parse()?,
        _ => bail!("the floor server did not say where it listens"),
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut m = Measurement {
        scenario: crate::scenario::Scenario::Chat(clients).to_string(),
        target: "floor".to_owned(),
        clients: clients as u64,
        rss_base_mb: rss_bytes(pid) as f64 / 1e6,
        ..Measurement::default()
    };

    let seen = Arc::new(Seen {
        received: AtomicU64::new(0),
        latency_us: std::sync::Mutex::new(
            Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid bounds"),
        ),
        broken: AtomicU64::new(0),
    });
    let ramp = Arc::new(Semaphore::new(200));
    let mut connecting = tokio::task::JoinSet::new();
    for index in 0..clients {
        let ramp = ramp.clone();
        let source = Ipv4Addr::new(127, 0, 0, 1 + (index % SOURCE_ADDRESSES as usize) as u8);
        connecting.spawn(async move {
            let _permit = ramp.acquire().await?;
            let socket = TcpSocket::new_v4()?;
            socket.bind(SocketAddr::from((source, 0)))?;
            anyhow::Ok(socket.connect(addr).await?)
        });
    }
    // Write halves kept (dropping one would half-close its socket).
    let mut writers = Vec::with_capacity(clients);
    let mut readers = tokio::task::JoinSet::new();
    while let Some(opened) = connecting.join_next().await {
        let (read, write) = opened??.into_split();
        writers.push(write);
        readers.spawn(read_frames(read, seen.clone()));
    }
    m.connected = clients as u64;
    tokio::time::sleep(Duration::from_secs(3)).await;
    m.rss_idle_mb = rss_bytes(pid) as f64 / 1e6;

    let span = Span::start(pid);
    let go = child.stdin.as_mut().context("floor stdin")?;
    go.write_all(b"g").await?;
    go.flush().await?;
    let wait = Duration::from_secs(plan.send_secs + 60);
    let report = tokio::time::timeout(wait, lines.next_line())
        .await
        .context("the floor server did not finish sending")??
        .context("the floor server ended early")?;
    let numbers: Vec<u64> = report
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse().ok())
        .collect();
    let [sent, deliveries, refused] = numbers[..] else {
        bail!("unexpected report from the floor server: {report}");
    };
    let expected = deliveries + refused;
    let mut quiet_since = Instant::now();
    let mut last = 0;
    while quiet_since.elapsed() < Duration::from_secs(2) {
        let now = seen.received.load(Ordering::Relaxed);
        if now >= expected {
            break;
        }
        if now != last {
            last = now;
            quiet_since = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    span.finish(&mut m);
    m.sent = sent;
    m.expected = expected;
    m.received = seen.received.load(Ordering::Relaxed);
    m.loss_percent = if expected == 0 {
        0.0
    } else {
        expected.saturating_sub(m.received) as f64 / expected as f64 * 100.0
    };
    m.latency_ms = seen.latency_us.lock().ok().and_then(|h| latency_ms(&h));
    m.dropped = seen.broken.load(Ordering::Relaxed);
    m.rss_peak_mb = rss_bytes(pid) as f64 / 1e6;
    drop(writers);
    drop(child.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
    readers.abort_all();
    Ok(m)
}

/// Reads whole frames and records each one's delay.
async fn read_frames(mut read: tokio::net::tcp::OwnedReadHalf, seen: Arc<Seen>) {
    let mut buf = Vec::with_capacity(4 * FRAME_BYTES);
    let mut chunk = [0u8; 4096];
    loop {
        match read.read(&mut chunk).await {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => {
                seen.broken.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let whole = buf.len() / FRAME_BYTES * FRAME_BYTES;
        let now = unix_us();
        for frame in buf[..whole].chunks_exact(FRAME_BYTES) {
            if frame[..HEADER.len()] != HEADER {
                seen.broken.fetch_add(1, Ordering::Relaxed);
                return;
            }
            if let Some(sent) = stamp(&frame[HEADER.len()..])
                && let Ok(mut h) = seen.latency_us.lock()
            {
                h.saturating_record(now.saturating_sub(sent).clamp(1, MAX_LATENCY_US));
            }
            seen.received.fetch_add(1, Ordering::Relaxed);
        }
        buf.drain(..whole);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_a_text_frame_carrying_its_send_time() {
        let frame = frame(1_234_567);
        assert_eq!(frame.len(), FRAME_BYTES);
        assert_eq!(frame[0], 0x81, "FIN and text");
        let length = usize::from(u16::from_be_bytes([frame[2], frame[3]]));
        assert_eq!(length, PAYLOAD_BYTES);
        assert_eq!(stamp(&frame[HEADER.len()..]), Some(1_234_567));
        assert!(std::str::from_utf8(&frame[HEADER.len()..]).is_ok());
    }
}
