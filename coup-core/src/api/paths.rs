//! Every REST path of `coup-server`, written once: the server's `#[utoipa::path]`
//! annotations register and document their handlers at these templates, and the
//! client fills the same templates ([`fill`]), so the two cannot name different
//! URLs. Parameters are in braces, as in OpenAPI and axum (`{id}`).
//!
//! The parameters of those templates are types here too, one per combination
//! ([`StudyPath`], [`MemberPath`], …): the server extracts them (`Path<StudyPath>`)
//! and documents them (`params(StudyPath)`) from the same definition, so each
//! parameter's name, type and description is written once.

use serde::Deserialize;

use crate::ids::{
    EventId, FileId, MessageId, NoticeId, NotificationId, ReportId, StudyId, TaskId, UserId,
};

/// `POST`: create an account and sign in.
pub const SIGNUP: &str = "/api/auth/signup";
/// `POST`: sign in.
pub const LOGIN: &str = "/api/auth/login";
/// `POST`: end the calling session.
pub const LOGOUT: &str = "/api/auth/logout";
/// `GET`, `PATCH`: the caller's own account.
pub const ME: &str = "/api/users/me";
/// `POST` (`PUT`, `PATCH`): change the caller's password.
pub const PASSWORD: &str = "/api/users/me/password";

/// `GET`: the caller's dashboard.
pub const DASHBOARD: &str = "/api/dashboard";
/// `GET`: the studies the caller belongs to.
pub const MY_STUDIES: &str = "/api/my-studies";
/// `GET`: the caller's notifications.
pub const NOTIFICATIONS: &str = "/api/notifications";
/// `POST` (`PATCH`): mark one notification read.
pub const NOTIFICATION_READ: &str = "/api/notifications/{id}/read";
/// `POST` (`PATCH`): mark every notification read.
pub const NOTIFICATIONS_READ: &str = "/api/notifications/mark-all-read";
/// `GET`, `POST`: the caller's tasks.
pub const TASKS: &str = "/api/tasks";
/// `GET`, `PATCH` (`PUT`), `DELETE`: one task.
pub const TASK: &str = "/api/tasks/{id}";
/// `PATCH` (`POST`): flip a task's done flag.
pub const TASK_TOGGLE: &str = "/api/tasks/{id}/toggle";
/// `POST`: report a study, user or message.
pub const REPORTS: &str = "/api/reports";

/// `GET`, `POST`: search and create studies.
pub const STUDIES: &str = "/api/studies";
/// `GET`, `PATCH` (`PUT`), `DELETE`: one study.
pub const STUDY: &str = "/api/studies/{id}";
/// `GET`, `POST`: a study's invite code, and a new one.
pub const INVITE_CODE: &str = "/api/studies/{id}/invite-code";
/// `POST`: join a study, or ask to.
pub const JOIN: &str = "/api/studies/{id}/join";
/// `POST` (`DELETE`): leave a study.
pub const LEAVE: &str = "/api/studies/{id}/leave";
/// `GET`: a study's pending join requests.
pub const JOIN_REQUESTS: &str = "/api/studies/{id}/join-requests";
/// `GET`: a study's members.
pub const MEMBERS: &str = "/api/studies/{id}/members";
/// `DELETE`: remove a member.
pub const MEMBER: &str = "/api/studies/{id}/members/{user_id}";
/// `POST`: accept a join request.
pub const MEMBER_APPROVE: &str = "/api/studies/{id}/members/{user_id}/approve";
/// `POST`: refuse a join request.
pub const MEMBER_REJECT: &str = "/api/studies/{id}/members/{user_id}/reject";
/// `POST` (`PUT`, `PATCH`): change a member's role.
pub const MEMBER_ROLE: &str = "/api/studies/{id}/members/{user_id}/role";

/// `GET`, `POST`: a study's notices.
pub const NOTICES: &str = "/api/studies/{id}/notices";
/// `GET`, `PATCH` (`PUT`), `DELETE`: one notice.
pub const NOTICE: &str = "/api/studies/{id}/notices/{notice_id}";
/// `POST` (`PATCH`, `PUT`): pin or unpin a notice.
pub const NOTICE_PIN: &str = "/api/studies/{id}/notices/{notice_id}/pin";
/// `GET`, `POST`: a study's calendar.
pub const EVENTS: &str = "/api/studies/{id}/calendar";
/// `PATCH` (`PUT`), `DELETE`: one event.
pub const EVENT: &str = "/api/studies/{id}/calendar/{event_id}";
/// `GET`, `POST`: a study's chat.
pub const MESSAGES: &str = "/api/studies/{id}/chat";
/// `GET`: what changed in a study's chat.
pub const MESSAGE_CHANGES: &str = "/api/studies/{id}/chat/changes";
/// `GET`, `DELETE`: one chat message.
pub const MESSAGE: &str = "/api/studies/{id}/chat/{message_id}";
/// `POST` (`PUT`): the caller's read position in a chat.
pub const MESSAGE_READ: &str = "/api/studies/{id}/chat/{message_id}/read";

/// `GET`, `POST` (multipart): a study's files.
pub const FILES: &str = "/api/studies/{id}/files";
/// `DELETE`: one file.
pub const FILE: &str = "/api/studies/{id}/files/{file_id}";
/// `GET`: a file's bytes.
pub const FILE_DOWNLOAD: &str = "/api/studies/{id}/files/{file_id}/download";

/// `GET`: platform counters.
pub const ADMIN_STATS: &str = "/api/admin/stats";
/// `GET`: every account.
pub const ADMIN_USERS: &str = "/api/admin/users";
/// `GET`: one account in detail.
pub const ADMIN_USER: &str = "/api/admin/users/{id}";
/// `POST`: suspend an account.
pub const ADMIN_SUSPEND: &str = "/api/admin/users/{id}/suspend";
/// `POST`: lift a suspension.
pub const ADMIN_RESTORE: &str = "/api/admin/users/{id}/restore";
/// `GET`: every study.
pub const ADMIN_STUDIES: &str = "/api/admin/studies";
/// `GET`, `DELETE`: one study in detail.
pub const ADMIN_STUDY: &str = "/api/admin/studies/{id}";
/// `GET`: reports.
pub const ADMIN_REPORTS: &str = "/api/admin/reports";
/// `GET`: one report.
pub const ADMIN_REPORT: &str = "/api/admin/reports/{id}";
/// `POST`: decide a report.
pub const ADMIN_PROCESS: &str = "/api/admin/reports/{id}/process";
/// `GET`: the audit log.
pub const AUDIT_LOG: &str = "/api/admin/audit-log";

/// `GET`: liveness.
pub const HEALTHZ: &str = "/healthz";
/// `GET`: readiness (the store answers).
pub const READYZ: &str = "/readyz";
/// `GET`: Prometheus metrics.
pub const METRICS: &str = "/metrics";

/// Declares a template's parameters as a struct whose fields are named as in the
/// template; each field's doc comment is its description in the document.
macro_rules! path_params {
    ($($(#[$doc:meta])* $name:ident { $($(#[$field_doc:meta])* $field:ident: $ty:ty),+ $(,)? })+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Path))]
        pub struct $name {
            $($(#[$field_doc])* pub $field: $ty,)+
        }
    )+};
}

path_params! {
    /// `{id}` of the study paths ([`STUDY`], [`MEMBERS`], [`NOTICES`], [`ADMIN_STUDY`], …).
    StudyPath {
        /// The study
        id: StudyId,
    }
    /// `{id}/…/{user_id}`: a study's member ([`MEMBER`], [`MEMBER_ROLE`], …).
    MemberPath {
        /// The study
        id: StudyId,
        /// The member or requester
        user_id: UserId,
    }
    /// `{id}/…/{notice_id}`: one notice ([`NOTICE`], [`NOTICE_PIN`]).
    NoticePath {
        /// The study
        id: StudyId,
        /// The notice
        notice_id: NoticeId,
    }
    /// `{id}/…/{event_id}`: one calendar event ([`EVENT`]).
    EventPath {
        /// The study
        id: StudyId,
        /// The event
        event_id: EventId,
    }
    /// `{id}/…/{message_id}`: one chat message ([`MESSAGE`], [`MESSAGE_READ`]).
    MessagePath {
        /// The study
        id: StudyId,
        /// The message
        message_id: MessageId,
    }
    /// `{id}/…/{file_id}`: one file ([`FILE`], [`FILE_DOWNLOAD`]).
    FilePath {
        /// The study
        id: StudyId,
        /// The file
        file_id: FileId,
    }
    /// `{id}` of [`NOTIFICATION_READ`].
    NotificationPath {
        /// The notification
        id: NotificationId,
    }
    /// `{id}` of [`TASK`] and [`TASK_TOGGLE`].
    TaskPath {
        /// The task
        id: TaskId,
    }
    /// `{id}` of the admin's user paths ([`ADMIN_USER`], [`ADMIN_SUSPEND`], [`ADMIN_RESTORE`]).
    UserPath {
        /// The user
        id: UserId,
    }
    /// `{id}` of the admin's report paths ([`ADMIN_REPORT`], [`ADMIN_PROCESS`]).
    ReportPath {
        /// The report
        id: ReportId,
    }
}

/// `template` with its `{…}` parameters replaced by `values`, in order.
///
/// # Panics
///
/// When the number of values is not the number of parameters: a caller's bug
/// that the first call shows.
pub fn fill(template: &str, values: &[&(dyn std::fmt::Display + Sync)]) -> String {
    let mut out = String::with_capacity(template.len() + 36 * values.len());
    let mut values = values.iter();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|i| open + i)
            .unwrap_or_else(|| panic!("unclosed parameter in {template}"));
        let value = values
            .next()
            .unwrap_or_else(|| panic!("too few values for {template}"));
        out.push_str(&rest[..open]);
        out.push_str(&value.to_string());
        rest = &rest[close + 1..];
    }
    assert!(values.next().is_none(), "too many values for {template}");
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_each_parameter_in_order() {
        assert_eq!(fill(STUDIES, &[]), "/api/studies");
        assert_eq!(
            fill(MEMBER_ROLE, &[&"s-1", &7]),
            "/api/studies/s-1/members/7/role"
        );
    }

    #[test]
    #[should_panic(expected = "too few values")]
    fn fill_refuses_too_few_values() {
        fill(MEMBER, &[&"s-1"]);
    }

    #[test]
    #[should_panic(expected = "too many values")]
    fn fill_refuses_too_many_values() {
        fill(STUDY, &[&"s-1", &"extra"]);
    }
}
