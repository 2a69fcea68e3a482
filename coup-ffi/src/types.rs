//! Records and enums of the bindings, converted from and to the core's types at
//! the edge: ids as strings, times as RFC 3339 UTC strings, enums mirrored one
//! variant for one variant. Names that would collide with a platform's own
//! types are changed: `TaskItem` (Swift's `Task`), `NotificationItem`
//! (Foundation's `Notification`).

use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use coup_core::client as core_client;
use coup_core::model as m;

use crate::error::CoupError;

// ---------------------------------------------------------------- conversions

/// `From<core type> for record`, one field list for both sides: the core value
/// is destructured with every field named (so a field added to the core type
/// fails to compile here until the bindings say what to do with it) and the
/// record is built from them, `field` as it is or `field: conversion`. Fields
/// the bindings never carry are listed after `; dropped:`.
macro_rules! from_core {
    ($core:path => $record:ident {
        $($field:ident $(: $value:expr)?),* $(,)? $(; dropped: $($dropped:ident),+)?
    }) => {
        impl From<$core> for $record {
            fn from(value: $core) -> Self {
                let $core { $($field,)* $($($dropped: _,)+)? } = value;
                Self { $($field $(: $value)?),* }
            }
        }
    };
}

/// A time as the bindings give it: RFC 3339, UTC, milliseconds.
pub(crate) fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn opt_time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(time)
}

/// A time the app gave (any RFC 3339 offset).
pub(crate) fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>, CoupError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| CoupError::validation(field, format!("is not an RFC 3339 time ({e})")))
}

pub(crate) fn parse_opt_time(
    field: &str,
    text: Option<String>,
) -> Result<Option<DateTime<Utc>>, CoupError> {
    text.map(|t| parse_time(field, &t)).transpose()
}

/// An id the app gave.
pub(crate) fn parse_id<T: FromStr>(field: &str, text: &str) -> Result<T, CoupError> {
    text.trim()
        .parse()
        .map_err(|_| CoupError::validation(field, format!("{text:?} is not an id")))
}

pub(crate) fn parse_opt_id<T: FromStr>(
    field: &str,
    text: Option<String>,
) -> Result<Option<T>, CoupError> {
    text.map(|t| parse_id(field, &t)).transpose()
}

fn ids<T: ToString>(all: Vec<T>) -> Vec<String> {
    all.into_iter().map(|id| id.to_string()).collect()
}

/// Converts each item of a list.
pub(crate) fn all<T, U: From<T>>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(U::from).collect()
}

// ---------------------------------------------------------------- enums

macro_rules! mirror_enum {
    ($(#[$doc:meta])* $name:ident = $core:path { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
        pub enum $name { $($variant),+ }

        impl From<$core> for $name {
            fn from(v: $core) -> Self {
                use $core as Core;
                match v { $(Core::$variant => Self::$variant),+ }
            }
        }

        impl From<$name> for $core {
            fn from(v: $name) -> Self {
                use $core as Core;
                match v { $($name::$variant => Core::$variant),+ }
            }
        }
    };
}

mirror_enum!(
    /// A user's role on the platform.
    PlatformRole = m::PlatformRole { User, Admin, SystemAdmin }
);
mirror_enum!(
    /// Whether an account may be used.
    UserStatus = m::UserStatus { Active, Suspended }
);
mirror_enum!(
    /// A member's role in a study.
    StudyRole = m::StudyRole { Owner, Admin, Member }
);
mirror_enum!(
    /// A membership that is real, or a request.
    MemberStatus = m::MemberStatus { Pending, Active }
);
mirror_enum!(
    /// How join requests are handled.
    JoinPolicy = m::JoinPolicy { Auto, Approval }
);
mirror_enum!(
    /// Order of study listings.
    StudySort = m::StudySort { Newest, Name, Members }
);
mirror_enum!(
    /// A task's priority.
    Priority = m::Priority { Low, Medium, High }
);
mirror_enum!(
    /// What a notification is about.
    NotificationKind = m::NotificationKind {
        JoinRequest, JoinApproved, JoinRejected, Kicked, RoleChanged, NewNotice,
        NewEvent, NewFile, Mention, ReportProcessed, Warning, StudyDeleted,
    }
);
mirror_enum!(
    /// What happened to a member.
    MembershipChange = coup_core::realtime::protocol::MembershipChange {
        Joined, Approved, Kicked, Left, RoleChanged, StudyDeleted,
    }
);
mirror_enum!(
    /// Why the client stopped following a study.
    StudyGoneReason = core_client::StudyGoneReason { Kicked, Left, StudyDeleted }
);

// ---------------------------------------------------------------- records

/// A user (the email only where the viewer may see it).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub role: PlatformRole,
    pub status: UserStatus,
    pub suspended_reason: Option<String>,
    pub suspended_until: Option<String>,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

from_core!(m::User => User {
    id: id.to_string(), email, name, bio, avatar_url, role: role.into(), status: status.into(),
    suspended_reason, suspended_until: opt_time(suspended_until), created_at: time(created_at),
    last_login_at: opt_time(last_login_at),
});

/// A study group.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Study {
    pub id: String,
    pub name: String,
    pub description: String,
    pub category: String,
    pub tags: Vec<String>,
    pub max_members: u32,
    pub member_count: u32,
    pub is_public: bool,
    pub join_policy: JoinPolicy,
    pub is_recruiting: bool,
    pub owner_id: String,
    pub owner_name: String,
    /// The highest chat sequence number used in the study.
    pub last_seq: i64,
    pub created_at: String,
    pub updated_at: String,
    /// The user's role in it, if a member.
    pub my_role: Option<StudyRole>,
    /// The user's membership status, if any.
    pub my_status: Option<MemberStatus>,
}

from_core!(m::Study => Study {
    id: id.to_string(), name, description, category, tags, max_members, member_count, is_public,
    join_policy: join_policy.into(), is_recruiting, owner_id: owner_id.to_string(), owner_name,
    last_seq, created_at: time(created_at), updated_at: time(updated_at),
    my_role: my_role.map(Into::into), my_status: my_status.map(Into::into),
});

/// One page of a study search.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StudyPage {
    pub items: Vec<Study>,
    pub total: u64,
    pub page: u32,
    pub limit: u32,
}

impl From<m::Page<m::Study>> for StudyPage {
    fn from(p: m::Page<m::Study>) -> Self {
        let m::Page {
            items,
            total,
            page,
            limit,
        } = p;
        Self {
            items: all(items),
            total,
            page,
            limit,
        }
    }
}

/// A study search; every field optional.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct StudyQuery {
    #[uniffi(default)]
    pub keyword: Option<String>,
    #[uniffi(default)]
    pub category: Option<String>,
    #[uniffi(default)]
    pub tag: Option<String>,
    #[uniffi(default)]
    pub recruiting: Option<bool>,
    #[uniffi(default)]
    pub sort: Option<StudySort>,
    /// From 1.
    #[uniffi(default)]
    pub page: Option<u32>,
    /// 1 to 100.
    #[uniffi(default)]
    pub limit: Option<u32>,
}

impl From<StudyQuery> for coup_core::api::studies::StudyQuery {
    fn from(q: StudyQuery) -> Self {
        Self {
            keyword: q.keyword,
            category: q.category,
            tag: q.tag,
            recruiting: q.recruiting,
            sort: q.sort.map(Into::into),
            page: q.page,
            limit: q.limit,
        }
    }
}

/// A new study.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewStudy {
    pub name: String,
    #[uniffi(default)]
    pub description: String,
    pub category: String,
    #[uniffi(default)]
    pub tags: Vec<String>,
    /// 2 to 1,000.
    pub max_members: u32,
    pub is_public: bool,
    pub join_policy: JoinPolicy,
    #[uniffi(default = true)]
    pub is_recruiting: bool,
}

impl From<NewStudy> for coup_core::api::studies::NewStudy {
    fn from(s: NewStudy) -> Self {
        Self {
            name: s.name,
            description: s.description,
            category: s.category,
            tags: s.tags,
            max_members: s.max_members,
            is_public: s.is_public,
            join_policy: s.join_policy.into(),
            is_recruiting: s.is_recruiting,
        }
    }
}

/// A study's member, or a pending request.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Member {
    pub study_id: String,
    pub user_id: String,
    pub name: String,
    /// Only the user's own, or for platform admins.
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub role: StudyRole,
    pub status: MemberStatus,
    /// The note sent with a join request.
    pub message: Option<String>,
    pub requested_at: String,
    pub joined_at: Option<String>,
    pub last_read_seq: i64,
}

from_core!(m::Member => Member {
    study_id: study_id.to_string(), user_id: user_id.to_string(), name, email, avatar_url,
    role: role.into(), status: status.into(), message, requested_at: time(requested_at),
    joined_at: opt_time(joined_at), last_read_seq,
});

/// A notice of a study.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Notice {
    pub id: String,
    pub study_id: String,
    pub author_id: String,
    pub author_name: String,
    pub title: String,
    pub content: String,
    pub is_pinned: bool,
    pub view_count: u64,
    pub created_at: String,
    pub updated_at: String,
}

from_core!(m::Notice => Notice {
    id: id.to_string(), study_id: study_id.to_string(), author_id: author_id.to_string(),
    author_name, title, content, is_pinned, view_count, created_at: time(created_at),
    updated_at: time(updated_at),
});

/// An event of a study's calendar.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CalendarEvent {
    pub id: String,
    pub study_id: String,
    pub creator_id: String,
    pub title: String,
    pub description: Option<String>,
    pub start_at: String,
    pub end_at: String,
    pub all_day: bool,
    pub location: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

from_core!(m::CalendarEvent => CalendarEvent {
    id: id.to_string(), study_id: study_id.to_string(), creator_id: creator_id.to_string(), title,
    description, start_at: time(start_at), end_at: time(end_at), all_day, location,
    created_at: time(created_at), updated_at: time(updated_at),
});

/// A personal to-do (`Task` in the REST API).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TaskItem {
    pub id: String,
    pub user_id: String,
    pub study_id: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub due_at: Option<String>,
    pub priority: Priority,
    pub is_done: bool,
    pub done_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

from_core!(m::Task => TaskItem {
    id: id.to_string(), user_id: user_id.to_string(), study_id: study_id.map(|s| s.to_string()),
    title, description, due_at: opt_time(due_at), priority: priority.into(), is_done,
    done_at: opt_time(done_at), created_at: time(created_at), updated_at: time(updated_at),
});

/// A new task.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewTask {
    pub title: String,
    #[uniffi(default)]
    pub description: Option<String>,
    /// RFC 3339.
    #[uniffi(default)]
    pub due_at: Option<String>,
    pub priority: Priority,
    #[uniffi(default)]
    pub study_id: Option<String>,
}

impl NewTask {
    pub(crate) fn into_core(self) -> Result<coup_core::api::tasks::NewTask, CoupError> {
        Ok(coup_core::api::tasks::NewTask {
            title: self.title,
            description: self.description,
            due_at: parse_opt_time("dueAt", self.due_at)?,
            priority: self.priority.into(),
            study_id: parse_opt_id("studyId", self.study_id)?,
            client_id: None,
        })
    }

    fn from_core(t: coup_core::api::tasks::NewTask) -> Self {
        let coup_core::api::tasks::NewTask {
            title,
            description,
            due_at,
            priority,
            study_id,
            // The outbox item that carries the task holds its client id.
            client_id: _,
        } = t;
        Self {
            title,
            description,
            due_at: opt_time(due_at),
            priority: priority.into(),
            study_id: study_id.map(|s| s.to_string()),
        }
    }
}

/// Changes to a task; fields left out stay.
#[derive(Debug, Clone, Default, PartialEq, uniffi::Record)]
pub struct TaskPatch {
    #[uniffi(default)]
    pub title: Option<String>,
    #[uniffi(default)]
    pub description: Option<String>,
    /// RFC 3339.
    #[uniffi(default)]
    pub due_at: Option<String>,
    #[uniffi(default)]
    pub priority: Option<Priority>,
    #[uniffi(default)]
    pub study_id: Option<String>,
    #[uniffi(default)]
    pub is_done: Option<bool>,
}

impl TaskPatch {
    pub(crate) fn into_core(self) -> Result<coup_core::api::tasks::TaskPatch, CoupError> {
        Ok(coup_core::api::tasks::TaskPatch {
            title: self.title,
            description: self.description,
            due_at: parse_opt_time("dueAt", self.due_at)?,
            priority: self.priority.map(Into::into),
            study_id: parse_opt_id("studyId", self.study_id)?,
            is_done: self.is_done,
        })
    }

    fn from_core(p: coup_core::api::tasks::TaskPatch) -> Self {
        let coup_core::api::tasks::TaskPatch {
            title,
            description,
            due_at,
            priority,
            study_id,
            is_done,
        } = p;
        Self {
            title,
            description,
            due_at: opt_time(due_at),
            priority: priority.map(Into::into),
            study_id: study_id.map(|s| s.to_string()),
            is_done,
        }
    }
}

/// Which task an outbox change names: one the server has, or one still being
/// created offline (by the client id of its `CreateTask` outbox item).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum TaskRef {
    /// A task the server has.
    Id { id: String },
    /// A task created offline, by its create item's `client_id`.
    Pending { client_id: String },
}

impl TaskRef {
    pub(crate) fn into_core(self) -> Result<core_client::TaskRef, CoupError> {
        Ok(match self {
            Self::Id { id } => core_client::TaskRef::Id(parse_id("taskId", &id)?),
            Self::Pending { client_id } => core_client::TaskRef::Pending { client_id },
        })
    }
}

impl From<core_client::TaskRef> for TaskRef {
    fn from(t: core_client::TaskRef) -> Self {
        match t {
            core_client::TaskRef::Id(id) => Self::Id { id: id.to_string() },
            core_client::TaskRef::Pending { client_id } => Self::Pending { client_id },
        }
    }
}

/// An uploaded file's metadata.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FileMeta {
    pub id: String,
    pub study_id: String,
    pub uploader_id: String,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub download_count: u64,
    pub created_at: String,
}

from_core!(m::FileMeta => FileMeta {
    id: id.to_string(), study_id: study_id.to_string(), uploader_id: uploader_id.to_string(), name,
    content_type, size, download_count, created_at: time(created_at),
    // Where the server keeps the bytes: never sent.
    ; dropped: storage_key
});

/// A chat message (a deleted one keeps its place with empty content).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ChatMessage {
    pub id: String,
    pub study_id: String,
    /// Its place in the study's chat: strictly increasing, gap-free.
    pub seq: i64,
    pub author_id: String,
    pub author_name: String,
    pub content: String,
    pub file: Option<FileMeta>,
    /// The sender's idempotency key (the outbox item's client id).
    pub client_id: Option<String>,
    pub is_deleted: bool,
    pub created_at: String,
}

from_core!(m::ChatMessage => ChatMessage {
    id: id.to_string(), study_id: study_id.to_string(), seq, author_id: author_id.to_string(),
    author_name, content, file: file.map(Into::into), client_id, is_deleted,
    created_at: time(created_at),
});

/// A page of chat history read from the server, in sequence order.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ChatPage {
    pub items: Vec<ChatMessage>,
    pub has_older: bool,
    pub has_newer: bool,
    /// The study's change number when the page was read (where the change feed
    /// resumes from).
    pub last_change: i64,
}

from_core!(m::ChatPage => ChatPage {
    items: all(items), has_older, has_newer, last_change,
});

/// A notification for the user.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NotificationItem {
    pub id: String,
    pub user_id: String,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub study_id: Option<String>,
    /// The id of what it is about (notice, message, report…).
    pub ref_id: Option<String>,
    pub is_read: bool,
    pub created_at: String,
}

from_core!(m::Notification => NotificationItem {
    id: id.to_string(), user_id: user_id.to_string(), kind: kind.into(), title, body,
    study_id: study_id.map(|s| s.to_string()), ref_id, is_read, created_at: time(created_at),
});

// ---------------------------------------------------------------- calls

/// Microphone, camera and screen share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, uniffi::Record)]
pub struct MediaState {
    #[uniffi(default)]
    pub mic: bool,
    #[uniffi(default)]
    pub camera: bool,
    #[uniffi(default)]
    pub screen: bool,
}

impl From<coup_core::realtime::calls::MediaState> for MediaState {
    fn from(s: coup_core::realtime::calls::MediaState) -> Self {
        let coup_core::realtime::calls::MediaState {
            mic,
            camera,
            screen,
        } = s;
        Self {
            mic,
            camera,
            screen,
        }
    }
}

impl From<MediaState> for coup_core::realtime::calls::MediaState {
    fn from(s: MediaState) -> Self {
        Self {
            mic: s.mic,
            camera: s.camera,
            screen: s.screen,
        }
    }
}

/// One person in a call.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Participant {
    pub user_id: String,
    pub media: MediaState,
}

/// A STUN/TURN server for the platform's peer connections.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IceServer {
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub credential: Option<String>,
}

impl From<coup_core::realtime::calls::Participant> for Participant {
    fn from(p: coup_core::realtime::calls::Participant) -> Self {
        let coup_core::realtime::calls::Participant { user_id, media } = p;
        Self {
            user_id: user_id.to_string(),
            media: media.into(),
        }
    }
}

impl From<coup_core::realtime::protocol::IceServer> for IceServer {
    fn from(s: coup_core::realtime::protocol::IceServer) -> Self {
        let coup_core::realtime::protocol::IceServer {
            urls,
            username,
            credential,
        } = s;
        Self {
            urls,
            username,
            credential,
        }
    }
}

/// The call as the joiner finds it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct JoinedCall {
    /// Everyone in the call, the joiner last.
    pub participants: Vec<Participant>,
    /// For the peer connections' configuration.
    pub ice_servers: Vec<IceServer>,
}

impl From<core_client::JoinedCall> for JoinedCall {
    fn from(j: core_client::JoinedCall) -> Self {
        let core_client::JoinedCall {
            participants,
            ice_servers,
        } = j;
        Self {
            participants: participants.into_iter().map(Participant::from).collect(),
            ice_servers: ice_servers.into_iter().map(IceServer::from).collect(),
        }
    }
}

/// A WebRTC signal between two participants: what `RTCSessionDescription` and
/// `RTCIceCandidate` (or Android's `SessionDescription` / `IceCandidate`) carry.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Signal {
    /// An SDP offer.
    Offer { sdp: String },
    /// An SDP answer.
    Answer { sdp: String },
    /// A trickled ICE candidate (an empty `candidate` ends them).
    IceCandidate {
        candidate: String,
        sdp_mid: Option<String>,
        sdp_m_line_index: Option<u16>,
    },
}

impl From<core_client::Signal> for Signal {
    fn from(s: core_client::Signal) -> Self {
        match s {
            core_client::Signal::Offer { sdp } => Self::Offer { sdp },
            core_client::Signal::Answer { sdp } => Self::Answer { sdp },
            core_client::Signal::IceCandidate {
                candidate,
                sdp_mid,
                sdp_m_line_index,
            } => Self::IceCandidate {
                candidate,
                sdp_mid,
                sdp_m_line_index,
            },
        }
    }
}

impl From<Signal> for core_client::Signal {
    fn from(s: Signal) -> Self {
        match s {
            Signal::Offer { sdp } => Self::Offer { sdp },
            Signal::Answer { sdp } => Self::Answer { sdp },
            Signal::IceCandidate {
                candidate,
                sdp_mid,
                sdp_m_line_index,
            } => Self::IceCandidate {
                candidate,
                sdp_mid,
                sdp_m_line_index,
            },
        }
    }
}

// ---------------------------------------------------------------- connection, outbox

/// The live connection, as a user sees it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ConnectionState {
    /// Connected; live events flow.
    Online,
    /// Trying to connect.
    Connecting,
    /// Not connected; the next attempt is in `retry_in_ms` (0 while paused).
    Offline { reason: String, retry_in_ms: u64 },
    /// The session ended (signed out elsewhere, password changed, suspended):
    /// sign in again.
    /// `reason` is why, where the server said (`ACCOUNT_SUSPENDED`,
    /// `SESSION_EXPIRED`): what a UI words.
    SignedOut {
        code: String,
        message: String,
        reason: Option<String>,
    },
}

impl From<core_client::ConnectionState> for ConnectionState {
    fn from(s: core_client::ConnectionState) -> Self {
        use core_client::ConnectionState as C;
        match s {
            C::Online => Self::Online,
            C::Connecting => Self::Connecting,
            C::Offline {
                reason,
                retry_in_ms,
            } => Self::Offline {
                reason,
                retry_in_ms,
            },
            C::SignedOut {
                code,
                message,
                reason,
            } => Self::SignedOut {
                code: code.as_str().to_owned(),
                message,
                reason: reason.map(|r| r.as_str().to_owned()),
            },
        }
    }
}

/// What an outbox item does.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum OutboxAction {
    /// Post a chat message.
    SendMessage {
        study_id: String,
        content: String,
        file_id: Option<String>,
    },
    /// Create a task.
    CreateTask { task: NewTask },
    /// Change a task.
    UpdateTask { task: TaskRef, patch: TaskPatch },
    /// Mark a task done or open.
    SetTaskDone { task: TaskRef, done: bool },
    /// Delete a task.
    DeleteTask { task: TaskRef },
    /// Read a study's chat up to a message.
    MarkRead {
        study_id: String,
        message_id: String,
    },
}

impl From<core_client::OutboxAction> for OutboxAction {
    fn from(a: core_client::OutboxAction) -> Self {
        use core_client::OutboxAction as A;
        match a {
            A::SendMessage {
                study_id,
                content,
                file_id,
            } => Self::SendMessage {
                study_id: study_id.to_string(),
                content,
                file_id: file_id.map(|f| f.to_string()),
            },
            A::CreateTask { task } => Self::CreateTask {
                task: NewTask::from_core(task),
            },
            A::UpdateTask { task_id, patch } => Self::UpdateTask {
                task: task_id.into(),
                patch: TaskPatch::from_core(patch),
            },
            A::SetTaskDone { task_id, done } => Self::SetTaskDone {
                task: task_id.into(),
                done,
            },
            A::DeleteTask { task_id } => Self::DeleteTask {
                task: task_id.into(),
            },
            A::MarkRead {
                study_id,
                message_id,
            } => Self::MarkRead {
                study_id: study_id.to_string(),
                message_id: message_id.to_string(),
            },
        }
    }
}

/// Where an outbox item is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum OutboxState {
    /// Waiting to be sent.
    Pending,
    /// Refused by the server; kept until retried or discarded.
    Failed {
        code: String,
        server_code: String,
        message: String,
        reason: Option<String>,
    },
}

impl From<core_client::OutboxState> for OutboxState {
    fn from(s: core_client::OutboxState) -> Self {
        match s {
            core_client::OutboxState::Pending => Self::Pending,
            core_client::OutboxState::Failed {
                code,
                server_code,
                message,
                reason,
            } => Self::Failed {
                code: code.as_str().to_owned(),
                server_code,
                message,
                reason,
            },
        }
    }
}

/// Something the user did that the server must learn, kept until it has.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OutboxItem {
    /// Its place: items are sent in this order (for `retry` and `discard`).
    pub id: i64,
    /// The idempotency key sent with it (a message's `client_id`).
    pub client_id: String,
    pub action: OutboxAction,
    pub state: OutboxState,
    pub attempts: u32,
    pub created_at: String,
}

impl From<core_client::OutboxItem> for OutboxItem {
    fn from(i: core_client::OutboxItem) -> Self {
        let core_client::OutboxItem {
            id,
            client_id,
            action,
            state,
            attempts,
            created_at,
        } = i;
        Self {
            id,
            client_id,
            action: action.into(),
            state: state.into(),
            attempts,
            created_at: time(created_at),
        }
    }
}

/// What the server answered to a sent outbox item.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum Sent {
    /// The stored message.
    Message { message: ChatMessage },
    /// The created or changed task.
    Task { task: TaskItem },
    /// The task is gone.
    TaskDeleted { task_id: String },
    /// The read position now.
    Read {
        study_id: String,
        last_read_seq: i64,
    },
}

impl From<core_client::Sent> for Sent {
    fn from(s: core_client::Sent) -> Self {
        use core_client::Sent as S;
        match s {
            S::Message { message } => Self::Message {
                message: message.into(),
            },
            S::Task { task } => Self::Task { task: task.into() },
            S::TaskDeleted { task_id } => Self::TaskDeleted {
                task_id: task_id.to_string(),
            },
            S::Read { study_id, position } => Self::Read {
                study_id: study_id.to_string(),
                last_read_seq: position.last_read_seq,
            },
        }
    }
}

/// What one flush of the outbox did.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FlushReport {
    /// Items the server took, in order.
    pub sent: Vec<OutboxItem>,
    /// Items it refused.
    pub failed: Vec<OutboxItem>,
    /// Why the flush stopped early (the rest still pending): the code…
    pub stopped_code: Option<String>,
    /// …and the words.
    pub stopped_message: Option<String>,
}

impl From<core_client::FlushReport> for FlushReport {
    fn from(r: core_client::FlushReport) -> Self {
        let core_client::FlushReport {
            sent,
            failed,
            stopped,
        } = r;
        Self {
            sent: sent.into_iter().map(|(item, _)| item.into()).collect(),
            failed: all(failed),
            stopped_code: stopped.as_ref().map(|e| e.code().as_str().to_owned()),
            stopped_message: stopped.as_ref().map(|e| e.public_message()),
        }
    }
}

/// Where a study's chat stands in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ChatCursor {
    /// The last change delivered, if any.
    pub change: Option<i64>,
    /// The last message sequence delivered, if any.
    pub seq: Option<i64>,
}

impl From<core_client::Cursor> for ChatCursor {
    fn from(c: core_client::Cursor) -> Self {
        let core_client::Cursor { change, seq } = c;
        Self { change, seq }
    }
}

pub(crate) fn user_ids(all: Vec<coup_core::ids::UserId>) -> Vec<String> {
    ids(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc_with_milliseconds_and_parse_any_offset() {
        let t = parse_time("at", "2026-12-01T19:00:00+09:00").expect("parse");
        assert_eq!(time(t), "2026-12-01T10:00:00.000Z");
        assert!(parse_time("at", "yesterday").is_err());
    }

    #[test]
    fn bad_ids_are_validation_errors_naming_the_argument() {
        let e = parse_id::<coup_core::ids::StudyId>("studyId", "nope").expect_err("not an id");
        assert_eq!(e.code(), "VALIDATION");
        assert!(e.message().starts_with("studyId"));
    }
}
