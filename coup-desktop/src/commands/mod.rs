//! The Tauri commands: each parses its arguments (serde, camelCase), calls the
//! signed-in `coup_core::client::Client` (cache reads and the outbox for what
//! must work offline, `Client::rest` for the rest), and returns its answer or a
//! `CommandError`. No rules live here.
//!
//! This module holds sign-in, the cached reads, chat and tasks (what must work
//! offline); the submodules hold what only the server can do, one area each.

/// Commands that are one REST call each, one line a command:
/// `rest name(args) -> Answer = |api| api.call(args);` answers with the call's
/// value (`AppState::rest`); `change` also reloads the cache afterwards, for a
/// call that changes what the cache lists (`AppState::change`).
macro_rules! rest_commands {
    ($($(#[$doc:meta])* $how:ident $name:ident($($arg:ident: $ty:ty),*) -> $answer:ty
        = |$api:ident| $call:expr;)*) => {$(
        $(#[$doc])*
        #[tauri::command]
        pub async fn $name(
            state: tauri::State<'_, crate::state::AppState>,
            $($arg: $ty),*
        ) -> crate::error::CommandResult<$answer> {
            state.$how(move |$api| async move { $call.await }).await
        }
    )*};
}

pub mod account;
pub mod admin;
pub mod calls;
pub mod files;
pub mod manage;

use coup_core::api::accounts::Signup;
use coup_core::api::chat::ChatQuery;
use coup_core::api::membership::JoinRequest;
use coup_core::api::studies::{NewStudy, StudyQuery};
use coup_core::api::tasks::NewTask;
use coup_core::api::tasks::TaskPatch;
use coup_core::client::{Client, ConnectionState, OutboxItem};
use coup_core::ids::{FileId, MessageId, NotificationId, StudyId, TaskId};
use coup_core::model::{
    CalendarEvent, ChatMessage, ChatPage, Dashboard, Member, Notice, Notification, Page, Study,
    Task, User,
};
use serde::Serialize;
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;
use crate::tokens::TokenStoreKind;

/// What the UI needs before anyone signs in.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// The remembered server.
    pub server: Option<String>,
    /// Where tokens are kept.
    pub token_store: TokenStoreKind,
    /// The app's version.
    pub version: &'static str,
}

/// A signed-in session as the UI sees it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Who.
    pub user: User,
    /// The server.
    pub server: String,
    /// The live connection now.
    pub connection: ConnectionState,
}

fn session(client: &Client, server: &str) -> Session {
    Session {
        user: client.user(),
        server: server.trim().trim_end_matches('/').to_owned(),
        connection: client.connection_state(),
    }
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        server: state.settings().server,
        token_store: state.token_store(),
        version: env!("CARGO_PKG_VERSION"),
    }
}

/// The cached dashboard is on screen: logs and answers how long ago the
/// process started, in ms (the launch-time benchmark).
#[tauri::command]
pub fn launched() -> CommandResult<u64> {
    let ms = crate::launch::process_age_ms()
        .ok_or_else(|| CommandError::Local("no /proc to read the process's start".to_owned()))?;
    tracing::info!(ms, "cached dashboard shown");
    Ok(ms)
}

/// Starts from the saved session of the remembered server, offline if need be.
#[tauri::command]
pub async fn restore(state: State<'_, AppState>) -> CommandResult<Option<Session>> {
    if let Ok(client) = state.client() {
        let server = state.settings().server.unwrap_or_default();
        return Ok(Some(session(&client, &server)));
    }
    let Some(server) = state.settings().server else {
        return Ok(None);
    };
    let Some(client) = Client::restore(state.config(&server)).await? else {
        return Ok(None);
    };
    let out = session(&client, &server);
    state.set_client(client);
    Ok(Some(out))
}

#[tauri::command]
pub async fn login(
    state: State<'_, AppState>,
    server: String,
    email: String,
    password: String,
) -> CommandResult<Session> {
    let client = Client::login(state.config(&server), &email, &password).await?;
    state.remember_server(&server)?;
    let out = session(&client, &server);
    state.set_client(client);
    Ok(out)
}

#[tauri::command]
pub async fn signup(
    state: State<'_, AppState>,
    server: String,
    email: String,
    password: String,
    name: String,
) -> CommandResult<Session> {
    let input = Signup {
        email,
        password,
        name,
    };
    let client = Client::signup(state.config(&server), input).await?;
    state.remember_server(&server)?;
    let out = session(&client, &server);
    state.set_client(client);
    Ok(out)
}

/// Signs out and wipes this account's cache (also when the server is away).
#[tauri::command]
pub async fn logout(state: State<'_, AppState>) -> CommandResult<()> {
    for call in state.take_calls() {
        if let Err(e) = call.leave().await {
            tracing::debug!(error = %e, "leaving a call on signing out");
        }
    }
    let Some(client) = state.clear_client() else {
        return Ok(());
    };
    match client.logout().await {
        // The cache and token are gone either way; an unreachable server is fine.
        Err(e) if e.code() == coup_core::error::ErrorCode::Unavailable => Ok(()),
        other => Ok(other?),
    }
}

#[tauri::command]
pub fn connection_state(state: State<'_, AppState>) -> CommandResult<ConnectionState> {
    Ok(state.client()?.connection_state())
}

#[tauri::command]
pub async fn studies(state: State<'_, AppState>) -> CommandResult<Vec<Study>> {
    Ok(state.client()?.studies().await?)
}

rest_commands! {
    rest dashboard() -> Dashboard = |api| api.dashboard();
    rest delete_message(study_id: StudyId, message_id: MessageId) -> ()
        = |api| api.delete_message(study_id, message_id);
    rest mark_notification_read(id: NotificationId) -> Notification
        = |api| api.mark_notification_read(id);
    rest search_studies(query: StudyQuery) -> Page<Study> = |api| api.studies(&query);
}

#[tauri::command]
pub async fn study(state: State<'_, AppState>, study_id: StudyId) -> CommandResult<Study> {
    let client = state.client()?;
    if let Some(cached) = client
        .studies()
        .await?
        .into_iter()
        .find(|s| s.id == study_id)
    {
        return Ok(cached);
    }
    Ok(client
        .rest(move |api| async move { api.study(study_id).await })
        .await?)
}

#[tauri::command]
pub async fn follow(state: State<'_, AppState>, study_id: StudyId) -> CommandResult<()> {
    Ok(state.client()?.follow(study_id).await?)
}

/// The newest `limit` messages the cache holds.
#[tauri::command]
pub async fn messages(
    state: State<'_, AppState>,
    study_id: StudyId,
    limit: u32,
) -> CommandResult<Vec<ChatMessage>> {
    Ok(state.client()?.messages(study_id, limit).await?)
}

/// Older history from the server (scrolling up past the cache).
#[tauri::command]
pub async fn older_messages(
    state: State<'_, AppState>,
    study_id: StudyId,
    before: i64,
    limit: u32,
) -> CommandResult<ChatPage> {
    let query = ChatQuery {
        before: Some(before),
        after: None,
        limit: Some(limit),
    };
    state
        .rest(move |api| async move { api.messages(study_id, &query).await })
        .await
}

/// Queues a message (with an uploaded file of the study when `file_id` is given).
/// Newer history from the server (scrolling back down after reading upwards).
#[tauri::command]
pub async fn newer_messages(
    state: State<'_, AppState>,
    study_id: StudyId,
    after: i64,
    limit: u32,
) -> CommandResult<ChatPage> {
    let query = ChatQuery {
        before: None,
        after: Some(after),
        limit: Some(limit),
    };
    state
        .rest(move |api| async move { api.messages(study_id, &query).await })
        .await
}

#[tauri::command]
pub async fn send_message(
    state: State<'_, AppState>,
    study_id: StudyId,
    content: String,
    file_id: Option<FileId>,
) -> CommandResult<OutboxItem> {
    let client = state.client()?;
    Ok(match file_id {
        Some(file) => client.send_file_message(study_id, &content, file).await?,
        None => client.send_message(study_id, &content).await?,
    })
}

#[tauri::command]
pub async fn mark_read(
    state: State<'_, AppState>,
    study_id: StudyId,
    message_id: MessageId,
) -> CommandResult<OutboxItem> {
    Ok(state.client()?.mark_read(study_id, message_id).await?)
}

#[tauri::command]
pub fn set_typing(
    state: State<'_, AppState>,
    study_id: StudyId,
    typing: bool,
) -> CommandResult<()> {
    state.client()?.set_typing(study_id, typing);
    Ok(())
}

#[tauri::command]
pub async fn outbox(state: State<'_, AppState>) -> CommandResult<Vec<OutboxItem>> {
    Ok(state.client()?.outbox().await?)
}

#[tauri::command]
pub async fn retry(state: State<'_, AppState>, item: i64) -> CommandResult<OutboxItem> {
    Ok(state.client()?.retry(item).await?)
}

#[tauri::command]
pub async fn discard(state: State<'_, AppState>, item: i64) -> CommandResult<()> {
    Ok(state.client()?.discard(item).await?)
}

#[tauri::command]
pub async fn members(state: State<'_, AppState>, study_id: StudyId) -> CommandResult<Vec<Member>> {
    Ok(state.client()?.members(study_id).await?)
}

#[tauri::command]
pub async fn notices(state: State<'_, AppState>, study_id: StudyId) -> CommandResult<Vec<Notice>> {
    Ok(state.client()?.notices(study_id).await?)
}

#[tauri::command]
pub async fn calendar(
    state: State<'_, AppState>,
    study_id: StudyId,
) -> CommandResult<Vec<CalendarEvent>> {
    Ok(state.client()?.calendar(study_id).await?)
}

#[tauri::command]
pub async fn tasks(state: State<'_, AppState>) -> CommandResult<Vec<Task>> {
    Ok(state.client()?.tasks().await?)
}

#[tauri::command]
pub async fn create_task(state: State<'_, AppState>, task: NewTask) -> CommandResult<OutboxItem> {
    Ok(state.client()?.create_task(task).await?)
}

#[tauri::command]
pub async fn set_task_done(
    state: State<'_, AppState>,
    task_id: TaskId,
    done: bool,
) -> CommandResult<OutboxItem> {
    Ok(state.client()?.set_task_done(task_id, done).await?)
}

#[tauri::command]
pub async fn update_task(
    state: State<'_, AppState>,
    task_id: TaskId,
    patch: TaskPatch,
) -> CommandResult<OutboxItem> {
    Ok(state.client()?.update_task(task_id, patch).await?)
}

#[tauri::command]
pub async fn delete_task(state: State<'_, AppState>, task_id: TaskId) -> CommandResult<OutboxItem> {
    Ok(state.client()?.delete_task(task_id).await?)
}

#[tauri::command]
pub async fn notifications(state: State<'_, AppState>) -> CommandResult<Vec<Notification>> {
    Ok(state.client()?.notifications().await?)
}

#[tauri::command]
pub async fn mark_all_notifications_read(state: State<'_, AppState>) -> CommandResult<()> {
    state
        .client()?
        .rest(|api| async move { api.mark_all_notifications_read().await })
        .await?;
    Ok(())
}

/// Creates a study and reloads the cache so it is among "my studies".
#[tauri::command]
pub async fn create_study(state: State<'_, AppState>, study: NewStudy) -> CommandResult<Study> {
    let client = state.client()?;
    let created = client
        .rest(move |api| async move { api.create_study(&study).await })
        .await?;
    client.refresh().await?;
    Ok(created)
}

/// Joins (or asks to join) a study; an automatic join reloads the cache.
#[tauri::command]
pub async fn join_study(
    state: State<'_, AppState>,
    study_id: StudyId,
    request: JoinRequest,
) -> CommandResult<Member> {
    let client = state.client()?;
    let member = client
        .rest(move |api| async move { api.join_study(study_id, &request).await })
        .await?;
    if member.status == coup_core::model::MemberStatus::Active {
        client.refresh().await?;
    }
    Ok(member)
}

/// Asks the client to reconnect now (the user pressed "retry").
#[tauri::command]
pub fn reconnect(state: State<'_, AppState>) -> CommandResult<()> {
    state.client()?.network_changed();
    Ok(())
}
