//! Calendar: a study's events. Active members create them; the creator, the OWNER
//! and ADMINs change or delete them.

pub use crate::api::calendar::{EventPatch, NewEvent, Range};
use chrono::{DateTime, Duration, Utc};

use super::{Caller, announce, require_study};
use crate::error::{Error, Result};
use crate::events::{DomainEvent, Outcome};
use crate::ids::{EventId, StudyId};
use crate::model::CalendarEvent;
use crate::params;
use crate::permissions::Operation;
use crate::store::{Row, Tx, read_row};
use crate::validate;

/// The longest range one listing may span.
pub const MAX_RANGE: Duration = Duration::days(366);

pub(crate) const EVENT_SELECT: &str =
    "SELECT e.id, e.study_id, e.creator_id, e.title, e.description, e.start_at,
        e.end_at, e.all_day, e.location, e.created_at, e.updated_at
    FROM calendar_events e";

pub(crate) fn event_from_row(r: &Row) -> Result<CalendarEvent> {
    read_row!(r => CalendarEvent {
        id: parse, study_id: parse, creator_id: parse, title: text, description: opt_text,
        start_at: time, end_at: time, all_day: bool, location: opt_text, created_at: time,
        updated_at: time,
    })
}

fn ensure_order(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<()> {
    if end < start {
        return Err(Error::validation("endAt", "must not be before startAt"));
    }
    Ok(())
}

fn load(tx: &mut dyn Tx, study_id: StudyId, id: EventId) -> Result<CalendarEvent> {
    let sql = format!("{EVENT_SELECT} WHERE e.id = ? AND e.study_id = ?");
    tx.query_one_as(&sql, params![id, study_id], "event", event_from_row)
}

/// Events overlapping a range, by start time.
pub fn list(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    range: Range,
) -> Result<Vec<CalendarEvent>> {
    require_study(tx, caller, study_id, Operation::ListEvents)?;
    if range.to <= range.from {
        return Err(Error::validation("to", "must be after from"));
    }
    if range.to - range.from > MAX_RANGE {
        return Err(Error::validation(
            "to",
            "the range may span at most 366 days",
        ));
    }
    tx.query(
        &format!("{EVENT_SELECT} WHERE e.study_id = ? AND e.start_at < ? AND e.end_at >= ? ORDER BY e.start_at, e.id"),
        params![study_id, range.to, range.from],
    )?
    .iter()
    .map(event_from_row)
    .collect()
}

/// Creates an event; the other members are notified.
pub fn create(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    input: NewEvent,
) -> Result<Outcome<CalendarEvent>> {
    let access = require_study(tx, caller, study_id, Operation::CreateEvent)?;
    let title = validate::text("title", &input.title, 1, 100)?;
    let description = validate::optional_text("description", input.description.as_deref(), 2000)?;
    let location = validate::optional_text("location", input.location.as_deref(), 200)?;
    ensure_order(input.start_at, input.end_at)?;
    let id = EventId::new();
    let now = Utc::now();
    tx.execute(
        "INSERT INTO calendar_events (id, study_id, creator_id, title, description, start_at, end_at, all_day,
            location, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![id, study_id, access.caller()?, title, description, input.start_at, input.end_at, input.all_day,
            location, now, now],
    )?;
    let event = load(tx, study_id, id)?;
    announce(tx, study_id, event, |event, members| {
        DomainEvent::EventCreated {
            event,
            study_name: access.name,
            members,
        }
    })
}

/// Changes an event (its creator, the OWNER or ADMINs).
pub fn update(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    id: EventId,
    patch: EventPatch,
) -> Result<Outcome<CalendarEvent>> {
    let access = super::study_access(tx, caller, study_id)?;
    // Refuse outsiders before revealing whether the event exists.
    access.require(Operation::UpdateEvent, true)?;
    let current = load(tx, study_id, id)?;
    access.require(Operation::UpdateEvent, caller == Some(current.creator_id))?;
    super::non_empty_patch(
        patch.title.is_some()
            || patch.description.is_some()
            || patch.start_at.is_some()
            || patch.end_at.is_some()
            || patch.all_day.is_some()
            || patch.location.is_some(),
    )?;
    let title = super::patched_text("title", patch.title.as_deref(), 1, 100, current.title)?;
    let description = super::patched_optional_text(
        "description",
        patch.description.as_deref(),
        2000,
        current.description,
    )?;
    let location =
        super::patched_optional_text("location", patch.location.as_deref(), 200, current.location)?;
    let start = patch.start_at.unwrap_or(current.start_at);
    let end = patch.end_at.unwrap_or(current.end_at);
    ensure_order(start, end)?;
    tx.execute(
        "UPDATE calendar_events SET title = ?, description = ?, start_at = ?, end_at = ?, all_day = ?, location = ?,
            updated_at = ? WHERE id = ?",
        params![title, description, start, end, patch.all_day.unwrap_or(current.all_day), location, Utc::now(), id],
    )?;
    let event = load(tx, study_id, id)?;
    Ok(Outcome::new(
        event.clone(),
        vec![DomainEvent::EventUpdated { event }],
    ))
}

/// Deletes an event (its creator, the OWNER or ADMINs).
pub fn delete(
    tx: &mut dyn Tx,
    caller: Caller,
    study_id: StudyId,
    id: EventId,
) -> Result<Outcome<()>> {
    let access = super::study_access(tx, caller, study_id)?;
    // Refuse outsiders before revealing whether the event exists.
    access.require(Operation::DeleteEvent, true)?;
    let current = load(tx, study_id, id)?;
    access.require(Operation::DeleteEvent, caller == Some(current.creator_id))?;
    tx.execute("DELETE FROM calendar_events WHERE id = ?", params![id])?;
    Ok(Outcome::new(
        (),
        vec![DomainEvent::EventDeleted {
            study_id,
            event_id: id,
        }],
    ))
}
