//! Reports: any signed-in user reports a user, a study or a message they can see.

pub use crate::api::reports::NewReport;
use chrono::Utc;

use super::{Caller, require_account};
use crate::error::{Error, Reason, Result};
use crate::events::{DomainEvent, Outcome};
use crate::ids::{MessageId, ReportId, StudyId, UserId};
use crate::model::{Report, ReportTarget};
use crate::params;
use crate::permissions::Operation;
use crate::store::{Row, Tx, read_row};
use crate::validate;

pub(crate) const REPORT_SELECT: &str =
    "SELECT id, reporter_id, target_type, target_id, reason, status, action, note,
        processed_by, processed_at, created_at FROM reports";

pub(crate) fn report_from_row(r: &Row) -> Result<Report> {
    read_row!(r => Report {
        id: parse, reporter_id: parse, target_type: parse, target_id: text, reason: text,
        status: parse, action: opt_parse, note: opt_text, processed_by: opt_parse,
        processed_at: opt_time, created_at: time,
    })
}

pub(crate) fn load(tx: &mut dyn Tx, id: ReportId) -> Result<Report> {
    let sql = format!("{REPORT_SELECT} WHERE id = ?");
    tx.query_one_as(&sql, params![id], "report", report_from_row)
}

fn parse_target<T: std::str::FromStr>(raw: &str) -> Result<T> {
    raw.trim()
        .parse()
        .map_err(|_| Error::validation("targetId", "is not a valid id"))
}

/// Files a report. The target must exist and be visible to the reporter; one
/// pending report per reporter and target.
pub fn create(tx: &mut dyn Tx, caller: Caller, input: NewReport) -> Result<Outcome<Report>> {
    let me = require_account(tx, caller, Operation::CreateReport)?;
    let reason = validate::text("reason", &input.reason, 1, 1000)?;
    let target_id = match input.target_type {
        ReportTarget::User => {
            let user: UserId = parse_target(&input.target_id)?;
            if user == me.id {
                return Err(Error::validation("targetId", "you cannot report yourself"));
            }
            if !tx.exists("SELECT 1 FROM users WHERE id = ?", params![user])? {
                return Err(Error::NotFound("user"));
            }
            user.to_string()
        }
        ReportTarget::Study => {
            let study: StudyId = parse_target(&input.target_id)?;
            if !super::studies::visible(tx, caller, study)? {
                return Err(Error::NotFound("study"));
            }
            study.to_string()
        }
        ReportTarget::Message => {
            let message: MessageId = parse_target(&input.target_id)?;
            let found = super::chat::find(tx, message)?;
            // Only members can see a message, so only they can report it.
            super::chat::get(tx, caller, found.study_id, message).map_err(|e| match e.code() {
                crate::ErrorCode::Forbidden => Error::NotFound("message"),
                _ => e,
            })?;
            message.to_string()
        }
    };
    if tx.exists(
        "SELECT 1 FROM reports WHERE reporter_id = ? AND target_type = ? AND target_id = ? AND status = 'PENDING'",
        params![me.id, input.target_type, &target_id],
    )? {
        return Err(Error::conflict(
            Reason::AlreadyReported,
            "you already reported this; it is waiting for review",
        ));
    }
    let id = ReportId::new();
    tx.execute(
        "INSERT INTO reports (id, reporter_id, target_type, target_id, reason, status, created_at)
         VALUES (?, ?, ?, ?, ?, 'PENDING', ?)",
        params![id, me.id, input.target_type, target_id, reason, Utc::now()],
    )?;
    let report = load(tx, id)?;
    Ok(Outcome::new(
        report.clone(),
        vec![DomainEvent::ReportCreated { report }],
    ))
}
