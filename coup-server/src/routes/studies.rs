//! `/api/studies` and membership: search, create, read, edit, delete, invite codes,
//! join, leave, requests, members, roles, kicks.

use axum::extract::State;
use axum::http::StatusCode;
use coup_core::api::paths;
use coup_core::ids::{StudyId, UserId};
use coup_core::model::{Member, Page, PageRequest, Study};
use coup_core::service::membership::{self, JoinRequest, RoleChange};
use coup_core::service::studies::{self, InviteCode, NewStudy, StudyPatch, StudyQuery};
use utoipa_axum::routes;

use super::{Routes, read, write};
use crate::error::ApiResult;
use crate::extract::{Auth, Json, OptionalJson, Path, Query};
use crate::openapi::{InputErrors, StateErrors, TargetErrors};
use crate::state::AppState;

pub(super) fn routes() -> Routes {
    vec![
        routes!(list, create),
        routes!(get_one, update, remove),
        routes!(invite_code, regenerate_invite_code),
        routes!(join),
        routes!(leave),
        routes!(join_requests),
        routes!(members),
        routes!(kick),
        routes!(approve),
        routes!(reject),
        routes!(role),
    ]
}

/// Search public studies (and the caller's private ones).
///
/// Anonymous callers see public studies only.
#[utoipa::path(
    get,
    path = paths::STUDIES,
    tag = "studies",
    operation_id = "list_studies",
    security((), ("bearer" = [])),
    params(StudyQuery),
    responses(
        (status = 200, description = "A page of studies", body = Page<Study>),
        InputErrors,
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
    path = paths::STUDIES,
    tag = "studies",
    operation_id = "create_study",
    security(("bearer" = [])),
    request_body = NewStudy,
    responses(
        (status = 201, description = "The new study", body = Study),
        InputErrors,
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
    path = paths::STUDY,
    tag = "studies",
    operation_id = "get_study",
    security((), ("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    responses(
        (status = 200, description = "The study", body = Study),
        TargetErrors,
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
    path = paths::STUDY,
    tag = "studies",
    operation_id = "update_study",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    request_body = StudyPatch,
    responses(
        (status = 200, description = "The updated study", body = Study),
        TargetErrors,
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
    path = paths::STUDY,
    tag = "studies",
    operation_id = "delete_study",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    responses(
        (status = 204, description = "The study is deleted"),
        TargetErrors,
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
    path = paths::INVITE_CODE,
    tag = "studies",
    operation_id = "get_invite_code",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    responses(
        (status = 200, description = "The current code", body = InviteCode),
        TargetErrors,
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
    path = paths::INVITE_CODE,
    tag = "studies",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    responses(
        (status = 200, description = "The new code", body = InviteCode),
        TargetErrors,
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
    path = paths::JOIN,
    tag = "members",
    operation_id = "join_study",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    request_body(content = Option<JoinRequest>, description = "Optional: a note and an invite code"),
    responses(
        (status = 201, description = "The caller's membership: ACTIVE or PENDING", body = Member),
        StateErrors,
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
    path = paths::LEAVE,
    tag = "members",
    operation_id = "leave_study",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study")),
    responses(
        (status = 204, description = "The caller is no longer a member"),
        StateErrors,
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
    path = paths::JOIN_REQUESTS,
    tag = "members",
    operation_id = "list_join_requests",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study"), PageRequest),
    responses(
        (status = 200, description = "A page of pending memberships", body = Page<Member>),
        TargetErrors,
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
    path = paths::MEMBERS,
    tag = "members",
    operation_id = "list_members",
    security(("bearer" = [])),
    params(("id" = StudyId, Path, description = "The study"), PageRequest),
    responses(
        (status = 200, description = "A page of members", body = Page<Member>),
        TargetErrors,
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
    path = paths::MEMBER_APPROVE,
    tag = "members",
    operation_id = "approve_member",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("user_id" = UserId, Path, description = "The member or requester"),
    ),
    responses(
        (status = 200, description = "The new member", body = Member),
        StateErrors,
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
    path = paths::MEMBER_REJECT,
    tag = "members",
    operation_id = "reject_member",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("user_id" = UserId, Path, description = "The member or requester"),
    ),
    responses(
        (status = 204, description = "The request is gone"),
        StateErrors,
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
    path = paths::MEMBER_ROLE,
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
        StateErrors,
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
    path = paths::MEMBER,
    tag = "members",
    operation_id = "kick_member",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        ("user_id" = UserId, Path, description = "The member or requester"),
    ),
    responses(
        (status = 204, description = "The member is removed"),
        StateErrors,
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
