//! The call panel's commands: join and leave a study's call, change what this
//! user sends (microphone, camera, screen share), and ask a participant for a
//! keyframe when the webview's decoder of their video lost the picture. The
//! call's media runs on the native engine (`crate::media`): joining starts it,
//! with remote video on the `video` channel; the toggles start and stop its
//! sources, which also signal the media state. What others do arrives as
//! `callParticipantJoined`/`Left`/`callMedia` app events.

use coup_core::ids::{StudyId, UserId};
use coup_core::media::TrackKind;
use coup_core::realtime::calls::MediaState;
use tauri::State;
use tauri::ipc::{Channel, InvokeResponseBody};

use crate::error::CommandResult;
use crate::media::{NativeCall, NativeJoined};
use crate::state::AppState;

#[tauri::command]
pub async fn join_call(
    state: State<'_, AppState>,
    study_id: StudyId,
    media: MediaState,
    video: Channel<InvokeResponseBody>,
) -> CommandResult<NativeJoined> {
    let client = state.client()?;
    // Joining again (a rejoin from the panel) replaces the call.
    if let Some(old) = state.take_call(study_id) {
        let _ = old.leave().await;
    }
    let (call, joined) = NativeCall::join(client, study_id, media, video).await?;
    if let Some(raced) = state.insert_call(study_id, call) {
        let _ = raced.leave().await;
    }
    Ok(joined)
}

#[tauri::command]
pub async fn leave_call(state: State<'_, AppState>, study_id: StudyId) -> CommandResult<()> {
    match state.take_call(study_id) {
        Some(call) => Ok(call.leave().await?),
        None => Ok(state.client()?.leave_call(study_id).await?),
    }
}

#[tauri::command]
pub async fn set_media(
    state: State<'_, AppState>,
    study_id: StudyId,
    media: MediaState,
) -> CommandResult<()> {
    match state.call(study_id) {
        Some(call) => Ok(call.set_media(media).await?),
        None => Ok(state.client()?.set_media(study_id, media).await?),
    }
}

/// The webview's decoder of `from`'s `track` failed or overflowed: the
/// engine asks them for a keyframe (RTCP PLI) instead of waiting for the
/// periodic one.
#[tauri::command]
pub async fn request_keyframe(
    state: State<'_, AppState>,
    study_id: StudyId,
    from: UserId,
    track: TrackKind,
) -> CommandResult<()> {
    match state.call(study_id) {
        Some(call) => Ok(call.request_keyframe(from, track).await?),
        // The call ended meanwhile: there is no picture to restore.
        None => Ok(()),
    }
}
