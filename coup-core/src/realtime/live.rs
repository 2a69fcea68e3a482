//! Live state as one value: a node's connections and what they are subscribed to,
//! presence (this node's devices ∪ what live peers report, with expiry), typing,
//! calls (one record of who is in which call on which node) and the merge of a
//! resuming subscription's catch-up with live chat changes.
//!
//! [`Live`] does no I/O. Each input — a connection opens, subscribes, goes live,
//! unsubscribes or closes; a client frame's effect (typing, a call); committed
//! events; a peer's [`ClusterMessage`]; a tick — returns the [`Effect`]s the
//! server must carry out: queue a frame to connections, publish a message on the
//! bus, close a connection. The server's hub holds the sockets' queues and
//! executes them; when a queue is full it tells `Live` the connection closed.
//!
//! Frames are encoded once per delivery by the encoder given to [`Live::new`]
//! (the server serializes to shared bytes) and the encoded value is cloned to
//! every recipient.
//!
//! The first local subscription of a study asks the bus to watch the study's
//! channel ([`Effect::Watch`]), the last one's end to stop ([`Effect::Unwatch`]):
//! the rule is [`Interest`], the choice of channel per message
//! [`ClusterMessage::channel`]. Until the bus confirms a watch
//! ([`Live::watched`]), a subscription to that study must not read its catch-up
//! ([`Live::awaits_watch`]): a peer's event committed after the read but
//! published before Redis subscribed would reach neither the read nor the
//! subscription.
//!
//! A subscription with a cursor replays what its client missed before it goes
//! live: meanwhile the study's live chat changes wait in a bounded hold (on
//! overflow all are dropped and the replay reads them from the store), and every
//! other frame passes. [`Live::go_live`] sends `subscribed` with the change the
//! replay reached, then the held changes after it, and counts the user online.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::error::{Error, Reason};
use crate::events::DomainEvent;
use crate::ids::{StudyId, UserId};
use crate::realtime::calls::{CallRooms, MediaState, Participant, Site};
use crate::realtime::cluster::{
    Channel, ClusterMessage, Interest, NodeId, NodeSnapshot, Peers, Ticket,
};
use crate::realtime::presence::{Presence, PresenceChange};
use crate::realtime::protocol::{
    Audience, Delivery, ServerFrame, SignalKind, UnsubscribeReason, close, codes, route,
};
use crate::realtime::typing::{Typing, TypingChange};

/// A connection's id within one node.
pub type ConnId = u64;

/// Limits live state enforces.
#[derive(Debug, Clone)]
pub struct LiveLimits {
    /// Subscriptions one connection may hold.
    pub max_subscriptions: usize,
    /// Live chat changes held while one subscription replays.
    pub replay_buffer: usize,
    /// Participants of one call.
    pub call_limit: usize,
}

/// What the server must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect<F> {
    /// Queue the frame to each of these connections, in order after what was
    /// queued to them before.
    Deliver {
        /// The recipients.
        to: Vec<ConnId>,
        /// The frame, encoded once.
        frame: F,
    },
    /// Publish the message on the bus for the other nodes, on its channel.
    Publish(ClusterMessage),
    /// Listen to the study's channel: it got its first local subscriber.
    Watch(StudyId),
    /// Stop listening to the study's channel: its last local subscriber left.
    Unwatch(StudyId),
    /// Close the connection with a close frame (live state has forgotten it).
    Close {
        /// The connection.
        conn: ConnId,
        /// RFC 6455 close code (`protocol::close`).
        code: u16,
        /// The close frame's reason.
        reason: &'static str,
    },
}

/// A refusal, answered with an error frame.
#[derive(Debug)]
pub enum LiveError {
    /// A core rule refused it.
    Core(Error),
    /// A protocol rule refused it (code from `protocol::codes`).
    Protocol(&'static str, String),
}

impl From<Error> for LiveError {
    fn from(e: Error) -> Self {
        Self::Core(e)
    }
}

/// What [`Live::go_live`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoLive {
    /// The subscription is live.
    Live,
    /// Live changes were dropped while replaying: read on from the store.
    Behind,
    /// The subscription or the connection is gone.
    Gone,
}

#[derive(Debug)]
enum Subscription<F> {
    /// Replaying: the study's live chat changes wait here with their change
    /// numbers; `overflowed` when some were dropped for want of room.
    Replaying {
        held: Vec<(i64, F)>,
        overflowed: bool,
    },
    /// Live after a replay that delivered every change up to `reached`: a live
    /// change at or below it (applied after the replay read it) is not sent again.
    Live { reached: i64 },
}

#[derive(Debug)]
struct Conn<F> {
    user: UserId,
    /// The session the connection authenticated with (its stored hash).
    session: String,
    subs: HashMap<StudyId, Subscription<F>>,
}

/// A node's live state. `F` is an encoded frame.
#[derive(Debug)]
pub struct Live<F> {
    node: NodeId,
    limits: LiveLimits,
    encode: fn(&ServerFrame) -> F,
    next_id: ConnId,
    conns: HashMap<ConnId, Conn<F>>,
    by_study: HashMap<StudyId, HashSet<ConnId>>,
    by_user: HashMap<UserId, HashSet<ConnId>>,
    presence: Presence,
    typing: Typing,
    calls: CallRooms,
    /// What the other nodes report (empty without a bus).
    peers: Peers,
    /// The study channels wanted, and which the bus confirmed.
    interest: Interest,
    /// Whether what changes here is published for other nodes.
    on_bus: bool,
}

/// The effects of one input, in the order to carry them out.
pub type Effects<F> = Vec<Effect<F>>;

impl<F: Clone> Live<F> {
    /// Empty live state of node `node`, encoding frames with `encode`.
    pub fn new(node: NodeId, limits: LiveLimits, encode: fn(&ServerFrame) -> F) -> Self {
        Self {
            node,
            calls: CallRooms::new(limits.call_limit),
            limits,
            encode,
            next_id: 0,
            conns: HashMap::new(),
            by_study: HashMap::new(),
            by_user: HashMap::new(),
            presence: Presence::new(),
            typing: Typing::new(),
            peers: Peers::new(),
            interest: Interest::new(),
            on_bus: false,
        }
    }

    /// This node's identity on the bus.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// How many peers are known.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// An authenticated connection of `user` opened with the session whose
    /// stored hash is `session`.
    pub fn open(&mut self, user: UserId, session: String) -> ConnId {
        self.next_id += 1;
        let id = self.next_id;
        self.conns.insert(
            id,
            Conn {
                user,
                session,
                subs: HashMap::new(),
            },
        );
        self.by_user.entry(user).or_default().insert(id);
        id
    }

    /// The connection closed (or was closed): its presence, typing and calls end.
    pub fn close(&mut self, id: ConnId) -> Effects<F> {
        let mut out = Vec::new();
        self.drop_conn(&mut out, id);
        out
    }

    /// Starts a subscription: until [`Self::go_live`], the study's chat changes
    /// are held back so the replay can be delivered first, in order. The first
    /// subscription of the study here watches its channel.
    pub fn subscribe(&mut self, id: ConnId, study: StudyId) -> Result<Effects<F>, LiveError> {
        let conn = self
            .conns
            .get_mut(&id)
            .ok_or(LiveError::Core(Error::Unauthorized("connection closed")))?;
        if conn.subs.contains_key(&study) {
            return Err(LiveError::Core(
                Error::Conflict("already subscribed to this study".into())
                    .because(Reason::AlreadySubscribed),
            ));
        }
        if conn.subs.len() >= self.limits.max_subscriptions {
            return Err(LiveError::Protocol(
                codes::TOO_MANY_SUBSCRIPTIONS,
                format!(
                    "at most {} subscriptions per connection",
                    self.limits.max_subscriptions
                ),
            ));
        }
        conn.subs.insert(
            study,
            Subscription::Replaying {
                held: Vec::new(),
                overflowed: false,
            },
        );
        let mut out = Vec::new();
        let subscribers = self.by_study.entry(study).or_default();
        if subscribers.is_empty() {
            self.interest.watch(study);
            out.push(Effect::Watch(study));
        }
        subscribers.insert(id);
        Ok(out)
    }

    /// Whether the connection's subscription to the study must wait, before
    /// reading its catch-up, for the bus to confirm the study's channel. False
    /// off the bus (nothing comes from peers) and once the subscription is gone.
    pub fn awaits_watch(&self, id: ConnId, study: StudyId) -> bool {
        self.on_bus && self.is_replaying(id, study) && !self.interest.is_confirmed(study)
    }

    /// The bus listens to these study channels for these watches; true if that
    /// confirmed a current watch (subscriptions waiting may read on).
    pub fn watched(&mut self, confirmed: &[(StudyId, Ticket)]) -> bool {
        let mut any = false;
        for &(study, ticket) in confirmed {
            any |= self.interest.confirm(study, ticket);
        }
        any
    }

    /// The study channels watched or unwatched since the bus last looked, each
    /// with its current watch's ticket (`None`: unwatched).
    pub fn interest_changes(&mut self) -> Vec<(StudyId, Option<Ticket>)> {
        self.interest.changes()
    }

    /// Every watched study channel with its ticket, for a bus subscribing afresh.
    pub fn interest(&mut self) -> Vec<(StudyId, Ticket)> {
        self.interest.all()
    }

    /// Whether the connection's subscription to the study is still replaying.
    pub fn is_replaying(&self, id: ConnId, study: StudyId) -> bool {
        self.conns
            .get(&id)
            .is_some_and(|c| matches!(c.subs.get(&study), Some(Subscription::Replaying { .. })))
    }

    /// Ends a subscription's replay once it reached change `reached` (and the
    /// study's sequence `last_seq`): `subscribed`, then the held changes after
    /// `reached`, then live; presence follows. If held changes were dropped, the
    /// replay must read on from `reached` first ([`GoLive::Behind`]).
    pub fn go_live(
        &mut self,
        id: ConnId,
        study: StudyId,
        request_id: Option<String>,
        reached: i64,
        last_seq: i64,
    ) -> (GoLive, Effects<F>) {
        let mut out = Vec::new();
        let Some(conn) = self.conns.get_mut(&id) else {
            return (GoLive::Gone, out);
        };
        let user = conn.user;
        let held = match conn.subs.get_mut(&study) {
            Some(Subscription::Replaying { overflowed, held }) if *overflowed => {
                *overflowed = false;
                held.clear();
                return (GoLive::Behind, out);
            }
            Some(sub @ Subscription::Replaying { .. }) => {
                match std::mem::replace(sub, Subscription::Live { reached }) {
                    Subscription::Replaying { held, .. } => held,
                    Subscription::Live { .. } => Vec::new(),
                }
            }
            _ => return (GoLive::Gone, out),
        };
        let became_online = self.presence.connect(study, user).is_some();
        let mut online = self.presence.online(study);
        online.extend(self.peers.online(study));
        online.sort();
        online.dedup();
        self.tell_conn(
            &mut out,
            id,
            &ServerFrame::Subscribed {
                request_id,
                study_id: study,
                last_seq,
                last_change: reached,
                online,
            },
        );
        for (_, frame) in held.into_iter().filter(|(change, _)| *change > reached) {
            out.push(Effect::Deliver {
                to: vec![id],
                frame,
            });
        }
        if became_online {
            self.announce_local_presence(&mut out, study, user, true);
        }
        (GoLive::Live, out)
    }

    /// Ends a subscription at the client's request (`None` if there was none),
    /// or one that failed its checks before going live.
    pub fn unsubscribe(&mut self, id: ConnId, study: StudyId) -> Option<Effects<F>> {
        let conn = self.conns.get_mut(&id)?;
        let sub = conn.subs.remove(&study)?;
        let user = conn.user;
        let mut out = Vec::new();
        self.remove_sub(
            &mut out,
            id,
            user,
            study,
            matches!(sub, Subscription::Live { .. }),
        );
        Some(out)
    }

    /// A typing start or stop from a subscriber.
    pub fn typing(
        &mut self,
        id: ConnId,
        study: StudyId,
        typing: bool,
        now: Instant,
    ) -> Result<Effects<F>, LiveError> {
        let user = self.subscriber(id, study)?;
        let change = if typing {
            self.typing.start(study, user, now)
        } else {
            self.typing.stop(study, user)
        };
        let mut out = Vec::new();
        if let Some(change) = change {
            self.announce_typing(&mut out, change);
        }
        Ok(out)
    }

    /// Ends indicators that were not refreshed in time.
    pub fn expire_typing(&mut self, now: Instant) -> Effects<F> {
        let mut out = Vec::new();
        for change in self.typing.expire(now) {
            self.announce_typing(&mut out, change);
        }
        out
    }

    /// Joins the study's call from this connection; returns who is in it (the
    /// joiner last).
    pub fn call_join(
        &mut self,
        id: ConnId,
        study: StudyId,
        media: MediaState,
    ) -> Result<(Vec<Participant>, Effects<F>), LiveError> {
        let user = self.subscriber(id, study)?;
        let participants = self.calls.join(study, user, media, Site::Conn(id))?;
        let participant = Participant {
            user_id: user,
            media,
        };
        let mut out = Vec::new();
        self.share(
            &mut out,
            ClusterMessage::CallJoined {
                study_id: study,
                participant,
            },
        );
        self.tell_study(
            &mut out,
            study,
            &ServerFrame::CallParticipantJoined {
                study_id: study,
                participant,
            },
        );
        Ok((participants, out))
    }

    /// Leaves the study's call joined from this connection.
    pub fn call_leave(&mut self, id: ConnId, study: StudyId) -> Result<Effects<F>, LiveError> {
        let user = self.subscriber(id, study)?;
        if !self.calls.leave(study, user, Site::Conn(id)) {
            return Err(LiveError::Core(
                Error::Conflict("you are not in this call".into()).because(Reason::NotInCall),
            ));
        }
        let mut out = Vec::new();
        self.announce_local_call_left(&mut out, study, user);
        Ok(out)
    }

    /// Relays a signal to one other participant of the same call: to their
    /// connection here, or on the bus for the node they are connected to.
    pub fn signal(
        &mut self,
        id: ConnId,
        study: StudyId,
        to: UserId,
        kind: SignalKind,
        payload: serde_json::Value,
    ) -> Result<Effects<F>, LiveError> {
        let from = self.in_call_here(id, study)?;
        self.calls.check_relay(study, from, to)?;
        let mut out = Vec::new();
        match self.calls.site(study, to) {
            Some(Site::Conn(target)) => self.tell_conn(
                &mut out,
                target,
                &ServerFrame::Signal {
                    study_id: study,
                    from,
                    kind,
                    payload,
                },
            ),
            _ => self.share(
                &mut out,
                ClusterMessage::Signal {
                    study_id: study,
                    from,
                    to,
                    kind,
                    payload,
                },
            ),
        }
        Ok(out)
    }

    /// Changes this participant's media state and tells the study.
    pub fn media(
        &mut self,
        id: ConnId,
        study: StudyId,
        media: MediaState,
    ) -> Result<Effects<F>, LiveError> {
        let user = self.in_call_here(id, study)?;
        self.calls.set_media(study, user, media)?;
        let mut out = Vec::new();
        self.share(
            &mut out,
            ClusterMessage::CallMedia {
                study_id: study,
                user_id: user,
                media,
            },
        );
        self.tell_study(
            &mut out,
            study,
            &ServerFrame::CallMedia {
                study_id: study,
                user_id: user,
                media,
            },
        );
        Ok(out)
    }

    /// Events this node committed, in commit order: delivered here and, on a
    /// bus, published for the other nodes.
    ///
    /// Each run of consecutive events bound for one channel crosses as one
    /// message (in commit order: one publisher's messages reach a subscriber in
    /// order across channels); events that do nothing live do not cross.
    pub fn committed(&mut self, events: &[DomainEvent]) -> Effects<F> {
        let mut out = Vec::new();
        let mut runs: Vec<(Channel, Vec<DomainEvent>)> = Vec::new();
        for event in events {
            let deliveries = route(event);
            let channel = Channel::of_deliveries(&deliveries);
            for delivery in deliveries {
                self.deliver(&mut out, delivery);
            }
            match (channel, runs.last_mut()) {
                (None, _) => {}
                (Some(channel), Some((last, run))) if *last == channel => run.push(event.clone()),
                (Some(channel), _) => runs.push((channel, vec![event.clone()])),
            }
        }
        for (channel, events) in runs {
            let study_id = match channel {
                Channel::Study(study) => Some(study),
                Channel::Base => None,
            };
            self.share(&mut out, ClusterMessage::Events { study_id, events });
        }
        out
    }

    /// Joins the bus: from now on what changes here is published, starting with
    /// a `hello` carrying this node's state (again after each reconnection to the
    /// bus, to trade snapshots with the peers).
    pub fn join_bus(&mut self) -> Effects<F> {
        self.on_bus = true;
        let mut out = Vec::new();
        let snapshot = self.snapshot();
        self.share(&mut out, ClusterMessage::Hello { snapshot });
        out
    }

    /// Leaves the bus (shutting down): peers forget this node's users and calls
    /// at once.
    pub fn leave_bus(&mut self) -> Effects<F> {
        let mut out = Vec::new();
        self.share(&mut out, ClusterMessage::Leaving);
        self.on_bus = false;
        out
    }

    /// The heartbeat: tells the peers this node lives and drops the peers silent
    /// for longer than `expiry`, with their users and calls.
    pub fn tick(&mut self, now: Instant, expiry: Duration) -> Effects<F> {
        let mut out = Vec::new();
        self.share(&mut out, ClusterMessage::Heartbeat);
        for (node, presence) in self.peers.expire(now, expiry) {
            self.forget_peer(&mut out, node, presence);
        }
        out
    }

    /// Applies what peer `node` published.
    pub fn apply(&mut self, node: NodeId, message: ClusterMessage, now: Instant) -> Effects<F> {
        let mut out = Vec::new();
        if node == self.node {
            return out;
        }
        self.peers.heard(node, now);
        match message {
            ClusterMessage::Events { events, .. } => self.deliver_events(&mut out, &events),
            ClusterMessage::Hello { snapshot } => {
                self.replace_peer(&mut out, node, snapshot, now);
                let snapshot = self.snapshot();
                self.share(&mut out, ClusterMessage::Snapshot { snapshot });
            }
            ClusterMessage::Snapshot { snapshot } => {
                self.replace_peer(&mut out, node, snapshot, now)
            }
            ClusterMessage::Heartbeat => {}
            ClusterMessage::Leaving => {
                let presence = self.peers.remove(node);
                self.forget_peer(&mut out, node, presence);
            }
            ClusterMessage::Presence {
                study_id,
                user_id,
                online,
            } => {
                if let Some(change) = self.peers.set_online(node, study_id, user_id, online, now) {
                    self.announce_peer_presence(&mut out, change);
                }
            }
            ClusterMessage::Typing {
                study_id,
                user_id,
                typing,
            } => self.tell_study(
                &mut out,
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
            } => self.admit(&mut out, node, study_id, participant),
            ClusterMessage::CallLeft { study_id, user_id } => {
                self.peer_call_left(&mut out, node, study_id, user_id)
            }
            ClusterMessage::CallMedia {
                study_id,
                user_id,
                media,
            } => {
                if self.calls.site(study_id, user_id) == Some(Site::Node(node))
                    && self.calls.set_media(study_id, user_id, media).is_ok()
                {
                    self.tell_study(
                        &mut out,
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
                if let Some(Site::Conn(target)) = self.calls.site(study_id, to) {
                    self.tell_conn(
                        &mut out,
                        target,
                        &ServerFrame::Signal {
                            study_id,
                            from,
                            kind,
                            payload,
                        },
                    );
                }
            }
        }
        out
    }
}

impl<F: Clone> Live<F> {
    fn share(&self, out: &mut Effects<F>, message: ClusterMessage) {
        if self.on_bus {
            out.push(Effect::Publish(message));
        }
    }

    fn tell_conn(&self, out: &mut Effects<F>, id: ConnId, frame: &ServerFrame) {
        out.push(Effect::Deliver {
            to: vec![id],
            frame: (self.encode)(frame),
        });
    }

    fn tell_user(&self, out: &mut Effects<F>, user: UserId, frame: &ServerFrame) {
        let Some(ids) = self.by_user.get(&user) else {
            return;
        };
        out.push(Effect::Deliver {
            to: ids.iter().copied().collect(),
            frame: (self.encode)(frame),
        });
    }

    /// To every subscriber of the study; a chat change for a subscription still
    /// replaying is held instead, and one its replay already delivered is not
    /// sent.
    fn tell_study(&mut self, out: &mut Effects<F>, study: StudyId, frame: &ServerFrame) {
        let Some(ids) = self.by_study.get(&study) else {
            return;
        };
        let encoded = (self.encode)(frame);
        let change = frame.change();
        let mut to = Vec::with_capacity(ids.len());
        for id in ids {
            let sub = self.conns.get_mut(id).and_then(|c| c.subs.get_mut(&study));
            match (change, sub) {
                (Some(change), Some(Subscription::Replaying { held, overflowed })) => {
                    if held.len() < self.limits.replay_buffer {
                        held.push((change, encoded.clone()));
                    } else {
                        // The store has it: the replay reads on before going live.
                        held.clear();
                        *overflowed = true;
                    }
                }
                (Some(change), Some(Subscription::Live { reached })) if change <= *reached => {}
                _ => to.push(*id),
            }
        }
        if !to.is_empty() {
            out.push(Effect::Deliver { to, frame: encoded });
        }
    }

    /// The connection's user, if it is subscribed to the study (live or replaying).
    fn subscriber(&self, id: ConnId, study: StudyId) -> Result<UserId, LiveError> {
        match self.conns.get(&id) {
            Some(conn) if conn.subs.contains_key(&study) => Ok(conn.user),
            _ => Err(LiveError::Protocol(
                codes::NOT_SUBSCRIBED,
                "subscribe to the study first".into(),
            )),
        }
    }

    /// The connection's user, if they are in the study's call from it.
    fn in_call_here(&self, id: ConnId, study: StudyId) -> Result<UserId, LiveError> {
        let user = self.subscriber(id, study)?;
        if self.calls.site(study, user) != Some(Site::Conn(id)) {
            return Err(LiveError::Core(
                Error::Forbidden("join the call first").because(Reason::NotInCall),
            ));
        }
        Ok(user)
    }

    fn drop_conn(&mut self, out: &mut Effects<F>, id: ConnId) {
        let Some(conn) = self.conns.remove(&id) else {
            return;
        };
        if let Some(set) = self.by_user.get_mut(&conn.user) {
            set.remove(&id);
            if set.is_empty() {
                self.by_user.remove(&conn.user);
            }
        }
        let mut subs: Vec<(StudyId, bool)> = conn
            .subs
            .into_iter()
            .map(|(study, sub)| (study, matches!(sub, Subscription::Live { .. })))
            .collect();
        subs.sort();
        for (study, was_live) in subs {
            self.remove_sub(out, id, conn.user, study, was_live);
        }
    }

    /// Forgets one subscription of a connection (already out of its map) and
    /// announces what follows: its call ends, and the user goes offline if it
    /// was their last live subscription here and no peer reports them.
    fn remove_sub(
        &mut self,
        out: &mut Effects<F>,
        id: ConnId,
        user: UserId,
        study: StudyId,
        was_live: bool,
    ) {
        if let Some(set) = self.by_study.get_mut(&study) {
            set.remove(&id);
            if set.is_empty() {
                self.by_study.remove(&study);
                self.interest.unwatch(study);
                out.push(Effect::Unwatch(study));
            }
        }
        if self.calls.leave(study, user, Site::Conn(id)) {
            self.announce_local_call_left(out, study, user);
        }
        if was_live
            && let Some(PresenceChange::Offline(study, user)) =
                self.presence.disconnect(study, user)
        {
            if let Some(change) = self.typing.stop(study, user) {
                self.announce_typing(out, change);
            }
            self.announce_local_presence(out, study, user, false);
        }
    }

    /// This node's first live subscription of the user in the study came or its
    /// last went: peers hear it, subscribers here too unless a peer keeps the
    /// user online.
    fn announce_local_presence(
        &mut self,
        out: &mut Effects<F>,
        study: StudyId,
        user: UserId,
        online: bool,
    ) {
        self.share(
            out,
            ClusterMessage::Presence {
                study_id: study,
                user_id: user,
                online,
            },
        );
        if !self.peers.is_online(study, user) {
            self.tell_study(
                out,
                study,
                &ServerFrame::Presence {
                    study_id: study,
                    user_id: user,
                    online,
                },
            );
        }
    }

    /// A change in what the peers report, told to this node's subscribers unless
    /// this node's own connections keep the user online.
    fn announce_peer_presence(&mut self, out: &mut Effects<F>, change: PresenceChange) {
        let (study, user, online) = match change {
            PresenceChange::Online(study, user) => (study, user, true),
            PresenceChange::Offline(study, user) => (study, user, false),
        };
        if self.presence.is_online(study, user) {
            return;
        }
        self.tell_study(
            out,
            study,
            &ServerFrame::Presence {
                study_id: study,
                user_id: user,
                online,
            },
        );
    }

    fn announce_typing(&mut self, out: &mut Effects<F>, change: TypingChange) {
        self.share(
            out,
            ClusterMessage::Typing {
                study_id: change.study,
                user_id: change.user,
                typing: change.typing,
            },
        );
        self.tell_study(
            out,
            change.study,
            &ServerFrame::Typing {
                study_id: change.study,
                user_id: change.user,
                typing: change.typing,
            },
        );
    }

    fn announce_local_call_left(&mut self, out: &mut Effects<F>, study: StudyId, user: UserId) {
        self.share(
            out,
            ClusterMessage::CallLeft {
                study_id: study,
                user_id: user,
            },
        );
        self.announce_call_left(out, study, user);
    }

    fn announce_call_left(&mut self, out: &mut Effects<F>, study: StudyId, user: UserId) {
        self.tell_study(
            out,
            study,
            &ServerFrame::CallParticipantLeft {
                study_id: study,
                user_id: user,
            },
        );
    }

    /// Seats a participant of peer `node` (or updates their media) and tells the
    /// study; ignored when the user is in the call through another place.
    fn admit(&mut self, out: &mut Effects<F>, node: NodeId, study: StudyId, p: Participant) {
        if self.calls.admit(study, p, node) {
            self.tell_study(
                out,
                study,
                &ServerFrame::CallParticipantJoined {
                    study_id: study,
                    participant: p,
                },
            );
        }
    }

    /// A participant of peer `node` left; announced only if they were seated
    /// there (not if they are, by now, in the call through another place).
    fn peer_call_left(&mut self, out: &mut Effects<F>, node: NodeId, study: StudyId, user: UserId) {
        if self.calls.leave(study, user, Site::Node(node)) {
            self.announce_call_left(out, study, user);
        }
    }

    fn replace_peer(
        &mut self,
        out: &mut Effects<F>,
        node: NodeId,
        snapshot: NodeSnapshot,
        now: Instant,
    ) {
        for change in self.peers.replace(node, snapshot.online, now) {
            self.announce_peer_presence(out, change);
        }
        let before = self.calls.seated(Some(node));
        for &(study, p) in &before {
            if !snapshot
                .calls
                .iter()
                .any(|(s, q)| *s == study && q.user_id == p.user_id)
            {
                self.peer_call_left(out, node, study, p.user_id);
            }
        }
        for (study, p) in snapshot.calls {
            if !before.contains(&(study, p)) {
                self.admit(out, node, study, p);
            }
        }
    }

    /// A peer left or went silent: its users' presence changes (already taken
    /// from `peers`) are announced, and its call participants leave.
    fn forget_peer(&mut self, out: &mut Effects<F>, node: NodeId, presence: Vec<PresenceChange>) {
        for change in presence {
            self.announce_peer_presence(out, change);
        }
        for (study, p) in self.calls.seated(Some(node)) {
            self.peer_call_left(out, node, study, p.user_id);
        }
    }

    /// What this node holds live, for its peers.
    fn snapshot(&self) -> NodeSnapshot {
        let mut online: Vec<_> = self.presence.entries().collect();
        online.sort();
        NodeSnapshot {
            online,
            calls: self.calls.seated(None),
        }
    }

    fn deliver_events(&mut self, out: &mut Effects<F>, events: &[DomainEvent]) {
        for event in events {
            for delivery in route(event) {
                self.deliver(out, delivery);
            }
        }
    }

    fn deliver(&mut self, out: &mut Effects<F>, delivery: Delivery) {
        let session_end = delivery.session_end_reason();
        match delivery {
            Delivery::Frame(Audience::Study(study), frame) => self.tell_study(out, study, &frame),
            Delivery::Frame(Audience::User(user), frame) => self.tell_user(out, user, &frame),
            Delivery::EndSubscription(study, user, reason) => {
                self.end_subscriptions(out, study, Some(user), reason)
            }
            Delivery::EndStudy(study) => {
                self.end_subscriptions(out, study, None, UnsubscribeReason::StudyDeleted)
            }
            Delivery::EndSessions(user) => self.end_sessions(out, user, session_end, |_| true),
            Delivery::EndSession(user, session) => {
                self.end_sessions(out, user, session_end, |s| s == session)
            }
            Delivery::EndOtherSessions(user, kept) => {
                self.end_sessions(out, user, session_end, |s| s != kept)
            }
            Delivery::StopTyping(study, user) => {
                if let Some(change) = self.typing.stop(study, user) {
                    self.announce_typing(out, change);
                }
            }
        }
    }

    fn end_subscriptions(
        &mut self,
        out: &mut Effects<F>,
        study: StudyId,
        only: Option<UserId>,
        reason: UnsubscribeReason,
    ) {
        let mut targets: Vec<(ConnId, UserId)> = self
            .by_study
            .get(&study)
            .map(|set| {
                set.iter()
                    .filter_map(|id| self.conns.get(id).map(|c| (*id, c.user)))
                    .filter(|(_, user)| only.is_none_or(|only| only == *user))
                    .collect()
            })
            .unwrap_or_default();
        targets.sort();
        for (id, user) in targets {
            let Some(sub) = self.conns.get_mut(&id).and_then(|c| c.subs.remove(&study)) else {
                continue;
            };
            self.tell_conn(
                out,
                id,
                &ServerFrame::Unsubscribed {
                    request_id: None,
                    study_id: study,
                    reason,
                },
            );
            self.remove_sub(
                out,
                id,
                user,
                study,
                matches!(sub, Subscription::Live { .. }),
            );
        }
    }

    /// Closes the user's connections whose session matches, saying why (the
    /// close frame's reason is a stable `Reason` an app words).
    fn end_sessions(
        &mut self,
        out: &mut Effects<F>,
        user: UserId,
        why: Option<Reason>,
        matching: impl Fn(&str) -> bool,
    ) {
        let why = why.unwrap_or(Reason::SessionExpired).as_str();
        let mut ids: Vec<ConnId> = self
            .by_user
            .get(&user)
            .map(|set| {
                set.iter()
                    .filter(|id| self.conns.get(id).is_some_and(|c| matching(&c.session)))
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        for id in ids {
            out.push(Effect::Close {
                conn: id,
                code: close::SESSION_ENDED,
                reason: why,
            });
            self.drop_conn(out, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    const T: Duration = Duration::from_secs(1);
    const EXPIRY: Duration = Duration::from_secs(30);

    type Node = Live<ServerFrame>;
    type Out = Effects<ServerFrame>;

    fn limits() -> LiveLimits {
        LiveLimits {
            max_subscriptions: 2,
            replay_buffer: 2,
            call_limit: 2,
        }
    }

    fn node() -> Node {
        Live::new(uuid::Uuid::new_v4(), limits(), ServerFrame::clone)
    }

    /// The `type` of a frame, as the wire names it.
    fn kind(frame: &ServerFrame) -> String {
        serde_json::to_value(frame).expect("frame")["type"]
            .as_str()
            .expect("tagged")
            .to_owned()
    }

    /// What `conn` was sent, in order.
    fn sent(out: &Out, conn: ConnId) -> Vec<ServerFrame> {
        out.iter()
            .filter_map(|e| match e {
                Effect::Deliver { to, frame } if to.contains(&conn) => Some(frame.clone()),
                _ => None,
            })
            .collect()
    }

    fn kinds(out: &Out, conn: ConnId) -> Vec<String> {
        sent(out, conn).iter().map(kind).collect()
    }

    fn published(out: &Out) -> Vec<ClusterMessage> {
        out.iter()
            .filter_map(|e| match e {
                Effect::Publish(m) => Some(m.clone()),
                _ => None,
            })
            .collect()
    }

    /// A connection of `user` with a live subscription to `study`; returns it
    /// and what going live caused.
    fn live_sub(live: &mut Node, user: UserId, study: StudyId) -> (ConnId, Out) {
        let conn = live.open(user, format!("session of {user}"));
        live.subscribe(conn, study).expect("subscribe");
        let (outcome, out) = live.go_live(conn, study, None, 0, 0);
        assert_eq!(outcome, GoLive::Live);
        (conn, out)
    }

    fn read_receipt(study: StudyId, user: UserId, change: i64) -> DomainEvent {
        DomainEvent::MessagesRead {
            study_id: study,
            user_id: user,
            last_read_seq: change,
            change,
        }
    }

    fn presence(study: StudyId, user: UserId, online: bool) -> ServerFrame {
        ServerFrame::Presence {
            study_id: study,
            user_id: user,
            online,
        }
    }

    #[test]
    fn presence_counts_live_devices_and_announces_first_and_last() {
        let (s, kim, lee) = (StudyId::new(), UserId::new(), UserId::new());
        let mut live = node();
        let (watcher, _) = live_sub(&mut live, lee, s);
        // (step, what the watcher hears)
        let (phone, out) = live_sub(&mut live, kim, s);
        assert_eq!(
            sent(&out, watcher),
            vec![presence(s, kim, true)],
            "first device"
        );
        let ServerFrame::Subscribed { online, .. } = &sent(&out, phone)[0] else {
            panic!("subscribed first");
        };
        assert!(online.contains(&kim) && online.contains(&lee));
        let (laptop, out) = live_sub(&mut live, kim, s);
        assert!(sent(&out, watcher).is_empty(), "second device");
        let replaying = live.open(kim, "s".into());
        live.subscribe(replaying, s).expect("subscribe");
        for (conn, heard) in [
            (laptop, vec![]),
            (replaying, vec![]),
            (phone, vec![presence(s, kim, false)]),
        ] {
            assert_eq!(sent(&live.close(conn), watcher), heard, "closing {conn}");
        }
        assert!(published(&live.close(watcher)).is_empty(), "not on a bus");
    }

    fn watches(out: &Out) -> Vec<Effect<ServerFrame>> {
        out.iter()
            .filter(|e| matches!(e, Effect::Watch(_) | Effect::Unwatch(_)))
            .cloned()
            .collect()
    }

    #[test]
    fn a_study_channel_is_watched_from_the_first_local_subscription_to_the_last() {
        let (kim, lee) = (UserId::new(), UserId::new());
        // In study order, the order a closing connection's subscriptions end in.
        let (s, t) = {
            let (x, y) = (StudyId::new(), StudyId::new());
            (x.min(y), x.max(y))
        };
        let mut live = node();
        let (phone, laptop, other) = (
            live.open(kim, "a".into()),
            live.open(kim, "b".into()),
            live.open(lee, "c".into()),
        );
        // (step, the watch effects it causes)
        let steps: Vec<(&str, Out, Vec<Effect<ServerFrame>>)> = vec![
            (
                "first subscription of s",
                live.subscribe(phone, s).expect("subscribe"),
                vec![Effect::Watch(s)],
            ),
            (
                "second, still replaying",
                live.subscribe(laptop, s).expect("subscribe"),
                vec![],
            ),
            (
                "another study",
                live.subscribe(phone, t).expect("subscribe"),
                vec![Effect::Watch(t)],
            ),
            (
                "a refused subscription",
                live.subscribe(phone, s).unwrap_or_default(),
                vec![],
            ),
            (
                "one of two leaves",
                live.unsubscribe(laptop, s).expect("subscribed"),
                vec![],
            ),
            ("going live", live.go_live(phone, s, None, 0, 0).1, vec![]),
            (
                "the last subscriber of s and t closes",
                live.close(phone),
                vec![Effect::Unwatch(s), Effect::Unwatch(t)],
            ),
            (
                "s again",
                live.subscribe(other, s).expect("subscribe"),
                vec![Effect::Watch(s)],
            ),
            (
                "a kick ends the last subscription",
                live.committed(&[DomainEvent::MemberKicked {
                    study_id: s,
                    study_name: "s".into(),
                    user_id: lee,
                    actor: kim,
                }]),
                vec![Effect::Unwatch(s)],
            ),
        ];
        for (step, out, expected) in steps {
            assert_eq!(watches(&out), expected, "{step}");
        }
    }

    #[test]
    fn a_subscription_on_the_bus_reads_its_catch_up_only_once_the_watch_is_confirmed() {
        let (s, kim) = (StudyId::new(), UserId::new());
        let mut off_bus = node();
        let conn = off_bus.open(kim, "s".into());
        off_bus.subscribe(conn, s).expect("subscribe");
        assert!(!off_bus.awaits_watch(conn, s), "off the bus nothing comes");

        let mut live = node();
        live.join_bus();
        let first = live.open(kim, "a".into());
        live.subscribe(first, s).expect("subscribe");
        assert!(live.awaits_watch(first, s));
        let changes = live.interest_changes();
        let [(study, Some(old))] = changes[..] else {
            panic!("one watch: {changes:?}");
        };
        assert_eq!(study, s);
        // Unwatched and watched again before Redis answered the first watch.
        live.close(first);
        let second = live.open(kim, "b".into());
        live.subscribe(second, s).expect("subscribe");
        assert!(!live.watched(&[(s, old)]), "a stale confirmation");
        assert!(live.awaits_watch(second, s));
        let [(_, Some(new))] = live.interest_changes()[..] else {
            panic!("watched again");
        };
        assert!(live.watched(&[(s, new)]));
        assert!(!live.awaits_watch(second, s));
        let (outcome, _) = live.go_live(second, s, None, 0, 0);
        assert_eq!(outcome, GoLive::Live);
        assert!(!live.awaits_watch(second, s), "live: nothing to wait for");
        assert_eq!(
            live.interest(),
            vec![(s, new)],
            "what a fresh bus subscribes"
        );
        let third = live.open(kim, "c".into());
        live.subscribe(third, s).expect("subscribe");
        assert!(
            !live.awaits_watch(third, s),
            "the study's channel is confirmed"
        );
    }

    #[test]
    fn committed_events_cross_on_their_channels_in_commit_order() {
        let (s, t, kim) = (StudyId::new(), StudyId::new(), UserId::new());
        let mut live = node();
        live.join_bus();
        let suspension = DomainEvent::UserSuspended {
            user_id: kim,
            actor: kim,
        };
        let out = live.committed(&[
            read_receipt(s, kim, 1),
            read_receipt(s, kim, 2),
            suspension,
            read_receipt(t, kim, 3),
            read_receipt(s, kim, 4),
        ]);
        let crossed: Vec<(Option<StudyId>, usize)> = published(&out)
            .into_iter()
            .filter_map(|m| match m {
                ClusterMessage::Events { study_id, events } => Some((study_id, events.len())),
                _ => None,
            })
            .collect();
        assert_eq!(
            crossed,
            vec![(Some(s), 2), (None, 1), (Some(t), 1), (Some(s), 1)]
        );
        let silent = DomainEvent::UserSignedUp { user_id: kim };
        assert!(
            published(&live.committed(&[silent])).is_empty(),
            "an event that does nothing live does not cross"
        );
    }

    #[test]
    fn a_replay_holds_live_chat_changes_and_passes_everything_else() {
        let (s, kim, lee) = (StudyId::new(), UserId::new(), UserId::new());
        let mut live = node();
        let conn = live.open(kim, "s".into());
        live.subscribe(conn, s).expect("subscribe");
        assert!(live.is_replaying(conn, s));
        let out = live.committed(&[read_receipt(s, lee, 4), read_receipt(s, lee, 6)]);
        assert!(sent(&out, conn).is_empty(), "held");
        let (_, out) = live_sub(&mut live, lee, s);
        assert_eq!(kinds(&out, conn), ["presence"], "other frames pass");
        let (outcome, out) = live.go_live(conn, s, Some("r".into()), 5, 9);
        assert_eq!(outcome, GoLive::Live);
        let frames = sent(&out, conn);
        assert!(matches!(
            &frames[0],
            ServerFrame::Subscribed { request_id: Some(r), last_change: 5, last_seq: 9, .. } if r == "r"
        ));
        assert_eq!(frames[1].change(), Some(6), "only changes past the replay");
        assert_eq!(frames[2], presence(s, kim, true), "then presence");
        assert_eq!(frames.len(), 3);
        assert!(!live.is_replaying(conn, s));
        assert_eq!(live.go_live(conn, s, None, 5, 9).0, GoLive::Gone, "once");
        let out = live.committed(&[read_receipt(s, lee, 7)]);
        assert_eq!(kinds(&out, conn), ["readReceipt"], "live now");
    }

    #[test]
    fn a_live_change_the_replay_already_read_is_not_sent_again() {
        let (s, kim) = (StudyId::new(), UserId::new());
        let mut live = node();
        let conn = live.open(kim, "s".into());
        live.subscribe(conn, s).expect("subscribe");
        // The replay read up to change 3; a peer's change 3 arrives after that.
        let (outcome, _) = live.go_live(conn, s, None, 3, 3);
        assert_eq!(outcome, GoLive::Live);
        // (change arriving live, delivered)
        for (change, delivered) in [(2, false), (3, false), (5, true), (4, true)] {
            let out = live.committed(&[read_receipt(s, kim, change)]);
            assert_eq!(!sent(&out, conn).is_empty(), delivered, "change {change}");
        }
    }

    #[test]
    fn an_overflowing_hold_sends_the_replay_back_to_the_store() {
        let (s, kim) = (StudyId::new(), UserId::new());
        let mut live = node();
        let conn = live.open(kim, "s".into());
        live.subscribe(conn, s).expect("subscribe");
        let events: Vec<_> = (1..=3).map(|c| read_receipt(s, kim, c)).collect();
        assert!(sent(&live.committed(&events), conn).is_empty());
        let (outcome, out) = live.go_live(conn, s, None, 0, 0);
        assert_eq!(outcome, GoLive::Behind);
        assert!(out.is_empty());
        assert!(live.is_replaying(conn, s), "still replaying");
        let (outcome, out) = live.go_live(conn, s, None, 3, 3);
        assert_eq!(outcome, GoLive::Live);
        assert_eq!(
            kinds(&out, conn),
            ["subscribed", "presence"],
            "nothing held after the overflow"
        );
    }

    #[test]
    fn refusals() {
        let (s, other, kim) = (StudyId::new(), StudyId::new(), UserId::new());
        let mut live = node();
        let (conn, _) = live_sub(&mut live, kim, s);
        let code = |r: Result<Out, LiveError>| match r {
            Ok(_) => "accepted".to_owned(),
            Err(LiveError::Core(e)) => e.code().as_str().to_owned(),
            Err(LiveError::Protocol(code, _)) => code.to_owned(),
        };
        let media = MediaState::default();
        let cases: Vec<(&str, Result<Out, LiveError>, String)> = vec![
            (
                "subscribing twice",
                live.subscribe(conn, s),
                ErrorCode::Conflict.as_str().into(),
            ),
            (
                "a closed connection",
                live.subscribe(99, s),
                ErrorCode::Unauthorized.as_str().into(),
            ),
            (
                "typing unsubscribed",
                live.typing(conn, other, true, Instant::now()),
                codes::NOT_SUBSCRIBED.into(),
            ),
            (
                "media outside the call",
                live.media(conn, s, media),
                ErrorCode::Forbidden.as_str().into(),
            ),
            (
                "leaving a call not joined",
                live.call_leave(conn, s),
                ErrorCode::Conflict.as_str().into(),
            ),
            (
                "signaling outside the call",
                live.signal(
                    conn,
                    s,
                    UserId::new(),
                    SignalKind::Offer,
                    serde_json::json!({}),
                ),
                ErrorCode::Forbidden.as_str().into(),
            ),
            (
                "joining a call unsubscribed",
                live.call_join(conn, other, media).map(|(_, out)| out),
                codes::NOT_SUBSCRIBED.into(),
            ),
        ];
        for (what, result, expected) in cases {
            assert_eq!(code(result), expected, "{what}");
        }
        live.subscribe(conn, other).expect("second");
        assert_eq!(
            code(live.subscribe(conn, StudyId::new())),
            codes::TOO_MANY_SUBSCRIPTIONS,
            "over the limit"
        );
        assert!(live.unsubscribe(conn, other).is_some());
        assert!(live.unsubscribe(conn, other).is_none(), "twice");
    }

    #[test]
    fn typing_is_announced_throttled_and_ends_with_the_last_subscription() {
        let (s, kim, lee) = (StudyId::new(), UserId::new(), UserId::new());
        let t0 = Instant::now();
        let mut live = node();
        let (watcher, _) = live_sub(&mut live, lee, s);
        let (conn, _) = live_sub(&mut live, kim, s);
        let typing = |on| ServerFrame::Typing {
            study_id: s,
            user_id: kim,
            typing: on,
        };
        // (typing?, at, what the watcher hears)
        for (on, at, heard) in [
            (true, t0, vec![typing(true)]),
            (true, t0 + T, vec![]),
            (false, t0 + T, vec![typing(false)]),
            (false, t0 + T, vec![]),
            (true, t0 + T * 2, vec![typing(true)]),
        ] {
            let out = live.typing(conn, s, on, at).expect("typing");
            assert_eq!(sent(&out, watcher), heard, "{on} at {at:?}");
        }
        assert!(live.expire_typing(t0 + T * 3).is_empty());
        let out = live.close(conn);
        assert_eq!(
            sent(&out, watcher),
            vec![typing(false), presence(s, kim, false)]
        );
        live.typing(watcher, s, true, t0).expect("typing");
        let out = live.expire_typing(t0 + T * 10);
        assert_eq!(kinds(&out, watcher), ["typing"], "expired");
    }

    #[test]
    fn a_call_is_joined_from_one_connection_and_ends_with_it() {
        let (s, kim, lee, ann) = (StudyId::new(), UserId::new(), UserId::new(), UserId::new());
        let mut live = node();
        let media = MediaState::default();
        let (kim_phone, _) = live_sub(&mut live, kim, s);
        let (kim_laptop, _) = live_sub(&mut live, kim, s);
        let (lee_conn, _) = live_sub(&mut live, lee, s);
        let (ann_conn, _) = live_sub(&mut live, ann, s);
        let (all, out) = live.call_join(kim_phone, s, media).expect("join");
        assert_eq!(all.len(), 1);
        assert_eq!(kinds(&out, ann_conn), ["callParticipantJoined"]);
        assert!(live.call_join(kim_laptop, s, media).is_err(), "one device");
        assert!(
            live.media(kim_laptop, s, media).is_err(),
            "not from that device"
        );
        live.call_join(lee_conn, s, media).expect("lee");
        assert!(live.call_join(ann_conn, s, media).is_err(), "full");
        let out = live
            .signal(
                kim_phone,
                s,
                lee,
                SignalKind::Offer,
                serde_json::json!({"sdp": 1}),
            )
            .expect("relay");
        assert_eq!(kinds(&out, lee_conn), ["signal"]);
        assert!(sent(&out, kim_laptop).is_empty() && sent(&out, ann_conn).is_empty());
        assert!(
            kinds(&live.close(kim_laptop), ann_conn).is_empty(),
            "not the device in the call, and kim is still online"
        );
        let out = live.close(kim_phone);
        assert_eq!(kinds(&out, ann_conn), ["callParticipantLeft", "presence"]);
        live.call_join(ann_conn, s, media).expect("a seat is free");
    }

    #[test]
    fn committed_events_end_subscriptions_and_sessions() {
        let (s, kim, lee) = (StudyId::new(), UserId::new(), UserId::new());
        let mut live = node();
        let (watcher, _) = live_sub(&mut live, lee, s);
        let (kicked, _) = live_sub(&mut live, kim, s);
        let out = live.committed(&[DomainEvent::MemberKicked {
            study_id: s,
            study_name: "s".into(),
            user_id: kim,
            actor: lee,
        }]);
        assert!(kinds(&out, kicked).contains(&"unsubscribed".to_owned()));
        assert!(
            live.typing(kicked, s, true, Instant::now()).is_err(),
            "gone"
        );
        let a = live.open(kim, "a".into());
        let b = live.open(kim, "b".into());
        let c = live.open(kim, "c".into());
        let closed = |out: &Out| -> Vec<(ConnId, &'static str)> {
            out.iter()
                .filter_map(|e| match e {
                    Effect::Close { conn, code, reason } if *code == close::SESSION_ENDED => {
                        Some((*conn, *reason))
                    }
                    _ => None,
                })
                .collect()
        };
        for (event, expected) in [
            (
                DomainEvent::SessionEnded {
                    user_id: kim,
                    token_hash: "a".into(),
                },
                vec![(a, "SESSION_EXPIRED")],
            ),
            (
                DomainEvent::OtherSessionsEnded {
                    user_id: kim,
                    kept_token_hash: "c".into(),
                },
                vec![(kicked, "SESSION_EXPIRED"), (b, "SESSION_EXPIRED")],
            ),
            (
                DomainEvent::UserSuspended {
                    user_id: kim,
                    actor: lee,
                },
                vec![(c, "ACCOUNT_SUSPENDED")],
            ),
        ] {
            assert_eq!(
                closed(&live.committed(std::slice::from_ref(&event))),
                expected,
                "{event:?}"
            );
        }
        let out = live.committed(&[DomainEvent::StudyDeleted {
            study_id: s,
            study_name: "s".into(),
            actor: lee,
            members: vec![lee],
        }]);
        assert_eq!(kinds(&out, watcher), ["membership", "unsubscribed"]);
        assert!(
            live.committed(&[read_receipt(s, lee, 1)]).is_empty(),
            "nobody left"
        );
    }

    /// Nodes joined by a bus that carries every published message to every
    /// other node listening to its channel, as Redis does, until nothing more
    /// is published. A node listens to a study's channel while it has a local
    /// subscriber of the study (as if Redis confirmed each watch at once).
    struct Cluster {
        nodes: Vec<Node>,
        now: Instant,
    }

    impl Cluster {
        fn new(n: usize) -> Self {
            let mut cluster = Self {
                nodes: (0..n).map(|_| node()).collect(),
                now: Instant::now(),
            };
            for i in 0..n {
                let hello = cluster.nodes[i].join_bus();
                cluster.carry(i, hello);
            }
            cluster
        }

        /// Carries `out` (effects of node `from`) over the bus; returns what
        /// each node delivered or closed, `from`'s own included.
        fn carry(&mut self, from: usize, out: Out) -> Vec<Out> {
            let mut local: Vec<Out> = vec![Vec::new(); self.nodes.len()];
            let mut queue = vec![(from, out)];
            while let Some((from, out)) = queue.pop() {
                let sender = self.nodes[from].node();
                for effect in out {
                    match effect {
                        Effect::Publish(message) => {
                            let listens = |node: &Node| match message.channel() {
                                Channel::Base => true,
                                Channel::Study(study) => node.by_study.contains_key(&study),
                            };
                            let listeners: Vec<usize> = (0..self.nodes.len())
                                .filter(|&to| to != from && listens(&self.nodes[to]))
                                .collect();
                            for to in listeners {
                                let more = self.nodes[to].apply(sender, message.clone(), self.now);
                                queue.push((to, more));
                            }
                        }
                        other => local[from].push(other),
                    }
                }
            }
            local
        }

        fn live_sub(&mut self, at: usize, user: UserId, study: StudyId) -> (ConnId, Vec<Out>) {
            let (conn, out) = live_sub(&mut self.nodes[at], user, study);
            (conn, self.carry(at, out))
        }

        /// A connection of `user` at node `at`, subscribed to the study and in
        /// its call, every node told.
        fn in_call(&mut self, at: usize, user: UserId, study: StudyId) -> ConnId {
            let (conn, _) = self.live_sub(at, user, study);
            let (_, out) = self.nodes[at]
                .call_join(conn, study, MediaState::default())
                .expect("join");
            self.carry(at, out);
            conn
        }
    }

    #[test]
    fn presence_spans_nodes_and_a_user_on_two_nodes_stays_online() {
        let (s, kim, lee) = (StudyId::new(), UserId::new(), UserId::new());
        let mut c = Cluster::new(3);
        let (watcher, _) = c.live_sub(2, lee, s);
        let (on_a, heard) = c.live_sub(0, kim, s);
        assert_eq!(sent(&heard[2], watcher), vec![presence(s, kim, true)]);
        let (on_b, heard) = c.live_sub(1, kim, s);
        assert!(sent(&heard[2], watcher).is_empty(), "already online");
        let (late, out) = live_sub(&mut c.nodes[2], UserId::new(), s);
        let ServerFrame::Subscribed { online, .. } = &sent(&out, late)[0] else {
            panic!("subscribed");
        };
        assert!(online.contains(&kim), "peers' users count");
        let out = c.nodes[0].close(on_a);
        assert!(sent(&c.carry(0, out)[2], watcher).is_empty(), "still on b");
        let out = c.nodes[1].close(on_b);
        assert_eq!(
            sent(&c.carry(1, out)[2], watcher),
            vec![presence(s, kim, false)]
        );
    }

    #[test]
    fn a_node_new_to_a_study_knows_its_presence_and_call_without_having_heard_its_traffic() {
        let (s, kim, lee) = (StudyId::new(), UserId::new(), UserId::new());
        let mut c = Cluster::new(2);
        let kim_a = c.in_call(0, kim, s);
        // s's chat and typing go on s's channel, which b (no subscriber of s)
        // does not listen to.
        let mut traffic = c.nodes[0].typing(kim_a, s, true, c.now).expect("typing");
        traffic.extend(c.nodes[0].committed(&[read_receipt(s, kim, 1)]));
        let channels: Vec<Channel> = published(&traffic).iter().map(|m| m.channel()).collect();
        assert_eq!(channels, vec![Channel::Study(s); 2]);
        assert!(!c.nodes[1].by_study.contains_key(&s));
        c.carry(0, traffic);
        // Yet b's first subscriber sees who is online and in the call.
        let (lee_b, heard) = c.live_sub(1, lee, s);
        let ServerFrame::Subscribed { online, .. } = &sent(&heard[1], lee_b)[0] else {
            panic!("subscribed");
        };
        assert!(online.contains(&kim));
        let (participants, _) = c.nodes[1]
            .call_join(lee_b, s, MediaState::default())
            .expect("join");
        assert_eq!(participants.len(), 2, "kim's seat is known on b");
    }

    #[test]
    fn committed_events_reach_other_nodes_once() {
        let (s, kim) = (StudyId::new(), UserId::new());
        let mut c = Cluster::new(2);
        let (there, _) = c.live_sub(1, kim, s);
        let (here, _) = c.live_sub(0, kim, s);
        let out = c.nodes[0].committed(&[read_receipt(s, kim, 1)]);
        let heard = c.carry(0, out);
        assert_eq!(kinds(&heard[0], here), ["readReceipt"]);
        assert_eq!(kinds(&heard[1], there), ["readReceipt"]);
        let own = ClusterMessage::Events {
            study_id: Some(s),
            events: vec![read_receipt(s, kim, 2)],
        };
        let me = c.nodes[0].node();
        assert!(c.nodes[0].apply(me, own, c.now).is_empty(), "never its own");
    }

    #[test]
    fn calls_span_nodes_with_one_limit_relay_and_media() {
        let (s, kim, lee, ann) = (StudyId::new(), UserId::new(), UserId::new(), UserId::new());
        let mut c = Cluster::new(2);
        let media = MediaState::default();
        let (kim_a, _) = c.live_sub(0, kim, s);
        let (lee_b, _) = c.live_sub(1, lee, s);
        let (ann_b, _) = c.live_sub(1, ann, s);
        let (_, out) = c.nodes[0].call_join(kim_a, s, media).expect("kim");
        assert_eq!(kinds(&c.carry(0, out)[1], ann_b), ["callParticipantJoined"]);
        let (all, out) = c.nodes[1].call_join(lee_b, s, media).expect("lee");
        assert_eq!(all.len(), 2, "kim is in it through a");
        c.carry(1, out);
        assert!(
            c.nodes[1].call_join(ann_b, s, media).is_err(),
            "full across nodes"
        );
        assert!(c.nodes[0].call_join(kim_a, s, media).is_err(), "already in");
        let out = c.nodes[1]
            .signal(lee_b, s, kim, SignalKind::Offer, serde_json::json!({}))
            .expect("relay");
        assert!(sent(&out, kim_a).is_empty(), "b has no connection of kim");
        let heard = c.carry(1, out);
        assert_eq!(kinds(&heard[0], kim_a), ["signal"]);
        let mic = MediaState {
            mic: true,
            ..Default::default()
        };
        let out = c.nodes[0].media(kim_a, s, mic).expect("media");
        assert_eq!(kinds(&c.carry(0, out)[1], ann_b), ["callMedia"]);
        assert!(
            c.nodes[1]
                .signal(lee_b, s, ann, SignalKind::Offer, serde_json::json!({}))
                .is_err()
        );
        let out = c.nodes[0].call_leave(kim_a, s).expect("leave");
        assert_eq!(kinds(&c.carry(0, out)[1], ann_b), ["callParticipantLeft"]);
        c.nodes[1]
            .call_join(ann_b, s, media)
            .expect("seat free on b");
    }

    #[test]
    fn a_silent_peer_expires_and_a_leaving_one_goes_at_once() {
        let (s, kim, lee, ann) = (StudyId::new(), UserId::new(), UserId::new(), UserId::new());
        let mut c = Cluster::new(3);
        let (watcher, _) = c.live_sub(2, lee, s);
        c.in_call(0, kim, s);
        c.live_sub(1, ann, s);
        // b keeps beating, a falls silent.
        c.now += EXPIRY;
        let beat = c.nodes[1].tick(c.now, EXPIRY);
        c.carry(1, beat);
        c.now += T;
        let out = c.nodes[2].tick(c.now, EXPIRY);
        let heard = c.carry(2, out);
        assert_eq!(
            kinds(&heard[2], watcher),
            ["presence", "callParticipantLeft"],
            "a's users and calls go"
        );
        assert_eq!(c.nodes[2].peer_count(), 1);
        let out = c.nodes[1].leave_bus();
        let heard = c.carry(1, out);
        assert_eq!(sent(&heard[2], watcher), vec![presence(s, ann, false)]);
        assert!(published(&c.nodes[1].close(1)).is_empty(), "off the bus");
    }

    #[test]
    fn a_hello_trades_snapshots_so_a_rejoining_node_starts_from_the_truth() {
        let (s, kim, lee) = (StudyId::new(), UserId::new(), UserId::new());
        let mut c = Cluster::new(2);
        let kim_a = c.in_call(0, kim, s);
        // b misses a's leaving the call (cut off), then rejoins the bus.
        let lost = c.nodes[0].call_leave(kim_a, s).expect("leave");
        assert_eq!(published(&lost).len(), 1);
        let (watcher, _) = live_sub(&mut c.nodes[1], lee, s);
        let hello = c.nodes[1].join_bus();
        let heard = c.carry(1, hello);
        assert_eq!(
            kinds(&heard[1], watcher),
            ["callParticipantLeft"],
            "from a's snapshot"
        );
        let (kim_b, _) = live_sub(&mut c.nodes[1], kim, s);
        c.nodes[1]
            .call_join(kim_b, s, MediaState::default())
            .expect("kim's seat is free again");
    }
}
