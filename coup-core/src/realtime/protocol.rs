//! The real-time protocol, version 1: JSON text frames with a `type` field.
//!
//! A connection starts with `hello` (protocol version and the same session token as
//! REST); nothing else is accepted before it. Every frame a client sends may carry a
//! `requestId`; answers and errors about it repeat that id. `docs/PROTOCOL.md`
//! shows an example of every frame (a test keeps them in step).
//!
//! [`route`] is the pure rule that turns a domain event into the frames it causes
//! and says who receives them.

use serde::{Deserialize, Serialize};

use super::calls::{MediaState, Participant};
use crate::Reason;
use crate::events::DomainEvent;
use crate::ids::*;
use crate::model::{ChatChange, ChatMessage, Notification, StudyRole};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// WebSocket close codes the server uses.
pub mod close {
    /// The first frame was not a valid `hello`, or the token was refused.
    pub const UNAUTHORIZED: u16 = 4001;
    /// The client speaks a protocol version this server does not.
    pub const UNSUPPORTED_VERSION: u16 = 4002;
    /// The session ended (logout, password change, suspension). The close frame's
    /// reason is a stable [`Reason`](crate::Reason) a client words:
    /// `ACCOUNT_SUSPENDED`, or `SESSION_EXPIRED` (see [`Delivery::session_end_reason`](super::Delivery::session_end_reason)).
    pub const SESSION_ENDED: u16 = 4003;
    /// No pong or frame within two heartbeat intervals.
    pub const HEARTBEAT_TIMEOUT: u16 = 4004;
    /// The client could not keep up with its outbound queue.
    pub const SLOW_CONSUMER: u16 = 4008;
    /// Too many frames per second.
    pub const RATE_LIMITED: u16 = 4029;
    /// A frame larger than the limit (RFC 6455 "message too big").
    pub const TOO_BIG: u16 = 1009;
    /// A text frame that is not UTF-8 (RFC 6455 "invalid frame payload data").
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// Any other violation of RFC 6455: reserved bits, unknown opcodes,
    /// fragmented control frames, bad close codes, unmasked client frames.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
}

/// Error codes of `error` frames beyond the core's `ErrorCode`s.
pub mod codes {
    /// The frame is not JSON, not an object, or has an unknown `type` or bad fields.
    pub const BAD_FRAME: &str = "BAD_FRAME";
    /// A frame other than `hello` arrived before authentication, or `hello` twice.
    pub const NOT_AUTHENTICATED: &str = "NOT_AUTHENTICATED";
    /// The frame needs a subscription to the study first.
    pub const NOT_SUBSCRIBED: &str = "NOT_SUBSCRIBED";
    /// Too many subscriptions on one connection.
    pub const TOO_MANY_SUBSCRIPTIONS: &str = "TOO_MANY_SUBSCRIPTIONS";
    /// A signaling payload over the limit.
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// Too many frames: slow down (the connection closes if it goes on).
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
}

/// What kind of WebRTC signal a `signal` frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SignalKind {
    Offer,
    Answer,
    IceCandidate,
}

/// A STUN/TURN server for WebRTC clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Frames a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[allow(missing_docs)]
pub enum ClientFrame {
    /// Must come first: the protocol version and the session token.
    Hello {
        version: u32,
        token: String,
    },
    /// Follow a study. `lastChange` resumes the study's change feed after the last
    /// change held (messages, deletions and read receipts missed meanwhile);
    /// `lastSeq` alone resumes after the last chat sequence seen; neither starts
    /// live from now.
    Subscribe {
        request_id: Option<String>,
        study_id: StudyId,
        last_seq: Option<i64>,
        last_change: Option<i64>,
    },
    Unsubscribe {
        request_id: Option<String>,
        study_id: StudyId,
    },
    /// Send a chat message; `clientId` makes resending safe.
    Send {
        request_id: Option<String>,
        study_id: StudyId,
        content: String,
        client_id: String,
        file_id: Option<FileId>,
    },
    /// Read receipt up to a sequence number.
    Read {
        request_id: Option<String>,
        study_id: StudyId,
        seq: i64,
    },
    Typing {
        study_id: StudyId,
        typing: bool,
    },
    CallJoin {
        request_id: Option<String>,
        study_id: StudyId,
        #[serde(default)]
        media: MediaState,
    },
    CallLeave {
        request_id: Option<String>,
        study_id: StudyId,
    },
    /// An offer, answer or ICE candidate for one other participant.
    Signal {
        request_id: Option<String>,
        study_id: StudyId,
        to: UserId,
        kind: SignalKind,
        payload: serde_json::Value,
    },
    Media {
        request_id: Option<String>,
        study_id: StudyId,
        media: MediaState,
    },
}

/// Why a subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UnsubscribeReason {
    Requested,
    Kicked,
    Left,
    StudyDeleted,
}

/// Membership changes announced to a study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MembershipChange {
    Joined,
    Approved,
    Kicked,
    Left,
    RoleChanged,
    StudyDeleted,
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[allow(missing_docs)]
pub enum ServerFrame {
    Welcome {
        version: u32,
        user_id: UserId,
        heartbeat_secs: u64,
        replay_limit: u32,
        ice_servers: Vec<IceServer>,
    },
    /// The subscription is live: who is online, the study's last sequence, and
    /// the change the replay reached — every change after it arrives live, in order.
    Subscribed {
        request_id: Option<String>,
        study_id: StudyId,
        last_seq: i64,
        #[serde(default)]
        last_change: i64,
        online: Vec<UserId>,
    },
    Unsubscribed {
        request_id: Option<String>,
        study_id: StudyId,
        reason: UnsubscribeReason,
    },
    /// More was missed than the replay limit: page the changes `(fromChange,
    /// toChange]` over REST (`GET …/chat/changes`), or the messages `(fromSeq, toSeq]`.
    ResyncRequired {
        study_id: StudyId,
        from_seq: i64,
        to_seq: i64,
        #[serde(default)]
        from_change: i64,
        #[serde(default)]
        to_change: i64,
    },
    /// A chat message; `change` is its place in the study's change feed.
    Message {
        message: ChatMessage,
        #[serde(default)]
        change: i64,
    },
    MessageDeleted {
        study_id: StudyId,
        message_id: MessageId,
        seq: i64,
        #[serde(default)]
        change: i64,
    },
    ReadReceipt {
        study_id: StudyId,
        user_id: UserId,
        last_read_seq: i64,
        #[serde(default)]
        change: i64,
    },
    Typing {
        study_id: StudyId,
        user_id: UserId,
        typing: bool,
    },
    Presence {
        study_id: StudyId,
        user_id: UserId,
        online: bool,
    },
    Notification {
        notification: Notification,
    },
    Membership {
        study_id: StudyId,
        user_id: UserId,
        change: MembershipChange,
        role: Option<StudyRole>,
    },
    /// A request succeeded; `message` is the stored chat message for `send`.
    Ack {
        request_id: Option<String>,
        message: Option<ChatMessage>,
    },
    CallJoined {
        request_id: Option<String>,
        study_id: StudyId,
        participants: Vec<Participant>,
        ice_servers: Vec<IceServer>,
    },
    CallParticipantJoined {
        study_id: StudyId,
        participant: Participant,
    },
    CallParticipantLeft {
        study_id: StudyId,
        user_id: UserId,
    },
    CallMedia {
        study_id: StudyId,
        user_id: UserId,
        media: MediaState,
    },
    Signal {
        study_id: StudyId,
        from: UserId,
        kind: SignalKind,
        payload: serde_json::Value,
    },
    /// A refusal: a stable `code` (the REST codes and [`codes`]), and a `reason`
    /// where a user interface words cases of one code differently.
    Error {
        request_id: Option<String>,
        code: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

impl ServerFrame {
    /// An error frame from a core error.
    pub fn error(request_id: Option<String>, e: &crate::Error) -> Self {
        Self::Error {
            request_id,
            code: e.code().as_str().to_owned(),
            message: e.public_message(),
            reason: e.reason().map(|r| r.as_str().to_owned()),
        }
    }

    /// The frame that tells a subscriber of `study` about one change of its chat.
    pub fn from_change(study_id: StudyId, change: ChatChange) -> Self {
        match change {
            ChatChange::Message { change, message } => Self::Message {
                message: *message,
                change,
            },
            ChatChange::MessageDeleted {
                change,
                message_id,
                seq,
            } => Self::MessageDeleted {
                study_id,
                message_id,
                seq,
                change,
            },
            ChatChange::ReadReceipt {
                change,
                user_id,
                last_read_seq,
            } => Self::ReadReceipt {
                study_id,
                user_id,
                last_read_seq,
                change,
            },
        }
    }

    /// The change number of a frame that carries a chat change.
    pub fn change(&self) -> Option<i64> {
        match self {
            Self::Message { change, .. }
            | Self::MessageDeleted { change, .. }
            | Self::ReadReceipt { change, .. } => Some(*change),
            _ => None,
        }
    }

    /// An error frame with a protocol code.
    pub fn protocol_error(
        request_id: Option<String>,
        code: &str,
        message: impl Into<String>,
    ) -> Self {
        Self::Error {
            request_id,
            code: code.to_owned(),
            message: message.into(),
            reason: None,
        }
    }
}

/// Who receives a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Every connection subscribed to the study.
    Study(StudyId),
    /// Every connection of the user.
    User(UserId),
}

/// What an event means for live connections.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// Send a frame to an audience.
    Frame(Audience, Box<ServerFrame>),
    /// End the user's subscription to the study at once (and tell them why).
    EndSubscription(StudyId, UserId, UnsubscribeReason),
    /// End every subscription to the study.
    EndStudy(StudyId),
    /// Close every connection of the user (suspended).
    EndSessions(UserId),
    /// Close the user's connections opened with one session (logout).
    EndSession(UserId, String),
    /// Close the user's connections of every session but one (password change).
    EndOtherSessions(UserId, String),
    /// The user is no longer typing in the study (their message was committed,
    /// whichever way it was sent).
    StopTyping(StudyId, UserId),
}

impl Delivery {
    /// Why the connections this delivery closes are closed, as the reason of
    /// their `4003` close frame: a suspension says so; a logout or a password
    /// change elsewhere is an expired session. `None` for deliveries that close
    /// nothing.
    pub fn session_end_reason(&self) -> Option<Reason> {
        match self {
            Self::EndSessions(_) => Some(Reason::AccountSuspended),
            Self::EndSession(..) | Self::EndOtherSessions(..) => Some(Reason::SessionExpired),
            Self::Frame(..)
            | Self::EndSubscription(..)
            | Self::EndStudy(_)
            | Self::StopTyping(..) => None,
        }
    }
}

/// The deliveries a domain event causes.
pub fn route(event: &DomainEvent) -> Vec<Delivery> {
    use Audience::{Study, User};
    use Delivery::{EndSessions, EndStudy, EndSubscription};
    let frame = |audience, f| Delivery::Frame(audience, Box::new(f));
    use DomainEvent as E;
    let membership = |study_id, user_id, change, role| {
        frame(
            Study(study_id),
            ServerFrame::Membership {
                study_id,
                user_id,
                change,
                role,
            },
        )
    };
    match event {
        // A committed message ends its author's typing, however it was sent.
        E::MessagePosted {
            message, change, ..
        } => vec![
            Delivery::StopTyping(message.study_id, message.author_id),
            frame(
                Study(message.study_id),
                ServerFrame::Message {
                    message: message.clone(),
                    change: *change,
                },
            ),
        ],
        E::MessageDeleted {
            study_id,
            message_id,
            seq,
            change,
            ..
        } => {
            vec![frame(
                Study(*study_id),
                ServerFrame::MessageDeleted {
                    study_id: *study_id,
                    message_id: *message_id,
                    seq: *seq,
                    change: *change,
                },
            )]
        }
        E::MessagesRead {
            study_id,
            user_id,
            last_read_seq,
            change,
        } => vec![frame(
            Study(*study_id),
            ServerFrame::ReadReceipt {
                study_id: *study_id,
                user_id: *user_id,
                last_read_seq: *last_read_seq,
                change: *change,
            },
        )],
        E::NotificationCreated { notification } => {
            vec![frame(
                User(notification.user_id),
                ServerFrame::Notification {
                    notification: notification.clone(),
                },
            )]
        }
        E::MemberJoined {
            study_id, user_id, ..
        } => vec![membership(
            *study_id,
            *user_id,
            MembershipChange::Joined,
            Some(StudyRole::Member),
        )],
        E::JoinApproved {
            study_id, user_id, ..
        } => vec![membership(
            *study_id,
            *user_id,
            MembershipChange::Approved,
            Some(StudyRole::Member),
        )],
        E::RoleChanged {
            study_id,
            user_id,
            role,
            ..
        } => vec![membership(
            *study_id,
            *user_id,
            MembershipChange::RoleChanged,
            Some(*role),
        )],
        E::MemberKicked {
            study_id, user_id, ..
        } => vec![
            EndSubscription(*study_id, *user_id, UnsubscribeReason::Kicked),
            membership(*study_id, *user_id, MembershipChange::Kicked, None),
        ],
        E::MemberLeft { study_id, user_id } => vec![
            EndSubscription(*study_id, *user_id, UnsubscribeReason::Left),
            membership(*study_id, *user_id, MembershipChange::Left, None),
        ],
        E::StudyDeleted {
            study_id, actor, ..
        } => vec![
            membership(*study_id, *actor, MembershipChange::StudyDeleted, None),
            EndStudy(*study_id),
        ],
        E::UserSuspended { user_id, .. } => vec![EndSessions(*user_id)],
        E::SessionEnded {
            user_id,
            token_hash,
        } => vec![Delivery::EndSession(*user_id, token_hash.clone())],
        E::OtherSessionsEnded {
            user_id,
            kept_token_hash,
        } => {
            vec![Delivery::EndOtherSessions(
                *user_id,
                kept_token_hash.clone(),
            )]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn frames_round_trip_with_a_type_field() {
        let text =
            r#"{"type":"subscribe","studyId":"6f1c1b7e-8f1e-4c59-9a7e-1f2e3d4c5b6a","lastSeq":41}"#;
        let frame: ClientFrame = serde_json::from_str(text).expect("parse");
        assert!(matches!(
            frame,
            ClientFrame::Subscribe {
                last_seq: Some(41),
                request_id: None,
                ..
            }
        ));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"launchMissiles"}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"studyId":"x"}"#).is_err());
        let out = serde_json::to_value(ServerFrame::Typing {
            study_id: StudyId::new(),
            user_id: UserId::new(),
            typing: true,
        })
        .expect("json");
        assert_eq!(out["type"], "typing");
        assert!(out.get("studyId").is_some());
    }

    #[test]
    fn kicks_end_the_subscription_and_suspensions_end_sessions() {
        let (s, u, a) = (StudyId::new(), UserId::new(), UserId::new());
        let kicked = route(&DomainEvent::MemberKicked {
            study_id: s,
            study_name: "S".into(),
            user_id: u,
            actor: a,
        });
        assert_eq!(
            kicked[0],
            Delivery::EndSubscription(s, u, UnsubscribeReason::Kicked)
        );
        assert_eq!(
            route(&DomainEvent::UserSuspended {
                user_id: u,
                actor: a
            }),
            vec![Delivery::EndSessions(u)]
        );
        let deleted = route(&DomainEvent::StudyDeleted {
            study_id: s,
            study_name: "S".into(),
            actor: a,
            members: vec![u],
        });
        assert!(deleted.contains(&Delivery::EndStudy(s)));
    }

    #[test]
    fn a_closed_session_says_why_so_the_app_can_word_it() {
        let (u, a) = (UserId::new(), UserId::new());
        let why = |event: DomainEvent| -> Vec<Option<Reason>> {
            route(&event)
                .iter()
                .map(Delivery::session_end_reason)
                .collect()
        };
        assert_eq!(
            why(DomainEvent::UserSuspended {
                user_id: u,
                actor: a
            }),
            vec![Some(Reason::AccountSuspended)]
        );
        assert_eq!(
            why(DomainEvent::SessionEnded {
                user_id: u,
                token_hash: "h".into()
            }),
            vec![Some(Reason::SessionExpired)]
        );
        assert_eq!(
            why(DomainEvent::OtherSessionsEnded {
                user_id: u,
                kept_token_hash: "h".into()
            }),
            vec![Some(Reason::SessionExpired)]
        );
        let kicked = route(&DomainEvent::MemberKicked {
            study_id: StudyId::new(),
            study_name: "S".into(),
            user_id: u,
            actor: a,
        });
        assert!(kicked.iter().all(|d| d.session_end_reason().is_none()));
    }

    #[test]
    fn chat_goes_to_the_study_and_notifications_to_their_user() {
        let s = StudyId::new();
        let message = ChatMessage {
            id: MessageId::new(),
            study_id: s,
            seq: 3,
            author_id: UserId::new(),
            author_name: "kim".into(),
            content: "hi".into(),
            file: None,
            client_id: None,
            is_deleted: false,
            created_at: Utc::now(),
        };
        let author = message.author_id;
        let d = route(&DomainEvent::MessagePosted {
            message,
            change: 4,
            study_name: "S".into(),
            mentioned: vec![],
        });
        assert_eq!(d[0], Delivery::StopTyping(s, author), "a post ends typing");
        assert!(
            matches!(&d[1], Delivery::Frame(Audience::Study(x), f) if *x == s && matches!(**f, ServerFrame::Message { change: 4, .. }))
        );
        assert!(
            route(&DomainEvent::UserSignedUp {
                user_id: UserId::new()
            })
            .is_empty()
        );
    }
}

#[cfg(test)]
mod doc_tests {
    use std::collections::BTreeSet;

    use serde::de::DeserializeOwned;

    use super::*;

    const DOC: &str = include_str!("../../../docs/PROTOCOL.md");

    /// Every `type` an enum accepts, read from serde's own "unknown variant" message.
    fn variants<T: DeserializeOwned>() -> BTreeSet<String> {
        let err = serde_json::from_str::<T>(r#"{"type":"?"}"#)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let list = err.split("expected one of").nth(1).unwrap_or_default();
        list.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    /// The `type`s of the JSON examples under a heading that parse as `T`.
    fn examples<T: DeserializeOwned + Serialize>(section: &str) -> BTreeSet<String> {
        let body = DOC
            .split(section)
            .nth(1)
            .unwrap_or_default()
            .split("\n## ")
            .next()
            .unwrap_or_default();
        body.split("```json\n")
            .skip(1)
            .map(|block| {
                let json = block.split("```").next().unwrap_or_default();
                let frame: T = serde_json::from_str(json)
                    .unwrap_or_else(|e| panic!("example does not parse: {e}\n{json}"));
                serde_json::to_value(&frame).expect("serialize")["type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn every_frame_type_has_a_parsing_example_in_the_protocol_doc() {
        let client = variants::<ClientFrame>();
        let server = variants::<ServerFrame>();
        assert!(
            client.len() >= 10 && server.len() >= 18,
            "variant names were read: {client:?} {server:?}"
        );
        assert_eq!(examples::<ClientFrame>("## Client frames"), client);
        assert_eq!(examples::<ServerFrame>("## Server frames"), server);
    }
}
