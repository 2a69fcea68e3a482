//! Where the session token lives: the OS credential store (Secret Service over
//! D-Bus on Linux, via `keyring`) when one answers at start, otherwise the
//! client's default owner-only file beside the cache (`FileSessionStore`).
//! `COUP_DESKTOP_TOKEN_STORE=file|keyring` forces one.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use coup_core::client::{FileSessionStore, SessionKey, SessionStore};
use coup_core::error::{Error, Result};

/// The keyring service name entries are saved under.
const SERVICE: &str = "org.coup.desktop";

/// Which store holds tokens, for the UI and README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TokenStoreKind {
    /// The OS credential store.
    Keyring,
    /// The client's owner-only file.
    File,
}

/// Tokens in the OS credential store, one entry per server and account.
#[derive(Debug)]
pub struct KeyringSessionStore;

fn entry(key: &SessionKey) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, &format!("{} {}", key.server, key.account))
        .map_err(|e| Error::Internal(format!("credential store: {e}")))
}

impl SessionStore for KeyringSessionStore {
    fn load(&self, key: &SessionKey) -> Result<Option<String>> {
        match entry(key)?.get_password() {
            Ok(token) => Ok(Some(token)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(Error::Internal(format!("credential store: {e}"))),
        }
    }

    fn save(&self, key: &SessionKey, token: &str) -> Result<()> {
        entry(key)?
            .set_password(token)
            .map_err(|e| Error::Internal(format!("credential store: {e}")))
    }

    fn delete(&self, key: &SessionKey) -> Result<()> {
        match entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(Error::Internal(format!("credential store: {e}"))),
        }
    }
}

/// Whether a credential store answers: a lookup of an entry that does not exist
/// must say "no entry" (within two seconds; a D-Bus without a Secret Service
/// answers at once with an error).
fn keyring_answers() -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let probe = SessionKey {
            server: "probe".into(),
            account: "probe".into(),
        };
        let answered = KeyringSessionStore.load(&probe).is_ok();
        let _ = tx.send(answered);
    });
    rx.recv_timeout(Duration::from_secs(2)).unwrap_or(false)
}

/// The store to use for a cache file, and which one it is.
pub fn choose(cache_path: &Path) -> (Arc<dyn SessionStore>, TokenStoreKind) {
    let forced = std::env::var("COUP_DESKTOP_TOKEN_STORE").ok();
    let use_keyring = match forced.as_deref() {
        Some("file") => false,
        Some("keyring") => true,
        _ => keyring_answers(),
    };
    if use_keyring {
        (Arc::new(KeyringSessionStore), TokenStoreKind::Keyring)
    } else {
        (
            Arc::new(FileSessionStore::beside(cache_path)),
            TokenStoreKind::File,
        )
    }
}
