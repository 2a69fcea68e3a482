//! The typed REST API: one async method per endpoint of `coup-server`, with the
//! request and response types the server itself uses (`model` and the `service`
//! input types), and every failure an [`Error`] that keeps the server's code.
//!
//! Failures are classified once, here: an answer with the API's error body is
//! [`Error::Remote`] (its [`ErrorCode`] is the server's); no answer, a broken
//! connection or a gateway's 5xx without that body is [`Error::Transport`]
//! (`UNAVAILABLE`, worth retrying); an answer that does not have the documented
//! shape is [`Error::BadResponse`].

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, Response, StatusCode, multipart};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::api::accounts::{Login, PasswordChange, ProfilePatch, Signup};
use crate::api::admin::{
    AdminStudyQuery, DeleteReason, ProcessReport, ReportQuery, Suspension, UserQuery,
};
use crate::api::calendar::{EventPatch, NewEvent, Range};
use crate::api::chat::{ChangesQuery, ChatQuery, ReadPosition, SendMessage};
use crate::api::membership::{JoinRequest, RoleChange};
use crate::api::notices::{NewNotice, NoticePatch, Pin};
use crate::api::notifications::{MarkedRead, NotificationPage, NotificationQuery};
use crate::api::reports::NewReport;
use crate::api::studies::{InviteCode, MyStudiesQuery, NewStudy, StudyPatch, StudyQuery};
use crate::api::tasks::{NewTask, TaskPatch, TaskQuery};
use crate::error::{Error, ErrorBody, ErrorCode, Result};
use crate::ids::{
    EventId, FileId, MessageId, NoticeId, NotificationId, ReportId, StudyId, TaskId, UserId,
};
use crate::model::{
    AdminStats, AdminStudyDetail, AdminUserDetail, AuditEntry, CalendarEvent, ChatChanges,
    ChatMessage, ChatPage, Dashboard, FileMeta, LoginResult, Member, Notice, Notification, Page,
    PageRequest, Report, Study, Task, User,
};

/// Time limits of API calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing a TCP connection.
    pub connect: Duration,
    /// A whole JSON request and its answer.
    pub request: Duration,
    /// A whole upload or download.
    pub transfer: Duration,
}

impl Default for Timeouts {
    /// The server's own limits: 30 s per request, 10 min per transfer.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(30),
            transfer: Duration::from_secs(600),
        }
    }
}

/// What a download was, besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The file's name as uploaded (from `Content-Disposition`), if the server gave one.
    pub file_name: Option<String>,
    /// The content type given at upload.
    pub content_type: String,
    /// Bytes written.
    pub size: u64,
}

/// A client of one server's REST API. Cheap to clone; clones share the session token.
#[derive(Debug, Clone)]
pub struct ApiClient {
    base: Arc<str>,
    http: reqwest::Client,
    timeouts: Timeouts,
    token: Arc<RwLock<Option<String>>>,
    /// The TLS configuration, shared with the live connection.
    tls: Arc<rustls::ClientConfig>,
}

impl ApiClient {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8080`), not signed in.
    pub fn new(base: &str) -> Result<Self> {
        Self::with_timeouts(base, Timeouts::default())
    }

    /// A client with explicit time limits.
    pub fn with_timeouts(base: &str, timeouts: Timeouts) -> Result<Self> {
        Self::with_options(base, timeouts, None)
    }

    /// A client with explicit time limits that also trusts the CA certificates
    /// in `extra_roots_pem` (PEM) for `https://` — for a server whose
    /// certificate comes from its owner's own CA.
    pub fn with_options(
        base: &str,
        timeouts: Timeouts,
        extra_roots_pem: Option<&[u8]>,
    ) -> Result<Self> {
        let base = base.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::validation(
                "server",
                "must be an http:// or https:// URL",
            ));
        }
        let tls = super::tls::client_config(extra_roots_pem)?;
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .use_preconfigured_tls((*tls).clone())
            .build()
            .map_err(|e| Error::failed("building the HTTP client", e))?;
        Ok(Self {
            base: base.into(),
            http,
            timeouts,
            token: Arc::new(RwLock::new(None)),
            tls,
        })
    }

    /// The server's base URL, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The TLS configuration, for the live connection to use the same trust.
    pub(crate) fn tls(&self) -> Arc<rustls::ClientConfig> {
        self.tls.clone()
    }

    /// The session token sent with every request, if signed in.
    pub fn token(&self) -> Option<String> {
        self.token.read().map(|t| t.clone()).unwrap_or_default()
    }

    /// Uses `token` (e.g. one kept from an earlier login) for the following requests.
    pub fn set_token(&self, token: Option<String>) {
        if let Ok(mut slot) = self.token.write() {
            *slot = token;
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .timeout(self.timeouts.request);
        match self.token() {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends a request. An idempotent one (GET, PUT, DELETE) that fails without an
    /// answer is sent once more at once: a pooled connection to a server that
    /// restarted fails on first use, and the second attempt opens a fresh one.
    async fn execute(&self, request: RequestBuilder) -> Result<Response> {
        let request = request
            .build()
            .map_err(|e| Error::failed("building a request", e))?;
        let again = matches!(
            *request.method(),
            Method::GET | Method::PUT | Method::DELETE
        )
        .then(|| request.try_clone())
        .flatten();
        match (self.http.execute(request).await, again) {
            (Ok(response), _) => Ok(response),
            (Err(e), Some(again)) if !e.is_timeout() => {
                self.http.execute(again).await.map_err(transport)
            }
            (Err(e), _) => Err(transport(e)),
        }
    }

    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T> {
        let response = checked(self.execute(request).await?).await?;
        let bytes = response.bytes().await.map_err(transport)?;
        serde_json::from_slice(&bytes).map_err(|e| Error::bad_response("decoding the answer", e))
    }

    async fn call_empty(&self, request: RequestBuilder) -> Result<()> {
        checked(self.execute(request).await?).await?;
        Ok(())
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(self.request(Method::GET, path)).await
    }

    async fn get_query<T: DeserializeOwned, Q: Serialize>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<T> {
        self.call(self.request(Method::GET, path).query(query))
            .await
    }

    async fn send_json<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.call(self.request(method, path).json(body)).await
    }

    async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(self.request(Method::POST, path)).await
    }

    async fn delete(&self, path: &str) -> Result<()> {
        self.call_empty(self.request(Method::DELETE, path)).await
    }

    // Operations.

    /// `GET /readyz`: the server and its store answer (e.g. a cheap probe before
    /// retrying); one that cannot serve is `UNAVAILABLE`. The other operator
    /// endpoints (`/healthz`, `/metrics`, `/api/openapi.json`) are not for apps.
    pub async fn ready(&self) -> Result<()> {
        self.call_empty(self.request(Method::GET, "/readyz")).await
    }

    // Accounts.

    /// `POST /api/auth/signup`: creates an account and signs in (the token is kept).
    pub async fn signup(&self, input: &Signup) -> Result<LoginResult> {
        let result: LoginResult = self
            .send_json(Method::POST, "/api/auth/signup", input)
            .await?;
        self.set_token(Some(result.token.clone()));
        Ok(result)
    }

    /// `POST /api/auth/login`: signs in (the token is kept for the following requests).
    pub async fn login(&self, input: &Login) -> Result<LoginResult> {
        let result: LoginResult = self
            .send_json(Method::POST, "/api/auth/login", input)
            .await?;
        self.set_token(Some(result.token.clone()));
        Ok(result)
    }

    /// `POST /api/auth/logout`: ends the session; the token is forgotten.
    pub async fn logout(&self) -> Result<()> {
        self.call_empty(self.request(Method::POST, "/api/auth/logout"))
            .await?;
        self.set_token(None);
        Ok(())
    }

    /// `GET /api/users/me`.
    pub async fn me(&self) -> Result<User> {
        self.get("/api/users/me").await
    }

    /// `PATCH /api/users/me`.
    pub async fn update_me(&self, patch: &ProfilePatch) -> Result<User> {
        self.send_json(Method::PATCH, "/api/users/me", patch).await
    }

    /// `POST /api/users/me/password`: the other sessions end.
    pub async fn change_password(&self, input: &PasswordChange) -> Result<()> {
        self.call_empty(
            self.request(Method::POST, "/api/users/me/password")
                .json(input),
        )
        .await
    }

    // The caller's own things.

    /// `GET /api/dashboard`.
    pub async fn dashboard(&self) -> Result<Dashboard> {
        self.get("/api/dashboard").await
    }

    /// `GET /api/my-studies`.
    pub async fn my_studies(&self, query: &MyStudiesQuery) -> Result<Page<Study>> {
        self.get_query("/api/my-studies", query).await
    }

    /// `GET /api/notifications`.
    pub async fn notifications(&self, query: &NotificationQuery) -> Result<NotificationPage> {
        self.get_query("/api/notifications", query).await
    }

    /// `POST /api/notifications/{id}/read`.
    pub async fn mark_notification_read(&self, id: NotificationId) -> Result<Notification> {
        self.post_empty(&format!("/api/notifications/{id}/read"))
            .await
    }

    /// `POST /api/notifications/mark-all-read`.
    pub async fn mark_all_notifications_read(&self) -> Result<MarkedRead> {
        self.post_empty("/api/notifications/mark-all-read").await
    }

    /// `GET /api/tasks`.
    pub async fn tasks(&self, query: &TaskQuery) -> Result<Page<Task>> {
        self.get_query("/api/tasks", query).await
    }

    /// `POST /api/tasks`; with a `clientId`, creating again returns the first task.
    pub async fn create_task(&self, input: &NewTask) -> Result<Task> {
        self.send_json(Method::POST, "/api/tasks", input).await
    }

    /// `GET /api/tasks/{id}`.
    pub async fn task(&self, id: TaskId) -> Result<Task> {
        self.get(&format!("/api/tasks/{id}")).await
    }

    /// `PATCH /api/tasks/{id}`.
    pub async fn update_task(&self, id: TaskId, patch: &TaskPatch) -> Result<Task> {
        self.send_json(Method::PATCH, &format!("/api/tasks/{id}"), patch)
            .await
    }

    /// `PATCH /api/tasks/{id}/toggle`: flips done and open.
    pub async fn toggle_task(&self, id: TaskId) -> Result<Task> {
        self.call(self.request(Method::PATCH, &format!("/api/tasks/{id}/toggle")))
            .await
    }

    /// `DELETE /api/tasks/{id}`.
    pub async fn delete_task(&self, id: TaskId) -> Result<()> {
        self.delete(&format!("/api/tasks/{id}")).await
    }

    /// `POST /api/reports`.
    pub async fn create_report(&self, input: &NewReport) -> Result<Report> {
        self.send_json(Method::POST, "/api/reports", input).await
    }

    // Studies and membership.

    /// `GET /api/studies`: search (anonymous callers see public studies only).
    pub async fn studies(&self, query: &StudyQuery) -> Result<Page<Study>> {
        self.get_query("/api/studies", query).await
    }

    /// `POST /api/studies`.
    pub async fn create_study(&self, input: &NewStudy) -> Result<Study> {
        self.send_json(Method::POST, "/api/studies", input).await
    }

    /// `GET /api/studies/{id}`.
    pub async fn study(&self, id: StudyId) -> Result<Study> {
        self.get(&format!("/api/studies/{id}")).await
    }

    /// `PATCH /api/studies/{id}`.
    pub async fn update_study(&self, id: StudyId, patch: &StudyPatch) -> Result<Study> {
        self.send_json(Method::PATCH, &format!("/api/studies/{id}"), patch)
            .await
    }

    /// `DELETE /api/studies/{id}`.
    pub async fn delete_study(&self, id: StudyId) -> Result<()> {
        self.delete(&format!("/api/studies/{id}")).await
    }

    /// `GET /api/studies/{id}/invite-code`.
    pub async fn invite_code(&self, id: StudyId) -> Result<InviteCode> {
        self.get(&format!("/api/studies/{id}/invite-code")).await
    }

    /// `POST /api/studies/{id}/invite-code`: a new code; the old one stops working.
    pub async fn regenerate_invite_code(&self, id: StudyId) -> Result<InviteCode> {
        self.post_empty(&format!("/api/studies/{id}/invite-code"))
            .await
    }

    /// `POST /api/studies/{id}/join`.
    pub async fn join_study(&self, id: StudyId, input: &JoinRequest) -> Result<Member> {
        self.send_json(Method::POST, &format!("/api/studies/{id}/join"), input)
            .await
    }

    /// `POST /api/studies/{id}/leave`.
    pub async fn leave_study(&self, id: StudyId) -> Result<()> {
        self.call_empty(self.request(Method::POST, &format!("/api/studies/{id}/leave")))
            .await
    }

    /// `GET /api/studies/{id}/join-requests`.
    pub async fn join_requests(&self, id: StudyId, page: PageRequest) -> Result<Page<Member>> {
        self.get_query(&format!("/api/studies/{id}/join-requests"), &page)
            .await
    }

    /// `GET /api/studies/{id}/members`.
    pub async fn members(&self, id: StudyId, page: PageRequest) -> Result<Page<Member>> {
        self.get_query(&format!("/api/studies/{id}/members"), &page)
            .await
    }

    /// `POST /api/studies/{id}/members/{userId}/approve`.
    pub async fn approve_member(&self, id: StudyId, user: UserId) -> Result<Member> {
        self.post_empty(&format!("/api/studies/{id}/members/{user}/approve"))
            .await
    }

    /// `POST /api/studies/{id}/members/{userId}/reject`.
    pub async fn reject_member(&self, id: StudyId, user: UserId) -> Result<()> {
        self.call_empty(self.request(
            Method::POST,
            &format!("/api/studies/{id}/members/{user}/reject"),
        ))
        .await
    }

    /// `POST /api/studies/{id}/members/{userId}/role`.
    pub async fn change_role(
        &self,
        id: StudyId,
        user: UserId,
        change: &RoleChange,
    ) -> Result<Member> {
        self.send_json(
            Method::POST,
            &format!("/api/studies/{id}/members/{user}/role"),
            change,
        )
        .await
    }

    /// `DELETE /api/studies/{id}/members/{userId}`: kick.
    pub async fn kick_member(&self, id: StudyId, user: UserId) -> Result<()> {
        self.delete(&format!("/api/studies/{id}/members/{user}"))
            .await
    }

    // Notices.

    /// `GET /api/studies/{id}/notices`.
    pub async fn notices(&self, study: StudyId, page: PageRequest) -> Result<Page<Notice>> {
        self.get_query(&format!("/api/studies/{study}/notices"), &page)
            .await
    }

    /// `POST /api/studies/{id}/notices`.
    pub async fn create_notice(&self, study: StudyId, input: &NewNotice) -> Result<Notice> {
        self.send_json(
            Method::POST,
            &format!("/api/studies/{study}/notices"),
            input,
        )
        .await
    }

    /// `GET /api/studies/{id}/notices/{noticeId}` (counts a view).
    pub async fn notice(&self, study: StudyId, notice: NoticeId) -> Result<Notice> {
        self.get(&format!("/api/studies/{study}/notices/{notice}"))
            .await
    }

    /// `PATCH /api/studies/{id}/notices/{noticeId}`.
    pub async fn update_notice(
        &self,
        study: StudyId,
        notice: NoticeId,
        patch: &NoticePatch,
    ) -> Result<Notice> {
        self.send_json(
            Method::PATCH,
            &format!("/api/studies/{study}/notices/{notice}"),
            patch,
        )
        .await
    }

    /// `POST /api/studies/{id}/notices/{noticeId}/pin`: sets the pin, or toggles it
    /// when `pin.is_pinned` is `None`.
    pub async fn pin_notice(&self, study: StudyId, notice: NoticeId, pin: &Pin) -> Result<Notice> {
        self.send_json(
            Method::POST,
            &format!("/api/studies/{study}/notices/{notice}/pin"),
            pin,
        )
        .await
    }

    /// `DELETE /api/studies/{id}/notices/{noticeId}`.
    pub async fn delete_notice(&self, study: StudyId, notice: NoticeId) -> Result<()> {
        self.delete(&format!("/api/studies/{study}/notices/{notice}"))
            .await
    }

    // Calendar.

    /// `GET /api/studies/{id}/calendar`: the events overlapping `range`.
    pub async fn events(&self, study: StudyId, range: &Range) -> Result<Vec<CalendarEvent>> {
        self.get_query(&format!("/api/studies/{study}/calendar"), range)
            .await
    }

    /// `POST /api/studies/{id}/calendar`.
    pub async fn create_event(&self, study: StudyId, input: &NewEvent) -> Result<CalendarEvent> {
        self.send_json(
            Method::POST,
            &format!("/api/studies/{study}/calendar"),
            input,
        )
        .await
    }

    /// `PATCH /api/studies/{id}/calendar/{eventId}`.
    pub async fn update_event(
        &self,
        study: StudyId,
        event: EventId,
        patch: &EventPatch,
    ) -> Result<CalendarEvent> {
        self.send_json(
            Method::PATCH,
            &format!("/api/studies/{study}/calendar/{event}"),
            patch,
        )
        .await
    }

    /// `DELETE /api/studies/{id}/calendar/{eventId}`.
    pub async fn delete_event(&self, study: StudyId, event: EventId) -> Result<()> {
        self.delete(&format!("/api/studies/{study}/calendar/{event}"))
            .await
    }

    // Chat.

    /// `GET /api/studies/{id}/chat`: a page by sequence cursor.
    pub async fn messages(&self, study: StudyId, query: &ChatQuery) -> Result<ChatPage> {
        self.get_query(&format!("/api/studies/{study}/chat"), query)
            .await
    }

    /// `GET /api/studies/{id}/chat/changes`: the study's chat changes after a
    /// change number.
    pub async fn chat_changes(&self, study: StudyId, query: &ChangesQuery) -> Result<ChatChanges> {
        self.get_query(&format!("/api/studies/{study}/chat/changes"), query)
            .await
    }

    /// `POST /api/studies/{id}/chat`; with a `clientId`, sending again returns the
    /// first message.
    pub async fn send_message(&self, study: StudyId, input: &SendMessage) -> Result<ChatMessage> {
        self.send_json(Method::POST, &format!("/api/studies/{study}/chat"), input)
            .await
    }

    /// `GET /api/studies/{id}/chat/{messageId}`.
    pub async fn message(&self, study: StudyId, message: MessageId) -> Result<ChatMessage> {
        self.get(&format!("/api/studies/{study}/chat/{message}"))
            .await
    }

    /// `DELETE /api/studies/{id}/chat/{messageId}`: leaves a tombstone.
    pub async fn delete_message(&self, study: StudyId, message: MessageId) -> Result<()> {
        self.delete(&format!("/api/studies/{study}/chat/{message}"))
            .await
    }

    /// `POST /api/studies/{id}/chat/{messageId}/read`: read up to this message.
    pub async fn mark_message_read(
        &self,
        study: StudyId,
        message: MessageId,
    ) -> Result<ReadPosition> {
        self.post_empty(&format!("/api/studies/{study}/chat/{message}/read"))
            .await
    }

    // Files.

    /// `GET /api/studies/{id}/files`.
    pub async fn files(&self, study: StudyId, page: PageRequest) -> Result<Page<FileMeta>> {
        self.get_query(&format!("/api/studies/{study}/files"), &page)
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
            self.request(Method::POST, &format!("/api/studies/{study}/files"))
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
                &format!("/api/studies/{study}/files/{file}/download"),
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
        self.delete(&format!("/api/studies/{study}/files/{file}"))
            .await
    }

    // Administration.

    /// `GET /api/admin/stats`.
    pub async fn admin_stats(&self) -> Result<AdminStats> {
        self.get("/api/admin/stats").await
    }

    /// `GET /api/admin/users`.
    pub async fn admin_users(&self, query: &UserQuery) -> Result<Page<User>> {
        self.get_query("/api/admin/users", query).await
    }

    /// `GET /api/admin/users/{id}`.
    pub async fn admin_user(&self, id: UserId) -> Result<AdminUserDetail> {
        self.get(&format!("/api/admin/users/{id}")).await
    }

    /// `POST /api/admin/users/{id}/suspend`.
    pub async fn suspend_user(&self, id: UserId, input: &Suspension) -> Result<User> {
        self.send_json(
            Method::POST,
            &format!("/api/admin/users/{id}/suspend"),
            input,
        )
        .await
    }

    /// `POST /api/admin/users/{id}/restore`.
    pub async fn restore_user(&self, id: UserId) -> Result<User> {
        self.post_empty(&format!("/api/admin/users/{id}/restore"))
            .await
    }

    /// `GET /api/admin/studies`.
    pub async fn admin_studies(&self, query: &AdminStudyQuery) -> Result<Page<Study>> {
        self.get_query("/api/admin/studies", query).await
    }

    /// `GET /api/admin/studies/{id}`.
    pub async fn admin_study(&self, id: StudyId) -> Result<AdminStudyDetail> {
        self.get(&format!("/api/admin/studies/{id}")).await
    }

    /// `DELETE /api/admin/studies/{id}?reason=`.
    pub async fn admin_delete_study(&self, id: StudyId, reason: &DeleteReason) -> Result<()> {
        self.call_empty(
            self.request(Method::DELETE, &format!("/api/admin/studies/{id}"))
                .query(reason),
        )
        .await
    }

    /// `GET /api/admin/reports`.
    pub async fn admin_reports(&self, query: &ReportQuery) -> Result<Page<Report>> {
        self.get_query("/api/admin/reports", query).await
    }

    /// `GET /api/admin/reports/{id}`.
    pub async fn admin_report(&self, id: ReportId) -> Result<Report> {
        self.get(&format!("/api/admin/reports/{id}")).await
    }

    /// `POST /api/admin/reports/{id}/process`.
    pub async fn process_report(&self, id: ReportId, input: &ProcessReport) -> Result<Report> {
        self.send_json(
            Method::POST,
            &format!("/api/admin/reports/{id}/process"),
            input,
        )
        .await
    }

    /// `GET /api/admin/audit-log`.
    pub async fn audit_log(&self, page: PageRequest) -> Result<Page<AuditEntry>> {
        self.get_query("/api/admin/audit-log", &page).await
    }
}

/// A request that got no answer.
fn transport(e: reqwest::Error) -> Error {
    if e.is_decode() {
        Error::bad_response("reading the answer", e)
    } else if let Some(why) = super::tls::untrusted_certificate(&e) {
        Error::transport(why, e)
    } else {
        Error::transport("sending the request", e)
    }
}

/// The response if it succeeded, else the error its body describes.
async fn checked(response: Response) -> Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let bytes = response.bytes().await.map_err(transport)?;
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Err(Error::from_remote(status.as_u16(), body.error)),
        // A proxy or load balancer in front of an unreachable or restarting server.
        Err(_)
            if matches!(
                status,
                StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ) =>
        {
            Err(Error::transport(
                "reading the answer",
                format!("HTTP {status} from a gateway"),
            ))
        }
        Err(e) => Err(Error::bad_response(
            format!("HTTP {status} without an error body"),
            e,
        )),
    }
}

/// The exact name in a `Content-Disposition` (`filename*=UTF-8''…`), else the plain one.
fn file_name_of(disposition: &str) -> Option<String> {
    let params = || disposition.split(';').map(str::trim);
    params()
        .find_map(|p| p.strip_prefix("filename*=UTF-8''"))
        .and_then(|encoded| {
            percent_encoding::percent_decode_str(encoded)
                .decode_utf8()
                .ok()
                .map(|name| name.into_owned())
        })
        .or_else(|| {
            params()
                .find_map(|p| p.strip_prefix("filename="))
                .map(|name| name.trim_matches('"').to_owned())
        })
}

/// Whether a failed call may succeed if tried again later without change: the
/// server could not be reached, was busy or broke; any other refusal is final.
pub fn is_transient(error: &Error) -> bool {
    matches!(
        error.code(),
        ErrorCode::Unavailable | ErrorCode::RateLimited | ErrorCode::Internal
    ) || matches!(error, Error::Remote { status: 500.., .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_prefer_the_exact_utf8_name() {
        let header = "attachment; filename=\"___ __.pdf\"; filename*=UTF-8''%EC%8A%A4%ED%84%B0%EB%94%94%20%EC%9E%90%EB%A3%8C.pdf";
        assert_eq!(file_name_of(header).as_deref(), Some("스터디 자료.pdf"));
        assert_eq!(
            file_name_of("attachment; filename=\"a.txt\"").as_deref(),
            Some("a.txt")
        );
        assert_eq!(file_name_of("attachment"), None);
    }

    #[test]
    fn only_unreachable_busy_or_broken_servers_are_worth_retrying() {
        let remote = |status, code: &str| {
            Error::from_remote(
                status,
                crate::error::ErrorDetail {
                    code: code.into(),
                    message: "m".into(),
                    field: None,
                    reason: None,
                },
            )
        };
        assert!(is_transient(&Error::transport("connecting", "refused")));
        assert!(is_transient(&remote(429, "RATE_LIMITED")));
        assert!(is_transient(&remote(503, "UNAVAILABLE")));
        assert!(is_transient(&remote(500, "INTERNAL")));
        assert!(!is_transient(&remote(403, "FORBIDDEN")));
        assert!(!is_transient(&remote(404, "NOT_FOUND")));
        assert!(!is_transient(&remote(400, "VALIDATION")));
        assert!(!is_transient(&Error::bad_response("decoding", "not json")));
        // Codes this build does not know are classified by their status.
        assert_eq!(
            remote(405, "METHOD_NOT_ALLOWED").code(),
            ErrorCode::NotFound
        );
        assert_eq!(remote(0, "NOT_SUBSCRIBED").code(), ErrorCode::Conflict);
    }
}
