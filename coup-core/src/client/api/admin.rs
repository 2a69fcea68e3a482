//! Platform administration (the server's `routes/admin.rs`).

use reqwest::Method;

use crate::api::admin::{
    AdminStudyQuery, DeleteReason, ProcessReport, ReportQuery, Suspension, UserQuery,
};
use crate::api::paths;
use crate::error::Result;
use crate::ids::{ReportId, StudyId, UserId};
use crate::model::{
    AdminStats, AdminStudyDetail, AdminUserDetail, AuditEntry, Page, PageRequest, Report, Study,
    User,
};

use super::ApiClient;

impl ApiClient {
    /// `GET /api/admin/stats`.
    pub async fn admin_stats(&self) -> Result<AdminStats> {
        self.get(paths::ADMIN_STATS).await
    }

    /// `GET /api/admin/users`.
    pub async fn admin_users(&self, query: &UserQuery) -> Result<Page<User>> {
        self.get_query(paths::ADMIN_USERS, query).await
    }

    /// `GET /api/admin/users/{id}`.
    pub async fn admin_user(&self, id: UserId) -> Result<AdminUserDetail> {
        self.get(&paths::fill(paths::ADMIN_USER, &[&id])).await
    }

    /// `POST /api/admin/users/{id}/suspend`.
    pub async fn suspend_user(&self, id: UserId, input: &Suspension) -> Result<User> {
        self.send_json(
            Method::POST,
            &paths::fill(paths::ADMIN_SUSPEND, &[&id]),
            input,
        )
        .await
    }

    /// `POST /api/admin/users/{id}/restore`.
    pub async fn restore_user(&self, id: UserId) -> Result<User> {
        self.post_empty(&paths::fill(paths::ADMIN_RESTORE, &[&id]))
            .await
    }

    /// `GET /api/admin/studies`.
    pub async fn admin_studies(&self, query: &AdminStudyQuery) -> Result<Page<Study>> {
        self.get_query(paths::ADMIN_STUDIES, query).await
    }

    /// `GET /api/admin/studies/{id}`.
    pub async fn admin_study(&self, id: StudyId) -> Result<AdminStudyDetail> {
        self.get(&paths::fill(paths::ADMIN_STUDY, &[&id])).await
    }

    /// `DELETE /api/admin/studies/{id}?reason=`.
    pub async fn admin_delete_study(&self, id: StudyId, reason: &DeleteReason) -> Result<()> {
        self.call_empty(
            self.request(Method::DELETE, &paths::fill(paths::ADMIN_STUDY, &[&id]))
                .query(reason),
        )
        .await
    }

    /// `GET /api/admin/reports`.
    pub async fn admin_reports(&self, query: &ReportQuery) -> Result<Page<Report>> {
        self.get_query(paths::ADMIN_REPORTS, query).await
    }

    /// `GET /api/admin/reports/{id}`.
    pub async fn admin_report(&self, id: ReportId) -> Result<Report> {
        self.get(&paths::fill(paths::ADMIN_REPORT, &[&id])).await
    }

    /// `POST /api/admin/reports/{id}/process`.
    pub async fn process_report(&self, id: ReportId, input: &ProcessReport) -> Result<Report> {
        self.send_json(
            Method::POST,
            &paths::fill(paths::ADMIN_PROCESS, &[&id]),
            input,
        )
        .await
    }

    /// `GET /api/admin/audit-log`.
    pub async fn audit_log(&self, page: PageRequest) -> Result<Page<AuditEntry>> {
        self.get_query(paths::AUDIT_LOG, &page).await
    }
}
