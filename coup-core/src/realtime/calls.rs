//! Call rooms: one call per study, a participant limit, media state, and the rule
//! that signaling is relayed only between participants of the same call.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Reason, Result};
use crate::ids::{StudyId, UserId};

/// A participant's microphone, camera and screen-share state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaState {
    pub mic: bool,
    pub camera: bool,
    pub screen: bool,
}

/// One person in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    pub user_id: UserId,
    pub media: MediaState,
}

/// The calls in progress.
#[derive(Debug)]
pub struct CallRooms {
    rooms: HashMap<StudyId, Vec<Participant>>,
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

    /// Joins the study's call (starting it if needed); returns everyone in it,
    /// the joiner last. One device per user per call.
    pub fn join(
        &mut self,
        study: StudyId,
        user: UserId,
        media: MediaState,
    ) -> Result<Vec<Participant>> {
        let room = self.rooms.entry(study).or_default();
        if room.iter().any(|p| p.user_id == user) {
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
        room.push(Participant {
            user_id: user,
            media,
        });
        Ok(room.clone())
    }

    /// Records a participant another node admitted (its limit check already ran
    /// there), or their new media state if already known.
    pub fn admit(&mut self, study: StudyId, participant: Participant) {
        let room = self.rooms.entry(study).or_default();
        match room.iter_mut().find(|p| p.user_id == participant.user_id) {
            Some(known) => known.media = participant.media,
            None => room.push(participant),
        }
    }

    /// Leaves the study's call; false if the user was not in it.
    pub fn leave(&mut self, study: StudyId, user: UserId) -> bool {
        let Some(room) = self.rooms.get_mut(&study) else {
            return false;
        };
        let before = room.len();
        room.retain(|p| p.user_id != user);
        let left = room.len() < before;
        if room.is_empty() {
            self.rooms.remove(&study);
        }
        left
    }

    /// Changes a participant's media state.
    pub fn set_media(&mut self, study: StudyId, user: UserId, media: MediaState) -> Result<()> {
        let p = self
            .rooms
            .get_mut(&study)
            .and_then(|room| room.iter_mut().find(|p| p.user_id == user))
            .ok_or(Error::Forbidden("join the call first").because(Reason::NotInCall))?;
        p.media = media;
        Ok(())
    }

    /// Refuses signaling unless both `from` and `to` are in the study's call.
    pub fn check_relay(&self, study: StudyId, from: UserId, to: UserId) -> Result<()> {
        let in_call = |u: UserId| {
            self.rooms
                .get(&study)
                .is_some_and(|r| r.iter().any(|p| p.user_id == u))
        };
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
        self.rooms.get(&study).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn join_limit_relay_media_and_leave() {
        let s = StudyId::new();
        let other = StudyId::new();
        let (a, b, c) = (UserId::new(), UserId::new(), UserId::new());
        let mut calls = CallRooms::new(2);
        assert_eq!(calls.join(s, a, MediaState::default()).expect("a").len(), 1);
        assert_eq!(
            calls
                .join(s, a, MediaState::default())
                .expect_err("twice")
                .code(),
            ErrorCode::Conflict
        );
        let all = calls
            .join(
                s,
                b,
                MediaState {
                    mic: true,
                    ..Default::default()
                },
            )
            .expect("b");
        assert_eq!(
            all.iter().map(|p| p.user_id).collect::<Vec<_>>(),
            vec![a, b]
        );
        assert_eq!(
            calls
                .join(s, c, MediaState::default())
                .expect_err("full")
                .code(),
            ErrorCode::Conflict
        );
        calls.check_relay(s, a, b).expect("a → b");
        assert_eq!(
            calls
                .check_relay(s, c, a)
                .expect_err("outsider sends")
                .code(),
            ErrorCode::Forbidden
        );
        assert_eq!(
            calls.check_relay(s, a, c).expect_err("to outsider").code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            calls.check_relay(s, a, a).expect_err("to self").code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            calls
                .check_relay(other, a, b)
                .expect_err("other study")
                .code(),
            ErrorCode::Forbidden
        );
        calls
            .set_media(
                s,
                a,
                MediaState {
                    camera: true,
                    ..Default::default()
                },
            )
            .expect("media");
        assert!(calls.participants(s)[0].media.camera);
        assert!(calls.set_media(s, c, MediaState::default()).is_err());
        assert!(calls.leave(s, a));
        assert!(!calls.leave(s, a));
        calls
            .join(s, c, MediaState::default())
            .expect("room for c now");
        assert!(calls.leave(s, b) && calls.leave(s, c));
        assert!(calls.participants(s).is_empty());
    }

    #[test]
    fn participants_admitted_from_other_nodes_count_towards_the_limit() {
        let s = StudyId::new();
        let (remote, local) = (UserId::new(), UserId::new());
        let mut calls = CallRooms::new(2);
        let muted = MediaState::default();
        calls.admit(
            s,
            Participant {
                user_id: remote,
                media: muted,
            },
        );
        let live = MediaState {
            mic: true,
            ..Default::default()
        };
        calls.admit(
            s,
            Participant {
                user_id: remote,
                media: live,
            },
        );
        assert_eq!(
            calls.participants(s),
            vec![Participant {
                user_id: remote,
                media: live
            }],
            "admitting again updates the media state"
        );
        calls.join(s, local, muted).expect("second seat");
        calls
            .check_relay(s, local, remote)
            .expect("relay across nodes");
        assert_eq!(
            calls
                .join(s, UserId::new(), muted)
                .expect_err("full")
                .code(),
            ErrorCode::Conflict
        );
    }
}
