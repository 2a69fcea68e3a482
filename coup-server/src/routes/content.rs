//! A study's content: notices, calendar and chat.

use axum::http::StatusCode;
use coup_core::Outcome;
use coup_core::api::paths::{self, EventPath, MessagePath, NoticePath, StudyPath};
use coup_core::model::{
    CalendarEvent, ChatChanges, ChatMessage, ChatPage, Notice, Page, PageRequest,
};
use coup_core::service::calendar::{self, EventPatch, NewEvent, Range};
use coup_core::service::chat::{self, ChangesQuery, ChatQuery, ReadPosition, SendMessage};
use coup_core::service::notices::{self, NewNotice, NoticePatch, Pin};
use utoipa_axum::router::UtoipaMethodRouterExt;
use utoipa_axum::routes;

use super::{Answer, Created, Routes, signed_in};
use crate::error::ApiResult;
use crate::extract::{Api, InStudy, Json, OptionalJson, Path, Query};
use crate::openapi::{PayloadTooLarge, TargetErrors};

/// Largest chat request body: 4,000 characters of up to 4 bytes, plus JSON.
const CHAT_BODY_LIMIT: usize = 64 * 1024;

pub(super) fn routes() -> Routes {
    let notices = signed_in(
        "notices",
        vec![
            routes!(list_notices, create_notice),
            routes!(get_notice, update_notice, delete_notice),
            routes!(pin_notice),
        ],
    );
    let calendar = signed_in(
        "calendar",
        vec![
            routes!(list_events, create_event),
            routes!(update_event, delete_event),
        ],
    );
    let chat = signed_in(
        "chat",
        vec![
            routes!(list_messages, send_message).layer(super::BodyLimit(CHAT_BODY_LIMIT)),
            routes!(list_changes),
            routes!(get_message, delete_message),
            routes!(read_message),
        ],
    );
    [notices, calendar, chat].concat()
}

/// The study's notices, pinned first (members only).
#[utoipa::path(get, path = paths::NOTICES, params(StudyPath, PageRequest), responses(
    (status = 200, description = "A page of notices", body = Page<Notice>), TargetErrors))]
async fn list_notices(study: InStudy, Query(page): Query<PageRequest>) -> Answer<Page<Notice>> {
    study
        .read(move |tx, caller, id| notices::list(tx, caller, id, page))
        .await
}

/// Post a notice (OWNER and ADMINs); members are notified.
#[utoipa::path(post, path = paths::NOTICES, params(StudyPath),
    responses((status = 201, description = "The new notice", body = Notice), TargetErrors))]
async fn create_notice(study: InStudy, Json(input): Json<NewNotice>) -> Created<Notice> {
    study
        .created(move |tx, caller, id| notices::create(tx, caller, id, input))
        .await
}

/// One notice (members only); reading it counts a view.
#[utoipa::path(get, path = paths::NOTICE, params(NoticePath),
    responses((status = 200, description = "The notice", body = Notice), TargetErrors))]
async fn get_notice(api: Api, Path(at): Path<NoticePath>) -> Answer<Notice> {
    // Reading counts a view, so it is a write.
    api.write(move |tx, caller| notices::view(tx, caller, at.id, at.notice_id).map(Outcome::quiet))
        .await
}

/// Change a notice (OWNER and ADMINs).
#[utoipa::path(method(patch, put), path = paths::NOTICE, params(NoticePath),
    responses((status = 200, description = "The updated notice", body = Notice), TargetErrors))]
async fn update_notice(
    api: Api,
    Path(at): Path<NoticePath>,
    Json(patch): Json<NoticePatch>,
) -> Answer<Notice> {
    api.write(move |tx, caller| notices::update(tx, caller, at.id, at.notice_id, patch))
        .await
}

/// Pin or unpin a notice (OWNER and ADMINs).
///
/// `{"isPinned": true|false}` sets the pin; without a body the pin toggles.
#[utoipa::path(
    method(post, patch, put),
    path = paths::NOTICE_PIN,
    params(NoticePath),
    request_body(content = Option<Pin>, description = "Optional: the pin state to set"),
    responses(
        (status = 200, description = "The notice with its new pin state", body = Notice),
        TargetErrors,
    ),
)]
async fn pin_notice(
    api: Api,
    Path(at): Path<NoticePath>,
    OptionalJson(body): OptionalJson<Pin>,
) -> Answer<Notice> {
    let pin = body.unwrap_or_default();
    api.write(move |tx, caller| notices::pin(tx, caller, at.id, at.notice_id, pin))
        .await
}

/// Delete a notice (OWNER and ADMINs).
#[utoipa::path(delete, path = paths::NOTICE, params(NoticePath),
    responses((status = 204, description = "The notice is gone"), TargetErrors))]
async fn delete_notice(api: Api, Path(at): Path<NoticePath>) -> ApiResult<StatusCode> {
    api.no_content(move |tx, caller| notices::delete(tx, caller, at.id, at.notice_id))
        .await
}

/// The study's events that overlap `[from, to)` (members only).
#[utoipa::path(get, path = paths::EVENTS, params(StudyPath, Range), responses(
    (status = 200, description = "The events, by start time", body = Vec<CalendarEvent>),
    TargetErrors,
))]
async fn list_events(study: InStudy, Query(range): Query<Range>) -> Answer<Vec<CalendarEvent>> {
    study
        .read(move |tx, caller, id| calendar::list(tx, caller, id, range))
        .await
}

/// Add an event (members); members are notified.
#[utoipa::path(post, path = paths::EVENTS, params(StudyPath),
    responses((status = 201, description = "The new event", body = CalendarEvent), TargetErrors))]
async fn create_event(study: InStudy, Json(input): Json<NewEvent>) -> Created<CalendarEvent> {
    study
        .created(move |tx, caller, id| calendar::create(tx, caller, id, input))
        .await
}

/// Change an event (its creator, the OWNER and ADMINs).
#[utoipa::path(method(patch, put), path = paths::EVENT, params(EventPath), responses(
    (status = 200, description = "The updated event", body = CalendarEvent), TargetErrors))]
async fn update_event(
    api: Api,
    Path(at): Path<EventPath>,
    Json(patch): Json<EventPatch>,
) -> Answer<CalendarEvent> {
    api.write(move |tx, caller| calendar::update(tx, caller, at.id, at.event_id, patch))
        .await
}

/// Delete an event (its creator, the OWNER and ADMINs).
#[utoipa::path(delete, path = paths::EVENT, params(EventPath),
    responses((status = 204, description = "The event is gone"), TargetErrors))]
async fn delete_event(api: Api, Path(at): Path<EventPath>) -> ApiResult<StatusCode> {
    api.no_content(move |tx, caller| calendar::delete(tx, caller, at.id, at.event_id))
        .await
}

/// A page of the study's chat (members only).
///
/// The newest messages, or those older than `before` or newer than `after`
/// (sequence numbers); always in ascending order.
#[utoipa::path(get, path = paths::MESSAGES, params(StudyPath, ChatQuery), responses(
    (status = 200, description = "Messages and whether there are more", body = ChatPage),
    TargetErrors,
))]
async fn list_messages(study: InStudy, Query(q): Query<ChatQuery>) -> Answer<ChatPage> {
    study
        .read(move |tx, caller, id| chat::list(tx, caller, id, q))
        .await
}

/// The study's chat changes after a change number (members only).
///
/// Every post, deletion and read receipt takes the study's next change number.
/// A client that holds every change up to `after` and applies these in order
/// holds what the server holds; page on from `lastChange` while `hasMore`. A
/// message is shown as it is now (a tombstone if deleted since), and a member's
/// read position only as it is now.
#[utoipa::path(get, path = paths::MESSAGE_CHANGES, params(StudyPath, ChangesQuery), responses(
    (status = 200, description = "Changes in order, where they reach, and whether there are more", body = ChatChanges),
    TargetErrors,
))]
async fn list_changes(study: InStudy, Query(q): Query<ChangesQuery>) -> Answer<ChatChanges> {
    study
        .read(move |tx, caller, id| chat::changes(tx, caller, id, q))
        .await
}

/// Send a message (members), optionally with an uploaded file of the study.
///
/// Sending again with the same `clientId` returns the first message instead of a
/// second one. The body may be at most 64 KiB.
#[utoipa::path(post, path = paths::MESSAGES, params(StudyPath), responses(
    (status = 201, description = "The message (or the earlier one with the same `clientId`)", body = ChatMessage),
    TargetErrors,
    PayloadTooLarge,
))]
async fn send_message(study: InStudy, Json(input): Json<SendMessage>) -> Created<ChatMessage> {
    study
        .created(move |tx, caller, id| chat::send(tx, caller, id, input))
        .await
}

/// One chat message (members only).
#[utoipa::path(get, path = paths::MESSAGE, params(MessagePath),
    responses((status = 200, description = "The message", body = ChatMessage), TargetErrors))]
async fn get_message(api: Api, Path(at): Path<MessagePath>) -> Answer<ChatMessage> {
    api.read(move |tx, caller| chat::get(tx, caller, at.id, at.message_id))
        .await
}

/// Delete a message (its author, the OWNER and ADMINs); it stays as a tombstone.
#[utoipa::path(delete, path = paths::MESSAGE, params(MessagePath),
    responses((status = 204, description = "The message is deleted"), TargetErrors))]
async fn delete_message(api: Api, Path(at): Path<MessagePath>) -> ApiResult<StatusCode> {
    api.no_content(move |tx, caller| chat::delete(tx, caller, at.id, at.message_id))
        .await
}

/// Mark the chat read up to this message (members).
#[utoipa::path(method(post, put), path = paths::MESSAGE_READ, params(MessagePath), responses(
    (status = 200, description = "The caller's read position", body = ReadPosition), TargetErrors))]
async fn read_message(api: Api, Path(at): Path<MessagePath>) -> Answer<ReadPosition> {
    let Json(last_read_seq) = api
        .write(move |tx, caller| chat::mark_read_message(tx, caller, at.id, at.message_id))
        .await?;
    Ok(Json(ReadPosition { last_read_seq }))
}
