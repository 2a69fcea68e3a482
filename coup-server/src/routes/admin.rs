//! `/api/admin/*`: platform administration (platform ADMINs and SYSTEM_ADMINs).

use axum::http::StatusCode;
use coup_core::api::paths::{self, ReportPath, StudyPath, UserPath};
use coup_core::model::{
    AdminStats, AdminStudyDetail, AdminUserDetail, AuditEntry, Page, PageRequest, Report, Study,
    User,
};
use coup_core::service::admin::{
    self, AdminStudyQuery, DeleteReason, ProcessReport, ReportQuery, Suspension, UserQuery,
};
use utoipa_axum::routes;

use super::{Answer, Routes, signed_in};
use crate::error::ApiResult;
use crate::extract::{Api, InStudy, Json, Path, Query};
use crate::openapi::{InputErrors, SessionErrors, StateErrors, TargetErrors};

pub(super) fn routes() -> Routes {
    signed_in(
        "admin",
        vec![
            routes!(admin_stats),
            routes!(admin_list_users),
            routes!(admin_get_user),
            routes!(admin_suspend_user),
            routes!(admin_restore_user),
            routes!(admin_list_studies),
            routes!(admin_get_study, admin_delete_study),
            routes!(admin_list_reports),
            routes!(admin_get_report),
            routes!(admin_process_report),
            routes!(admin_audit_log),
        ],
    )
}

/// Platform-wide counters.
#[utoipa::path(get, path = paths::ADMIN_STATS,
    responses((status = 200, description = "The counters", body = AdminStats), SessionErrors))]
async fn admin_stats(api: Api) -> Answer<AdminStats> {
    api.read(admin::stats).await
}

/// Search users.
#[utoipa::path(get, path = paths::ADMIN_USERS, params(UserQuery),
    responses((status = 200, description = "A page of users", body = Page<User>), InputErrors))]
async fn admin_list_users(api: Api, Query(q): Query<UserQuery>) -> Answer<Page<User>> {
    api.read(move |tx, caller| admin::list_users(tx, caller, q))
        .await
}

/// One user with their activity counts and audit trail.
#[utoipa::path(get, path = paths::ADMIN_USER, params(UserPath),
    responses((status = 200, description = "The user", body = AdminUserDetail), TargetErrors))]
async fn admin_get_user(
    api: Api,
    Path(UserPath { id }): Path<UserPath>,
) -> Answer<AdminUserDetail> {
    api.read(move |tx, caller| admin::user_detail(tx, caller, id))
        .await
}

/// Suspend a user, for a time or until restored; their sessions stop working.
#[utoipa::path(post, path = paths::ADMIN_SUSPEND, params(UserPath),
    responses((status = 200, description = "The suspended user", body = User), StateErrors))]
async fn admin_suspend_user(
    api: Api,
    Path(UserPath { id }): Path<UserPath>,
    Json(input): Json<Suspension>,
) -> Answer<User> {
    api.write(move |tx, caller| admin::suspend(tx, caller, id, input))
        .await
}

/// Lift a user's suspension.
#[utoipa::path(post, path = paths::ADMIN_RESTORE, params(UserPath),
    responses((status = 200, description = "The restored user", body = User), StateErrors))]
async fn admin_restore_user(api: Api, Path(UserPath { id }): Path<UserPath>) -> Answer<User> {
    api.write(move |tx, caller| admin::restore(tx, caller, id))
        .await
}

/// Search studies, deleted ones too when asked.
#[utoipa::path(get, path = paths::ADMIN_STUDIES, params(AdminStudyQuery),
    responses((status = 200, description = "A page of studies", body = Page<Study>), InputErrors))]
async fn admin_list_studies(api: Api, Query(q): Query<AdminStudyQuery>) -> Answer<Page<Study>> {
    api.read(move |tx, caller| admin::list_studies(tx, caller, q))
        .await
}

/// One study (deleted ones included) with its members and counts.
#[utoipa::path(get, path = paths::ADMIN_STUDY, params(StudyPath),
    responses((status = 200, description = "The study", body = AdminStudyDetail), TargetErrors))]
async fn admin_get_study(study: InStudy) -> Answer<AdminStudyDetail> {
    study.read(admin::study_detail).await
}

/// Delete a study; its members are notified.
#[utoipa::path(delete, path = paths::ADMIN_STUDY, params(StudyPath, DeleteReason),
    responses((status = 204, description = "The study is deleted"), TargetErrors))]
async fn admin_delete_study(
    study: InStudy,
    Query(q): Query<DeleteReason>,
) -> ApiResult<StatusCode> {
    study
        .no_content(move |tx, caller, id| admin::delete_study(tx, caller, id, q.reason))
        .await
}

/// List reports.
#[utoipa::path(get, path = paths::ADMIN_REPORTS, params(ReportQuery),
    responses((status = 200, description = "A page of reports", body = Page<Report>), InputErrors))]
async fn admin_list_reports(api: Api, Query(q): Query<ReportQuery>) -> Answer<Page<Report>> {
    api.read(move |tx, caller| admin::list_reports(tx, caller, q))
        .await
}

/// One report.
#[utoipa::path(get, path = paths::ADMIN_REPORT, params(ReportPath),
    responses((status = 200, description = "The report", body = Report), TargetErrors))]
async fn admin_get_report(api: Api, Path(ReportPath { id }): Path<ReportPath>) -> Answer<Report> {
    api.read(move |tx, caller| admin::report_detail(tx, caller, id))
        .await
}

/// Decide a pending report: dismiss, warn, suspend the user or delete the content.
#[utoipa::path(post, path = paths::ADMIN_PROCESS, params(ReportPath),
    responses((status = 200, description = "The processed report", body = Report), StateErrors))]
async fn admin_process_report(
    api: Api,
    Path(ReportPath { id }): Path<ReportPath>,
    Json(input): Json<ProcessReport>,
) -> Answer<Report> {
    api.write(move |tx, caller| admin::process_report(tx, caller, id, input))
        .await
}

/// The audit log of admin actions, newest first.
#[utoipa::path(get, path = paths::AUDIT_LOG, params(PageRequest), responses(
    (status = 200, description = "A page of audit entries", body = Page<AuditEntry>), InputErrors))]
async fn admin_audit_log(api: Api, Query(page): Query<PageRequest>) -> Answer<Page<AuditEntry>> {
    api.read(move |tx, caller| admin::audit_log(tx, caller, page))
        .await
}
