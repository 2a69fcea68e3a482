//! Several nodes as one: the messages nodes exchange on the bus, the channel
//! each travels on, which study channels a node listens to, and each node's view
//! of its peers' presence (who they report online per study). Who is in a call
//! through which peer is kept with the calls ([`super::calls::CallRooms`]), the
//! one record of call membership.
//!
//! Committed domain events cross as [`ClusterMessage::Events`]; the ephemeral state
//! that never touches the store (presence, typing, calls, signals) crosses as its
//! own messages. A node that (re)joins the bus sends [`ClusterMessage::Hello`] with
//! a snapshot of its state and every peer answers with its own, so a node that
//! missed messages while cut off starts from the truth again.
//!
//! # Channels
//!
//! A node listens to the base channel and to the channel of each study it has a
//! local subscriber of ([`Interest`]), so the traffic of a study reaches only the
//! nodes that deliver it. [`ClusterMessage::channel`] decides per kind:
//!
//! - On the study's channel: the study's committed events (chat, receipts,
//!   membership, a deletion), typing and call signals. These are the bulk of the
//!   traffic, and only a node with a subscriber of the study has anyone to give
//!   them to (a call participant is a subscriber, so a signal's target node
//!   listens).
//! - On the base channel: the node-level messages (hello, snapshot, heartbeat,
//!   leaving); presence and call membership (joined, left, media); and events
//!   that reach a user wherever they are connected (notifications, ended
//!   sessions, suspensions). Presence and call membership stay on the base
//!   channel so that every node always holds the cluster's whole presence and
//!   call state: a node that gains its first subscriber of a study has it
//!   already and puts it in `subscribed` at once, with no per-study snapshot to
//!   ask peers for and wait on. They change once per user and study going online
//!   or offline and per call join, leave or media toggle, rare next to chat and
//!   typing (see BENCHMARKS.md for the arithmetic). A user's events go on the
//!   base channel rather than a channel per user because a node would have to
//!   listen to one per connected user, and they are rare too.
//!
//! Watching a study's channel takes a round trip to Redis; until it is confirmed
//! ([`Interest::confirm`]) the node may miss what peers publish there, so a
//! subscription's catch-up read waits for it (see the server's gateway).
//!
//! Peers refresh themselves with heartbeats. A peer not heard from within the
//! expiry is dropped with everything it reported ([`Peers::expire`]; its call
//! participants go with it in [`super::live`]), so when a node dies its users go
//! offline everywhere within a bound.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::events::DomainEvent;
use crate::ids::{StudyId, UserId};
use crate::realtime::calls::{MediaState, Participant};
use crate::realtime::presence::PresenceChange;
use crate::realtime::protocol::{Audience, Delivery, SignalKind};

/// A node's identity on the bus, new at each start.
pub type NodeId = uuid::Uuid;

/// What one node holds live: the users its connections keep online per study and
/// the call participants connected to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSnapshot {
    pub online: Vec<(StudyId, UserId)>,
    pub calls: Vec<(StudyId, Participant)>,
}

/// One message between nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ClusterMessage {
    /// Events the sender committed, in commit order: all of one study (and on
    /// its channel) when `study_id` is set, else events reaching users.
    #[serde(rename_all = "camelCase")]
    Events {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        study_id: Option<StudyId>,
        events: Vec<DomainEvent>,
    },
    /// The sender (re)joined the bus: here is its state; peers answer with theirs.
    Hello { snapshot: NodeSnapshot },
    /// A peer's answer to `hello`.
    Snapshot { snapshot: NodeSnapshot },
    /// The sender is alive.
    Heartbeat,
    /// The sender is shutting down: forget what it reported now.
    Leaving,
    /// The sender's first connection of the user in the study arrived, or its last left.
    #[serde(rename_all = "camelCase")]
    Presence {
        study_id: StudyId,
        user_id: UserId,
        online: bool,
    },
    /// A typing indicator changed on the sender.
    #[serde(rename_all = "camelCase")]
    Typing {
        study_id: StudyId,
        user_id: UserId,
        typing: bool,
    },
    /// A participant joined the study's call from the sender.
    #[serde(rename_all = "camelCase")]
    CallJoined {
        study_id: StudyId,
        participant: Participant,
    },
    /// A participant connected to the sender left the study's call.
    #[serde(rename_all = "camelCase")]
    CallLeft { study_id: StudyId, user_id: UserId },
    /// A participant connected to the sender changed their media state.
    #[serde(rename_all = "camelCase")]
    CallMedia {
        study_id: StudyId,
        user_id: UserId,
        media: MediaState,
    },
    /// A signal for a participant connected to another node.
    #[serde(rename_all = "camelCase")]
    Signal {
        study_id: StudyId,
        from: UserId,
        to: UserId,
        kind: SignalKind,
        payload: serde_json::Value,
    },
}

/// Where a message travels on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// The base channel, which every node listens to.
    Base,
    /// A study's channel, which the nodes with a subscriber of the study listen to.
    Study(StudyId),
}

impl Channel {
    /// The Redis channel's name under the deployment's `base` name.
    pub fn name(self, base: &str) -> String {
        match self {
            Self::Base => base.to_owned(),
            Self::Study(study) => format!("{base}:study:{study}"),
        }
    }

    /// The channel that carries an event to the other nodes, from what it means
    /// for live connections: a study's when everything it does concerns that
    /// one study, the base channel when it reaches a user wherever they are,
    /// `None` when it does nothing live (so it need not cross at all).
    pub fn of_deliveries(deliveries: &[Delivery]) -> Option<Self> {
        let mut channel = None;
        for delivery in deliveries {
            let this = match delivery {
                Delivery::Frame(Audience::Study(study), _)
                | Delivery::EndSubscription(study, ..)
                | Delivery::EndStudy(study)
                | Delivery::StopTyping(study, _) => Self::Study(*study),
                Delivery::Frame(Audience::User(_), _)
                | Delivery::EndSessions(_)
                | Delivery::EndSession(..)
                | Delivery::EndOtherSessions(..) => return Some(Self::Base),
            };
            match channel {
                Some(seen) if seen != this => return Some(Self::Base),
                _ => channel = Some(this),
            }
        }
        channel
    }
}

impl ClusterMessage {
    /// The channel the message travels on (the module doc says why).
    pub fn channel(&self) -> Channel {
        match self {
            Self::Events {
                study_id: Some(study),
                ..
            }
            | Self::Typing {
                study_id: study, ..
            }
            | Self::Signal {
                study_id: study, ..
            } => Channel::Study(*study),
            Self::Events { study_id: None, .. }
            | Self::Hello { .. }
            | Self::Snapshot { .. }
            | Self::Heartbeat
            | Self::Leaving
            | Self::Presence { .. }
            | Self::CallJoined { .. }
            | Self::CallLeft { .. }
            | Self::CallMedia { .. } => Channel::Base,
        }
    }

    /// The message's kind as the wire tags it, for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Events { .. } => "events",
            Self::Hello { .. } => "hello",
            Self::Snapshot { .. } => "snapshot",
            Self::Heartbeat => "heartbeat",
            Self::Leaving => "leaving",
            Self::Presence { .. } => "presence",
            Self::Typing { .. } => "typing",
            Self::CallJoined { .. } => "callJoined",
            Self::CallLeft { .. } => "callLeft",
            Self::CallMedia { .. } => "callMedia",
            Self::Signal { .. } => "signal",
        }
    }
}

/// Which watch of a study's channel: a study unwatched and watched again gets a
/// new ticket, so a confirmation of the old watch does not pass for the new one.
pub type Ticket = u64;

#[derive(Debug)]
struct Watch {
    ticket: Ticket,
    confirmed: bool,
}

/// The study channels this node should listen to — those of the studies it has
/// a local subscriber of — and which of those watches the bus has confirmed.
///
/// The bus reconciles Redis with it: it takes the [`Self::changes`] since it
/// last looked (or [`Self::all`] after connecting), subscribes and unsubscribes,
/// and confirms the tickets it subscribed for.
#[derive(Debug, Default)]
pub struct Interest {
    watched: HashMap<StudyId, Watch>,
    /// Studies watched or unwatched since the bus last took the changes.
    changed: HashSet<StudyId>,
    next: Ticket,
}

impl Interest {
    /// Watches nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// The study got its first local subscriber: its channel is wanted.
    pub fn watch(&mut self, study: StudyId) {
        self.next += 1;
        self.watched.insert(
            study,
            Watch {
                ticket: self.next,
                confirmed: false,
            },
        );
        self.changed.insert(study);
    }

    /// The study lost its last local subscriber: its channel is not wanted.
    pub fn unwatch(&mut self, study: StudyId) {
        if self.watched.remove(&study).is_some() {
            self.changed.insert(study);
        }
    }

    /// What changed since the bus last looked: each study with its current
    /// watch's ticket, or `None` if it is no longer watched. In study order.
    pub fn changes(&mut self) -> Vec<(StudyId, Option<Ticket>)> {
        let mut changes: Vec<_> = self
            .changed
            .drain()
            .map(|study| (study, self.watched.get(&study).map(|w| w.ticket)))
            .collect();
        changes.sort();
        changes
    }

    /// Every watched study with its ticket, for a bus that (re)connected and
    /// subscribes afresh; the pending changes are part of it.
    pub fn all(&mut self) -> Vec<(StudyId, Ticket)> {
        self.changed.clear();
        let mut all: Vec<_> = self.watched.iter().map(|(s, w)| (*s, w.ticket)).collect();
        all.sort();
        all
    }

    /// The bus is subscribed to the study's channel for watch `ticket`; true if
    /// that confirmed the current watch (false for a stale or repeated ticket).
    pub fn confirm(&mut self, study: StudyId, ticket: Ticket) -> bool {
        match self.watched.get_mut(&study) {
            Some(watch) if watch.ticket == ticket && !watch.confirmed => {
                watch.confirmed = true;
                true
            }
            _ => false,
        }
    }

    /// Whether the study's channel is watched and the watch confirmed.
    pub fn is_confirmed(&self, study: StudyId) -> bool {
        self.watched.get(&study).is_some_and(|w| w.confirmed)
    }
}

#[derive(Debug)]
struct Peer {
    last_heard: Instant,
    online: HashSet<(StudyId, UserId)>,
}

/// What the other nodes report.
#[derive(Debug, Default)]
pub struct Peers {
    nodes: HashMap<NodeId, Peer>,
    /// For each study and user, how many peers report them online.
    online: HashMap<StudyId, HashMap<UserId, usize>>,
}

impl Peers {
    /// No peers yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn peer(&mut self, node: NodeId, now: Instant) -> &mut Peer {
        let peer = self.nodes.entry(node).or_insert_with(|| Peer {
            last_heard: now,
            online: HashSet::new(),
        });
        peer.last_heard = peer.last_heard.max(now);
        peer
    }

    /// Notes that `node` is alive.
    pub fn heard(&mut self, node: NodeId, now: Instant) {
        self.peer(node, now);
    }

    fn count(&mut self, study: StudyId, user: UserId, online: bool) -> Option<PresenceChange> {
        let users = self.online.entry(study).or_default();
        if online {
            let count = users.entry(user).or_default();
            *count += 1;
            return (*count == 1).then_some(PresenceChange::Online(study, user));
        }
        let count = users.get_mut(&user)?;
        *count -= 1;
        if *count > 0 {
            return None;
        }
        users.remove(&user);
        if users.is_empty() {
            self.online.remove(&study);
        }
        Some(PresenceChange::Offline(study, user))
    }

    /// `node` reports the user online or offline in the study; returns the change
    /// in what the peers report together, if any.
    pub fn set_online(
        &mut self,
        node: NodeId,
        study: StudyId,
        user: UserId,
        online: bool,
        now: Instant,
    ) -> Option<PresenceChange> {
        let peer = self.peer(node, now);
        let changed = if online {
            peer.online.insert((study, user))
        } else {
            peer.online.remove(&(study, user))
        };
        if changed {
            self.count(study, user, online)
        } else {
            None
        }
    }

    /// Replaces the users `node` reported online with those of its snapshot;
    /// returns the changes in what the peers report together.
    pub fn replace(
        &mut self,
        node: NodeId,
        online: impl IntoIterator<Item = (StudyId, UserId)>,
        now: Instant,
    ) -> Vec<PresenceChange> {
        let peer = self.peer(node, now);
        let online: HashSet<(StudyId, UserId)> = online.into_iter().collect();
        let mut went_offline: Vec<_> = peer.online.difference(&online).copied().collect();
        let mut came_online: Vec<_> = online.difference(&peer.online).copied().collect();
        went_offline.sort();
        came_online.sort();
        peer.online = online;
        let mut presence = Vec::new();
        for (study, user) in went_offline {
            presence.extend(self.count(study, user, false));
        }
        for (study, user) in came_online {
            presence.extend(self.count(study, user, true));
        }
        presence
    }

    /// Forgets `node` and the users it reported online.
    pub fn remove(&mut self, node: NodeId) -> Vec<PresenceChange> {
        let Some(peer) = self.nodes.remove(&node) else {
            return Vec::new();
        };
        let mut online: Vec<_> = peer.online.into_iter().collect();
        online.sort();
        online
            .into_iter()
            .filter_map(|(study, user)| self.count(study, user, false))
            .collect()
    }

    /// Drops the peers not heard from for longer than `expiry`.
    pub fn expire(&mut self, now: Instant, expiry: Duration) -> Vec<(NodeId, Vec<PresenceChange>)> {
        let mut silent: Vec<NodeId> = self
            .nodes
            .iter()
            .filter(|(_, peer)| now.saturating_duration_since(peer.last_heard) > expiry)
            .map(|(node, _)| *node)
            .collect();
        silent.sort();
        silent
            .into_iter()
            .map(|node| (node, self.remove(node)))
            .collect()
    }

    /// Whether any peer reports the user online in the study.
    pub fn is_online(&self, study: StudyId, user: UserId) -> bool {
        self.online
            .get(&study)
            .is_some_and(|users| users.contains_key(&user))
    }

    /// The users peers report online in the study.
    pub fn online(&self, study: StudyId) -> impl Iterator<Item = UserId> + '_ {
        self.online
            .get(&study)
            .into_iter()
            .flat_map(|users| users.keys().copied())
    }

    /// How many peers are known.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no peer is known.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> NodeId {
        uuid::Uuid::new_v4()
    }

    #[test]
    fn a_user_on_two_peers_stays_online_until_both_report_offline() {
        let (a, b, s, kim) = (node(), node(), StudyId::new(), UserId::new());
        let now = Instant::now();
        let mut peers = Peers::new();
        assert_eq!(
            peers.set_online(a, s, kim, true, now),
            Some(PresenceChange::Online(s, kim))
        );
        assert_eq!(peers.set_online(b, s, kim, true, now), None);
        assert_eq!(
            peers.set_online(a, s, kim, true, now),
            None,
            "repeats count once"
        );
        assert_eq!(peers.set_online(a, s, kim, false, now), None);
        assert!(peers.is_online(s, kim));
        assert_eq!(
            peers.set_online(b, s, kim, false, now),
            Some(PresenceChange::Offline(s, kim))
        );
        assert_eq!(
            peers.set_online(b, s, kim, false, now),
            None,
            "unknown offline is ignored"
        );
        assert!(!peers.is_online(s, kim));
        assert_eq!(peers.online(s).count(), 0);
    }

    #[test]
    fn a_silent_peer_expires_with_its_users() {
        let (a, b, s, kim, lee) = (node(), node(), StudyId::new(), UserId::new(), UserId::new());
        let start = Instant::now();
        let mut peers = Peers::new();
        peers.set_online(a, s, kim, true, start);
        peers.set_online(a, s, lee, true, start);
        peers.set_online(b, s, lee, true, start);
        let later = start + Duration::from_secs(20);
        peers.heard(b, later);
        assert!(peers.expire(later, Duration::from_secs(30)).is_empty());
        let expired = peers.expire(later + Duration::from_secs(11), Duration::from_secs(30));
        assert_eq!(expired.len(), 1);
        let (gone, changes) = &expired[0];
        assert_eq!(*gone, a);
        assert_eq!(changes, &vec![PresenceChange::Offline(s, kim)]);
        assert!(peers.is_online(s, lee), "still reported by b");
        assert_eq!(peers.len(), 1);
    }

    #[test]
    fn a_snapshot_replaces_what_the_peer_reported() {
        let (a, s, kim, lee) = (node(), StudyId::new(), UserId::new(), UserId::new());
        let now = Instant::now();
        let mut peers = Peers::new();
        peers.set_online(a, s, kim, true, now);
        assert_eq!(
            peers.replace(a, [(s, lee)], now),
            vec![
                PresenceChange::Offline(s, kim),
                PresenceChange::Online(s, lee)
            ]
        );
        assert_eq!(peers.online(s).collect::<Vec<_>>(), vec![lee]);
        assert_eq!(
            peers.replace(a, [], now),
            vec![PresenceChange::Offline(s, lee)]
        );
        assert!(peers.remove(a).is_empty());
        assert!(peers.is_empty());
    }

    #[test]
    fn each_message_kind_travels_on_its_channel() {
        let (s, kim, lee) = (StudyId::new(), UserId::new(), UserId::new());
        let participant = Participant {
            user_id: kim,
            media: MediaState::default(),
        };
        let study = Channel::Study(s);
        // (message, its channel)
        let table = [
            (
                ClusterMessage::Events {
                    study_id: Some(s),
                    events: vec![],
                },
                study,
            ),
            (
                ClusterMessage::Events {
                    study_id: None,
                    events: vec![],
                },
                Channel::Base,
            ),
            (
                ClusterMessage::Typing {
                    study_id: s,
                    user_id: kim,
                    typing: true,
                },
                study,
            ),
            (
                ClusterMessage::Signal {
                    study_id: s,
                    from: kim,
                    to: lee,
                    kind: SignalKind::Offer,
                    payload: serde_json::Value::Null,
                },
                study,
            ),
            (
                ClusterMessage::Hello {
                    snapshot: NodeSnapshot::default(),
                },
                Channel::Base,
            ),
            (
                ClusterMessage::Snapshot {
                    snapshot: NodeSnapshot::default(),
                },
                Channel::Base,
            ),
            (ClusterMessage::Heartbeat, Channel::Base),
            (ClusterMessage::Leaving, Channel::Base),
            (
                ClusterMessage::Presence {
                    study_id: s,
                    user_id: kim,
                    online: true,
                },
                Channel::Base,
            ),
            (
                ClusterMessage::CallJoined {
                    study_id: s,
                    participant,
                },
                Channel::Base,
            ),
            (
                ClusterMessage::CallLeft {
                    study_id: s,
                    user_id: kim,
                },
                Channel::Base,
            ),
            (
                ClusterMessage::CallMedia {
                    study_id: s,
                    user_id: kim,
                    media: MediaState::default(),
                },
                Channel::Base,
            ),
        ];
        for (message, channel) in table {
            assert_eq!(message.channel(), channel, "{}", message.kind());
        }
        assert_eq!(Channel::Base.name("coup"), "coup");
        assert_eq!(study.name("coup"), format!("coup:study:{s}"));
    }

    #[test]
    fn an_event_goes_on_its_study_channel_only_when_all_it_does_is_in_that_study() {
        use crate::realtime::protocol::{ServerFrame, UnsubscribeReason};
        let (s, t, kim) = (StudyId::new(), StudyId::new(), UserId::new());
        let typing = ServerFrame::Typing {
            study_id: s,
            user_id: kim,
            typing: false,
        };
        let in_study = |study| Delivery::Frame(Audience::Study(study), Box::new(typing.clone()));
        let to_user = Delivery::Frame(Audience::User(kim), Box::new(typing.clone()));
        // (deliveries, channel)
        let table = [
            (vec![], None),
            (vec![in_study(s)], Some(Channel::Study(s))),
            (
                vec![
                    Delivery::StopTyping(s, kim),
                    in_study(s),
                    Delivery::EndSubscription(s, kim, UnsubscribeReason::Kicked),
                    Delivery::EndStudy(s),
                ],
                Some(Channel::Study(s)),
            ),
            (vec![in_study(s), in_study(t)], Some(Channel::Base)),
            (vec![in_study(s), to_user.clone()], Some(Channel::Base)),
            (vec![to_user], Some(Channel::Base)),
            (vec![Delivery::EndSessions(kim)], Some(Channel::Base)),
            (
                vec![Delivery::EndSession(kim, "h".into())],
                Some(Channel::Base),
            ),
            (
                vec![Delivery::EndOtherSessions(kim, "h".into())],
                Some(Channel::Base),
            ),
        ];
        for (deliveries, channel) in table {
            assert_eq!(
                Channel::of_deliveries(&deliveries),
                channel,
                "{deliveries:?}"
            );
        }
    }

    #[test]
    fn interest_watches_studies_and_confirms_only_the_current_watch() {
        let (s, t) = (StudyId::new(), StudyId::new());
        let mut interest = Interest::new();
        assert!(interest.changes().is_empty());
        interest.watch(s);
        interest.watch(t);
        assert!(!interest.is_confirmed(s), "not before the bus confirms");
        let changes = interest.changes();
        let ticket = |study| {
            changes
                .iter()
                .find(|(s, _)| *s == study)
                .and_then(|(_, t)| *t)
                .expect("watched")
        };
        let (first, of_t) = (ticket(s), ticket(t));
        assert!(interest.changes().is_empty(), "taken once");
        // Unwatched and watched again before the bus confirmed the first watch:
        // the old confirmation must not pass for the new watch.
        interest.unwatch(s);
        interest.watch(s);
        let again = interest.changes();
        assert_eq!(again.len(), 1);
        let second = again[0].1.expect("watched again");
        assert_ne!(second, first);
        // (study, ticket confirmed, confirmed it, confirmed after)
        for (study, ticket, confirms, after) in [
            (s, first, false, false),
            (s, second, true, true),
            (s, second, false, true),
            (t, of_t, true, true),
        ] {
            assert_eq!(interest.confirm(study, ticket), confirms, "{ticket}");
            assert_eq!(interest.is_confirmed(study), after, "{ticket}");
        }
        interest.unwatch(s);
        interest.unwatch(s);
        assert_eq!(
            interest.changes(),
            vec![(s, None)],
            "unwatching twice is once"
        );
        assert!(!interest.is_confirmed(s));
        assert!(!interest.confirm(s, second), "not watched");
        interest.watch(s);
        assert_eq!(interest.all().len(), 2, "a fresh subscription takes all");
        assert!(
            interest.changes().is_empty(),
            "and the pending changes with it"
        );
    }

    #[test]
    fn messages_round_trip_as_tagged_json() {
        let message = ClusterMessage::Presence {
            study_id: StudyId::new(),
            user_id: UserId::new(),
            online: true,
        };
        let text = serde_json::to_string(&message).expect("serialize");
        assert!(text.contains(r#""type":"presence""#), "{text}");
        assert!(text.contains(r#""studyId""#), "{text}");
        let back: ClusterMessage = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, message);
    }
}
