//! The caller's own things: dashboard, my studies, notifications, tasks, reports.

use axum::http::StatusCode;
use coup_core::api::paths::{self, NotificationPath, TaskPath};
use coup_core::model::{Dashboard, Notification, Page, Report, Study, Task};
use coup_core::service::notifications::{MarkedRead, NotificationPage, NotificationQuery};
use coup_core::service::studies::MyStudiesQuery;
use coup_core::service::tasks::{NewTask, TaskPatch, TaskQuery};
use coup_core::service::{dashboard, notifications, reports, studies, tasks};
use utoipa_axum::routes;

use super::{Answer, Created, Routes, signed_in};
use crate::error::ApiResult;
use crate::extract::{Api, Json, Path, Query};
use crate::openapi::{InputErrors, SessionErrors, StateErrors, TargetErrors};

pub(super) fn routes() -> Routes {
    signed_in(
        "me",
        vec![
            routes!(get_dashboard),
            routes!(list_my_studies),
            routes!(list_notifications),
            routes!(read_notification),
            routes!(read_all_notifications),
            routes!(list_tasks, create_task),
            routes!(get_task, update_task, delete_task),
            routes!(toggle_task),
            routes!(create_report),
        ],
    )
}

/// The caller's dashboard.
///
/// Counters, studies, upcoming events, recent notices, due tasks and unread chat
/// per study.
#[utoipa::path(get, path = paths::DASHBOARD,
    responses((status = 200, description = "The dashboard", body = Dashboard), SessionErrors))]
async fn get_dashboard(api: Api) -> Answer<Dashboard> {
    api.read(dashboard::dashboard).await
}

/// The studies the caller belongs to.
#[utoipa::path(get, path = paths::MY_STUDIES, params(MyStudiesQuery),
    responses((status = 200, description = "A page of studies", body = Page<Study>), InputErrors))]
async fn list_my_studies(api: Api, Query(q): Query<MyStudiesQuery>) -> Answer<Page<Study>> {
    api.read(move |tx, caller| studies::my_studies(tx, caller, q))
        .await
}

/// The caller's notifications, newest first, with their unread total.
#[utoipa::path(get, path = paths::NOTIFICATIONS, params(NotificationQuery), responses(
    (status = 200, description = "A page of notifications", body = NotificationPage), InputErrors))]
async fn list_notifications(
    api: Api,
    Query(q): Query<NotificationQuery>,
) -> Answer<NotificationPage> {
    api.read(move |tx, caller| notifications::list(tx, caller, q))
        .await
}

/// Mark one of the caller's notifications read.
#[utoipa::path(
    method(post, patch),
    path = paths::NOTIFICATION_READ,
    params(NotificationPath),
    responses(
        (status = 200, description = "The notification, now read", body = Notification),
        TargetErrors,
    ),
)]
async fn read_notification(
    api: Api,
    Path(NotificationPath { id }): Path<NotificationPath>,
) -> Answer<Notification> {
    api.write(move |tx, caller| notifications::mark_read(tx, caller, id))
        .await
}

/// Mark all of the caller's notifications read.
#[utoipa::path(method(post, patch), path = paths::NOTIFICATIONS_READ, responses(
    (status = 200, description = "How many were unread", body = MarkedRead), SessionErrors))]
async fn read_all_notifications(api: Api) -> Answer<MarkedRead> {
    let Json(marked) = api.write(notifications::mark_all_read).await?;
    Ok(Json(MarkedRead { marked }))
}

/// The caller's tasks.
#[utoipa::path(get, path = paths::TASKS, params(TaskQuery),
    responses((status = 200, description = "A page of tasks", body = Page<Task>), InputErrors))]
async fn list_tasks(api: Api, Query(q): Query<TaskQuery>) -> Answer<Page<Task>> {
    api.read(move |tx, caller| tasks::list(tx, caller, q)).await
}

/// Create a task, optionally tied to one of the caller's studies.
#[utoipa::path(post, path = paths::TASKS,
    responses((status = 201, description = "The new task", body = Task), TargetErrors))]
async fn create_task(api: Api, Json(input): Json<NewTask>) -> Created<Task> {
    api.created(move |tx, caller| tasks::create(tx, caller, input))
        .await
}

/// One of the caller's tasks.
#[utoipa::path(get, path = paths::TASK, params(TaskPath),
    responses((status = 200, description = "The task", body = Task), TargetErrors))]
async fn get_task(api: Api, Path(TaskPath { id }): Path<TaskPath>) -> Answer<Task> {
    api.read(move |tx, caller| tasks::get(tx, caller, id)).await
}

/// Change one of the caller's tasks.
#[utoipa::path(method(patch, put), path = paths::TASK, params(TaskPath),
    responses((status = 200, description = "The updated task", body = Task), TargetErrors))]
async fn update_task(
    api: Api,
    Path(TaskPath { id }): Path<TaskPath>,
    Json(patch): Json<TaskPatch>,
) -> Answer<Task> {
    api.write(move |tx, caller| tasks::update(tx, caller, id, patch))
        .await
}

/// Flip a task between done and open.
#[utoipa::path(method(patch, post), path = paths::TASK_TOGGLE, params(TaskPath),
    responses((status = 200, description = "The task after the flip", body = Task), TargetErrors))]
async fn toggle_task(api: Api, Path(TaskPath { id }): Path<TaskPath>) -> Answer<Task> {
    api.write(move |tx, caller| tasks::toggle(tx, caller, id))
        .await
}

/// Delete one of the caller's tasks.
#[utoipa::path(delete, path = paths::TASK, params(TaskPath),
    responses((status = 204, description = "The task is gone"), TargetErrors))]
async fn delete_task(api: Api, Path(TaskPath { id }): Path<TaskPath>) -> ApiResult<StatusCode> {
    api.no_content(move |tx, caller| tasks::delete(tx, caller, id))
        .await
}

/// Report a user, a study or a chat message to the platform's admins.
#[utoipa::path(post, path = paths::REPORTS, request_body = reports::NewReport,
    responses((status = 201, description = "The report, pending", body = Report), StateErrors))]
async fn create_report(api: Api, Json(input): Json<reports::NewReport>) -> Created<Report> {
    api.created(move |tx, caller| reports::create(tx, caller, input))
        .await
}
