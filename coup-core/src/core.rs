//! [`Core`]: the entry point front ends hold. It runs service operations in store
//! transactions, writes the notifications their events call for in the same
//! transaction, and keeps slow password hashing outside of write locks. Async
//! callers hash through [`auth`]'s bounded pool (a turn within
//! [`CoreConfig::hash_wait`], or `RATE_LIMITED`).

use std::sync::Arc;

use chrono::{Duration, Utc};

use crate::auth;
use crate::error::{Error, Reason, Result};
use crate::events::{DomainEvent, Outcome};
use crate::model::{LoginResult, PlatformRole, User};
use crate::service::accounts::{self, Login, PasswordChange, Session, Signup};
use crate::service::notifications;
use crate::store::{Store, Tx, spawn_blocking};
use crate::validate;

/// Settings of the core.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// How long a session lasts after login.
    pub session_ttl: Duration,
    /// How long signup, login and password changes wait for a turn to hash a
    /// password when every hashing lane is busy; past it they are refused with
    /// `RATE_LIMITED` (retry after 1 s).
    pub hash_wait: std::time::Duration,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            session_ttl: auth::DEFAULT_SESSION_TTL,
            hash_wait: auth::DEFAULT_HASH_WAIT,
        }
    }
}

/// Receives the events of every committed operation, in commit order (the
/// real-time gateway, a message bus). Called while writes are serialized, so it must
/// only hand the events on, never block.
pub trait EventSink: Send + Sync + 'static {
    /// Events of one committed operation.
    fn publish(&self, events: &[DomainEvent]);
}

/// The CoUp core over one store.
#[derive(Clone)]
pub struct Core {
    store: Store,
    config: CoreConfig,
    sink: Option<Arc<dyn EventSink>>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Core {
    /// A core over `store`.
    pub fn new(store: Store, config: CoreConfig) -> Self {
        Self {
            store,
            config,
            sink: None,
        }
    }

    /// The same core, publishing the events of every committed operation to `sink`.
    pub fn with_event_sink(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// A core over the embedded SQLite store at `path` (created and migrated).
    pub fn open_sqlite(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Ok(Self::new(Store::open_sqlite(path)?, CoreConfig::default()))
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs a mutating operation in one write transaction, together with the
    /// notifications its events create. Nothing is written if it fails.
    pub fn write_blocking<T>(
        &self,
        op: impl FnOnce(&mut dyn Tx) -> Result<Outcome<T>>,
    ) -> Result<Outcome<T>> {
        self.store
            .write_blocking_then(with_notifications(op), publisher(self.sink.clone()))
    }

    /// [`Self::write_blocking`] without blocking the async runtime. Concurrent
    /// writes may share one transaction (see [`Store::write_then`]).
    pub async fn write<T, F>(&self, op: F) -> Result<Outcome<T>>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<Outcome<T>> + Send + 'static,
    {
        self.store
            .write_then(with_notifications(op), publisher(self.sink.clone()))
            .await
    }

    /// Runs a read-only operation on a snapshot.
    pub fn read_blocking<T>(&self, op: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        self.store.read_blocking(op)
    }

    /// [`Self::read_blocking`] on the blocking pool.
    pub async fn read<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        self.store.read(op).await
    }

    /// Creates an account with the given platform role and signs it in.
    pub fn signup_blocking(
        &self,
        input: &Signup,
        role: PlatformRole,
    ) -> Result<Outcome<LoginResult>> {
        let valid = accounts::validate_signup(input)?;
        let hash = auth::hash_password(&input.password)?;
        let (token, token_hash) = accounts::new_session_token();
        let ttl = self.config.session_ttl;
        self.write_blocking(move |tx| {
            let created = accounts::create_user(tx, &valid, &hash, role)?;
            let user = accounts::start_session(tx, created.value.id, &token_hash, ttl)?;
            Ok(Outcome::new(LoginResult { token, user }, created.events))
        })
    }

    /// Creates an account with the given platform role without signing it in (for
    /// operators' tools such as `coup-server create-admin`).
    pub fn create_user_blocking(
        &self,
        input: &Signup,
        role: PlatformRole,
    ) -> Result<Outcome<User>> {
        let valid = accounts::validate_signup(input)?;
        let hash = auth::hash_password(&input.password)?;
        self.write_blocking(move |tx| accounts::create_user(tx, &valid, &hash, role))
    }

    /// Creates a USER account and signs it in. Waits for a hashing turn without
    /// holding a thread (see [`CoreConfig::hash_wait`]).
    pub async fn signup(&self, input: Signup) -> Result<Outcome<LoginResult>> {
        // The strength estimate costs milliseconds of CPU, so it runs in the
        // hashing turn too: signups cannot take more threads than logins.
        let turn = auth::hash_turn(self.config.hash_wait).await?;
        let (valid, hash) = spawn_blocking(move || {
            let valid = accounts::validate_signup(&input)?;
            Ok((valid, turn.hash(&input.password)?))
        })
        .await?;
        let (token, token_hash) = accounts::new_session_token();
        let ttl = self.config.session_ttl;
        self.write(move |tx| {
            let created = accounts::create_user(tx, &valid, &hash, PlatformRole::User)?;
            let user = accounts::start_session(tx, created.value.id, &token_hash, ttl)?;
            Ok(Outcome::new(LoginResult { token, user }, created.events))
        })
        .await
    }

    /// Checks credentials and opens a session. Unknown emails and wrong passwords
    /// are the same `UNAUTHORIZED`, and take the same time.
    pub fn login_blocking(&self, input: &Login) -> Result<LoginResult> {
        self.login_in(input, None)
    }

    /// [`Self::login_blocking`] for async callers: waits for a hashing turn
    /// without holding a thread (see [`CoreConfig::hash_wait`]).
    pub async fn login(&self, input: Login) -> Result<LoginResult> {
        let turn = auth::hash_turn(self.config.hash_wait).await?;
        let core = self.clone();
        spawn_blocking(move || core.login_in(&input, Some(&turn))).await
    }

    fn login_in(&self, input: &Login, turn: Option<&auth::HashTurn>) -> Result<LoginResult> {
        let creds = self.read_blocking(|tx| accounts::credentials_by_email(tx, &input.email))?;
        let matches = match login_hash(&input.password, creds.as_ref()) {
            Some(hash) => verify(turn, &input.password, hash)?,
            None => false,
        };
        let Some(creds) = creds.filter(|_| matches) else {
            return Err(
                Error::Unauthorized("wrong email or password").because(Reason::WrongCredentials)
            );
        };
        let (token, token_hash) = accounts::new_session_token();
        let ttl = self.config.session_ttl;
        let user = self
            .store
            .write_blocking(|tx| accounts::start_session(tx, creds.user_id, &token_hash, ttl))?;
        Ok(LoginResult { token, user })
    }

    /// Resolves a bearer token to its session.
    pub async fn authenticate(&self, token: &str) -> Result<Session> {
        let token = token.to_owned();
        self.read(move |tx| accounts::authenticate(tx, &token, Utc::now()))
            .await
    }

    /// Changes the password of the session's user after checking the current one,
    /// and ends all their other sessions.
    pub fn change_password_blocking(
        &self,
        session: &Session,
        input: &PasswordChange,
    ) -> Result<Outcome<()>> {
        self.change_password_in(session, input, None)
    }

    /// [`Self::change_password_blocking`] for async callers: waits for a hashing
    /// turn without holding a thread (see [`CoreConfig::hash_wait`]).
    pub async fn change_password(
        &self,
        session: Session,
        input: PasswordChange,
    ) -> Result<Outcome<()>> {
        let turn = auth::hash_turn(self.config.hash_wait).await?;
        let core = self.clone();
        spawn_blocking(move || core.change_password_in(&session, &input, Some(&turn))).await
    }

    fn change_password_in(
        &self,
        session: &Session,
        input: &PasswordChange,
        turn: Option<&auth::HashTurn>,
    ) -> Result<Outcome<()>> {
        let user_id = session.user_id;
        let (creds, email) = self.read_blocking(|tx| {
            let creds = accounts::credentials_by_id(tx, user_id)?;
            Ok((creds, accounts::me(tx, Some(user_id))?.email))
        })?;
        if !verify(turn, &input.current_password, &creds.password_hash)? {
            return Err(
                Error::validation("currentPassword", "is not your current password")
                    .because(Reason::WrongPassword),
            );
        }
        validate::password(&input.new_password, &email).map_err(|e| e.for_field("newPassword"))?;
        let hash = match turn {
            Some(turn) => turn.hash(&input.new_password)?,
            None => auth::hash_password(&input.new_password)?,
        };
        let keep = session.token_hash.clone();
        self.write_blocking(move |tx| accounts::set_password(tx, Some(user_id), &hash, &keep))
    }
}

/// Verifies within `turn`, or (blocking callers) waiting for hashing memory.
fn verify(turn: Option<&auth::HashTurn>, password: &str, hash: &str) -> Result<bool> {
    match turn {
        Some(turn) => turn.verify(password, hash),
        None => auth::verify_password(password, hash),
    }
}

/// The hash a login verifies against: the account's, or [`auth::DUMMY_HASH`] for
/// an unknown email (same cost). `None` for a password longer than any account
/// can have, which matches nothing and is not worth hashing.
fn login_hash<'a>(password: &str, creds: Option<&'a accounts::Credentials>) -> Option<&'a str> {
    if password.chars().count() > validate::PASSWORD_MAX {
        return None;
    }
    Some(creds.map_or(auth::DUMMY_HASH, |c| c.password_hash.as_str()))
}

/// `op`, then the notifications its events create, in the same transaction.
fn with_notifications<T>(
    op: impl FnOnce(&mut dyn Tx) -> Result<Outcome<T>>,
) -> impl FnOnce(&mut dyn Tx) -> Result<Outcome<T>> {
    move |tx| {
        let mut outcome = op(tx)?;
        notifications::persist(tx, &mut outcome.events)?;
        Ok(outcome)
    }
}

/// Publishes a committed outcome's events to `sink`, if there is one.
fn publisher<T>(sink: Option<Arc<dyn EventSink>>) -> impl FnOnce(&Outcome<T>) {
    move |outcome| {
        if let Some(sink) = &sink
            && !outcome.events.is_empty()
        {
            sink.publish(&outcome.events);
        }
    }
}
