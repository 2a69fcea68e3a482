//! Membership: join (automatic or by approval, or by invite code), approve, reject,
//! role changes and ownership transfer, kick, leave.
//!
//! The state machine per (study, user): none → PENDING → ACTIVE, or none → ACTIVE;
//! PENDING → none (rejected or withdrawn); ACTIVE → none (kicked or left). Exactly one
//! ACTIVE OWNER exists per study; ownership moves only by transfer. The active member
//! count on the study is changed only here.

pub use crate::api::membership::{JoinRequest, RoleChange};
use chrono::Utc;

use super::listing::{Filter, Listing, Sql, rows};
use super::{Caller, account, require_study};
use crate::error::{Error, Reason, Result};
use crate::events::{DomainEvent, Outcome};
use crate::ids::{StudyId, UserId};
use crate::model::{JoinPolicy, Member, MemberStatus, Page, PageRequest, StudyRole};
use crate::params;
use crate::permissions::{self, ActorKind, Operation};
use crate::store::{Row, Tx, Value, read_row};
use crate::validate;

/// Where a join attempt lands: the membership status it creates.
///
/// An invite code is an invitation from the study's managers, so it skips approval
/// and the recruiting flag; capacity always applies.
pub fn join_status(
    policy: JoinPolicy,
    is_recruiting: bool,
    invited: bool,
    active: u32,
    max: u32,
) -> Result<MemberStatus> {
    if !is_recruiting && !invited {
        return Err(Error::conflict(
            Reason::NotRecruiting,
            "this study is not recruiting",
        ));
    }
    if policy == JoinPolicy::Approval && !invited {
        return Ok(MemberStatus::Pending);
    }
    ensure_capacity(active, max)?;
    Ok(MemberStatus::Active)
}

/// Refuses a new active member when the study is full.
pub fn ensure_capacity(active: u32, max: u32) -> Result<()> {
    if active >= max {
        Err(Error::conflict(
            Reason::StudyFull,
            format!("this study is full ({max} members)"),
        ))
    } else {
        Ok(())
    }
}

const MEMBER_SELECT: &str =
    "SELECT m.study_id, m.user_id, u.name, u.email, u.avatar_url, m.role, m.status,
        m.message, m.requested_at, m.joined_at, m.last_read_seq
    FROM memberships m JOIN users u ON u.id = m.user_id";

fn member_from_row(r: &Row) -> Result<Member> {
    read_row!(r => Member {
        study_id: parse, user_id: parse, name: text, email: { Some(r.text("email")?) },
        avatar_url: opt_text, role: parse, status: parse, message: opt_text, requested_at: time,
        joined_at: opt_time, last_read_seq: int,
    })
}

/// One membership row (member or request), if any.
pub(crate) fn membership(
    tx: &mut dyn Tx,
    study_id: StudyId,
    user_id: UserId,
) -> Result<Option<Member>> {
    tx.query_opt(
        &format!("{MEMBER_SELECT} WHERE m.study_id = ? AND m.user_id = ?"),
        params![study_id, user_id],
    )?
    .as_ref()
    .map(member_from_row)
    .transpose()
}

fn active_target(tx: &mut dyn Tx, study_id: StudyId, user_id: UserId) -> Result<Member> {
    membership(tx, study_id, user_id)?
        .filter(|m| m.status == MemberStatus::Active)
        .ok_or(Error::NotFound("member"))
}

fn managers(tx: &mut dyn Tx, study_id: StudyId) -> Result<Vec<UserId>> {
    tx.query(
        "SELECT user_id FROM memberships WHERE study_id = ? AND status = 'ACTIVE' AND role IN ('OWNER', 'ADMIN')",
        params![study_id],
    )?
    .iter()
    .map(|r| r.parse("user_id").map_err(Into::into))
    .collect()
}

fn change_count(tx: &mut dyn Tx, study_id: StudyId, delta: i64) -> Result<()> {
    tx.execute(
        "UPDATE studies SET member_count = member_count + ?, updated_at = ? WHERE id = ?",
        params![delta, Utc::now(), study_id],
    )?;
    Ok(())
}

/// Asks to join a study (or joins at once, by policy or invite code).
pub fn join(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    input: JoinRequest,
) -> Result<Outcome<Member>> {
    let me = account(tx, caller, Utc::now())?;
    let kind = ActorKind::classify(me.as_ref().map(|a| (a.role, a.status)), None);
    permissions::require(Operation::JoinStudy, kind, false)?;
    let me = me.ok_or(Error::Unauthorized("sign in first"))?;
    let message = validate::optional_text("message", input.message.as_deref(), 500)?;
    let row = tx.query_one(
        "SELECT name, is_public, join_policy, is_recruiting, invite_code, member_count, max_members
         FROM studies WHERE id = ? AND deleted_at IS NULL",
        params![study_id],
        "study",
    )?;
    let (name, is_public) = (row.text("name")?, row.bool("is_public")?);
    if let Some(existing) = membership(tx, study_id, me.id)? {
        return Err(match existing.status {
            MemberStatus::Pending => Error::conflict(
                Reason::RequestPending,
                "your join request is already waiting",
            ),
            MemberStatus::Active => Error::conflict(
                Reason::AlreadyMember,
                "you are already a member of this study",
            ),
        });
    }
    let offered = input
        .invite_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let invited = match offered {
        Some(code) if code.eq_ignore_ascii_case(&row.text("invite_code")?) => true,
        // A private study stays invisible to anyone without its code.
        _ if !is_public => return Err(Error::NotFound("study")),
        Some(_) => {
            return Err(Error::validation(
                "inviteCode",
                "is not valid for this study",
            ));
        }
        None => false,
    };
    let status = join_status(
        row.parse("join_policy")?,
        row.bool("is_recruiting")?,
        invited,
        row.small_count("member_count")?,
        row.small_count("max_members")?,
    )?;
    let now = Utc::now();
    let joined_at = (status == MemberStatus::Active).then_some(now);
    tx.execute(
        "INSERT INTO memberships (study_id, user_id, role, status, message, requested_at, joined_at)
         VALUES (?, ?, 'MEMBER', ?, ?, ?, ?)",
        params![study_id, me.id, status, message, now, joined_at],
    )?;
    let event = if status == MemberStatus::Active {
        change_count(tx, study_id, 1)?;
        DomainEvent::MemberJoined {
            study_id,
            study_name: name,
            user_id: me.id,
        }
    } else {
        DomainEvent::JoinRequested {
            study_id,
            study_name: name,
            user_id: me.id,
            user_name: me.name.clone(),
            managers: managers(tx, study_id)?,
        }
    };
    let member = membership(tx, study_id, me.id)?.ok_or(Error::NotFound("member"))?;
    Ok(Outcome::new(shown_to(member, kind, caller), vec![event]))
}

/// Leaves a study, or withdraws a pending request. The OWNER must transfer first.
pub fn leave(tx: &mut dyn Tx, caller: Caller, study_id: StudyId) -> Result<Outcome<()>> {
    let access = require_study(tx, caller, study_id, Operation::LeaveStudy)?;
    let me = access.caller()?;
    if access.role == Some(StudyRole::Owner) {
        return Err(Error::conflict(
            Reason::OwnerMustTransfer,
            "the owner must transfer ownership before leaving",
        ));
    }
    let was_active = access.kind != ActorKind::Pending;
    tx.execute(
        "DELETE FROM memberships WHERE study_id = ? AND user_id = ?",
        params![study_id, me],
    )?;
    if was_active {
        change_count(tx, study_id, -1)?;
    }
    Ok(Outcome::new(
        (),
        vec![DomainEvent::MemberLeft {
            study_id,
            user_id: me,
        }],
    ))
}

/// Active members, OWNER first, then ADMINs, then MEMBERs by join time.
pub fn list_members(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    page: PageRequest,
) -> Result<Page<Member>> {
    let access = require_study(tx, caller, study_id, Operation::ListMembers)?;
    let page = list_by_status(tx, study_id, MemberStatus::Active, page)?;
    Ok(shown_to_page(page, access.kind, caller))
}

/// Pending join requests, oldest first (OWNER and ADMINs).
pub fn list_join_requests(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    page: PageRequest,
) -> Result<Page<Member>> {
    let access = require_study(tx, caller, study_id, Operation::ListJoinRequests)?;
    let page = list_by_status(tx, study_id, MemberStatus::Pending, page)?;
    Ok(shown_to_page(page, access.kind, caller))
}

/// `member` as an actor of `kind` sees it: the email only where the permission
/// table's `ViewEmail` allows (the member themself, platform admins).
fn shown_to(mut member: Member, kind: ActorKind, caller: Caller) -> Member {
    if !permissions::may_see_email(kind, caller == Some(member.user_id)) {
        member.email = None;
    }
    member
}

fn shown_to_page(page: Page<Member>, kind: ActorKind, caller: Caller) -> Page<Member> {
    Page {
        items: page
            .items
            .into_iter()
            .map(|m| shown_to(m, kind, caller))
            .collect(),
        ..page
    }
}

pub(crate) fn list_by_status(
    tx: &mut dyn Tx,
    study_id: StudyId,
    status: MemberStatus,
    page: PageRequest,
) -> Result<Page<Member>> {
    Listing {
        count: Sql::new("SELECT COUNT(*) FROM memberships m", []),
        select: Sql::new(MEMBER_SELECT, []),
        order: "CASE m.role WHEN 'OWNER' THEN 0 WHEN 'ADMIN' THEN 1 ELSE 2 END, m.requested_at, m.user_id",
    }
    .page(
        tx,
        &Filter::new(
            "m.study_id = ? AND m.status = ?",
            [Value::from(study_id), Value::from(status)],
        ),
        page,
        rows(member_from_row),
    )
}

fn pending_target(tx: &mut dyn Tx, study_id: StudyId, user_id: UserId) -> Result<Member> {
    match membership(tx, study_id, user_id)? {
        Some(m) if m.status == MemberStatus::Pending => Ok(m),
        Some(_) => Err(Error::conflict(
            Reason::AlreadyApproved,
            "this user is already a member",
        )),
        None => Err(Error::NotFound("join request")),
    }
}

/// Approves a pending request (OWNER and ADMINs); refused when the study is full.
pub fn approve(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    user_id: UserId,
) -> Result<Outcome<Member>> {
    let access = require_study(tx, caller, study_id, Operation::DecideJoinRequest)?;
    pending_target(tx, study_id, user_id)?;
    let row = tx.query_one(
        "SELECT member_count, max_members FROM studies WHERE id = ?",
        params![study_id],
        "study",
    )?;
    ensure_capacity(
        row.small_count("member_count")?,
        row.small_count("max_members")?,
    )?;
    tx.execute(
        "UPDATE memberships SET status = 'ACTIVE', joined_at = ? WHERE study_id = ? AND user_id = ?",
        params![Utc::now(), study_id, user_id],
    )?;
    change_count(tx, study_id, 1)?;
    let member = shown_to(active_target(tx, study_id, user_id)?, access.kind, caller);
    let event = DomainEvent::JoinApproved {
        study_id,
        study_name: access.name.clone(),
        user_id,
        actor: access.caller()?,
    };
    Ok(Outcome::new(member, vec![event]))
}

/// Rejects a pending request (OWNER and ADMINs).
pub fn reject(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    user_id: UserId,
) -> Result<Outcome<()>> {
    let access = require_study(tx, caller, study_id, Operation::DecideJoinRequest)?;
    pending_target(tx, study_id, user_id)?;
    tx.execute(
        "DELETE FROM memberships WHERE study_id = ? AND user_id = ?",
        params![study_id, user_id],
    )?;
    let event = DomainEvent::JoinRejected {
        study_id,
        study_name: access.name.clone(),
        user_id,
        actor: access.caller()?,
    };
    Ok(Outcome::new((), vec![event]))
}

/// Changes a member's role (OWNER only). Making someone OWNER transfers ownership:
/// they become OWNER and the previous OWNER becomes ADMIN, in one step.
pub fn change_role(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    user_id: UserId,
    change: RoleChange,
) -> Result<Outcome<Member>> {
    let access = require_study(tx, caller, study_id, Operation::ChangeRole)?;
    let me = access.caller()?;
    if user_id == me {
        return Err(Error::conflict(
            Reason::NotYourself,
            "to give up ownership, make another member OWNER",
        ));
    }
    let target = active_target(tx, study_id, user_id)?;
    if target.role == change.role {
        return Err(Error::conflict(
            Reason::SameRole,
            format!("this member is already {}", change.role),
        ));
    }
    let set_role = "UPDATE memberships SET role = ? WHERE study_id = ? AND user_id = ?";
    tx.execute(set_role, params![change.role, study_id, user_id])?;
    let mut events = vec![DomainEvent::RoleChanged {
        study_id,
        study_name: access.name.clone(),
        user_id,
        role: change.role,
        actor: me,
    }];
    if change.role == StudyRole::Owner {
        tx.execute(set_role, params![StudyRole::Admin, study_id, me])?;
        tx.execute(
            "UPDATE studies SET owner_id = ?, updated_at = ? WHERE id = ?",
            params![user_id, Utc::now(), study_id],
        )?;
        events.push(DomainEvent::RoleChanged {
            study_id,
            study_name: access.name.clone(),
            user_id: me,
            role: StudyRole::Admin,
            actor: me,
        });
    }
    let member = shown_to(active_target(tx, study_id, user_id)?, access.kind, caller);
    Ok(Outcome::new(member, events))
}

/// Removes an active member: the OWNER removes anyone but themself, ADMINs remove
/// MEMBERs only.
pub fn kick(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    user_id: UserId,
) -> Result<Outcome<()>> {
    let access = require_study(tx, caller, study_id, Operation::KickMember)?;
    let me = access.caller()?;
    if user_id == me {
        return Err(Error::conflict(
            Reason::NotYourself,
            "you cannot remove yourself; leave the study instead",
        ));
    }
    let target = active_target(tx, study_id, user_id)?;
    let my_role = access.role.ok_or(Error::Forbidden("you may not do this"))?;
    if !permissions::may_kick(my_role, target.role) {
        return Err(Error::Forbidden("you may not remove this member"));
    }
    tx.execute(
        "DELETE FROM memberships WHERE study_id = ? AND user_id = ?",
        params![study_id, user_id],
    )?;
    change_count(tx, study_id, -1)?;
    let event = DomainEvent::MemberKicked {
        study_id,
        study_name: access.name.clone(),
        user_id,
        actor: me,
    };
    Ok(Outcome::new((), vec![event]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn join_status_by_policy_recruiting_invite_and_capacity() {
        use JoinPolicy::*;
        use MemberStatus::*;
        // (policy, recruiting, invited, active, max) → status, or refused.
        type Case = (JoinPolicy, bool, bool, u32, u32, Option<MemberStatus>);
        let cases: &[Case] = &[
            (Auto, true, false, 1, 10, Some(Active)),
            (Auto, true, false, 10, 10, None),
            (Approval, true, false, 10, 10, Some(Pending)),
            (Approval, true, true, 1, 10, Some(Active)),
            (Approval, false, false, 1, 10, None),
            (Auto, false, true, 1, 10, Some(Active)),
            (Auto, false, true, 10, 10, None),
        ];
        for &(policy, recruiting, invited, active, max, expected) in cases {
            let got = join_status(policy, recruiting, invited, active, max);
            match expected {
                Some(s) => assert_eq!(got.expect("joins"), s),
                None => assert_eq!(got.expect_err("refused").code(), ErrorCode::Conflict),
            }
        }
    }
}
