//! The Redis bus (`--redis`): every node publishes the events it commits to one
//! Redis pub/sub channel and delivers the events other nodes published to its own
//! connections, so members connected to different nodes see each other live.
//!
//! The core calls [`Fanout`] after each commit; it delivers locally and queues the
//! batch for the publisher without blocking. Each batch names its node, so a node
//! never delivers its own events twice. Both the publisher and the subscriber
//! reconnect by themselves when Redis restarts; events published while a node was
//! cut off are recovered by clients through resume (sequence numbers).

use std::sync::Arc;
use std::time::Duration;

use coup_core::EventSink;
use coup_core::events::DomainEvent;
use futures_util::StreamExt;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::gateway::hub::Hub;

/// Batches waiting for the publisher before new ones are dropped (and counted).
const OUTBOX: usize = 10_000;

#[derive(Serialize, Deserialize)]
struct Envelope {
    node: uuid::Uuid,
    events: Vec<DomainEvent>,
}

/// The core's event sink: this node's hub, then the bus.
pub struct Fanout {
    hub: Arc<Hub>,
    bus: Option<(uuid::Uuid, mpsc::Sender<String>)>,
}

impl Fanout {
    /// Local delivery only.
    pub fn local(hub: Arc<Hub>) -> Self {
        Self { hub, bus: None }
    }
}

impl EventSink for Fanout {
    fn publish(&self, events: &[DomainEvent]) {
        self.hub.publish(events);
        if let Some((node, outbox)) = &self.bus {
            let envelope = Envelope {
                node: *node,
                events: events.to_vec(),
            };
            let queued =
                serde_json::to_string(&envelope).is_ok_and(|text| outbox.try_send(text).is_ok());
            if !queued {
                metrics::counter!("coup_bus_dropped_total").increment(1);
            }
        }
    }
}

/// Connects this node to the bus at `url` on `channel`: spawns the publisher and
/// the subscriber and returns the sink the core should use.
pub fn connect(url: &str, channel: String, hub: Arc<Hub>) -> Result<Fanout, redis::RedisError> {
    let client = redis::Client::open(url)?;
    let node = uuid::Uuid::new_v4();
    let (tx, rx) = mpsc::channel(OUTBOX);
    tokio::spawn(publisher(client.clone(), channel.clone(), rx));
    tokio::spawn(subscriber(client, channel, node, hub.clone()));
    tracing::info!(%node, "joined the Redis bus");
    Ok(Fanout {
        hub,
        bus: Some((node, tx)),
    })
}

async fn publisher(client: redis::Client, channel: String, mut outbox: mpsc::Receiver<String>) {
    let mut connection = None;
    while let Some(text) = outbox.recv().await {
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
}

async fn subscriber(client: redis::Client, channel: String, node: uuid::Uuid, hub: Arc<Hub>) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    tracing::info!("subscribed to the Redis bus");
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let Ok(envelope) =
                            serde_json::from_slice::<Envelope>(message.get_payload_bytes())
                        else {
                            metrics::counter!("coup_bus_bad_messages_total").increment(1);
                            continue;
                        };
                        if envelope.node != node {
                            hub.publish(&envelope.events);
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
