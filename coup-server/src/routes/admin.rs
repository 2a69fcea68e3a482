//! `/api/admin/*`: platform administration (platform ADMINs and SYSTEM_ADMINs).

use axum::extract::State;
use axum::http::StatusCode;
use coup_core::api::paths;
use coup_core::ids::{ReportId, StudyId, UserId};
use coup_core::model::{
    AdminStats, AdminStudyDetail, AdminUserDetail, AuditEntry, Page, PageRequest, Report, Study,
    User,
};
use coup_core::service::admin::{
    self, AdminStudyQuery, DeleteReason, ProcessReport, ReportQuery, Suspension, UserQuery,
};
use utoipa_axum::routes;

use super::{Routes, read, write};
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Path, Query};
use crate::openapi::{InputErrors, SessionErrors, StateErrors, TargetErrors};
use crate::state::AppState;

pub(super) fn routes() -> Routes {
    vec![
        routes!(stats),
        routes!(users),
        routes!(user),
        routes!(suspend),
        routes!(restore),
        routes!(studies),
        routes!(study, delete_study),
        routes!(reports),
        routes!(report),
        routes!(process),
        routes!(audit_log),
    ]
}

/// Platform-wide counters.
#[utoipa::path(
    get,
    path = paths::ADMIN_STATS,
    tag = "admin",
    operation_id = "admin_stats",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The counters", body = AdminStats),
        SessionErrors,
    ),
)]
async fn stats(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<AdminStats>> {
    let caller = auth.caller();
    Ok(Json(read(&app, move |tx| admin::stats(tx, caller)).await?))
}

/// Search users.
#[utoipa::path(
    get,
    path = paths::ADMIN_USERS,
    tag = "admin",
    operation_id = "admin_list_users",
    security(("bearer" = [])),
    params(
        UserQuery,
    ),
    responses(
        (status = 200, description = "A page of users", body = Page<User>),
        InputErrors,
    ),
)]
async fn users(
    State(app): State<AppState>,
    auth: Auth,
    Query(q): Query<UserQuery>,
) -> ApiResult<Json<Page<User>>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| admin::list_users(tx, caller, q)).await?,
    ))
}

/// One user with their activity counts and audit trail.
#[utoipa::path(
    get,
    path = paths::ADMIN_USER,
    tag = "admin",
    operation_id = "admin_get_user",
    security(("bearer" = [])),
    params(
        ("id" = UserId, Path, description = "The user"),
    ),
    responses(
        (status = 200, description = "The user", body = AdminUserDetail),
        TargetErrors,
    ),
)]
async fn user(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<UserId>,
) -> ApiResult<Json<AdminUserDetail>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| admin::user_detail(tx, caller, id)).await?,
    ))
}

/// Suspend a user, for a time or until restored; their sessions stop working.
#[utoipa::path(
    post,
    path = paths::ADMIN_SUSPEND,
    tag = "admin",
    operation_id = "admin_suspend_user",
    security(("bearer" = [])),
    params(
        ("id" = UserId, Path, description = "The user"),
    ),
    request_body = Suspension,
    responses(
        (status = 200, description = "The suspended user", body = User),
        StateErrors,
    ),
)]
async fn suspend(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<UserId>,
    Json(input): Json<Suspension>,
) -> ApiResult<Json<User>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| admin::suspend(tx, caller, id, input)).await?,
    ))
}

/// Lift a user's suspension.
#[utoipa::path(
    post,
    path = paths::ADMIN_RESTORE,
    tag = "admin",
    operation_id = "admin_restore_user",
    security(("bearer" = [])),
    params(
        ("id" = UserId, Path, description = "The user"),
    ),
    responses(
        (status = 200, description = "The restored user", body = User),
        StateErrors,
    ),
)]
async fn restore(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<UserId>,
) -> ApiResult<Json<User>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| admin::restore(tx, caller, id)).await?,
    ))
}

/// Search studies, deleted ones too when asked.
#[utoipa::path(
    get,
    path = paths::ADMIN_STUDIES,
    tag = "admin",
    operation_id = "admin_list_studies",
    security(("bearer" = [])),
    params(
        AdminStudyQuery,
    ),
    responses(
        (status = 200, description = "A page of studies", body = Page<Study>),
        InputErrors,
    ),
)]
async fn studies(
    State(app): State<AppState>,
    auth: Auth,
    Query(q): Query<AdminStudyQuery>,
) -> ApiResult<Json<Page<Study>>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| admin::list_studies(tx, caller, q)).await?,
    ))
}

/// One study (deleted ones included) with its members and counts.
#[utoipa::path(
    get,
    path = paths::ADMIN_STUDY,
    tag = "admin",
    operation_id = "admin_get_study",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
    ),
    responses(
        (status = 200, description = "The study", body = AdminStudyDetail),
        TargetErrors,
    ),
)]
async fn study(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
) -> ApiResult<Json<AdminStudyDetail>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| admin::study_detail(tx, caller, id)).await?,
    ))
}

/// Delete a study; its members are notified.
#[utoipa::path(
    delete,
    path = paths::ADMIN_STUDY,
    tag = "admin",
    operation_id = "admin_delete_study",
    security(("bearer" = [])),
    params(
        ("id" = StudyId, Path, description = "The study"),
        DeleteReason,
    ),
    responses(
        (status = 204, description = "The study is deleted"),
        TargetErrors,
    ),
)]
async fn delete_study(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<StudyId>,
    Query(q): Query<DeleteReason>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| {
        admin::delete_study(tx, caller, id, q.reason)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List reports.
#[utoipa::path(
    get,
    path = paths::ADMIN_REPORTS,
    tag = "admin",
    operation_id = "admin_list_reports",
    security(("bearer" = [])),
    params(
        ReportQuery,
    ),
    responses(
        (status = 200, description = "A page of reports", body = Page<Report>),
        InputErrors,
    ),
)]
async fn reports(
    State(app): State<AppState>,
    auth: Auth,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Json<Page<Report>>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| admin::list_reports(tx, caller, q)).await?,
    ))
}

/// One report.
#[utoipa::path(
    get,
    path = paths::ADMIN_REPORT,
    tag = "admin",
    operation_id = "admin_get_report",
    security(("bearer" = [])),
    params(
        ("id" = ReportId, Path, description = "The report"),
    ),
    responses(
        (status = 200, description = "The report", body = Report),
        TargetErrors,
    ),
)]
async fn report(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<ReportId>,
) -> ApiResult<Json<Report>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| admin::report_detail(tx, caller, id)).await?,
    ))
}

/// Decide a pending report: dismiss, warn, suspend the user or delete the content.
#[utoipa::path(
    post,
    path = paths::ADMIN_PROCESS,
    tag = "admin",
    operation_id = "admin_process_report",
    security(("bearer" = [])),
    params(
        ("id" = ReportId, Path, description = "The report"),
    ),
    request_body = ProcessReport,
    responses(
        (status = 200, description = "The processed report", body = Report),
        StateErrors,
    ),
)]
async fn process(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<ReportId>,
    Json(input): Json<ProcessReport>,
) -> ApiResult<Json<Report>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| admin::process_report(tx, caller, id, input)).await?,
    ))
}

/// The audit log of admin actions, newest first.
#[utoipa::path(
    get,
    path = paths::AUDIT_LOG,
    tag = "admin",
    operation_id = "admin_audit_log",
    security(("bearer" = [])),
    params(
        PageRequest,
    ),
    responses(
        (status = 200, description = "A page of audit entries", body = Page<AuditEntry>),
        InputErrors,
    ),
)]
async fn audit_log(
    State(app): State<AppState>,
    auth: Auth,
    Query(page): Query<PageRequest>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| admin::audit_log(tx, caller, page)).await?,
    ))
}
