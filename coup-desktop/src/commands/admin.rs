//! Platform administration (`/api/admin`): stats, users (suspend with a reason
//! and an optional end, restore), studies, reports and the audit log. The server
//! refuses non-admins; these only pass the calls through.

use coup_core::api::admin::{
    AdminStudyQuery, DeleteReason, ProcessReport, ReportQuery, Suspension, UserQuery,
};
use coup_core::ids::{ReportId, StudyId, UserId};
use coup_core::model::{AdminStats, AuditEntry, Page, PageRequest, Report, Study, User};

rest_commands! {
    rest admin_stats() -> AdminStats = |api| api.admin_stats();
    rest admin_users(query: UserQuery) -> Page<User> = |api| api.admin_users(&query);
    rest suspend_user(user_id: UserId, input: Suspension) -> User
        = |api| api.suspend_user(user_id, &input);
    rest restore_user(user_id: UserId) -> User = |api| api.restore_user(user_id);
    rest admin_studies(query: AdminStudyQuery) -> Page<Study> = |api| api.admin_studies(&query);
    rest admin_reports(query: ReportQuery) -> Page<Report> = |api| api.admin_reports(&query);
    rest process_report(report_id: ReportId, input: ProcessReport) -> Report
        = |api| api.process_report(report_id, &input);
    rest admin_delete_study(study_id: StudyId, reason: Option<String>) -> ()
        = |api| api.admin_delete_study(study_id, &DeleteReason { reason });
    rest audit_log(page: u32, limit: u32) -> Page<AuditEntry>
        = |api| api.audit_log(PageRequest { page: Some(page), limit: Some(limit) });
}
