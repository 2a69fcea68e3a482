//! The membership state machine: one test per transition, and the refusals that
//! must leave the store unchanged.

mod common;

use common::{code, core};
use coup_core::DomainEvent;
use coup_core::model::*;
use coup_core::service::{membership, notifications, studies};

fn kinds(t: &common::TestCore, user: coup_core::ids::UserId) -> Vec<NotificationKind> {
    t.r(|tx| notifications::list(tx, Some(user), Default::default()))
        .expect("notifications")
        .items
        .into_iter()
        .map(|n| n.kind)
        .collect()
}

#[test]
fn auto_join_makes_an_active_member_and_counts_them() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "Auto", true, JoinPolicy::Auto);
    let lee = t.user("lee");
    let out = t
        .write_blocking(|tx| membership::join(tx, Some(lee), s, Default::default()))
        .expect("join");
    assert_eq!(out.value.status, MemberStatus::Active);
    assert!(matches!(out.events[0], DomainEvent::MemberJoined { .. }));
    assert_eq!(
        t.r(|tx| studies::get(tx, Some(lee), s))
            .expect("get")
            .member_count,
        2
    );
}

#[test]
fn approval_join_waits_and_notifies_owner_and_admins_only() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "Approval", true, JoinPolicy::Approval);
    let admin = t.user("admin");
    let member = t.user("member");
    t.member(s, owner, admin);
    t.member(s, owner, member);
    t.w(|tx| {
        membership::change_role(
            tx,
            Some(owner),
            s,
            admin,
            membership::RoleChange {
                role: StudyRole::Admin,
            },
        )
    })
    .expect("promote");
    let lee = t.user("lee");
    let m = t
        .w(|tx| {
            membership::join(
                tx,
                Some(lee),
                s,
                membership::JoinRequest {
                    message: Some("please".into()),
                    invite_code: None,
                },
            )
        })
        .expect("request");
    assert_eq!(m.status, MemberStatus::Pending);
    assert_eq!(m.message.as_deref(), Some("please"));
    assert!(kinds(&t, owner).contains(&NotificationKind::JoinRequest));
    assert!(kinds(&t, admin).contains(&NotificationKind::JoinRequest));
    assert!(!kinds(&t, member).contains(&NotificationKind::JoinRequest));
    assert!(
        kinds(&t, lee).is_empty(),
        "the requester is not notified of their own request"
    );
    let requests = t
        .r(|tx| membership::list_join_requests(tx, Some(admin), s, PageRequest::default()))
        .expect("list");
    assert_eq!(requests.total, 1);
    assert_eq!(
        t.r(|tx| studies::get(tx, Some(owner), s))
            .expect("get")
            .member_count,
        3,
        "pending is not counted"
    );
}

#[test]
fn approve_then_approve_again_conflicts() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Approval);
    let lee = t.user("lee");
    t.w(|tx| membership::join(tx, Some(lee), s, Default::default()))
        .expect("request");
    let m = t
        .w(|tx| membership::approve(tx, Some(owner), s, lee))
        .expect("approve");
    assert_eq!(m.status, MemberStatus::Active);
    assert!(kinds(&t, lee).contains(&NotificationKind::JoinApproved));
    let stranger = t.user("stranger");
    let before = t.snapshot();
    assert_eq!(
        code(&t.w(|tx| membership::approve(tx, Some(owner), s, lee))),
        "CONFLICT"
    );
    assert_eq!(
        code(&t.w(|tx| membership::reject(tx, Some(owner), s, lee))),
        "CONFLICT"
    );
    assert_eq!(
        code(&t.w(|tx| membership::approve(tx, Some(owner), s, stranger))),
        "NOT_FOUND"
    );
    assert_eq!(
        code(&t.w(|tx| membership::join(tx, Some(lee), s, Default::default()))),
        "CONFLICT"
    );
    assert_eq!(t.snapshot(), before, "refused transitions change nothing");
}

#[test]
fn reject_removes_the_request_and_notifies() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Approval);
    let lee = t.user("lee");
    t.w(|tx| membership::join(tx, Some(lee), s, Default::default()))
        .expect("request");
    t.w(|tx| membership::reject(tx, Some(owner), s, lee))
        .expect("reject");
    assert!(kinds(&t, lee).contains(&NotificationKind::JoinRejected));
    assert_eq!(
        t.r(|tx| membership::list_join_requests(tx, Some(owner), s, PageRequest::default()))
            .expect("list")
            .total,
        0
    );
    // A rejected user may ask again.
    t.w(|tx| membership::join(tx, Some(lee), s, Default::default()))
        .expect("ask again");
}

#[test]
fn capacity_is_enforced_at_approval_and_auto_join() {
    let t = core();
    let owner = t.user("owner");
    let mut input = common::new_study("Tiny", true, JoinPolicy::Approval);
    input.max_members = 2;
    let s = t
        .w(|tx| studies::create(tx, Some(owner), input))
        .expect("study")
        .id;
    let (a, b) = (t.user("a"), t.user("b"));
    t.w(|tx| membership::join(tx, Some(a), s, Default::default()))
        .expect("a asks");
    t.w(|tx| membership::join(tx, Some(b), s, Default::default()))
        .expect("b asks: requests may exceed");
    t.w(|tx| membership::approve(tx, Some(owner), s, a))
        .expect("a fits");
    let before = t.snapshot();
    let full = t.w(|tx| membership::approve(tx, Some(owner), s, b));
    assert_eq!(code(&full), "CONFLICT");
    assert!(full.expect_err("full").to_string().contains("full"));
    assert_eq!(t.snapshot(), before, "a refused approval changes nothing");
    t.w(|tx| {
        studies::update(
            tx,
            Some(owner),
            s,
            studies::StudyPatch {
                join_policy: Some(JoinPolicy::Auto),
                ..Default::default()
            },
        )
    })
    .expect("auto");
    let c = t.user("c");
    assert_eq!(
        code(&t.w(|tx| membership::join(tx, Some(c), s, Default::default()))),
        "CONFLICT"
    );
    let shrink = t.w(|tx| {
        studies::update(
            tx,
            Some(owner),
            s,
            studies::StudyPatch {
                max_members: Some(1),
                ..Default::default()
            },
        )
    });
    assert_eq!(
        code(&shrink),
        "VALIDATION",
        "max below the current count is refused"
    );
}

#[test]
fn not_recruiting_and_deleted_studies_refuse_joins() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    t.w(|tx| {
        studies::update(
            tx,
            Some(owner),
            s,
            studies::StudyPatch {
                is_recruiting: Some(false),
                ..Default::default()
            },
        )
    })
    .expect("close");
    let lee = t.user("lee");
    assert_eq!(
        code(&t.w(|tx| membership::join(tx, Some(lee), s, Default::default()))),
        "CONFLICT"
    );
    t.w(|tx| studies::delete(tx, Some(owner), s))
        .expect("delete");
    let before = t.snapshot();
    assert_eq!(
        code(&t.w(|tx| membership::join(tx, Some(lee), s, Default::default()))),
        "NOT_FOUND"
    );
    assert_eq!(
        code(&t.r(|tx| studies::get(tx, Some(owner), s))),
        "NOT_FOUND",
        "deleted hides everything"
    );
    assert_eq!(t.snapshot(), before);
}

#[test]
fn ownership_transfer_keeps_exactly_one_owner() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let lee = t.user("lee");
    t.member(s, owner, lee);
    let out = t
        .write_blocking(|tx| {
            membership::change_role(
                tx,
                Some(owner),
                s,
                lee,
                membership::RoleChange {
                    role: StudyRole::Owner,
                },
            )
        })
        .expect("transfer");
    assert_eq!(out.value.role, StudyRole::Owner);
    let members = t
        .r(|tx| membership::list_members(tx, Some(lee), s, PageRequest::default()))
        .expect("members")
        .items;
    let owners: Vec<_> = members
        .iter()
        .filter(|m| m.role == StudyRole::Owner)
        .collect();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0].user_id, lee);
    assert_eq!(
        members
            .iter()
            .find(|m| m.user_id == owner)
            .expect("old owner")
            .role,
        StudyRole::Admin
    );
    assert_eq!(
        t.r(|tx| studies::get(tx, None, s)).expect("get").owner_id,
        lee
    );
    assert!(kinds(&t, lee).contains(&NotificationKind::RoleChanged));
    assert!(
        !kinds(&t, owner).contains(&NotificationKind::RoleChanged),
        "not notified of own action"
    );
    // The former owner may now leave; the new one may not.
    assert_eq!(
        code(&t.w(|tx| membership::leave(tx, Some(lee), s))),
        "CONFLICT"
    );
    t.w(|tx| membership::leave(tx, Some(owner), s))
        .expect("former owner leaves");
}

#[test]
fn role_change_refusals() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let lee = t.user("lee");
    t.member(s, owner, lee);
    let stranger = t.user("stranger");
    let before = t.snapshot();
    // Who asks, whose role, the role asked for, and the refusal.
    let refusals = [
        // lee already is a MEMBER.
        (owner, lee, StudyRole::Member, "CONFLICT"),
        // The OWNER's role changes only by handing the study over.
        (owner, owner, StudyRole::Member, "CONFLICT"),
        (owner, stranger, StudyRole::Admin, "NOT_FOUND"),
        (lee, owner, StudyRole::Member, "FORBIDDEN"),
    ];
    for (by, target, role, refusal) in refusals {
        let change = membership::RoleChange { role };
        let result = t.w(|tx| membership::change_role(tx, Some(by), s, target, change));
        assert_eq!(code(&result), refusal, "{by} makes {target} {role:?}");
    }
    assert_eq!(t.snapshot(), before);
}

#[test]
fn kick_rules_by_role() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Auto);
    let (admin, admin2, member) = (t.user("admin"), t.user("admin2"), t.user("member"));
    for u in [admin, admin2, member] {
        t.member(s, owner, u);
    }
    for a in [admin, admin2] {
        t.w(|tx| {
            membership::change_role(
                tx,
                Some(owner),
                s,
                a,
                membership::RoleChange {
                    role: StudyRole::Admin,
                },
            )
        })
        .expect("promote");
    }
    let before = t.snapshot();
    assert_eq!(
        code(&t.w(|tx| membership::kick(tx, Some(admin), s, owner))),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&t.w(|tx| membership::kick(tx, Some(admin), s, admin2))),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&t.w(|tx| membership::kick(tx, Some(owner), s, owner))),
        "CONFLICT"
    );
    assert_eq!(
        code(&t.w(|tx| membership::kick(tx, Some(member), s, admin))),
        "FORBIDDEN"
    );
    assert_eq!(t.snapshot(), before);
    t.w(|tx| membership::kick(tx, Some(admin), s, member))
        .expect("admin kicks member");
    assert!(kinds(&t, member).contains(&NotificationKind::Kicked));
    assert_eq!(
        code(&t.r(|tx| membership::list_members(tx, Some(member), s, PageRequest::default()))),
        "FORBIDDEN"
    );
    t.w(|tx| membership::kick(tx, Some(owner), s, admin2))
        .expect("owner kicks admin");
    assert_eq!(
        t.r(|tx| studies::get(tx, Some(owner), s))
            .expect("get")
            .member_count,
        2
    );
}

#[test]
fn leave_and_withdraw() {
    let t = core();
    let owner = t.user("owner");
    let s = t.study(owner, "S", true, JoinPolicy::Approval);
    let lee = t.user("lee");
    t.w(|tx| membership::join(tx, Some(lee), s, Default::default()))
        .expect("request");
    t.w(|tx| membership::leave(tx, Some(lee), s))
        .expect("withdraw");
    assert_eq!(
        t.r(|tx| membership::list_join_requests(tx, Some(owner), s, PageRequest::default()))
            .expect("list")
            .total,
        0
    );
    t.member(s, owner, lee);
    assert_eq!(
        t.r(|tx| studies::get(tx, None, s))
            .expect("get")
            .member_count,
        2
    );
    t.w(|tx| membership::leave(tx, Some(lee), s))
        .expect("leave");
    assert_eq!(
        t.r(|tx| studies::get(tx, None, s))
            .expect("get")
            .member_count,
        1
    );
    assert_eq!(
        code(&t.w(|tx| membership::leave(tx, Some(lee), s))),
        "FORBIDDEN",
        "not a member any more"
    );
    assert_eq!(
        code(&t.w(|tx| membership::leave(tx, Some(owner), s))),
        "CONFLICT"
    );
}
