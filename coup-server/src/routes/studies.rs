//! `/api/studies` and membership: search, create, read, edit, delete, invite codes,
//! join, leave, requests, members, roles, kicks.

use axum::http::StatusCode;
use coup_core::api::paths::{self, MemberPath, StudyPath};
use coup_core::model::{Member, Page, PageRequest, Study};
use coup_core::service::membership::{self, JoinRequest, RoleChange};
use coup_core::service::studies::{self, InviteCode, NewStudy, StudyPatch, StudyQuery};
use utoipa_axum::routes;

use super::{Answer, Created, Routes, signed_in};
use crate::error::ApiResult;
use crate::extract::{Api, InStudy, Json, OptionalJson, Path, Query};
use crate::openapi::{InputErrors, StateErrors, TargetErrors};

pub(super) fn routes() -> Routes {
    let studies = signed_in(
        "studies",
        vec![
            routes!(list_studies, create_study),
            routes!(get_study, update_study, delete_study),
            routes!(get_invite_code, regenerate_invite_code),
        ],
    );
    let members = signed_in(
        "members",
        vec![
            routes!(join_study),
            routes!(leave_study),
            routes!(list_join_requests),
            routes!(list_members),
            routes!(kick_member),
            routes!(approve_member),
            routes!(reject_member),
            routes!(change_role),
        ],
    );
    [studies, members].concat()
}

/// Search public studies (and the caller's private ones).
///
/// Anonymous callers see public studies only.
#[utoipa::path(get, path = paths::STUDIES, security((), ("bearer" = [])), params(StudyQuery),
    responses((status = 200, description = "A page of studies", body = Page<Study>), InputErrors))]
async fn list_studies(api: Api, Query(q): Query<StudyQuery>) -> Answer<Page<Study>> {
    api.read(move |tx, caller| studies::list(tx, caller, q))
        .await
}

/// Create a study; the caller becomes its OWNER.
#[utoipa::path(post, path = paths::STUDIES,
    responses((status = 201, description = "The new study", body = Study), InputErrors))]
async fn create_study(api: Api, Json(input): Json<NewStudy>) -> Created<Study> {
    api.created(move |tx, caller| studies::create(tx, caller, input))
        .await
}

/// One study.
///
/// A private study is found only by its members and requesters.
#[utoipa::path(get, path = paths::STUDY, security((), ("bearer" = [])), params(StudyPath),
    responses((status = 200, description = "The study", body = Study), TargetErrors))]
async fn get_study(study: InStudy) -> Answer<Study> {
    study.read(studies::get).await
}

/// Change a study (OWNER only); absent fields stay as they are.
#[utoipa::path(method(patch, put), path = paths::STUDY, params(StudyPath),
    responses((status = 200, description = "The updated study", body = Study), TargetErrors))]
async fn update_study(study: InStudy, Json(patch): Json<StudyPatch>) -> Answer<Study> {
    study
        .write(move |tx, caller, id| studies::update(tx, caller, id, patch))
        .await
}

/// Delete a study (OWNER only).
#[utoipa::path(delete, path = paths::STUDY, params(StudyPath),
    responses((status = 204, description = "The study is deleted"), TargetErrors))]
async fn delete_study(study: InStudy) -> ApiResult<StatusCode> {
    study.no_content(studies::delete).await
}

/// The study's invite code (OWNER and ADMINs).
#[utoipa::path(get, path = paths::INVITE_CODE, params(StudyPath),
    responses((status = 200, description = "The current code", body = InviteCode), TargetErrors))]
async fn get_invite_code(study: InStudy) -> Answer<InviteCode> {
    study.read(studies::invite_code).await
}

/// Replace the study's invite code (OWNER and ADMINs); the old one stops working.
#[utoipa::path(post, path = paths::INVITE_CODE, params(StudyPath),
    responses((status = 200, description = "The new code", body = InviteCode), TargetErrors))]
async fn regenerate_invite_code(study: InStudy) -> Answer<InviteCode> {
    study.write(studies::regenerate_invite_code).await
}

/// Join a study, or ask to.
///
/// The body is optional. With an auto-join policy or a valid invite code the caller
/// becomes a MEMBER at once; otherwise the membership is PENDING until a manager
/// decides.
#[utoipa::path(
    post,
    path = paths::JOIN,
    params(StudyPath),
    request_body(content = Option<JoinRequest>, description = "Optional: a note and an invite code"),
    responses(
        (status = 201, description = "The caller's membership: ACTIVE or PENDING", body = Member),
        StateErrors,
    ),
)]
async fn join_study(
    study: InStudy,
    OptionalJson(body): OptionalJson<JoinRequest>,
) -> Created<Member> {
    let input = body.unwrap_or_default();
    study
        .created(move |tx, caller, id| membership::join(tx, caller, id, input))
        .await
}

/// Leave a study, or withdraw a pending request (the OWNER cannot leave).
#[utoipa::path(method(post, delete), path = paths::LEAVE, params(StudyPath),
    responses((status = 204, description = "The caller is no longer a member"), StateErrors))]
async fn leave_study(study: InStudy) -> ApiResult<StatusCode> {
    study.no_content(membership::leave).await
}

/// Pending join requests (OWNER and ADMINs).
#[utoipa::path(get, path = paths::JOIN_REQUESTS, params(StudyPath, PageRequest), responses(
    (status = 200, description = "A page of pending memberships", body = Page<Member>),
    TargetErrors,
))]
async fn list_join_requests(
    study: InStudy,
    Query(page): Query<PageRequest>,
) -> Answer<Page<Member>> {
    study
        .read(move |tx, caller, id| membership::list_join_requests(tx, caller, id, page))
        .await
}

/// The study's active members (members only).
#[utoipa::path(get, path = paths::MEMBERS, params(StudyPath, PageRequest), responses(
    (status = 200, description = "A page of members", body = Page<Member>), TargetErrors))]
async fn list_members(study: InStudy, Query(page): Query<PageRequest>) -> Answer<Page<Member>> {
    study
        .read(move |tx, caller, id| membership::list_members(tx, caller, id, page))
        .await
}

/// Accept a join request (OWNER and ADMINs).
#[utoipa::path(post, path = paths::MEMBER_APPROVE, params(MemberPath),
    responses((status = 200, description = "The new member", body = Member), StateErrors))]
async fn approve_member(api: Api, Path(at): Path<MemberPath>) -> Answer<Member> {
    api.write(move |tx, caller| membership::approve(tx, caller, at.id, at.user_id))
        .await
}

/// Refuse a join request (OWNER and ADMINs).
#[utoipa::path(post, path = paths::MEMBER_REJECT, params(MemberPath),
    responses((status = 204, description = "The request is gone"), StateErrors))]
async fn reject_member(api: Api, Path(at): Path<MemberPath>) -> ApiResult<StatusCode> {
    api.no_content(move |tx, caller| membership::reject(tx, caller, at.id, at.user_id))
        .await
}

/// Change a member's role (OWNER only).
///
/// Making someone OWNER hands the study over; the previous OWNER becomes an ADMIN.
#[utoipa::path(method(post, put, patch), path = paths::MEMBER_ROLE, params(MemberPath), responses(
    (status = 200, description = "The member with the new role", body = Member), StateErrors))]
async fn change_role(
    api: Api,
    Path(at): Path<MemberPath>,
    Json(change): Json<RoleChange>,
) -> Answer<Member> {
    api.write(move |tx, caller| membership::change_role(tx, caller, at.id, at.user_id, change))
        .await
}

/// Remove a member (the OWNER anyone, an ADMIN only MEMBERs).
#[utoipa::path(delete, path = paths::MEMBER, params(MemberPath),
    responses((status = 204, description = "The member is removed"), StateErrors))]
async fn kick_member(api: Api, Path(at): Path<MemberPath>) -> ApiResult<StatusCode> {
    api.no_content(move |tx, caller| membership::kick(tx, caller, at.id, at.user_id))
        .await
}
