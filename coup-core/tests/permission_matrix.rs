//! Every operation × every kind of actor, against the real services on a real
//! SQLite file: what the permission table allows succeeds, what it denies is
//! refused with the right code, and operations allowed only on one's own things
//! succeed on the actor's own thing and are refused on someone else's.

mod common;

use chrono::{Duration, Utc};
use common::{TestCore, core};
use coup_core::events::DomainEvent;
use coup_core::ids::*;
use coup_core::model::*;
use coup_core::permissions::{Access, ActorKind, Operation, access};
use coup_core::service::*;
use coup_core::{ErrorCode, Result};

/// A study with one actor of each kind and one thing of each kind made by its owner.
struct World {
    t: TestCore,
    study: StudyId,
    owner: UserId,
    actors: Vec<(ActorKind, Option<UserId>)>,
    applicant: UserId,
    member_target: UserId,
    outsider: UserId,
    suspended_target: UserId,
    notice: NoticeId,
    event: EventId,
    message: MessageId,
    file: FileId,
    task: TaskId,
    notification: NotificationId,
    report: ReportId,
}

fn world() -> World {
    let t = core();
    let owner = t.user("owner");
    let study = t.study(owner, "Rust", true, JoinPolicy::Approval);
    let study_admin = t.user("studyadmin");
    t.member(study, owner, study_admin);
    t.w(|tx| {
        membership::change_role(
            tx,
            Some(owner),
            study,
            study_admin,
            membership::RoleChange {
                role: StudyRole::Admin,
            },
        )
    })
    .expect("promote");
    let member = t.user("member");
    t.member(study, owner, member);
    let member_target = t.user("target");
    t.member(study, owner, member_target);
    let pending = t.user("pending");
    t.w(|tx| membership::join(tx, Some(pending), study, Default::default()))
        .expect("request");
    let applicant = t.user("applicant");
    t.w(|tx| membership::join(tx, Some(applicant), study, Default::default()))
        .expect("request");
    let non_member = t.user("nonmember");
    let platform_admin = t.user_with_role("platformadmin", PlatformRole::Admin);
    let system_admin = t.user_with_role("sysadmin", PlatformRole::SystemAdmin);
    let suspended = t.user("suspended");
    t.member(study, owner, suspended);
    let outsider = t.user("outsider");
    let suspended_target = t.user("suspendedtarget");
    for user in [suspended, suspended_target] {
        t.w(|tx| {
            admin::suspend(
                tx,
                Some(system_admin),
                user,
                admin::Suspension {
                    reason: "spam".into(),
                    until: None,
                },
            )
        })
        .expect("suspend");
    }
    let notice = t
        .w(|tx| {
            notices::create(
                tx,
                Some(owner),
                study,
                notices::NewNotice {
                    title: "Hi".into(),
                    content: "Welcome".into(),
                    is_pinned: false,
                },
            )
        })
        .expect("notice")
        .id;
    let event = t
        .w(|tx| calendar::create(tx, Some(owner), study, new_event()))
        .expect("event")
        .id;
    let message = t
        .w(|tx| {
            chat::send(
                tx,
                Some(owner),
                study,
                chat::SendMessage {
                    content: "hello".into(),
                    ..Default::default()
                },
            )
        })
        .expect("message")
        .id;
    let file = upload(&t, owner, study).expect("file").id;
    // Private things belong to someone who is none of the actors.
    let task = t
        .w(|tx| tasks::create(tx, Some(outsider), new_task()))
        .expect("task")
        .id;
    let notification = notify(&t, outsider).expect("notification");
    let report = t
        .w(|tx| {
            reports::create(
                tx,
                Some(outsider),
                reports::NewReport {
                    target_type: ReportTarget::User,
                    target_id: member_target.to_string(),
                    reason: "rude".into(),
                },
            )
        })
        .expect("report")
        .id;
    let actors = vec![
        (ActorKind::Anonymous, None),
        (ActorKind::Suspended, Some(suspended)),
        (ActorKind::NonMember, Some(non_member)),
        (ActorKind::Pending, Some(pending)),
        (ActorKind::Member, Some(member)),
        (ActorKind::StudyAdmin, Some(study_admin)),
        (ActorKind::Owner, Some(owner)),
        (ActorKind::PlatformAdmin, Some(platform_admin)),
        (ActorKind::SystemAdmin, Some(system_admin)),
    ];
    World {
        t,
        study,
        owner,
        actors,
        applicant,
        member_target,
        outsider,
        suspended_target,
        notice,
        event,
        message,
        file,
        task,
        notification,
        report,
    }
}

fn new_event() -> calendar::NewEvent {
    let start = Utc::now() + Duration::days(1);
    calendar::NewEvent {
        title: "Mock exam".into(),
        description: None,
        start_at: start,
        end_at: start + Duration::hours(2),
        all_day: false,
        location: Some("Room 301".into()),
    }
}

fn new_task() -> tasks::NewTask {
    tasks::NewTask {
        title: "Read chapter 3".into(),
        description: None,
        due_at: None,
        priority: Priority::High,
        study_id: None,
        client_id: None,
    }
}

fn upload(t: &TestCore, by: UserId, study: StudyId) -> Result<FileMeta> {
    t.w(|tx| {
        files::register(
            tx,
            Some(by),
            study,
            files::NewFile {
                name: "notes.pdf".into(),
                content_type: "application/pdf".into(),
                size: 10,
                storage_key: files::new_storage_key(),
            },
        )
    })
}

/// A notification for `user`, written the way the rules write them.
fn notify(t: &TestCore, user: UserId) -> Result<NotificationId> {
    t.write_blocking(|tx| {
        let mut events = vec![DomainEvent::UserWarned {
            user_id: user,
            reason: "test".into(),
            actor: UserId::new(),
        }];
        notifications::persist(tx, &mut events)?;
        match events.pop() {
            Some(DomainEvent::NotificationCreated { notification }) => {
                Ok(coup_core::Outcome::quiet(notification.id))
            }
            _ => unreachable!("persist appends the notification"),
        }
    })
    .map(|o| o.value)
}

/// Performs `op` as `caller`. With `own`, acts on a thing the caller made first.
fn perform(w: &World, op: Operation, caller: Option<UserId>, own: bool) -> Result<()> {
    use Operation::*;
    let t = &w.t;
    let s = w.study;
    // An anonymous caller acting "as someone" is an id with no account behind it.
    let me = caller.unwrap_or_default();
    let page = PageRequest::default();
    match op {
        Logout => t
            .w(|tx| accounts::logout(tx, caller, "no-such-session"))
            .map(drop),
        ViewMe => t.r(|tx| accounts::me(tx, caller)).map(drop),
        UpdateMe => t
            .w(|tx| {
                accounts::update_me(
                    tx,
                    caller,
                    accounts::ProfilePatch {
                        bio: Some("hi".into()),
                        ..Default::default()
                    },
                )
            })
            .map(drop),
        ChangePassword => t
            .w(|tx| accounts::set_password(tx, caller, &common::PASSWORD_HASH, "keep"))
            .map(drop),
        ViewDashboard => t.r(|tx| dashboard::dashboard(tx, caller)).map(drop),
        ListMyStudies => t
            .r(|tx| studies::my_studies(tx, caller, Default::default()))
            .map(drop),
        ListNotifications => t
            .r(|tx| notifications::list(tx, caller, Default::default()))
            .map(drop),
        ReadNotification => {
            let id = if own { notify(t, me)? } else { w.notification };
            t.w(|tx| notifications::mark_read(tx, caller, id)).map(drop)
        }
        ListStudies => t
            .r(|tx| studies::list(tx, caller, Default::default()))
            .map(drop),
        CreateStudy => t
            .w(|tx| studies::create(tx, caller, common::new_study("New", true, JoinPolicy::Auto)))
            .map(drop),
        ViewStudy => t.r(|tx| studies::get(tx, caller, s)).map(drop),
        UpdateStudy => t
            .w(|tx| {
                studies::update(
                    tx,
                    caller,
                    s,
                    studies::StudyPatch {
                        name: Some("Renamed".into()),
                        ..Default::default()
                    },
                )
            })
            .map(drop),
        DeleteStudy => t.w(|tx| studies::delete(tx, caller, s)).map(drop),
        ManageInviteCode => t
            .w(|tx| studies::regenerate_invite_code(tx, caller, s))
            .map(drop),
        JoinStudy => t
            .w(|tx| membership::join(tx, caller, s, Default::default()))
            .map(drop),
        LeaveStudy => t.w(|tx| membership::leave(tx, caller, s)).map(drop),
        ListJoinRequests => t
            .r(|tx| membership::list_join_requests(tx, caller, s, page))
            .map(drop),
        DecideJoinRequest => t
            .w(|tx| membership::approve(tx, caller, s, w.applicant))
            .map(drop),
        ListMembers => t
            .r(|tx| membership::list_members(tx, caller, s, page))
            .map(drop),
        ChangeRole => t
            .w(|tx| {
                membership::change_role(
                    tx,
                    caller,
                    s,
                    w.member_target,
                    membership::RoleChange {
                        role: StudyRole::Admin,
                    },
                )
            })
            .map(drop),
        KickMember => t
            .w(|tx| membership::kick(tx, caller, s, w.member_target))
            .map(drop),
        ListNotices => t.r(|tx| notices::list(tx, caller, s, page)).map(drop),
        ViewNotice => t
            .w(|tx| notices::view(tx, caller, s, w.notice).map(coup_core::Outcome::quiet))
            .map(drop),
        CreateNotice => t
            .w(|tx| {
                notices::create(
                    tx,
                    caller,
                    s,
                    notices::NewNotice {
                        title: "T".into(),
                        content: "C".into(),
                        is_pinned: true,
                    },
                )
            })
            .map(drop),
        UpdateNotice => t
            .w(|tx| {
                notices::update(
                    tx,
                    caller,
                    s,
                    w.notice,
                    notices::NoticePatch {
                        title: Some("T2".into()),
                        ..Default::default()
                    },
                )
            })
            .map(drop),
        DeleteNotice => t.w(|tx| notices::delete(tx, caller, s, w.notice)).map(drop),
        PinNotice => t
            .w(|tx| notices::pin(tx, caller, s, w.notice, Default::default()))
            .map(drop),
        ListEvents => {
            let range = calendar::Range {
                from: Utc::now(),
                to: Utc::now() + Duration::days(30),
            };
            t.r(|tx| calendar::list(tx, caller, s, range)).map(drop)
        }
        CreateEvent => t
            .w(|tx| calendar::create(tx, caller, s, new_event()))
            .map(drop),
        UpdateEvent | DeleteEvent => {
            let id = if own {
                t.w(|tx| calendar::create(tx, caller, s, new_event()))?.id
            } else {
                w.event
            };
            if op == UpdateEvent {
                t.w(|tx| {
                    calendar::update(
                        tx,
                        caller,
                        s,
                        id,
                        calendar::EventPatch {
                            title: Some("Moved".into()),
                            ..Default::default()
                        },
                    )
                })
                .map(drop)
            } else {
                t.w(|tx| calendar::delete(tx, caller, s, id)).map(drop)
            }
        }
        CreateTask => t.w(|tx| tasks::create(tx, caller, new_task())).map(drop),
        ListTasks => t
            .r(|tx| tasks::list(tx, caller, Default::default()))
            .map(drop),
        ViewTask | UpdateTask | DeleteTask => {
            let id = if own {
                t.w(|tx| tasks::create(tx, caller, new_task()))?.id
            } else {
                w.task
            };
            match op {
                ViewTask => t.r(|tx| tasks::get(tx, caller, id)).map(drop),
                UpdateTask => t.w(|tx| tasks::toggle(tx, caller, id)).map(drop),
                _ => t.w(|tx| tasks::delete(tx, caller, id)).map(drop),
            }
        }
        ListMessages => t
            .r(|tx| chat::list(tx, caller, s, Default::default()))
            .map(drop),
        SendMessage => t
            .w(|tx| {
                chat::send(
                    tx,
                    caller,
                    s,
                    chat::SendMessage {
                        content: "hi".into(),
                        ..Default::default()
                    },
                )
            })
            .map(drop),
        MarkRead => t
            .w(|tx| chat::mark_read_message(tx, caller, s, w.message))
            .map(drop),
        DeleteMessage => {
            let id = if own {
                t.w(|tx| {
                    chat::send(
                        tx,
                        caller,
                        s,
                        chat::SendMessage {
                            content: "mine".into(),
                            ..Default::default()
                        },
                    )
                })?
                .id
            } else {
                w.message
            };
            t.w(|tx| chat::delete(tx, caller, s, id)).map(drop)
        }
        ListFiles => t.r(|tx| files::list(tx, caller, s, page)).map(drop),
        UploadFile => upload(t, me, s).map(drop),
        DownloadFile => t
            .w(|tx| files::download(tx, caller, s, w.file).map(coup_core::Outcome::quiet))
            .map(drop),
        DeleteFile => {
            let id = if own { upload(t, me, s)?.id } else { w.file };
            t.w(|tx| files::delete(tx, caller, s, id)).map(drop)
        }
        CreateReport => t
            .w(|tx| {
                reports::create(
                    tx,
                    caller,
                    reports::NewReport {
                        target_type: ReportTarget::Study,
                        target_id: s.to_string(),
                        reason: "spam".into(),
                    },
                )
            })
            .map(drop),
        AdminStats => t.r(|tx| admin::stats(tx, caller)).map(drop),
        AdminListUsers => t
            .r(|tx| admin::list_users(tx, caller, Default::default()))
            .map(drop),
        AdminViewUser => t
            .r(|tx| admin::user_detail(tx, caller, w.outsider))
            .map(drop),
        AdminSuspendUser => t
            .w(|tx| {
                admin::suspend(
                    tx,
                    caller,
                    w.outsider,
                    admin::Suspension {
                        reason: "spam".into(),
                        until: None,
                    },
                )
            })
            .map(drop),
        AdminRestoreUser => t
            .w(|tx| admin::restore(tx, caller, w.suspended_target))
            .map(drop),
        AdminListStudies => t
            .r(|tx| admin::list_studies(tx, caller, Default::default()))
            .map(drop),
        AdminViewStudy => t.r(|tx| admin::study_detail(tx, caller, s)).map(drop),
        AdminDeleteStudy => t.w(|tx| admin::delete_study(tx, caller, s, None)).map(drop),
        AdminListReports => t
            .r(|tx| admin::list_reports(tx, caller, Default::default()))
            .map(drop),
        AdminViewReport => t
            .r(|tx| admin::report_detail(tx, caller, w.report))
            .map(drop),
        AdminProcessReport => t
            .w(|tx| {
                admin::process_report(
                    tx,
                    caller,
                    w.report,
                    admin::ProcessReport {
                        action: ReportAction::Dismiss,
                        note: None,
                    },
                )
            })
            .map(drop),
        AdminAuditLog => t.r(|tx| admin::audit_log(tx, caller, page)).map(drop),
        ViewEmail => {
            let target = if own { me } else { w.member_target };
            if emails_seen(w, caller).contains(&(target, true)) {
                Ok(())
            } else {
                // Refused the way the table refuses.
                t.r(|tx| accounts::me(tx, caller))?;
                Err(coup_core::permissions::denial(kind_of(w, caller)))
            }
        }
    }
}

fn kind_of(w: &World, caller: Option<UserId>) -> ActorKind {
    w.actors
        .iter()
        .find(|(_, id)| *id == caller)
        .map_or(ActorKind::Anonymous, |(k, _)| *k)
}

/// Every user listed to `caller` anywhere a user can be listed (their own
/// account, the study's members and join requests, the memberships that joining,
/// approving and changing a role return, the admin views), and whether the
/// email came with it.
fn emails_seen(w: &World, caller: Option<UserId>) -> Vec<(UserId, bool)> {
    let (t, s, page) = (&w.t, w.study, PageRequest::default());
    let mut seen = Vec::new();
    let mut members = |listed: Vec<Member>| {
        for m in listed {
            seen.push((m.user_id, m.email.is_some()));
        }
    };
    if let Ok(p) = t.r(|tx| membership::list_members(tx, caller, s, page)) {
        members(p.items);
    }
    if let Ok(p) = t.r(|tx| membership::list_join_requests(tx, caller, s, page)) {
        members(p.items);
    }
    if let Ok(d) = t.r(|tx| admin::study_detail(tx, caller, s)) {
        members(d.members);
    }
    // What the writes return, each undone afterwards by rolling back: run them
    // in a transaction that fails.
    let mut written = Vec::new();
    for op in [
        Box::new(|tx: &mut dyn coup_core::store::Tx| {
            membership::join(tx, caller, s, Default::default()).map(|o| o.value)
        }) as Box<dyn Fn(&mut dyn coup_core::store::Tx) -> Result<Member>>,
        Box::new(|tx: &mut dyn coup_core::store::Tx| {
            membership::approve(tx, caller, s, w.applicant).map(|o| o.value)
        }),
        Box::new(|tx: &mut dyn coup_core::store::Tx| {
            membership::change_role(
                tx,
                caller,
                s,
                w.member_target,
                membership::RoleChange {
                    role: StudyRole::Admin,
                },
            )
            .map(|o| o.value)
        }),
    ] {
        let _ = t.store().write_blocking(|tx| {
            if let Ok(m) = op(tx) {
                written.push(m);
            }
            Err::<(), _>(coup_core::Error::Internal("roll back".into()))
        });
    }
    members(written);
    if let Ok(me) = t.r(|tx| accounts::me(tx, caller)) {
        seen.push((me.id, !me.email.is_empty()));
    }
    if let Ok(users) = t.r(|tx| admin::list_users(tx, caller, Default::default())) {
        seen.extend(users.items.iter().map(|u| (u.id, !u.email.is_empty())));
    }
    seen
}

/// Where users are listed, each kind of actor sees emails as `ViewEmail` says:
/// their own everywhere, others' only as a platform admin — never as a study's
/// OWNER, ADMIN or MEMBER. (Columns as in the permission table.)
#[test]
fn emails_are_seen_by_their_owner_and_platform_admins_only() {
    let w = world();
    // (kind, sees its own email, sees other members' emails)
    let expected = [
        (ActorKind::Anonymous, false, false),
        (ActorKind::Suspended, false, false),
        (ActorKind::NonMember, true, false),
        (ActorKind::Pending, true, false),
        (ActorKind::Member, true, false),
        (ActorKind::StudyAdmin, true, false),
        (ActorKind::Owner, true, false),
        (ActorKind::PlatformAdmin, true, true),
        (ActorKind::SystemAdmin, true, true),
    ];
    let mut failures = Vec::new();
    for (kind, own, others) in expected {
        let caller = w
            .actors
            .iter()
            .find(|(k, _)| *k == kind)
            .and_then(|(_, id)| *id);
        let seen = emails_seen(&w, caller);
        let saw_own = seen.iter().any(|(id, email)| Some(*id) == caller && *email);
        let listed_others: Vec<_> = seen.iter().filter(|(id, _)| Some(*id) != caller).collect();
        let saw_others = listed_others.iter().any(|(_, email)| *email);
        let hid_others = listed_others.iter().any(|(_, email)| !*email);
        if saw_own != own {
            failures.push(format!(
                "{kind:?}: own email seen {saw_own}, expected {own}"
            ));
        }
        if saw_others != others || (others && hid_others) {
            failures.push(format!(
                "{kind:?}: other users' emails seen {saw_others} (some hidden: {hid_others}), expected {others}"
            ));
        }
        // Members, managers and the OWNER do see the other members, just not
        // their emails.
        if kind.is_active_member() && listed_others.is_empty() {
            failures.push(format!("{kind:?} saw no other member at all"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Allowed operations that the state rules still refuse for this actor (they are
/// already in the study, or own it), with the code they must get.
fn state_refusal(op: Operation, kind: ActorKind) -> Option<ErrorCode> {
    use ActorKind::*;
    match (op, kind) {
        (Operation::JoinStudy, Pending | Member | StudyAdmin | Owner) => Some(ErrorCode::Conflict),
        (Operation::LeaveStudy, Owner) => Some(ErrorCode::Conflict),
        _ => None,
    }
}

/// Own-only operations whose things are private to their owner answer strangers
/// with NOT_FOUND instead of FORBIDDEN.
fn private_to_owner(op: Operation) -> bool {
    matches!(
        op,
        Operation::ReadNotification
            | Operation::ViewTask
            | Operation::UpdateTask
            | Operation::DeleteTask
    )
}

#[test]
fn every_operation_for_every_actor_kind() {
    let mut failures = Vec::new();
    let mut checked = 0;
    // Every operation there is, not every row there is: an operation the table
    // forgot would be tried too (and `perform` matches them all exhaustively).
    for op in Operation::ALL {
        for kind in ActorKind::ALL {
            let access = access(*op, kind);
            let mut cases = vec![false];
            if access == Access::Own {
                cases.push(true);
            }
            for own in cases {
                let w = world();
                let caller = w
                    .actors
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .and_then(|(_, id)| *id);
                assert_eq!(w.owner, w.actors[6].1.expect("owner"), "fixture order");
                let before = w.t.snapshot();
                let result = perform(&w, *op, caller, own);
                checked += 1;
                let allowed = access == Access::Yes || (access == Access::Own && own);
                let expected = if allowed {
                    state_refusal(*op, kind).map_or("OK".to_string(), |c| c.to_string())
                } else {
                    match kind {
                        ActorKind::Anonymous => "UNAUTHORIZED".into(),
                        ActorKind::Suspended => "FORBIDDEN".into(),
                        _ if private_to_owner(*op) => "NOT_FOUND".into(),
                        _ => "FORBIDDEN".into(),
                    }
                };
                let got = common::code(&result);
                if got != expected {
                    failures.push(format!("{op:?} by {kind:?} (own: {own}): expected {expected}, got {got} ({result:?})"));
                }
                if got != "OK" && !own && w.t.snapshot() != before {
                    failures.push(format!("{op:?} by {kind:?}: refused but the store changed"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= Operation::ALL.len() * ActorKind::ALL.len());
}

#[test]
fn private_studies_are_invisible_to_outsiders_everywhere() {
    let t = core();
    let owner = t.user("owner");
    let outsider = t.user("outsider");
    let sysadmin = t.user_with_role("sysadmin", PlatformRole::SystemAdmin);
    let secret = t.study(owner, "Secret", false, JoinPolicy::Approval);
    for caller in [None, Some(outsider), Some(sysadmin)] {
        assert_eq!(
            common::code(&t.r(|tx| studies::get(tx, caller, secret))),
            "NOT_FOUND"
        );
        let listed = t
            .r(|tx| studies::list(tx, caller, Default::default()))
            .expect("list");
        assert_eq!(
            listed.total, 0,
            "a private study is never listed to outsiders"
        );
        assert_eq!(
            common::code(&t.r(|tx| chat::list(tx, caller, secret, Default::default()))),
            "NOT_FOUND"
        );
    }
    let wrong = t.w(|tx| {
        membership::join(
            tx,
            Some(outsider),
            secret,
            membership::JoinRequest {
                invite_code: Some("WRONG".into()),
                message: None,
            },
        )
    });
    assert_eq!(
        common::code(&wrong),
        "NOT_FOUND",
        "a wrong code reveals nothing"
    );
    let code = t
        .r(|tx| studies::invite_code(tx, Some(owner), secret))
        .expect("code")
        .invite_code;
    let joined = t
        .w(|tx| {
            membership::join(
                tx,
                Some(outsider),
                secret,
                membership::JoinRequest {
                    invite_code: Some(code.to_lowercase()),
                    message: None,
                },
            )
        })
        .expect("join with code");
    assert_eq!(joined.status, MemberStatus::Active);
    assert_eq!(
        t.r(|tx| studies::list(tx, Some(outsider), Default::default()))
            .expect("list")
            .total,
        1
    );
    // Platform admins see it through the admin operations.
    assert_eq!(
        t.r(|tx| admin::list_studies(tx, Some(sysadmin), Default::default()))
            .expect("admin list")
            .total,
        1
    );
}
