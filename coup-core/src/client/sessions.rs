//! Where session tokens live: not in the cache file, but in a [`SessionStore`]
//! the application provides — the OS keychain or Secret Service on desktop,
//! Keystore or Keychain on mobile. [`FileSessionStore`] is the documented
//! default for headless use: one JSON file readable by its owner only (mode
//! 0600 on Unix), replaced atomically on every change.
//!
//! A store is keyed by server and account, so several accounts of one server can
//! each stay signed in. Its methods are synchronous (platform keychains are); the
//! client calls them off the caller's thread.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Which session: a server (its base URL) and an account (the user id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionKey {
    /// The server's base URL, without a trailing slash.
    pub server: String,
    /// The signed-in user's id.
    pub account: String,
}

/// Keeps session tokens safe; provided by the application.
pub trait SessionStore: Send + Sync + 'static {
    /// The token saved for `key`, if any.
    fn load(&self, key: &SessionKey) -> Result<Option<String>>;
    /// Saves (or replaces) the token for `key`.
    fn save(&self, key: &SessionKey, token: &str) -> Result<()>;
    /// Forgets the token for `key`; forgetting a missing one is fine.
    fn delete(&self, key: &SessionKey) -> Result<()>;
}

/// Tokens in one file readable by its owner only.
#[derive(Debug)]
pub struct FileSessionStore {
    path: PathBuf,
    /// One change at a time within the process (read, change, replace).
    lock: Mutex<()>,
}

impl FileSessionStore {
    /// A store in the file `path` (created when the first token is saved).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The default store of a cache: the file `<cache file>.sessions` beside it.
    pub fn beside(cache_path: &Path) -> Self {
        let mut name = cache_path.as_os_str().to_owned();
        name.push(".sessions");
        Self::new(PathBuf::from(name))
    }

    fn read(&self) -> Result<BTreeMap<String, String>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::failed(
                    format!("reading the session file {}", self.path.display()),
                    e,
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(io(&self.path, e)),
        }
    }

    /// Replaces the file: written to a temporary file created owner-only, synced,
    /// then renamed over the old one.
    fn write(&self, tokens: &BTreeMap<String, String>) -> Result<()> {
        let temp = self.path.with_extension("sessions-new");
        let bytes = serde_json::to_vec(tokens)
            .map_err(|e| Error::failed("encoding the session file", e))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp).map_err(|e| io(&temp, e))?;
        file.write_all(&bytes).map_err(|e| io(&temp, e))?;
        file.sync_all().map_err(|e| io(&temp, e))?;
        std::fs::rename(&temp, &self.path).map_err(|e| io(&self.path, e))
    }

    fn change(&self, edit: impl FnOnce(&mut BTreeMap<String, String>)) -> Result<()> {
        let _one_at_a_time = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut tokens = self.read()?;
        edit(&mut tokens);
        self.write(&tokens)
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::failed(format!("the session file {}", path.display()), e)
}

fn entry(key: &SessionKey) -> String {
    format!("{} {}", key.account, key.server)
}

impl SessionStore for FileSessionStore {
    fn load(&self, key: &SessionKey) -> Result<Option<String>> {
        let _one_at_a_time = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.read()?.remove(&entry(key)))
    }

    fn save(&self, key: &SessionKey, token: &str) -> Result<()> {
        self.change(|tokens| {
            tokens.insert(entry(key), token.to_owned());
        })
    }

    fn delete(&self, key: &SessionKey) -> Result<()> {
        self.change(|tokens| {
            tokens.remove(&entry(key));
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kept_per_server_and_account_in_an_owner_only_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = dir.path().join("cache.db");
        let store = FileSessionStore::beside(&cache);
        let kim = SessionKey {
            server: "https://a.example".into(),
            account: "kim".into(),
        };
        let lee = SessionKey {
            account: "lee".into(),
            ..kim.clone()
        };
        assert_eq!(store.load(&kim).expect("load"), None);
        store.save(&kim, "t-kim").expect("save");
        store.save(&lee, "t-lee").expect("save");
        assert_eq!(store.load(&kim).expect("load").as_deref(), Some("t-kim"));
        store.delete(&kim).expect("delete");
        store.delete(&kim).expect("deleting twice is fine");
        assert_eq!(store.load(&kim).expect("load"), None);
        let again = FileSessionStore::beside(&cache);
        assert_eq!(again.load(&lee).expect("load").as_deref(), Some("t-lee"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let file = dir.path().join("cache.db.sessions");
            let mode = std::fs::metadata(file).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "readable by the owner only");
        }
        std::fs::write(dir.path().join("cache.db.sessions"), "not json").expect("write");
        assert!(
            again.load(&lee).is_err(),
            "a damaged file is an error, not no session"
        );
    }
}
