//! The domain's plain types: what the core returns and what callers send in.
//!
//! These are also the wire shapes of the REST API (camelCase JSON, RFC 3339 UTC
//! times, upper-case enums), so every client and the server share one definition.
//! Secrets never appear here: password hashes and session token hashes stay in the
//! store layer.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::*;

/// Declares a string-valued enum: serde and the store both use the upper-case names.
///
/// `$text` is a `tt`, not a `literal`: a `literal` fragment reaches derive macros
/// wrapped in an invisible group, which `utoipa` does not read as `rename = "..."`.
macro_rules! str_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored and wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownVariant { kind: stringify!($name), value: s.to_owned() }),
                }
            }
        }
    };
}

/// A string that names no variant of an enum.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown {kind} value {value:?}")]
pub struct UnknownVariant {
    /// The enum's name.
    pub kind: &'static str,
    /// The unrecognised text.
    pub value: String,
}

str_enum!(
    /// A user's role on the whole platform.
    PlatformRole { User = "USER", Admin = "ADMIN", SystemAdmin = "SYSTEM_ADMIN" }
);
str_enum!(
    /// Whether an account may be used.
    UserStatus { Active = "ACTIVE", Suspended = "SUSPENDED" }
);
str_enum!(
    /// A member's role inside one study.
    StudyRole { Owner = "OWNER", Admin = "ADMIN", Member = "MEMBER" }
);
str_enum!(
    /// Whether a membership is a request or real.
    MemberStatus { Pending = "PENDING", Active = "ACTIVE" }
);
str_enum!(
    /// How join requests are handled.
    JoinPolicy {
        /// Requests become members at once.
        Auto = "AUTO",
        /// Requests wait for an OWNER or ADMIN.
        Approval = "APPROVAL",
    }
);
str_enum!(
    /// Order of study listings.
    StudySort { Newest = "NEWEST", Name = "NAME", Members = "MEMBERS" }
);
str_enum!(
    /// Priority of a task.
    Priority { Low = "LOW", Medium = "MEDIUM", High = "HIGH" }
);
str_enum!(
    /// What a notification is about.
    NotificationKind {
        JoinRequest = "JOIN_REQUEST",
        JoinApproved = "JOIN_APPROVED",
        JoinRejected = "JOIN_REJECTED",
        Kicked = "KICKED",
        RoleChanged = "ROLE_CHANGED",
        NewNotice = "NEW_NOTICE",
        NewEvent = "NEW_EVENT",
        NewFile = "NEW_FILE",
        Mention = "MENTION",
        ReportProcessed = "REPORT_PROCESSED",
        Warning = "WARNING",
        StudyDeleted = "STUDY_DELETED",
    }
);
str_enum!(
    /// What a report is about.
    ReportTarget { User = "USER", Study = "STUDY", Message = "MESSAGE" }
);
str_enum!(
    /// Where a report is in its life.
    ReportStatus { Pending = "PENDING", Processed = "PROCESSED" }
);
str_enum!(
    /// What an admin did with a report.
    ReportAction {
        Dismiss = "DISMISS",
        Warn = "WARN",
        SuspendUser = "SUSPEND_USER",
        DeleteContent = "DELETE_CONTENT",
    }
);
str_enum!(
    /// What an admin action in the audit log was.
    AuditAction {
        SuspendUser = "SUSPEND_USER",
        RestoreUser = "RESTORE_USER",
        DeleteStudy = "DELETE_STUDY",
        ProcessReport = "PROCESS_REPORT",
        DeleteMessage = "DELETE_MESSAGE",
        CreateAdmin = "CREATE_ADMIN",
    }
);

/// A page of a list: `{"items","total","page","limit"}`; pages start at 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows in the whole list.
    pub total: u64,
    /// This page's number, from 1.
    pub page: u32,
    /// Rows per page.
    pub limit: u32,
}

/// The highest page number a list accepts.
pub const MAX_PAGE: u32 = 1_000_000;

/// Reads an optional `page` parameter: 1 to [`MAX_PAGE`], or refused (so a
/// client learns its request was wrong instead of getting another page).
pub fn page_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    bounded(d, "page", 1, MAX_PAGE)
}

/// Reads an optional `limit` parameter: 1 to [`PageRequest::MAX_LIMIT`], or
/// refused.
pub fn limit_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    bounded(d, "limit", 1, PageRequest::MAX_LIMIT)
}

fn bounded<'de, D: serde::Deserializer<'de>>(
    d: D,
    name: &str,
    min: u32,
    max: u32,
) -> Result<Option<u32>, D::Error> {
    match Option::<u32>::deserialize(d)? {
        Some(v) if !(min..=max).contains(&v) => Err(serde::de::Error::custom(format!(
            "{name} must be between {min} and {max}"
        ))),
        v => Ok(v),
    }
}

/// Which page of a list to read: `?page=&limit=`, both optional; `page` from 1
/// to [`MAX_PAGE`], `limit` from 1 to [`PageRequest::MAX_LIMIT`] (others are
/// refused when read from a request; in-process callers are clamped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(default)]
pub struct PageRequest {
    /// Page number, from 1.
    #[serde(deserialize_with = "page_number")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 1000000))]
    pub page: Option<u32>,
    /// Rows per page.
    #[serde(deserialize_with = "limit_number")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
}

impl PageRequest {
    /// The largest page a caller may ask for.
    pub const MAX_LIMIT: u32 = 100;

    /// The page size when none is asked for.
    pub const DEFAULT_LIMIT: u32 = 20;

    /// Page `page` of `limit` rows.
    pub fn new(page: u32, limit: u32) -> Self {
        Self::of(Some(page), Some(limit))
    }

    /// A page from optional query parameters.
    pub fn of(page: Option<u32>, limit: Option<u32>) -> Self {
        Self { page, limit }
    }

    /// The page number, at least 1.
    pub fn page(self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }

    /// The limit, between 1 and [`Self::MAX_LIMIT`].
    pub fn limit(self) -> u32 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }

    /// Rows to skip.
    pub fn offset(self) -> u64 {
        u64::from(self.page() - 1) * u64::from(self.limit())
    }
}

/// A user as others may see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub role: PlatformRole,
    pub status: UserStatus,
    pub suspended_reason: Option<String>,
    pub suspended_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A study group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Study {
    pub id: StudyId,
    pub name: String,
    pub description: String,
    pub category: String,
    pub tags: Vec<String>,
    pub max_members: u32,
    pub member_count: u32,
    pub is_public: bool,
    pub join_policy: JoinPolicy,
    pub is_recruiting: bool,
    pub owner_id: UserId,
    pub owner_name: String,
    /// The highest chat sequence number used in this study.
    pub last_seq: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The caller's relation to the study, if any.
    pub my_role: Option<StudyRole>,
    /// The caller's membership status, if any.
    pub my_status: Option<MemberStatus>,
}

/// A study's membership of one user (member or pending request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub study_id: StudyId,
    pub user_id: UserId,
    pub name: String,
    /// Shown only to the member themself and to platform admins (the
    /// permission table's `ViewEmail`); absent for everyone else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub avatar_url: Option<String>,
    pub role: StudyRole,
    pub status: MemberStatus,
    /// The message sent with a join request.
    pub message: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub joined_at: Option<DateTime<Utc>>,
    /// The last chat sequence this member has read.
    pub last_read_seq: i64,
}

/// An announcement in a study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    pub id: NoticeId,
    pub study_id: StudyId,
    pub author_id: UserId,
    pub author_name: String,
    pub title: String,
    pub content: String,
    pub is_pinned: bool,
    pub view_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A calendar event in a study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CalendarEvent {
    pub id: EventId,
    pub study_id: StudyId,
    pub creator_id: UserId,
    pub title: String,
    pub description: Option<String>,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub all_day: bool,
    pub location: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A personal to-do, optionally tied to a study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: TaskId,
    pub user_id: UserId,
    pub study_id: Option<StudyId>,
    pub title: String,
    pub description: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    pub priority: Priority,
    pub is_done: bool,
    pub done_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A chat message. A deleted message keeps its place in the sequence as a tombstone
/// with empty content, so clients paging or resuming see no unexplained gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub id: MessageId,
    pub study_id: StudyId,
    /// Position in the study's chat: strictly increasing, gap-free.
    pub seq: i64,
    pub author_id: UserId,
    pub author_name: String,
    pub content: String,
    pub file: Option<FileMeta>,
    /// The sender's idempotency key, if it gave one.
    pub client_id: Option<String>,
    pub is_deleted: bool,
    pub created_at: DateTime<Utc>,
}

/// A page of chat, newest or oldest first depending on the cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatPage {
    /// Messages in ascending sequence order.
    pub items: Vec<ChatMessage>,
    /// Whether older messages exist before the first item.
    pub has_older: bool,
    /// Whether newer messages exist after the last item.
    pub has_newer: bool,
    /// The study's change number when the page was read: a client that shows this
    /// page resumes the change feed (`lastChange`, `GET …/chat/changes?after=`) from it.
    pub last_change: i64,
}

/// One change in a study's chat feed. Every change a study's chat undergoes takes
/// the study's next change number (gap-free, strictly increasing), so a client
/// that holds every change up to `n` and applies the ones after `n` in order holds
/// exactly what the server holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ChatChange {
    /// A message was posted; shown as it is now (a tombstone if deleted since).
    #[serde(rename_all = "camelCase")]
    Message {
        /// The change number.
        change: i64,
        /// The message.
        message: Box<ChatMessage>,
    },
    /// An earlier message was deleted.
    #[serde(rename_all = "camelCase")]
    MessageDeleted {
        /// The change number.
        change: i64,
        /// The deleted message.
        message_id: MessageId,
        /// Its sequence number.
        seq: i64,
    },
    /// A member's read position moved.
    #[serde(rename_all = "camelCase")]
    ReadReceipt {
        /// The change number.
        change: i64,
        /// Who read.
        user_id: UserId,
        /// Up to which sequence number.
        last_read_seq: i64,
    },
}

impl ChatChange {
    /// Its change number.
    pub fn change(&self) -> i64 {
        match self {
            Self::Message { change, .. }
            | Self::MessageDeleted { change, .. }
            | Self::ReadReceipt { change, .. } => *change,
        }
    }
}

/// A page of a study's chat changes after a change number, in change order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatChanges {
    /// Changes in increasing change order.
    pub items: Vec<ChatChange>,
    /// The change number the page reaches: the last item's, or the study's last
    /// change when the page holds everything up to now. Ask for the next page
    /// `after` it.
    pub last_change: i64,
    /// The study's highest chat sequence number when the page was read.
    pub last_seq: i64,
    /// Whether changes exist after `lastChange`.
    pub has_more: bool,
}

/// Metadata of an uploaded file; the bytes live in blob storage under `storageKey`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FileMeta {
    pub id: FileId,
    pub study_id: StudyId,
    pub uploader_id: UserId,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    #[serde(skip)]
    pub storage_key: String,
    pub download_count: u64,
    pub created_at: DateTime<Utc>,
}

/// A notification for one user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub study_id: Option<StudyId>,
    /// The id of the thing the notification is about (notice, message, report…).
    pub ref_id: Option<String>,
    pub is_read: bool,
    pub created_at: DateTime<Utc>,
}

/// A user's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub id: ReportId,
    pub reporter_id: UserId,
    pub target_type: ReportTarget,
    pub target_id: String,
    pub reason: String,
    pub status: ReportStatus,
    pub action: Option<ReportAction>,
    pub note: Option<String>,
    pub processed_by: Option<UserId>,
    pub processed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One admin action, as recorded in the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: AuditId,
    pub actor_id: UserId,
    pub action: AuditAction,
    pub target_type: String,
    pub target_id: String,
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

/// A logged-in session: the token is only ever shown here, once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResult {
    /// The bearer token. The store keeps only its hash.
    pub token: String,
    /// The logged-in user.
    pub user: User,
}

/// Counters for the caller's dashboard.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DashboardStats {
    pub study_count: u64,
    pub owned_study_count: u64,
    pub pending_request_count: u64,
    pub open_task_count: u64,
    pub done_task_count: u64,
    pub unread_notification_count: u64,
    pub unread_message_count: u64,
}

/// Unread chat messages in one study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UnreadCount {
    pub study_id: StudyId,
    pub study_name: String,
    pub unread: u64,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub stats: DashboardStats,
    pub my_studies: Vec<Study>,
    pub upcoming_events: Vec<CalendarEvent>,
    pub recent_notices: Vec<Notice>,
    pub due_tasks: Vec<Task>,
    pub unread_by_study: Vec<UnreadCount>,
}

/// Platform-wide counters for admins.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminStats {
    pub user_count: u64,
    pub suspended_user_count: u64,
    pub new_users_last_7_days: u64,
    pub study_count: u64,
    pub deleted_study_count: u64,
    pub message_count: u64,
    pub file_count: u64,
    pub pending_report_count: u64,
}

/// An admin's view of one user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminUserDetail {
    pub user: User,
    pub study_count: u64,
    pub message_count: u64,
    pub reports_against: u64,
    pub audit: Vec<AuditEntry>,
}

/// An admin's view of one study (deleted ones included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AdminStudyDetail {
    pub study: Study,
    pub deleted_at: Option<DateTime<Utc>>,
    pub members: Vec<Member>,
    pub message_count: u64,
    pub file_count: u64,
}
