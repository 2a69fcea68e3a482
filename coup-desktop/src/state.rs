//! What the app holds, registered once with `manage`: where its files are, the
//! remembered server, and the signed-in client (none before sign-in). Locks are
//! never held across an `.await`: commands clone the `Client` (one `Arc`) out.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use coup_core::client::{
    ApiClient, AppEvent, Client, ClientConfig, EventListener, ListenerHandle, SessionStore,
};
use coup_core::ids::StudyId;
use serde::{Deserialize, Serialize};

use crate::error::{CommandError, CommandResult};
use crate::media::NativeCall;
use crate::tokens::{self, TokenStoreKind};

/// Hands every app event to the webview (`coup://event`); set by the shell.
pub type Emit = Arc<dyn Fn(&AppEvent) + Send + Sync>;

/// What is remembered between starts (`settings.json` in the data dir).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// The server last signed in to.
    pub server: Option<String>,
}

/// The app's state.
pub struct AppState {
    data_dir: PathBuf,
    sessions: Arc<dyn SessionStore>,
    token_store: TokenStoreKind,
    emit: Emit,
    client: RwLock<Option<Client>>,
    /// Forwards the client's events while it lives.
    listener: Mutex<Option<ListenerHandle>>,
    /// The calls this user is in, by study; they go on while the window is
    /// hidden and end on leaving or signing out.
    calls: Mutex<HashMap<StudyId, Arc<NativeCall>>>,
}

struct Forward(Emit);

impl EventListener for Forward {
    fn on_event(&self, event: AppEvent) {
        (self.0)(&event);
    }
}

impl AppState {
    /// State over a data directory (created if missing).
    pub fn new(data_dir: PathBuf, emit: Emit) -> Self {
        let _ = std::fs::create_dir_all(&data_dir);
        let (sessions, token_store) = tokens::choose(&data_dir.join("cache.db"));
        Self::with_sessions(data_dir, sessions, token_store, emit)
    }

    /// State with a given token store (tests).
    pub fn with_sessions(
        data_dir: PathBuf,
        sessions: Arc<dyn SessionStore>,
        token_store: TokenStoreKind,
        emit: Emit,
    ) -> Self {
        Self {
            data_dir,
            sessions,
            token_store,
            emit,
            client: RwLock::new(None),
            listener: Mutex::new(None),
            calls: Mutex::new(HashMap::new()),
        }
    }

    /// Which store keeps tokens.
    pub fn token_store(&self) -> TokenStoreKind {
        self.token_store
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The client configuration for a server.
    pub fn config(&self, server: &str) -> ClientConfig {
        let mut config = ClientConfig::new(server.trim(), self.data_dir.join("cache.db"));
        config.session_store = Some(self.sessions.clone());
        config
    }

    /// The signed-in client.
    pub fn client(&self) -> CommandResult<Client> {
        self.client
            .read()
            .map_err(|_| CommandError::Local("state lock poisoned".into()))?
            .clone()
            .ok_or(CommandError::NotSignedIn)
    }

    /// Runs REST calls with the signed-in client, answered as they are.
    pub async fn rest<T, F, Fut>(&self, call: F) -> CommandResult<T>
    where
        T: Send + 'static,
        F: FnOnce(ApiClient) -> Fut,
        Fut: Future<Output = coup_core::error::Result<T>> + Send + 'static,
    {
        Ok(self.client()?.rest(call).await?)
    }

    /// Runs REST calls that change what the cache lists, then reloads the cache
    /// (which emits `cacheRefreshed`). A reload that fails (the connection
    /// dropped right after) is logged: the client reloads again when it
    /// reconnects.
    pub async fn change<T, F, Fut>(&self, call: F) -> CommandResult<T>
    where
        T: Send + 'static,
        F: FnOnce(ApiClient) -> Fut,
        Fut: Future<Output = coup_core::error::Result<T>> + Send + 'static,
    {
        let client = self.client()?;
        let value = client.rest(call).await?;
        if let Err(e) = client.refresh().await {
            tracing::warn!(error = %e, "reloading the cache after a change");
        }
        Ok(value)
    }

    /// Makes `client` the signed-in one and forwards its events.
    pub fn set_client(&self, client: Client) {
        let handle = client.subscribe(Arc::new(Forward(self.emit.clone())));
        if let Ok(mut listener) = self.listener.lock() {
            *listener = Some(handle);
        }
        if let Ok(mut slot) = self.client.write() {
            *slot = Some(client);
        }
    }

    /// Forgets the client (after sign-out); its listener stops.
    pub fn clear_client(&self) -> Option<Client> {
        if let Ok(mut listener) = self.listener.lock() {
            listener.take();
        }
        self.client.write().ok().and_then(|mut c| c.take())
    }

    fn calls(&self) -> std::sync::MutexGuard<'_, HashMap<StudyId, Arc<NativeCall>>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The call in a study, if this user is in it.
    pub fn call(&self, study: StudyId) -> Option<Arc<NativeCall>> {
        self.calls().get(&study).cloned()
    }

    /// Keeps `call` as the study's; the one it replaces, if any.
    pub fn insert_call(&self, study: StudyId, call: Arc<NativeCall>) -> Option<Arc<NativeCall>> {
        self.calls().insert(study, call)
    }

    /// Forgets the study's call (to leave it).
    pub fn take_call(&self, study: StudyId) -> Option<Arc<NativeCall>> {
        self.calls().remove(&study)
    }

    /// Forgets every call (to leave them on signing out).
    pub fn take_calls(&self) -> Vec<Arc<NativeCall>> {
        self.calls().drain().map(|(_, call)| call).collect()
    }

    fn settings_path(&self) -> PathBuf {
        self.data_dir.join("settings.json")
    }

    /// The remembered settings (defaults when none were saved).
    pub fn settings(&self) -> Settings {
        std::fs::read(self.settings_path())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Remembers the server.
    pub fn remember_server(&self, server: &str) -> CommandResult<()> {
        let settings = Settings {
            server: Some(server.trim().trim_end_matches('/').to_owned()),
        };
        let bytes =
            serde_json::to_vec_pretty(&settings).map_err(|e| CommandError::Local(e.to_string()))?;
        let temp = self.data_dir.join("settings.json.new");
        std::fs::write(&temp, bytes)
            .and_then(|()| std::fs::rename(&temp, self.settings_path()))
            .map_err(|e| CommandError::Local(format!("saving settings: {e}")))
    }
}
