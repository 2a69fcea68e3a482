//! The caller's own things: dashboard, my studies, notifications, tasks, reports.

use axum::extract::State;
use axum::http::StatusCode;
use coup_core::api::paths;
use coup_core::ids::{NotificationId, TaskId};
use coup_core::model::{Dashboard, Notification, Page, Report, Study, Task};
use coup_core::service::notifications::{MarkedRead, NotificationPage, NotificationQuery};
use coup_core::service::studies::MyStudiesQuery;
use coup_core::service::tasks::{NewTask, TaskPatch, TaskQuery};
use coup_core::service::{dashboard, notifications, reports, studies, tasks};
use utoipa_axum::routes;

use super::{Routes, read, write};
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Path, Query};
use crate::openapi::{InputErrors, SessionErrors, StateErrors, TargetErrors};
use crate::state::AppState;

pub(super) fn routes() -> Routes {
    vec![
        routes!(get_dashboard),
        routes!(my_studies),
        routes!(list_notifications),
        routes!(read_notification),
        routes!(read_all),
        routes!(list_tasks, create_task),
        routes!(get_task, update_task, delete_task),
        routes!(toggle_task),
        routes!(create_report),
    ]
}

/// The caller's dashboard.
///
/// Counters, studies, upcoming events, recent notices, due tasks and unread chat
/// per study.
#[utoipa::path(
    get,
    path = paths::DASHBOARD,
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The dashboard", body = Dashboard),
        SessionErrors,
    ),
)]
async fn get_dashboard(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Dashboard>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| dashboard::dashboard(tx, caller)).await?,
    ))
}

/// The studies the caller belongs to.
#[utoipa::path(
    get,
    path = paths::MY_STUDIES,
    tag = "me",
    operation_id = "list_my_studies",
    security(("bearer" = [])),
    params(MyStudiesQuery),
    responses(
        (status = 200, description = "A page of studies", body = Page<Study>),
        InputErrors,
    ),
)]
async fn my_studies(
    State(app): State<AppState>,
    auth: Auth,
    Query(q): Query<MyStudiesQuery>,
) -> ApiResult<Json<Page<Study>>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| studies::my_studies(tx, caller, q)).await?,
    ))
}

/// The caller's notifications, newest first, with their unread total.
#[utoipa::path(
    get,
    path = paths::NOTIFICATIONS,
    tag = "me",
    security(("bearer" = [])),
    params(NotificationQuery),
    responses(
        (status = 200, description = "A page of notifications", body = NotificationPage),
        InputErrors,
    ),
)]
async fn list_notifications(
    State(app): State<AppState>,
    auth: Auth,
    Query(q): Query<NotificationQuery>,
) -> ApiResult<Json<NotificationPage>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| notifications::list(tx, caller, q)).await?,
    ))
}

/// Mark one of the caller's notifications read.
#[utoipa::path(
    method(post, patch),
    path = paths::NOTIFICATION_READ,
    tag = "me",
    security(("bearer" = [])),
    params(("id" = NotificationId, Path, description = "The notification")),
    responses(
        (status = 200, description = "The notification, now read", body = Notification),
        TargetErrors,
    ),
)]
async fn read_notification(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<NotificationId>,
) -> ApiResult<Json<Notification>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| notifications::mark_read(tx, caller, id)).await?,
    ))
}

/// Mark all of the caller's notifications read.
#[utoipa::path(
    method(post, patch),
    path = paths::NOTIFICATIONS_READ,
    tag = "me",
    operation_id = "read_all_notifications",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many were unread", body = MarkedRead),
        SessionErrors,
    ),
)]
async fn read_all(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<MarkedRead>> {
    let caller = auth.caller();
    let marked = write(&app, move |tx| notifications::mark_all_read(tx, caller)).await?;
    Ok(Json(MarkedRead { marked }))
}

/// The caller's tasks.
#[utoipa::path(
    get,
    path = paths::TASKS,
    tag = "me",
    security(("bearer" = [])),
    params(TaskQuery),
    responses(
        (status = 200, description = "A page of tasks", body = Page<Task>),
        InputErrors,
    ),
)]
async fn list_tasks(
    State(app): State<AppState>,
    auth: Auth,
    Query(q): Query<TaskQuery>,
) -> ApiResult<Json<Page<Task>>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| tasks::list(tx, caller, q)).await?,
    ))
}

/// Create a task, optionally tied to one of the caller's studies.
#[utoipa::path(
    post,
    path = paths::TASKS,
    tag = "me",
    security(("bearer" = [])),
    request_body = NewTask,
    responses(
        (status = 201, description = "The new task", body = Task),
        TargetErrors,
    ),
)]
async fn create_task(
    State(app): State<AppState>,
    auth: Auth,
    Json(input): Json<NewTask>,
) -> ApiResult<(StatusCode, Json<Task>)> {
    let caller = auth.caller();
    Ok((
        StatusCode::CREATED,
        Json(write(&app, move |tx| tasks::create(tx, caller, input)).await?),
    ))
}

/// One of the caller's tasks.
#[utoipa::path(
    get,
    path = paths::TASK,
    tag = "me",
    security(("bearer" = [])),
    params(("id" = TaskId, Path, description = "The task")),
    responses(
        (status = 200, description = "The task", body = Task),
        TargetErrors,
    ),
)]
async fn get_task(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<TaskId>,
) -> ApiResult<Json<Task>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| tasks::get(tx, caller, id)).await?,
    ))
}

/// Change one of the caller's tasks.
#[utoipa::path(
    method(patch, put),
    path = paths::TASK,
    tag = "me",
    security(("bearer" = [])),
    params(("id" = TaskId, Path, description = "The task")),
    request_body = TaskPatch,
    responses(
        (status = 200, description = "The updated task", body = Task),
        TargetErrors,
    ),
)]
async fn update_task(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<TaskId>,
    Json(patch): Json<TaskPatch>,
) -> ApiResult<Json<Task>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| tasks::update(tx, caller, id, patch)).await?,
    ))
}

/// Flip a task between done and open.
#[utoipa::path(
    method(patch, post),
    path = paths::TASK_TOGGLE,
    tag = "me",
    security(("bearer" = [])),
    params(("id" = TaskId, Path, description = "The task")),
    responses(
        (status = 200, description = "The task after the flip", body = Task),
        TargetErrors,
    ),
)]
async fn toggle_task(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<TaskId>,
) -> ApiResult<Json<Task>> {
    let caller = auth.caller();
    Ok(Json(
        write(&app, move |tx| tasks::toggle(tx, caller, id)).await?,
    ))
}

/// Delete one of the caller's tasks.
#[utoipa::path(
    delete,
    path = paths::TASK,
    tag = "me",
    security(("bearer" = [])),
    params(("id" = TaskId, Path, description = "The task")),
    responses(
        (status = 204, description = "The task is gone"),
        TargetErrors,
    ),
)]
async fn delete_task(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<TaskId>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| tasks::delete(tx, caller, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Report a user, a study or a chat message to the platform's admins.
#[utoipa::path(
    post,
    path = paths::REPORTS,
    tag = "me",
    security(("bearer" = [])),
    request_body = reports::NewReport,
    responses(
        (status = 201, description = "The report, pending", body = Report),
        StateErrors,
    ),
)]
async fn create_report(
    State(app): State<AppState>,
    auth: Auth,
    Json(input): Json<reports::NewReport>,
) -> ApiResult<(StatusCode, Json<Report>)> {
    let caller = auth.caller();
    Ok((
        StatusCode::CREATED,
        Json(write(&app, move |tx| reports::create(tx, caller, input)).await?),
    ))
}
