//! `/api/admin/*`: platform administration (platform ADMINs and SYSTEM_ADMINs).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use coup_core::ids::{ReportId, StudyId, UserId};
use coup_core::model::{
    AdminStats, AdminStudyDetail, AdminUserDetail, AuditEntry, Page, PageRequest, Report, Study,
    User,
};
use coup_core::service::admin::{
    self, AdminStudyQuery, ProcessReport, ReportQuery, Suspension, UserQuery,
};

use super::{read, write};
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Path, Query};
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/admin/stats", get(stats))
        .route("/api/admin/users", get(users))
        .route("/api/admin/users/{id}", get(user))
        .route("/api/admin/users/{id}/suspend", post(suspend))
        .route("/api/admin/users/{id}/restore", post(restore))
        .route("/api/admin/studies", get(studies))
        .route("/api/admin/studies/{id}", get(study).delete(delete_study))
        .route("/api/admin/reports", get(reports))
        .route("/api/admin/reports/{id}", get(report))
        .route("/api/admin/reports/{id}/process", post(process))
        .route("/api/admin/audit-log", get(audit_log))
}

async fn stats(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<AdminStats>> {
    let caller = auth.caller();
    Ok(Json(read(&app, move |tx| admin::stats(tx, caller)).await?))
}

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

#[derive(serde::Deserialize)]
struct DeleteReason {
    reason: Option<String>,
}

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
