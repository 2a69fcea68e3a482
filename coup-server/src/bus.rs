//! The Redis bus (`--redis`): nodes share Redis pub/sub channels. Each node
//! publishes what its hub shares ([`ClusterMessage`]: committed events, presence,
//! typing, calls, signals, heartbeats) and applies what the other nodes publish,
//! so members connected to different nodes see each other live.
//!
//! Each message goes on its channel ([`ClusterMessage::channel`], which says
//! why): node-level messages, presence, calls and user-directed events on the
//! base channel (`redis_channel`), a study's chat, typing and signals on
//! `{redis_channel}:study:{id}`. A node listens to the base channel and to the
//! channels of the studies it has local subscribers of — the core's
//! [`coup_core::realtime::cluster::Interest`] — so it receives only the traffic
//! of those studies. Plain channels rather than Redis 7's sharded pub/sub: on one
//! Redis they cost the same, and sharded channels pay only with a Redis Cluster
//! (each shard carrying its own channels), where one connection per shard would
//! be needed; a node's subscription is one `SUBSCRIBE` on one connection here.
//!
//! The subscriber reconciles Redis with the interest whenever it changes:
//! `UNSUBSCRIBE`s what is no longer wanted, `SUBSCRIBE`s what is new, and only
//! after Redis confirmed tells the hub, whose replays wait for it before reading
//! the store (so no change committed elsewhere falls between a catch-up read and
//! the subscription). Commands and messages share one connection, and Redis
//! keeps one publisher's messages in order for a subscriber across channels.
//!
//! Each message names its node, so a node never applies its own twice. The
//! publisher and the subscriber reconnect by themselves when Redis restarts; on
//! every (re)connection the subscriber subscribes the base channel and every
//! watched study channel afresh, then the node says `hello` with its live state
//! and peers answer with theirs. Chat events published while a node was cut off
//! are recovered by clients through resume (sequence numbers). A heartbeat every
//! `refresh` keeps this node alive in its peers' eyes; peers silent past `expiry`
//! are dropped with their users' presence and calls.

use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::HashMap;

use coup_core::ids::StudyId;
use coup_core::realtime::cluster::{Channel, ClusterMessage, NodeId, Ticket};
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
    /// The base pub/sub channel the nodes of one deployment share (study
    /// channels are named after it).
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
        // What was committed before leaving still goes out to the peers.
        let _ = tokio::time::timeout(wait, self.hub.fanned_out()).await;
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
        let message_channel = message.channel();
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
            let to = message_channel.name(&channel);
            match conn.publish::<_, _, ()>(&to, &text).await {
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
        match listen(&client, &channel, node, &hub, &outbox).await {
            Ok(Listening::Closed) => return,
            Ok(Listening::Lost) => tracing::warn!("lost the Redis bus; reconnecting"),
            Err(e) => tracing::warn!(error = %e, "Redis bus unavailable; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// How a connection to the bus ended.
enum Listening {
    /// Redis went away: reconnect.
    Lost,
    /// The node left the bus.
    Closed,
}

/// One connection of the subscriber: subscribes the base channel and the watched
/// study channels, joins the bus, then applies peers' messages and follows the
/// interest until the connection breaks.
async fn listen(
    client: &redis::Client,
    channel: &str,
    node: NodeId,
    hub: &Arc<Hub>,
    outbox: &mpsc::WeakSender<ClusterMessage>,
) -> redis::RedisResult<Listening> {
    let (mut sink, mut messages) = client.get_async_pubsub().await?.split();
    sink.subscribe(channel).await?;
    // What Redis listens to for this node: each study channel with the watch
    // it was subscribed for.
    let mut listening: HashMap<StudyId, Ticket> = HashMap::new();
    let all = hub.interest();
    follow(
        &mut sink,
        channel,
        hub,
        &mut listening,
        all.into_iter().map(|(s, t)| (s, Some(t))),
    )
    .await?;
    tracing::info!(studies = listening.len(), "subscribed to the Redis bus");
    // Trade snapshots: what peers changed while this node was cut off (or
    // before it started) is replaced by their current state.
    match outbox.upgrade() {
        Some(outbox) => hub.join_bus(outbox),
        None => return Ok(Listening::Closed),
    }
    loop {
        tokio::select! {
            message = messages.next() => {
                let Some(message) = message else {
                    return Ok(Listening::Lost);
                };
                let Ok(envelope) =
                    serde_json::from_slice::<Envelope>(message.get_payload_bytes())
                else {
                    metrics::counter!("coup_bus_bad_messages_total").increment(1);
                    continue;
                };
                if envelope.node != node {
                    metrics::counter!("coup_bus_received_total", "kind" => envelope.message.kind())
                        .increment(1);
                    hub.apply(envelope.node, envelope.message, Instant::now());
                }
            }
            () = hub.interest_changed() => {
                let changes = hub.interest_changes();
                follow(&mut sink, channel, hub, &mut listening, changes.into_iter()).await?;
            }
        }
    }
}

/// Brings Redis in line with changes of the interest (each study with its
/// current watch, `None`: unwatched), then confirms the watches to the hub.
async fn follow(
    sink: &mut redis::aio::PubSubSink,
    channel: &str,
    hub: &Hub,
    listening: &mut HashMap<StudyId, Ticket>,
    changes: impl Iterator<Item = (StudyId, Option<Ticket>)>,
) -> redis::RedisResult<()> {
    let (mut subscribe, mut unsubscribe, mut confirm) = (Vec::new(), Vec::new(), Vec::new());
    for (study, ticket) in changes {
        match (ticket, listening.contains_key(&study)) {
            // Unwatched and watched again since the last look: Redis has
            // listened all along.
            (Some(ticket), true) => confirm.push((study, ticket)),
            (Some(ticket), false) => {
                subscribe.push(study);
                confirm.push((study, ticket));
            }
            (None, true) => unsubscribe.push(study),
            (None, false) => {}
        }
    }
    let names = |studies: &[StudyId]| -> Vec<String> {
        studies
            .iter()
            .map(|study| Channel::Study(*study).name(channel))
            .collect()
    };
    if !unsubscribe.is_empty() {
        sink.unsubscribe(names(&unsubscribe)).await?;
    }
    if !subscribe.is_empty() {
        sink.subscribe(names(&subscribe)).await?;
    }
    for study in &unsubscribe {
        listening.remove(study);
    }
    listening.extend(confirm.iter().copied());
    metrics::gauge!("coup_bus_study_channels").set(listening.len() as f64);
    hub.watched(&confirm);
    Ok(())
}
