//! Chat: per-study messages with a strictly increasing, gap-free sequence number,
//! idempotent sends (client ids), soft delete, read receipts, unread counts and
//! cursor pages in both directions.
//!
//! The sequence comes from `UPDATE studies SET last_seq = last_seq + 1 RETURNING`
//! inside the send transaction: the row lock orders concurrent senders and a
//! rolled-back send gives its number back, so numbers never skip or repeat.
//!
//! Beside the sequence, each study keeps a change feed: every post, deletion and
//! read receipt takes the study's next change number (`studies.last_change`, taken
//! the same way), recorded on the row it changed. [`changes`] reads the feed after
//! a change number — what a client that was away missed, deletions and receipts
//! included — and [`resume_point`] turns a subscriber's cursor into where its
//! replay starts.

pub use crate::api::chat::{
    CHANGES_PAGE_MAX, ChangesQuery, ChatQuery, PAGE_MAX, ReadPosition, SendMessage,
};
use chrono::Utc;

use super::files::{FILE_COLUMNS, file_from_row};
use super::{Caller, quiet, require_study};
use crate::error::{Error, Result};
use crate::events::{DomainEvent, Outcome};
use crate::ids::{MessageId, StudyId, UserId};
use crate::model::{ChatChange, ChatChanges, ChatMessage, ChatPage, UnreadCount};
use crate::notify;
use crate::params;
use crate::permissions::Operation;
use crate::store::{Row, Tx};
use crate::validate::{self, CHAT_MAX};

/// The study's highest sequence and change numbers.
fn heads(tx: &mut dyn Tx, study_id: StudyId) -> Result<(i64, i64)> {
    let row = tx.query_one(
        "SELECT last_seq, last_change FROM studies WHERE id = ?",
        params![study_id],
        "study",
    )?;
    Ok((row.int("last_seq")?, row.int("last_change")?))
}

/// Takes the study's next change number (a row lock orders concurrent writers;
/// a rollback gives the number back).
fn next_change(tx: &mut dyn Tx, study_id: StudyId) -> Result<i64> {
    Ok(tx
        .query_one(
            "UPDATE studies SET last_change = last_change + 1 WHERE id = ? RETURNING last_change",
            params![study_id],
            "study",
        )?
        .int("last_change")?)
}

/// Message columns, then the attachment's [`FILE_COLUMNS`], then the change
/// that posted it (`change_seq`).
fn message_select() -> String {
    format!(
        "SELECT m.id, m.study_id, m.seq, m.author_id, u.name AS author_name, m.content, m.client_id, m.deleted_at,
            m.created_at, {FILE_COLUMNS}, m.change_seq
         FROM messages m JOIN users u ON u.id = m.author_id LEFT JOIN files f ON f.id = m.file_id"
    )
}

fn message_from_row(r: &Row) -> Result<ChatMessage> {
    let is_deleted = r.opt_time("deleted_at")?.is_some();
    Ok(ChatMessage {
        id: r.parse("id")?,
        study_id: r.parse("study_id")?,
        seq: r.int("seq")?,
        author_id: r.parse("author_id")?,
        author_name: r.text("author_name")?,
        content: if is_deleted {
            String::new()
        } else {
            r.text("content")?
        },
        client_id: r.opt_text("client_id")?,
        is_deleted,
        created_at: r.time("created_at")?,
        file: if is_deleted { None } else { file_from_row(r)? },
    })
}

fn load(tx: &mut dyn Tx, study_id: StudyId, id: MessageId) -> Result<ChatMessage> {
    let sql = format!("{} WHERE m.id = ? AND m.study_id = ?", message_select());
    tx.query_one_as(&sql, params![id, study_id], "message", message_from_row)
}

/// Sends a message. Committed before anyone is told; returns it with its sequence.
pub fn send(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    input: SendMessage,
) -> Result<Outcome<ChatMessage>> {
    let access = require_study(tx, caller, study_id, Operation::SendMessage)?;
    let me = access.caller()?;
    let content = if input.file_id.is_some() && input.content.trim().is_empty() {
        String::new()
    } else {
        validate::text("content", &input.content, 1, CHAT_MAX)?
    };
    let client_id = validate::client_id(input.client_id.as_deref())?;
    if let Some(cid) = &client_id
        && let Some(row) = tx.query_opt(
            &format!(
                "{} WHERE m.study_id = ? AND m.author_id = ? AND m.client_id = ?",
                message_select()
            ),
            params![study_id, me, cid],
        )?
    {
        return quiet(message_from_row(&row)?);
    }
    if let Some(file) = input.file_id {
        super::files::load(tx, study_id, file)
            .map_err(|_| Error::validation("fileId", "is not a file of this study"))?;
    }
    let heads = tx.query_one(
        "UPDATE studies SET last_seq = last_seq + 1, last_change = last_change + 1 WHERE id = ?
         RETURNING last_seq, last_change",
        params![study_id],
        "study",
    )?;
    let (seq, change) = (heads.int("last_seq")?, heads.int("last_change")?);
    let id = MessageId::new();
    tx.execute(
        "INSERT INTO messages (id, study_id, seq, change_seq, author_id, content, file_id, client_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![id, study_id, seq, change, me, &content, input.file_id, client_id, Utc::now()],
    )?;
    // The sender has read their own message.
    tx.execute(
        "UPDATE memberships SET last_read_seq = ? WHERE study_id = ? AND user_id = ?",
        params![seq, study_id, me],
    )?;
    let mentioned = resolve_mentions(tx, study_id, &content)?;
    let message = load(tx, study_id, id)?;
    Ok(Outcome::new(
        message.clone(),
        vec![DomainEvent::MessagePosted {
            message,
            change,
            study_name: access.name,
            mentioned,
        }],
    ))
}

fn resolve_mentions(tx: &mut dyn Tx, study_id: StudyId, content: &str) -> Result<Vec<UserId>> {
    let names = notify::mentioned_names(content);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    // Names are compared in Rust: SQL's LOWER folds only ASCII in SQLite.
    let mut mentioned = Vec::new();
    for r in tx.query(
        "SELECT m.user_id, u.name FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.study_id = ? AND m.status = 'ACTIVE'",
        params![study_id],
    )? {
        if names.contains(&r.text("name")?.to_lowercase()) {
            mentioned.push(r.parse("user_id")?);
        }
    }
    Ok(mentioned)
}

/// A page of chat in ascending order. Deleted messages appear as tombstones.
pub fn list(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    query: ChatQuery,
) -> Result<ChatPage> {
    require_study(tx, caller, study_id, Operation::ListMessages)?;
    let limit = match query.limit {
        None => 50,
        Some(limit) if (1..=PAGE_MAX).contains(&limit) => limit,
        Some(_) => {
            return Err(Error::validation(
                "limit",
                format!("must be between 1 and {PAGE_MAX}"),
            ));
        }
    };
    let mut items = match (query.before, query.after) {
        (Some(_), Some(_)) => {
            return Err(Error::validation(
                "before",
                "give either before or after, not both",
            ));
        }
        (None, Some(after)) => page(tx, "m.seq > ? ORDER BY m.seq ASC", study_id, after, limit)?,
        (before, None) => {
            let mut rows = page(
                tx,
                "m.seq < ? ORDER BY m.seq DESC",
                study_id,
                before.unwrap_or(i64::MAX),
                limit,
            )?;
            rows.reverse();
            rows
        }
    };
    items.sort_by_key(|m| m.seq);
    let (has_older, has_newer) = match (items.first(), items.last()) {
        (Some(first), Some(last)) => (
            tx.exists(
                "SELECT 1 FROM messages WHERE study_id = ? AND seq < ?",
                params![study_id, first.seq],
            )?,
            tx.exists(
                "SELECT 1 FROM messages WHERE study_id = ? AND seq > ?",
                params![study_id, last.seq],
            )?,
        ),
        _ => (
            query.after.is_some()
                && tx.exists(
                    "SELECT 1 FROM messages WHERE study_id = ? AND seq <= ?",
                    params![study_id, query.after],
                )?,
            query.before.is_some()
                && tx.exists(
                    "SELECT 1 FROM messages WHERE study_id = ? AND seq >= ?",
                    params![study_id, query.before],
                )?,
        ),
    };
    let (_, last_change) = heads(tx, study_id)?;
    Ok(ChatPage {
        items,
        has_older,
        has_newer,
        last_change,
    })
}

fn page(
    tx: &mut dyn Tx,
    condition: &str,
    study_id: StudyId,
    cursor: i64,
    limit: u32,
) -> Result<Vec<ChatMessage>> {
    tx.query(
        &format!(
            "{} WHERE m.study_id = ? AND {condition} LIMIT ?",
            message_select()
        ),
        params![study_id, cursor, limit],
    )?
    .iter()
    .map(message_from_row)
    .collect()
}

/// One message; deleted messages are not found.
pub fn get(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    id: MessageId,
) -> Result<ChatMessage> {
    require_study(tx, caller, study_id, Operation::ListMessages)?;
    let message = load(tx, study_id, id)?;
    if message.is_deleted {
        return Err(Error::NotFound("message"));
    }
    Ok(message)
}

/// Soft-deletes a message (its author, the OWNER or ADMINs). It keeps its sequence
/// number as a tombstone.
pub fn delete(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    id: MessageId,
) -> Result<Outcome<()>> {
    let access = super::study_access(tx, caller, study_id)?;
    access.require(Operation::DeleteMessage, true)?;
    let message = load(tx, study_id, id)?;
    if message.is_deleted {
        return Err(Error::NotFound("message"));
    }
    access.require(Operation::DeleteMessage, caller == Some(message.author_id))?;
    let actor = access.caller()?;
    let event = mark_deleted(tx, &message, actor)?;
    Ok(Outcome::new((), vec![event]))
}

/// Marks a message deleted; shared with report processing.
pub(crate) fn mark_deleted(
    tx: &mut dyn Tx,
    message: &ChatMessage,
    actor: UserId,
) -> Result<DomainEvent> {
    let change = next_change(tx, message.study_id)?;
    let updated = tx.execute(
        "UPDATE messages SET deleted_at = ?, deleted_by = ?, deleted_change = ?
         WHERE id = ? AND deleted_at IS NULL",
        params![Utc::now(), actor, change, message.id],
    )?;
    if updated != 1 {
        return Err(Error::NotFound("message"));
    }
    Ok(DomainEvent::MessageDeleted {
        study_id: message.study_id,
        message_id: message.id,
        seq: message.seq,
        change,
        actor,
    })
}

/// Finds a message by id in any live study (for reports).
pub(crate) fn find(tx: &mut dyn Tx, id: MessageId) -> Result<ChatMessage> {
    let row = tx.query_one(
        &format!(
            "{} JOIN studies s ON s.id = m.study_id WHERE m.id = ? AND s.deleted_at IS NULL",
            message_select()
        ),
        params![id],
        "message",
    )?;
    message_from_row(&row)
}

/// Where a (re)subscribing member's replay starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumePoint {
    /// The study's highest sequence when it was read.
    pub last_seq: i64,
    /// The study's highest change number when it was read.
    pub last_change: i64,
    /// The change number the subscriber holds everything up to; `None` for a
    /// subscription without a cursor, which starts live from now.
    pub after: Option<i64>,
    /// The highest sequence posted at or before `after`, i.e. the last message
    /// the subscriber holds (0 when none, or without a cursor).
    pub after_seq: i64,
}

/// Checks the caller may read the study's chat and turns their cursor into the
/// change their replay starts after: `last_change` when given (the change feed),
/// else the change that posted message `last_seq` (clients that only track
/// sequences), else none.
pub fn resume_point(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    last_seq: Option<i64>,
    last_change: Option<i64>,
) -> Result<ResumePoint> {
    require_study(tx, caller, study_id, Operation::ListMessages)?;
    let (head_seq, head_change) = heads(tx, study_id)?;
    let after = match (last_change, last_seq) {
        (Some(change), _) => {
            if !(0..=head_change).contains(&change) {
                return Err(Error::validation(
                    "lastChange",
                    format!("must be between 0 and {head_change}"),
                ));
            }
            Some(change)
        }
        (None, Some(seq)) => {
            if !(0..=head_seq).contains(&seq) {
                return Err(Error::validation(
                    "lastSeq",
                    format!("must be between 0 and {head_seq}"),
                ));
            }
            Some(if seq == 0 {
                0
            } else {
                tx.query_one(
                    "SELECT change_seq FROM messages WHERE study_id = ? AND seq = ?",
                    params![study_id, seq],
                    "message",
                )?
                .int("change_seq")?
            })
        }
        (None, None) => None,
    };
    let after_seq = match after {
        Some(change) if change > 0 => tx
            .query_one(
                "SELECT COALESCE(MAX(seq), 0) AS through_seq FROM messages WHERE study_id = ? AND change_seq <= ?",
                params![study_id, change],
                "message",
            )?
            .int("through_seq")?,
        _ => 0,
    };
    Ok(ResumePoint {
        last_seq: head_seq,
        last_change: head_change,
        after,
        after_seq,
    })
}

/// A page of the study's change feed after `query.after`, in change order.
pub fn changes(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    query: ChangesQuery,
) -> Result<ChatChanges> {
    require_study(tx, caller, study_id, Operation::ListMessages)?;
    let limit = match query.limit {
        None => CHANGES_PAGE_MAX,
        Some(limit) if (1..=CHANGES_PAGE_MAX).contains(&limit) => limit,
        Some(_) => {
            return Err(Error::validation(
                "limit",
                format!("must be between 1 and {CHANGES_PAGE_MAX}"),
            ));
        }
    };
    changes_after(tx, study_id, query.after, limit)
}

/// The feed after `after` without a permission check: for callers that made it
/// (the gateway's replay, after [`resume_point`]).
pub fn changes_after(
    tx: &mut dyn Tx,
    study_id: StudyId,
    after: i64,
    limit: u32,
) -> Result<ChatChanges> {
    let (last_seq, last_change) = heads(tx, study_id)?;
    if !(0..=last_change).contains(&after) {
        return Err(Error::validation(
            "after",
            format!("must be between 0 and {last_change}"),
        ));
    }
    // Each kind of change is read in change order, at most `limit` of each; the
    // first `limit` of their merge are the page.
    let mut items = Vec::new();
    for r in tx.query(
        &format!(
            "{} WHERE m.study_id = ? AND m.change_seq > ? ORDER BY m.change_seq LIMIT ?",
            message_select()
        ),
        params![study_id, after, limit],
    )? {
        items.push(ChatChange::Message {
            change: r.int("change_seq")?,
            message: Box::new(message_from_row(&r)?),
        });
    }
    for r in tx.query(
        "SELECT id, seq, deleted_change FROM messages
         WHERE study_id = ? AND deleted_change > ? AND change_seq <= ?
         ORDER BY deleted_change LIMIT ?",
        params![study_id, after, after, limit],
    )? {
        items.push(ChatChange::MessageDeleted {
            message_id: r.parse("id")?,
            seq: r.int("seq")?,
            change: r.int("deleted_change")?,
        });
    }
    for r in tx.query(
        "SELECT user_id, last_read_seq, read_change FROM memberships
         WHERE study_id = ? AND read_change > ? AND status = 'ACTIVE'
         ORDER BY read_change LIMIT ?",
        params![study_id, after, limit],
    )? {
        items.push(ChatChange::ReadReceipt {
            user_id: r.parse("user_id")?,
            last_read_seq: r.int("last_read_seq")?,
            change: r.int("read_change")?,
        });
    }
    items.sort_by_key(ChatChange::change);
    let full = items.len() >= limit as usize;
    items.truncate(limit as usize);
    let reached = match items.last() {
        Some(last) if full => last.change(),
        _ => last_change,
    };
    Ok(ChatChanges {
        items,
        last_change: reached,
        last_seq,
        has_more: reached < last_change,
    })
}

/// Records that the caller has read up to `seq`. Read positions only move forward.
pub fn mark_read(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    seq: i64,
) -> Result<Outcome<i64>> {
    let access = require_study(tx, caller, study_id, Operation::MarkRead)?;
    let me = access.caller()?;
    let last = tx
        .query_one(
            "SELECT last_seq FROM studies WHERE id = ?",
            params![study_id],
            "study",
        )?
        .int("last_seq")?;
    if seq < 0 || seq > last {
        return Err(Error::validation(
            "seq",
            format!("must be between 0 and {last}"),
        ));
    }
    let current = tx
        .query_one(
            "SELECT last_read_seq FROM memberships WHERE study_id = ? AND user_id = ?",
            params![study_id, me],
            "member",
        )?
        .int("last_read_seq")?;
    if seq <= current {
        return quiet(current);
    }
    let change = next_change(tx, study_id)?;
    tx.execute(
        "UPDATE memberships SET last_read_seq = ?, read_change = ? WHERE study_id = ? AND user_id = ?",
        params![seq, change, study_id, me],
    )?;
    Ok(Outcome::new(
        seq,
        vec![DomainEvent::MessagesRead {
            study_id,
            user_id: me,
            last_read_seq: seq,
            change,
        }],
    ))
}

/// Records that the caller has read up to a given message.
pub fn mark_read_message(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    id: MessageId,
) -> Result<Outcome<i64>> {
    require_study(tx, caller, study_id, Operation::MarkRead)?;
    let seq = load(tx, study_id, id)?.seq;
    mark_read(tx, caller, study_id, seq)
}

/// Unread messages (not the caller's own, not deleted) per active study.
pub fn unread_counts(tx: &mut dyn Tx, caller: Caller) -> Result<Vec<UnreadCount>> {
    let me = super::require_account(tx, caller, Operation::ViewDashboard)?;
    unread_for(tx, me.id)
}

pub(crate) fn unread_for(tx: &mut dyn Tx, user: UserId) -> Result<Vec<UnreadCount>> {
    tx.query(
        "SELECT s.id, s.name,
            (SELECT COUNT(*) FROM messages x WHERE x.study_id = s.id AND x.seq > ms.last_read_seq
                AND x.author_id <> ? AND x.deleted_at IS NULL) AS unread
         FROM memberships ms JOIN studies s ON s.id = ms.study_id
         WHERE ms.user_id = ? AND ms.status = 'ACTIVE' AND s.deleted_at IS NULL
         ORDER BY s.name, s.id",
        params![user, user],
    )?
    .iter()
    .map(|r| {
        Ok(UnreadCount {
            study_id: r.parse("id")?,
            study_name: r.text("name")?,
            unread: r.count("unread")?,
        })
    })
    .collect()
}
