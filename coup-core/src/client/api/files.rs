//! A study's files: uploads from bytes, a path or with progress, streamed
//! downloads, listing and deletion (the server's `routes/files.rs`).

use std::path::Path;
use std::sync::Arc;

use futures_util::StreamExt;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::{Method, multipart};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::api::paths;
use crate::error::{Error, Result};
use crate::ids::{FileId, StudyId};
use crate::model::{FileMeta, Page, PageRequest};

use super::{ApiClient, Downloaded, checked, file_name_of, transport};

impl ApiClient {
    /// `GET /api/studies/{id}/files`.
    pub async fn files(&self, study: StudyId, page: PageRequest) -> Result<Page<FileMeta>> {
        self.get_query(&paths::fill(paths::FILES, &[&study]), &page)
            .await
    }

    /// `POST /api/studies/{id}/files`: uploads `bytes` as a file named `name`.
    pub async fn upload_file(
        &self,
        study: StudyId,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Result<FileMeta> {
        let part = multipart::Part::bytes(bytes).file_name(name.to_owned());
        self.upload(study, part, content_type).await
    }

    /// `POST /api/studies/{id}/files`: streams the file at `path` (named after it).
    pub async fn upload_file_from_path(
        &self,
        study: StudyId,
        path: &Path,
        content_type: &str,
    ) -> Result<FileMeta> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::validation("path", "names no file"))?;
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::validation("path", e.to_string()))?;
        let size = file
            .metadata()
            .await
            .map_err(|e| Error::validation("path", e.to_string()))?
            .len();
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
        let part = multipart::Part::stream_with_length(body, size).file_name(name);
        self.upload(study, part, content_type).await
    }

    /// `POST /api/studies/{id}/files`: uploads `bytes` in chunks, calling
    /// `progress(sent, total)` as each chunk is taken by the connection (an app's
    /// progress bar; the last call has `sent == total`).
    pub async fn upload_file_with_progress(
        &self,
        study: StudyId,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
        progress: impl Fn(u64, u64) + Send + Sync + 'static,
    ) -> Result<FileMeta> {
        const CHUNK: usize = 64 * 1024;
        let total = bytes.len() as u64;
        let bytes = Arc::new(bytes);
        let chunks = (0..bytes.len().div_ceil(CHUNK)).map(move |i| {
            let end = ((i + 1) * CHUNK).min(bytes.len());
            progress(end as u64, total);
            Ok::<_, std::io::Error>(bytes[i * CHUNK..end].to_vec())
        });
        let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
        let part = multipart::Part::stream_with_length(body, total).file_name(name.to_owned());
        self.upload(study, part, content_type).await
    }

    async fn upload(
        &self,
        study: StudyId,
        part: multipart::Part,
        content_type: &str,
    ) -> Result<FileMeta> {
        let part = part
            .mime_str(content_type)
            .map_err(|e| Error::validation("contentType", e.to_string()))?;
        let form = multipart::Form::new().part("file", part);
        self.call(
            self.request(Method::POST, &paths::fill(paths::FILES, &[&study]))
                .timeout(self.timeouts.transfer)
                .multipart(form),
        )
        .await
    }

    /// `GET /api/studies/{id}/files/{fileId}/download`, streamed into `out`.
    pub async fn download_file_to<W: AsyncWrite + Unpin>(
        &self,
        study: StudyId,
        file: FileId,
        out: &mut W,
    ) -> Result<Downloaded> {
        let request = self
            .request(
                Method::GET,
                &paths::fill(paths::FILE_DOWNLOAD, &[&study, &file]),
            )
            .timeout(self.timeouts.transfer);
        let response = checked(self.execute(request).await?).await?;
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(CONTENT_TYPE).unwrap_or_default();
        let file_name = header(CONTENT_DISPOSITION).and_then(|d| file_name_of(&d));
        let mut size = 0u64;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(transport)?;
            out.write_all(&chunk)
                .await
                .map_err(|e| Error::failed("writing the download", e))?;
            size += chunk.len() as u64;
        }
        out.flush()
            .await
            .map_err(|e| Error::failed("writing the download", e))?;
        Ok(Downloaded {
            file_name,
            content_type,
            size,
        })
    }

    /// `GET /api/studies/{id}/files/{fileId}/download` into memory.
    pub async fn download_file(
        &self,
        study: StudyId,
        file: FileId,
    ) -> Result<(Downloaded, Vec<u8>)> {
        let mut bytes = Vec::new();
        let info = self.download_file_to(study, file, &mut bytes).await?;
        Ok((info, bytes))
    }

    /// `DELETE /api/studies/{id}/files/{fileId}`.
    pub async fn delete_file(&self, study: StudyId, file: FileId) -> Result<()> {
        self.delete(&paths::fill(paths::FILE, &[&study, &file]))
            .await
    }
}
