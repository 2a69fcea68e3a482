//! The caller's own things: dashboard, my studies, notifications, tasks and
//! reports (the server's `routes/me.rs`).

use reqwest::Method;

use crate::api::notifications::{MarkedRead, NotificationPage, NotificationQuery};
use crate::api::paths;
use crate::api::reports::NewReport;
use crate::api::studies::MyStudiesQuery;
use crate::api::tasks::{NewTask, TaskPatch, TaskQuery};
use crate::error::Result;
use crate::ids::{NotificationId, TaskId};
use crate::model::{Dashboard, Notification, Page, Report, Study, Task};

use super::ApiClient;

impl ApiClient {
    /// `GET /api/dashboard`.
    pub async fn dashboard(&self) -> Result<Dashboard> {
        self.get(paths::DASHBOARD).await
    }

    /// `GET /api/my-studies`.
    pub async fn my_studies(&self, query: &MyStudiesQuery) -> Result<Page<Study>> {
        self.get_query(paths::MY_STUDIES, query).await
    }

    /// `GET /api/notifications`.
    pub async fn notifications(&self, query: &NotificationQuery) -> Result<NotificationPage> {
        self.get_query(paths::NOTIFICATIONS, query).await
    }

    /// `POST /api/notifications/{id}/read`.
    pub async fn mark_notification_read(&self, id: NotificationId) -> Result<Notification> {
        self.post_empty(&paths::fill(paths::NOTIFICATION_READ, &[&id]))
            .await
    }

    /// `POST /api/notifications/mark-all-read`.
    pub async fn mark_all_notifications_read(&self) -> Result<MarkedRead> {
        self.post_empty(paths::NOTIFICATIONS_READ).await
    }

    /// `GET /api/tasks`.
    pub async fn tasks(&self, query: &TaskQuery) -> Result<Page<Task>> {
        self.get_query(paths::TASKS, query).await
    }

    /// `POST /api/tasks`; with a `clientId`, creating again returns the first task.
    pub async fn create_task(&self, input: &NewTask) -> Result<Task> {
        self.send_json(Method::POST, paths::TASKS, input).await
    }

    /// `GET /api/tasks/{id}`.
    pub async fn task(&self, id: TaskId) -> Result<Task> {
        self.get(&paths::fill(paths::TASK, &[&id])).await
    }

    /// `PATCH /api/tasks/{id}`.
    pub async fn update_task(&self, id: TaskId, patch: &TaskPatch) -> Result<Task> {
        self.send_json(Method::PATCH, &paths::fill(paths::TASK, &[&id]), patch)
            .await
    }

    /// `PATCH /api/tasks/{id}/toggle`: flips done and open.
    pub async fn toggle_task(&self, id: TaskId) -> Result<Task> {
        self.call(self.request(Method::PATCH, &paths::fill(paths::TASK_TOGGLE, &[&id])))
            .await
    }

    /// `DELETE /api/tasks/{id}`.
    pub async fn delete_task(&self, id: TaskId) -> Result<()> {
        self.delete(&paths::fill(paths::TASK, &[&id])).await
    }

    /// `POST /api/reports`.
    pub async fn create_report(&self, input: &NewReport) -> Result<Report> {
        self.send_json(Method::POST, paths::REPORTS, input).await
    }
}
