//! A study's files: list, upload with progress, download into the user's
//! downloads folder, delete. The upload's bytes come as the raw body of the
//! invoke (no JSON round trip); its study, name and type, and the channel for
//! progress, come as headers.

use std::path::{Path, PathBuf};

use coup_core::ids::{FileId, StudyId};
use coup_core::model::{FileMeta, PageRequest};
use serde::Serialize;
use tauri::ipc::{InvokeBody, JavaScriptChannelId, Request};
use tauri::{Manager, Runtime, State, Webview};

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

/// How far an upload is (sent to the page's progress channel).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Bytes taken by the connection so far.
    pub sent: u64,
    /// The file's size.
    pub total: u64,
}

/// The upload's headers (the body is the file).
pub mod header {
    /// The study's id.
    pub const STUDY: &str = "coup-study";
    /// The file's name, percent-encoded (UTF-8).
    pub const NAME: &str = "coup-name";
    /// The file's content type.
    pub const TYPE: &str = "coup-type";
    /// A `tauri::ipc::Channel` id for [`super::Progress`] messages.
    pub const PROGRESS: &str = "coup-progress";
}

#[tauri::command]
pub async fn files(state: State<'_, AppState>, study_id: StudyId) -> CommandResult<Vec<FileMeta>> {
    let all = PageRequest {
        page: Some(1),
        limit: Some(PageRequest::MAX_LIMIT),
    };
    Ok(state
        .client()?
        .rest(move |api| async move { api.files(study_id, all).await })
        .await?
        .items)
}

fn bad(what: &str) -> CommandError {
    CommandError::from(coup_core::error::Error::Validation {
        field: "upload",
        message: format!("missing or malformed {what}"),
    })
}

/// Uploads the invoke's raw body as a file of the study.
#[tauri::command]
pub async fn upload_file<R: Runtime>(
    webview: Webview<R>,
    state: State<'_, AppState>,
    request: Request<'_>,
) -> CommandResult<FileMeta> {
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let study: StudyId = text(header::STUDY)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(header::STUDY))?;
    let name = text(header::NAME)
        .and_then(percent_decode)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad(header::NAME))?;
    let content_type = text(header::TYPE)
        .filter(|t| !t.is_empty())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let channel = text(header::PROGRESS)
        .and_then(|id| id.parse::<JavaScriptChannelId>().ok())
        .map(|id| id.channel_on::<R, Progress>(webview.clone()));
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(bad("body (raw bytes expected)"));
    };
    let bytes = bytes.clone();
    state
        .change(move |api| async move {
            let progress = move |sent, total| {
                if let Some(channel) = &channel {
                    let _ = channel.send(Progress { sent, total });
                }
            };
            api.upload_file_with_progress(study, &name, &content_type, bytes, progress)
                .await
        })
        .await
}

/// Downloads a file into the downloads folder (`COUP_DESKTOP_DOWNLOAD_DIR`, or
/// the user's), under its name or a free variant of it; returns the path.
#[tauri::command]
pub async fn download_file<R: Runtime>(
    webview: Webview<R>,
    state: State<'_, AppState>,
    study_id: StudyId,
    file_id: FileId,
    name: String,
) -> CommandResult<String> {
    let dir = std::env::var_os("COUP_DESKTOP_DOWNLOAD_DIR")
        .map(PathBuf::from)
        .or_else(|| webview.path().download_dir().ok())
        .unwrap_or_else(|| state.data_dir().join("downloads"));
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| CommandError::Local(format!("creating {}: {e}", dir.display())))?;
    let partial = dir.join(format!(".{file_id}.part"));
    let client = state.client()?;
    let into = partial.clone();
    client
        .rest(move |api| async move {
            let mut out = tokio::fs::File::create(&into).await.map_err(|e| {
                coup_core::error::Error::Internal(format!("creating the download: {e}"))
            })?;
            api.download_file_to(study_id, file_id, &mut out).await
        })
        .await
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&partial);
        })?;
    let target = free_name(&dir, &safe_name(&name));
    tokio::fs::rename(&partial, &target)
        .await
        .map_err(|e| CommandError::Local(format!("saving {}: {e}", target.display())))?;
    Ok(target.display().to_string())
}

rest_commands! {
    change delete_file(study_id: StudyId, file_id: FileId) -> ()
        = |api| api.delete_file(study_id, file_id);
}

/// A file name with no path in it (a server's name never picks the folder).
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    match base {
        "" | "." | ".." => "download".to_owned(),
        other => other.to_owned(),
    }
}

/// `name` in `dir`, or `stem (2).ext`, `stem (3).ext`, … when taken.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    (2..)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Decodes `%XX` escapes (the page sends `encodeURIComponent(name)`).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_decoded_and_kept_inside_the_folder() {
        assert_eq!(
            percent_decode("%EC%8A%A4%ED%84%B0%EB%94%94 notes.pdf").as_deref(),
            Some("스터디 notes.pdf")
        );
        assert_eq!(percent_decode("bad%zz"), None);
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name(".."), "download");
    }

    #[test]
    fn a_taken_name_gets_a_number() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(free_name(dir.path(), "a.txt"), dir.path().join("a.txt"));
        std::fs::write(dir.path().join("a.txt"), "x").expect("write");
        assert_eq!(free_name(dir.path(), "a.txt"), dir.path().join("a (2).txt"));
        std::fs::write(dir.path().join("a (2).txt"), "x").expect("write");
        assert_eq!(free_name(dir.path(), "a.txt"), dir.path().join("a (3).txt"));
    }
}
