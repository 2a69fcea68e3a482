//! The offline cache: the last known state of one account on one server, in a
//! local SQLite file, so an app started without network shows it at once.
//!
//! One file may hold several servers and accounts; every row is keyed by
//! `(server, account)` and a [`Cache`] handle only ever sees its own. Rows are the
//! wire types as JSON (the same serde shapes the server sends), so the cache needs
//! no schema change when a type gains a field. Lists are snapshots: a refresh
//! replaces a study's members, notices or events as a whole, keeping the server's
//! order. Chat is kept per `(study, seq)`, so writing a message twice changes
//! nothing, and a tombstone stays one (a late copy of the message, e.g. the answer
//! to the outbox's send, does not bring it back). The point a study's live stream
//! resumes from is kept apart from the messages (`chat_cursors`): it only moves
//! with messages the live stream delivered in order, so a message known out of
//! order (the outbox's own send) never makes the client skip the ones before it.
//! The outbox lives in the same file ([`super::outbox`]).
//!
//! The accounts signed in on each server are kept here (who they are and when
//! they were last used), so the app can resume without asking for the password;
//! their tokens are not — those live in the app's [`super::sessions::SessionStore`].
//! [`Cache::wipe`] (logout) removes an account with everything else.
//!
//! The schema is versioned (`PRAGMA user_version`): `MIGRATIONS` upgrade a
//! file written by an older client in place, keeping its data.
//!
//! Calls are synchronous and short (one local transaction each).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::live::Cursor;
use super::outbox::{OutboxAction, OutboxItem, OutboxState};
use crate::error::{Error, Result};
use crate::ids::{MessageId, StudyId, TaskId, UserId};
use crate::migration::{Migration, migrations};
use crate::model::{CalendarEvent, ChatMessage, Member, Notice, Notification, Study, Task, User};

/// The cache schema's history (`migrations/client-cache/`): migration `n` moves a
/// file from `user_version` `n - 1` to `n`.
const MIGRATIONS: &[Migration] = migrations!("migrations/client-cache":
    "0001_init",
    "0002_chat_change_feed",
    "0003_accounts",
);

/// Every table with rows of an account (what [`Cache::wipe`] empties).
const TABLES: [&str; 7] = [
    "accounts",
    "legacy_tokens",
    "records",
    "messages",
    "chat_cursors",
    "outbox",
    "outbox_created",
];

/// How long the server's id of a task created through the outbox is kept for
/// items naming it by client id (they go out right after the create; this only
/// bounds the table).
const CREATED_TASK_DAYS: i64 = 30;

/// What a record row holds.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Study,
    Member,
    Notice,
    Event,
    Task,
    Notification,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Study => "study",
            Self::Member => "member",
            Self::Notice => "notice",
            Self::Event => "event",
            Self::Task => "task",
            Self::Notification => "notification",
        }
    }
}

/// No parent: account-wide lists (studies, tasks, notifications).
const NO_PARENT: &str = "";

/// The cached state of one account on one server.
#[derive(Debug)]
pub struct Cache {
    db: Mutex<Connection>,
    server: String,
    account: String,
}

fn store(e: rusqlite::Error) -> Error {
    Error::failed("the offline cache's SQLite", e)
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::failed("encoding an offline cache row", e))
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::failed("reading an offline cache row", e))
}

fn connect(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::failed("creating the offline cache's directory", e))?;
    }
    let mut db = Connection::open(path).map_err(store)?;
    db.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(store)?;
    db.execute_batch("PRAGMA journal_mode = WAL;")
        .map_err(store)?;
    migrate(&mut db)?;
    Ok(db)
}

/// Applies the migrations a file has not had, each in one transaction with its
/// version (`BEGIN IMMEDIATE`, so two processes opening one file do not both
/// apply one).
fn migrate(db: &mut Connection) -> Result<()> {
    loop {
        let tx = db
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(store)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(store)?;
        let Some(migration) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return Ok(());
        };
        tx.execute_batch(migration.sql).map_err(store)?;
        // The list is numbered 1, 2, 3, … (a test compares it with its folder),
        // so the migration at `version` brings the file to its own number.
        tx.pragma_update(None, "user_version", migration.version)
            .map_err(store)?;
        tx.commit().map_err(store)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "upgraded the offline cache"
        );
    }
}

impl Cache {
    /// Opens (creating if needed) the cache file at `path` for `account` on `server`.
    pub fn open(path: &Path, server: &str, account: UserId) -> Result<Self> {
        Ok(Self {
            db: Mutex::new(connect(path)?),
            server: server.trim_end_matches('/').to_owned(),
            account: account.to_string(),
        })
    }

    /// The session last saved for `server` in the file at `path`: its token and user.
    /// The accounts signed in on `server` in the cache at `path`, most recently
    /// used first.
    pub fn accounts(path: &Path, server: &str) -> Result<Vec<User>> {
        let db = connect(path)?;
        let mut statement = db
            .prepare("SELECT user FROM accounts WHERE server = ? ORDER BY last_used DESC, account")
            .map_err(store)?;
        let users = statement
            .query_map([server.trim_end_matches('/')], |r| r.get::<_, String>(0))
            .map_err(store)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(store)?;
        users.iter().map(|u| from_json(u)).collect()
    }

    fn db(&self) -> Result<MutexGuard<'_, Connection>> {
        self.db
            .lock()
            .map_err(|_| Error::Internal("offline cache lock poisoned".into()))
    }

    /// Remembers the signed-in session, to resume without the password.
    /// Records that this account is signed in (and used now).
    pub fn save_account(&self, user: &User) -> Result<()> {
        self.db()?
            .execute(
                "INSERT INTO accounts (server, account, user, last_used) VALUES (?, ?, ?, ?)
                 ON CONFLICT (server, account) DO UPDATE SET user = excluded.user,
                    last_used = excluded.last_used",
                params![
                    self.server,
                    self.account,
                    to_json(user)?,
                    Utc::now().timestamp_millis()
                ],
            )
            .map_err(store)?;
        Ok(())
    }

    /// The token an older client kept in this file for this account, removed
    /// from it (the caller moves it to the session store).
    pub fn take_legacy_token(&self) -> Result<Option<String>> {
        let mut db = self.db()?;
        let tx = db.transaction().map_err(store)?;
        let token = tx
            .query_row(
                "SELECT token FROM legacy_tokens WHERE server = ? AND account = ?",
                params![self.server, self.account],
                |r| r.get(0),
            )
            .optional()
            .map_err(store)?;
        tx.execute(
            "DELETE FROM legacy_tokens WHERE server = ? AND account = ?",
            params![self.server, self.account],
        )
        .map_err(store)?;
        tx.commit().map_err(store)?;
        Ok(token)
    }

    pub fn wipe(&self) -> Result<()> {
        let mut db = self.db()?;
        let tx = db.transaction().map_err(store)?;
        for table in TABLES {
            tx.execute(
                &format!("DELETE FROM {table} WHERE server = ? AND account = ?"),
                params![self.server, self.account],
            )
            .map_err(store)?;
        }
        tx.commit().map_err(store)
    }

    fn replace<T: Serialize>(
        &self,
        kind: Kind,
        parent: &str,
        items: &[T],
        id: impl Fn(&T) -> String,
    ) -> Result<()> {
        let mut db = self.db()?;
        let tx = db.transaction().map_err(store)?;
        tx.execute(
            "DELETE FROM records WHERE server = ? AND account = ? AND kind = ? AND parent = ?",
            params![self.server, self.account, kind.as_str(), parent],
        )
        .map_err(store)?;
        for (position, item) in items.iter().enumerate() {
            tx.execute(
                "INSERT OR REPLACE INTO records (server, account, kind, parent, id, position, body)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                params![
                    self.server,
                    self.account,
                    kind.as_str(),
                    parent,
                    id(item),
                    i64::try_from(position).unwrap_or(i64::MAX),
                    to_json(item)?
                ],
            )
            .map_err(store)?;
        }
        tx.commit().map_err(store)
    }

    /// Inserts or updates one record; a new one goes `first` or last in its list.
    fn put<T: Serialize>(
        &self,
        kind: Kind,
        parent: &str,
        id: &str,
        item: &T,
        first: bool,
    ) -> Result<()> {
        let db = self.db()?;
        let position: i64 = db
            .query_row(
                &format!(
                    "SELECT COALESCE({}, 0) FROM records
                     WHERE server = ? AND account = ? AND kind = ? AND parent = ?",
                    if first {
                        "MIN(position) - 1"
                    } else {
                        "MAX(position) + 1"
                    }
                ),
                params![self.server, self.account, kind.as_str(), parent],
                |r| r.get(0),
            )
            .map_err(store)?;
        db.execute(
            "INSERT INTO records (server, account, kind, parent, id, position, body)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (server, account, kind, id) DO UPDATE SET body = excluded.body",
            params![
                self.server,
                self.account,
                kind.as_str(),
                parent,
                id,
                position,
                to_json(item)?
            ],
        )
        .map_err(store)?;
        Ok(())
    }

    fn remove(&self, kind: Kind, id: &str) -> Result<()> {
        self.db()?
            .execute(
                "DELETE FROM records WHERE server = ? AND account = ? AND kind = ? AND id = ?",
                params![self.server, self.account, kind.as_str(), id],
            )
            .map_err(store)?;
        Ok(())
    }

    fn list<T: DeserializeOwned>(&self, kind: Kind, parent: &str) -> Result<Vec<T>> {
        let db = self.db()?;
        let mut statement = db
            .prepare(
                "SELECT body FROM records WHERE server = ? AND account = ? AND kind = ? AND parent = ?
                 ORDER BY position, id",
            )
            .map_err(store)?;
        let bodies = statement
            .query_map(
                params![self.server, self.account, kind.as_str(), parent],
                |r| r.get::<_, String>(0),
            )
            .map_err(store)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(store)?;
        bodies.iter().map(|b| from_json(b)).collect()
    }

    /// Replaces the account's studies.
    pub fn replace_studies(&self, studies: &[Study]) -> Result<()> {
        self.replace(Kind::Study, NO_PARENT, studies, |s| s.id.to_string())
    }

    /// The account's studies, as last listed.
    pub fn studies(&self) -> Result<Vec<Study>> {
        self.list(Kind::Study, NO_PARENT)
    }

    /// Forgets a study and everything cached under it (kicked, left, deleted).
    pub fn remove_study(&self, study: StudyId) -> Result<()> {
        let mut db = self.db()?;
        let tx = db.transaction().map_err(store)?;
        let id = study.to_string();
        tx.execute(
            "DELETE FROM records WHERE server = ? AND account = ? AND (id = ? OR parent = ?)",
            params![self.server, self.account, id, id],
        )
        .map_err(store)?;
        for table in ["messages", "chat_cursors"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE server = ? AND account = ? AND study = ?"),
                params![self.server, self.account, id],
            )
            .map_err(store)?;
        }
        tx.commit().map_err(store)
    }

    /// Replaces a study's members.
    pub fn replace_members(&self, study: StudyId, members: &[Member]) -> Result<()> {
        self.replace(Kind::Member, &study.to_string(), members, |m| {
            format!("{}:{}", m.study_id, m.user_id)
        })
    }

    /// A study's members, as last listed.
    pub fn members(&self, study: StudyId) -> Result<Vec<Member>> {
        self.list(Kind::Member, &study.to_string())
    }

    /// Replaces a study's notices.
    pub fn replace_notices(&self, study: StudyId, notices: &[Notice]) -> Result<()> {
        self.replace(Kind::Notice, &study.to_string(), notices, |n| {
            n.id.to_string()
        })
    }

    /// A study's notices, as last listed (pinned first).
    pub fn notices(&self, study: StudyId) -> Result<Vec<Notice>> {
        self.list(Kind::Notice, &study.to_string())
    }

    /// Replaces a study's calendar events.
    pub fn replace_events(&self, study: StudyId, events: &[CalendarEvent]) -> Result<()> {
        self.replace(Kind::Event, &study.to_string(), events, |e| {
            e.id.to_string()
        })
    }

    /// A study's calendar events, as last listed (by start time).
    pub fn events(&self, study: StudyId) -> Result<Vec<CalendarEvent>> {
        self.list(Kind::Event, &study.to_string())
    }

    /// Replaces the account's tasks.
    pub fn replace_tasks(&self, tasks: &[Task]) -> Result<()> {
        self.replace(Kind::Task, NO_PARENT, tasks, |t| t.id.to_string())
    }

    /// Stores one task (new ones last).
    pub fn put_task(&self, task: &Task) -> Result<()> {
        self.put(Kind::Task, NO_PARENT, &task.id.to_string(), task, false)
    }

    /// Forgets one task.
    pub fn remove_task(&self, task: TaskId) -> Result<()> {
        self.remove(Kind::Task, &task.to_string())
    }

    /// The account's tasks.
    pub fn tasks(&self) -> Result<Vec<Task>> {
        self.list(Kind::Task, NO_PARENT)
    }

    /// Replaces the account's notifications.
    pub fn replace_notifications(&self, notifications: &[Notification]) -> Result<()> {
        self.replace(Kind::Notification, NO_PARENT, notifications, |n| {
            n.id.to_string()
        })
    }

    /// Stores one notification (new ones first).
    pub fn put_notification(&self, notification: &Notification) -> Result<()> {
        self.put(
            Kind::Notification,
            NO_PARENT,
            &notification.id.to_string(),
            notification,
            true,
        )
    }

    /// The account's notifications, newest first.
    pub fn notifications(&self) -> Result<Vec<Notification>> {
        self.list(Kind::Notification, NO_PARENT)
    }

    /// Stores chat messages known out of order (e.g. the server's answer to a send):
    /// one already held (same study and sequence) is replaced, unless it is a
    /// tombstone. The resume point does not move, see [`Cache::put_delivered`].
    pub fn put_messages(&self, messages: &[ChatMessage]) -> Result<()> {
        let mut db = self.db()?;
        let tx = db.transaction().map_err(store)?;
        self.insert_messages(&tx, messages)?;
        tx.commit().map_err(store)
    }

    /// Stores messages the live stream delivered (in order, with nothing missing
    /// since the resume point), or the newest page a study starts from, and moves
    /// the study's resume point to the last of them and to change `change` — in
    /// one transaction.
    pub fn put_delivered(
        &self,
        study: StudyId,
        messages: &[ChatMessage],
        change: i64,
    ) -> Result<()> {
        let mut db = self.db()?;
        let tx = db.transaction().map_err(store)?;
        self.insert_messages(&tx, messages)?;
        let seq = messages.iter().map(|m| m.seq).max();
        Self::advance_in(&tx, &self.server, &self.account, study, seq, change)?;
        tx.commit().map_err(store)
    }

    /// Moves a study's resume point to change `change` (a deletion or a receipt
    /// delivered in order, or where a replay reached).
    pub fn advance(&self, study: StudyId, change: i64) -> Result<()> {
        let db = self.db()?;
        Self::advance_in(&db, &self.server, &self.account, study, None, change)
    }

    fn advance_in(
        db: &Connection,
        server: &str,
        account: &str,
        study: StudyId,
        seq: Option<i64>,
        change: i64,
    ) -> Result<()> {
        db.execute(
            "INSERT INTO chat_cursors (server, account, study, seq, change) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (server, account, study) DO UPDATE SET
                seq = MAX(seq, COALESCE(excluded.seq, seq)),
                change = MAX(COALESCE(change, 0), excluded.change)",
            params![server, account, study.to_string(), seq.unwrap_or(0), change],
        )
        .map_err(store)?;
        Ok(())
    }

    fn insert_messages(
        &self,
        tx: &rusqlite::Transaction<'_>,
        messages: &[ChatMessage],
    ) -> Result<()> {
        for m in messages {
            // A deletion is final: an older copy of the message arriving after its
            // tombstone (the outbox's answer racing the live stream) is ignored.
            tx.execute(
                "INSERT INTO messages (server, account, study, seq, id, body)
                 VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (server, account, study, seq) DO UPDATE
                    SET id = excluded.id, body = excluded.body
                    WHERE json_extract(messages.body, '$.isDeleted') IS NOT 1",
                params![
                    self.server,
                    self.account,
                    m.study_id.to_string(),
                    m.seq,
                    m.id.to_string(),
                    to_json(m)?
                ],
            )
            .map_err(store)?;
        }
        Ok(())
    }

    /// Turns a held message into a tombstone, as the server does (one transaction,
    /// so a concurrent write of the message cannot slip between read and write).
    pub fn delete_message(&self, study: StudyId, message: MessageId) -> Result<()> {
        let mut db = self.db()?;
        let tx = db.transaction().map_err(store)?;
        let held: Option<String> = tx
            .query_row(
                "SELECT body FROM messages WHERE server = ? AND account = ? AND study = ? AND id = ?",
                params![self.server, self.account, study.to_string(), message.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(store)?;
        let Some(body) = held else {
            return Ok(());
        };
        let mut tombstone: ChatMessage = from_json(&body)?;
        tombstone.is_deleted = true;
        tombstone.content.clear();
        tombstone.file = None;
        self.insert_messages(&tx, &[tombstone])?;
        tx.commit().map_err(store)
    }

    /// The last `limit` messages held for a study, in sequence order.
    pub fn messages(&self, study: StudyId, limit: u32) -> Result<Vec<ChatMessage>> {
        let db = self.db()?;
        let mut statement = db
            .prepare(
                "SELECT body FROM (SELECT seq, body FROM messages
                    WHERE server = ? AND account = ? AND study = ? ORDER BY seq DESC LIMIT ?)
                 ORDER BY seq",
            )
            .map_err(store)?;
        let bodies = statement
            .query_map(
                params![self.server, self.account, study.to_string(), limit],
                |r| r.get::<_, String>(0),
            )
            .map_err(store)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(store)?;
        bodies.iter().map(|b| from_json(b)).collect()
    }

    /// The point a study's live stream resumes from: the last change and message
    /// delivered in order (not merely the highest held, see
    /// [`Cache::put_delivered`]); empty for a study never followed. A cursor from
    /// a cache older than the change feed has only its sequence.
    pub fn cursor(&self, study: StudyId) -> Result<Cursor> {
        Ok(self
            .db()?
            .query_row(
                "SELECT seq, change FROM chat_cursors WHERE server = ? AND account = ? AND study = ?",
                params![self.server, self.account, study.to_string()],
                |r| {
                    Ok(Cursor {
                        seq: r.get(0)?,
                        change: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(store)?
            .unwrap_or_default())
    }

    // The outbox's storage; the rules are in `super::outbox`.

    /// Appends an action to the outbox; returns it as stored.
    pub(super) fn outbox_push(&self, client_id: &str, action: &OutboxAction) -> Result<OutboxItem> {
        let created_at = Utc::now();
        let db = self.db()?;
        db.execute(
            "INSERT INTO outbox (server, account, client_id, action, state, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
            params![
                self.server,
                self.account,
                client_id,
                to_json(action)?,
                to_json(&OutboxState::Pending)?,
                created_at.to_rfc3339()
            ],
        )
        .map_err(store)?;
        Ok(OutboxItem {
            id: db.last_insert_rowid(),
            client_id: client_id.to_owned(),
            action: action.clone(),
            state: OutboxState::Pending,
            attempts: 0,
            created_at,
        })
    }

    /// Every outbox item (pending and failed), oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxItem>> {
        let db = self.db()?;
        let mut statement = db
            .prepare(
                "SELECT id, client_id, action, state, attempts, created_at FROM outbox
                 WHERE server = ? AND account = ? ORDER BY id",
            )
            .map_err(store)?;
        let rows = statement
            .query_map(params![self.server, self.account], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, u32>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .map_err(store)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(store)?;
        rows.into_iter()
            .map(|(id, client_id, action, state, attempts, created_at)| {
                Ok(OutboxItem {
                    id,
                    client_id,
                    action: from_json(&action)?,
                    state: from_json(&state)?,
                    attempts,
                    created_at: chrono::DateTime::parse_from_rfc3339(&created_at)
                        .map_err(|e| Error::failed("reading an offline cache row", e))?
                        .with_timezone(&Utc),
                })
            })
            .collect()
    }

    /// Records a failed attempt and the item's new state.
    pub(super) fn outbox_update(&self, id: i64, state: &OutboxState) -> Result<()> {
        self.db()?
            .execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1
                 WHERE id = ? AND server = ? AND account = ?",
                params![to_json(state)?, id, self.server, self.account],
            )
            .map_err(store)?;
        Ok(())
    }

    /// Puts a failed item back to pending with its count of answers reset: the
    /// user asked for a fresh try.
    pub(super) fn outbox_requeue(&self, id: i64) -> Result<()> {
        self.db()?
            .execute(
                "UPDATE outbox SET state = ?, attempts = 0 WHERE id = ? AND server = ? AND account = ?",
                params![to_json(&OutboxState::Pending)?, id, self.server, self.account],
            )
            .map_err(store)?;
        Ok(())
    }

    /// Removes a sent create-task item and records the server's id of its task
    /// under the item's client id, in one transaction, so no later item naming
    /// the task can find it neither pending nor known. Forgets ids older than
    /// [`CREATED_TASK_DAYS`].
    pub(super) fn outbox_created(&self, id: i64, client_id: &str, task: TaskId) -> Result<()> {
        let now = Utc::now().timestamp_millis();
        let mut db = self.db()?;
        let tx = db.transaction().map_err(store)?;
        tx.execute(
            "DELETE FROM outbox WHERE id = ? AND server = ? AND account = ?",
            params![id, self.server, self.account],
        )
        .map_err(store)?;
        tx.execute(
            "INSERT OR REPLACE INTO outbox_created (server, account, client_id, task_id, created_at)
             VALUES (?, ?, ?, ?, ?)",
            params![self.server, self.account, client_id, task.to_string(), now],
        )
        .map_err(store)?;
        tx.execute(
            "DELETE FROM outbox_created WHERE server = ? AND account = ? AND created_at < ?",
            params![
                self.server,
                self.account,
                now - CREATED_TASK_DAYS * 24 * 3600 * 1000
            ],
        )
        .map_err(store)?;
        tx.commit().map_err(store)
    }

    /// The server's id of the task an outbox item with `client_id` created.
    pub(super) fn created_task(&self, client_id: &str) -> Result<Option<TaskId>> {
        let id: Option<String> = self
            .db()?
            .query_row(
                "SELECT task_id FROM outbox_created WHERE server = ? AND account = ? AND client_id = ?",
                params![self.server, self.account, client_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(store)?;
        id.map(|id| {
            id.parse()
                .map_err(|e| Error::failed("reading an offline cache row", e))
        })
        .transpose()
    }

    /// Removes an item (sent, or dismissed by the user).
    pub fn outbox_remove(&self, id: i64) -> Result<()> {
        self.db()?
            .execute(
                "DELETE FROM outbox WHERE id = ? AND server = ? AND account = ?",
                params![id, self.server, self.account],
            )
            .map_err(store)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The list is its folder: a cache migration added as a file is applied.
    #[test]
    fn the_list_is_the_folder() {
        crate::migration::assert_matches_folder("migrations/client-cache", MIGRATIONS, &[]);
    }

    fn message(study: StudyId, seq: i64, content: &str) -> ChatMessage {
        ChatMessage {
            id: MessageId::new(),
            study_id: study,
            seq,
            author_id: UserId::new(),
            author_name: "kim".into(),
            content: content.into(),
            file: None,
            client_id: None,
            is_deleted: false,
            created_at: Utc::now(),
        }
    }

    fn cache(dir: &tempfile::TempDir, account: UserId) -> Cache {
        Cache::open(&dir.path().join("cache.db"), "http://server", account).expect("cache")
    }

    #[test]
    fn a_cache_file_of_the_first_clients_is_upgraded_with_its_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cache.db");
        let (account, study) = (UserId::new(), StudyId::new());
        {
            // What the first clients wrote: schema 1, no version, a cursor by sequence.
            let old = Connection::open(&path).expect("open");
            old.execute_batch(MIGRATIONS[0].sql).expect("old schema");
            old.execute(
                "INSERT INTO chat_cursors (server, account, study, seq) VALUES (?, ?, ?, ?)",
                params!["http://server", account.to_string(), study.to_string(), 41],
            )
            .expect("old cursor");
            old.execute(
                "INSERT INTO messages (server, account, study, seq, id, body) VALUES (?, ?, ?, ?, ?, ?)",
                params![
                    "http://server",
                    account.to_string(),
                    study.to_string(),
                    41,
                    MessageId::new().to_string(),
                    to_json(&message(study, 41, "kept")).expect("json")
                ],
            )
            .expect("old message");
            let user = serde_json::json!({"id": account, "email": "kim@example.com", "name": "kim",
                "bio": null, "avatarUrl": null, "role": "USER", "status": "ACTIVE",
                "suspendedReason": null, "suspendedUntil": null,
                "createdAt": "2026-11-01T00:00:00Z", "lastLoginAt": null});
            old.execute(
                "INSERT INTO sessions (server, account, token, user) VALUES (?, ?, ?, ?)",
                params![
                    "http://server",
                    account.to_string(),
                    "old-token",
                    user.to_string()
                ],
            )
            .expect("old session");
        }
        let cache = cache(&dir, account);
        // The account is still signed in, and its token leaves the file once.
        let accounts = Cache::accounts(&path, "http://server").expect("accounts");
        assert_eq!(accounts.iter().map(|u| u.id).collect::<Vec<_>>(), [account]);
        assert_eq!(
            cache.take_legacy_token().expect("take").as_deref(),
            Some("old-token")
        );
        assert_eq!(cache.take_legacy_token().expect("take"), None);
        assert_eq!(
            cache.cursor(study).expect("cursor"),
            Cursor {
                seq: Some(41),
                change: None
            },
            "the old cursor is kept; the server maps its sequence to a change"
        );
        assert_eq!(
            cache.messages(study, 10).expect("messages")[0].content,
            "kept"
        );
        let version: i64 = cache
            .db()
            .expect("db")
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len() as i64);
        cache.advance(study, 50).expect("the new column works");
        drop(cache);
        // Opening again applies nothing twice.
        let again = Cache::open(&path, "http://server", account).expect("reopen");
        assert_eq!(again.cursor(study).expect("cursor").change, Some(50));
    }

    #[test]
    fn a_tombstone_stays_one_when_an_older_copy_arrives_later() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = cache(&dir, UserId::new());
        let study = StudyId::new();
        let sent = message(study, 1, "hello");
        cache
            .put_delivered(study, std::slice::from_ref(&sent), 1)
            .expect("put");
        cache.delete_message(study, sent.id).expect("delete");
        // The outbox's answer to the send, written after the live deletion.
        cache
            .put_messages(std::slice::from_ref(&sent))
            .expect("late copy");
        let held = cache.messages(study, 10).expect("messages");
        assert!(held[0].is_deleted && held[0].content.is_empty(), "{held:?}");
    }

    #[test]
    fn only_messages_delivered_in_order_move_the_resume_point() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = cache(&dir, UserId::new());
        let study = StudyId::new();
        let at = |seq, change| Cursor {
            seq: Some(seq),
            change: Some(change),
        };
        assert_eq!(cache.cursor(study).expect("cursor"), Cursor::default());
        cache
            .put_delivered(study, &[message(study, 1, "a"), message(study, 2, "b")], 2)
            .expect("delivered");
        // Known out of order (the outbox's own send): held, but 3..4 were not seen.
        cache
            .put_messages(&[message(study, 5, "mine")])
            .expect("sent");
        assert_eq!(cache.cursor(study).expect("cursor"), at(2, 2));
        assert_eq!(cache.messages(study, 10).expect("messages").len(), 3);
        // A deletion or a receipt moves the change, not the sequence.
        cache.advance(study, 4).expect("advance");
        assert_eq!(cache.cursor(study).expect("cursor"), at(2, 4));
        // Never backwards.
        cache
            .put_delivered(study, &[message(study, 1, "a")], 1)
            .expect("again");
        cache.advance(study, 3).expect("advance");
        assert_eq!(cache.cursor(study).expect("cursor"), at(2, 4));
        cache.remove_study(study).expect("remove");
        assert_eq!(cache.cursor(study).expect("cursor"), Cursor::default());
    }

    #[test]
    fn wipe_empties_every_table_of_the_account_and_only_its_rows() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (kim, lee) = (UserId::new(), UserId::new());
        let study = StudyId::new();
        let fill = |cache: &Cache| {
            cache
                .put_delivered(study, &[message(study, 1, "a")], 1)
                .expect("messages");
            cache
                .put_notification(&Notification {
                    id: crate::ids::NotificationId::new(),
                    user_id: UserId::new(),
                    kind: crate::model::NotificationKind::Mention,
                    title: "t".into(),
                    body: "b".into(),
                    study_id: None,
                    ref_id: None,
                    is_read: false,
                    created_at: Utc::now(),
                })
                .expect("records");
            cache
                .outbox_created(0, "created", crate::ids::TaskId::new())
                .expect("created");
            cache
                .outbox_push(
                    "c1",
                    &OutboxAction::MarkRead {
                        study_id: study,
                        message_id: MessageId::new(),
                    },
                )
                .expect("outbox");
        };
        let kim_cache = cache(&dir, kim);
        let lee_cache = cache(&dir, lee);
        fill(&lee_cache);
        fill(&kim_cache);
        let user = User {
            id: kim,
            email: "kim@example.com".into(),
            name: "kim".into(),
            bio: None,
            avatar_url: None,
            role: crate::model::PlatformRole::User,
            status: crate::model::UserStatus::Active,
            suspended_reason: None,
            suspended_until: None,
            created_at: Utc::now(),
            last_login_at: None,
        };
        kim_cache.save_account(&user).expect("account");
        kim_cache.wipe().expect("wipe");
        let db = kim_cache.db().expect("db");
        for table in TABLES {
            let count = |account: &str| -> i64 {
                db.query_row(
                    &format!("SELECT COUNT(*) FROM {table} WHERE account = ?"),
                    [account],
                    |r| r.get(0),
                )
                .expect("count")
            };
            assert_eq!(count(&kim.to_string()), 0, "{table} keeps kim's rows");
            if !["accounts", "legacy_tokens"].contains(&table) {
                assert!(count(&lee.to_string()) > 0, "{table} lost lee's rows");
            }
        }
        // And no table is left out of the list.
        let tables: Vec<String> = db
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .expect("prepare")
            .query_map([], |r| r.get(0))
            .expect("tables")
            .collect::<rusqlite::Result<_>>()
            .expect("names");
        assert_eq!(tables.len(), TABLES.len(), "{tables:?}");
    }
}
