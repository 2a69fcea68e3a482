//! Domain events: what an operation changed, returned by every mutating service.
//!
//! Events carry what their consumers need without another query: the notification
//! rules ([`crate::notify`]) find their recipients in them, and the real-time gateway
//! fans them out, and a message bus carries them between nodes (they are internal:
//! clients see protocol frames, never events). They are facts in the past tense.

use serde::{Deserialize, Serialize};

use crate::ids::*;
use crate::model::*;

/// Something that happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[allow(missing_docs)]
pub enum DomainEvent {
    UserSignedUp {
        user_id: UserId,
    },
    StudyCreated {
        study: Study,
    },
    StudyUpdated {
        study: Study,
    },
    StudyDeleted {
        study_id: StudyId,
        study_name: String,
        actor: UserId,
        /// Active members at the time of deletion.
        members: Vec<UserId>,
    },
    JoinRequested {
        study_id: StudyId,
        study_name: String,
        user_id: UserId,
        user_name: String,
        /// The study's OWNER and ADMINs, who decide.
        managers: Vec<UserId>,
    },
    MemberJoined {
        study_id: StudyId,
        study_name: String,
        user_id: UserId,
    },
    JoinApproved {
        study_id: StudyId,
        study_name: String,
        user_id: UserId,
        actor: UserId,
    },
    JoinRejected {
        study_id: StudyId,
        study_name: String,
        user_id: UserId,
        actor: UserId,
    },
    MemberKicked {
        study_id: StudyId,
        study_name: String,
        user_id: UserId,
        actor: UserId,
    },
    MemberLeft {
        study_id: StudyId,
        user_id: UserId,
    },
    RoleChanged {
        study_id: StudyId,
        study_name: String,
        user_id: UserId,
        role: StudyRole,
        actor: UserId,
    },
    NoticeCreated {
        notice: Notice,
        study_name: String,
        members: Vec<UserId>,
    },
    NoticeUpdated {
        notice: Notice,
    },
    NoticeDeleted {
        study_id: StudyId,
        notice_id: NoticeId,
    },
    EventCreated {
        event: CalendarEvent,
        study_name: String,
        members: Vec<UserId>,
    },
    EventUpdated {
        event: CalendarEvent,
    },
    EventDeleted {
        study_id: StudyId,
        event_id: EventId,
    },
    MessagePosted {
        message: ChatMessage,
        /// The study's change number this post took (see `service::chat`).
        change: i64,
        study_name: String,
        /// Active members named with `@name` in the message.
        mentioned: Vec<UserId>,
    },
    MessageDeleted {
        study_id: StudyId,
        message_id: MessageId,
        seq: i64,
        /// The study's change number this deletion took.
        change: i64,
        actor: UserId,
    },
    MessagesRead {
        study_id: StudyId,
        user_id: UserId,
        last_read_seq: i64,
        /// The study's change number this receipt took.
        change: i64,
    },
    FileUploaded {
        file: FileMeta,
        study_name: String,
        members: Vec<UserId>,
    },
    FileDeleted {
        study_id: StudyId,
        file_id: FileId,
        /// Where the blob lives, so the file server can remove it.
        storage_key: String,
    },
    ReportCreated {
        report: Report,
    },
    ReportProcessed {
        report: Report,
        actor: UserId,
    },
    UserWarned {
        user_id: UserId,
        reason: String,
        actor: UserId,
    },
    UserSuspended {
        user_id: UserId,
        actor: UserId,
    },
    UserRestored {
        user_id: UserId,
        actor: UserId,
    },
    /// One session ended (logout); `token_hash` identifies it without the secret.
    SessionEnded {
        user_id: UserId,
        token_hash: String,
    },
    /// Every session of the user but one ended (password change).
    OtherSessionsEnded {
        user_id: UserId,
        kept_token_hash: String,
    },
    NotificationCreated {
        notification: Notification,
    },
}

impl DomainEvent {
    /// The study an event belongs to, if any (for per-study fan-out).
    pub fn study_id(&self) -> Option<StudyId> {
        use DomainEvent::*;
        match self {
            StudyCreated { study } | StudyUpdated { study } => Some(study.id),
            StudyDeleted { study_id, .. }
            | JoinRequested { study_id, .. }
            | MemberJoined { study_id, .. }
            | JoinApproved { study_id, .. }
            | JoinRejected { study_id, .. }
            | MemberKicked { study_id, .. }
            | MemberLeft { study_id, .. }
            | RoleChanged { study_id, .. }
            | NoticeDeleted { study_id, .. }
            | EventDeleted { study_id, .. }
            | MessageDeleted { study_id, .. }
            | MessagesRead { study_id, .. }
            | FileDeleted { study_id, .. } => Some(*study_id),
            NoticeCreated { notice, .. } | NoticeUpdated { notice } => Some(notice.study_id),
            EventCreated { event, .. } | EventUpdated { event } => Some(event.study_id),
            MessagePosted { message, .. } => Some(message.study_id),
            FileUploaded { file, .. } => Some(file.study_id),
            NotificationCreated { notification } => notification.study_id,
            UserSignedUp { .. }
            | ReportCreated { .. }
            | ReportProcessed { .. }
            | UserWarned { .. }
            | UserSuspended { .. }
            | UserRestored { .. }
            | SessionEnded { .. }
            | OtherSessionsEnded { .. } => None,
        }
    }
}

/// What a mutating operation returns: its result and the events it caused,
/// including [`DomainEvent::NotificationCreated`] for each notification written.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<T> {
    /// The operation's result.
    pub value: T,
    /// What happened, in order.
    pub events: Vec<DomainEvent>,
}

impl<T> Outcome<T> {
    /// A result with its events.
    pub fn new(value: T, events: Vec<DomainEvent>) -> Self {
        Self { value, events }
    }

    /// A result that caused nothing worth telling.
    pub fn quiet(value: T) -> Self {
        Self::new(value, Vec::new())
    }
}
