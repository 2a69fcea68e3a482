//! The caller's own things: dashboard, my studies, notifications, tasks, reports.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use coup_core::ids::{NotificationId, TaskId};
use coup_core::model::{Dashboard, Notification, Page, Report, Study, Task};
use coup_core::service::notifications::{NotificationPage, NotificationQuery};
use coup_core::service::studies::MyStudiesQuery;
use coup_core::service::tasks::{NewTask, TaskPatch, TaskQuery};
use coup_core::service::{dashboard, notifications, reports, studies, tasks};

use super::{read, write};
use crate::error::ApiResult;
use crate::extract::{Auth, Json, Path, Query};
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/dashboard", get(get_dashboard))
        .route("/api/my-studies", get(my_studies))
        .route("/api/notifications", get(list_notifications))
        .route(
            "/api/notifications/{id}/read",
            post(read_notification).patch(read_notification),
        )
        .route(
            "/api/notifications/mark-all-read",
            post(read_all).patch(read_all),
        )
        .route("/api/tasks", get(list_tasks).post(create_task))
        .route(
            "/api/tasks/{id}",
            get(get_task)
                .patch(update_task)
                .put(update_task)
                .delete(delete_task),
        )
        .route(
            "/api/tasks/{id}/toggle",
            patch(toggle_task).post(toggle_task),
        )
        .route("/api/reports", post(create_report))
}

async fn get_dashboard(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Dashboard>> {
    let caller = auth.caller();
    Ok(Json(
        read(&app, move |tx| dashboard::dashboard(tx, caller)).await?,
    ))
}

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

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Marked {
    marked: u64,
}

async fn read_all(State(app): State<AppState>, auth: Auth) -> ApiResult<Json<Marked>> {
    let caller = auth.caller();
    let marked = write(&app, move |tx| notifications::mark_all_read(tx, caller)).await?;
    Ok(Json(Marked { marked }))
}

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

async fn delete_task(
    State(app): State<AppState>,
    auth: Auth,
    Path(id): Path<TaskId>,
) -> ApiResult<StatusCode> {
    let caller = auth.caller();
    write(&app, move |tx| tasks::delete(tx, caller, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

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
