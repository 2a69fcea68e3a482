//! What the client tells an application: one [`AppEvent`] enum, serializable as
//! it is (camelCase, `type`-tagged like the protocol), so a Tauri command can emit
//! it and a binding can convert it, and no app ever sees a wire frame, a request
//! id or an untyped payload.
//!
//! Every event is delivered after the cache has absorbed it: an app that reacts
//! by reading the client's state reads the new state.
//!
//! Delivery policy: events go to every subscriber through one bounded broadcast
//! (capacity [`super::ClientConfig::event_buffer`]). Sending never waits, so a
//! slow or blocked subscriber never stalls the socket, the cache or the outbox;
//! a subscriber that falls more than the capacity behind misses the oldest events
//! and is told so with [`AppEvent::Lagged`] — it should then re-read what it shows
//! from the client (the cache is current).

use serde::{Deserialize, Serialize};

use super::outbox::{OutboxItem, Sent};
use crate::error::{ErrorCode, Reason};
use crate::ids::{MessageId, StudyId, UserId};
use crate::model::{ChatMessage, Notification, StudyRole};
use crate::realtime::calls::{MediaState, Participant};
use crate::realtime::protocol::{MembershipChange, ServerFrame, SignalKind, UnsubscribeReason};

/// The live connection, as a user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConnectionState {
    /// Connected and signed in; live events flow.
    Online,
    /// Trying to connect (at start, after `resume()` or a network change).
    Connecting,
    /// Not connected; the next attempt is in `retry_in_ms` (0 while paused).
    #[serde(rename_all = "camelCase")]
    Offline {
        /// Why, for people.
        reason: String,
        /// Milliseconds until the next attempt.
        retry_in_ms: u64,
    },
    /// The server ended the session (signed out elsewhere, password changed,
    /// suspended): the client will not reconnect; sign in again.
    #[serde(rename_all = "camelCase")]
    SignedOut {
        /// `UNAUTHORIZED` for an ended session, the server's code otherwise.
        code: ErrorCode,
        /// The server's words.
        message: String,
        /// Why, where the server said (`ACCOUNT_SUSPENDED`, `SESSION_EXPIRED`):
        /// what a UI words.
        reason: Option<Reason>,
    },
}

/// A WebRTC signal between two participants of a call, typed: what the browser's
/// `RTCSessionDescriptionInit` and `RTCIceCandidateInit` carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Signal {
    /// An SDP offer.
    #[serde(rename_all = "camelCase")]
    Offer {
        /// The session description.
        sdp: String,
    },
    /// An SDP answer.
    #[serde(rename_all = "camelCase")]
    Answer {
        /// The session description.
        sdp: String,
    },
    /// A trickled ICE candidate (an empty `candidate` ends the candidates).
    #[serde(rename_all = "camelCase")]
    IceCandidate {
        /// The candidate line.
        candidate: String,
        /// The media stream it is for.
        sdp_mid: Option<String>,
        /// The m-line index it is for.
        sdp_m_line_index: Option<u16>,
    },
}

impl Signal {
    /// The protocol's kind and payload for this signal.
    pub(crate) fn to_wire(&self) -> (SignalKind, serde_json::Value) {
        use serde_json::json;
        match self {
            Self::Offer { sdp } => (SignalKind::Offer, json!({"type": "offer", "sdp": sdp})),
            Self::Answer { sdp } => (SignalKind::Answer, json!({"type": "answer", "sdp": sdp})),
            Self::IceCandidate {
                candidate,
                sdp_mid,
                sdp_m_line_index,
            } => (
                SignalKind::IceCandidate,
                json!({"candidate": candidate, "sdpMid": sdp_mid, "sdpMLineIndex": sdp_m_line_index}),
            ),
        }
    }

    /// The signal a relayed payload carries; `None` when it is not one (another
    /// participant's client sent garbage, which is dropped).
    pub(crate) fn from_wire(kind: SignalKind, payload: &serde_json::Value) -> Option<Self> {
        let text = |key: &str| payload.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        match kind {
            SignalKind::Offer => Some(Self::Offer { sdp: text("sdp")? }),
            SignalKind::Answer => Some(Self::Answer { sdp: text("sdp")? }),
            SignalKind::IceCandidate => Some(Self::IceCandidate {
                candidate: text("candidate")?,
                sdp_mid: text("sdpMid"),
                sdp_m_line_index: payload
                    .get("sdpMLineIndex")
                    .and_then(|v| v.as_u64())
                    .and_then(|n| u16::try_from(n).ok()),
            }),
        }
    }
}

/// Why the client stopped following a study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StudyGoneReason {
    /// The user was kicked.
    Kicked,
    /// The user left (perhaps on another device).
    Left,
    /// The study was deleted.
    StudyDeleted,
}

/// Everything the client tells an application.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum AppEvent {
    /// The live connection changed state.
    #[serde(rename_all = "camelCase")]
    Connection {
        /// The new state.
        state: ConnectionState,
    },
    /// A chat message arrived (live, or missed while away: once each, in order;
    /// a tombstone if it was deleted since).
    #[serde(rename_all = "camelCase")]
    MessageReceived {
        /// The message.
        message: ChatMessage,
    },
    /// A message was deleted.
    #[serde(rename_all = "camelCase")]
    MessageDeleted {
        /// Where.
        study_id: StudyId,
        /// Which.
        message_id: MessageId,
        /// Its sequence number.
        seq: i64,
    },
    /// A member's read position moved.
    #[serde(rename_all = "camelCase")]
    ReadReceipt {
        /// Where.
        study_id: StudyId,
        /// Who.
        user_id: UserId,
        /// Up to which message sequence.
        last_read_seq: i64,
    },
    /// A member started or stopped typing.
    #[serde(rename_all = "camelCase")]
    Typing {
        /// Where.
        study_id: StudyId,
        /// Who.
        user_id: UserId,
        /// Whether they are typing now.
        typing: bool,
    },
    /// Who is online in a study, as of (re)connecting.
    #[serde(rename_all = "camelCase")]
    OnlineMembers {
        /// Where.
        study_id: StudyId,
        /// Everyone online there.
        user_ids: Vec<UserId>,
    },
    /// A member came online (first device) or went offline (last device).
    #[serde(rename_all = "camelCase")]
    Presence {
        /// Where.
        study_id: StudyId,
        /// Who.
        user_id: UserId,
        /// Online now.
        online: bool,
    },
    /// A new notification.
    #[serde(rename_all = "camelCase")]
    Notification {
        /// It.
        notification: Notification,
    },
    /// Someone joined, was approved, left, was kicked or changed role.
    #[serde(rename_all = "camelCase")]
    Membership {
        /// Where.
        study_id: StudyId,
        /// Who.
        user_id: UserId,
        /// What happened.
        change: MembershipChange,
        /// Their role now, if they are a member.
        role: Option<StudyRole>,
    },
    /// The user is no longer in a study; it is gone from the cache.
    #[serde(rename_all = "camelCase")]
    StudyGone {
        /// Which.
        study_id: StudyId,
        /// Why.
        reason: StudyGoneReason,
    },
    /// This user joined a study's call, or joined it again after the connection
    /// came back (the server ends a participant's place when its connection
    /// drops): who is in it now. An app replaces the participants it shows, so
    /// those who left or joined meanwhile are right again.
    #[serde(rename_all = "camelCase")]
    CallJoined {
        /// The study.
        study_id: StudyId,
        /// Everyone in the call, this user last.
        participants: Vec<Participant>,
    },
    /// Another participant joined a study's call.
    #[serde(rename_all = "camelCase")]
    CallParticipantJoined {
        /// The study.
        study_id: StudyId,
        /// Who, with their media state.
        participant: Participant,
    },
    /// A participant left a study's call (or their connection ended).
    #[serde(rename_all = "camelCase")]
    CallParticipantLeft {
        /// The study.
        study_id: StudyId,
        /// Who.
        user_id: UserId,
    },
    /// A participant changed their microphone, camera or screen share.
    #[serde(rename_all = "camelCase")]
    CallMedia {
        /// The study.
        study_id: StudyId,
        /// Who.
        user_id: UserId,
        /// Their media now.
        media: MediaState,
    },
    /// A WebRTC signal from another participant, for this user.
    #[serde(rename_all = "camelCase")]
    CallSignal {
        /// The study.
        study_id: StudyId,
        /// From whom.
        from: UserId,
        /// The offer, answer or ICE candidate.
        signal: Signal,
    },
    /// Something the user did was queued (shown as pending until the server has it).
    #[serde(rename_all = "camelCase")]
    OutboxPending {
        /// The item.
        item: Box<OutboxItem>,
    },
    /// The server took an outbox item.
    #[serde(rename_all = "camelCase")]
    OutboxSent {
        /// The item.
        item: Box<OutboxItem>,
        /// The server's answer.
        sent: Box<Sent>,
    },
    /// The server refused an outbox item; it stays, failed, with the server's
    /// code and reason, until retried or discarded.
    #[serde(rename_all = "camelCase")]
    OutboxFailed {
        /// The item, with its failure.
        item: Box<OutboxItem>,
    },
    /// The cache was reloaded from the server (after a connect): re-read lists.
    CacheRefreshed,
    /// This subscriber fell behind and missed `missed` events: re-read what it shows.
    #[serde(rename_all = "camelCase")]
    Lagged {
        /// How many events it missed.
        missed: u64,
    },
}

impl AppEvent {
    /// The app event a live frame is, if any (answers to requests, `welcome`,
    /// and frames only the client's machinery uses are none).
    pub(crate) fn from_frame(frame: ServerFrame) -> Option<Self> {
        use ServerFrame as F;
        Some(match frame {
            F::Message { message, .. } => Self::MessageReceived { message },
            F::MessageDeleted {
                study_id,
                message_id,
                seq,
                ..
            } => Self::MessageDeleted {
                study_id,
                message_id,
                seq,
            },
            F::ReadReceipt {
                study_id,
                user_id,
                last_read_seq,
                ..
            } => Self::ReadReceipt {
                study_id,
                user_id,
                last_read_seq,
            },
            F::Typing {
                study_id,
                user_id,
                typing,
            } => Self::Typing {
                study_id,
                user_id,
                typing,
            },
            F::Subscribed {
                study_id, online, ..
            } => Self::OnlineMembers {
                study_id,
                user_ids: online,
            },
            F::Presence {
                study_id,
                user_id,
                online,
            } => Self::Presence {
                study_id,
                user_id,
                online,
            },
            F::Notification { notification } => Self::Notification { notification },
            F::Membership {
                study_id,
                user_id,
                change,
                role,
            } => Self::Membership {
                study_id,
                user_id,
                change,
                role,
            },
            F::Unsubscribed {
                study_id, reason, ..
            } => Self::StudyGone {
                study_id,
                reason: match reason {
                    UnsubscribeReason::Kicked => StudyGoneReason::Kicked,
                    UnsubscribeReason::Left => StudyGoneReason::Left,
                    UnsubscribeReason::StudyDeleted => StudyGoneReason::StudyDeleted,
                    // The client's own unsubscribe: nothing to tell.
                    UnsubscribeReason::Requested => return None,
                },
            },
            F::CallParticipantJoined {
                study_id,
                participant,
            } => Self::CallParticipantJoined {
                study_id,
                participant,
            },
            F::CallParticipantLeft { study_id, user_id } => {
                Self::CallParticipantLeft { study_id, user_id }
            }
            F::CallMedia {
                study_id,
                user_id,
                media,
            } => Self::CallMedia {
                study_id,
                user_id,
                media,
            },
            F::Signal {
                study_id,
                from,
                kind,
                payload,
            } => Self::CallSignal {
                study_id,
                from,
                signal: Signal::from_wire(kind, &payload)?,
            },
            F::Welcome { .. }
            | F::ResyncRequired { .. }
            | F::Ack { .. }
            | F::CallJoined { .. }
            | F::Error { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_camel_case_with_a_type() {
        let study = StudyId::new();
        let json = serde_json::to_value(AppEvent::Typing {
            study_id: study,
            user_id: UserId::new(),
            typing: true,
        })
        .expect("json");
        assert_eq!(json["type"], "typing");
        assert_eq!(json["studyId"], study.to_string());
        let offline = serde_json::to_value(AppEvent::Connection {
            state: ConnectionState::Offline {
                reason: "closed".into(),
                retry_in_ms: 250,
            },
        })
        .expect("json");
        assert_eq!(offline["state"]["state"], "OFFLINE");
        assert_eq!(offline["state"]["retryInMs"], 250);
    }

    #[test]
    fn signals_round_trip_through_the_wire_payload_and_garbage_is_none() {
        for signal in [
            Signal::Offer { sdp: "v=0".into() },
            Signal::Answer { sdp: "v=0".into() },
            Signal::IceCandidate {
                candidate: "candidate:1 1 UDP 1 127.0.0.1 5000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
            },
        ] {
            let (kind, payload) = signal.to_wire();
            assert_eq!(Signal::from_wire(kind, &payload), Some(signal));
        }
        assert_eq!(
            Signal::from_wire(SignalKind::Offer, &serde_json::json!({"nope": 1})),
            None
        );
        assert_eq!(
            Signal::from_wire(SignalKind::IceCandidate, &serde_json::json!("x")),
            None
        );
    }
}
