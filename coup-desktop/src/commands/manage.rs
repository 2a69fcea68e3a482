//! Managing a study — its settings and deletion, join requests, roles, kicks,
//! the invite code, notices and the calendar — as REST calls through the client. The server decides who may
//! (OWNER/ADMIN, the event's creator); after a change the cache is reloaded so
//! the cached lists (members, notices, events) show it.

use coup_core::api::calendar::{EventPatch, NewEvent, Range};
use coup_core::api::membership::RoleChange;
use coup_core::api::notices::{NewNotice, NoticePatch, Pin};
use coup_core::api::studies::{InviteCode, StudyPatch};
use coup_core::ids::{EventId, NoticeId, StudyId, UserId};
use coup_core::model::{CalendarEvent, Member, Notice, PageRequest, Study, StudyRole};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

/// All of a list's pages fit in one (the server's largest page).
const ALL: PageRequest = PageRequest {
    page: Some(1),
    limit: Some(100),
};

/// Changes a study's settings (OWNER); the cached study shows them.
#[tauri::command]
pub async fn update_study(
    state: State<'_, AppState>,
    study_id: StudyId,
    patch: StudyPatch,
) -> CommandResult<Study> {
    state
        .change(move |api| async move { api.update_study(study_id, &patch).await })
        .await
}

/// Deletes a study (OWNER); the cache forgets it.
#[tauri::command]
pub async fn delete_study(state: State<'_, AppState>, study_id: StudyId) -> CommandResult<()> {
    state
        .change(move |api| async move { api.delete_study(study_id).await })
        .await
}

#[tauri::command]
pub async fn join_requests(
    state: State<'_, AppState>,
    study_id: StudyId,
) -> CommandResult<Vec<Member>> {
    Ok(state
        .client()?
        .rest(move |api| async move { api.join_requests(study_id, ALL).await })
        .await?
        .items)
}

#[tauri::command]
pub async fn approve_member(
    state: State<'_, AppState>,
    study_id: StudyId,
    user_id: UserId,
) -> CommandResult<Member> {
    state
        .change(move |api| async move { api.approve_member(study_id, user_id).await })
        .await
}

#[tauri::command]
pub async fn reject_member(
    state: State<'_, AppState>,
    study_id: StudyId,
    user_id: UserId,
) -> CommandResult<()> {
    state
        .rest(move |api| async move { api.reject_member(study_id, user_id).await })
        .await
}

/// Changes a member's role; `OWNER` transfers ownership.
#[tauri::command]
pub async fn change_role(
    state: State<'_, AppState>,
    study_id: StudyId,
    user_id: UserId,
    role: StudyRole,
) -> CommandResult<Member> {
    state
        .change(move |api| async move {
            api.change_role(study_id, user_id, &RoleChange { role })
                .await
        })
        .await
}

#[tauri::command]
pub async fn kick_member(
    state: State<'_, AppState>,
    study_id: StudyId,
    user_id: UserId,
) -> CommandResult<()> {
    state
        .change(move |api| async move { api.kick_member(study_id, user_id).await })
        .await
}

#[tauri::command]
pub async fn invite_code(
    state: State<'_, AppState>,
    study_id: StudyId,
) -> CommandResult<InviteCode> {
    state
        .rest(move |api| async move { api.invite_code(study_id).await })
        .await
}

#[tauri::command]
pub async fn regenerate_invite_code(
    state: State<'_, AppState>,
    study_id: StudyId,
) -> CommandResult<InviteCode> {
    state
        .rest(move |api| async move { api.regenerate_invite_code(study_id).await })
        .await
}

#[tauri::command]
pub async fn create_notice(
    state: State<'_, AppState>,
    study_id: StudyId,
    input: NewNotice,
) -> CommandResult<Notice> {
    state
        .change(move |api| async move { api.create_notice(study_id, &input).await })
        .await
}

#[tauri::command]
pub async fn update_notice(
    state: State<'_, AppState>,
    study_id: StudyId,
    notice_id: NoticeId,
    patch: NoticePatch,
) -> CommandResult<Notice> {
    state
        .change(move |api| async move { api.update_notice(study_id, notice_id, &patch).await })
        .await
}

#[tauri::command]
pub async fn pin_notice(
    state: State<'_, AppState>,
    study_id: StudyId,
    notice_id: NoticeId,
    pinned: bool,
) -> CommandResult<Notice> {
    let pin = Pin {
        is_pinned: Some(pinned),
    };
    state
        .change(move |api| async move { api.pin_notice(study_id, notice_id, &pin).await })
        .await
}

#[tauri::command]
pub async fn delete_notice(
    state: State<'_, AppState>,
    study_id: StudyId,
    notice_id: NoticeId,
) -> CommandResult<()> {
    state
        .change(move |api| async move { api.delete_notice(study_id, notice_id).await })
        .await
}

/// The events overlapping `range` (a month view), from the server.
#[tauri::command]
pub async fn events(
    state: State<'_, AppState>,
    study_id: StudyId,
    range: Range,
) -> CommandResult<Vec<CalendarEvent>> {
    state
        .rest(move |api| async move { api.events(study_id, &range).await })
        .await
}

#[tauri::command]
pub async fn create_event(
    state: State<'_, AppState>,
    study_id: StudyId,
    input: NewEvent,
) -> CommandResult<CalendarEvent> {
    state
        .change(move |api| async move { api.create_event(study_id, &input).await })
        .await
}

#[tauri::command]
pub async fn update_event(
    state: State<'_, AppState>,
    study_id: StudyId,
    event_id: EventId,
    patch: EventPatch,
) -> CommandResult<CalendarEvent> {
    state
        .change(move |api| async move { api.update_event(study_id, event_id, &patch).await })
        .await
}

#[tauri::command]
pub async fn delete_event(
    state: State<'_, AppState>,
    study_id: StudyId,
    event_id: EventId,
) -> CommandResult<()> {
    state
        .change(move |api| async move { api.delete_event(study_id, event_id).await })
        .await
}
