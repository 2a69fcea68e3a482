//! The call panel's signaling: join and leave a study's call and tell it about
//! this user's microphone, camera and screen share. What others do arrives as
//! `callParticipantJoined`/`Left`/`callMedia` app events; media is the media
//! engine's.

use coup_core::client::JoinedCall;
use coup_core::ids::StudyId;
use coup_core::realtime::calls::MediaState;
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
pub async fn join_call(
    state: State<'_, AppState>,
    study_id: StudyId,
    media: MediaState,
) -> CommandResult<JoinedCall> {
    Ok(state.client()?.join_call(study_id, media).await?)
}

#[tauri::command]
pub async fn leave_call(state: State<'_, AppState>, study_id: StudyId) -> CommandResult<()> {
    Ok(state.client()?.leave_call(study_id).await?)
}

#[tauri::command]
pub async fn set_media(
    state: State<'_, AppState>,
    study_id: StudyId,
    media: MediaState,
) -> CommandResult<()> {
    Ok(state.client()?.set_media(study_id, media).await?)
}
