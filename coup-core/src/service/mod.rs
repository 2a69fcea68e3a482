//! The service layer: one function per operation.
//!
//! Each operation takes the open transaction, the caller (`None` when anonymous) and
//! its input; it validates the input, classifies the caller and asks
//! [`crate::permissions`] before it reads or writes anything else, writes through the
//! portable SQL of this layer, and returns an [`Outcome`] with the domain events it
//! caused. [`crate::Core`] runs operations in transactions and turns their events
//! into notifications in the same transaction.
//!
//! Module per area: `accounts` (signup, sessions, profile), `studies`, `membership`,
//! `notices`, `calendar`, `tasks`, `chat`, `files`, `notifications`, `reports`,
//! `admin`, `dashboard`.

pub mod accounts;
pub mod admin;
pub mod calendar;
pub mod chat;
pub mod dashboard;
pub mod files;
mod listing;
pub mod membership;
pub mod notices;
pub mod notifications;
pub mod reports;
pub mod studies;
pub mod tasks;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::events::{DomainEvent, Outcome};
use crate::ids::{StudyId, UserId};
use crate::model::{MemberStatus, PlatformRole, StudyRole, UserStatus};
use crate::params;
use crate::permissions::{self, ActorKind, Operation};
use crate::store::Tx;
use crate::validate;

/// Who is calling: a signed-in user, or `None` for anonymous.
pub type Caller = Option<UserId>;

/// The caller's account as the permission rules need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// The user.
    pub id: UserId,
    /// Display name.
    pub name: String,
    /// Platform role.
    pub role: PlatformRole,
    /// Effective status: a suspension whose end has passed counts as active.
    pub status: UserStatus,
}

/// Loads the caller's account; a caller whose account is gone is treated as
/// unauthenticated.
pub(crate) fn account(
    tx: &mut dyn Tx,
    caller: Caller,
    now: DateTime<Utc>,
) -> Result<Option<Account>> {
    let Some(id) = caller else { return Ok(None) };
    let Some(row) = tx.query_opt(
        "SELECT name, role, status, suspended_until FROM users WHERE id = ?",
        params![id],
    )?
    else {
        return Err(Error::Unauthorized(
            "the session's account no longer exists",
        ));
    };
    let mut status: UserStatus = row.parse("status")?;
    if status == UserStatus::Suspended
        && row
            .opt_time("suspended_until")?
            .is_some_and(|until| until <= now)
    {
        status = UserStatus::Active;
    }
    Ok(Some(Account {
        id,
        name: row.text("name")?,
        role: row.parse("role")?,
        status,
    }))
}

/// Checks an operation that concerns no particular study (or creates one).
/// Operations on one's own things (tasks, notifications) scope their queries to the
/// caller, so ownership is enforced there and a stranger's id is simply not found.
pub(crate) fn require_account(tx: &mut dyn Tx, caller: Caller, op: Operation) -> Result<Account> {
    let account = account(tx, caller, Utc::now())?;
    let kind = ActorKind::classify(account.as_ref().map(|a| (a.role, a.status)), None);
    permissions::require(op, kind, true)?;
    account.ok_or(Error::Unauthorized("sign in first"))
}

/// The facts about a live (not deleted) study that permission checks need.
#[derive(Debug, Clone)]
pub(crate) struct StudyAccess {
    pub name: String,
    pub kind: ActorKind,
    pub account: Option<Account>,
    pub role: Option<StudyRole>,
}

impl StudyAccess {
    /// The caller's id; operations that pass a permission check other than for
    /// anonymous callers always have one.
    pub fn caller(&self) -> Result<UserId> {
        self.account
            .as_ref()
            .map(|a| a.id)
            .ok_or(Error::Unauthorized("sign in first"))
    }

    /// Checks `op`; `is_author` matters for operations allowed on one's own things.
    pub fn require(&self, op: Operation, is_author: bool) -> Result<()> {
        permissions::require(op, self.kind, is_author)
    }
}

/// Loads a study for an operation by `caller`. Deleted studies are not found; private
/// studies are not found by anyone but their members (and pending requesters), so
/// nobody learns that they exist.
pub(crate) fn study_access(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
) -> Result<StudyAccess> {
    let account = account(tx, caller, Utc::now())?;
    let row = tx.query_one(
        "SELECT s.name, s.is_public, m.role, m.status
         FROM studies s LEFT JOIN memberships m ON m.study_id = s.id AND m.user_id = ?
         WHERE s.id = ? AND s.deleted_at IS NULL",
        params![caller, study_id],
        "study",
    )?;
    let membership: Option<(StudyRole, MemberStatus)> = match row.opt_parse::<StudyRole>("role")? {
        Some(role) => Some((role, row.parse("status")?)),
        None => None,
    };
    let kind = ActorKind::classify(account.as_ref().map(|a| (a.role, a.status)), membership);
    if !row.bool("is_public")? && membership.is_none() {
        return Err(Error::NotFound("study"));
    }
    Ok(StudyAccess {
        name: row.text("name")?,
        kind,
        account,
        role: membership
            .and_then(|(role, status)| (status == MemberStatus::Active).then_some(role)),
    })
}

/// Checks `op` on a study and returns what is known about it.
pub(crate) fn require_study(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    op: Operation,
) -> Result<StudyAccess> {
    let access = study_access(tx, caller, study_id)?;
    access.require(op, false)?;
    Ok(access)
}

/// A study's new `item` as an outcome: the item, and the event (`event` builds it
/// from the item and the study's active members) that tells those members of it.
pub(crate) fn announce<T: Clone>(
    tx: &mut dyn Tx,
    study_id: StudyId,
    item: T,
    event: impl FnOnce(T, Vec<UserId>) -> DomainEvent,
) -> Result<Outcome<T>> {
    let members = active_member_ids(tx, study_id)?;
    Ok(Outcome::new(item.clone(), vec![event(item, members)]))
}

/// Active members of a study (the audience of study-wide notifications).
pub(crate) fn active_member_ids(tx: &mut dyn Tx, study_id: StudyId) -> Result<Vec<UserId>> {
    tx.query(
        "SELECT user_id FROM memberships WHERE study_id = ? AND status = 'ACTIVE' ORDER BY requested_at",
        params![study_id],
    )?
    .iter()
    .map(|r| r.parse("user_id").map_err(Into::into))
    .collect()
}

/// Builds `?, ?, ?` for an `IN (...)` list of `n` values.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// A mutation result without events.
pub(crate) fn quiet<T>(value: T) -> Result<Outcome<T>> {
    Ok(Outcome::quiet(value))
}

/// A patched text field: the patch's value, checked as a new one would be
/// ([`validate::text`]), or the current value when the patch leaves it out.
pub(crate) fn patched_text(
    field: &'static str,
    patch: Option<&str>,
    min: usize,
    max: usize,
    current: String,
) -> Result<String> {
    patch.map_or(Ok(current), |v| validate::text(field, v, min, max))
}

/// A patched optional text field: the patch's value ([`validate::optional_text`],
/// so a blank one clears it), or the current value when the patch leaves it out.
pub(crate) fn patched_optional_text(
    field: &'static str,
    patch: Option<&str>,
    max: usize,
    current: Option<String>,
) -> Result<Option<String>> {
    match patch {
        Some(v) => validate::optional_text(field, Some(v), max),
        None => Ok(current),
    }
}

/// Refuses a patch with nothing in it.
pub(crate) fn non_empty_patch(any: bool) -> Result<()> {
    if any {
        Ok(())
    } else {
        Err(Error::validation("body", "nothing to change"))
    }
}
