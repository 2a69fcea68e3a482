//! [`SessionStore`]: where the app keeps session tokens — Android Keystore
//! (e.g. EncryptedSharedPreferences), the iOS Keychain — instead of a file.
//! Adapted to [`coup_core::client::SessionStore`]; the client calls it off the
//! app's threads (on the runtime's blocking pool), one call at a time per
//! sign-in, restore or logout. Without one, tokens go to a file beside the
//! cache readable by its owner only.

use std::sync::Arc;

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

/// The core's store, calling the app's.
pub(crate) struct Adapter(pub Arc<dyn SessionStore>);

impl coup_core::client::SessionStore for Adapter {
    fn load(&self, key: &SessionKey) -> coup_core::Result<Option<String>> {
        Ok(self.0.load(key.server.clone(), key.account.clone())?)
    }

    fn save(&self, key: &SessionKey, token: &str) -> coup_core::Result<()> {
        Ok(self
            .0
            .save(key.server.clone(), key.account.clone(), token.to_owned())?)
    }

    fn delete(&self, key: &SessionKey) -> coup_core::Result<()> {
        Ok(self.0.delete(key.server.clone(), key.account.clone())?)
    }
}
