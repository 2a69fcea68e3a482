//! HTTP connections: the accept loop and what bounds a connection.
//!
//! - **A connection limit.** At most `max_connections` are open at once
//!   (WebSockets included); at the limit the loop stops accepting until one
//!   closes, so new clients wait in the kernel's backlog instead of the process
//!   running out of descriptors. By default the limit is the open-files limit
//!   (raised to its hard maximum at start) less a reserve, so the database,
//!   uploads and logs always have descriptors left.
//! - **A header timeout.** A connection must send a request's complete headers
//!   within `header_timeout_secs` of being accepted or of finishing its previous
//!   response (hyper's `header_read_timeout`): idle connections, idle keep-alive
//!   connections and half-sent headers are closed then. Request bodies are under
//!   the request timeout; upgraded WebSockets under the gateway's `hello` timeout
//!   and heartbeat.
//! - **TCP_NODELAY** on every connection: small frames must not wait for the
//!   peer's delayed ACK (up to 40 ms on Linux).
//! - **TLS, optionally** (`tls_cert` + `tls_key`): rustls (ring) terminates
//!   HTTPS and WSS on the accepted connection, the handshake bounded by the
//!   header timeout; a client that fails it is dropped.
//! - **Graceful shutdown:** on the signal the listener closes, every connection
//!   finishes its in-flight request, and [`serve`] returns when all have.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::ops::ClientAddr;

/// Descriptors kept back from connections when the limit comes from the
/// open-files limit: a tenth of it, at least this many.
pub const MIN_RESERVED_DESCRIPTORS: u64 = 64;

/// What bounds each connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most connections open at once.
    pub max_connections: usize,
    /// Time to send a request's headers (and the most a connection idles).
    pub header_timeout: Duration,
}

/// Connections the kernel completes and queues while the server is at its limit
/// (std's default backlog is 128).
pub const BACKLOG: u32 = 1024;

/// Binds a listening socket with a backlog of [`BACKLOG`].
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Raises this process's soft open-files limit to its hard limit and returns
/// the soft limit in force (`None`: unlimited or unknown).
pub fn raise_open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if let (Some(current), Some(maximum)) = (limit.current, limit.maximum)
            && current < maximum
        {
            let raised = Rlimit {
                current: Some(maximum),
                maximum: Some(maximum),
            };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::debug!("open-files limit stays at {current}: {e}");
            }
        }
        getrlimit(Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The connection limit: `configured` when it is not 0, otherwise the
/// open-files limit less a reserve of a tenth (at least
/// [`MIN_RESERVED_DESCRIPTORS`]); 65,536 when the open-files limit is unknown.
pub fn connection_limit(configured: usize, open_files: Option<u64>) -> usize {
    if configured > 0 {
        return configured;
    }
    match open_files {
        Some(files) => {
            let reserve = (files / 10).max(MIN_RESERVED_DESCRIPTORS);
            usize::try_from(files.saturating_sub(reserve).max(1)).unwrap_or(usize::MAX)
        }
        None => 65_536,
    }
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// One of the two files was given without the other.
    #[error("give both tls_cert and tls_key, or neither")]
    Incomplete,
    /// A file could not be read as PEM.
    #[error("{path}: {message}")]
    Pem {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// rustls refused the certificate and key.
    #[error("the TLS certificate or key is not usable: {0}")]
    Config(#[from] rustls::Error),
}

/// The TLS acceptor for `cert` and `key` (PEM files), or `None` for plain HTTP.
pub fn tls_acceptor(
    cert: Option<&std::path::Path>,
    key: Option<&std::path::Path>,
) -> Result<Option<tokio_rustls::TlsAcceptor>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key) = match (cert, key) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        _ => return Err(TlsError::Incomplete),
    };
    let pem = |path: &std::path::Path, e: rustls::pki_types::pem::Error| TlsError::Pem {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| pem(cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem(cert, e))?;
    if chain.is_empty() {
        return Err(TlsError::Pem {
            path: cert.to_owned(),
            message: "holds no certificate".into(),
        });
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::Pem {
            path: key.to_owned(),
            message: "holds no PEM private key".into(),
        },
        other => pem(key, other),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
}

/// Serves `app` on `listener` (over TLS with `tls`) until `shutdown` resolves,
/// then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let stop = CancellationToken::new();
    // Every connection task holds a sender; when all are dropped, all are done.
    let (alive, mut all_done) = tokio::sync::mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, addr) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or memory: wait for some to be freed
                    // rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%addr, "TCP_NODELAY not set: {e}");
        }
        let stream = CountedStream::new(stream, slot);
        let (app, stop, alive) = (app.clone(), stop.clone(), alive.clone());
        match tls.clone() {
            None => {
                tokio::spawn(connection(stream, addr, app, limits, stop, alive));
            }
            Some(tls) => {
                tokio::spawn(async move {
                    // A handshake is bounded like request headers: a client that
                    // connects and says nothing holds no slot for long.
                    match tokio::time::timeout(limits.header_timeout, tls.accept(stream)).await {
                        Ok(Ok(stream)) => connection(stream, addr, app, limits, stop, alive).await,
                        Ok(Err(e)) => tracing::debug!(%addr, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                });
            }
        }
    }
    drop(listener);
    stop.cancel();
    drop(alive);
    let _ = all_done.recv().await;
}

/// Serves one connection (and, once upgraded, hands it to the WebSocket).
async fn connection<S>(
    stream: S,
    addr: SocketAddr,
    app: Router,
    limits: Limits,
    stop: CancellationToken,
    _alive: tokio::sync::mpsc::Sender<()>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = app.map_request(move |mut request: axum::http::Request<Incoming>| {
        request
            .extensions_mut()
            .insert(ConnectInfo(ClientAddr(addr)));
        request
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = http
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.as_mut().await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%addr, "connection ended: {e}");
    }
}

/// A connection counted (in `coup_open_connections` and against the limit)
/// while it is open.
pub struct CountedStream {
    inner: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl CountedStream {
    fn new(inner: TcpStream, slot: OwnedSemaphorePermit) -> Self {
        metrics::gauge!("coup_open_connections").increment(1.0);
        Self { inner, _slot: slot }
    }
}

impl Drop for CountedStream {
    fn drop(&mut self) {
        metrics::gauge!("coup_open_connections").decrement(1.0);
    }
}

impl AsyncRead for CountedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_keeps_descriptors_in_reserve() {
        assert_eq!(connection_limit(0, Some(1024)), 922, "a tenth kept back");
        assert_eq!(connection_limit(0, Some(512)), 448, "at least 64 kept back");
        assert_eq!(connection_limit(0, Some(20)), 1, "never zero");
        assert_eq!(connection_limit(0, None), 65_536);
        assert_eq!(connection_limit(300, Some(1024)), 300, "configured wins");
    }
}
