//! The hub: every live connection, what it is subscribed to, and the real-time
//! state machines of `coup-core` (presence, typing, calls). It is the core's
//! [`EventSink`]: committed events are routed to frames and queued to the right
//! connections, in commit order.
//!
//! Every connection has a bounded queue; a connection whose queue is full is closed
//! as a slow consumer instead of growing memory. Frames are serialized once per
//! delivery and shared between recipients.
//!
//! A subscription with a cursor replays what its client missed before it goes
//! live. The replay (driven by `connection`) reads the study's change feed in
//! batches and queues each batch only as the client reads the last (a window of
//! permits per connection), so a long absence never fills the queue; meanwhile
//! the study's live chat changes wait in a bounded hold (dropped on overflow:
//! the store has them, and the replay reads on), and everything else passes.
//! Going live sends `subscribed` with the change the replay reached, then the
//! held changes after it.
//!
//! With a bus ([`crate::bus`]), the hub also tells the other nodes what changes
//! here (committed events, presence, typing, calls, signals for participants
//! connected elsewhere) and applies what they tell it ([`Hub::apply`]). Presence a
//! user sees is the union of this node's connections and what live peers report;
//! call rooms hold every node's participants, so the participant limit and the
//! relay rule hold across nodes.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
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
use coup_core::{Error, EventSink, Reason};
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio_util::sync::CancellationToken;

/// A connection's id within this process.
pub type ConnId = u64;

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
    /// Replaying: the study's live chat changes wait here with their change
    /// numbers; `overflowed` when some were dropped for want of room (the replay
    /// then reads them from the store before going live).
    Replaying {
        held: Vec<(i64, Frame)>,
        overflowed: bool,
    },
    Live,
}

impl Subscription {
    fn replaying() -> Self {
        Self::Replaying {
            held: Vec::new(),
            overflowed: false,
        }
    }
}

/// What [`Hub::go_live`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoLive {
    /// The subscription is live.
    Live,
    /// Live changes were dropped while replaying: read on from the store.
    Behind,
    /// The subscription or the connection is gone.
    Gone,
}

struct Conn {
    user: UserId,
    /// The session the connection authenticated with (its stored hash).
    token_hash: String,
    tx: mpsc::Sender<Outbound>,
    ending: Ending,
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
    /// Live chat changes held while one subscription replays.
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
        ending: Ending,
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
                ending,
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

    /// Queues a frame to one connection; a full queue closes it as a slow
    /// consumer. A chat change (`change`) for a study the connection is still
    /// replaying is held instead.
    fn push(
        &self,
        s: &mut State,
        id: ConnId,
        study: Option<StudyId>,
        change: Option<i64>,
        frame: Frame,
    ) {
        let Some(conn) = s.conns.get_mut(&id) else {
            return;
        };
        if let (Some(change), Some(Subscription::Replaying { held, overflowed })) =
            (change, study.and_then(|st| conn.subs.get_mut(&st)))
        {
            if held.len() < self.limits.replay_buffer {
                held.push((change, frame));
            } else {
                // The store has it: the replay reads on before going live.
                held.clear();
                *overflowed = true;
            }
            return;
        }
        if conn.tx.try_send(Outbound::frame(frame)).is_ok() {
            return;
        }
        self.slow_consumer(s, id);
    }

    /// Ends a connection whose queue is full: stop growing, drop the reader.
    fn slow_consumer(&self, s: &mut State, id: ConnId) {
        let Some(conn) = s.conns.get(&id) else {
            return;
        };
        metrics::counter!("coup_ws_slow_consumers_total").increment(1);
        conn.ending.close(close::SLOW_CONSUMER, "slow consumer");
        self.drop_conn(s, id);
    }

    /// Queues a frame to one connection (a direct answer).
    pub fn reply(&self, id: ConnId, frame: &ServerFrame) {
        let mut s = self.lock();
        self.push(&mut s, id, None, None, text(frame));
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
        let tx = match s.conns.get(&id) {
            Some(conn) if matches!(conn.subs.get(&study), Some(Subscription::Replaying { .. })) => {
                conn.tx.clone()
            }
            _ => return false,
        };
        for (frame, permit) in frames {
            let outbound = Outbound {
                frame,
                window: Some(permit),
            };
            if tx.try_send(outbound).is_err() {
                self.slow_consumer(&mut s, id);
                return false;
            }
        }
        true
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
        let change = frame.change();
        for id in targets {
            self.push(s, id, Some(study), change, body.clone());
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

    /// Starts a subscription: until [`Self::go_live`], the study's chat changes
    /// are held back so the replay can be delivered first, in order.
    pub fn begin_subscribe(&self, id: ConnId, study: StudyId) -> Result<(), HubError> {
        let mut s = self.lock();
        let conn = s
            .conns
            .get_mut(&id)
            .ok_or(HubError::Core(Error::Unauthorized("connection closed")))?;
        if conn.subs.contains_key(&study) {
            return Err(HubError::Core(
                Error::Conflict("already subscribed to this study".into())
                    .because(Reason::AlreadySubscribed),
            ));
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
        conn.subs.insert(study, Subscription::replaying());
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

    /// Ends a subscription's replay once it reached change `reached` (and the
    /// study's sequence `last_seq`): `subscribed`, then the held changes after
    /// `reached`, then live; presence follows. If held changes were dropped, the
    /// replay must read on from `reached` first ([`GoLive::Behind`]).
    pub fn go_live(
        &self,
        id: ConnId,
        study: StudyId,
        request_id: Option<String>,
        reached: i64,
        last_seq: i64,
    ) -> GoLive {
        let mut s = self.lock();
        let Some(conn) = s.conns.get_mut(&id) else {
            return GoLive::Gone;
        };
        let user = conn.user;
        let held = match conn.subs.get_mut(&study) {
            Some(Subscription::Replaying { overflowed, held }) if *overflowed => {
                *overflowed = false;
                held.clear();
                return GoLive::Behind;
            }
            Some(sub @ Subscription::Replaying { .. }) => {
                match std::mem::replace(sub, Subscription::Live) {
                    Subscription::Replaying { held, .. } => held,
                    Subscription::Live => Vec::new(),
                }
            }
            _ => return GoLive::Gone,
        };
        let became_online = s.presence.connect(study, user).is_some();
        let mut online = s.presence.online(study);
        online.extend(s.peers.online(study));
        online.sort();
        online.dedup();
        let subscribed = text(&ServerFrame::Subscribed {
            request_id,
            study_id: study,
            last_seq,
            last_change: reached,
            online,
        });
        self.push(&mut s, id, None, None, subscribed);
        for (_, frame) in held.into_iter().filter(|(change, _)| *change > reached) {
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
        if s.conns.contains_key(&id) {
            GoLive::Live
        } else {
            GoLive::Gone
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

    /// The connection's user, if it is subscribed to the study (live or replaying).
    fn live_user(&self, s: &State, id: ConnId, study: StudyId) -> Result<UserId, HubError> {
        match s.conns.get(&id) {
            Some(conn) if conn.subs.contains_key(&study) => Ok(conn.user),
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
            return Err(HubError::Core(
                Error::Conflict("you are not in this call".into()).because(Reason::NotInCall),
            ));
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
            return Err(HubError::Core(
                Error::Forbidden("join the call first").because(Reason::NotInCall),
            ));
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
            return Err(HubError::Core(
                Error::Forbidden("join the call first").because(Reason::NotInCall),
            ));
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

    /// Closes the user's connections whose session matches, saying why.
    fn end_sessions(
        &self,
        s: &mut State,
        user: UserId,
        why: Option<Reason>,
        matching: impl Fn(&str) -> bool,
    ) {
        let why = why.unwrap_or(Reason::SessionExpired).as_str();
        let ids: Vec<ConnId> = s
            .by_user
            .get(&user)
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        for id in ids {
            match s.conns.get(&id) {
                Some(conn) if matching(&conn.token_hash) => {
                    conn.ending.close(close::SESSION_ENDED, why);
                }
                _ => continue,
            }
            self.drop_conn(s, id);
        }
    }

    fn deliver(&self, s: &mut State, delivery: Delivery) {
        let session_end = delivery.session_end_reason();
        match delivery {
            Delivery::Frame(Audience::Study(study), frame) => self.broadcast(s, study, &frame),
            Delivery::Frame(Audience::User(user), frame) => self.to_user(s, user, &frame),
            Delivery::EndSubscription(study, user, reason) => {
                self.end_subscriptions(s, study, Some(user), reason)
            }
            Delivery::EndStudy(study) => {
                self.end_subscriptions(s, study, None, UnsubscribeReason::StudyDeleted)
            }
            Delivery::EndSessions(user) => self.end_sessions(s, user, session_end, |_| true),
            Delivery::EndSession(user, token_hash) => {
                self.end_sessions(s, user, session_end, |t| t == token_hash)
            }
            Delivery::EndOtherSessions(user, kept) => {
                self.end_sessions(s, user, session_end, |t| t != kept)
            }
            Delivery::StopTyping(study, user) => {
                if let Some(change) = s.typing.stop(study, user) {
                    self.announce_typing(s, change);
                }
            }
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
