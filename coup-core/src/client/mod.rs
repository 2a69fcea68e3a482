//! The client of a CoUp server (feature `client`), so that no front end talks HTTP
//! or parses frames itself. The desktop app and the mobile bindings build on it.
//!
//! - [`api`]: [`ApiClient`], one typed async method per REST endpoint.
//! - [`live`]: [`Live`], the WebSocket connection that reconnects and resumes by
//!   itself and delivers chat exactly once, in order.
//! - [`cache`]: [`Cache`], the last known state per server and account in SQLite.
//! - [`outbox`]: what the user did offline, sent in order, exactly once.
//! - [`calls`]: call signaling helpers and typed call events.
//! - [`backoff`]: exponential backoff with jitter.
//! - [`Client`]: all of it together — sign in (or resume offline from the cache),
//!   follow studies, keep the cache current from live events, send through the
//!   outbox, and deliver [`ClientEvent`]s on a channel or to an [`EventListener`].

pub mod api;
pub mod backoff;
pub mod cache;
pub mod calls;
pub mod live;
pub mod outbox;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use tokio::sync::{Mutex, Notify, mpsc};
use tokio::task::JoinHandle;

pub use api::{ApiClient, Timeouts};
use backoff::Backoff;
pub use cache::Cache;
use calls::Calls;
pub use live::{Live, LiveConfig, LiveEvent};
pub use outbox::TaskRef;
use outbox::{FlushReport, OutboxAction, OutboxItem, Sent};

use crate::error::{ErrorCode, Result};
use crate::ids::{MessageId, StudyId};
use crate::model::{MemberStatus, Page, PageRequest, User};
use crate::realtime::protocol::{ServerFrame, UnsubscribeReason};
use crate::service::accounts::Login;
use crate::service::calendar::Range;
use crate::service::chat::ChatQuery;
use crate::service::notifications::NotificationQuery;
use crate::service::studies::MyStudiesQuery;
use crate::service::tasks::{NewTask, TaskPatch, TaskQuery};

/// Where the client connects and keeps its cache.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub server: String,
    /// The SQLite file of the offline cache (shared by accounts and servers).
    pub cache_path: PathBuf,
    /// Reconnecting and event buffering; its backoff also paces outbox retries.
    pub live: LiveConfig,
    /// Time limits of REST calls.
    pub timeouts: Timeouts,
}

impl ClientConfig {
    /// Default behaviour for `server`, caching in `cache_path`.
    pub fn new(server: impl Into<String>, cache_path: impl Into<PathBuf>) -> Self {
        Self {
            server: server.into(),
            cache_path: cache_path.into(),
            live: LiveConfig::default(),
            timeouts: Timeouts::default(),
        }
    }
}

/// What the client tells the application.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// From the live connection (already applied to the cache).
    Live(LiveEvent),
    /// The server took an outbox item; this is its answer.
    OutboxSent {
        item: Box<OutboxItem>,
        sent: Box<Sent>,
    },
    /// The server refused an outbox item; it stays, failed, with the reason.
    OutboxFailed { item: Box<OutboxItem> },
}

/// Receives client events, for bindings that cannot poll a channel.
pub trait EventListener: Send + Sync + 'static {
    /// Called for each event, in order, on a Tokio task.
    fn on_event(&self, event: ClientEvent);
}

/// Forwards every event of `events` to `listener` until the client is gone.
pub fn listen(
    mut events: mpsc::Receiver<ClientEvent>,
    listener: Arc<dyn EventListener>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            listener.on_event(event);
        }
    })
}

/// How far back and ahead the cached calendar reaches, in days.
const CALENDAR_DAYS_BACK: i64 = 30;
const CALENDAR_DAYS_AHEAD: i64 = 180;

struct Shared {
    api: ApiClient,
    cache: Cache,
    live: Live,
    user: User,
    config: ClientConfig,
    /// Wakes the sync task: something was queued, or the connection came back.
    wake: Notify,
    /// Set when the cache should be refreshed from the server.
    refresh_due: AtomicBool,
    /// One flush at a time, so items go out once and in order.
    flushing: Mutex<()>,
    events: mpsc::Sender<ClientEvent>,
}

/// A signed-in client: REST, live events, offline cache and outbox together.
///
/// Dropping it stops its connection and tasks; the cache stays for the next start.
pub struct Client {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.shared.api.base())
            .field("user", &self.shared.user.id)
            .finish_non_exhaustive()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Client {
    /// Signs in and starts; events arrive on the receiver.
    pub async fn login(
        config: ClientConfig,
        email: &str,
        password: &str,
    ) -> Result<(Self, mpsc::Receiver<ClientEvent>)> {
        let api = ApiClient::with_timeouts(&config.server, config.timeouts)?;
        let session = api
            .login(&Login {
                email: email.to_owned(),
                password: password.to_owned(),
            })
            .await?;
        let cache = Cache::open(&config.cache_path, api.base(), session.user.id)?;
        cache.save_session(&session.token, &session.user)?;
        Ok(Self::start(config, api, cache, session.user))
    }

    /// Starts from the session saved in the cache, without the network: the cached
    /// state is there at once, and the client connects (and catches up) as soon as
    /// the server answers. `None` if no session is saved for the server.
    pub async fn resume(
        config: ClientConfig,
    ) -> Result<Option<(Self, mpsc::Receiver<ClientEvent>)>> {
        let api = ApiClient::with_timeouts(&config.server, config.timeouts)?;
        let Some((token, user)) = Cache::last_session(&config.cache_path, api.base())? else {
            return Ok(None);
        };
        api.set_token(Some(token));
        let cache = Cache::open(&config.cache_path, api.base(), user.id)?;
        Ok(Some(Self::start(config, api, cache, user)))
    }

    fn start(
        config: ClientConfig,
        api: ApiClient,
        cache: Cache,
        user: User,
    ) -> (Self, mpsc::Receiver<ClientEvent>) {
        let (live, live_events) = Live::start(api.clone(), config.live.clone());
        let (events_tx, events) = mpsc::channel(config.live.event_buffer.max(1));
        let shared = Arc::new(Shared {
            api,
            cache,
            live,
            user,
            config,
            wake: Notify::new(),
            refresh_due: AtomicBool::new(false),
            flushing: Mutex::new(()),
            events: events_tx,
        });
        shared.follow_cached();
        let tasks = vec![
            tokio::spawn(pump(shared.clone(), live_events)),
            tokio::spawn(sync(shared.clone())),
        ];
        (Self { shared, tasks }, events)
    }

    /// The signed-in user (as of sign-in).
    pub fn user(&self) -> &User {
        &self.shared.user
    }

    /// The REST API with this client's session.
    pub fn api(&self) -> &ApiClient {
        &self.shared.api
    }

    /// The offline cache of this account on this server.
    pub fn cache(&self) -> &Cache {
        &self.shared.cache
    }

    /// The live connection (typing, raw requests).
    pub fn live(&self) -> &Live {
        &self.shared.live
    }

    /// Call signaling over the live connection.
    pub fn calls(&self) -> Calls<'_> {
        Calls::new(&self.shared.live)
    }

    /// Follows a study live, resuming after the last change the cache holds.
    pub fn follow(&self, study: StudyId) -> Result<()> {
        let cursor = self.shared.cache.cursor(study)?;
        self.shared.live.subscribe(study, cursor);
        Ok(())
    }

    fn enqueue(&self, action: OutboxAction) -> Result<OutboxItem> {
        let item = outbox::enqueue(&self.shared.cache, action)?;
        self.shared.wake.notify_one();
        Ok(item)
    }

    /// Posts a chat message through the outbox; it is pending until the server has it.
    pub fn send_message(&self, study: StudyId, content: &str) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::SendMessage {
            study_id: study,
            content: content.to_owned(),
            file_id: None,
        })
    }

    /// Creates a task through the outbox (created once, whatever the retries).
    pub fn create_task(&self, task: NewTask) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::CreateTask { task })
    }

    /// Changes a task through the outbox: one the server has (`TaskId`), or one
    /// still being created ([`TaskRef::Pending`] with its create item's client id).
    pub fn update_task(&self, task: impl Into<TaskRef>, patch: TaskPatch) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::UpdateTask {
            task_id: task.into(),
            patch,
        })
    }

    /// Marks a task done or open through the outbox (a cached task shows it at
    /// once); the task may still be being created, see [`Client::update_task`].
    pub fn set_task_done(&self, task: impl Into<TaskRef>, done: bool) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::SetTaskDone {
            task_id: task.into(),
            done,
        })
    }

    /// Deletes a task through the outbox (a cached task is gone at once); the task
    /// may still be being created, see [`Client::update_task`].
    pub fn delete_task(&self, task: impl Into<TaskRef>) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::DeleteTask {
            task_id: task.into(),
        })
    }

    /// Sends a read receipt up to a message through the outbox.
    pub fn mark_read(&self, study: StudyId, message: MessageId) -> Result<OutboxItem> {
        self.enqueue(OutboxAction::MarkRead {
            study_id: study,
            message_id: message,
        })
    }

    /// The outbox: pending and failed items, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxItem>> {
        self.shared.cache.outbox()
    }

    /// Sends what is pending now (the client also does this by itself).
    pub async fn flush(&self) -> Result<FlushReport> {
        self.shared.flush().await
    }

    /// Reloads the cached lists from the server (the client also does this by
    /// itself each time it connects).
    pub async fn refresh(&self) -> Result<()> {
        self.shared.refresh().await
    }

    /// Signs out: the session ends on the server and this account's cache (data,
    /// outbox and saved session) is wiped — also when the server cannot be
    /// reached, in which case its error is returned after the wipe.
    pub async fn logout(self) -> Result<()> {
        for task in &self.tasks {
            task.abort();
        }
        let on_server = self.shared.api.logout().await;
        self.shared.cache.wipe()?;
        on_server
    }
}

impl Shared {
    /// Follows every cached study from where the cache stops.
    fn follow_cached(&self) {
        let studies = match self.cache.studies() {
            Ok(studies) => studies,
            Err(e) => {
                tracing::warn!(error = %e, "reading cached studies");
                return;
            }
        };
        for study in studies {
            let cursor = self.cache.cursor(study.id).unwrap_or_default();
            self.live.subscribe(study.id, cursor);
        }
    }

    /// Applies a live event to the cache.
    fn absorb(&self, event: &LiveEvent) -> Result<()> {
        let LiveEvent::Frame(frame) = event else {
            return Ok(());
        };
        match &**frame {
            // `Live` delivers chat changes in order with nothing missing: the
            // resume point moves with each.
            ServerFrame::Message { message, change } => {
                self.cache
                    .put_delivered(message.study_id, std::slice::from_ref(message), *change)
            }
            ServerFrame::MessageDeleted {
                study_id,
                message_id,
                change,
                ..
            } => {
                self.cache.delete_message(*study_id, *message_id)?;
                self.cache.advance(*study_id, *change)
            }
            ServerFrame::ReadReceipt {
                study_id, change, ..
            } => self.cache.advance(*study_id, *change),
            // Where the replay reached (superseded changes have no frame).
            ServerFrame::Subscribed {
                study_id,
                last_change,
                ..
            } => self.cache.advance(*study_id, *last_change),
            ServerFrame::Notification { notification } => self.cache.put_notification(notification),
            ServerFrame::Unsubscribed {
                study_id,
                reason:
                    UnsubscribeReason::Kicked
                    | UnsubscribeReason::Left
                    | UnsubscribeReason::StudyDeleted,
                ..
            } => self.cache.remove_study(*study_id),
            _ => Ok(()),
        }
    }

    async fn flush(&self) -> Result<FlushReport> {
        let report = {
            let _one_at_a_time = self.flushing.lock().await;
            outbox::flush(&self.api, &self.cache).await?
        };
        // Published without the lock: with the application's channel full, the sync
        // task waits here, and an application flushing from its event loop must not
        // wait behind it for the lock (it would never read the channel again).
        for (item, sent) in &report.sent {
            let _ = self
                .events
                .send(ClientEvent::OutboxSent {
                    item: Box::new(item.clone()),
                    sent: Box::new(sent.clone()),
                })
                .await;
        }
        for item in &report.failed {
            let _ = self
                .events
                .send(ClientEvent::OutboxFailed {
                    item: Box::new(item.clone()),
                })
                .await;
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
        self.cache.replace_notifications(&notifications)
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

/// Applies live events to the cache, then hands them to the application.
async fn pump(shared: Arc<Shared>, mut live_events: mpsc::Receiver<LiveEvent>) {
    while let Some(event) = live_events.recv().await {
        if let Err(e) = shared.absorb(&event) {
            tracing::warn!(error = %e, "caching a live event");
        }
        if matches!(event, LiveEvent::Connected { .. }) {
            shared.refresh_due.store(true, Ordering::SeqCst);
            shared.wake.notify_one();
        }
        // An application that dropped its receiver still gets a current cache.
        let _ = shared.events.send(ClientEvent::Live(event)).await;
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
