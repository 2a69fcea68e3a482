//! Call rooms: one call per study, a participant limit, media state, and the rule
//! that signaling is relayed only between participants of the same call. Each
//! participant is seated where they are connected — one of this node's
//! connections or a peer node — so this is the one record of who is in which
//! call on which node.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Reason, Result};
use crate::ids::{StudyId, UserId};
use crate::realtime::cluster::NodeId;
use crate::realtime::live::ConnId;

/// A participant's microphone, camera and screen-share state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MediaState {
    pub mic: bool,
    pub camera: bool,
    pub screen: bool,
}

/// One person in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    pub user_id: UserId,
    pub media: MediaState,
}

/// Where a participant is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// Through this connection of this node.
    Conn(ConnId),
    /// Through a peer node.
    Node(NodeId),
}

#[derive(Debug, Clone, Copy)]
struct Seat {
    participant: Participant,
    site: Site,
}

/// The calls in progress.
#[derive(Debug)]
pub struct CallRooms {
    rooms: HashMap<StudyId, Vec<Seat>>,
    limit: usize,
}

impl CallRooms {
    /// Calls of at most `limit` participants.
    pub fn new(limit: usize) -> Self {
        Self {
            rooms: HashMap::new(),
            limit: limit.max(2),
        }
    }

    /// Joins the study's call (starting it if needed) from `site`; returns
    /// everyone in it, the joiner last. One device per user per call.
    pub fn join(
        &mut self,
        study: StudyId,
        user: UserId,
        media: MediaState,
        site: Site,
    ) -> Result<Vec<Participant>> {
        let room = self.rooms.entry(study).or_default();
        if room.iter().any(|s| s.participant.user_id == user) {
            return Err(Error::conflict(
                Reason::AlreadyInCall,
                "you are already in this call (from another device?)",
            ));
        }
        if room.len() >= self.limit {
            return Err(Error::conflict(
                Reason::CallFull,
                format!("this call is full ({} participants)", self.limit),
            ));
        }
        room.push(Seat {
            participant: Participant {
                user_id: user,
                media,
            },
            site,
        });
        Ok(room.iter().map(|s| s.participant).collect())
    }

    /// Records a participant a peer node admitted (its limit check already ran
    /// there), or their new media state if already seated there. False (and
    /// nothing changes) when the user is seated elsewhere.
    pub fn admit(&mut self, study: StudyId, participant: Participant, node: NodeId) -> bool {
        let room = self.rooms.entry(study).or_default();
        match room
            .iter_mut()
            .find(|s| s.participant.user_id == participant.user_id)
        {
            Some(seat) if seat.site == Site::Node(node) => {
                seat.participant.media = participant.media;
                true
            }
            Some(_) => false,
            None => {
                room.push(Seat {
                    participant,
                    site: Site::Node(node),
                });
                true
            }
        }
    }

    /// Where the user is in the study's call, if they are.
    pub fn site(&self, study: StudyId, user: UserId) -> Option<Site> {
        self.rooms
            .get(&study)?
            .iter()
            .find(|s| s.participant.user_id == user)
            .map(|s| s.site)
    }

    /// Leaves the study's call if seated at `site`; false otherwise.
    pub fn leave(&mut self, study: StudyId, user: UserId, site: Site) -> bool {
        let Some(room) = self.rooms.get_mut(&study) else {
            return false;
        };
        let before = room.len();
        room.retain(|s| s.participant.user_id != user || s.site != site);
        let left = room.len() < before;
        if room.is_empty() {
            self.rooms.remove(&study);
        }
        left
    }

    /// Changes a participant's media state.
    pub fn set_media(&mut self, study: StudyId, user: UserId, media: MediaState) -> Result<()> {
        let seat = self
            .rooms
            .get_mut(&study)
            .and_then(|room| room.iter_mut().find(|s| s.participant.user_id == user))
            .ok_or(Error::Forbidden("join the call first").because(Reason::NotInCall))?;
        seat.participant.media = media;
        Ok(())
    }

    /// Refuses signaling unless both `from` and `to` are in the study's call.
    pub fn check_relay(&self, study: StudyId, from: UserId, to: UserId) -> Result<()> {
        let in_call = |u: UserId| self.site(study, u).is_some();
        if !in_call(from) {
            return Err(Error::Forbidden("join the call first").because(Reason::NotInCall));
        }
        if from == to || !in_call(to) {
            return Err(Error::NotFound("participant"));
        }
        Ok(())
    }

    /// Who is in the study's call.
    pub fn participants(&self, study: StudyId) -> Vec<Participant> {
        self.rooms
            .get(&study)
            .map(|room| room.iter().map(|s| s.participant).collect())
            .unwrap_or_default()
    }

    /// The participants connected to this node (`None`) or to one peer
    /// (`Some(node)`), sorted by study and user.
    pub fn seated(&self, node: Option<NodeId>) -> Vec<(StudyId, Participant)> {
        let mut seats: Vec<(StudyId, Participant)> = self
            .rooms
            .iter()
            .flat_map(|(study, room)| {
                room.iter()
                    .filter(|s| match (s.site, node) {
                        (Site::Conn(_), None) => true,
                        (Site::Node(at), Some(node)) => at == node,
                        _ => false,
                    })
                    .map(|s| (*study, s.participant))
            })
            .collect();
        seats.sort_by_key(|(study, p)| (*study, p.user_id));
        seats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    const HERE: Site = Site::Conn(1);

    #[test]
    fn join_limit_relay_media_and_leave() {
        let s = StudyId::new();
        let other = StudyId::new();
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        let mut calls = CallRooms::new(2);
        let muted = MediaState::default();
        assert_eq!(calls.join(s, a, muted, HERE).expect("a").len(), 1);
        assert_eq!(
            calls
                .join(s, a, muted, Site::Conn(2))
                .expect_err("twice, from another device")
                .code(),
            ErrorCode::Conflict
        );
        let mic = MediaState {
            mic: true,
            ..Default::default()
        };
        let all = calls.join(s, b, mic, Site::Conn(2)).expect("b");
        assert_eq!(
            all.iter().map(|p| p.user_id).collect::<Vec<_>>(),
            vec![a, b]
        );
        assert_eq!(
            calls.join(s, c, muted, HERE).expect_err("full").code(),
            ErrorCode::Conflict
        );
        for (from, to, study, expected) in [
            (a, b, s, None),
            (c, a, s, Some(ErrorCode::Forbidden)),
            (a, c, s, Some(ErrorCode::NotFound)),
            (a, a, s, Some(ErrorCode::NotFound)),
            (a, b, other, Some(ErrorCode::Forbidden)),
        ] {
            assert_eq!(
                calls.check_relay(study, from, to).err().map(|e| e.code()),
                expected,
                "{from} → {to}"
            );
        }
        let camera = MediaState {
            camera: true,
            ..Default::default()
        };
        calls.set_media(s, a, camera).expect("media");
        assert!(calls.participants(s)[0].media.camera);
        assert!(calls.set_media(s, c, muted).is_err());
        assert!(!calls.leave(s, a, Site::Conn(2)), "not seated there");
        assert!(calls.leave(s, a, HERE));
        assert!(!calls.leave(s, a, HERE));
        calls.join(s, c, muted, HERE).expect("room for c now");
        assert!(calls.leave(s, b, Site::Conn(2)) && calls.leave(s, c, HERE));
        assert!(calls.participants(s).is_empty());
    }

    #[test]
    fn participants_admitted_from_other_nodes_count_towards_the_limit() {
        let s = StudyId::new();
        let (remote, local) = (UserId::new(), UserId::new());
        let (node, other_node) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let mut calls = CallRooms::new(2);
        let muted = MediaState::default();
        let mic = MediaState {
            mic: true,
            ..Default::default()
        };
        let seat = |media| Participant {
            user_id: remote,
            media,
        };
        assert!(calls.admit(s, seat(muted), node));
        assert!(calls.admit(s, seat(mic), node), "again: new media");
        assert!(!calls.admit(s, seat(muted), other_node), "seated elsewhere");
        assert_eq!(calls.participants(s), vec![seat(mic)]);
        assert_eq!(calls.site(s, remote), Some(Site::Node(node)));
        calls.join(s, local, muted, HERE).expect("second seat");
        calls
            .check_relay(s, local, remote)
            .expect("relay across nodes");
        assert_eq!(
            calls
                .join(s, UserId::new(), muted, HERE)
                .expect_err("full")
                .code(),
            ErrorCode::Conflict
        );
        assert_eq!(calls.seated(Some(node)), vec![(s, seat(mic))]);
        assert_eq!(
            calls.seated(None),
            vec![(
                s,
                Participant {
                    user_id: local,
                    media: muted
                }
            )]
        );
        assert!(calls.seated(Some(other_node)).is_empty());
        assert!(!calls.leave(s, remote, Site::Node(other_node)));
        assert!(calls.leave(s, remote, Site::Node(node)));
    }
}
