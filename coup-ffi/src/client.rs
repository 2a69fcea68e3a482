//! [`CoupClient`]: one signed-in account on one server, over
//! [`coup_core::client::Client`], and the functions that make one ([`login`],
//! [`signup`], [`restore`], [`restore_account`]) or list the saved accounts
//! ([`saved_accounts`]).
//!
//! Each method converts its arguments, calls the client (cached reads and the
//! outbox), or its REST API through `Client::rest`, on the one runtime, and
//! converts the answer. Cached reads never wait on the network; writes that go
//! through the outbox return the pending item at once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use coup_core::api::accounts::{PasswordChange, ProfilePatch, Signup};
use coup_core::api::chat::ChatQuery;
use coup_core::api::membership::JoinRequest;
use coup_core::client::{Client, ClientConfig};
use coup_core::ids::{FileId, MessageId, NotificationId, StudyId, UserId};
use coup_core::model::PageRequest;

use crate::error::CoupError;
use crate::events::{EventListener, Forward, ListenerHandle};
use crate::runtime::{self, run};
use crate::sessions::{Adapter, SessionStore};
use crate::types::{
    CalendarEvent, ChatCursor, ChatMessage, ChatPage, ConnectionState, FileMeta, FlushReport,
    JoinedCall, MediaState, Member, NewStudy, NewTask, Notice, NotificationItem, OutboxItem,
    Signal, Study, StudyPage, StudyQuery, TaskItem, TaskPatch, TaskRef, User, all, parse_id,
};

/// Where and how a client runs.
#[derive(uniffi::Record)]
pub struct ClientOptions {
    /// The server's base URL, e.g. `https://study.example.org`.
    pub server: String,
    /// The offline cache's SQLite file (in the app's private files), shared by
    /// every account and server.
    pub cache_path: String,
    /// Where tokens are kept; none: a file beside the cache (`<cache>.sessions`,
    /// owner-only).
    #[uniffi(default)]
    pub session_store: Option<Arc<dyn SessionStore>>,
    /// PEM CA certificates trusted besides the public ones (a server with its
    /// own CA).
    #[uniffi(default)]
    pub extra_roots_pem: Option<Vec<u8>>,
    /// The longest wait between reconnect attempts (default 30 s).
    #[uniffi(default)]
    pub max_reconnect_delay_ms: Option<u64>,
}

impl ClientOptions {
    fn into_config(self) -> ClientConfig {
        let mut config = ClientConfig::new(self.server, PathBuf::from(self.cache_path));
        config.runtime = Some(runtime::handle());
        config.session_store = self
            .session_store
            .map(|store| Arc::new(Adapter(store)) as Arc<dyn coup_core::client::SessionStore>);
        config.extra_roots_pem = self.extra_roots_pem;
        if let Some(ms) = self.max_reconnect_delay_ms {
            config.live.max_backoff = Duration::from_millis(ms.max(1));
            config.live.min_backoff = config.live.min_backoff.min(config.live.max_backoff);
        }
        config
    }
}

/// Signs in with email and password, and starts the client (live connection,
/// cache refresh, outbox).
#[uniffi::export(async_runtime = "tokio")]
pub async fn login(
    options: ClientOptions,
    email: String,
    password: String,
) -> Result<Arc<CoupClient>, CoupError> {
    let config = options.into_config();
    run(async move {
        let client = Client::login(config, &email, &password).await?;
        Ok(CoupClient::new(client))
    })
    .await
}

/// Creates an account, signs in and starts the client.
#[uniffi::export(async_runtime = "tokio")]
pub async fn signup(
    options: ClientOptions,
    email: String,
    password: String,
    name: String,
) -> Result<Arc<CoupClient>, CoupError> {
    let config = options.into_config();
    run(async move {
        let input = Signup {
            email,
            password,
            name,
        };
        Ok(CoupClient::new(Client::signup(config, input).await?))
    })
    .await
}

/// Starts from the session saved for the account last used on the server,
/// without the network: the cache is readable at once, and the client connects
/// and catches up when the server answers. `None` when no session is saved.
#[uniffi::export(async_runtime = "tokio")]
pub async fn restore(options: ClientOptions) -> Result<Option<Arc<CoupClient>>, CoupError> {
    let config = options.into_config();
    run(async move { Ok(Client::restore(config).await?.map(CoupClient::new)) }).await
}

/// Starts from the saved session of one account (see [`saved_accounts`]).
#[uniffi::export(async_runtime = "tokio")]
pub async fn restore_account(
    options: ClientOptions,
    account_id: String,
) -> Result<Option<Arc<CoupClient>>, CoupError> {
    let config = options.into_config();
    let account: UserId = parse_id("accountId", &account_id)?;
    run(async move {
        Ok(Client::restore_account(config, Some(account))
            .await?
            .map(CoupClient::new))
    })
    .await
}

/// The accounts with a saved session on the server, most recently used first.
#[uniffi::export(async_runtime = "tokio")]
pub async fn saved_accounts(options: ClientOptions) -> Result<Vec<User>, CoupError> {
    let config = options.into_config();
    run(async move { Ok(all(Client::saved_accounts(config).await?)) }).await
}

/// A signed-in account on a server: cached reads, the outbox, REST calls, live
/// events, call signaling. Safe to use from any thread; every async method runs
/// on the library's runtime. When the app drops its last reference, the
/// connection stops and the cache stays for the next start.
#[derive(uniffi::Object)]
pub struct CoupClient {
    client: Client,
}

impl CoupClient {
    fn new(client: Client) -> Arc<Self> {
        Arc::new(Self { client })
    }

    /// Runs a REST call of the client's API on the runtime.
    async fn rest<T, F, Fut>(&self, call: F) -> Result<T, CoupError>
    where
        T: Send + 'static,
        F: FnOnce(coup_core::client::ApiClient) -> Fut,
        Fut: std::future::Future<Output = coup_core::Result<T>> + Send + 'static,
    {
        Ok(self.client.rest(call).await?)
    }
}

fn study(id: &str) -> Result<StudyId, CoupError> {
    parse_id("studyId", id)
}

#[uniffi::export(async_runtime = "tokio")]
impl CoupClient {
    // ------------------------------------------------------------ session

    /// The signed-in user, as of sign-in.
    pub fn user(&self) -> User {
        self.client.user().into()
    }

    /// The live connection's state now (changes arrive as `AppEvent.Connection`).
    pub fn connection_state(&self) -> ConnectionState {
        self.client.connection_state().into()
    }

    /// Calls `listener` with every event from now on, until the handle is
    /// cancelled (or dropped).
    pub fn subscribe(&self, listener: Arc<dyn EventListener>) -> Arc<ListenerHandle> {
        ListenerHandle::new(self.client.subscribe(Arc::new(Forward(listener))))
    }

    /// Whether the server and its store answer (`GET /readyz`).
    pub async fn server_ready(&self) -> Result<(), CoupError> {
        self.rest(|api| async move { api.ready().await }).await
    }

    /// The user's profile from the server.
    pub async fn me(&self) -> Result<User, CoupError> {
        self.rest(|api| async move { api.me().await })
            .await
            .map(Into::into)
    }

    /// Changes the user's name, bio or avatar (fields left out stay).
    pub async fn update_profile(
        &self,
        name: Option<String>,
        bio: Option<String>,
        avatar_url: Option<String>,
    ) -> Result<User, CoupError> {
        let patch = ProfilePatch {
            name,
            bio,
            avatar_url,
        };
        self.rest(|api| async move { api.update_me(&patch).await })
            .await
            .map(Into::into)
    }

    /// Changes the password (ends the user's other sessions).
    pub async fn change_password(
        &self,
        current_password: String,
        new_password: String,
    ) -> Result<(), CoupError> {
        let input = PasswordChange {
            current_password,
            new_password,
        };
        self.rest(|api| async move { api.change_password(&input).await })
            .await
    }

    /// Signs out: the session ends on the server, the token leaves the session
    /// store and this account's cache and outbox are wiped (also when the
    /// server cannot be reached; its error is returned after). The client stops.
    pub async fn logout(&self) -> Result<(), CoupError> {
        Ok(self.client.logout().await?)
    }

    // ------------------------------------------------------------ lifecycle

    /// The app went to the background: the connection closes, nothing goes out.
    pub fn pause(&self) {
        self.client.pause();
    }

    /// The app is in the foreground again: connect, catch up, send what is pending.
    pub fn resume(&self) {
        self.client.resume();
    }

    /// The device's network changed: reconnect now instead of after a backoff.
    pub fn network_changed(&self) {
        self.client.network_changed();
    }

    /// Reloads the cached lists from the server (done by itself on each connect).
    pub async fn refresh(&self) -> Result<(), CoupError> {
        Ok(self.client.refresh().await?)
    }

    // ------------------------------------------------------------ studies

    /// The user's studies, from the cache.
    pub async fn studies(&self) -> Result<Vec<Study>, CoupError> {
        Ok(all(self.client.studies().await?))
    }

    /// Searches public studies (and the user's own) on the server.
    pub async fn search_studies(&self, query: StudyQuery) -> Result<StudyPage, CoupError> {
        let query = query.into();
        self.rest(|api| async move { api.studies(&query).await })
            .await
            .map(Into::into)
    }

    /// One study, from the server.
    pub async fn study(&self, study_id: String) -> Result<Study, CoupError> {
        let id = study(&study_id)?;
        self.rest(|api| async move { api.study(id).await })
            .await
            .map(Into::into)
    }

    /// Creates a study (the user is its OWNER); the cache has it after the next
    /// `refresh`.
    pub async fn create_study(&self, input: NewStudy) -> Result<Study, CoupError> {
        let input = input.into();
        self.rest(|api| async move { api.create_study(&input).await })
            .await
            .map(Into::into)
    }

    /// Asks to join a study (ACTIVE at once, or PENDING for approval); a private
    /// study needs its invite code.
    pub async fn join_study(
        &self,
        study_id: String,
        message: Option<String>,
        invite_code: Option<String>,
    ) -> Result<Member, CoupError> {
        let id = study(&study_id)?;
        let input = JoinRequest {
            message,
            invite_code,
        };
        self.rest(|api| async move { api.join_study(id, &input).await })
            .await
            .map(Into::into)
    }

    /// Leaves a study (an OWNER must transfer ownership first).
    pub async fn leave_study(&self, study_id: String) -> Result<(), CoupError> {
        let id = study(&study_id)?;
        self.rest(|api| async move { api.leave_study(id).await })
            .await
    }

    /// A study's members, from the cache.
    pub async fn members(&self, study_id: String) -> Result<Vec<Member>, CoupError> {
        Ok(all(self.client.members(study(&study_id)?).await?))
    }

    /// A study's pending join requests (OWNER/ADMIN), from the server.
    pub async fn join_requests(&self, study_id: String) -> Result<Vec<Member>, CoupError> {
        let id = study(&study_id)?;
        let page = PageRequest::new(1, PageRequest::MAX_LIMIT);
        self.rest(|api| async move { api.join_requests(id, page).await })
            .await
            .map(|p| all(p.items))
    }

    /// Approves a join request (OWNER/ADMIN).
    pub async fn approve_member(
        &self,
        study_id: String,
        user_id: String,
    ) -> Result<Member, CoupError> {
        let (id, user) = (study(&study_id)?, parse_id::<UserId>("userId", &user_id)?);
        self.rest(|api| async move { api.approve_member(id, user).await })
            .await
            .map(Into::into)
    }

    /// Rejects a join request (OWNER/ADMIN).
    pub async fn reject_member(&self, study_id: String, user_id: String) -> Result<(), CoupError> {
        let (id, user) = (study(&study_id)?, parse_id::<UserId>("userId", &user_id)?);
        self.rest(|api| async move { api.reject_member(id, user).await })
            .await
    }

    /// A study's notices, from the cache.
    pub async fn notices(&self, study_id: String) -> Result<Vec<Notice>, CoupError> {
        Ok(all(self.client.notices(study(&study_id)?).await?))
    }

    /// A study's calendar (30 days back, 180 ahead), from the cache.
    pub async fn calendar(&self, study_id: String) -> Result<Vec<CalendarEvent>, CoupError> {
        Ok(all(self.client.calendar(study(&study_id)?).await?))
    }

    // ------------------------------------------------------------ chat

    /// Follows a study live, resuming after what the cache holds.
    pub async fn follow(&self, study_id: String) -> Result<(), CoupError> {
        Ok(self.client.follow(study(&study_id)?).await?)
    }

    /// Stops following a study live.
    pub fn unfollow(&self, study_id: String) -> Result<(), CoupError> {
        self.client.unfollow(study(&study_id)?);
        Ok(())
    }

    /// The last `limit` messages the cache holds for a study, oldest first.
    pub async fn messages(
        &self,
        study_id: String,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, CoupError> {
        Ok(all(self.client.messages(study(&study_id)?, limit).await?))
    }

    /// Older chat from the server: up to `limit` messages before sequence
    /// `before_seq` (none: the newest), oldest first.
    pub async fn history(
        &self,
        study_id: String,
        before_seq: Option<i64>,
        limit: Option<u32>,
    ) -> Result<ChatPage, CoupError> {
        let id = study(&study_id)?;
        let query = ChatQuery {
            before: before_seq,
            after: None,
            limit,
        };
        self.rest(|api| async move { api.messages(id, &query).await })
            .await
            .map(Into::into)
    }

    /// Where a study's chat stands in the cache.
    pub async fn cursor(&self, study_id: String) -> Result<ChatCursor, CoupError> {
        Ok(self.client.cursor(study(&study_id)?).await?.into())
    }

    /// Posts a message through the outbox: pending until the server has it,
    /// sent exactly once (its `client_id` is the message's).
    pub async fn send_message(
        &self,
        study_id: String,
        content: String,
    ) -> Result<OutboxItem, CoupError> {
        Ok(self
            .client
            .send_message(study(&study_id)?, &content)
            .await?
            .into())
    }

    /// Posts a message with a file uploaded to the study (see `upload_file`).
    pub async fn send_file_message(
        &self,
        study_id: String,
        content: String,
        file_id: String,
    ) -> Result<OutboxItem, CoupError> {
        let file: FileId = parse_id("fileId", &file_id)?;
        Ok(self
            .client
            .send_file_message(study(&study_id)?, &content, file)
            .await?
            .into())
    }

    /// Deletes a message (its author, or the study's OWNER/ADMIN).
    pub async fn delete_message(
        &self,
        study_id: String,
        message_id: String,
    ) -> Result<(), CoupError> {
        let (id, message) = (
            study(&study_id)?,
            parse_id::<MessageId>("messageId", &message_id)?,
        );
        self.rest(|api| async move { api.delete_message(id, message).await })
            .await
    }

    /// Says the user is (or stopped) typing; nothing when offline.
    pub fn set_typing(&self, study_id: String, typing: bool) -> Result<(), CoupError> {
        self.client.set_typing(study(&study_id)?, typing);
        Ok(())
    }

    /// Marks the study's chat read up to a message (through the outbox).
    pub async fn mark_read(
        &self,
        study_id: String,
        message_id: String,
    ) -> Result<OutboxItem, CoupError> {
        let message: MessageId = parse_id("messageId", &message_id)?;
        Ok(self
            .client
            .mark_read(study(&study_id)?, message)
            .await?
            .into())
    }

    /// Uploads the file at `path` to a study (streamed; at most 50 MB).
    pub async fn upload_file(
        &self,
        study_id: String,
        path: String,
        content_type: String,
    ) -> Result<FileMeta, CoupError> {
        let id = study(&study_id)?;
        self.rest(|api| async move {
            api.upload_file_from_path(id, std::path::Path::new(&path), &content_type)
                .await
        })
        .await
        .map(Into::into)
    }

    /// Downloads a study's file into `path`; returns the bytes written.
    pub async fn download_file(
        &self,
        study_id: String,
        file_id: String,
        path: String,
    ) -> Result<u64, CoupError> {
        let (id, file) = (study(&study_id)?, parse_id::<FileId>("fileId", &file_id)?);
        self.rest(|api| async move {
            let mut out = tokio::fs::File::create(&path)
                .await
                .map_err(|e| coup_core::Error::Internal(format!("creating {path}: {e}")))?;
            Ok(api.download_file_to(id, file, &mut out).await?.size)
        })
        .await
    }

    // ------------------------------------------------------------ tasks

    /// The user's tasks, from the cache (with changes made offline).
    pub async fn tasks(&self) -> Result<Vec<TaskItem>, CoupError> {
        Ok(all(self.client.tasks().await?))
    }

    /// Creates a task through the outbox (created once, whatever the retries);
    /// later changes may name it `TaskRef.Pending(item.client_id)` at once.
    pub async fn create_task(&self, task: NewTask) -> Result<OutboxItem, CoupError> {
        Ok(self.client.create_task(task.into_core()?).await?.into())
    }

    /// Changes a task through the outbox.
    pub async fn update_task(
        &self,
        task: TaskRef,
        patch: TaskPatch,
    ) -> Result<OutboxItem, CoupError> {
        Ok(self
            .client
            .update_task(task.into_core()?, patch.into_core()?)
            .await?
            .into())
    }

    /// Marks a task done or open through the outbox.
    pub async fn set_task_done(&self, task: TaskRef, done: bool) -> Result<OutboxItem, CoupError> {
        Ok(self
            .client
            .set_task_done(task.into_core()?, done)
            .await?
            .into())
    }

    /// Deletes a task through the outbox.
    pub async fn delete_task(&self, task: TaskRef) -> Result<OutboxItem, CoupError> {
        Ok(self.client.delete_task(task.into_core()?).await?.into())
    }

    // ------------------------------------------------------------ notifications

    /// The user's notifications, newest first, from the cache.
    pub async fn notifications(&self) -> Result<Vec<NotificationItem>, CoupError> {
        Ok(all(self.client.notifications().await?))
    }

    /// Marks one notification read.
    pub async fn mark_notification_read(
        &self,
        notification_id: String,
    ) -> Result<NotificationItem, CoupError> {
        let id: NotificationId = parse_id("notificationId", &notification_id)?;
        self.rest(|api| async move { api.mark_notification_read(id).await })
            .await
            .map(Into::into)
    }

    /// Marks every notification read; returns how many were unread.
    pub async fn mark_all_notifications_read(&self) -> Result<u64, CoupError> {
        self.rest(|api| async move { api.mark_all_notifications_read().await })
            .await
            .map(|m| m.marked)
    }

    // ------------------------------------------------------------ outbox

    /// The outbox: pending and failed items, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxItem>, CoupError> {
        Ok(all(self.client.outbox().await?))
    }

    /// Sends a failed item again, in its original place.
    pub async fn retry(&self, item_id: i64) -> Result<OutboxItem, CoupError> {
        Ok(self.client.retry(item_id).await?.into())
    }

    /// Drops a failed item.
    pub async fn discard(&self, item_id: i64) -> Result<(), CoupError> {
        Ok(self.client.discard(item_id).await?)
    }

    /// Sends what is pending now (the client also does this by itself).
    pub async fn flush(&self) -> Result<FlushReport, CoupError> {
        Ok(self.client.flush().await?.into())
    }

    // ------------------------------------------------------------ calls

    /// Joins a study's call (the study must be followed). Then open a peer
    /// connection to each participant (see README: the newcomer offers).
    pub async fn join_call(
        &self,
        study_id: String,
        media: MediaState,
    ) -> Result<JoinedCall, CoupError> {
        Ok(self
            .client
            .join_call(study(&study_id)?, media.into())
            .await?
            .into())
    }

    /// Leaves a study's call.
    pub async fn leave_call(&self, study_id: String) -> Result<(), CoupError> {
        Ok(self.client.leave_call(study(&study_id)?).await?)
    }

    /// Sends an offer, answer or ICE candidate to another participant.
    pub async fn send_signal(
        &self,
        study_id: String,
        to_user_id: String,
        signal: Signal,
    ) -> Result<(), CoupError> {
        let to: UserId = parse_id("toUserId", &to_user_id)?;
        Ok(self
            .client
            .send_signal(study(&study_id)?, to, signal.into())
            .await?)
    }

    /// Tells the call about the user's microphone, camera and screen share.
    pub async fn set_media(&self, study_id: String, media: MediaState) -> Result<(), CoupError> {
        Ok(self
            .client
            .set_media(study(&study_id)?, media.into())
            .await?)
    }
}
