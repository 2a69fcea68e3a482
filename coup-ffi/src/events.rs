//! App events for foreign code: [`AppEvent`] (the core's
//! [`coup_core::client::AppEvent`] converted at the edge), the [`EventListener`]
//! foreign trait an app implements, and the [`ListenerHandle`] that stops it.
//!
//! Delivery is the core's: in order, one event at a time, on a thread of the
//! runtime's blocking pool (a Rust thread — marshal onto the UI thread there);
//! a listener that falls more than 1,024 events behind gets [`AppEvent::Lagged`]
//! and should re-read what it shows. A listener that throws is logged and keeps
//! receiving.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::ThreadId;

use coup_core::client as core_client;

use crate::error::CoupError;
use crate::types::{
    ChatMessage, ConnectionState, MediaState, MembershipChange, NotificationItem, OutboxItem,
    Participant, Sent, Signal, StudyGoneReason, StudyRole, user_ids,
};

/// Everything the client tells an app. Every event arrives after the cache has
/// absorbed it: an app that reacts by reading the client reads the new state.
// uniffi fields cannot be boxed; an event is built once and serialized across.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum AppEvent {
    /// The live connection changed state.
    Connection { state: ConnectionState },
    /// A chat message arrived (live, or missed while away: once each, in order).
    MessageReceived { message: ChatMessage },
    /// A message was deleted.
    MessageDeleted {
        study_id: String,
        message_id: String,
        seq: i64,
    },
    /// A member's read position moved.
    ReadReceipt {
        study_id: String,
        user_id: String,
        last_read_seq: i64,
    },
    /// A member started or stopped typing.
    Typing {
        study_id: String,
        user_id: String,
        typing: bool,
    },
    /// Who is online in a study, as of (re)connecting.
    OnlineMembers {
        study_id: String,
        user_ids: Vec<String>,
    },
    /// A member came online (first device) or went offline (last device).
    Presence {
        study_id: String,
        user_id: String,
        online: bool,
    },
    /// A new notification.
    Notification { notification: NotificationItem },
    /// Someone joined, was approved, left, was kicked or changed role.
    Membership {
        study_id: String,
        user_id: String,
        change: MembershipChange,
        role: Option<StudyRole>,
    },
    /// The user is no longer in a study; it is gone from the cache.
    StudyGone {
        study_id: String,
        reason: StudyGoneReason,
    },
    /// This user joined a study's call, or joined again after a reconnect:
    /// everyone in it now (replace the participants shown).
    CallJoined {
        study_id: String,
        participants: Vec<Participant>,
    },
    /// Another participant joined a study's call.
    CallParticipantJoined {
        study_id: String,
        participant: Participant,
    },
    /// A participant left a study's call.
    CallParticipantLeft { study_id: String, user_id: String },
    /// A participant changed their microphone, camera or screen share.
    CallMedia {
        study_id: String,
        user_id: String,
        media: MediaState,
    },
    /// An offer, answer or ICE candidate from another participant, for this user.
    CallSignal {
        study_id: String,
        /// Who sent it (`from` is a keyword in Python and Swift).
        from_user_id: String,
        signal: Signal,
    },
    /// Something the user did was queued (show it as pending).
    OutboxPending { item: OutboxItem },
    /// The server took an outbox item.
    OutboxSent { item: OutboxItem, sent: Sent },
    /// The server refused an outbox item; it stays, failed, until retried or
    /// discarded.
    OutboxFailed { item: OutboxItem },
    /// The cache was reloaded from the server: re-read lists.
    CacheRefreshed,
    /// This listener fell behind and missed `missed` events: re-read what it shows.
    Lagged { missed: u64 },
}

// Every variant is matched (no wildcard), so a new kind of core event does not
// compile here until the bindings carry it.
impl From<core_client::AppEvent> for AppEvent {
    fn from(event: core_client::AppEvent) -> Self {
        use core_client::AppEvent as E;
        let id = |x: &dyn ToString| x.to_string();
        match event {
            E::Connection { state } => Self::Connection {
                state: state.into(),
            },
            E::MessageReceived { message } => Self::MessageReceived {
                message: message.into(),
            },
            E::MessageDeleted {
                study_id,
                message_id,
                seq,
            } => Self::MessageDeleted {
                study_id: id(&study_id),
                message_id: id(&message_id),
                seq,
            },
            E::ReadReceipt {
                study_id,
                user_id,
                last_read_seq,
            } => Self::ReadReceipt {
                study_id: id(&study_id),
                user_id: id(&user_id),
                last_read_seq,
            },
            E::Typing {
                study_id,
                user_id,
                typing,
            } => Self::Typing {
                study_id: id(&study_id),
                user_id: id(&user_id),
                typing,
            },
            E::OnlineMembers {
                study_id,
                user_ids: online,
            } => Self::OnlineMembers {
                study_id: id(&study_id),
                user_ids: user_ids(online),
            },
            E::Presence {
                study_id,
                user_id,
                online,
            } => Self::Presence {
                study_id: id(&study_id),
                user_id: id(&user_id),
                online,
            },
            E::Notification { notification } => Self::Notification {
                notification: notification.into(),
            },
            E::Membership {
                study_id,
                user_id,
                change,
                role,
            } => Self::Membership {
                study_id: id(&study_id),
                user_id: id(&user_id),
                change: change.into(),
                role: role.map(Into::into),
            },
            E::StudyGone { study_id, reason } => Self::StudyGone {
                study_id: id(&study_id),
                reason: reason.into(),
            },
            E::CallJoined {
                study_id,
                participants,
            } => Self::CallJoined {
                study_id: id(&study_id),
                participants: participants.into_iter().map(Into::into).collect(),
            },
            E::CallParticipantJoined {
                study_id,
                participant,
            } => Self::CallParticipantJoined {
                study_id: id(&study_id),
                participant: participant.into(),
            },
            E::CallParticipantLeft { study_id, user_id } => Self::CallParticipantLeft {
                study_id: id(&study_id),
                user_id: id(&user_id),
            },
            E::CallMedia {
                study_id,
                user_id,
                media,
            } => Self::CallMedia {
                study_id: id(&study_id),
                user_id: id(&user_id),
                media: media.into(),
            },
            E::CallSignal {
                study_id,
                from,
                signal,
            } => Self::CallSignal {
                study_id: id(&study_id),
                from_user_id: id(&from),
                signal: signal.into(),
            },
            E::OutboxPending { item } => Self::OutboxPending {
                item: (*item).into(),
            },
            E::OutboxSent { item, sent } => Self::OutboxSent {
                item: (*item).into(),
                sent: (*sent).into(),
            },
            E::OutboxFailed { item } => Self::OutboxFailed {
                item: (*item).into(),
            },
            E::CacheRefreshed => Self::CacheRefreshed,
            E::Lagged { missed } => Self::Lagged { missed },
        }
    }
}

/// Implemented by the app: receives every event from subscribing until the
/// handle is cancelled. Called on a Rust thread, one event at a time.
#[uniffi::export(foreign)]
pub trait EventListener: Send + Sync {
    /// One event. An exception thrown here is logged; the listener goes on.
    fn on_event(&self, event: AppEvent) -> Result<(), CoupError>;
}

/// Whether a listener may still be called, and which thread runs its callback now.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    idle: Condvar,
}

#[derive(Default)]
struct GateState {
    closed: bool,
    running: Option<ThreadId>,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the gate and waits for a callback running on another thread to
    /// return (one running on this thread — `cancel` from inside the callback —
    /// is not waited for).
    fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        let me = std::thread::current().id();
        while state.running.is_some_and(|runner| runner != me) {
            state = self.idle.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The core's listener, calling the app's. It holds the app's object weakly; the
/// [`ListenerHandle`] holds it strongly, so the app's object is released when
/// the app cancels or drops the handle, on the app's thread — never when the
/// listener task ends on a Rust thread. And `cancel` waits for a callback in
/// progress, so after it returns no Rust thread is inside the app's code. (A
/// Python interpreter that is shutting down aborts the process when a foreign
/// thread calls into it: both would otherwise race an app's exit.)
struct Forward {
    listener: Weak<dyn EventListener>,
    gate: Arc<Gate>,
}

impl core_client::EventListener for Forward {
    fn on_event(&self, event: core_client::AppEvent) {
        {
            let mut state = self.gate.lock();
            if state.closed {
                return;
            }
            state.running = Some(std::thread::current().id());
        }
        if let Some(listener) = self.listener.upgrade()
            && let Err(e) = listener.on_event(event.into())
        {
            tracing::warn!(error = %e, "the app's event listener failed");
        }
        self.gate.lock().running = None;
        self.gate.idle.notify_all();
    }
}

/// Stops a listener: when `cancel` returns, no callback is running (one in
/// progress on another thread is waited for) and none follows. Dropping the handle (Kotlin
/// `close()`/`destroy()`, Swift deinit, Python garbage collection) cancels too.
#[derive(uniffi::Object)]
pub struct ListenerHandle {
    gate: Arc<Gate>,
    inner: Mutex<Option<(core_client::ListenerHandle, Arc<dyn EventListener>)>>,
}

impl ListenerHandle {
    /// Subscribes `listener` through `subscribe` and keeps it until cancelled.
    pub(crate) fn new(
        listener: Arc<dyn EventListener>,
        subscribe: impl FnOnce(Arc<dyn core_client::EventListener>) -> core_client::ListenerHandle,
    ) -> Arc<Self> {
        let gate = Arc::new(Gate::default());
        let handle = subscribe(Arc::new(Forward {
            listener: Arc::downgrade(&listener),
            gate: gate.clone(),
        }));
        Arc::new(Self {
            gate,
            inner: Mutex::new(Some((handle, listener))),
        })
    }
}

impl Drop for ListenerHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

#[uniffi::export]
impl ListenerHandle {
    /// Stops the listener (again is fine) and releases the app's object. Waits
    /// for a callback running on another thread to return: do not call it while
    /// holding something the callback waits for.
    pub fn cancel(&self) {
        self.gate.close();
        let taken = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((handle, listener)) = taken {
            handle.cancel();
            drop(listener);
        }
    }

    /// Whether [`ListenerHandle::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }
}
