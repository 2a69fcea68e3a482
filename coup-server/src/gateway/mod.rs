//! The real-time gateway: `GET /ws` upgrades to a WebSocket that speaks the
//! protocol defined in `coup_core::realtime::protocol`. This module only moves
//! frames: the rules (who may subscribe, what a kick means, who may be signaled)
//! are the core's.

pub mod connection;
pub mod hub;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{State, WebSocketUpgrade};
use axum::response::IntoResponse;
use axum::response::Response;
use coup_core::realtime::protocol::IceServer;

use crate::error::bad_request;
use crate::state::AppState;
use coup_core::realtime::live::LiveLimits;
use hub::Hub;

/// Initial read buffer of a connection. Client frames are small; tungstenite's
/// default (128 KiB) would cost an idle connection more than everything else it
/// holds, while a frame larger than this buffer is still read whole.
const READ_BUFFER_BYTES: usize = 256;

/// Gateway settings, from the server configuration.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Ping interval; two silent intervals close the connection.
    pub heartbeat: Duration,
    /// Outbound frames queued per connection before it counts as a slow consumer.
    pub queue_len: usize,
    /// Largest inbound frame, in bytes.
    pub max_frame_bytes: usize,
    /// Inbound frames per second per connection (bursts of twice that).
    pub frames_per_second: u32,
    /// Most missed chat changes replayed on resume; beyond, clients page over REST.
    pub replay_limit: u32,
    /// STUN/TURN servers given to call participants.
    pub ice_servers: Vec<IceServer>,
}

/// The hub and its settings.
pub struct Gateway {
    /// Live connections.
    pub hub: Arc<Hub>,
    /// Settings.
    pub settings: GatewaySettings,
}

impl Gateway {
    /// A gateway with an empty hub (and the hub's fan-out thread).
    pub fn new(
        settings: GatewaySettings,
        max_subscriptions: usize,
        call_limit: usize,
    ) -> std::io::Result<Self> {
        let limits = LiveLimits {
            max_subscriptions,
            replay_buffer: settings.queue_len,
            call_limit,
        };
        Ok(Self {
            hub: Hub::start(limits)?,
            settings,
        })
    }

    /// Expires typing indicators once a second, for as long as the hub lives.
    pub fn spawn_typing_expiry(&self) {
        let hub = Arc::downgrade(&self.hub);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                match hub.upgrade() {
                    Some(hub) => hub.expire_typing(Instant::now()),
                    None => return,
                }
            }
        });
    }
}

/// `GET /ws`: upgrades with the frame-size limit.
pub async fn upgrade(
    State(app): State<AppState>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return bad_request("upgrade", rejection.body_text()).into_response(),
    };
    let limit = app.gateway.settings.max_frame_bytes;
    // Shared: the connection's task keeps what its callback captured for as
    // long as the connection lives.
    let app = Arc::new(app);
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(READ_BUFFER_BYTES)
        // Written as sent: tungstenite keeps its write buffer's capacity for the
        // connection's life, so it should never grow past the largest frame.
        .write_buffer_size(0)
        .on_upgrade(move |socket| connection::run(socket, app))
}
