//! Notifications: written by [`persist`] from the notification rules, read and
//! marked read by their recipient only.

pub use crate::api::notifications::{MarkedRead, NotificationPage, NotificationQuery};
use chrono::Utc;

use super::listing::{Filter, Listing, Sql, rows};
use super::{Caller, quiet, require_account};
use crate::error::{Error, Result};
use crate::events::{DomainEvent, Outcome};
use crate::ids::NotificationId;
use crate::model::Notification;
use crate::notify::{self, NewNotification};
use crate::params;
use crate::permissions::Operation;
use crate::store::{Row, Tx, Value, read_row};

const NOTIFICATION_SELECT: &str = "SELECT id, user_id, kind, title, body, study_id, ref_id, is_read, created_at FROM notifications";

fn notification_from_row(r: &Row) -> Result<Notification> {
    read_row!(r => Notification {
        id: parse, user_id: parse, kind: parse, title: text, body: text, study_id: opt_parse,
        ref_id: opt_text, is_read: bool, created_at: time,
    })
}

/// Applies the notification rules to `events`, writes the notifications and appends
/// a [`DomainEvent::NotificationCreated`] for each, so they can be pushed live.
pub fn persist(tx: &mut dyn Tx, events: &mut Vec<DomainEvent>) -> Result<()> {
    let planned: Vec<NewNotification> = events.iter().flat_map(notify::notifications_for).collect();
    let now = Utc::now();
    for n in planned {
        let id = NotificationId::new();
        tx.execute(
            "INSERT INTO notifications (id, user_id, kind, title, body, study_id, ref_id, is_read, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, FALSE, ?)",
            params![id, n.user_id, n.kind, n.title, n.body, n.study_id, n.ref_id, now],
        )?;
        let row = tx.query_one(
            &format!("{NOTIFICATION_SELECT} WHERE id = ?"),
            params![id],
            "notification",
        )?;
        events.push(DomainEvent::NotificationCreated {
            notification: notification_from_row(&row)?,
        });
    }
    Ok(())
}

/// The caller's notifications, newest first.
pub fn list(tx: &mut dyn Tx, caller: Caller, query: NotificationQuery) -> Result<NotificationPage> {
    let me = require_account(tx, caller, Operation::ListNotifications)?;
    let mut filter = Filter::new("user_id = ?", [Value::from(me.id)]);
    if query.unread_only {
        filter.and("is_read = FALSE", []);
    }
    let unread_count = tx.count(
        "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND is_read = FALSE",
        params![me.id],
    )?;
    let page = Listing {
        count: Sql::new("SELECT COUNT(*) FROM notifications", []),
        select: Sql::new(NOTIFICATION_SELECT, []),
        order: "created_at DESC, id",
    }
    .page(
        tx,
        &filter,
        query.page_request(),
        rows(notification_from_row),
    )?;
    Ok(NotificationPage {
        items: page.items,
        total: page.total,
        page: page.page,
        limit: page.limit,
        unread_count,
    })
}

/// Marks one of the caller's notifications read.
pub fn mark_read(
    tx: &mut dyn Tx,
    caller: Caller,
    id: NotificationId,
) -> Result<Outcome<Notification>> {
    let me = require_account(tx, caller, Operation::ReadNotification)?;
    if tx.execute(
        "UPDATE notifications SET is_read = TRUE WHERE id = ? AND user_id = ?",
        params![id, me.id],
    )? == 0
    {
        return Err(Error::NotFound("notification"));
    }
    let sql = format!("{NOTIFICATION_SELECT} WHERE id = ?");
    quiet(tx.query_one_as(&sql, params![id], "notification", notification_from_row)?)
}

/// Marks all the caller's notifications read; returns how many changed.
pub fn mark_all_read(tx: &mut dyn Tx, caller: Caller) -> Result<Outcome<u64>> {
    let me = require_account(tx, caller, Operation::ReadNotification)?;
    let changed = tx.execute(
        "UPDATE notifications SET is_read = TRUE WHERE user_id = ? AND is_read = FALSE",
        params![me.id],
    )?;
    quiet(changed)
}
