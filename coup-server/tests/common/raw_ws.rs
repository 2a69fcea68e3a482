//! A WebSocket client at the byte level, for frames no well-behaved library
//! sends: invalid UTF-8, reserved bits, unknown opcodes, fragmented control
//! frames, bad close codes.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Server;

pub struct RawWs {
    tcp: TcpStream,
    /// Bytes read past the handshake, not yet parsed.
    buffer: Vec<u8>,
}

/// What the server sent, frame by frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    Text(String),
    /// A close frame and its code (`None` without one).
    Close(Option<u16>),
    Other(u8),
    /// The TCP connection ended.
    Eof,
}

impl RawWs {
    /// Opens `/ws` and completes the upgrade.
    pub async fn open(srv: &Server) -> Self {
        let addr = srv.base.trim_start_matches("http://").to_owned();
        let mut tcp = TcpStream::connect(&addr).await.expect("connect");
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.expect("upgrade");
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 1024];
        let end = loop {
            let n = tcp.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed during the upgrade");
            buffer.extend_from_slice(&chunk[..n]);
            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
        };
        let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        buffer.drain(..end);
        Self { tcp, buffer }
    }

    /// Sends one frame as given: the first byte (FIN, RSV, opcode) and the
    /// payload, masked as a client must.
    pub async fn frame(&mut self, first: u8, payload: &[u8]) {
        let mask = [0x12u8, 0x34, 0x56, 0x78];
        let mut out = vec![first];
        match payload.len() {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n <= u16::MAX as usize => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        // The server may already have closed; what it sent is read next.
        let _ = self.tcp.write_all(&out).await;
    }

    /// A text frame.
    pub async fn text(&mut self, text: &str) {
        self.frame(0x81, text.as_bytes()).await;
    }

    /// The next frame the server sends (or the end of the connection).
    pub async fn recv(&mut self) -> Received {
        loop {
            if let Some((frame, used)) = parse(&self.buffer) {
                self.buffer.drain(..used);
                return frame;
            }
            let mut chunk = [0u8; 4096];
            match tokio::time::timeout(Duration::from_secs(10), self.tcp.read(&mut chunk))
                .await
                .expect("the server answers within 10 s")
            {
                Ok(0) | Err(_) => return Received::Eof,
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads until the server's close frame; returns its code, and asserts the
    /// server then ends the TCP connection (it does not reset it first: the close
    /// frame arrived).
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match self.recv().await {
                Received::Close(code) => {
                    // Answer the close, as a client does, then expect the end.
                    self.frame(0x88, &code.unwrap_or(1000).to_be_bytes()).await;
                    loop {
                        if self.recv().await == Received::Eof {
                            return code;
                        }
                    }
                }
                Received::Eof => panic!("the connection ended without a close frame"),
                _ => {}
            }
        }
    }
}

/// One unmasked server frame from the front of `bytes`, and how many bytes it took.
fn parse(bytes: &[u8]) -> Option<(Received, usize)> {
    let (first, second) = (*bytes.first()?, *bytes.get(1)?);
    let (len, mut at) = match second & 0x7f {
        126 => (
            u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?]) as usize,
            4,
        ),
        127 => {
            let raw: [u8; 8] = bytes.get(2..10)?.try_into().ok()?;
            (u64::from_be_bytes(raw) as usize, 10)
        }
        n => (n as usize, 2),
    };
    let payload = bytes.get(at..at + len)?;
    at += len;
    let frame = match first & 0x0f {
        0x1 => Received::Text(String::from_utf8_lossy(payload).into_owned()),
        0x8 => Received::Close(
            (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]])),
        ),
        other => Received::Other(other),
    };
    Some((frame, at))
}
