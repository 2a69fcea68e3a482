//! The Redis bus (`--redis`): nodes share one Redis pub/sub channel. Each node
//! publishes what its hub shares ([`ClusterMessage`]: committed events, presence,
//! typing, calls, signals, heartbeats) and applies what the other nodes publish,
//! so members connected to different nodes see each other live.
//!
//! Each message names its node, so a node never applies its own twice. The
//! publisher and the subscriber reconnect by themselves when Redis restarts; on
//! every (re)subscription the node says `hello` with its live state and peers
//! answer with theirs. Chat events published while a node was cut off are
//! recovered by clients through resume (sequence numbers). A heartbeat every
//! `refresh` keeps this node alive in its peers' eyes; peers silent past `expiry`
//! are dropped with their users' presence and calls.

use std::sync::Arc;
use std::time::{Duration, Instant};

use coup_core::realtime::cluster::{ClusterMessage, NodeId};
use futures_util::StreamExt;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::gateway::hub::Hub;

/// Messages waiting for the publisher before new ones are dropped (and counted).
const OUTBOX: usize = 10_000;

#[derive(Serialize, Deserialize)]
struct Envelope {
    node: NodeId,
    message: ClusterMessage,
}

/// Bus settings.
#[derive(Debug, Clone)]
pub struct BusSettings {
    /// Redis URL.
    pub url: String,
    /// The pub/sub channel the nodes of one deployment share.
    pub channel: String,
    /// Time between heartbeats.
    pub refresh: Duration,
    /// Silence after which a peer counts as dead.
    pub expiry: Duration,
}

/// A node joined to the bus.
pub struct Bus {
    hub: Arc<Hub>,
    /// Keeps the publisher's queue open until the node leaves (the subscriber
    /// holds only a weak handle to it).
    outbox: std::sync::Mutex<Option<mpsc::Sender<ClusterMessage>>>,
    /// Fires when the publisher has sent everything queued before leaving.
    flushed: tokio::sync::Mutex<Option<oneshot::Receiver<()>>>,
}

impl Bus {
    /// Leaves the bus for shutdown: peers forget this node's users at once rather
    /// than after the expiry. Waits (up to `wait`) for queued messages to go out.
    pub async fn leave(&self, wait: Duration) {
        self.hub.leave_bus();
        drop(self.outbox.lock().unwrap_or_else(|p| p.into_inner()).take());
        if let Some(flushed) = self.flushed.lock().await.take() {
            let _ = tokio::time::timeout(wait, flushed).await;
        }
    }
}

/// Joins `hub` to the bus: spawns the publisher, the subscriber and the heartbeat.
pub fn connect(settings: BusSettings, hub: Arc<Hub>) -> Result<Bus, redis::RedisError> {
    let client = redis::Client::open(settings.url.as_str())?;
    let node = hub.node();
    let (tx, rx) = mpsc::channel(OUTBOX);
    let (flushed_tx, flushed) = oneshot::channel();
    tokio::spawn(publisher(
        client.clone(),
        settings.channel.clone(),
        node,
        rx,
        flushed_tx,
    ));
    tokio::spawn(subscriber(
        client,
        settings.channel,
        node,
        hub.clone(),
        tx.downgrade(),
    ));
    tokio::spawn(heartbeat(
        Arc::downgrade(&hub),
        settings.refresh,
        settings.expiry,
    ));
    tracing::info!(%node, "joining the Redis bus");
    Ok(Bus {
        hub,
        outbox: std::sync::Mutex::new(Some(tx)),
        flushed: tokio::sync::Mutex::new(Some(flushed)),
    })
}

async fn heartbeat(hub: std::sync::Weak<Hub>, refresh: Duration, expiry: Duration) {
    let mut tick = tokio::time::interval(refresh);
    loop {
        tick.tick().await;
        match hub.upgrade() {
            Some(hub) => hub.cluster_tick(Instant::now(), expiry),
            None => return,
        }
    }
}

async fn publisher(
    client: redis::Client,
    channel: String,
    node: NodeId,
    mut outbox: mpsc::Receiver<ClusterMessage>,
    flushed: oneshot::Sender<()>,
) {
    let mut connection = None;
    while let Some(message) = outbox.recv().await {
        let Ok(text) = serde_json::to_string(&Envelope { node, message }) else {
            metrics::counter!("coup_bus_dropped_total").increment(1);
            continue;
        };
        loop {
            if connection.is_none() {
                match redis::aio::ConnectionManager::new(client.clone()).await {
                    Ok(c) => connection = Some(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "Redis unreachable; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                }
            }
            let Some(conn) = connection.as_mut() else {
                continue;
            };
            match conn.publish::<_, _, ()>(&channel, &text).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "Redis publish failed; retrying");
                    metrics::counter!("coup_bus_publish_errors_total").increment(1);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }
    let _ = flushed.send(());
}

async fn subscriber(
    client: redis::Client,
    channel: String,
    node: NodeId,
    hub: Arc<Hub>,
    outbox: mpsc::WeakSender<ClusterMessage>,
) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    tracing::info!("subscribed to the Redis bus");
                    // Trade snapshots: what peers changed while this node was cut
                    // off (or before it started) is replaced by their current state.
                    match outbox.upgrade() {
                        Some(outbox) => hub.join_bus(outbox),
                        None => return,
                    }
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let Ok(envelope) =
                            serde_json::from_slice::<Envelope>(message.get_payload_bytes())
                        else {
                            metrics::counter!("coup_bus_bad_messages_total").increment(1);
                            continue;
                        };
                        if envelope.node != node {
                            hub.apply(envelope.node, envelope.message, Instant::now());
                        }
                    }
                    tracing::warn!("lost the Redis bus; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "cannot subscribe to the Redis bus"),
            },
            Err(e) => tracing::warn!(error = %e, "Redis unreachable; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
