//! Who may do what: the permission table of CoUp, as data.
//!
//! Every operation the core offers is an [`Operation`]; every caller is classified
//! as one [`ActorKind`] relative to the thing acted on; [`TABLE`] says, for each
//! operation, what each kind of actor gets. Services call [`require`] before they
//! change anything, so no permission rule is written anywhere else. Rules that depend
//! on a second party (who may kick whom, who may suspend whom) are the functions at
//! the bottom of this module.
//!
//! State rules are not permissions: joining a study you are already in is allowed
//! here and refused by the membership rules with `CONFLICT`.

use crate::error::{Error, Reason, Result};
use crate::model::{MemberStatus, PlatformRole, StudyRole, UserStatus};

/// The kind of actor, relative to the study (if any) an operation touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActorKind {
    /// No session.
    Anonymous,
    /// A signed-in account that is suspended.
    Suspended,
    /// A signed-in user with no relation to the study (or no study involved).
    NonMember,
    /// A user whose join request is waiting.
    Pending,
    /// An active MEMBER of the study.
    Member,
    /// An active ADMIN of the study.
    StudyAdmin,
    /// The study's OWNER.
    Owner,
    /// A platform ADMIN with no relation to the study.
    PlatformAdmin,
    /// A SYSTEM_ADMIN with no relation to the study.
    SystemAdmin,
}

impl ActorKind {
    /// Every kind, in the column order of [`TABLE`].
    pub const ALL: [ActorKind; 9] = [
        Self::Anonymous,
        Self::Suspended,
        Self::NonMember,
        Self::Pending,
        Self::Member,
        Self::StudyAdmin,
        Self::Owner,
        Self::PlatformAdmin,
        Self::SystemAdmin,
    ];

    /// Classifies a caller. `account` is the caller's platform role and status (none
    /// when anonymous); `membership` their relation to the study acted on, if any.
    /// A study role outranks a platform role: platform admins act on studies through
    /// the admin operations, not as hidden members.
    pub fn classify(
        account: Option<(PlatformRole, UserStatus)>,
        membership: Option<(StudyRole, MemberStatus)>,
    ) -> Self {
        let Some((platform_role, status)) = account else {
            return Self::Anonymous;
        };
        if status == UserStatus::Suspended {
            return Self::Suspended;
        }
        match membership {
            Some((_, MemberStatus::Pending)) => Self::Pending,
            Some((StudyRole::Member, MemberStatus::Active)) => Self::Member,
            Some((StudyRole::Admin, MemberStatus::Active)) => Self::StudyAdmin,
            Some((StudyRole::Owner, MemberStatus::Active)) => Self::Owner,
            None => match platform_role {
                PlatformRole::User => Self::NonMember,
                PlatformRole::Admin => Self::PlatformAdmin,
                PlatformRole::SystemAdmin => Self::SystemAdmin,
            },
        }
    }

    /// Whether this kind is an active member of the study (and so may see it even
    /// when it is private).
    pub fn is_active_member(self) -> bool {
        matches!(self, Self::Member | Self::StudyAdmin | Self::Owner)
    }
}

/// What one kind of actor gets for one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Refused.
    No,
    /// Allowed.
    Yes,
    /// Allowed only on things the actor created (their message, event, file, task).
    Own,
}

/// Declares [`Operation`] and [`Operation::ALL`] from one list, so that no
/// operation can be left out of `ALL` — and through it out of [`TABLE`] (a unit
/// test) and out of the tests that try every operation as every kind of actor.
macro_rules! operations {
    ($($(#[$doc:meta])* $op:ident,)*) => {
        /// Every operation of the core that a caller can attempt.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum Operation {
            $($(#[$doc])* $op,)*
        }

        impl Operation {
            /// Every operation, in declaration order (the row order of [`TABLE`]).
            pub const ALL: &[Operation] = &[$(Operation::$op,)*];
        }
    };
}

operations! {
    Logout,
    ViewMe,
    UpdateMe,
    ChangePassword,
    ViewDashboard,
    ListMyStudies,
    ListNotifications,
    ReadNotification,
    ListStudies,
    CreateStudy,
    ViewStudy,
    UpdateStudy,
    DeleteStudy,
    ManageInviteCode,
    JoinStudy,
    LeaveStudy,
    ListJoinRequests,
    DecideJoinRequest,
    ListMembers,
    ChangeRole,
    KickMember,
    ListNotices,
    ViewNotice,
    CreateNotice,
    UpdateNotice,
    DeleteNotice,
    PinNotice,
    ListEvents,
    CreateEvent,
    UpdateEvent,
    DeleteEvent,
    CreateTask,
    ListTasks,
    ViewTask,
    UpdateTask,
    DeleteTask,
    ListMessages,
    SendMessage,
    MarkRead,
    DeleteMessage,
    ListFiles,
    UploadFile,
    DownloadFile,
    DeleteFile,
    CreateReport,
    AdminStats,
    AdminListUsers,
    AdminViewUser,
    AdminSuspendUser,
    AdminRestoreUser,
    AdminListStudies,
    AdminViewStudy,
    AdminDeleteStudy,
    AdminListReports,
    AdminViewReport,
    AdminProcessReport,
    AdminAuditLog,
    /// Seeing a user's email address where users are listed (members, join
    /// requests): the user themself and platform admins only — not a study's
    /// OWNER or ADMINs, and not a platform admin who is in the study as a member
    /// (they see emails through the admin operations).
    ViewEmail,
}

use Access::{No as N, Own as O, Yes as Y};
use Operation::*;

const SIGNED_IN: [Access; 9] = [N, N, Y, Y, Y, Y, Y, Y, Y];
const OWN_ONLY: [Access; 9] = [N, N, O, O, O, O, O, O, O];
const MEMBERS: [Access; 9] = [N, N, N, N, Y, Y, Y, N, N];
const MANAGERS: [Access; 9] = [N, N, N, N, N, Y, Y, N, N];
const AUTHOR_OR_MANAGERS: [Access; 9] = [N, N, N, N, O, Y, Y, N, N];
const OWNER: [Access; 9] = [N, N, N, N, N, N, Y, N, N];
const PLATFORM_ADMINS: [Access; 9] = [N, N, N, N, N, N, N, Y, Y];

/// The permission table. Columns follow [`ActorKind::ALL`]:
/// anonymous, suspended, non-member, pending, MEMBER, ADMIN, OWNER, platform ADMIN,
/// SYSTEM_ADMIN. Signup and login take no caller and are open to everyone.
pub const TABLE: &[(Operation, [Access; 9])] = &[
    (Logout, SIGNED_IN),
    (ViewMe, SIGNED_IN),
    (UpdateMe, SIGNED_IN),
    (ChangePassword, SIGNED_IN),
    (ViewDashboard, SIGNED_IN),
    (ListMyStudies, SIGNED_IN),
    (ListNotifications, SIGNED_IN),
    (ReadNotification, OWN_ONLY),
    (ListStudies, [Y, N, Y, Y, Y, Y, Y, Y, Y]),
    (CreateStudy, SIGNED_IN),
    (ViewStudy, [Y, N, Y, Y, Y, Y, Y, Y, Y]),
    (UpdateStudy, OWNER),
    (DeleteStudy, OWNER),
    (ManageInviteCode, MANAGERS),
    (JoinStudy, SIGNED_IN),
    (LeaveStudy, [N, N, N, Y, Y, Y, Y, N, N]),
    (ListJoinRequests, MANAGERS),
    (DecideJoinRequest, MANAGERS),
    (ListMembers, MEMBERS),
    (ChangeRole, OWNER),
    (KickMember, MANAGERS),
    (ListNotices, MEMBERS),
    (ViewNotice, MEMBERS),
    (CreateNotice, MANAGERS),
    (UpdateNotice, MANAGERS),
    (DeleteNotice, MANAGERS),
    (PinNotice, MANAGERS),
    (ListEvents, MEMBERS),
    (CreateEvent, MEMBERS),
    (UpdateEvent, AUTHOR_OR_MANAGERS),
    (DeleteEvent, AUTHOR_OR_MANAGERS),
    (CreateTask, SIGNED_IN),
    (ListTasks, SIGNED_IN),
    (ViewTask, OWN_ONLY),
    (UpdateTask, OWN_ONLY),
    (DeleteTask, OWN_ONLY),
    (ListMessages, MEMBERS),
    (SendMessage, MEMBERS),
    (MarkRead, MEMBERS),
    (DeleteMessage, AUTHOR_OR_MANAGERS),
    (ListFiles, MEMBERS),
    (UploadFile, MEMBERS),
    (DownloadFile, MEMBERS),
    (DeleteFile, AUTHOR_OR_MANAGERS),
    (CreateReport, SIGNED_IN),
    (AdminStats, PLATFORM_ADMINS),
    (AdminListUsers, PLATFORM_ADMINS),
    (AdminViewUser, PLATFORM_ADMINS),
    (AdminSuspendUser, PLATFORM_ADMINS),
    (AdminRestoreUser, PLATFORM_ADMINS),
    (AdminListStudies, PLATFORM_ADMINS),
    (AdminViewStudy, PLATFORM_ADMINS),
    (AdminDeleteStudy, PLATFORM_ADMINS),
    (AdminListReports, PLATFORM_ADMINS),
    (AdminViewReport, PLATFORM_ADMINS),
    (AdminProcessReport, PLATFORM_ADMINS),
    (AdminAuditLog, PLATFORM_ADMINS),
    (ViewEmail, [N, N, O, O, O, O, O, Y, Y]),
];

/// What `kind` gets for `op`.
pub fn access(op: Operation, kind: ActorKind) -> Access {
    let column = ActorKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or_default();
    TABLE
        .iter()
        .find(|(o, _)| *o == op)
        .map_or(Access::No, |(_, row)| row[column])
}

/// Refuses `op` unless `kind` may do it; `is_author` says whether the actor created
/// the thing acted on (it matters only for [`Access::Own`]).
pub fn require(op: Operation, kind: ActorKind, is_author: bool) -> Result<()> {
    match access(op, kind) {
        Access::Yes => Ok(()),
        Access::Own if is_author => Ok(()),
        Access::Own | Access::No => Err(denial(kind)),
    }
}

/// The error a refused actor gets: anonymous callers are asked to sign in, and
/// suspended accounts are told so.
pub fn denial(kind: ActorKind) -> Error {
    match kind {
        ActorKind::Anonymous => Error::Unauthorized("sign in first"),
        ActorKind::Suspended => {
            Error::Forbidden("your account is suspended").because(Reason::AccountSuspended)
        }
        _ => Error::Forbidden("you may not do this"),
    }
}

/// Whether an actor of `kind` may see the email address of a user; `is_self`:
/// the user is the actor.
pub fn may_see_email(kind: ActorKind, is_self: bool) -> bool {
    require(Operation::ViewEmail, kind, is_self).is_ok()
}

/// Whether a study member with `actor` role may kick one with `target` role:
/// the OWNER kicks anyone but themself, an ADMIN kicks MEMBERs only.
pub fn may_kick(actor: StudyRole, target: StudyRole) -> bool {
    match actor {
        StudyRole::Owner => target != StudyRole::Owner,
        StudyRole::Admin => target == StudyRole::Member,
        StudyRole::Member => false,
    }
}

/// Whether a platform admin with `actor` role may suspend (or restore) an account
/// with `target` role: ADMINs act on USERs, SYSTEM_ADMINs on USERs and ADMINs; no
/// one suspends a SYSTEM_ADMIN through the API.
pub fn may_suspend(actor: PlatformRole, target: PlatformRole) -> bool {
    match actor {
        PlatformRole::SystemAdmin => target != PlatformRole::SystemAdmin,
        PlatformRole::Admin => target == PlatformRole::User,
        PlatformRole::User => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table again, written as a picture so a change to [`TABLE`] must be
    /// made twice on purpose. Columns: anon, suspended, non-member, pending, MEMBER,
    /// ADMIN, OWNER, platform ADMIN, SYSTEM_ADMIN. `o` = own things only.
    const PICTURE: &str = "
        Logout             ..YYYYYYY
        ViewMe             ..YYYYYYY
        UpdateMe           ..YYYYYYY
        ChangePassword     ..YYYYYYY
        ViewDashboard      ..YYYYYYY
        ListMyStudies      ..YYYYYYY
        ListNotifications  ..YYYYYYY
        ReadNotification   ..ooooooo
        ListStudies        Y.YYYYYYY
        CreateStudy        ..YYYYYYY
        ViewStudy          Y.YYYYYYY
        UpdateStudy        ......Y..
        DeleteStudy        ......Y..
        ManageInviteCode   .....YY..
        JoinStudy          ..YYYYYYY
        LeaveStudy         ...YYYY..
        ListJoinRequests   .....YY..
        DecideJoinRequest  .....YY..
        ListMembers        ....YYY..
        ChangeRole         ......Y..
        KickMember         .....YY..
        ListNotices        ....YYY..
        ViewNotice         ....YYY..
        CreateNotice       .....YY..
        UpdateNotice       .....YY..
        DeleteNotice       .....YY..
        PinNotice          .....YY..
        ListEvents         ....YYY..
        CreateEvent        ....YYY..
        UpdateEvent        ....oYY..
        DeleteEvent        ....oYY..
        CreateTask         ..YYYYYYY
        ListTasks          ..YYYYYYY
        ViewTask           ..ooooooo
        UpdateTask         ..ooooooo
        DeleteTask         ..ooooooo
        ListMessages       ....YYY..
        SendMessage        ....YYY..
        MarkRead           ....YYY..
        DeleteMessage      ....oYY..
        ListFiles          ....YYY..
        UploadFile         ....YYY..
        DownloadFile       ....YYY..
        DeleteFile         ....oYY..
        CreateReport       ..YYYYYYY
        AdminStats         .......YY
        AdminListUsers     .......YY
        AdminViewUser      .......YY
        AdminSuspendUser   .......YY
        AdminRestoreUser   .......YY
        AdminListStudies   .......YY
        AdminViewStudy     .......YY
        AdminDeleteStudy   .......YY
        AdminListReports   .......YY
        AdminViewReport    .......YY
        AdminProcessReport .......YY
        AdminAuditLog      .......YY
        ViewEmail          ..oooooYY
    ";

    /// Every operation has exactly one row, in the order they are declared: a
    /// missing row would otherwise deny the operation to everyone, silently.
    #[test]
    fn every_operation_has_one_row() {
        let ops: Vec<Operation> = TABLE.iter().map(|(op, _)| *op).collect();
        assert_eq!(ops, Operation::ALL);
    }

    #[test]
    fn table_matches_the_picture() {
        let rows: Vec<(&str, &str)> = PICTURE
            .lines()
            .filter_map(|l| l.trim().split_once(char::is_whitespace))
            .map(|(op, cells)| (op.trim(), cells.trim()))
            .collect();
        assert_eq!(rows.len(), TABLE.len(), "every operation is pictured once");
        for ((op, row), (name, cells)) in TABLE.iter().zip(rows) {
            assert_eq!(format!("{op:?}"), name);
            let drawn: String = row
                .iter()
                .map(|a| match a {
                    Access::No => '.',
                    Access::Yes => 'Y',
                    Access::Own => 'o',
                })
                .collect();
            assert_eq!(drawn, cells, "{name}");
        }
    }

    #[test]
    fn denials_say_why() {
        for kind in ActorKind::ALL {
            for (op, _) in TABLE {
                let result = require(*op, kind, false);
                match access(*op, kind) {
                    Access::Yes => assert!(result.is_ok()),
                    Access::Own => {
                        assert!(result.is_err());
                        assert!(require(*op, kind, true).is_ok());
                    }
                    Access::No => {
                        let code = result.expect_err("denied").code();
                        let expected = match kind {
                            ActorKind::Anonymous => crate::ErrorCode::Unauthorized,
                            _ => crate::ErrorCode::Forbidden,
                        };
                        assert_eq!(code, expected, "{op:?} by {kind:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn classification() {
        use MemberStatus::*;
        let user = Some((PlatformRole::User, UserStatus::Active));
        assert_eq!(ActorKind::classify(None, None), ActorKind::Anonymous);
        assert_eq!(
            ActorKind::classify(
                Some((PlatformRole::SystemAdmin, UserStatus::Suspended)),
                Some((StudyRole::Owner, Active))
            ),
            ActorKind::Suspended
        );
        assert_eq!(ActorKind::classify(user, None), ActorKind::NonMember);
        assert_eq!(
            ActorKind::classify(user, Some((StudyRole::Member, Pending))),
            ActorKind::Pending
        );
        assert_eq!(
            ActorKind::classify(user, Some((StudyRole::Admin, Active))),
            ActorKind::StudyAdmin
        );
        let admin = Some((PlatformRole::Admin, UserStatus::Active));
        assert_eq!(ActorKind::classify(admin, None), ActorKind::PlatformAdmin);
        assert_eq!(
            ActorKind::classify(admin, Some((StudyRole::Member, Active))),
            ActorKind::Member
        );
    }

    #[test]
    fn second_party_rules() {
        use StudyRole::*;
        let kick = [
            (Owner, Owner, false),
            (Owner, Admin, true),
            (Owner, Member, true),
            (Admin, Owner, false),
            (Admin, Admin, false),
            (Admin, Member, true),
            (Member, Member, false),
        ];
        for (actor, target, allowed) in kick {
            assert_eq!(
                may_kick(actor, target),
                allowed,
                "{actor:?} kicks {target:?}"
            );
        }
        use PlatformRole as P;
        let suspend = [
            (P::SystemAdmin, P::User, true),
            (P::SystemAdmin, P::Admin, true),
            (P::SystemAdmin, P::SystemAdmin, false),
            (P::Admin, P::User, true),
            (P::Admin, P::Admin, false),
            (P::Admin, P::SystemAdmin, false),
            (P::User, P::User, false),
        ];
        for (actor, target, allowed) in suspend {
            assert_eq!(
                may_suspend(actor, target),
                allowed,
                "{actor:?} suspends {target:?}"
            );
        }
    }
}
