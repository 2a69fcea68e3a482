//! Accounts: signup, sessions (login, authenticate, logout), profile and password.
//!
//! Password hashing is slow on purpose, so it never runs inside a write
//! transaction: [`crate::Core`] validates and hashes first, then calls the
//! transactional steps here.

pub use crate::api::accounts::{Login, PasswordChange, ProfilePatch, Signup};
use chrono::{DateTime, Duration, Utc};

use super::{Caller, quiet, require_account};
use crate::auth;
use crate::error::{Error, Reason, Result};
use crate::events::{DomainEvent, Outcome};
use crate::ids::UserId;
use crate::model::{PlatformRole, User, UserStatus};
use crate::params;
use crate::permissions::Operation;
use crate::store::{Row, Tx, read_row};
use crate::validate;

/// A validated signup, ready to be hashed and stored.
#[derive(Debug, Clone)]
pub struct ValidSignup {
    pub email: String,
    pub name: String,
}

/// Validates signup input without touching the store.
pub fn validate_signup(input: &Signup) -> Result<ValidSignup> {
    let email = validate::email(&input.email)?;
    let name = validate::text("name", &input.name, 1, 50)?;
    validate::password(&input.password, &email)?;
    Ok(ValidSignup { email, name })
}

/// Columns read by [`user_from_row`].
pub(crate) const USER_COLUMNS: &str = "u.id, u.email, u.name, u.bio, u.avatar_url, u.role, u.status, u.suspended_reason, u.suspended_until, u.created_at, u.last_login_at";

pub(crate) fn user_from_row(r: &Row) -> Result<User> {
    read_row!(r => User {
        id: parse, email: text, name: text, bio: opt_text, avatar_url: opt_text, role: parse,
        status: parse, suspended_reason: opt_text, suspended_until: opt_time, created_at: time,
        last_login_at: opt_time,
    })
}

/// Loads a user by id.
pub(crate) fn load_user(tx: &mut dyn Tx, id: UserId) -> Result<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?");
    tx.query_one_as(&sql, params![id], "user", user_from_row)
}

/// Stores a new account with an already computed password hash.
pub fn create_user(
    tx: &mut dyn Tx,
    signup: &ValidSignup,
    password_hash: &str,
    role: PlatformRole,
) -> Result<Outcome<User>> {
    if tx.exists(
        "SELECT 1 FROM users WHERE email = ?",
        params![&signup.email],
    )? {
        return Err(Error::conflict(
            Reason::EmailTaken,
            "an account with this email already exists",
        ));
    }
    let id = UserId::new();
    let now = Utc::now();
    tx.execute(
        "INSERT INTO users (id, email, name, password_hash, role, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'ACTIVE', ?, ?)",
        params![
            id,
            &signup.email,
            &signup.name,
            password_hash,
            role,
            now,
            now
        ],
    )?;
    Ok(Outcome::new(
        load_user(tx, id)?,
        vec![DomainEvent::UserSignedUp { user_id: id }],
    ))
}

/// What login needs to check a password: the account and its hash.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user_id: UserId,
    pub password_hash: String,
}

/// Looks up the credentials for an email (normalised like signup does).
pub fn credentials_by_email(tx: &mut dyn Tx, email: &str) -> Result<Option<Credentials>> {
    let email = email.trim().to_lowercase();
    tx.query_opt(
        "SELECT id, password_hash FROM users WHERE email = ?",
        params![email],
    )?
    .map(|r| -> Result<Credentials> {
        Ok(Credentials {
            user_id: r.parse("id")?,
            password_hash: r.text("password_hash")?,
        })
    })
    .transpose()
}

/// The password hash of a user.
pub fn credentials_by_id(tx: &mut dyn Tx, user_id: UserId) -> Result<Credentials> {
    let r = tx.query_one(
        "SELECT id, password_hash FROM users WHERE id = ?",
        params![user_id],
        "user",
    )?;
    Ok(Credentials {
        user_id: r.parse("id")?,
        password_hash: r.text("password_hash")?,
    })
}

/// Opens a session for a user whose password was verified. Suspended accounts are
/// refused; a suspension whose end has passed is lifted here.
pub fn start_session(
    tx: &mut dyn Tx,
    user_id: UserId,
    token_hash: &str,
    ttl: Duration,
) -> Result<User> {
    let now = Utc::now();
    let user = load_user(tx, user_id)?;
    if user.status == UserStatus::Suspended {
        if user.suspended_until.is_some_and(|until| until <= now) {
            tx.execute(
                "UPDATE users SET status = 'ACTIVE', suspended_reason = NULL, suspended_until = NULL, updated_at = ? WHERE id = ?",
                params![now, user_id],
            )?;
        } else {
            return Err(
                Error::Forbidden("your account is suspended").because(Reason::AccountSuspended)
            );
        }
    }
    tx.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        params![token_hash, user_id, now, now + ttl],
    )?;
    tx.execute(
        "UPDATE users SET last_login_at = ? WHERE id = ?",
        params![now, user_id],
    )?;
    load_user(tx, user_id)
}

/// A verified session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Whose session it is.
    pub user_id: UserId,
    /// The stored hash of its token (identifies the session without the secret).
    pub token_hash: String,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
}

/// Resolves a bearer token to its session. Unknown, expired and revoked tokens are
/// all `UNAUTHORIZED`; so is the token of an account suspended meanwhile.
pub fn authenticate(tx: &mut dyn Tx, token: &str, now: DateTime<Utc>) -> Result<Session> {
    let token_hash = auth::token_hash(token);
    let row = tx
        .query_opt(
            "SELECT s.user_id, s.expires_at, u.status, u.suspended_until
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
            params![&token_hash],
        )?
        .ok_or_else(|| {
            Error::Unauthorized("invalid or expired session").because(Reason::SessionExpired)
        })?;
    let expires_at = row.time("expires_at")?;
    let suspended = row.parse::<UserStatus>("status")? == UserStatus::Suspended
        && row
            .opt_time("suspended_until")?
            .is_none_or(|until| until > now);
    if expires_at <= now || suspended {
        return Err(
            Error::Unauthorized("invalid or expired session").because(Reason::SessionExpired)
        );
    }
    Ok(Session {
        user_id: row.parse("user_id")?,
        token_hash,
        expires_at,
    })
}

/// Ends one session.
pub fn logout(tx: &mut dyn Tx, caller: Caller, token_hash: &str) -> Result<Outcome<()>> {
    let me = require_account(tx, caller, Operation::Logout)?;
    tx.execute(
        "DELETE FROM sessions WHERE token_hash = ? AND user_id = ?",
        params![token_hash, me.id],
    )?;
    let event = DomainEvent::SessionEnded {
        user_id: me.id,
        token_hash: token_hash.to_owned(),
    };
    Ok(Outcome::new((), vec![event]))
}

/// Removes sessions that have expired; returns how many.
pub fn purge_expired_sessions(tx: &mut dyn Tx, now: DateTime<Utc>) -> Result<u64> {
    Ok(tx.execute("DELETE FROM sessions WHERE expires_at <= ?", params![now])?)
}

/// The caller's own account.
pub fn me(tx: &mut dyn Tx, caller: Caller) -> Result<User> {
    let me = require_account(tx, caller, Operation::ViewMe)?;
    load_user(tx, me.id)
}

/// Changes the caller's profile.
pub fn update_me(tx: &mut dyn Tx, caller: Caller, patch: ProfilePatch) -> Result<Outcome<User>> {
    let me = require_account(tx, caller, Operation::UpdateMe)?;
    super::non_empty_patch(
        patch.name.is_some() || patch.bio.is_some() || patch.avatar_url.is_some(),
    )?;
    let now = Utc::now();
    if let Some(name) = &patch.name {
        let name = validate::text("name", name, 1, 50)?;
        tx.execute(
            "UPDATE users SET name = ?, updated_at = ? WHERE id = ?",
            params![name, now, me.id],
        )?;
    }
    if let Some(bio) = &patch.bio {
        let bio = validate::optional_text("bio", Some(bio), 500)?;
        tx.execute(
            "UPDATE users SET bio = ?, updated_at = ? WHERE id = ?",
            params![bio, now, me.id],
        )?;
    }
    if let Some(url) = &patch.avatar_url {
        let url = validate::optional_url("avatarUrl", Some(url))?;
        tx.execute(
            "UPDATE users SET avatar_url = ?, updated_at = ? WHERE id = ?",
            params![url, now, me.id],
        )?;
    }
    quiet(load_user(tx, me.id)?)
}

/// Stores a new password hash and ends every session of the caller but
/// `keep_token_hash` (the one that asked).
pub fn set_password(
    tx: &mut dyn Tx,
    caller: Caller,
    new_hash: &str,
    keep_token_hash: &str,
) -> Result<Outcome<()>> {
    let me = require_account(tx, caller, Operation::ChangePassword)?;
    tx.execute(
        "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
        params![new_hash, Utc::now(), me.id],
    )?;
    tx.execute(
        "DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?",
        params![me.id, keep_token_hash],
    )?;
    let event = DomainEvent::OtherSessionsEnded {
        user_id: me.id,
        kept_token_hash: keep_token_hash.to_owned(),
    };
    Ok(Outcome::new((), vec![event]))
}

/// Sessions a user has open (for tests and admin views).
pub fn session_count(tx: &mut dyn Tx, user_id: UserId) -> Result<u64> {
    tx.count(
        "SELECT COUNT(*) FROM sessions WHERE user_id = ?",
        params![user_id],
    )
}

/// A random token and the hash to store for it.
pub fn new_session_token() -> (String, String) {
    let token = auth::new_token();
    let hash = auth::token_hash(&token);
    (token, hash)
}
