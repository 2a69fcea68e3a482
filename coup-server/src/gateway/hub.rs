//! The hub: the registry of this node's live connections (their outbound queues
//! and how each ends) and the executor of the effects of
//! [`coup_core::realtime::live::Live`], which holds every rule of live state
//! (subscriptions and the replay/live merge, presence, typing, calls, what the
//! nodes tell each other). It is the core's [`EventSink`].
//!
//! Committed events are fanned out off the database's writer: the sink only
//! appends them to an unbounded FIFO (commit order, since the store calls its
//! sink in commit order) and one fan-out thread drains it, giving each batch to
//! `Live` and carrying out its effects under the hub lock. So a commit never
//! waits on the hub lock or on fan-out. A subscription begins only once every
//! event committed before it was fanned out ([`Hub::begin_subscribe`]), so an
//! event still in flight when a client subscribes is seen by the subscription
//! exactly as a synchronous fan-out would have had it: a chat change by its
//! change number (held while replaying, skipped if the replay read it), and no
//! older event at all. Likewise a connection acknowledges its own write only
//! once the write is fanned out ([`Hub::fanned_out`]), so its frame comes first.
//!
//! Every connection has a bounded [`Outbox`]; a connection whose outbox is full
//! is closed as a slow consumer instead of growing memory, and `Live` hears that
//! it closed. An empty outbox holds no allocation: idle connections are many.
//! Frames are serialized once per delivery (by `Live`'s encoder) and the bytes
//! are shared between recipients. Messages for the other nodes go to the bus's
//! bounded outbox ([`crate::bus`]); a full outbox drops them (counted).
//!
//! Nothing here waits on I/O or on a client: the lock is held only while `Live`
//! computes, and frames are pushed to outboxes (and the bus's outbox) without
//! waiting. A replay (driven by `connection`) queues each batch through
//! [`Hub::replay`] only while its subscription is still replaying.
//!
//! `Live`'s watch effects wake the bus, which takes the changed interest
//! ([`Hub::interest_changes`]), subscribes or unsubscribes the study channels on
//! Redis and reports the confirmed watches ([`Hub::watched`]); a replay waits
//! for its study's watch ([`Hub::watching`]) before it reads the store.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak, mpsc as fifo};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use coup_core::EventSink;
use coup_core::events::DomainEvent;
use coup_core::ids::{StudyId, UserId};
use coup_core::realtime::calls::{MediaState, Participant};
use coup_core::realtime::cluster::Ticket;
use coup_core::realtime::cluster::{ClusterMessage, NodeId};
use coup_core::realtime::live::{ConnId, Effect, Effects, GoLive, Live, LiveError, LiveLimits};
use coup_core::realtime::protocol::{ServerFrame, SignalKind, close};
use tokio::sync::{Notify, OwnedSemaphorePermit, mpsc};
use tokio_util::sync::CancellationToken;

/// A serialized frame. Reference-counted bytes: a frame fanned out to a room is
/// serialized once and shared by every connection's queue without a copy.
pub type Frame = Utf8Bytes;

/// What the writer of a connection sends: a serialized frame and, for a frame
/// of a replay, its place in the replay window (freed once the frame is written).
#[derive(Debug)]
pub struct Outbound {
    /// The frame.
    pub frame: Frame,
    /// Held while a replayed frame waits to be written.
    pub window: Option<OwnedSemaphorePermit>,
}

impl Outbound {
    /// A frame outside any replay.
    pub fn frame(frame: Frame) -> Self {
        Self {
            frame,
            window: None,
        }
    }
}

/// A connection's outbound queue: bounded, and allocated only while it holds
/// frames. The connection takes everything queued at once and writes it as one
/// batch, so an emptied queue is left with no allocation at all (a tokio
/// channel would keep a pre-allocated block of slots per connection). The
/// batch being written still counts against the bound until it is written, so
/// a client that stops reading holds at most `capacity` frames.
#[derive(Debug)]
pub struct Outbox {
    queue: Mutex<Queue>,
    capacity: usize,
    queued: Notify,
}

#[derive(Debug, Default)]
struct Queue {
    frames: VecDeque<Outbound>,
    /// Frames taken and not yet written.
    writing: usize,
}

impl Outbox {
    /// An empty outbox that holds at most `capacity` frames.
    pub fn new(capacity: usize) -> Self {
        Self {
            queue: Mutex::new(Queue::default()),
            capacity,
            queued: Notify::new(),
        }
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a frame without waiting; gives it back when the outbox is full.
    pub fn push(&self, outbound: Outbound) -> Result<(), Outbound> {
        {
            let mut queue = self.queue();
            if queue.frames.len() + queue.writing >= self.capacity {
                return Err(outbound);
            }
            queue.frames.push_back(outbound);
        }
        self.queued.notify_one();
        Ok(())
    }

    /// Everything queued, in order, leaving the outbox empty and unallocated;
    /// it counts as being written until [`Self::written`].
    pub fn take(&self) -> VecDeque<Outbound> {
        let mut queue = self.queue();
        let batch = std::mem::take(&mut queue.frames);
        queue.writing = batch.len();
        batch
    }

    /// The batch last taken is written: its room is free again.
    pub fn written(&self) {
        self.queue().writing = 0;
    }

    /// Resolves once a frame may have been queued since the last [`Self::take`]
    /// (a queue between a take and this wait still wakes it).
    pub async fn queued(&self) {
        self.queued.notified().await;
    }
}

/// How a connection ends. The first to end it gives the close code (if any);
/// ending cancels its reader, writer and replays at once, whatever ended it.
#[derive(Debug, Clone, Default)]
pub struct Ending {
    token: CancellationToken,
    why: Arc<OnceLock<Option<(u16, &'static str)>>>,
}

impl Ending {
    /// Ends the connection with a close frame carrying `code` and `reason`.
    pub fn close(&self, code: u16, reason: &'static str) {
        let _ = self.why.set(Some((code, reason)));
        self.token.cancel();
    }

    /// Ends the connection without a close frame of its own (the client closed
    /// it, or the socket broke).
    pub fn quietly(&self) {
        let _ = self.why.set(None);
        self.token.cancel();
    }

    /// The close frame to send, if the connection ended with one.
    pub fn close_frame(&self) -> Option<(u16, &'static str)> {
        self.why.get().copied().flatten()
    }

    /// Whether the connection has ended.
    pub fn is_ended(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves when the connection ends.
    pub async fn ended(&self) {
        self.token.cancelled().await;
    }
}

/// A registered connection: where its frames go and how it ends.
struct Handle {
    outbox: Arc<Outbox>,
    ending: Ending,
}

struct State {
    live: Live<Frame>,
    conns: HashMap<ConnId, Handle>,
    /// Where messages for the other nodes go, while joined to a bus.
    bus: Option<mpsc::Sender<ClusterMessage>>,
    /// Wakes the bus when the study channels wanted change.
    interest_changed: Arc<Notify>,
    /// Committed batches fanned out so far (see [`Hub::fanned_out`]).
    fanned_out: u64,
}

/// All live connections of this node.
pub struct Hub {
    state: Mutex<State>,
    node: NodeId,
    /// Wakes the replays waiting for their study's channel.
    watch_confirmed: Notify,
    /// The fan-out thread's FIFO of committed batches.
    committed: fifo::Sender<Vec<DomainEvent>>,
    /// Committed batches handed to the fan-out thread so far.
    published: AtomicU64,
    /// Wakes those waiting for the fan-out thread to catch up.
    fanned: Notify,
}

/// Most committed batches the fan-out thread carries out under one taking of
/// the lock: fewer lock round trips under load, and a bounded wait for the
/// connections and the bus meanwhile.
const FAN_OUT_BATCHES: usize = 64;

/// The fan-out thread: drains the committed batches in order and carries them
/// out under the hub lock, until the hub is dropped.
fn fan_out(hub: &Weak<Hub>, committed: &fifo::Receiver<Vec<DomainEvent>>) {
    while let Ok(first) = committed.recv() {
        let Some(hub) = hub.upgrade() else {
            return;
        };
        let mut batches = vec![first];
        batches.extend(committed.try_iter().take(FAN_OUT_BATCHES - 1));
        {
            let mut s = hub.lock();
            for events in &batches {
                // A panic in one batch's fan-out must not stop every later one
                // (or leave the subscriptions waiting for it).
                let fanned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let effects = s.live.committed(events);
                    s.execute(effects);
                }));
                if fanned.is_err() {
                    tracing::error!("fanning out a committed batch panicked");
                }
                s.fanned_out += 1;
            }
        }
        hub.fanned.notify_waiters();
    }
}

/// Serializes a frame once; the bytes are shared by every recipient's queue.
fn encode(frame: &ServerFrame) -> Frame {
    serde_json::to_string(frame).unwrap_or_default().into()
}

impl State {
    /// Forgets a connection's queue; false if it was already gone.
    fn forget(&mut self, id: ConnId) -> Option<Handle> {
        let handle = self.conns.remove(&id)?;
        metrics::gauge!("coup_ws_connections").decrement(1.0);
        Some(handle)
    }

    /// Ends a connection whose queue is full and tells `Live` it closed.
    fn slow_consumer(&mut self, id: ConnId, work: &mut VecDeque<Effect<Frame>>) {
        let Some(handle) = self.forget(id) else {
            return;
        };
        metrics::counter!("coup_ws_slow_consumers_total").increment(1);
        handle.ending.close(close::SLOW_CONSUMER, "slow consumer");
        work.extend(self.live.close(id));
    }

    /// Carries out effects in order, and those that follow from them (a slow
    /// consumer's close).
    fn execute(&mut self, effects: Effects<Frame>) {
        let mut work = VecDeque::from(effects);
        while let Some(effect) = work.pop_front() {
            match effect {
                Effect::Deliver { to, frame } => {
                    for id in to {
                        let Some(handle) = self.conns.get(&id) else {
                            continue;
                        };
                        if handle.outbox.push(Outbound::frame(frame.clone())).is_err() {
                            self.slow_consumer(id, &mut work);
                        }
                    }
                }
                Effect::Publish(message) => {
                    if let Some(bus) = &self.bus
                        && bus.try_send(message).is_err()
                    {
                        // Live state heals with the next snapshot, events by resume.
                        metrics::counter!("coup_bus_dropped_total").increment(1);
                    }
                }
                Effect::Close { conn, code, reason } => {
                    if let Some(handle) = self.forget(conn) {
                        handle.ending.close(code, reason);
                    }
                }
                // The bus takes the changes itself, when it wakes.
                Effect::Watch(_) | Effect::Unwatch(_) => self.interest_changed.notify_one(),
            }
        }
    }
}

impl Hub {
    /// An empty hub, with its fan-out thread (which ends when the hub is dropped).
    pub fn start(limits: LiveLimits) -> std::io::Result<Arc<Self>> {
        let node = uuid::Uuid::new_v4();
        let (committed, queue) = fifo::channel();
        let hub = Arc::new(Self {
            state: Mutex::new(State {
                live: Live::new(node, limits, encode),
                conns: HashMap::new(),
                bus: None,
                interest_changed: Arc::new(Notify::new()),
                fanned_out: 0,
            }),
            node,
            watch_confirmed: Notify::new(),
            committed,
            published: AtomicU64::new(0),
            fanned: Notify::new(),
        });
        let weak = Arc::downgrade(&hub);
        std::thread::Builder::new()
            .name("coup-fan-out".into())
            .spawn(move || fan_out(&weak, &queue))?;
        Ok(hub)
    }

    /// Resolves once every event committed before the call has been fanned out.
    pub async fn fanned_out(&self) {
        let target = self.published.load(Ordering::Acquire);
        loop {
            // Registered before the check, so a batch fanned out between the
            // two still wakes it.
            let fanned = self.fanned.notified();
            tokio::pin!(fanned);
            fanned.as_mut().enable();
            if self.lock().fanned_out >= target {
                return;
            }
            fanned.await;
        }
    }

    /// This node's identity on the bus.
    pub fn node(&self) -> NodeId {
        self.node
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs one input of `Live` and carries out its effects.
    fn run(&self, input: impl FnOnce(&mut Live<Frame>) -> Effects<Frame>) {
        let mut s = self.lock();
        let effects = input(&mut s.live);
        s.execute(effects);
    }

    /// Runs one input that may be refused; carries out its effects if not.
    fn try_run<T>(
        &self,
        input: impl FnOnce(&mut Live<Frame>) -> Result<(T, Effects<Frame>), LiveError>,
    ) -> Result<T, LiveError> {
        let mut s = self.lock();
        let (answer, effects) = input(&mut s.live)?;
        s.execute(effects);
        Ok(answer)
    }

    /// Adds an authenticated connection.
    pub fn register(
        &self,
        user: UserId,
        token_hash: String,
        outbox: Arc<Outbox>,
        ending: Ending,
    ) -> ConnId {
        let mut s = self.lock();
        let id = s.live.open(user, token_hash);
        s.conns.insert(id, Handle { outbox, ending });
        metrics::gauge!("coup_ws_connections").increment(1.0);
        id
    }

    /// Removes a connection: its presence, typing and calls end.
    pub fn unregister(&self, id: ConnId) {
        let mut s = self.lock();
        s.forget(id);
        let effects = s.live.close(id);
        s.execute(effects);
    }

    /// Queues a frame to one connection (a direct answer).
    pub fn reply(&self, id: ConnId, frame: &ServerFrame) {
        self.lock().execute(vec![Effect::Deliver {
            to: vec![id],
            frame: encode(frame),
        }]);
    }

    /// Queues one batch of a subscription's replay, each frame holding its permit
    /// of the replay window. False when the subscription is gone (stop
    /// replaying); a full queue ends the connection as a slow consumer.
    pub fn replay(
        &self,
        id: ConnId,
        study: StudyId,
        frames: impl IntoIterator<Item = (Frame, OwnedSemaphorePermit)>,
    ) -> bool {
        let mut s = self.lock();
        let outbox = match s.conns.get(&id) {
            Some(handle) if s.live.is_replaying(id, study) => handle.outbox.clone(),
            _ => return false,
        };
        for (frame, permit) in frames {
            let outbound = Outbound {
                frame,
                window: Some(permit),
            };
            if outbox.push(outbound).is_err() {
                let mut work = VecDeque::new();
                s.slow_consumer(id, &mut work);
                s.execute(work.into());
                return false;
            }
        }
        true
    }

    /// Starts a subscription: until [`Self::go_live`], the study's chat changes
    /// are held back so the replay can be delivered first, in order. It begins
    /// once the events committed before the call are fanned out, as if fan-out
    /// ran with the commit: those the subscription must see after it checks
    /// the store (a removal) are not still to come.
    pub async fn begin_subscribe(&self, id: ConnId, study: StudyId) -> Result<(), LiveError> {
        self.fanned_out().await;
        self.try_run(|live| Ok(((), live.subscribe(id, study)?)))
    }

    /// Resolves once the subscription may read its catch-up: the bus listens to
    /// the study's channel (at once off the bus, or when the subscription is gone).
    pub async fn watching(&self, id: ConnId, study: StudyId) {
        loop {
            // Registered before the check, so a confirmation between the two
            // still wakes it.
            let confirmed = self.watch_confirmed.notified();
            tokio::pin!(confirmed);
            confirmed.as_mut().enable();
            if !self.lock().live.awaits_watch(id, study) {
                return;
            }
            confirmed.await;
        }
    }

    /// Abandons a subscription that failed its checks.
    pub fn abort_subscribe(&self, id: ConnId, study: StudyId) {
        self.unsubscribe(id, study);
    }

    /// Ends a subscription's replay (see [`Live::go_live`]); `Gone` also when
    /// the connection was closed while the frames were queued.
    pub fn go_live(
        &self,
        id: ConnId,
        study: StudyId,
        request_id: Option<String>,
        reached: i64,
        last_seq: i64,
    ) -> GoLive {
        let mut s = self.lock();
        let (outcome, effects) = s.live.go_live(id, study, request_id, reached, last_seq);
        s.execute(effects);
        match outcome {
            GoLive::Live if !s.conns.contains_key(&id) => GoLive::Gone,
            outcome => outcome,
        }
    }

    /// Ends a subscription at the client's request; false if there was none.
    pub fn unsubscribe(&self, id: ConnId, study: StudyId) -> bool {
        let mut s = self.lock();
        match s.live.unsubscribe(id, study) {
            Some(effects) => {
                s.execute(effects);
                true
            }
            None => false,
        }
    }

    /// A typing start or stop from a subscriber.
    pub fn typing(
        &self,
        id: ConnId,
        study: StudyId,
        typing: bool,
        now: Instant,
    ) -> Result<(), LiveError> {
        self.try_run(|live| Ok(((), live.typing(id, study, typing, now)?)))
    }

    /// Ends indicators that were not refreshed in time.
    pub fn expire_typing(&self, now: Instant) {
        self.run(|live| live.expire_typing(now));
    }

    /// Joins the study's call from this connection.
    pub fn call_join(
        &self,
        id: ConnId,
        study: StudyId,
        media: MediaState,
    ) -> Result<Vec<Participant>, LiveError> {
        self.try_run(|live| live.call_join(id, study, media))
    }

    /// Leaves the study's call.
    pub fn call_leave(&self, id: ConnId, study: StudyId) -> Result<(), LiveError> {
        self.try_run(|live| Ok(((), live.call_leave(id, study)?)))
    }

    /// Relays a signal to one other participant of the same call.
    pub fn signal(
        &self,
        id: ConnId,
        study: StudyId,
        to: UserId,
        kind: SignalKind,
        payload: serde_json::Value,
    ) -> Result<(), LiveError> {
        self.try_run(|live| Ok(((), live.signal(id, study, to, kind, payload)?)))
    }

    /// Changes this participant's media state and tells the study.
    pub fn media(&self, id: ConnId, study: StudyId, media: MediaState) -> Result<(), LiveError> {
        self.try_run(|live| Ok(((), live.media(id, study, media)?)))
    }

    /// Joins a bus: from now on, what changes here is sent to `bus`, starting with
    /// a `hello` carrying this node's state (call again after reconnecting to the
    /// bus, to trade snapshots with the peers).
    pub fn join_bus(&self, bus: mpsc::Sender<ClusterMessage>) {
        let mut s = self.lock();
        s.bus = Some(bus);
        let effects = s.live.join_bus();
        s.execute(effects);
    }

    /// Leaves the bus (shutting down): peers forget this node's users and calls at
    /// once. The sender is dropped, so the publisher ends after sending the rest.
    pub fn leave_bus(&self) {
        let mut s = self.lock();
        let effects = s.live.leave_bus();
        s.execute(effects);
        s.bus = None;
    }

    /// Sends a heartbeat and drops the peers silent for longer than `expiry`.
    pub fn cluster_tick(&self, now: Instant, expiry: Duration) {
        let mut s = self.lock();
        let effects = s.live.tick(now, expiry);
        s.execute(effects);
        metrics::gauge!("coup_cluster_peers").set(s.live.peer_count() as f64);
    }

    /// Resolves when the study channels wanted may have changed.
    pub async fn interest_changed(&self) {
        let changed = self.lock().interest_changed.clone();
        changed.notified().await;
    }

    /// The study channels watched or unwatched since the bus last looked (with
    /// the current watch's ticket; `None`: unwatched).
    pub fn interest_changes(&self) -> Vec<(StudyId, Option<Ticket>)> {
        self.lock().live.interest_changes()
    }

    /// Every study channel wanted, for a bus subscribing afresh.
    pub fn interest(&self) -> Vec<(StudyId, Ticket)> {
        self.lock().live.interest()
    }

    /// The bus listens to these study channels for these watches.
    pub fn watched(&self, confirmed: &[(StudyId, Ticket)]) {
        if self.lock().live.watched(confirmed) {
            self.watch_confirmed.notify_waiters();
        }
    }

    /// Applies what a peer node sent.
    pub fn apply(&self, node: NodeId, message: ClusterMessage, now: Instant) {
        self.run(|live| live.apply(node, message, now));
    }
}

impl EventSink for Hub {
    /// Hands committed events to the fan-out thread, which delivers them to this
    /// node's connections and, with a bus, to the other nodes'. Never waits: the
    /// FIFO is unbounded and the hub lock is not taken.
    fn publish(&self, events: &[DomainEvent]) {
        self.published.fetch_add(1, Ordering::AcqRel);
        // Fails only once the fan-out thread is gone, with the hub.
        let _ = self.committed.send(events.to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coup_core::ids::MessageId;
    use coup_core::realtime::protocol::codes;
    use coup_core::{Core, Outcome};

    const LIMITS: LiveLimits = LiveLimits {
        max_subscriptions: 8,
        replay_buffer: 1_000,
        call_limit: 8,
    };

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    /// A committed chat change of `study` with change number `change`.
    fn deleted(study: StudyId, change: i64) -> DomainEvent {
        DomainEvent::MessageDeleted {
            study_id: study,
            message_id: MessageId::new(),
            seq: change,
            change,
            actor: UserId::new(),
        }
    }

    /// A connection subscribed to `study` (still replaying) and its outbox.
    fn subscriber(hub: &Hub, study: StudyId) -> (ConnId, Arc<Outbox>) {
        let outbox = Arc::new(Outbox::new(10_000));
        let id = hub.register(
            UserId::new(),
            "session".into(),
            outbox.clone(),
            Ending::default(),
        );
        block_on(hub.begin_subscribe(id, study)).expect("subscribes");
        (id, outbox)
    }

    /// The frames queued to `outbox` so far, as (type, change number).
    fn received(outbox: &Outbox) -> Vec<(String, Option<i64>)> {
        let frames = outbox.take();
        outbox.written();
        frames
            .into_iter()
            .map(|o| {
                let frame: serde_json::Value =
                    serde_json::from_str(o.frame.as_str()).expect("a JSON frame");
                (
                    frame["type"].as_str().unwrap_or_default().to_owned(),
                    frame["change"].as_i64(),
                )
            })
            .collect()
    }

    /// The change numbers of the chat frames after `subscribed`.
    fn changes_after_subscribed(frames: &[(String, Option<i64>)]) -> Vec<i64> {
        assert_eq!(
            frames.first().map(|(kind, _)| kind.as_str()),
            Some("subscribed"),
            "subscribed comes first: {frames:?}"
        );
        frames[1..]
            .iter()
            .filter_map(|(_, change)| *change)
            .collect()
    }

    #[test]
    fn a_commit_returns_while_the_hub_lock_is_held() {
        let dir = tempfile::tempdir().expect("temp dir");
        let hub = Hub::start(LIMITS).expect("hub");
        let core = Core::open_sqlite(dir.path().join("coup.db"))
            .expect("store")
            .with_event_sink(hub.clone());
        let study = StudyId::new();
        let (id, outbox) = subscriber(&hub, study);
        assert_eq!(hub.go_live(id, study, None, 0, 0), GoLive::Live);

        let held = hub.lock();
        let (done, returned) = std::sync::mpsc::channel();
        let writer = core.clone();
        std::thread::spawn(move || {
            // Both paths: the group-committing writer thread and a blocking write.
            block_on(writer.write(move |_| Ok(Outcome::new((), vec![deleted(study, 1)]))))
                .expect("async write");
            writer
                .write_blocking(|_| Ok(Outcome::new((), vec![deleted(study, 2)])))
                .expect("blocking write");
            let _ = done.send(());
        });
        returned
            .recv_timeout(Duration::from_secs(10))
            .expect("the commits returned while the hub lock was held");
        drop(held);

        block_on(hub.fanned_out());
        assert_eq!(changes_after_subscribed(&received(&outbox)), [1, 2]);
    }

    #[test]
    fn fan_out_keeps_commit_order_while_the_lock_is_contended() {
        let hub = Hub::start(LIMITS).expect("hub");
        let study = StudyId::new();
        let (id, outbox) = subscriber(&hub, study);
        assert_eq!(hub.go_live(id, study, None, 0, 0), GoLive::Live);
        let (other, _other_outbox) = subscriber(&hub, StudyId::new());

        let publisher = {
            let hub = hub.clone();
            std::thread::spawn(move || {
                for change in 1..=2_000 {
                    hub.publish(&[deleted(study, change)]);
                }
            })
        };
        while !publisher.is_finished() {
            hub.reply(
                other,
                &ServerFrame::protocol_error(None, codes::NOT_SUBSCRIBED, "contending"),
            );
        }
        publisher.join().expect("publisher");

        block_on(hub.fanned_out());
        let changes = changes_after_subscribed(&received(&outbox));
        assert_eq!(
            changes,
            (1..=2_000).collect::<Vec<_>>(),
            "each once, in commit order"
        );
    }

    #[test]
    fn a_subscription_going_live_while_commits_are_in_flight_gets_each_change_after_its_catch_up_once()
     {
        for round in 0..200 {
            let hub = Hub::start(LIMITS).expect("hub");
            let study = StudyId::new();
            let (id, outbox) = subscriber(&hub, study);
            // Changes 1..=10 committed before the catch-up read (which reached
            // 10), 11..=20 after it; none fanned out yet when the race starts.
            let held = hub.lock();
            for change in 1..=10 {
                hub.publish(&[deleted(study, change)]);
            }
            let mut publisher = Some({
                let hub = hub.clone();
                std::thread::spawn(move || {
                    for change in 11..=20 {
                        hub.publish(&[deleted(study, change)]);
                    }
                })
            });
            // Every other round, 11..=20 are all in the FIFO before the race.
            if round % 2 == 0
                && let Some(publisher) = publisher.take()
            {
                publisher.join().expect("publisher");
            }
            drop(held);
            for _ in 0..round % 7 {
                std::thread::yield_now();
            }
            assert_eq!(hub.go_live(id, study, None, 10, 20), GoLive::Live);
            if let Some(publisher) = publisher {
                publisher.join().expect("publisher");
            }
            block_on(hub.fanned_out());
            assert_eq!(
                changes_after_subscribed(&received(&outbox)),
                (11..=20).collect::<Vec<_>>(),
                "round {round}: neither missed nor sent twice"
            );
        }
    }

    #[test]
    fn an_event_in_flight_when_a_subscription_begins_is_fanned_out_before_it() {
        for _ in 0..50 {
            let hub = Hub::start(LIMITS).expect("hub");
            let study = StudyId::new();
            let held = hub.lock();
            hub.publish(&[deleted(study, 7)]);
            drop(held);
            // The change was committed before the subscription began, so a
            // synchronous fan-out could not have held it for this subscription.
            let (id, outbox) = subscriber(&hub, study);
            assert_eq!(hub.go_live(id, study, None, 0, 7), GoLive::Live);
            block_on(hub.fanned_out());
            assert_eq!(
                changes_after_subscribed(&received(&outbox)),
                Vec::<i64>::new()
            );
        }
    }

    fn frame(text: &'static str) -> Outbound {
        Outbound::frame(Utf8Bytes::from_static(text))
    }

    #[test]
    fn an_outbox_is_bounded_keeps_order_and_holds_nothing_once_taken() {
        let outbox = Outbox::new(2);
        assert!(outbox.push(frame("a")).is_ok());
        assert!(outbox.push(frame("b")).is_ok());
        let refused = outbox.push(frame("c")).expect_err("full at its capacity");
        assert_eq!(refused.frame.as_str(), "c");
        let taken: Vec<String> = outbox
            .take()
            .into_iter()
            .map(|o| o.frame.as_str().to_owned())
            .collect();
        assert_eq!(taken, ["a", "b"]);
        assert_eq!(
            outbox.queue().frames.capacity(),
            0,
            "an emptied outbox holds no allocation"
        );
        assert!(
            outbox.push(frame("d")).is_err(),
            "the batch being written still counts"
        );
        outbox.written();
        assert!(outbox.push(frame("d")).is_ok(), "room again once written");
    }

    #[tokio::test]
    async fn a_frame_queued_before_the_wait_still_wakes_it() {
        let outbox = Outbox::new(4);
        assert!(outbox.push(frame("a")).is_ok());
        tokio::time::timeout(Duration::from_secs(1), outbox.queued())
            .await
            .expect("woken by the frame queued before");
        assert_eq!(outbox.take().len(), 1);
    }
}
