//! The dashboard: the caller's counters, studies, upcoming events, recent notices,
//! tasks due soon and unread chat, in one read.

use chrono::{Duration, Utc};

use super::calendar::{EVENT_SELECT, event_from_row};
use super::notices::{NOTICE_SELECT, notice_from_row};
use super::studies::{MyStudiesQuery, my_studies};
use super::tasks::{TASK_SELECT, task_from_row};
use super::{Caller, require_account};
use crate::error::Result;
use crate::model::{Dashboard, DashboardStats};
use crate::params;
use crate::permissions::Operation;
use crate::store::Tx;

/// How far ahead "upcoming" looks.
pub const UPCOMING: Duration = Duration::days(14);
/// How many items each dashboard list shows.
pub const LIST_SIZE: u32 = 5;

/// The caller's dashboard.
pub fn dashboard(tx: &mut dyn Tx, caller: Caller) -> Result<Dashboard> {
    let me = require_account(tx, caller, Operation::ViewDashboard)?.id;
    let now = Utc::now();
    let my_active = "SELECT study_id FROM memberships ms JOIN studies s ON s.id = ms.study_id
        WHERE ms.user_id = ? AND ms.status = 'ACTIVE' AND s.deleted_at IS NULL";
    let unread_by_study = super::chat::unread_for(tx, me)?;
    let stats = DashboardStats {
        study_count: tx.count(
            &format!("SELECT COUNT(*) FROM ({my_active}) x"),
            params![me],
        )?,
        owned_study_count: tx.count(
            "SELECT COUNT(*) FROM memberships ms JOIN studies s ON s.id = ms.study_id
             WHERE ms.user_id = ? AND ms.role = 'OWNER' AND s.deleted_at IS NULL",
            params![me],
        )?,
        pending_request_count: tx.count(
            "SELECT COUNT(*) FROM memberships ms JOIN studies s ON s.id = ms.study_id
             WHERE ms.user_id = ? AND ms.status = 'PENDING' AND s.deleted_at IS NULL",
            params![me],
        )?,
        open_task_count: tx.count(
            "SELECT COUNT(*) FROM tasks WHERE user_id = ? AND is_done = FALSE",
            params![me],
        )?,
        done_task_count: tx.count(
            "SELECT COUNT(*) FROM tasks WHERE user_id = ? AND is_done = TRUE",
            params![me],
        )?,
        unread_notification_count: tx.count(
            "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND is_read = FALSE",
            params![me],
        )?,
        unread_message_count: unread_by_study.iter().map(|u| u.unread).sum(),
    };
    let my_studies = my_studies(
        tx,
        caller,
        MyStudiesQuery {
            page: Some(1),
            limit: Some(LIST_SIZE),
            ..MyStudiesQuery::default()
        },
    )?
    .items;
    let upcoming_events = tx
        .query(
            &format!("{EVENT_SELECT} WHERE e.study_id IN ({my_active}) AND e.end_at >= ? AND e.start_at < ?
                      ORDER BY e.start_at, e.id LIMIT ?"),
            params![me, now, now + UPCOMING, LIST_SIZE],
        )?
        .iter()
        .map(event_from_row)
        .collect::<Result<_>>()?;
    let recent_notices = tx
        .query(
            &format!("{NOTICE_SELECT} WHERE n.study_id IN ({my_active}) ORDER BY n.created_at DESC, n.id LIMIT ?"),
            params![me, LIST_SIZE],
        )?
        .iter()
        .map(notice_from_row)
        .collect::<Result<_>>()?;
    let due_tasks = tx
        .query(
            &format!(
                "{TASK_SELECT} WHERE t.user_id = ? AND t.is_done = FALSE AND t.due_at IS NOT NULL
                      ORDER BY t.due_at, t.id LIMIT ?"
            ),
            params![me, LIST_SIZE],
        )?
        .iter()
        .map(task_from_row)
        .collect::<Result<_>>()?;
    Ok(Dashboard {
        stats,
        my_studies,
        upcoming_events,
        recent_notices,
        due_tasks,
        unread_by_study,
    })
}
