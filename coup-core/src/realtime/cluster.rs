//! Several nodes as one: the messages nodes exchange on the bus, and each node's
//! view of its peers' presence (who they report online per study). Who is in a
//! call through which peer is kept with the calls ([`super::calls::CallRooms`]),
//! the one record of call membership.
//!
//! Committed domain events cross as [`ClusterMessage::Events`]; the ephemeral state
//! that never touches the store (presence, typing, calls, signals) crosses as its
//! own messages. A node that (re)joins the bus sends [`ClusterMessage::Hello`] with
//! a snapshot of its state and every peer answers with its own, so a node that
//! missed messages while cut off starts from the truth again.
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
use crate::realtime::protocol::SignalKind;

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
    /// Events the sender committed, in commit order.
    Events { events: Vec<DomainEvent> },
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
