//! The client of a CoUp server (feature `client`), so that no front end talks HTTP
//! or parses frames itself. The desktop app and the mobile bindings are thin
//! wrappers over [`Client`].
//!
//! - [`Client`]: sign in (or restore a saved session offline), follow studies,
//!   read the offline cache, act through the outbox, type, read, call — every
//!   operation that touches the cache or the network is async and runs on the
//!   client's own tokio runtime, so any thread may call it.
//! - [`events`]: [`AppEvent`], everything the client tells an app, delivered to
//!   [`EventStream`]s and [`EventListener`]s without ever stalling the client.
//! - [`api`]: [`ApiClient`], one typed async method per REST endpoint.
//! - [`live`]: the WebSocket connection that reconnects and resumes by itself
//!   and delivers chat changes exactly once, in order (internal).
//! - [`cache`]: [`Cache`], the last known state per server and account in SQLite.
//! - [`outbox`]: what the user did offline, sent in order, exactly once.
//! - [`sessions`]: [`SessionStore`], where tokens are kept (not the cache).
//! - [`calls`]: call signaling.
//! - [`backoff`]: exponential backoff with jitter.
//! - `app_types` (feature `openapi`): the events' types as an OpenAPI document,
//!   from which the UI's TypeScript is generated.

pub mod api;
#[cfg(feature = "openapi")]
pub mod app_types;
pub mod backoff;
pub mod cache;
pub mod calls;
pub mod events;
pub mod live;
pub mod outbox;
pub mod sessions;
mod tls;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

use chrono::Utc;
use tokio::runtime::Handle;
use tokio::sync::{Mutex, Notify, broadcast, mpsc};
use tokio::task::JoinHandle;

pub use api::{ApiClient, Timeouts};
use backoff::Backoff;
pub use cache::Cache;
pub use calls::JoinedCall;
pub use events::{AppEvent, ConnectionState, Signal, StudyGoneReason};
pub use live::{Cursor, LiveConfig};
use live::{Live, LiveEvent};
pub use outbox::{FlushReport, OutboxAction, OutboxItem, OutboxState, Sent, TaskRef};
pub use sessions::{FileSessionStore, SessionKey, SessionStore};

use crate::api::accounts::{Login, Signup};
use crate::api::calendar::Range;
use crate::api::chat::ChatQuery;
use crate::api::notifications::NotificationQuery;
use crate::api::studies::MyStudiesQuery;
use crate::api::tasks::{NewTask, TaskPatch, TaskQuery};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{MessageId, StudyId, UserId};
use crate::model::{
    CalendarEvent, ChatMessage, Member, MemberStatus, Notice, Notification, Page, PageRequest,
    Study, Task, User,
};
use crate::realtime::calls::MediaState;
use crate::realtime::protocol::{ClientFrame, ServerFrame, UnsubscribeReason};

/// Where the client connects, where it keeps its cache and tokens, and on what
/// it runs.
#[derive(Clone)]
pub struct ClientConfig {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub server: String,
    /// The SQLite file of the offline cache (shared by accounts and servers).
    pub cache_path: PathBuf,
    /// Reconnecting; its backoff also paces outbox retries.
    pub live: LiveConfig,
    /// Time limits of REST calls.
    pub timeouts: Timeouts,
    /// Events each subscriber may fall behind by before it misses the oldest
    /// (and gets [`AppEvent::Lagged`]).
    pub event_buffer: usize,
    /// The tokio runtime the client runs on. `None`: the runtime of the thread
    /// that creates the client, or — created outside any — one of its own.
    pub runtime: Option<Handle>,
    /// Where tokens are kept. `None`: a [`FileSessionStore`] beside the cache
    /// file (`<cache>.sessions`, readable by its owner only).
    pub session_store: Option<Arc<dyn SessionStore>>,
    /// CA certificates (PEM) trusted for `https://` and `wss://` besides the
    /// public ones: for a server whose certificate comes from its own CA.
    pub extra_roots_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("server", &self.server)
            .field("cache_path", &self.cache_path)
            .field("live", &self.live)
            .field("timeouts", &self.timeouts)
            .field("event_buffer", &self.event_buffer)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// Default behaviour for `server`, caching in `cache_path`.
    pub fn new(server: impl Into<String>, cache_path: impl Into<PathBuf>) -> Self {
        Self {
            server: server.into(),
            cache_path: cache_path.into(),
            live: LiveConfig::default(),
            timeouts: Timeouts::default(),
            event_buffer: 1024,
            runtime: None,
            session_store: None,
            extra_roots_pem: None,
        }
    }

    fn api(&self) -> Result<ApiClient> {
        ApiClient::with_options(&self.server, self.timeouts, self.extra_roots_pem.as_deref())
    }

    fn session_store(&self) -> Arc<dyn SessionStore> {
        self.session_store
            .clone()
            .unwrap_or_else(|| Arc::new(FileSessionStore::beside(&self.cache_path)))
    }
}

/// Receives app events, for bindings that cannot poll a stream. Called in
/// order, one event at a time, on a thread of the client's blocking pool: a
/// listener may block (say, to marshal onto a UI thread) without delaying the
/// client.
pub trait EventListener: Send + Sync + 'static {
    /// Called for each event.
    fn on_event(&self, event: AppEvent);
}

/// Stops a listener when cancelled or dropped; after `cancel` returns, at most
/// the callback already running finishes.
#[derive(Debug)]
pub struct ListenerHandle {
    cancelled: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl ListenerHandle {
    /// Stops the listener.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.task.abort();
    }
}

impl Drop for ListenerHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// App events for a Rust caller, in order (see [`events`] for the policy).
#[derive(Debug)]
pub struct EventStream {
    events: broadcast::Receiver<AppEvent>,
}

impl EventStream {
    /// The next event; `None` once the client is gone.
    pub async fn next(&mut self) -> Option<AppEvent> {
        match self.events.recv().await {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(AppEvent::Lagged { missed }),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

/// How far back and ahead the cached calendar reaches, in days.
const CALENDAR_DAYS_BACK: i64 = 30;
const CALENDAR_DAYS_AHEAD: i64 = 180;

/// The runtime a client runs on: given, or its own.
struct Runtime {
    handle: Handle,
    /// Shut down in the background when the client goes (dropping a runtime from
    /// inside async code would panic).
    owned: Option<tokio::runtime::Runtime>,
}

impl Runtime {
    fn for_config(config: &ClientConfig) -> Result<Self> {
        if let Some(handle) = config
            .runtime
            .clone()
            .or_else(|| Handle::try_current().ok())
        {
            return Ok(Self {
                handle,
                owned: None,
            });
        }
        let owned = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("coup-client")
            .enable_all()
            .build()
            .map_err(|e| Error::failed("starting the client runtime", e))?;
        Ok(Self {
            handle: owned.handle().clone(),
            owned: Some(owned),
        })
    }

    /// Runs `work` on this runtime and waits for it from any executor or thread.
    async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        on(&self.handle, work).await
    }
}

async fn on<T: Send + 'static>(
    handle: &Handle,
    work: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    handle
        .spawn(work)
        .await
        .map_err(|e| Error::failed("running a client task", e))?
}

/// Runs a short local cache operation on the blocking pool.
async fn blocking<T: Send + 'static>(
    cache: &Arc<Cache>,
    work: impl FnOnce(&Cache) -> Result<T> + Send + 'static,
) -> Result<T> {
    let cache = cache.clone();
    tokio::task::spawn_blocking(move || work(&cache))
        .await
        .map_err(|e| Error::failed("running an offline cache task", e))?
}

struct Shared {
    api: ApiClient,
    cache: Arc<Cache>,
    live: Live,
    user: User,
    config: ClientConfig,
    sessions: Arc<dyn SessionStore>,
    /// Wakes the sync task: something was queued, or the connection came back.
    wake: Notify,
    /// Set when the cache should be refreshed from the server.
    refresh_due: AtomicBool,
    /// Set while the app is in the background: nothing goes out.
    paused: AtomicBool,
    /// One flush at a time, so items go out once and in order.
    flushing: Mutex<()>,
    events: broadcast::Sender<AppEvent>,
    state: StdMutex<ConnectionState>,
}

struct Inner {
    shared: Arc<Shared>,
    tasks: StdMutex<Vec<JoinHandle<()>>>,
    runtime: StdMutex<Option<Runtime>>,
    handle: Handle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            task.abort();
        }
        if let Some(owned) = self
            .runtime
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .and_then(|r| r.owned)
        {
            owned.shutdown_background();
        }
    }
}

/// A signed-in client: REST, live events, offline cache and outbox together.
/// Cheap to clone (clones share everything); when the last clone goes, its
/// connection and tasks stop and the cache stays for the next start.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.shared().api.base())
            .field("user", &self.shared().user.id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Signs in and starts.
    pub async fn login(config: ClientConfig, email: &str, password: &str) -> Result<Self> {
        let login = Login {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        Self::sign_in(config, move |api| async move { api.login(&login).await }).await
    }

    /// Creates an account, signs in and starts.
    pub async fn signup(config: ClientConfig, signup: Signup) -> Result<Self> {
        Self::sign_in(config, move |api| async move { api.signup(&signup).await }).await
    }

    async fn sign_in<F, Fut>(config: ClientConfig, sign_in: F) -> Result<Self>
    where
        F: FnOnce(ApiClient) -> Fut + Send + 'static,
        Fut: Future<Output = Result<crate::model::LoginResult>> + Send,
    {
        let runtime = Runtime::for_config(&config)?;
        let prepared = config.clone();
        let (api, cache, user) = runtime
            .run(async move {
                let config = prepared;
                let api = config.api()?;
                let session = sign_in(api.clone()).await?;
                let (path, server, user) = (
                    config.cache_path.clone(),
                    api.base().to_owned(),
                    session.user.clone(),
                );
                let sessions = config.session_store();
                let token = session.token.clone();
                let cache = tokio::task::spawn_blocking(move || -> Result<Cache> {
                    let cache = Cache::open(&path, &server, user.id)?;
                    sessions.save(&key(&server, user.id), &token)?;
                    cache.save_account(&user)?;
                    Ok(cache)
                })
                .await
                .map_err(|e| Error::failed("opening the offline cache", e))??;
                Ok((api, cache, session.user))
            })
            .await?;
        Ok(Self::start(config, runtime, api, cache, user))
    }

    /// Starts from the session saved for the account last used on the server,
    /// without the network: the cached state is there at once, and the client
    /// connects (and catches up) as soon as the server answers. `None` if no
    /// session is saved.
    pub async fn restore(config: ClientConfig) -> Result<Option<Self>> {
        Self::restore_account(config, None).await
    }

    /// The accounts with a saved session on the server, most recently used first.
    pub async fn saved_accounts(config: ClientConfig) -> Result<Vec<User>> {
        let runtime = Runtime::for_config(&config)?;
        runtime
            .run(async move {
                let server = ApiClient::new(&config.server)?.base().to_owned();
                let path = config.cache_path.clone();
                tokio::task::spawn_blocking(move || Cache::accounts(&path, &server))
                    .await
                    .map_err(|e| Error::failed("listing the saved accounts", e))?
            })
            .await
    }

    /// Starts from the saved session of one account (`None`: the last used).
    pub async fn restore_account(
        config: ClientConfig,
        account: Option<UserId>,
    ) -> Result<Option<Self>> {
        let runtime = Runtime::for_config(&config)?;
        let prepared = config.clone();
        let restored = runtime
            .run(async move {
                let config = prepared;
                let api = config.api()?;
                let (path, server) = (config.cache_path.clone(), api.base().to_owned());
                let sessions = config.session_store();
                let found = tokio::task::spawn_blocking(move || -> Result<_> {
                    let accounts = Cache::accounts(&path, &server)?;
                    let Some(user) = accounts
                        .into_iter()
                        .find(|u| account.is_none_or(|wanted| wanted == u.id))
                    else {
                        return Ok(None);
                    };
                    let cache = Cache::open(&path, &server, user.id)?;
                    let key = key(&server, user.id);
                    // A token an older client kept in the cache file moves out of it.
                    if let Some(token) = cache.take_legacy_token()? {
                        sessions.save(&key, &token)?;
                    }
                    Ok(sessions.load(&key)?.map(|token| (cache, user, token)))
                })
                .await
                .map_err(|e| Error::failed("restoring a saved session", e))??;
                Ok(found.map(|(cache, user, token)| {
                    api.set_token(Some(token));
                    (api, cache, user)
                }))
            })
            .await?;
        Ok(restored.map(|(api, cache, user)| Self::start(config, runtime, api, cache, user)))
    }

    fn start(
        config: ClientConfig,
        runtime: Runtime,
        api: ApiClient,
        cache: Cache,
        user: User,
    ) -> Self {
        let handle = runtime.handle.clone();
        let _entered = handle.enter();
        let (live, live_events) = Live::start(api.clone(), config.live.clone());
        let (events, _) = broadcast::channel(config.event_buffer.max(1));
        let shared = Arc::new(Shared {
            api,
            cache: Arc::new(cache),
            live,
            user,
            sessions: config.session_store(),
            config,
            wake: Notify::new(),
            refresh_due: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            flushing: Mutex::new(()),
            events,
            state: StdMutex::new(ConnectionState::Connecting),
        });
        let tasks = vec![
            handle.spawn(follow_cached(shared.clone())),
            handle.spawn(pump(shared.clone(), live_events)),
            handle.spawn(sync(shared.clone())),
        ];
        Self {
            inner: Arc::new(Inner {
                shared,
                tasks: StdMutex::new(tasks),
                runtime: StdMutex::new(Some(runtime)),
                handle,
            }),
        }
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    /// Runs `work` with the shared state on the client's runtime.
    async fn run<T, F, Fut>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<Shared>) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        on(&self.inner.handle, work(self.shared().clone())).await
    }

    /// The signed-in user (as of sign-in).
    pub fn user(&self) -> User {
        self.shared().user.clone()
    }

    /// The REST API with this client's session. Its calls need a tokio runtime;
    /// from anywhere else use [`Client::rest`].
    pub fn api(&self) -> &ApiClient {
        &self.shared().api
    }

    /// Runs REST calls on the client's runtime, from any thread or executor.
    pub async fn rest<T, F, Fut>(&self, call: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(ApiClient) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let api = self.shared().api.clone();
        on(&self.inner.handle, call(api)).await
    }

    /// Every event from now on, in order.
    pub fn events(&self) -> EventStream {
        EventStream {
            events: self.shared().events.subscribe(),
        }
    }

    /// Calls `listener` with every event from now on, until the handle is
    /// cancelled or dropped.
    pub fn subscribe(&self, listener: Arc<dyn EventListener>) -> ListenerHandle {
        let mut events = self.events();
        let cancelled = Arc::new(AtomicBool::new(false));
        let stop = cancelled.clone();
        let task = self.inner.handle.spawn(async move {
            while let Some(event) = events.next().await {
                let (listener, stopped) = (listener.clone(), stop.clone());
                let delivered = tokio::task::spawn_blocking(move || {
                    if !stopped.load(Ordering::SeqCst) {
                        listener.on_event(event);
                    }
                })
                .await;
                if delivered.is_err() || stop.load(Ordering::SeqCst) {
                    return;
                }
            }
        });
        ListenerHandle { cancelled, task }
    }

    /// The number of the live connection the server welcomed last: 1 for the
    /// first, one more for each reconnect (0 before any). Unlike
    /// [`AppEvent::Connection`], which reaches listeners in order with the live
    /// frames (and so may come after answers the connection already gave), it
    /// is current the moment a connection is welcomed.
    pub fn live_connection(&self) -> u64 {
        self.shared().live.connection()
    }

    /// The live connection's state now.
    pub fn connection_state(&self) -> ConnectionState {
        self.shared()
            .state
            .lock()
            .map(|s| s.clone())
            .unwrap_or(ConnectionState::Connecting)
    }

    /// Follows a study live, resuming after the last change the cache holds.
    pub async fn follow(&self, study: StudyId) -> Result<()> {
        self.run(move |shared| async move {
            let cursor = blocking(&shared.cache, move |c| c.cursor(study)).await?;
            shared.live.subscribe(study, cursor);
            Ok(())
        })
        .await
    }

    /// Stops following a study live.
    pub fn unfollow(&self, study: StudyId) {
        self.shared().live.unsubscribe(study);
    }

    /// The studies the user is an active member of, as last known.
    pub async fn studies(&self) -> Result<Vec<Study>> {
        self.read(|c| c.studies()).await
    }

    /// A study's members, as last known.
    pub async fn members(&self, study: StudyId) -> Result<Vec<Member>> {
        self.read(move |c| c.members(study)).await
    }

    /// A study's notices, as last known.
    pub async fn notices(&self, study: StudyId) -> Result<Vec<Notice>> {
        self.read(move |c| c.notices(study)).await
    }

    /// A study's calendar (30 days back, 180 ahead), as last known.
    pub async fn calendar(&self, study: StudyId) -> Result<Vec<CalendarEvent>> {
        self.read(move |c| c.events(study)).await
    }

    /// The user's tasks, as last known (with changes made offline).
    pub async fn tasks(&self) -> Result<Vec<Task>> {
        self.read(|c| c.tasks()).await
    }

    /// The user's notifications, newest first, as last known.
    pub async fn notifications(&self) -> Result<Vec<Notification>> {
        self.read(|c| c.notifications()).await
    }

    /// The last `limit` messages held for a study, in sequence order.
    pub async fn messages(&self, study: StudyId, limit: u32) -> Result<Vec<ChatMessage>> {
        self.read(move |c| c.messages(study, limit)).await
    }

    /// Where a study's chat stands in the cache.
    pub async fn cursor(&self, study: StudyId) -> Result<Cursor> {
        self.read(move |c| c.cursor(study)).await
    }

    /// The outbox: pending and failed items, oldest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxItem>> {
        self.read(|c| c.outbox()).await
    }

    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Cache) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.run(move |shared| async move { blocking(&shared.cache, work).await })
            .await
    }

    async fn enqueue(&self, action: OutboxAction) -> Result<OutboxItem> {
        self.run(move |shared| async move {
            let item = blocking(&shared.cache, move |c| outbox::enqueue(c, action)).await?;
            shared.emit(AppEvent::OutboxPending {
                item: Box::new(item.clone()),
            });
            shared.wake.notify_one();
            Ok(item)
        })
        .await
    }

    /// Posts a chat message through the outbox; it is pending until the server has it.
    pub async fn send_message(&self, study: StudyId, content: &str) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::SendMessage {
            study_id: study,
            content: content.to_owned(),
            file_id: None,
        })
        .await
    }

    /// Posts a message with an uploaded file of the study through the outbox.
    pub async fn send_file_message(
        &self,
        study: StudyId,
        content: &str,
        file: crate::ids::FileId,
    ) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::SendMessage {
            study_id: study,
            content: content.to_owned(),
            file_id: Some(file),
        })
        .await
    }

    /// Creates a task through the outbox (created once, whatever the retries).
    pub async fn create_task(&self, task: NewTask) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::CreateTask { task }).await
    }

    /// Changes a task through the outbox: one the server has (`TaskId`), or one
    /// still being created ([`TaskRef::Pending`] with its create item's client id).
    pub async fn update_task(
        &self,
        task: impl Into<TaskRef>,
        patch: TaskPatch,
    ) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::UpdateTask {
            task_id: task.into(),
            patch,
        })
        .await
    }

    /// Marks a task done or open through the outbox (the cache shows it at once).
    pub async fn set_task_done(&self, task: impl Into<TaskRef>, done: bool) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::SetTaskDone {
            task_id: task.into(),
            done,
        })
        .await
    }

    /// Deletes a task through the outbox (gone from the cache at once).
    pub async fn delete_task(&self, task: impl Into<TaskRef>) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::DeleteTask {
            task_id: task.into(),
        })
        .await
    }

    /// Marks a study's chat read up to a message (through the outbox).
    pub async fn mark_read(&self, study: StudyId, message: MessageId) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::MarkRead {
            study_id: study,
            message_id: message,
        })
        .await
    }

    /// Sends a failed outbox item again (in its original place).
    pub async fn retry(&self, item: i64) -> Result<OutboxItem> {
        self.run(move |shared| async move {
            let item = blocking(&shared.cache, move |c| outbox::retry(c, item)).await?;
            shared.emit(AppEvent::OutboxPending {
                item: Box::new(item.clone()),
            });
            shared.wake.notify_one();
            Ok(item)
        })
        .await
    }

    /// Drops a failed outbox item.
    pub async fn discard(&self, item: i64) -> Result<()> {
        self.run(move |shared| async move {
            blocking(&shared.cache, move |c| outbox::discard(c, item)).await
        })
        .await
    }

    /// Says the user is (or stopped) typing in a study; nothing if offline.
    pub fn set_typing(&self, study: StudyId, typing: bool) {
        self.shared().live.send(ClientFrame::Typing {
            study_id: study,
            typing,
        });
    }

    /// Joins a study's call (the study must be followed); emits
    /// [`AppEvent::CallJoined`] with who is there.
    pub async fn join_call(&self, study: StudyId, media: MediaState) -> Result<JoinedCall> {
        Ok(self.join_call_on_connection(study, media).await?.0)
    }

    /// [`Client::join_call`], with the number of the live connection that
    /// holds the seat (see [`Client::live_connection`]): the seat ends with
    /// that connection, so the call must be joined again once
    /// `live_connection` has moved past it.
    pub async fn join_call_on_connection(
        &self,
        study: StudyId,
        media: MediaState,
    ) -> Result<(JoinedCall, u64)> {
        self.run(move |shared| async move {
            let (joined, connection) = calls::join(&shared.live, study, media).await?;
            shared.emit(AppEvent::CallJoined {
                study_id: study,
                participants: joined.participants.clone(),
            });
            Ok((joined, connection))
        })
        .await
    }

    /// Leaves a study's call.
    pub async fn leave_call(&self, study: StudyId) -> Result<()> {
        self.run(move |shared| async move { calls::leave(&shared.live, study).await })
            .await
    }

    /// Sends an offer, answer or ICE candidate to another participant of the call.
    pub async fn send_signal(&self, study: StudyId, to: UserId, signal: Signal) -> Result<()> {
        self.run(move |shared| async move { calls::signal(&shared.live, study, to, &signal).await })
            .await
    }

    /// Tells the call about this user's microphone, camera and screen share.
    pub async fn set_media(&self, study: StudyId, media: MediaState) -> Result<()> {
        self.run(move |shared| async move { calls::set_media(&shared.live, study, media).await })
            .await
    }

    /// Sends what is pending now (the client also does this by itself).
    pub async fn flush(&self) -> Result<FlushReport> {
        self.run(|shared| async move { shared.flush().await }).await
    }

    /// Reloads the cached lists from the server (the client also does this by
    /// itself each time it connects).
    pub async fn refresh(&self) -> Result<()> {
        self.run(|shared| async move { shared.refresh().await })
            .await
    }

    /// The app went to the background: the connection closes and nothing goes
    /// out until [`Client::resume`]; the cache stays readable.
    pub fn pause(&self) {
        self.shared().paused.store(true, Ordering::SeqCst);
        self.shared().live.pause();
    }

    /// The app is back: connect at once, catch up, and send what is pending.
    pub fn resume(&self) {
        self.shared().paused.store(false, Ordering::SeqCst);
        self.shared().live.resume();
        self.shared().wake.notify_one();
    }

    /// The device's network changed (e.g. Wi-Fi to mobile): reconnect at once
    /// instead of waiting out a backoff.
    pub fn network_changed(&self) {
        self.shared().live.network_changed();
        self.shared().wake.notify_one();
    }

    /// Signs out: the session ends on the server, the token leaves the session
    /// store, and this account's cache (data, outbox) is wiped — also when the
    /// server cannot be reached, in which case its error is returned after. The
    /// client stops; sign in again with a new one.
    pub async fn logout(&self) -> Result<()> {
        for task in self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            task.abort();
        }
        self.shared().live.pause();
        self.run(|shared| async move {
            let on_server = shared.api.logout().await;
            let key = key(shared.api.base(), shared.user.id);
            let sessions = shared.sessions.clone();
            blocking(&shared.cache, move |c| {
                sessions.delete(&key)?;
                c.wipe()
            })
            .await?;
            shared.api.set_token(None);
            shared.set_state(ConnectionState::SignedOut {
                code: ErrorCode::Unauthorized,
                message: "signed out".into(),
                reason: None,
            });
            on_server
        })
        .await
    }
}

fn key(server: &str, account: UserId) -> SessionKey {
    SessionKey {
        server: server.trim_end_matches('/').to_owned(),
        account: account.to_string(),
    }
}

impl Shared {
    fn emit(&self, event: AppEvent) {
        // No subscriber is fine: the cache holds the state.
        let _ = self.events.send(event);
    }

    fn set_state(&self, state: ConnectionState) {
        if let Ok(mut now) = self.state.lock() {
            *now = state.clone();
        }
        self.emit(AppEvent::Connection { state });
    }

    /// Applies a live frame to the cache.
    fn absorb(&self, frame: &ServerFrame) -> Result<()> {
        let cache = &self.cache;
        match frame {
            // `Live` delivers chat changes in order with nothing missing: the
            // resume point moves with each.
            ServerFrame::Message { message, change } => {
                cache.put_delivered(message.study_id, std::slice::from_ref(message), *change)
            }
            ServerFrame::MessageDeleted {
                study_id,
                message_id,
                change,
                ..
            } => {
                cache.delete_message(*study_id, *message_id)?;
                cache.advance(*study_id, *change)
            }
            ServerFrame::ReadReceipt {
                study_id, change, ..
            } => cache.advance(*study_id, *change),
            // Where the replay reached (superseded changes have no frame).
            ServerFrame::Subscribed {
                study_id,
                last_change,
                ..
            } => cache.advance(*study_id, *last_change),
            ServerFrame::Notification { notification } => cache.put_notification(notification),
            ServerFrame::Unsubscribed {
                study_id,
                reason:
                    UnsubscribeReason::Kicked
                    | UnsubscribeReason::Left
                    | UnsubscribeReason::StudyDeleted,
                ..
            } => cache.remove_study(*study_id),
            _ => Ok(()),
        }
    }

    async fn flush(&self) -> Result<FlushReport> {
        let report = {
            let _one_at_a_time = self.flushing.lock().await;
            outbox::flush(&self.api, &self.cache).await?
        };
        for (item, sent) in &report.sent {
            self.emit(AppEvent::OutboxSent {
                item: Box::new(item.clone()),
                sent: Box::new(sent.clone()),
            });
        }
        for item in &report.failed {
            self.emit(AppEvent::OutboxFailed {
                item: Box::new(item.clone()),
            });
        }
        Ok(report)
    }

    /// Reloads one study's members, notices, calendar and (when none is held yet)
    /// newest chat, and follows it live.
    async fn refresh_study(&self, study: StudyId) -> Result<()> {
        let members = all_pages(|page| self.api.members(study, page)).await?;
        self.cache.replace_members(study, &members)?;
        let notices = all_pages(|page| self.api.notices(study, page)).await?;
        self.cache.replace_notices(study, &notices)?;
        let now = Utc::now();
        let range = Range {
            from: now - chrono::Duration::days(CALENDAR_DAYS_BACK),
            to: now + chrono::Duration::days(CALENDAR_DAYS_AHEAD),
        };
        let events = self.api.events(study, &range).await?;
        self.cache.replace_events(study, &events)?;
        if self.cache.cursor(study)?.change.is_none() {
            // Where a study never seen starts: its newest page, from which the live
            // stream goes on. (A cache from before the change feed holds only a
            // sequence: it resumes from that, and the server maps it.)
            if self.cache.cursor(study)?.seq.is_none() {
                let newest = self.api.messages(study, &ChatQuery::default()).await?;
                self.cache
                    .put_delivered(study, &newest.items, newest.last_change)?;
            }
        }
        self.live.subscribe(study, self.cache.cursor(study)?);
        Ok(())
    }

    async fn refresh(&self) -> Result<()> {
        let studies = all_pages(|page| async move {
            let query = MyStudiesQuery {
                page: page.page,
                limit: page.limit,
                ..MyStudiesQuery::default()
            };
            self.api.my_studies(&query).await
        })
        .await?;
        let studies: Vec<_> = studies
            .into_iter()
            .filter(|s| s.my_status == Some(MemberStatus::Active))
            .collect();
        for gone in self.cache.studies()? {
            if !studies.iter().any(|s| s.id == gone.id) {
                self.cache.remove_study(gone.id)?;
                self.live.unsubscribe(gone.id);
            }
        }
        self.cache.replace_studies(&studies)?;
        for study in &studies {
            match self.refresh_study(study.id).await {
                Ok(()) => {}
                Err(e) if api::is_transient(&e) || e.code() == ErrorCode::Unauthorized => {
                    return Err(e);
                }
                // E.g. kicked since the list was read: the next refresh drops it.
                Err(e) => tracing::warn!(error = %e, study = %study.id, "refreshing a study"),
            }
        }
        let tasks = all_pages(|page| async move {
            let query = TaskQuery {
                page: page.page,
                limit: page.limit,
                ..TaskQuery::default()
            };
            self.api.tasks(&query).await
        })
        .await?;
        self.cache.replace_tasks(&tasks)?;
        let notifications = all_pages(|page| async move {
            let batch = self
                .api
                .notifications(&NotificationQuery {
                    page: page.page,
                    limit: page.limit,
                    ..NotificationQuery::default()
                })
                .await?;
            Ok(Page {
                items: batch.items,
                total: batch.total,
                page: batch.page,
                limit: batch.limit,
            })
        })
        .await?;
        self.cache.replace_notifications(&notifications)?;
        self.emit(AppEvent::CacheRefreshed);
        Ok(())
    }
}

/// Every row of a paged list, read a page of the server's largest size at a time
/// (the server caps pages at 100). Stops at the total the server gives, or at an
/// empty or short page (the list shrank meanwhile), so no answer makes it loop.
async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>>>,
{
    let mut all = Vec::new();
    for number in 1.. {
        let batch = fetch(PageRequest::new(number, PageRequest::MAX_LIMIT)).await?;
        let got = batch.items.len();
        all.extend(batch.items);
        let short = got == 0 || got < usize::try_from(batch.limit).unwrap_or(usize::MAX);
        if short || u64::try_from(all.len()).unwrap_or(u64::MAX) >= batch.total {
            break;
        }
    }
    Ok(all)
}

/// Follows every cached study from where the cache stops.
async fn follow_cached(shared: Arc<Shared>) {
    let cursors = blocking(&shared.cache, |c| {
        c.studies()?
            .into_iter()
            .map(|s| Ok((s.id, c.cursor(s.id)?)))
            .collect::<Result<Vec<_>>>()
    })
    .await;
    match cursors {
        Ok(cursors) => {
            for (study, cursor) in cursors {
                shared.live.subscribe(study, cursor);
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading cached studies"),
    }
}

/// Applies live events to the cache, then tells the application.
async fn pump(shared: Arc<Shared>, mut live_events: mpsc::Receiver<LiveEvent>) {
    while let Some(event) = live_events.recv().await {
        match event {
            LiveEvent::Connecting => shared.set_state(ConnectionState::Connecting),
            LiveEvent::Connected { .. } => {
                shared.set_state(ConnectionState::Online);
                shared.refresh_due.store(true, Ordering::SeqCst);
                shared.wake.notify_one();
            }
            LiveEvent::Disconnected { reason, retry_in } => {
                shared.set_state(ConnectionState::Offline {
                    reason,
                    retry_in_ms: u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX),
                });
            }
            LiveEvent::Stopped {
                code,
                message,
                reason,
            } => {
                shared.set_state(ConnectionState::SignedOut {
                    code,
                    message,
                    reason,
                });
            }
            LiveEvent::Frame(frame) => {
                let frame = *frame;
                let absorbed = {
                    let (shared, frame) = (shared.clone(), frame.clone());
                    tokio::task::spawn_blocking(move || shared.absorb(&frame)).await
                };
                if let Ok(Err(e)) | Err(e) =
                    absorbed.map_err(|e| Error::failed("caching a live event", e))
                {
                    tracing::warn!(error = %e, "caching a live event");
                }
                if let Some(event) = AppEvent::from_frame(frame) {
                    shared.emit(event);
                }
            }
        }
    }
}

/// Flushes the outbox when woken (something queued, connection back) and
/// refreshes the cache after each connect; retries with backoff while the server
/// cannot be reached.
async fn sync(shared: Arc<Shared>) {
    let mut backoff = Backoff::new(
        shared.config.live.min_backoff,
        shared.config.live.max_backoff,
    );
    let mut retry_in = None;
    loop {
        match retry_in {
            Some(delay) => {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shared.wake.notified() => {}
                }
            }
            None => shared.wake.notified().await,
        }
        if shared.paused.load(Ordering::SeqCst) {
            // In the background nothing goes out; `resume` wakes this again.
            retry_in = None;
            continue;
        }
        let flushed = match shared.flush().await {
            Ok(report) => report.stopped.map(|e| e.code()),
            Err(e) => Some(e.code()),
        };
        let refreshed = if shared.refresh_due.swap(false, Ordering::SeqCst) {
            match shared.refresh().await {
                Ok(()) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "refreshing the offline cache");
                    shared.refresh_due.store(true, Ordering::SeqCst);
                    Some(e.code())
                }
            }
        } else {
            None
        };
        retry_in = match flushed.or(refreshed) {
            // A session that ended waits for a new sign-in, not for a timer.
            None | Some(ErrorCode::Unauthorized) => {
                backoff.reset();
                None
            }
            Some(_) => Some(backoff.next_delay()),
        };
    }
}
