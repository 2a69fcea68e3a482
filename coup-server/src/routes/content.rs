//! A study's content: notices, calendar and chat.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use coup_core::ids::{EventId, MessageId, NoticeId, StudyId};
use coup_core::model::{CalendarEvent, ChatMessage, ChatPage, Notice, Page, PageRequest};
use coup_core::service::calendar::{self, EventPatch, NewEvent, Range};
use coup_core::service::chat::{self, ChatQuery, SendMessage};
use coup_core::service::notices::{self, NewNotice, NoticePatch, Pin};

use super::{read, write};
use crate::error::ApiResult;
use crate::extract::{Auth, Json, OptionalJson, Path, Query};
use crate::state::AppState;

/// Largest chat request body: 4,000 characters of up to 4 bytes, plus JSON.
const CHAT_BODY_LIMIT: usize = 64 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/studies/{id}/notices",
            get(list_notices).post(create_notice),
        )
        .route(
            "/api/studies/{id}/notices/{notice_id}",
            get(get_notice)
                .patch(update_notice)
                .put(update_notice)
                .delete(delete_notice),
        )
        .route(
            "/api/studies/{id}/notices/{notice_id}/pin",
            post(pin_notice).patch(pin_notice).put(pin_notice),
        )
        .route(
            "/api/studies/{id}/calendar",
            get(list_events).post(create_event),
        )
        .route(
            "/api/studies/{id}/calendar/{event_id}",
            axum::routing::patch(update_event)
                .put(update_event)
                .delete(delete_event),
        )
        .route(
            "/api/studies/{id}/chat",
            get(list_messages)
                .post(send_message)
                .layer(axum::extract::DefaultBodyLimit::max(CHAT_BODY_LIMIT)),
        )
        .route(
            "/api/studies/{id}/chat/{message_id}",
            get(get_message).delete(delete_message),
        )
        .route(
            "/api/studies/{id}/chat/{message_id}/read",
            post(read_message).put(read_message),
        )
}

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

async fn delete_notice(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, notice)): Path<(StudyId, NoticeId)>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| notices::delete(tx, caller, id, notice)).await?;
    Ok(StatusCode::NO_CONTENT)
}

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

async fn delete_event(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, event)): Path<(StudyId, EventId)>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| calendar::delete(tx, caller, id, event)).await?;
    Ok(StatusCode::NO_CONTENT)
}

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

async fn delete_message(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, message)): Path<(StudyId, MessageId)>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| chat::delete(tx, caller, id, message)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadUpTo {
    last_read_seq: i64,
}

async fn read_message(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, message)): Path<(StudyId, MessageId)>,
) -> ApiResult<Json<ReadUpTo>> {
    let caller = auth.caller();
    let last_read_seq = write(&app, move |tx| {
        chat::mark_read_message(tx, caller, id, message)
    })
    .await?;
    Ok(Json(ReadUpTo { last_read_seq }))
}
