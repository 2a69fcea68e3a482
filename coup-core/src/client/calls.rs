//! Call signaling over the live connection: join and leave a study's call, send
//! offers, answers, ICE candidates and media state to other participants, and read
//! what others send as typed [`CallEvent`]s. The WebRTC media itself is the app's.

use super::live::Live;
use crate::error::{Error, Result};
use crate::ids::{StudyId, UserId};
use crate::realtime::calls::{MediaState, Participant};
use crate::realtime::protocol::{ClientFrame, IceServer, ServerFrame, SignalKind};

/// The call as the joiner finds it.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinedCall {
    /// Everyone in the call, the joiner last.
    pub participants: Vec<Participant>,
    /// STUN/TURN servers for the peer connections.
    pub ice_servers: Vec<IceServer>,
}

/// What other participants of a call do.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    Joined {
        study_id: StudyId,
        participant: Participant,
    },
    Left {
        study_id: StudyId,
        user_id: UserId,
    },
    Media {
        study_id: StudyId,
        user_id: UserId,
        media: MediaState,
    },
    /// An offer, answer or ICE candidate from `from`, addressed to this user.
    Signal {
        study_id: StudyId,
        from: UserId,
        kind: SignalKind,
        payload: serde_json::Value,
    },
}

impl CallEvent {
    /// The call event a live frame is, if it is one.
    pub fn from_frame(frame: &ServerFrame) -> Option<Self> {
        match frame {
            ServerFrame::CallParticipantJoined {
                study_id,
                participant,
            } => Some(Self::Joined {
                study_id: *study_id,
                participant: *participant,
            }),
            ServerFrame::CallParticipantLeft { study_id, user_id } => Some(Self::Left {
                study_id: *study_id,
                user_id: *user_id,
            }),
            ServerFrame::CallMedia {
                study_id,
                user_id,
                media,
            } => Some(Self::Media {
                study_id: *study_id,
                user_id: *user_id,
                media: *media,
            }),
            ServerFrame::Signal {
                study_id,
                from,
                kind,
                payload,
            } => Some(Self::Signal {
                study_id: *study_id,
                from: *from,
                kind: *kind,
                payload: payload.clone(),
            }),
            _ => None,
        }
    }
}

/// Call signaling through a live connection.
#[derive(Debug, Clone, Copy)]
pub struct Calls<'a> {
    live: &'a Live,
}

impl<'a> Calls<'a> {
    /// Signaling over `live`.
    pub fn new(live: &'a Live) -> Self {
        Self { live }
    }

    /// Joins the study's call (the caller must follow the study).
    pub async fn join(&self, study_id: StudyId, media: MediaState) -> Result<JoinedCall> {
        match self
            .live
            .request(ClientFrame::CallJoin {
                request_id: None,
                study_id,
                media,
            })
            .await?
        {
            ServerFrame::CallJoined {
                participants,
                ice_servers,
                ..
            } => Ok(JoinedCall {
                participants,
                ice_servers,
            }),
            other => Err(unexpected(&other)),
        }
    }

    /// Leaves the study's call.
    pub async fn leave(&self, study_id: StudyId) -> Result<()> {
        self.acked(ClientFrame::CallLeave {
            request_id: None,
            study_id,
        })
        .await
    }

    /// Sends an SDP offer (`{"type":"offer","sdp":…}`) to one participant.
    pub async fn offer(&self, study_id: StudyId, to: UserId, sdp: serde_json::Value) -> Result<()> {
        self.signal(study_id, to, SignalKind::Offer, sdp).await
    }

    /// Sends an SDP answer to one participant.
    pub async fn answer(
        &self,
        study_id: StudyId,
        to: UserId,
        sdp: serde_json::Value,
    ) -> Result<()> {
        self.signal(study_id, to, SignalKind::Answer, sdp).await
    }

    /// Sends an ICE candidate to one participant.
    pub async fn ice_candidate(
        &self,
        study_id: StudyId,
        to: UserId,
        candidate: serde_json::Value,
    ) -> Result<()> {
        self.signal(study_id, to, SignalKind::IceCandidate, candidate)
            .await
    }

    /// Tells the call about this user's microphone, camera and screen share.
    pub async fn set_media(&self, study_id: StudyId, media: MediaState) -> Result<()> {
        self.acked(ClientFrame::Media {
            request_id: None,
            study_id,
            media,
        })
        .await
    }

    async fn signal(
        &self,
        study_id: StudyId,
        to: UserId,
        kind: SignalKind,
        payload: serde_json::Value,
    ) -> Result<()> {
        self.acked(ClientFrame::Signal {
            request_id: None,
            study_id,
            to,
            kind,
            payload,
        })
        .await
    }

    async fn acked(&self, frame: ClientFrame) -> Result<()> {
        match self.live.request(frame).await? {
            ServerFrame::Ack { .. } => Ok(()),
            other => Err(unexpected(&other)),
        }
    }
}

fn unexpected(frame: &ServerFrame) -> Error {
    Error::BadResponse(format!(
        "unexpected answer {}",
        serde_json::to_string(frame).unwrap_or_default()
    ))
}
