//! A study's content: notices, calendar and chat.

use axum::extract::State;
use axum::http::StatusCode;
use coup_core::api::paths;
use coup_core::ids::{EventId, MessageId, NoticeId, StudyId};
use coup_core::model::{
    CalendarEvent, ChatChanges, ChatMessage, ChatPage, Notice, Page, PageRequest,
};
use coup_core::service::calendar::{self, EventPatch, NewEvent, Range};
use coup_core::service::chat::{self, ChangesQuery, ChatQuery, ReadPosition, SendMessage};
use coup_core::service::notices::{self, NewNotice, NoticePatch, Pin};
use utoipa_axum::router::UtoipaMethodRouterExt;
use utoipa_axum::routes;

use super::{Routes, read, write};
use crate::error::ApiResult;
use crate::extract::{Auth, Json, OptionalJson, Path, Query};
use crate::openapi::{PayloadTooLarge, TargetErrors};
use crate::state::AppState;

/// Largest chat request body: 4,000 characters of up to 4 bytes, plus JSON.
const CHAT_BODY_LIMIT: usize = 64 * 1024;

pub(super) fn routes() -> Routes {
    vec![
        routes!(list_notices, create_notice),
        routes!(get_notice, update_notice, delete_notice),
        routes!(pin_notice),
        routes!(list_events, create_event),
        routes!(update_event, delete_event),
        routes!(list_messages, send_message).layer(super::BodyLimit(CHAT_BODY_LIMIT)),
        routes!(list_changes),
        routes!(get_message, delete_message),
        routes!(read_message),
    ]
}

/// The study's notices, pinned first (members only).
#[utoipa::path(
    get,
    path = paths::NOTICES,
    tag = "notices",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        PageRequest,
    ),
    responses(
        (status = 200, description = "A page of notices", body = Page<Notice>),
        TargetErrors,
    ),
)]
async fn list_notices(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
    Query(page): Query<PageRequest>,
) -> ApiResult<Json<Page<Notice>>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| notices::list(tx, caller, id, page)).await?,
    ))
}

/// Post a notice (OWNER and ADMINs); members are notified.
#[utoipa::path(
    post,
    path = paths::NOTICES,
    tag = "notices",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
    ),
    request_body = NewNotice,
    responses(
        (status = 201, description = "The new notice", body = Notice),
        TargetErrors,
    ),
)]
async fn create_notice(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
    Json(input): Json<NewNotice>,
) -> ApiResult<(StatusCode, Json<Notice>)> {
    let caller = auth.caller();
    Ok((
        StatusCode::CREATED,
        Json(write(&app, move |tx| notices::create(tx, caller, id, input)).await?),
    ))
}

/// One notice (members only); reading it counts a view.
#[utoipa::path(
    get,
    path = paths::NOTICE,
    tag = "notices",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("notice_id" = NoticeId, Path, description = "The notice"),
    ),
    responses(
        (status = 200, description = "The notice", body = Notice),
        TargetErrors,
    ),
)]
async fn get_notice(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, notice)): Path<(StudyId, NoticeId)>,
) -> ApiResult<Json<Notice>> {
    let caller = auth.caller();
    // Reading counts a view, so it is a write.
    Ok(Json(
        write(&app, move |tx| {
            notices::view(tx, caller, id, notice).map(coup_core::Outcome::quiet)
        })
        .await?,
    ))
}

/// Change a notice (OWNER and ADMINs).
#[utoipa::path(
    method(patch, put),
    path = paths::NOTICE,
    tag = "notices",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("notice_id" = NoticeId, Path, description = "The notice"),
    ),
    request_body = NoticePatch,
    responses(
        (status = 200, description = "The updated notice", body = Notice),
        TargetErrors,
    ),
)]
async fn update_notice(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, notice)): Path<(StudyId, NoticeId)>,
    Json(patch): Json<NoticePatch>,
) -> ApiResult<Json<Notice>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| {
            notices::update(tx, caller, id, notice, patch)
        })
        .await?,
    ))
}

/// Pin or unpin a notice (OWNER and ADMINs).
///
/// `{"isPinned": true|false}` sets the pin; without a body the pin toggles.
#[utoipa::path(
    method(post, patch, put),
    path = paths::NOTICE_PIN,
    tag = "notices",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("notice_id" = NoticeId, Path, description = "The notice"),
    ),
    request_body(content = Option<Pin>, description = "Optional: the pin state to set"),
    responses(
        (status = 200, description = "The notice with its new pin state", body = Notice),
        TargetErrors,
    ),
)]
async fn pin_notice(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, notice)): Path<(StudyId, NoticeId)>,
    OptionalJson(body): OptionalJson<Pin>,
) -> ApiResult<Json<Notice>> {
    let caller = auth.caller();
    let pin = body.unwrap_or_default();
    Ok(Json(
        write(&app, move |tx| notices::pin(tx, caller, id, notice, pin)).await?,
    ))
}

/// Delete a notice (OWNER and ADMINs).
#[utoipa::path(
    delete,
    path = paths::NOTICE,
    tag = "notices",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("notice_id" = NoticeId, Path, description = "The notice"),
    ),
    responses(
        (status = 204, description = "The notice is gone"),
        TargetErrors,
    ),
)]
async fn delete_notice(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, notice)): Path<(StudyId, NoticeId)>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| notices::delete(tx, caller, id, notice)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The study's events that overlap `[from, to)` (members only).
#[utoipa::path(
    get,
    path = paths::EVENTS,
    tag = "calendar",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        Range,
    ),
    responses(
        (status = 200, description = "The events, by start time", body = Vec<CalendarEvent>),
        TargetErrors,
    ),
)]
async fn list_events(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
    Query(range): Query<Range>,
) -> ApiResult<Json<Vec<CalendarEvent>>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| calendar::list(tx, caller, id, range)).await?,
    ))
}

/// Add an event (members); members are notified.
#[utoipa::path(
    post,
    path = paths::EVENTS,
    tag = "calendar",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
    ),
    request_body = NewEvent,
    responses(
        (status = 201, description = "The new event", body = CalendarEvent),
        TargetErrors,
    ),
)]
async fn create_event(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
    Json(input): Json<NewEvent>,
) -> ApiResult<(StatusCode, Json<CalendarEvent>)> {
    let caller = auth.caller();
    Ok((
        StatusCode::CREATED,
        Json(write(&app, move |tx| calendar::create(tx, caller, id, input)).await?),
    ))
}

/// Change an event (its creator, the OWNER and ADMINs).
#[utoipa::path(
    method(patch, put),
    path = paths::EVENT,
    tag = "calendar",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("event_id" = EventId, Path, description = "The event"),
    ),
    request_body = EventPatch,
    responses(
        (status = 200, description = "The updated event", body = CalendarEvent),
        TargetErrors,
    ),
)]
async fn update_event(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, event)): Path<(StudyId, EventId)>,
    Json(patch): Json<EventPatch>,
) -> ApiResult<Json<CalendarEvent>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| {
            calendar::update(tx, caller, id, event, patch)
        })
        .await?,
    ))
}

/// Delete an event (its creator, the OWNER and ADMINs).
#[utoipa::path(
    delete,
    path = paths::EVENT,
    tag = "calendar",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("event_id" = EventId, Path, description = "The event"),
    ),
    responses(
        (status = 204, description = "The event is gone"),
        TargetErrors,
    ),
)]
async fn delete_event(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, event)): Path<(StudyId, EventId)>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| calendar::delete(tx, caller, id, event)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of the study's chat (members only).
///
/// The newest messages, or those older than `before` or newer than `after`
/// (sequence numbers); always in ascending order.
#[utoipa::path(
    get,
    path = paths::MESSAGES,
    tag = "chat",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ChatQuery,
    ),
    responses(
        (status = 200, description = "Messages and whether there are more", body = ChatPage),
        TargetErrors,
    ),
)]
async fn list_messages(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
    Query(q): Query<ChatQuery>,
) -> ApiResult<Json<ChatPage>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| chat::list(tx, caller, id, q)).await?,
    ))
}

/// The study's chat changes after a change number (members only).
///
/// Every post, deletion and read receipt takes the study's next change number.
/// A client that holds every change up to `after` and applies these in order
/// holds what the server holds; page on from `lastChange` while `hasMore`. A
/// message is shown as it is now (a tombstone if deleted since), and a member's
/// read position only as it is now.
#[utoipa::path(
    get,
    path = paths::MESSAGE_CHANGES,
    tag = "chat",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ChangesQuery,
    ),
    responses(
        (status = 200, description = "Changes in order, where they reach, and whether there are more", body = ChatChanges),
        TargetErrors,
    ),
)]
async fn list_changes(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
    Query(q): Query<ChangesQuery>,
) -> ApiResult<Json<ChatChanges>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| chat::changes(tx, caller, id, q)).await?,
    ))
}

/// Send a message (members), optionally with an uploaded file of the study.
///
/// Sending again with the same `clientId` returns the first message instead of a
/// second one. The body may be at most 64 KiB.
#[utoipa::path(
    post,
    path = paths::MESSAGES,
    tag = "chat",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
    ),
    request_body = SendMessage,
    responses(
        (status = 201, description = "The message (or the earlier one with the same `clientId`)", body = ChatMessage),
        TargetErrors,
        PayloadTooLarge,
    ),
)]
async fn send_message(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
    Json(input): Json<SendMessage>,
) -> ApiResult<(StatusCode, Json<ChatMessage>)> {
    let caller = auth.caller();
    Ok((
        StatusCode::CREATED,
        Json(write(&app, move |tx| chat::send(tx, caller, id, input)).await?),
    ))
}

/// One chat message (members only).
#[utoipa::path(
    get,
    path = paths::MESSAGE,
    tag = "chat",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("message_id" = MessageId, Path, description = "The message"),
    ),
    responses(
        (status = 200, description = "The message", body = ChatMessage),
        TargetErrors,
    ),
)]
async fn get_message(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, message)): Path<(StudyId, MessageId)>,
) -> ApiResult<Json<ChatMessage>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| chat::get(tx, caller, id, message)).await?,
    ))
}

/// Delete a message (its author, the OWNER and ADMINs); it stays as a tombstone.
#[utoipa::path(
    delete,
    path = paths::MESSAGE,
    tag = "chat",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("message_id" = MessageId, Path, description = "The message"),
    ),
    responses(
        (status = 204, description = "The message is deleted"),
        TargetErrors,
    ),
)]
async fn delete_message(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, message)): Path<(StudyId, MessageId)>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| chat::delete(tx, caller, id, message)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark the chat read up to this message (members).
#[utoipa::path(
    method(post, put),
    path = paths::MESSAGE_READ,
    tag = "chat",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("message_id" = MessageId, Path, description = "The message"),
    ),
    responses(
        (status = 200, description = "The caller's read position", body = ReadPosition),
        TargetErrors,
    ),
)]
async fn read_message(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, message)): Path<(StudyId, MessageId)>,
) -> ApiResult<Json<ReadPosition>> {
    let caller = auth.caller();
    let last_read_seq = write(&app, move |tx| {
        chat::mark_read_message(tx, caller, id, message)
    })
    .await?;
    Ok(Json(ReadPosition { last_read_seq }))
}
