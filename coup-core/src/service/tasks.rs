//! Tasks: a user's own to-dos, optionally tied to a study they are an active member
//! of. Only their owner ever sees them: every query is scoped to the caller, so
//! anyone else's task id is simply not found.

pub use crate::api::tasks::{NewTask, TaskPatch, TaskQuery};
use chrono::Utc;

use super::listing::{Filter, Listing, Sql, rows};
use super::{Caller, quiet, require_account, study_access};
use crate::error::{Error, Result};
use crate::events::Outcome;
use crate::ids::{StudyId, TaskId, UserId};
use crate::model::{Page, Task};
use crate::params;
use crate::permissions::Operation;
use crate::store::{Row, Tx, Value, read_row};
use crate::validate;

pub(crate) const TASK_SELECT: &str =
    "SELECT t.id, t.user_id, t.study_id, t.title, t.description, t.due_at, t.priority,
        t.is_done, t.done_at, t.created_at, t.updated_at
    FROM tasks t";

pub(crate) fn task_from_row(r: &Row) -> Result<Task> {
    read_row!(r => Task {
        id: parse, user_id: parse, study_id: opt_parse, title: text, description: opt_text,
        due_at: opt_time, priority: parse, is_done: bool, done_at: opt_time, created_at: time,
        updated_at: time,
    })
}

fn load(tx: &mut dyn Tx, owner: UserId, id: TaskId) -> Result<Task> {
    let sql = format!("{TASK_SELECT} WHERE t.id = ? AND t.user_id = ?");
    tx.query_one_as(&sql, params![id, owner], "task", task_from_row)
}

/// A task may name only a study the caller is an active member of.
fn ensure_study(tx: &mut dyn Tx, caller: Caller, study_id: StudyId) -> Result<()> {
    if study_access(tx, caller, study_id)?.kind.is_active_member() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "you can only tie tasks to studies you are a member of",
        ))
    }
}

/// The caller's tasks: open ones first, by due date (undated last), then newest.
pub fn list(tx: &mut dyn Tx, caller: Caller, query: TaskQuery) -> Result<Page<Task>> {
    let me = require_account(tx, caller, Operation::ListTasks)?;
    let mut filter = Filter::new("t.user_id = ?", [Value::from(me.id)]);
    filter.and_some("t.study_id = ?", query.study_id);
    filter.and_some("t.is_done = ?", query.is_done);
    filter.and_some("t.priority = ?", query.priority);
    filter.and_some("t.due_at < ?", query.due_before);
    Listing {
        count: Sql::new("SELECT COUNT(*) FROM tasks t", []),
        select: Sql::new(TASK_SELECT, []),
        order: "t.is_done, CASE WHEN t.due_at IS NULL THEN 1 ELSE 0 END, t.due_at, t.created_at DESC, t.id",
    }
    .page(
        tx,
        &filter,
        query.page_request(),
        rows(task_from_row),
    )
}

/// Creates a task for the caller.
pub fn create(tx: &mut dyn Tx, caller: Caller, input: NewTask) -> Result<Outcome<Task>> {
    let me = require_account(tx, caller, Operation::CreateTask)?;
    let title = validate::text("title", &input.title, 1, 200)?;
    let description = validate::optional_text("description", input.description.as_deref(), 2000)?;
    let client_id = validate::client_id(input.client_id.as_deref())?;
    if let Some(cid) = &client_id
        && let Some(row) = tx.query_opt(
            &format!("{TASK_SELECT} WHERE t.user_id = ? AND t.client_id = ?"),
            params![me.id, cid],
        )?
    {
        return quiet(task_from_row(&row)?);
    }
    if let Some(s) = input.study_id {
        ensure_study(tx, caller, s)?;
    }
    let id = TaskId::new();
    let now = Utc::now();
    tx.execute(
        "INSERT INTO tasks (id, user_id, study_id, title, description, due_at, priority, client_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![id, me.id, input.study_id, title, description, input.due_at, input.priority, client_id, now, now],
    )?;
    quiet(load(tx, me.id, id)?)
}

/// One of the caller's tasks.
pub fn get(tx: &mut dyn Tx, caller: Caller, id: TaskId) -> Result<Task> {
    let me = require_account(tx, caller, Operation::ViewTask)?;
    load(tx, me.id, id)
}

fn write_done(tx: &mut dyn Tx, id: TaskId, done: bool) -> Result<()> {
    let now = Utc::now();
    tx.execute(
        "UPDATE tasks SET is_done = ?, done_at = ?, updated_at = ? WHERE id = ?",
        params![done, done.then_some(now), now, id],
    )?;
    Ok(())
}

/// Changes one of the caller's tasks.
pub fn update(
    tx: &mut dyn Tx,
    caller: Caller,
    id: TaskId,
    patch: TaskPatch,
) -> Result<Outcome<Task>> {
    let me = require_account(tx, caller, Operation::UpdateTask)?;
    let current = load(tx, me.id, id)?;
    super::non_empty_patch(
        patch.title.is_some()
            || patch.description.is_some()
            || patch.due_at.is_some()
            || patch.priority.is_some()
            || patch.study_id.is_some()
            || patch.is_done.is_some(),
    )?;
    let title = super::patched_text("title", patch.title.as_deref(), 1, 200, current.title)?;
    let description = super::patched_optional_text(
        "description",
        patch.description.as_deref(),
        2000,
        current.description,
    )?;
    if let Some(s) = patch.study_id {
        ensure_study(tx, caller, s)?;
    }
    tx.execute(
        "UPDATE tasks SET title = ?, description = ?, due_at = ?, priority = ?, study_id = ?, updated_at = ? WHERE id = ?",
        params![title, description, patch.due_at.or(current.due_at), patch.priority.unwrap_or(current.priority),
            patch.study_id.or(current.study_id), Utc::now(), id],
    )?;
    if let Some(done) = patch.is_done.filter(|d| *d != current.is_done) {
        write_done(tx, id, done)?;
    }
    quiet(load(tx, me.id, id)?)
}

/// Flips a task between open and done.
pub fn toggle(tx: &mut dyn Tx, caller: Caller, id: TaskId) -> Result<Outcome<Task>> {
    let me = require_account(tx, caller, Operation::UpdateTask)?;
    let current = load(tx, me.id, id)?;
    write_done(tx, id, !current.is_done)?;
    quiet(load(tx, me.id, id)?)
}

/// Deletes one of the caller's tasks.
pub fn delete(tx: &mut dyn Tx, caller: Caller, id: TaskId) -> Result<Outcome<()>> {
    let me = require_account(tx, caller, Operation::DeleteTask)?;
    if tx.execute(
        "DELETE FROM tasks WHERE id = ? AND user_id = ?",
        params![id, me.id],
    )? == 0
    {
        return Err(Error::NotFound("task"));
    }
    quiet(())
}
