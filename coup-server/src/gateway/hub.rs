//! The hub: every live connection, what it is subscribed to, and the real-time
//! state machines of `coup-core` (presence, typing, calls). It is the core's
//! [`EventSink`]: committed events are routed to frames and queued to the right
//! connections, in commit order.
//!
//! Every connection has a bounded queue; a connection whose queue is full is closed
//! as a slow consumer instead of growing memory. Frames are serialized once per
//! delivery and shared between recipients.
//!
//! With a bus ([`crate::bus`]), the hub also tells the other nodes what changes
//! here (committed events, presence, typing, calls, signals for participants
//! connected elsewhere) and applies what they tell it ([`Hub::apply`]). Presence a
//! user sees is the union of this node's connections and what live peers report;
//! call rooms hold every node's participants, so the participant limit and the
//! relay rule hold across nodes.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use coup_core::events::DomainEvent;
use coup_core::ids::{StudyId, UserId};
use coup_core::realtime::calls::{CallRooms, MediaState, Participant};
use coup_core::realtime::cluster::{ClusterMessage, NodeId, NodeSnapshot, PeerChanges, Peers};
use coup_core::realtime::presence::{Presence, PresenceChange};
use coup_core::realtime::protocol::{
    Audience, Delivery, ServerFrame, SignalKind, UnsubscribeReason, close, codes, route,
};
use coup_core::realtime::typing::{Typing, TypingChange};
use coup_core::service::chat::CatchUp;
use coup_core::{Error, EventSink};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A connection's id within this process.
pub type ConnId = u64;

/// A serialized frame. Reference-counted bytes: a frame fanned out to a room is
/// serialized once and shared by every connection's queue without a copy.
pub type Frame = Utf8Bytes;

/// What the writer of a connection sends.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A serialized frame.
    Text(Frame),
    /// Close the socket with a code and reason.
    Close(u16, &'static str),
}

/// A refusal by the hub, answered with an error frame.
#[derive(Debug)]
pub enum HubError {
    /// A core rule refused it.
    Core(Error),
    /// A protocol rule refused it (code from `protocol::codes`).
    Protocol(&'static str, String),
}

impl From<Error> for HubError {
    fn from(e: Error) -> Self {
        Self::Core(e)
    }
}

enum Subscription {
    /// Catching up: frames for the study wait here (with their chat sequence).
    Replaying(Vec<(Option<i64>, Frame)>),
    Live,
}

struct Conn {
    user: UserId,
    /// The session the connection authenticated with (its stored hash).
    token_hash: String,
    tx: mpsc::Sender<Outbound>,
    /// Cancelled to abandon a connection whose client stopped reading.
    cancel: CancellationToken,
    subs: HashMap<StudyId, Subscription>,
}

#[derive(Default)]
struct State {
    next_id: ConnId,
    conns: HashMap<ConnId, Conn>,
    by_study: HashMap<StudyId, HashSet<ConnId>>,
    by_user: HashMap<UserId, HashSet<ConnId>>,
    presence: Presence,
    typing: Typing,
    /// Which connection of a participant is in the call.
    call_conns: HashMap<(StudyId, UserId), ConnId>,
    /// What the other nodes report (empty without a bus).
    peers: Peers,
    /// Where messages for the other nodes go, while joined to a bus.
    bus: Option<mpsc::Sender<ClusterMessage>>,
}

/// Limits the hub enforces.
#[derive(Debug, Clone)]
pub struct HubLimits {
    /// Subscriptions one connection may hold.
    pub max_subscriptions: usize,
    /// Frames buffered while one subscription catches up.
    pub replay_buffer: usize,
}

/// All live connections of this node.
pub struct Hub {
    state: Mutex<State>,
    calls: Mutex<CallRooms>,
    limits: HubLimits,
    node: NodeId,
}

fn text(frame: &ServerFrame) -> Frame {
    serde_json::to_string(frame).unwrap_or_default().into()
}

fn seq_of(frame: &ServerFrame) -> Option<i64> {
    match frame {
        ServerFrame::Message { message } => Some(message.seq),
        _ => None,
    }
}

impl Hub {
    /// An empty hub.
    pub fn new(limits: HubLimits, call_limit: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            calls: Mutex::new(CallRooms::new(call_limit)),
            limits,
            node: uuid::Uuid::new_v4(),
        }
    }

    /// This node's identity on the bus.
    pub fn node(&self) -> NodeId {
        self.node
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn calls(&self) -> MutexGuard<'_, CallRooms> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds an authenticated connection.
    pub fn register(
        &self,
        user: UserId,
        token_hash: String,
        tx: mpsc::Sender<Outbound>,
        cancel: CancellationToken,
    ) -> ConnId {
        let mut s = self.lock();
        s.next_id += 1;
        let id = s.next_id;
        s.conns.insert(
            id,
            Conn {
                user,
                token_hash,
                tx,
                cancel,
                subs: HashMap::new(),
            },
        );
        s.by_user.entry(user).or_default().insert(id);
        metrics::gauge!("coup_ws_connections").increment(1.0);
        id
    }

    /// Removes a connection: its presence, typing and calls end.
    pub fn unregister(&self, id: ConnId) {
        let mut s = self.lock();
        self.drop_conn(&mut s, id);
    }

    fn drop_conn(&self, s: &mut State, id: ConnId) {
        let Some(conn) = s.conns.remove(&id) else {
            return;
        };
        metrics::gauge!("coup_ws_connections").decrement(1.0);
        if let Some(set) = s.by_user.get_mut(&conn.user) {
            set.remove(&id);
            if set.is_empty() {
                s.by_user.remove(&conn.user);
            }
        }
        for (study, sub) in conn.subs {
            self.remove_sub(s, id, conn.user, study, matches!(sub, Subscription::Live));
        }
    }

    /// Forgets one subscription of a connection and announces what follows.
    fn remove_sub(&self, s: &mut State, id: ConnId, user: UserId, study: StudyId, was_live: bool) {
        if let Some(set) = s.by_study.get_mut(&study) {
            set.remove(&id);
            if set.is_empty() {
                s.by_study.remove(&study);
            }
        }
        if s.call_conns.get(&(study, user)) == Some(&id) {
            s.call_conns.remove(&(study, user));
            if self.calls().leave(study, user) {
                Self::share(
                    s,
                    ClusterMessage::CallLeft {
                        study_id: study,
                        user_id: user,
                    },
                );
                self.broadcast(
                    s,
                    study,
                    &ServerFrame::CallParticipantLeft {
                        study_id: study,
                        user_id: user,
                    },
                );
            }
        }
        if was_live
            && let Some(PresenceChange::Offline(study, user)) = s.presence.disconnect(study, user)
        {
            if let Some(change) = s.typing.stop(study, user) {
                self.announce_typing(s, change);
            }
            Self::share(
                s,
                ClusterMessage::Presence {
                    study_id: study,
                    user_id: user,
                    online: false,
                },
            );
            if !s.peers.is_online(study, user) {
                self.broadcast(
                    s,
                    study,
                    &ServerFrame::Presence {
                        study_id: study,
                        user_id: user,
                        online: false,
                    },
                );
            }
        }
    }

    /// Sends a message to the other nodes, if joined to a bus. A full outbox drops
    /// it (counted): live state heals with the next snapshot, events by resume.
    fn share(s: &mut State, message: ClusterMessage) {
        if let Some(bus) = &s.bus
            && bus.try_send(message).is_err()
        {
            metrics::counter!("coup_bus_dropped_total").increment(1);
        }
    }

    /// Queues a frame to one connection; a full queue closes it as a slow consumer.
    fn push(
        &self,
        s: &mut State,
        id: ConnId,
        study: Option<StudyId>,
        seq: Option<i64>,
        frame: Frame,
    ) {
        let Some(conn) = s.conns.get_mut(&id) else {
            return;
        };
        if let Some(Subscription::Replaying(buffer)) = study.and_then(|st| conn.subs.get_mut(&st)) {
            if buffer.len() < self.limits.replay_buffer {
                buffer.push((seq, frame));
                return;
            }
        } else if conn.tx.try_send(Outbound::Text(frame)).is_ok() {
            return;
        }
        // The queue (or catch-up buffer) is full: stop growing, drop the reader.
        metrics::counter!("coup_ws_slow_consumers_total").increment(1);
        let _ = conn
            .tx
            .try_send(Outbound::Close(close::SLOW_CONSUMER, "slow consumer"));
        conn.cancel.cancel();
        self.drop_conn(s, id);
    }

    /// Queues a frame to one connection (a direct answer).
    pub fn reply(&self, id: ConnId, frame: &ServerFrame) {
        let mut s = self.lock();
        self.push(&mut s, id, None, None, text(frame));
    }

    fn broadcast(&self, s: &mut State, study: StudyId, frame: &ServerFrame) {
        let targets: Vec<ConnId> = s
            .by_study
            .get(&study)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        if targets.is_empty() {
            return;
        }
        let body = text(frame);
        let seq = seq_of(frame);
        for id in targets {
            self.push(s, id, Some(study), seq, body.clone());
        }
    }

    fn to_user(&self, s: &mut State, user: UserId, frame: &ServerFrame) {
        let targets: Vec<ConnId> = s
            .by_user
            .get(&user)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        let body = text(frame);
        for id in targets {
            self.push(s, id, None, None, body.clone());
        }
    }

    /// Starts a subscription: until [`Self::finish_subscribe`], frames for the
    /// study are held back so the catch-up can be delivered first, in order.
    pub fn begin_subscribe(&self, id: ConnId, study: StudyId) -> Result<(), HubError> {
        let mut s = self.lock();
        let conn = s
            .conns
            .get_mut(&id)
            .ok_or(HubError::Core(Error::Unauthorized("connection closed")))?;
        if conn.subs.contains_key(&study) {
            return Err(HubError::Core(Error::Conflict(
                "already subscribed to this study".into(),
            )));
        }
        if conn.subs.len() >= self.limits.max_subscriptions {
            return Err(HubError::Protocol(
                codes::TOO_MANY_SUBSCRIPTIONS,
                format!(
                    "at most {} subscriptions per connection",
                    self.limits.max_subscriptions
                ),
            ));
        }
        conn.subs.insert(study, Subscription::Replaying(Vec::new()));
        s.by_study.entry(study).or_default().insert(id);
        Ok(())
    }

    /// Abandons a subscription that failed its checks.
    pub fn abort_subscribe(&self, id: ConnId, study: StudyId) {
        let mut s = self.lock();
        let Some(conn) = s.conns.get_mut(&id) else {
            return;
        };
        if conn.subs.remove(&study).is_none() {
            return;
        }
        let user = conn.user;
        self.remove_sub(&mut s, id, user, study, false);
    }

    /// Completes a subscription: `subscribed`, the catch-up, then what arrived
    /// meanwhile (without what the catch-up already covered); then presence.
    pub fn finish_subscribe(
        &self,
        id: ConnId,
        study: StudyId,
        request_id: Option<String>,
        catch_up: CatchUp,
    ) {
        let mut s = self.lock();
        let Some(conn) = s.conns.get_mut(&id) else {
            return;
        };
        let user = conn.user;
        let Some(Subscription::Replaying(held)) = conn.subs.insert(study, Subscription::Live)
        else {
            return;
        };
        let became_online = s.presence.connect(study, user).is_some();
        let mut online = s.presence.online(study);
        online.extend(s.peers.online(study));
        online.sort();
        online.dedup();
        let mut frames = vec![text(&ServerFrame::Subscribed {
            request_id,
            study_id: study,
            last_seq: catch_up.last_seq,
            online,
        })];
        if let Some((from_seq, to_seq)) = catch_up.resync {
            frames.push(text(&ServerFrame::ResyncRequired {
                study_id: study,
                from_seq,
                to_seq,
            }));
        }
        let covered = catch_up
            .messages
            .last()
            .map_or(catch_up.last_seq, |m| m.seq.max(catch_up.last_seq));
        frames.extend(
            catch_up
                .messages
                .into_iter()
                .map(|message| text(&ServerFrame::Message { message })),
        );
        frames.extend(
            held.into_iter()
                .filter(|(seq, _)| seq.is_none_or(|q| q > covered))
                .map(|(_, f)| f),
        );
        for frame in frames {
            self.push(&mut s, id, None, None, frame);
        }
        if became_online {
            Self::share(
                &mut s,
                ClusterMessage::Presence {
                    study_id: study,
                    user_id: user,
                    online: true,
                },
            );
            if !s.peers.is_online(study, user) {
                self.broadcast(
                    &mut s,
                    study,
                    &ServerFrame::Presence {
                        study_id: study,
                        user_id: user,
                        online: true,
                    },
                );
            }
        }
    }

    /// Ends a subscription at the client's request; false if there was none.
    pub fn unsubscribe(&self, id: ConnId, study: StudyId) -> bool {
        let mut s = self.lock();
        let (user, sub) = match s.conns.get_mut(&id) {
            Some(conn) => match conn.subs.remove(&study) {
                Some(sub) => (conn.user, sub),
                None => return false,
            },
            None => return false,
        };
        self.remove_sub(&mut s, id, user, study, matches!(sub, Subscription::Live));
        true
    }

    /// The connection's user, if its subscription to the study is live.
    fn live_user(&self, s: &State, id: ConnId, study: StudyId) -> Result<UserId, HubError> {
        match s.conns.get(&id) {
            Some(conn) if matches!(conn.subs.get(&study), Some(Subscription::Live)) => {
                Ok(conn.user)
            }
            _ => Err(HubError::Protocol(
                codes::NOT_SUBSCRIBED,
                "subscribe to the study first".into(),
            )),
        }
    }

    fn announce_typing(&self, s: &mut State, change: TypingChange) {
        Self::share(
            s,
            ClusterMessage::Typing {
                study_id: change.study,
                user_id: change.user,
                typing: change.typing,
            },
        );
        let frame = ServerFrame::Typing {
            study_id: change.study,
            user_id: change.user,
            typing: change.typing,
        };
        self.broadcast(s, change.study, &frame);
    }

    /// A typing start or stop from a subscriber.
    pub fn typing(
        &self,
        id: ConnId,
        study: StudyId,
        typing: bool,
        now: Instant,
    ) -> Result<(), HubError> {
        let mut s = self.lock();
        let user = self.live_user(&s, id, study)?;
        let change = if typing {
            s.typing.start(study, user, now)
        } else {
            s.typing.stop(study, user)
        };
        if let Some(change) = change {
            self.announce_typing(&mut s, change);
        }
        Ok(())
    }

    /// Ends indicators that were not refreshed in time.
    pub fn expire_typing(&self, now: Instant) {
        let mut s = self.lock();
        for change in s.typing.expire(now) {
            self.announce_typing(&mut s, change);
        }
    }

    /// Joins the study's call from this connection.
    pub fn call_join(
        &self,
        id: ConnId,
        study: StudyId,
        media: MediaState,
    ) -> Result<Vec<Participant>, HubError> {
        let mut s = self.lock();
        let user = self.live_user(&s, id, study)?;
        let participants = self.calls().join(study, user, media)?;
        s.call_conns.insert((study, user), id);
        let me = Participant {
            user_id: user,
            media,
        };
        Self::share(
            &mut s,
            ClusterMessage::CallJoined {
                study_id: study,
                participant: me,
            },
        );
        self.broadcast(
            &mut s,
            study,
            &ServerFrame::CallParticipantJoined {
                study_id: study,
                participant: me,
            },
        );
        Ok(participants)
    }

    /// Leaves the study's call.
    pub fn call_leave(&self, id: ConnId, study: StudyId) -> Result<(), HubError> {
        let mut s = self.lock();
        let user = self.live_user(&s, id, study)?;
        if s.call_conns.get(&(study, user)) != Some(&id) || !self.calls().leave(study, user) {
            return Err(HubError::Core(Error::Conflict(
                "you are not in this call".into(),
            )));
        }
        s.call_conns.remove(&(study, user));
        Self::share(
            &mut s,
            ClusterMessage::CallLeft {
                study_id: study,
                user_id: user,
            },
        );
        self.broadcast(
            &mut s,
            study,
            &ServerFrame::CallParticipantLeft {
                study_id: study,
                user_id: user,
            },
        );
        Ok(())
    }

    /// Relays a signal to one other participant of the same call.
    pub fn signal(
        &self,
        id: ConnId,
        study: StudyId,
        to: UserId,
        kind: SignalKind,
        payload: serde_json::Value,
    ) -> Result<(), HubError> {
        let mut s = self.lock();
        let from = self.live_user(&s, id, study)?;
        if s.call_conns.get(&(study, from)) != Some(&id) {
            return Err(HubError::Core(Error::Forbidden("join the call first")));
        }
        self.calls().check_relay(study, from, to)?;
        match s.call_conns.get(&(study, to)).copied() {
            Some(target) => {
                let frame = text(&ServerFrame::Signal {
                    study_id: study,
                    from,
                    kind,
                    payload,
                });
                self.push(&mut s, target, None, None, frame);
            }
            // In the call through another node: that node delivers it.
            None => Self::share(
                &mut s,
                ClusterMessage::Signal {
                    study_id: study,
                    from,
                    to,
                    kind,
                    payload,
                },
            ),
        }
        Ok(())
    }

    /// Changes this participant's media state and tells the study.
    pub fn media(&self, id: ConnId, study: StudyId, media: MediaState) -> Result<(), HubError> {
        let mut s = self.lock();
        let user = self.live_user(&s, id, study)?;
        if s.call_conns.get(&(study, user)) != Some(&id) {
            return Err(HubError::Core(Error::Forbidden("join the call first")));
        }
        self.calls().set_media(study, user, media)?;
        Self::share(
            &mut s,
            ClusterMessage::CallMedia {
                study_id: study,
                user_id: user,
                media,
            },
        );
        self.broadcast(
            &mut s,
            study,
            &ServerFrame::CallMedia {
                study_id: study,
                user_id: user,
                media,
            },
        );
        Ok(())
    }

    fn end_subscriptions(
        &self,
        s: &mut State,
        study: StudyId,
        users: Option<UserId>,
        reason: UnsubscribeReason,
    ) {
        let targets: Vec<(ConnId, UserId)> = s
            .by_study
            .get(&study)
            .map(|set| {
                set.iter()
                    .filter_map(|id| s.conns.get(id).map(|c| (*id, c.user)))
                    .collect()
            })
            .unwrap_or_default();
        for (id, user) in targets
            .into_iter()
            .filter(|(_, u)| users.is_none_or(|only| only == *u))
        {
            let was_live = match s.conns.get_mut(&id).and_then(|c| c.subs.remove(&study)) {
                Some(sub) => matches!(sub, Subscription::Live),
                None => continue,
            };
            self.push(
                s,
                id,
                None,
                None,
                text(&ServerFrame::Unsubscribed {
                    request_id: None,
                    study_id: study,
                    reason,
                }),
            );
            self.remove_sub(s, id, user, study, was_live);
        }
    }

    /// Closes the user's connections whose session matches.
    fn end_sessions(&self, s: &mut State, user: UserId, matching: impl Fn(&str) -> bool) {
        let ids: Vec<ConnId> = s
            .by_user
            .get(&user)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        for id in ids {
            match s.conns.get(&id) {
                Some(conn) if matching(&conn.token_hash) => {
                    let _ = conn
                        .tx
                        .try_send(Outbound::Close(close::SESSION_ENDED, "session ended"));
                }
                _ => continue,
            }
            self.drop_conn(s, id);
        }
    }

    fn deliver(&self, s: &mut State, delivery: Delivery) {
        match delivery {
            Delivery::Frame(Audience::Study(study), frame) => self.broadcast(s, study, &frame),
            Delivery::Frame(Audience::User(user), frame) => self.to_user(s, user, &frame),
            Delivery::EndSubscription(study, user, reason) => {
                self.end_subscriptions(s, study, Some(user), reason)
            }
            Delivery::EndStudy(study) => {
                self.end_subscriptions(s, study, None, UnsubscribeReason::StudyDeleted)
            }
            Delivery::EndSessions(user) => self.end_sessions(s, user, |_| true),
            Delivery::EndSession(user, token_hash) => {
                self.end_sessions(s, user, |t| t == token_hash)
            }
            Delivery::EndOtherSessions(user, kept) => self.end_sessions(s, user, |t| t != kept),
        }
    }
}

impl Hub {
    fn deliver_events(&self, s: &mut State, events: &[DomainEvent]) {
        for event in events {
            for delivery in route(event) {
                self.deliver(s, delivery);
            }
        }
    }

    /// What this node holds live, for its peers.
    fn snapshot(&self, s: &State) -> NodeSnapshot {
        let calls = self.calls();
        NodeSnapshot {
            online: s.presence.entries().collect(),
            calls: s
                .call_conns
                .keys()
                .filter_map(|&(study, user)| {
                    calls
                        .participants(study)
                        .into_iter()
                        .find(|p| p.user_id == user)
                        .map(|p| (study, p))
                })
                .collect(),
        }
    }

    /// Joins a bus: from now on, what changes here is sent to `bus`, starting with
    /// a `hello` carrying this node's state (call again after reconnecting to the
    /// bus, to trade snapshots with the peers).
    pub fn join_bus(&self, bus: mpsc::Sender<ClusterMessage>) {
        let mut s = self.lock();
        s.bus = Some(bus);
        let snapshot = self.snapshot(&s);
        Self::share(&mut s, ClusterMessage::Hello { snapshot });
    }

    /// Leaves the bus (shutting down): peers forget this node's users and calls at
    /// once. The sender is dropped, so the publisher ends after sending the rest.
    pub fn leave_bus(&self) {
        let mut s = self.lock();
        Self::share(&mut s, ClusterMessage::Leaving);
        s.bus = None;
    }

    /// Sends a heartbeat and drops the peers silent for longer than `expiry`.
    pub fn cluster_tick(&self, now: Instant, expiry: Duration) {
        let mut s = self.lock();
        Self::share(&mut s, ClusterMessage::Heartbeat);
        for (node, changes) in s.peers.expire(now, expiry) {
            tracing::warn!(%node, "a peer node went silent; its users are offline");
            self.announce_peer_changes(&mut s, changes);
        }
        metrics::gauge!("coup_cluster_peers").set(s.peers.len() as f64);
    }

    /// Applies what a peer node sent.
    pub fn apply(&self, node: NodeId, message: ClusterMessage, now: Instant) {
        let mut s = self.lock();
        s.peers.heard(node, now);
        match message {
            ClusterMessage::Events { events } => self.deliver_events(&mut s, &events),
            ClusterMessage::Hello { snapshot } => {
                let changes = s.peers.replace(node, snapshot, now);
                self.announce_peer_changes(&mut s, changes);
                let mine = self.snapshot(&s);
                Self::share(&mut s, ClusterMessage::Snapshot { snapshot: mine });
            }
            ClusterMessage::Snapshot { snapshot } => {
                let changes = s.peers.replace(node, snapshot, now);
                self.announce_peer_changes(&mut s, changes);
            }
            ClusterMessage::Heartbeat => {}
            ClusterMessage::Leaving => {
                let changes = s.peers.remove(node);
                self.announce_peer_changes(&mut s, changes);
            }
            ClusterMessage::Presence {
                study_id,
                user_id,
                online,
            } => {
                if let Some(change) = s.peers.set_online(node, study_id, user_id, online, now) {
                    self.announce_peer_presence(&mut s, change);
                }
            }
            ClusterMessage::Typing {
                study_id,
                user_id,
                typing,
            } => self.broadcast(
                &mut s,
                study_id,
                &ServerFrame::Typing {
                    study_id,
                    user_id,
                    typing,
                },
            ),
            ClusterMessage::CallJoined {
                study_id,
                participant,
            } => {
                s.peers.set_call(
                    node,
                    study_id,
                    participant.user_id,
                    Some(participant.media),
                    now,
                );
                self.calls().admit(study_id, participant);
                self.broadcast(
                    &mut s,
                    study_id,
                    &ServerFrame::CallParticipantJoined {
                        study_id,
                        participant,
                    },
                );
            }
            ClusterMessage::CallLeft { study_id, user_id } => {
                s.peers.set_call(node, study_id, user_id, None, now);
                self.remote_call_left(&mut s, study_id, user_id);
            }
            ClusterMessage::CallMedia {
                study_id,
                user_id,
                media,
            } => {
                s.peers.set_call(node, study_id, user_id, Some(media), now);
                if self.calls().set_media(study_id, user_id, media).is_ok() {
                    self.broadcast(
                        &mut s,
                        study_id,
                        &ServerFrame::CallMedia {
                            study_id,
                            user_id,
                            media,
                        },
                    );
                }
            }
            ClusterMessage::Signal {
                study_id,
                from,
                to,
                kind,
                payload,
            } => {
                if let Some(target) = s.call_conns.get(&(study_id, to)).copied() {
                    let frame = text(&ServerFrame::Signal {
                        study_id,
                        from,
                        kind,
                        payload,
                    });
                    self.push(&mut s, target, None, None, frame);
                }
            }
        }
    }

    /// A peer's participant left a call; announced unless they are (now) in it here.
    fn remote_call_left(&self, s: &mut State, study: StudyId, user: UserId) {
        if s.call_conns.contains_key(&(study, user)) || !self.calls().leave(study, user) {
            return;
        }
        self.broadcast(
            s,
            study,
            &ServerFrame::CallParticipantLeft {
                study_id: study,
                user_id: user,
            },
        );
    }

    /// A change in what the peers report, told to this node's subscribers unless
    /// this node's own connections keep the user online.
    fn announce_peer_presence(&self, s: &mut State, change: PresenceChange) {
        let (study, user, online) = match change {
            PresenceChange::Online(study, user) => (study, user, true),
            PresenceChange::Offline(study, user) => (study, user, false),
        };
        if s.presence.is_online(study, user) {
            return;
        }
        self.broadcast(
            s,
            study,
            &ServerFrame::Presence {
                study_id: study,
                user_id: user,
                online,
            },
        );
    }

    fn announce_peer_changes(&self, s: &mut State, changes: PeerChanges) {
        for change in changes.presence {
            self.announce_peer_presence(s, change);
        }
        for (study, user) in changes.left_calls {
            self.remote_call_left(s, study, user);
        }
        for (study, participant) in changes.joined_calls {
            self.calls().admit(study, participant);
            self.broadcast(
                s,
                study,
                &ServerFrame::CallParticipantJoined {
                    study_id: study,
                    participant,
                },
            );
        }
    }
}

impl EventSink for Hub {
    /// Delivers committed events to this node's connections and, with a bus, to
    /// the other nodes'.
    fn publish(&self, events: &[DomainEvent]) {
        let mut s = self.lock();
        self.deliver_events(&mut s, events);
        if s.bus.is_some() {
            Self::share(
                &mut s,
                ClusterMessage::Events {
                    events: events.to_vec(),
                },
            );
        }
    }
}
