//! The signed-in user's own account (`/api/users/me`), leaving a study, and
//! reporting: REST calls through the client, nothing cached to keep offline.

use coup_core::api::accounts::{PasswordChange, ProfilePatch};
use coup_core::api::reports::NewReport;
use coup_core::ids::StudyId;
use coup_core::model::{Report, User};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
pub async fn me(state: State<'_, AppState>) -> CommandResult<User> {
    state.rest(|api| async move { api.me().await }).await
}

#[tauri::command]
pub async fn update_me(state: State<'_, AppState>, patch: ProfilePatch) -> CommandResult<User> {
    state
        .rest(move |api| async move { api.update_me(&patch).await })
        .await
}

/// Changes the password (the server ends the user's other sessions).
#[tauri::command]
pub async fn change_password(
    state: State<'_, AppState>,
    input: PasswordChange,
) -> CommandResult<()> {
    state
        .rest(move |api| async move { api.change_password(&input).await })
        .await
}

/// Leaves a study; the cache forgets it.
#[tauri::command]
pub async fn leave_study(state: State<'_, AppState>, study_id: StudyId) -> CommandResult<()> {
    state
        .change(move |api| async move { api.leave_study(study_id).await })
        .await
}

#[tauri::command]
pub async fn create_report(state: State<'_, AppState>, input: NewReport) -> CommandResult<Report> {
    state
        .rest(move |api| async move { api.create_report(&input).await })
        .await
}
