//! Platform administration (`/api/admin`): stats, users (suspend with a reason
//! and an optional end, restore), studies, reports and the audit log. The server
//! refuses non-admins; these only pass the calls through.

use coup_core::api::admin::{
    AdminStudyQuery, DeleteReason, ProcessReport, ReportQuery, Suspension, UserQuery,
};
use coup_core::ids::{ReportId, StudyId, UserId};
use coup_core::model::{AdminStats, AuditEntry, Page, PageRequest, Report, Study, User};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
pub async fn admin_stats(state: State<'_, AppState>) -> CommandResult<AdminStats> {
    state
        .rest(|api| async move { api.admin_stats().await })
        .await
}

#[tauri::command]
pub async fn admin_users(
    state: State<'_, AppState>,
    query: UserQuery,
) -> CommandResult<Page<User>> {
    state
        .rest(move |api| async move { api.admin_users(&query).await })
        .await
}

#[tauri::command]
pub async fn suspend_user(
    state: State<'_, AppState>,
    user_id: UserId,
    input: Suspension,
) -> CommandResult<User> {
    state
        .rest(move |api| async move { api.suspend_user(user_id, &input).await })
        .await
}

#[tauri::command]
pub async fn restore_user(state: State<'_, AppState>, user_id: UserId) -> CommandResult<User> {
    state
        .rest(move |api| async move { api.restore_user(user_id).await })
        .await
}

#[tauri::command]
pub async fn admin_studies(
    state: State<'_, AppState>,
    query: AdminStudyQuery,
) -> CommandResult<Page<Study>> {
    state
        .rest(move |api| async move { api.admin_studies(&query).await })
        .await
}

#[tauri::command]
pub async fn admin_delete_study(
    state: State<'_, AppState>,
    study_id: StudyId,
    reason: Option<String>,
) -> CommandResult<()> {
    let reason = DeleteReason { reason };
    state
        .rest(move |api| async move { api.admin_delete_study(study_id, &reason).await })
        .await
}

#[tauri::command]
pub async fn admin_reports(
    state: State<'_, AppState>,
    query: ReportQuery,
) -> CommandResult<Page<Report>> {
    state
        .rest(move |api| async move { api.admin_reports(&query).await })
        .await
}

#[tauri::command]
pub async fn process_report(
    state: State<'_, AppState>,
    report_id: ReportId,
    input: ProcessReport,
) -> CommandResult<Report> {
    state
        .rest(move |api| async move { api.process_report(report_id, &input).await })
        .await
}

#[tauri::command]
pub async fn audit_log(
    state: State<'_, AppState>,
    page: u32,
    limit: u32,
) -> CommandResult<Page<AuditEntry>> {
    let page = PageRequest {
        page: Some(page),
        limit: Some(limit),
    };
    state
        .rest(move |api| async move { api.audit_log(page).await })
        .await
}
