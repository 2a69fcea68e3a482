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

rest_commands! {
    /// Changes a study's settings (OWNER); the cached study shows them.
    change update_study(study_id: StudyId, patch: StudyPatch) -> Study
        = |api| api.update_study(study_id, &patch);
    /// Deletes a study (OWNER); the cache forgets it.
    change delete_study(study_id: StudyId) -> () = |api| api.delete_study(study_id);
    change approve_member(study_id: StudyId, user_id: UserId) -> Member
        = |api| api.approve_member(study_id, user_id);
    rest reject_member(study_id: StudyId, user_id: UserId) -> ()
        = |api| api.reject_member(study_id, user_id);
    change kick_member(study_id: StudyId, user_id: UserId) -> ()
        = |api| api.kick_member(study_id, user_id);
    rest invite_code(study_id: StudyId) -> InviteCode = |api| api.invite_code(study_id);
    rest regenerate_invite_code(study_id: StudyId) -> InviteCode
        = |api| api.regenerate_invite_code(study_id);
    change create_notice(study_id: StudyId, input: NewNotice) -> Notice
        = |api| api.create_notice(study_id, &input);
    change update_notice(study_id: StudyId, notice_id: NoticeId, patch: NoticePatch) -> Notice
        = |api| api.update_notice(study_id, notice_id, &patch);
    /// Changes a member's role; `OWNER` transfers ownership.
    change change_role(study_id: StudyId, user_id: UserId, role: StudyRole) -> Member
        = |api| api.change_role(study_id, user_id, &RoleChange { role });
    change pin_notice(study_id: StudyId, notice_id: NoticeId, pinned: bool) -> Notice
        = |api| api.pin_notice(study_id, notice_id, &Pin { is_pinned: Some(pinned) });
    change delete_notice(study_id: StudyId, notice_id: NoticeId) -> ()
        = |api| api.delete_notice(study_id, notice_id);
    /// The events overlapping `range` (a month view), from the server.
    rest events(study_id: StudyId, range: Range) -> Vec<CalendarEvent>
        = |api| api.events(study_id, &range);
    change create_event(study_id: StudyId, input: NewEvent) -> CalendarEvent
        = |api| api.create_event(study_id, &input);
    change update_event(study_id: StudyId, event_id: EventId, patch: EventPatch) -> CalendarEvent
        = |api| api.update_event(study_id, event_id, &patch);
    change delete_event(study_id: StudyId, event_id: EventId) -> ()
        = |api| api.delete_event(study_id, event_id);
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
