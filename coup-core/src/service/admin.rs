//! Platform administration: stats, users (suspend, restore), studies (inspect,
//! delete), reports (inspect, process) and the audit log. Every change an admin
//! makes is written to the audit log in the same transaction.

pub use crate::api::admin::{
    AdminStudyQuery, DeleteReason, ProcessReport, ReportQuery, Suspension, UserQuery,
};
use chrono::{DateTime, Duration, Utc};

use super::accounts::{USER_COLUMNS, load_user, user_from_row};
use super::listing::{Filter, Listing, Sql, rows};
use super::reports::{REPORT_SELECT, load as load_report, report_from_row};
use super::{Account, Caller, require_account};
use crate::error::{Error, Reason, Result};
use crate::events::{DomainEvent, Outcome};
use crate::ids::{AuditId, MessageId, ReportId, StudyId, UserId};
use crate::model::*;
use crate::params;
use crate::permissions::{self, Operation};
use crate::store::{Row, Tx, read_row};
use crate::validate;

fn admin(tx: &mut dyn Tx, caller: Caller, op: Operation) -> Result<Account> {
    require_account(tx, caller, op)
}

fn audit(
    tx: &mut dyn Tx,
    actor: UserId,
    action: AuditAction,
    target_type: &str,
    target_id: String,
    detail: String,
) -> Result<()> {
    tx.execute(
        "INSERT INTO audit_log (id, actor_id, action, target_type, target_id, detail, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![
            AuditId::new(),
            actor,
            action,
            target_type,
            target_id,
            detail,
            Utc::now()
        ],
    )?;
    Ok(())
}

const AUDIT_SELECT: &str =
    "SELECT id, actor_id, action, target_type, target_id, detail, created_at FROM audit_log";

fn audit_from_row(r: &Row) -> Result<AuditEntry> {
    read_row!(r => AuditEntry {
        id: parse, actor_id: parse, action: parse, target_type: text, target_id: text, detail: text,
        created_at: time,
    })
}

/// Platform counters.
pub fn stats(tx: &mut dyn Tx, caller: Caller) -> Result<AdminStats> {
    admin(tx, caller, Operation::AdminStats)?;
    let week_ago = Utc::now() - Duration::days(7);
    Ok(AdminStats {
        user_count: tx.count("SELECT COUNT(*) FROM users", &[])?,
        suspended_user_count: tx
            .count("SELECT COUNT(*) FROM users WHERE status = 'SUSPENDED'", &[])?,
        new_users_last_7_days: tx.count(
            "SELECT COUNT(*) FROM users WHERE created_at >= ?",
            params![week_ago],
        )?,
        study_count: tx.count("SELECT COUNT(*) FROM studies WHERE deleted_at IS NULL", &[])?,
        deleted_study_count: tx.count(
            "SELECT COUNT(*) FROM studies WHERE deleted_at IS NOT NULL",
            &[],
        )?,
        message_count: tx.count(
            "SELECT COUNT(*) FROM messages WHERE deleted_at IS NULL",
            &[],
        )?,
        file_count: tx.count("SELECT COUNT(*) FROM files", &[])?,
        pending_report_count: tx
            .count("SELECT COUNT(*) FROM reports WHERE status = 'PENDING'", &[])?,
    })
}

/// Searches users.
pub fn list_users(tx: &mut dyn Tx, caller: Caller, query: UserQuery) -> Result<Page<User>> {
    admin(tx, caller, Operation::AdminListUsers)?;
    let mut filter = Filter::all();
    if let Some(k) = query
        .keyword
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        filter.and_contains(&["u.name", "u.email"], k);
    }
    filter.and_some("u.status = ?", query.status);
    filter.and_some("u.role = ?", query.role);
    Listing {
        count: Sql::new("SELECT COUNT(*) FROM users u", []),
        select: Sql::new(format!("SELECT {USER_COLUMNS} FROM users u"), []),
        order: "u.created_at DESC, u.id",
    }
    .page(tx, &filter, query.page_request(), rows(user_from_row))
}

/// One user with their activity and the audit entries about them.
pub fn user_detail(tx: &mut dyn Tx, caller: Caller, id: UserId) -> Result<AdminUserDetail> {
    admin(tx, caller, Operation::AdminViewUser)?;
    let user = load_user(tx, id)?;
    let audit = tx
        .query(
            &format!("{AUDIT_SELECT} WHERE target_type = 'USER' AND target_id = ? ORDER BY created_at DESC, id LIMIT 50"),
            params![id],
        )?
        .iter()
        .map(audit_from_row)
        .collect::<Result<_>>()?;
    Ok(AdminUserDetail {
        user,
        study_count: tx.count(
            "SELECT COUNT(*) FROM memberships WHERE user_id = ? AND status = 'ACTIVE'",
            params![id],
        )?,
        message_count: tx.count(
            "SELECT COUNT(*) FROM messages WHERE author_id = ?",
            params![id],
        )?,
        reports_against: tx.count(
            "SELECT COUNT(*) FROM reports WHERE target_type = 'USER' AND target_id = ?",
            params![id],
        )?,
        audit,
    })
}

/// Suspends an account: it cannot sign in and all its sessions end now.
pub fn suspend(
    tx: &mut dyn Tx,
    caller: Caller,
    id: UserId,
    input: Suspension,
) -> Result<Outcome<User>> {
    let me = admin(tx, caller, Operation::AdminSuspendUser)?;
    let reason = validate::text("reason", &input.reason, 1, 500)?;
    if input.until.is_some_and(|u| u <= Utc::now()) {
        return Err(Error::validation("until", "must be in the future"));
    }
    let events = suspend_user(tx, &me, id, &reason, input.until)?;
    Ok(Outcome::new(load_user(tx, id)?, events))
}

fn suspend_user(
    tx: &mut dyn Tx,
    me: &Account,
    id: UserId,
    reason: &str,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<DomainEvent>> {
    if id == me.id {
        return Err(Error::conflict(
            Reason::NotYourself,
            "you cannot suspend yourself",
        ));
    }
    let target = load_user(tx, id)?;
    if !permissions::may_suspend(me.role, target.role) {
        return Err(Error::Forbidden("you may not suspend this account"));
    }
    tx.execute(
        "UPDATE users SET status = 'SUSPENDED', suspended_reason = ?, suspended_until = ?, updated_at = ? WHERE id = ?",
        params![reason, until, Utc::now(), id],
    )?;
    tx.execute("DELETE FROM sessions WHERE user_id = ?", params![id])?;
    let detail = match until {
        Some(u) => format!("{reason} (until {})", u.to_rfc3339()),
        None => reason.to_owned(),
    };
    audit(
        tx,
        me.id,
        AuditAction::SuspendUser,
        "USER",
        id.to_string(),
        detail,
    )?;
    Ok(vec![DomainEvent::UserSuspended {
        user_id: id,
        actor: me.id,
    }])
}

/// Lifts a suspension.
pub fn restore(tx: &mut dyn Tx, caller: Caller, id: UserId) -> Result<Outcome<User>> {
    let me = admin(tx, caller, Operation::AdminRestoreUser)?;
    let target = load_user(tx, id)?;
    if !permissions::may_suspend(me.role, target.role) {
        return Err(Error::Forbidden("you may not restore this account"));
    }
    if target.status != UserStatus::Suspended {
        return Err(Error::conflict(
            Reason::NotSuspended,
            "this account is not suspended",
        ));
    }
    tx.execute(
        "UPDATE users SET status = 'ACTIVE', suspended_reason = NULL, suspended_until = NULL, updated_at = ? WHERE id = ?",
        params![Utc::now(), id],
    )?;
    audit(
        tx,
        me.id,
        AuditAction::RestoreUser,
        "USER",
        id.to_string(),
        String::new(),
    )?;
    Ok(Outcome::new(
        load_user(tx, id)?,
        vec![DomainEvent::UserRestored {
            user_id: id,
            actor: me.id,
        }],
    ))
}

/// Searches all studies, private and (when asked) deleted ones included.
pub fn list_studies(
    tx: &mut dyn Tx,
    caller: Caller,
    query: AdminStudyQuery,
) -> Result<Page<Study>> {
    let me = admin(tx, caller, Operation::AdminListStudies)?;
    let mut filter = if query.include_deleted {
        Filter::all()
    } else {
        Filter::new("s.deleted_at IS NULL", [])
    };
    if let Some(k) = query
        .keyword
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        filter.and_contains(&["s.name"], k);
    }
    Listing {
        count: Sql::new("SELECT COUNT(*) FROM studies s", []),
        select: super::studies::study_select(Some(me.id)),
        order: "s.created_at DESC, s.id",
    }
    .page(
        tx,
        &filter,
        query.page_request(),
        super::studies::load_studies,
    )
}

/// One study with its members and activity, deleted or not.
pub fn study_detail(tx: &mut dyn Tx, caller: Caller, id: StudyId) -> Result<AdminStudyDetail> {
    let me = admin(tx, caller, Operation::AdminViewStudy)?;
    let study = super::studies::load_study(tx, Some(me.id), id)?;
    let deleted_at = tx
        .query_one(
            "SELECT deleted_at FROM studies WHERE id = ?",
            params![id],
            "study",
        )?
        .opt_time("deleted_at")?;
    let members = super::membership::list_by_status(
        tx,
        id,
        MemberStatus::Active,
        PageRequest::new(1, PageRequest::MAX_LIMIT),
    )?
    .items;
    Ok(AdminStudyDetail {
        study,
        deleted_at,
        members,
        message_count: tx.count(
            "SELECT COUNT(*) FROM messages WHERE study_id = ?",
            params![id],
        )?,
        file_count: tx.count("SELECT COUNT(*) FROM files WHERE study_id = ?", params![id])?,
    })
}

/// Deletes a study on the platform's behalf.
pub fn delete_study(
    tx: &mut dyn Tx,
    caller: Caller,
    id: StudyId,
    reason: Option<String>,
) -> Result<Outcome<()>> {
    let me = admin(tx, caller, Operation::AdminDeleteStudy)?;
    let name = tx
        .query_one(
            "SELECT name FROM studies WHERE id = ?",
            params![id],
            "study",
        )?
        .text("name")?;
    let event = super::studies::mark_deleted(tx, id, me.id, &name)?;
    let detail = validate::optional_text("reason", reason.as_deref(), 500)?.unwrap_or_default();
    audit(
        tx,
        me.id,
        AuditAction::DeleteStudy,
        "STUDY",
        id.to_string(),
        detail,
    )?;
    Ok(Outcome::new((), vec![event]))
}

/// Reports, oldest pending first by default.
pub fn list_reports(tx: &mut dyn Tx, caller: Caller, query: ReportQuery) -> Result<Page<Report>> {
    admin(tx, caller, Operation::AdminListReports)?;
    let mut filter = Filter::all();
    filter.and_some("status = ?", query.status);
    filter.and_some("target_type = ?", query.target_type);
    Listing {
        count: Sql::new("SELECT COUNT(*) FROM reports", []),
        select: Sql::new(REPORT_SELECT, []),
        order: "CASE status WHEN 'PENDING' THEN 0 ELSE 1 END, created_at, id",
    }
    .page(tx, &filter, query.page_request(), rows(report_from_row))
}

/// One report.
pub fn report_detail(tx: &mut dyn Tx, caller: Caller, id: ReportId) -> Result<Report> {
    admin(tx, caller, Operation::AdminViewReport)?;
    load_report(tx, id)
}

/// Processes a pending report: dismiss it, warn the responsible user, suspend them,
/// or delete the reported content. The reporter is told the outcome.
pub fn process_report(
    tx: &mut dyn Tx,
    caller: Caller,
    id: ReportId,
    input: ProcessReport,
) -> Result<Outcome<Report>> {
    let me = admin(tx, caller, Operation::AdminProcessReport)?;
    let note = validate::optional_text("note", input.note.as_deref(), 1000)?;
    let report = load_report(tx, id)?;
    if report.status != ReportStatus::Pending {
        return Err(Error::conflict(
            Reason::ReportProcessed,
            "this report was already processed",
        ));
    }
    let mut events = Vec::new();
    let bad_target = || Error::Internal("report has an unreadable target id".into());
    match input.action {
        ReportAction::Dismiss => {}
        ReportAction::Warn | ReportAction::SuspendUser => {
            let user = responsible_user(tx, &report)?;
            let reason = note.clone().unwrap_or_else(|| report.reason.clone());
            if input.action == ReportAction::Warn {
                events.push(DomainEvent::UserWarned {
                    user_id: user,
                    reason,
                    actor: me.id,
                });
            } else {
                events.extend(suspend_user(tx, &me, user, &reason, None)?);
            }
        }
        ReportAction::DeleteContent => match report.target_type {
            ReportTarget::User => {
                return Err(Error::validation(
                    "action",
                    "a user report has no content to delete; warn or suspend instead",
                ));
            }
            ReportTarget::Study => {
                let study: StudyId = report.target_id.parse().map_err(|_| bad_target())?;
                let name = tx
                    .query_one(
                        "SELECT name FROM studies WHERE id = ?",
                        params![study],
                        "study",
                    )?
                    .text("name")?;
                events.push(super::studies::mark_deleted(tx, study, me.id, &name)?);
                audit(
                    tx,
                    me.id,
                    AuditAction::DeleteStudy,
                    "STUDY",
                    study.to_string(),
                    format!("report {id}"),
                )?;
            }
            ReportTarget::Message => {
                let message: MessageId = report.target_id.parse().map_err(|_| bad_target())?;
                let found = super::chat::find(tx, message)?;
                if !found.is_deleted {
                    events.push(super::chat::mark_deleted(tx, &found, me.id)?);
                }
                audit(
                    tx,
                    me.id,
                    AuditAction::DeleteMessage,
                    "MESSAGE",
                    message.to_string(),
                    format!("report {id}"),
                )?;
            }
        },
    }
    tx.execute(
        "UPDATE reports SET status = 'PROCESSED', action = ?, note = ?, processed_by = ?, processed_at = ? WHERE id = ?",
        params![input.action, note, me.id, Utc::now(), id],
    )?;
    audit(
        tx,
        me.id,
        AuditAction::ProcessReport,
        "REPORT",
        id.to_string(),
        input.action.as_str().to_owned(),
    )?;
    let report = load_report(tx, id)?;
    events.push(DomainEvent::ReportProcessed {
        report: report.clone(),
        actor: me.id,
    });
    Ok(Outcome::new(report, events))
}

/// The user answerable for a report's target: the user, the study's owner, or the
/// message's author.
fn responsible_user(tx: &mut dyn Tx, report: &Report) -> Result<UserId> {
    let bad_target = || Error::Internal("report has an unreadable target id".into());
    match report.target_type {
        ReportTarget::User => report.target_id.parse().map_err(|_| bad_target()),
        ReportTarget::Study => {
            let study: StudyId = report.target_id.parse().map_err(|_| bad_target())?;
            Ok(tx
                .query_one(
                    "SELECT owner_id FROM studies WHERE id = ?",
                    params![study],
                    "study",
                )?
                .parse("owner_id")?)
        }
        ReportTarget::Message => {
            let message: MessageId = report.target_id.parse().map_err(|_| bad_target())?;
            Ok(tx
                .query_one(
                    "SELECT author_id FROM messages WHERE id = ?",
                    params![message],
                    "message",
                )?
                .parse("author_id")?)
        }
    }
}

/// The audit log, newest first.
pub fn audit_log(tx: &mut dyn Tx, caller: Caller, page: PageRequest) -> Result<Page<AuditEntry>> {
    admin(tx, caller, Operation::AdminAuditLog)?;
    Listing {
        count: Sql::new("SELECT COUNT(*) FROM audit_log", []),
        select: Sql::new(AUDIT_SELECT, []),
        order: "created_at DESC, id",
    }
    .page(tx, &Filter::all(), page, rows(audit_from_row))
}
