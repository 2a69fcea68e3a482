//! `/api/studies/{id}/files`: multipart uploads streamed to disk, streamed
//! downloads with a safe `Content-Disposition`, listing and deletion.

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use coup_core::Error;
use coup_core::Outcome;
use coup_core::api::paths::{self, FilePath, StudyPath};
use coup_core::model::{FileMeta, Page, PageRequest};
use coup_core::service::files::{self, NewFile};
use coup_core::validate::FILE_MAX_BYTES;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tokio_util::io::ReaderStream;
use utoipa_axum::router::UtoipaMethodRouterExt;
use utoipa_axum::routes;

use super::{Answer, Created, Routes, signed_in};
use crate::blobs::BlobError;
use crate::error::{ApiError, ApiResult, bad_request};
use crate::extract::{Api, InStudy, Json, Path, Query};
use crate::openapi::{PayloadTooLarge, TargetErrors};

/// Room for multipart framing around a 50 MB file.
const UPLOAD_BODY_LIMIT: usize = FILE_MAX_BYTES as usize + 64 * 1024;

pub(super) fn routes() -> Routes {
    signed_in(
        "files",
        vec![
            routes!(list_files, upload_file).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
            routes!(delete_file),
            routes!(download_file),
        ],
    )
}

/// The study's files, newest first (members only).
#[utoipa::path(
    get,
    path = paths::FILES,
    params(StudyPath, PageRequest),
    responses(
        (status = 200, description = "A page of file metadata", body = Page<FileMeta>),
        TargetErrors,
    ),
)]
async fn list_files(study: InStudy, Query(page): Query<PageRequest>) -> Answer<Page<FileMeta>> {
    study
        .read(move |tx, caller, id| files::list(tx, caller, id, page))
        .await
}

// Documentation-only types for the OpenAPI document; never built.

/// The form of an upload: one file in the field `file`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Upload {
    /// The file's bytes; its name and content type come from the part's headers.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    file: Vec<u8>,
}

/// A file's bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
struct FileBytes(Vec<u8>);

/// Receives the multipart field `file`: the caller's permission is checked before a
/// byte is stored, the bytes are streamed to disk with the 50 MB limit, and only a
/// complete blob is registered. Any failure removes what was written.
#[utoipa::path(
    post,
    path = paths::FILES,
    summary = "Upload a file to the study (members)",
    description = "A `multipart/form-data` body with the file in the field `file` (at most \
        50 MB). Permission is checked before a byte is stored; a refused or failed upload \
        leaves nothing behind. Members are notified.",
    params(StudyPath),
    request_body(
        content = Upload,
        content_type = "multipart/form-data",
        description = "At most 50 MB; other fields are ignored",
    ),
    responses(
        (status = 201, description = "The stored file's metadata", body = FileMeta),
        TargetErrors,
        PayloadTooLarge,
    ),
)]
async fn upload_file(
    study: InStudy,
    multipart: Result<Multipart, MultipartRejection>,
) -> Created<FileMeta> {
    study.read(files::authorize_upload).await?;
    let app = &study.api.app;
    let mut multipart = multipart.map_err(|r| bad_request("file", r.body_text()))?;
    let too_large = || {
        ApiError(Error::PayloadTooLarge {
            limit: FILE_MAX_BYTES,
        })
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Err(bad_request("file", "the multipart field `file` is missing")),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(e) => return Err(bad_request("file", e.body_text())),
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("upload").to_owned();
        let content_type = field.content_type().unwrap_or_default().to_owned();
        let storage_key = files::new_storage_key();
        let size = match app.blobs.store(&storage_key, field, FILE_MAX_BYTES).await {
            Ok(size) => size,
            Err(BlobError::TooLarge(_)) => return Err(too_large()),
            // The request's body limit cut the stream: the same refusal, by type.
            Err(BlobError::Body(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(too_large());
            }
            Err(BlobError::Body(e)) => return Err(bad_request("file", e.body_text())),
            Err(BlobError::Io(e)) => {
                return Err(ApiError(Error::failed("storing an upload", e)));
            }
        };
        let key = storage_key.clone();
        let input = NewFile {
            name,
            content_type,
            size,
            storage_key,
        };
        let registered = study
            .created(move |tx, caller, id| files::register(tx, caller, id, input))
            .await;
        return match registered {
            Ok(created) => Ok(created),
            Err(e) => {
                if let Err(io) = app.blobs.remove(&key).await {
                    tracing::warn!(error = %io, key, "could not remove the blob of a refused upload");
                }
                Err(e)
            }
        };
    }
}

/// Download a file (members only); counts a download.
#[utoipa::path(
    get,
    path = paths::FILE_DOWNLOAD,
    params(FilePath),
    responses(
        (
            status = 200,
            description = "The bytes, streamed, with the content type given at upload",
            content_type = "application/octet-stream",
            body = inline(FileBytes),
            headers(
                ("Content-Disposition" = String, description = "`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266)"),
                ("Content-Length" = u64, description = "The file's size in bytes"),
            ),
        ),
        TargetErrors,
    ),
)]
async fn download_file(api: Api, Path(at): Path<FilePath>) -> ApiResult<Response> {
    let Json(meta) = api
        .write(move |tx, caller| files::download(tx, caller, at.id, at.file_id).map(Outcome::quiet))
        .await?;
    let path = api
        .app
        .blobs
        .path(&meta.storage_key)
        .map_err(|e| ApiError(Error::failed("locating the blob", e)))?;
    let blob = tokio::fs::File::open(&path).await.map_err(|e| {
        ApiError(Error::failed(
            format!("opening the blob {}", meta.storage_key),
            e,
        ))
    })?;
    let mut response = Response::new(Body::from_stream(ReaderStream::new(blob)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&meta.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
    headers.insert(header::CONTENT_DISPOSITION, content_disposition(&meta.name));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266).
pub fn content_disposition(name: &str) -> HeaderValue {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = utf8_percent_encode(name, NON_ALPHANUMERIC);
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or(HeaderValue::from_static("attachment"))
}

/// Delete a file (its uploader, the OWNER and ADMINs).
#[utoipa::path(
    delete,
    path = paths::FILE,
    params(FilePath),
    responses(
        (status = 204, description = "The file is gone"),
        TargetErrors,
    ),
)]
async fn delete_file(api: Api, Path(at): Path<FilePath>) -> ApiResult<StatusCode> {
    let Json(meta) = api
        .write(move |tx, caller| files::delete(tx, caller, at.id, at.file_id))
        .await?;
    if let Err(e) = api.app.blobs.remove(&meta.storage_key).await {
        tracing::warn!(error = %e, key = meta.storage_key, "file deleted but its blob could not be removed");
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_keeps_utf8_names_and_is_safe() {
        let h = content_disposition("스터디 자료.pdf");
        let s = h.to_str().expect("ascii header");
        assert!(
            s.starts_with("attachment; filename=\"___ __.pdf\"; filename*=UTF-8''"),
            "{s}"
        );
        let decoded = percent_encoding::percent_decode_str(s.rsplit("''").next().expect("encoded"))
            .decode_utf8()
            .expect("utf8");
        assert_eq!(decoded, "스터디 자료.pdf");
        let evil = content_disposition("a\"; filename=evil.exe");
        assert!(
            !evil
                .to_str()
                .expect("ascii")
                .contains("filename=evil.exe\"")
        );
    }
}
