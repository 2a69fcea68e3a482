//! [`SessionStore`]: where the app keeps session tokens — Android Keystore
//! (e.g. EncryptedSharedPreferences), the iOS Keychain — instead of a file.
//! Adapted to [`coup_core::client::SessionStore`]; the client calls it off the
//! app's threads (on the runtime's blocking pool), one call at a time per
//! sign-in, restore or logout. Without one, tokens go to a file beside the
//! cache readable by its owner only.

use std::sync::Weak;

use coup_core::client::SessionKey;

use crate::error::CoupError;

/// Implemented by the app: a small secure key-value store of tokens, keyed by
/// server (its base URL) and account (the user id).
#[uniffi::export(foreign)]
pub trait SessionStore: Send + Sync {
    /// The token saved for the account on the server, if any.
    fn load(&self, server: String, account: String) -> Result<Option<String>, CoupError>;
    /// Saves (or replaces) the token.
    fn save(&self, server: String, account: String, token: String) -> Result<(), CoupError>;
    /// Forgets the token; forgetting a missing one is fine.
    fn delete(&self, server: String, account: String) -> Result<(), CoupError>;
}

/// The core's store, calling the app's. It holds the app's object weakly: the
/// strong reference lives in what the app holds (the `CoupClient`, or the call
/// that signs in), so the app's object is released on the app's own thread,
/// never by a background task ending on a Rust thread — a Python interpreter
/// shutting down aborts a thread that calls into it then.
pub(crate) struct Adapter(pub Weak<dyn SessionStore>);

impl Adapter {
    fn store(&self) -> coup_core::Result<std::sync::Arc<dyn SessionStore>> {
        self.0
            .upgrade()
            .ok_or_else(|| coup_core::Error::Internal("the app's session store is gone".into()))
    }
}

impl coup_core::client::SessionStore for Adapter {
    fn load(&self, key: &SessionKey) -> coup_core::Result<Option<String>> {
        Ok(self
            .store()?
            .load(key.server.clone(), key.account.clone())?)
    }

    fn save(&self, key: &SessionKey, token: &str) -> coup_core::Result<()> {
        Ok(self
            .store()?
            .save(key.server.clone(), key.account.clone(), token.to_owned())?)
    }

    fn delete(&self, key: &SessionKey) -> coup_core::Result<()> {
        Ok(self
            .store()?
            .delete(key.server.clone(), key.account.clone())?)
    }
}
