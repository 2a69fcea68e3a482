//! `/api/studies` and membership: search, create, read, edit, delete, invite codes,
//! join, leave, requests, members, roles, kicks.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use coup_core::ids::{StudyId, UserId};
use coup_core::model::{Member, Page, PageRequest, Study};
use coup_core::service::membership::{self, JoinRequest, RoleChange};
use coup_core::service::studies::{self, InviteCode, NewStudy, StudyPatch, StudyQuery};

use super::{read, write};
use crate::error::ApiResult;
use crate::extract::{Auth, Json, OptionalJson, Path, Query};
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/studies", get(list).post(create))
        .route(
            "/api/studies/{id}",
            get(get_one).patch(update).put(update).delete(remove),
        )
        .route(
            "/api/studies/{id}/invite-code",
            get(invite_code).post(regenerate_invite_code),
        )
        .route("/api/studies/{id}/join", post(join))
        .route("/api/studies/{id}/leave", post(leave).delete(leave))
        .route("/api/studies/{id}/join-requests", get(join_requests))
        .route("/api/studies/{id}/members", get(members))
        .route("/api/studies/{id}/members/{user_id}", delete(kick))
        .route("/api/studies/{id}/members/{user_id}/approve", post(approve))
        .route("/api/studies/{id}/members/{user_id}/reject", post(reject))
        .route(
            "/api/studies/{id}/members/{user_id}/role",
            post(role).put(role).patch(role),
        )
}

async fn list(
    State(app): State<AppState>,
    auth: Auth,
    Query(q): Query<StudyQuery>,
) -> ApiResult<Json<Page<Study>>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| studies::list(tx, caller, q)).await?,
    ))
}

async fn create(
    State(app): State<AppState>,
    auth: Auth,
    Json(input): Json<NewStudy>,
) -> ApiResult<(StatusCode, Json<Study>)> {
    let caller = auth.caller();
    Ok((
        StatusCode::CREATED,
        Json(write(&app, move |tx| studies::create(tx, caller, input)).await?),
    ))
}

async fn get_one(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
) -> ApiResult<Json<Study>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| studies::get(tx, caller, id)).await?,
    ))
}

async fn update(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
    Json(patch): Json<StudyPatch>,
) -> ApiResult<Json<Study>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| studies::update(tx, caller, id, patch)).await?,
    ))
}

async fn remove(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| studies::delete(tx, caller, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn invite_code(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
) -> ApiResult<Json<InviteCode>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| studies::invite_code(tx, caller, id)).await?,
    ))
}

async fn regenerate_invite_code(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
) -> ApiResult<Json<InviteCode>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| {
            studies::regenerate_invite_code(tx, caller, id)
        })
        .await?,
    ))
}

async fn join(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
    OptionalJson(body): OptionalJson<JoinRequest>,
) -> ApiResult<(StatusCode, Json<Member>)> {
    let caller = auth.caller();
    let input = body.unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(write(&app, move |tx| membership::join(tx, caller, id, input)).await?),
    ))
}

async fn leave(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| membership::leave(tx, caller, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn join_requests(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
    Query(page): Query<PageRequest>,
) -> ApiResult<Json<Page<Member>>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| {
            membership::list_join_requests(tx, caller, id, page)
        })
        .await?,
    ))
}

async fn members(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
    Query(page): Query<PageRequest>,
) -> ApiResult<Json<Page<Member>>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| {
            membership::list_members(tx, caller, id, page)
        })
        .await?,
    ))
}

async fn approve(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(StudyId, UserId)>,
) -> ApiResult<Json<Member>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| membership::approve(tx, caller, id, user)).await?,
    ))
}

async fn reject(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(StudyId, UserId)>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| membership::reject(tx, caller, id, user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn role(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(StudyId, UserId)>,
    Json(change): Json<RoleChange>,
) -> ApiResult<Json<Member>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| {
            membership::change_role(tx, caller, id, user, change)
        })
        .await?,
    ))
}

async fn kick(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(StudyId, UserId)>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| membership::kick(tx, caller, id, user)).await?;
    Ok(StatusCode::NO_CONTENT)
}
