//! Notices: announcements that a study's OWNER and ADMINs write and pin, and its
//! members read (each read counts a view). Pinned notices list first.

pub use crate::api::notices::{NewNotice, NoticePatch, Pin};
use chrono::Utc;

use super::listing::{Filter, Listing, Sql, rows};
use super::{Caller, announce, require_study};
use crate::error::{Error, Result};
use crate::events::{DomainEvent, Outcome};
use crate::ids::{NoticeId, StudyId};
use crate::model::{Notice, Page, PageRequest};
use crate::params;
use crate::permissions::Operation;
use crate::store::{Row, Tx, Value, read_row};
use crate::validate;

pub(crate) const NOTICE_SELECT: &str =
    "SELECT n.id, n.study_id, n.author_id, u.name AS author_name, n.title, n.content, n.is_pinned,
        n.view_count, n.created_at, n.updated_at
    FROM notices n JOIN users u ON u.id = n.author_id";

pub(crate) fn notice_from_row(r: &Row) -> Result<Notice> {
    read_row!(r => Notice {
        id: parse, study_id: parse, author_id: parse, author_name: text, title: text, content: text,
        is_pinned: bool, view_count: count, created_at: time, updated_at: time,
    })
}

fn load(tx: &mut dyn Tx, study_id: StudyId, id: NoticeId) -> Result<Notice> {
    let sql = format!("{NOTICE_SELECT} WHERE n.id = ? AND n.study_id = ?");
    tx.query_one_as(&sql, params![id, study_id], "notice", notice_from_row)
}

/// A study's notices, pinned first, newest first.
pub fn list(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    page: PageRequest,
) -> Result<Page<Notice>> {
    require_study(tx, caller, study_id, Operation::ListNotices)?;
    Listing {
        count: Sql::new("SELECT COUNT(*) FROM notices n", []),
        select: Sql::new(NOTICE_SELECT, []),
        order: "n.is_pinned DESC, n.created_at DESC, n.id",
    }
    .page(
        tx,
        &Filter::new("n.study_id = ?", [Value::from(study_id)]),
        page,
        rows(notice_from_row),
    )
}

/// Reads a notice and counts the view.
pub fn view(tx: &mut dyn Tx, caller: Caller, study_id: StudyId, id: NoticeId) -> Result<Notice> {
    require_study(tx, caller, study_id, Operation::ViewNotice)?;
    let changed = tx.execute(
        "UPDATE notices SET view_count = view_count + 1 WHERE id = ? AND study_id = ?",
        params![id, study_id],
    )?;
    if changed == 0 {
        return Err(Error::NotFound("notice"));
    }
    load(tx, study_id, id)
}

/// Posts a notice; every other member is notified.
pub fn create(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    input: NewNotice,
) -> Result<Outcome<Notice>> {
    let access = require_study(tx, caller, study_id, Operation::CreateNotice)?;
    let title = validate::text("title", &input.title, 1, 100)?;
    let content = validate::text("content", &input.content, 1, 10_000)?;
    let id = NoticeId::new();
    let now = Utc::now();
    tx.execute(
        "INSERT INTO notices (id, study_id, author_id, title, content, is_pinned, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![id, study_id, access.caller()?, title, content, input.is_pinned, now, now],
    )?;
    let notice = load(tx, study_id, id)?;
    announce(tx, study_id, notice, |notice, members| {
        DomainEvent::NoticeCreated {
            notice,
            study_name: access.name,
            members,
        }
    })
}

/// Edits a notice.
pub fn update(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    id: NoticeId,
    patch: NoticePatch,
) -> Result<Outcome<Notice>> {
    require_study(tx, caller, study_id, Operation::UpdateNotice)?;
    super::non_empty_patch(
        patch.title.is_some() || patch.content.is_some() || patch.is_pinned.is_some(),
    )?;
    let current = load(tx, study_id, id)?;
    let title = super::patched_text("title", patch.title.as_deref(), 1, 100, current.title)?;
    let content = super::patched_text(
        "content",
        patch.content.as_deref(),
        1,
        10_000,
        current.content,
    )?;
    tx.execute(
        "UPDATE notices SET title = ?, content = ?, is_pinned = ?, updated_at = ? WHERE id = ?",
        params![
            title,
            content,
            patch.is_pinned.unwrap_or(current.is_pinned),
            Utc::now(),
            id
        ],
    )?;
    let notice = load(tx, study_id, id)?;
    Ok(Outcome::new(
        notice.clone(),
        vec![DomainEvent::NoticeUpdated { notice }],
    ))
}

/// Pins or unpins a notice.
pub fn pin(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    id: NoticeId,
    pin: Pin,
) -> Result<Outcome<Notice>> {
    require_study(tx, caller, study_id, Operation::PinNotice)?;
    let current = load(tx, study_id, id)?;
    let pinned = pin.is_pinned.unwrap_or(!current.is_pinned);
    tx.execute(
        "UPDATE notices SET is_pinned = ?, updated_at = ? WHERE id = ?",
        params![pinned, Utc::now(), id],
    )?;
    let notice = load(tx, study_id, id)?;
    Ok(Outcome::new(
        notice.clone(),
        vec![DomainEvent::NoticeUpdated { notice }],
    ))
}

/// Deletes a notice.
pub fn delete(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    id: NoticeId,
) -> Result<Outcome<()>> {
    require_study(tx, caller, study_id, Operation::DeleteNotice)?;
    if tx.execute(
        "DELETE FROM notices WHERE id = ? AND study_id = ?",
        params![id, study_id],
    )? == 0
    {
        return Err(Error::NotFound("notice"));
    }
    Ok(Outcome::new(
        (),
        vec![DomainEvent::NoticeDeleted {
            study_id,
            notice_id: id,
        }],
    ))
}
