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
use crate::openapi::{BadRequest, Conflict, Forbidden, NotFound, Unauthorized};
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

/// Search public studies (and the caller's private ones).
///
/// Anonymous callers see public studies only.
#[utoipa::path(
    get,
    path = "/api/studies",
    tag = "studies",
    operation_id = "list_studies",
    security((), ("bearer" = [])),
    params(StudyQuery),
    responses(
        (status = 200, description = "A page of studies", body = Page<Study>),
        BadRequest,
        Unauthorized,
        Forbidden,
    ),
)]
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

/// Create a study; the caller becomes its OWNER.
#[utoipa::path(
    post,
    path = "/api/studies",
    tag = "studies",
    operation_id = "create_study",
    security(("bearer" = [])),
    request_body = NewStudy,
    responses(
        (status = 201, description = "The new study", body = Study),
        BadRequest,
        Unauthorized,
        Forbidden,
    ),
)]
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

/// One study.
///
/// A private study is found only by its members and requesters.
#[utoipa::path(
    get,
    path = "/api/studies/{id}",
    tag = "studies",
    operation_id = "get_study",
    security((), ("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    responses(
        (status = 200, description = "The study", body = Study),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
    ),
)]
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

/// Change a study (OWNER only); absent fields stay as they are.
#[utoipa::path(
    method(patch, put),
    path = "/api/studies/{id}",
    tag = "studies",
    operation_id = "update_study",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    request_body = StudyPatch,
    responses(
        (status = 200, description = "The updated study", body = Study),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
    ),
)]
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

/// Delete a study (OWNER only).
#[utoipa::path(
    delete,
    path = "/api/studies/{id}",
    tag = "studies",
    operation_id = "delete_study",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    responses(
        (status = 204, description = "The study is deleted"),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
    ),
)]
async fn remove(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| studies::delete(tx, caller, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The study's invite code (OWNER and ADMINs).
#[utoipa::path(
    get,
    path = "/api/studies/{id}/invite-code",
    tag = "studies",
    operation_id = "get_invite_code",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    responses(
        (status = 200, description = "The current code", body = InviteCode),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
    ),
)]
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

/// Replace the study's invite code (OWNER and ADMINs); the old one stops working.
#[utoipa::path(
    post,
    path = "/api/studies/{id}/invite-code",
    tag = "studies",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    responses(
        (status = 200, description = "The new code", body = InviteCode),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
    ),
)]
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

/// Join a study, or ask to.
///
/// The body is optional. With an auto-join policy or a valid invite code the caller
/// becomes a MEMBER at once; otherwise the membership is PENDING until a manager
/// decides.
#[utoipa::path(
    post,
    path = "/api/studies/{id}/join",
    tag = "members",
    operation_id = "join_study",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    request_body(content = Option<JoinRequest>, description = "Optional: a note and an invite code"),
    responses(
        (status = 201, description = "The caller's membership: ACTIVE or PENDING", body = Member),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
    ),
)]
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

/// Leave a study, or withdraw a pending request (the OWNER cannot leave).
#[utoipa::path(
    method(post, delete),
    path = "/api/studies/{id}/leave",
    tag = "members",
    operation_id = "leave_study",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    responses(
        (status = 204, description = "The caller is no longer a member"),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
    ),
)]
async fn leave(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| membership::leave(tx, caller, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pending join requests (OWNER and ADMINs).
#[utoipa::path(
    get,
    path = "/api/studies/{id}/join-requests",
    tag = "members",
    operation_id = "list_join_requests",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study"), PageRequest),
    responses(
        (status = 200, description = "A page of pending memberships", body = Page<Member>),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
    ),
)]
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

/// The study's active members (members only).
#[utoipa::path(
    get,
    path = "/api/studies/{id}/members",
    tag = "members",
    operation_id = "list_members",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study"), PageRequest),
    responses(
        (status = 200, description = "A page of members", body = Page<Member>),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
    ),
)]
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

/// Accept a join request (OWNER and ADMINs).
#[utoipa::path(
    post,
    path = "/api/studies/{id}/members/{user_id}/approve",
    tag = "members",
    operation_id = "approve_member",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("user_id" = UserId, Path, description = "The member or requester"),
    ),
    responses(
        (status = 200, description = "The new member", body = Member),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
    ),
)]
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

/// Refuse a join request (OWNER and ADMINs).
#[utoipa::path(
    post,
    path = "/api/studies/{id}/members/{user_id}/reject",
    tag = "members",
    operation_id = "reject_member",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("user_id" = UserId, Path, description = "The member or requester"),
    ),
    responses(
        (status = 204, description = "The request is gone"),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
    ),
)]
async fn reject(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(StudyId, UserId)>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| membership::reject(tx, caller, id, user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change a member's role (OWNER only).
///
/// Making someone OWNER hands the study over; the previous OWNER becomes an ADMIN.
#[utoipa::path(
    method(post, put, patch),
    path = "/api/studies/{id}/members/{user_id}/role",
    tag = "members",
    operation_id = "change_role",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("user_id" = UserId, Path, description = "The member or requester"),
    ),
    request_body = RoleChange,
    responses(
        (status = 200, description = "The member with the new role", body = Member),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
    ),
)]
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

/// Remove a member (the OWNER anyone, an ADMIN only MEMBERs).
#[utoipa::path(
    delete,
    path = "/api/studies/{id}/members/{user_id}",
    tag = "members",
    operation_id = "kick_member",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("user_id" = UserId, Path, description = "The member or requester"),
    ),
    responses(
        (status = 204, description = "The member is removed"),
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
    ),
)]
async fn kick(
    State(app): State<AppState>,
    auth: Auth,
    Path((id, user)): Path<(StudyId, UserId)>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| membership::kick(tx, caller, id, user)).await?;
    Ok(StatusCode::NO_CONTENT)
}
