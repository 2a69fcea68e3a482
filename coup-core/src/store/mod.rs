//! The store boundary: a small SQL executor contract ([`Tx`]) that every backend
//! implements, and the [`Store`] handle the services run transactions through.
//!
//! The services write each query once, in portable SQL with `?` placeholders and
//! plain [`Value`]s (ids and enums as text, times as integer milliseconds, flags as
//! booleans). A backend only has to run that SQL: the embedded SQLite backend runs
//! it as is; a PostgreSQL backend needs one placeholder shim (`?` → `$n`) and
//! BIGINT columns, and can then run the same services and the same tests.
//!
//! Transactions are closures: [`Store::write_blocking`] runs one with exclusive
//! write access and commits only if it returns `Ok`; [`Store::read`] runs one on a
//! read snapshot that never waits for writers, on the blocking thread pool so async
//! callers never block their runtime. Async writes ([`Store::write_then`]) go to
//! the backend's writer queue when it has one (SQLite: group commit, see
//! `sqlite.rs`), otherwise to the blocking pool.

pub mod migrate;
pub(crate) mod portable;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;
mod value;

use std::sync::Arc;

pub(crate) use value::read_row;
pub use value::{Row, Value};

use crate::error::{BoxError, Error, Result};

/// A failure inside a backend, already classified. Each keeps the backend's own
/// error as its [`source`](std::error::Error::source) (so a caller can still
/// tell an I/O error from a constraint), and where a step of the store's own
/// failed rather than a query, names that step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A unique index refused a row (a race the services did not see coming).
    #[error("unique constraint violated: {0}")]
    UniqueViolation(#[source] BoxError),
    /// The database is busy, locked or cannot be reached.
    #[error("store unavailable: {step}: {source}")]
    Unavailable {
        /// What the store was doing, e.g. "opening the reader pool".
        step: String,
        /// The failure.
        #[source]
        source: BoxError,
    },
    /// A column held something the domain cannot read, or a row lacked it.
    #[error("cannot decode column {column}: {message}")]
    Decode {
        /// The column's name.
        column: String,
        /// What was wrong.
        message: String,
        /// The parser's or driver's error, when one said so.
        #[source]
        source: Option<BoxError>,
    },
    /// A migration failed to apply.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        /// The migration's number.
        version: i64,
        /// The migration's name.
        name: &'static str,
        /// The backend's failure.
        #[source]
        source: Box<StoreError>,
    },
    /// Any other backend failure (bad SQL, I/O).
    #[error("store query failed: {0}")]
    Query(#[source] BoxError),
}

impl StoreError {
    /// The store could not `step`, because of `source`.
    pub(crate) fn unavailable(step: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Unavailable {
            step: step.into(),
            source: source.into(),
        }
    }

    /// Whether retrying later may succeed (the store is busy or down).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// One open transaction. Implemented by each backend; the services see only this.
pub trait Tx {
    /// Runs a query and returns all its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Runs a statement and returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Runs several statements without parameters (migrations).
    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError>;
}

impl dyn Tx + '_ {
    /// The first row of a query, if any.
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row of a query, or `NotFound(what)`.
    pub fn query_one(&mut self, sql: &str, params: &[Value], what: &'static str) -> Result<Row> {
        self.query_opt(sql, params)?.ok_or(Error::NotFound(what))
    }

    /// The first row of a query read by `from_row`, or `NotFound(what)`.
    pub fn query_one_as<T>(
        &mut self,
        sql: &str,
        params: &[Value],
        what: &'static str,
        from_row: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        from_row(&self.query_one(sql, params, what)?)
    }

    /// A single integer (a `COUNT(*)`, say).
    pub fn count(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let row = self
            .query_opt(sql, params)?
            .ok_or_else(|| Error::Internal("count query returned no row".into()))?;
        Ok(u64::try_from(row.single_int()?).unwrap_or(0))
    }

    /// Whether a query returns at least one row.
    pub fn exists(&mut self, sql: &str, params: &[Value]) -> Result<bool> {
        Ok(self.query_opt(sql, params)?.is_some())
    }
}

/// A transaction body, as backends receive it: it may be called once.
pub type TxBody<'a> = &'a mut dyn FnMut(&mut dyn Tx) -> Result<()>;

/// A write waiting for a backend's writer: its body, and whoever waits for it.
pub trait WriteJob: Send {
    /// Runs the body in the open transaction. `false` when it failed: the job has
    /// answered its caller with the error and its changes must be undone.
    fn run(&mut self, tx: &mut dyn Tx) -> bool;
    /// Ends the job once the transaction's fate is known: `Ok` after the commit
    /// (jobs are finished in commit order, before the next write starts), or the
    /// error that lost the transaction.
    fn finish(self: Box<Self>, outcome: Result<()>);
}

/// What a backend offers: transactions and a liveness check.
pub trait Backend: Send + Sync + 'static {
    /// Hands a write to the backend's own writer, which runs it when it can,
    /// possibly in one transaction with others. Backends without a writer queue
    /// give the job back, and it runs alone through [`Backend::write`].
    fn submit(&self, job: Box<dyn WriteJob>) -> Result<(), Box<dyn WriteJob>> {
        Err(job)
    }
    /// Runs `body` in a write transaction: serialized with other writes, committed
    /// if it returns `Ok`, rolled back otherwise. After a commit, `after_commit`
    /// runs while writes are still serialized, so it sees commits in order.
    fn write(&self, body: TxBody<'_>, after_commit: &mut dyn FnMut()) -> Result<()>;
    /// Runs `body` in a read-only snapshot that does not wait for writers.
    fn read(&self, body: TxBody<'_>) -> Result<()>;
    /// Checks that the store answers (for readiness probes).
    fn ping(&self) -> Result<()>;
}

/// A cheap, cloneable handle to a store.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Store {
    /// Wraps a backend.
    pub fn new(backend: impl Backend) -> Self {
        Self {
            backend: Arc::new(backend),
        }
    }

    /// Opens (creating if missing) the embedded SQLite store at `path` and applies
    /// pending migrations.
    pub fn open_sqlite(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Ok(Self::new(sqlite::SqliteBackend::open(path.as_ref())?))
    }

    /// Connects to the PostgreSQL store at `url` (feature `postgres`), optionally
    /// inside `schema`, and applies pending migrations. Call it off async threads
    /// (e.g. in `spawn_blocking`).
    #[cfg(feature = "postgres")]
    pub fn open_postgres(url: &str, schema: Option<&str>) -> Result<Self> {
        Ok(Self::new(postgres::PostgresBackend::connect(url, schema)?))
    }

    /// Runs `body` in a write transaction on the calling thread.
    pub fn write_blocking<T>(&self, body: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        self.write_blocking_then(body, |_| {})
    }

    /// Runs `body` in a write transaction, then `after_commit` with its result once
    /// committed and before the next write starts: callbacks see commits in order.
    /// `after_commit` must not block or write to the store.
    pub fn write_blocking_then<T>(
        &self,
        body: impl FnOnce(&mut dyn Tx) -> Result<T>,
        after_commit: impl FnOnce(&T),
    ) -> Result<T> {
        let mut body = Some(body);
        let mut after_commit = Some(after_commit);
        let out = std::cell::RefCell::new(None);
        self.backend.write(
            &mut |tx| {
                let f = body
                    .take()
                    .ok_or_else(|| Error::Internal("transaction body ran twice".into()))?;
                let value = f(tx)?;
                *out.borrow_mut() = Some(value);
                Ok(())
            },
            &mut || {
                if let (Some(f), Some(value)) = (after_commit.take(), out.borrow().as_ref()) {
                    f(value);
                }
            },
        )?;
        out.into_inner()
            .ok_or_else(|| Error::Internal("transaction body did not run".into()))
    }

    /// Runs `body` in a write transaction without blocking the async runtime, then
    /// `after_commit` with its result once committed and before the next write
    /// starts. With a writer queue the write may share its transaction with other
    /// writes (each in its own savepoint: a failing body undoes only its own
    /// changes); otherwise it runs alone on the blocking pool.
    pub async fn write_then<T, B, A>(&self, body: B, after_commit: A) -> Result<T>
    where
        T: Send + 'static,
        B: FnOnce(&mut dyn Tx) -> Result<T> + Send + 'static,
        A: FnOnce(&T) + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Box::new(QueuedWrite {
            body: Some(body),
            after_commit: Some(after_commit),
            value: None,
            reply: Some(reply),
        });
        match self.backend.submit(job) {
            Ok(()) => answer
                .await
                .unwrap_or_else(|_| Err(Error::Internal("the store's writer stopped".into()))),
            Err(job) => {
                let backend = self.backend.clone();
                spawn_blocking(move || {
                    let job = std::cell::RefCell::new(Some(job));
                    let written = backend.write(
                        &mut |tx| {
                            let ran = job.borrow_mut().as_mut().is_some_and(|job| job.run(tx));
                            if ran {
                                Ok(())
                            } else {
                                Err(Error::Internal("rolled back".into()))
                            }
                        },
                        &mut || {
                            if let Some(job) = job.borrow_mut().take() {
                                job.finish(Ok(()));
                            }
                        },
                    );
                    // A body that failed has answered already; finishing it again
                    // is a no-op.
                    if let (Err(e), Some(job)) = (written, job.into_inner()) {
                        job.finish(Err(e));
                    }
                    Ok(())
                })
                .await?;
                answer
                    .await
                    .unwrap_or_else(|_| Err(Error::Internal("the write was abandoned".into())))
            }
        }
    }

    /// Runs `body` in a read snapshot on the calling thread.
    pub fn read_blocking<T>(&self, body: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let mut body = Some(body);
        let mut out = None;
        self.backend.read(&mut |tx| {
            let f = body
                .take()
                .ok_or_else(|| Error::Internal("transaction body ran twice".into()))?;
            out = Some(f(tx)?);
            Ok(())
        })?;
        out.ok_or_else(|| Error::Internal("transaction body did not run".into()))
    }

    /// Runs `body` in a write transaction on the blocking pool.
    pub async fn write<T, F>(&self, body: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        let store = self.clone();
        spawn_blocking(move || store.write_blocking(body)).await
    }

    /// Runs `body` in a read snapshot on the blocking pool.
    pub async fn read<T, F>(&self, body: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> Result<T> + Send + 'static,
    {
        let store = self.clone();
        spawn_blocking(move || store.read_blocking(body)).await
    }

    /// Checks that the store answers.
    pub async fn ping(&self) -> Result<()> {
        let store = self.clone();
        spawn_blocking(move || store.backend.ping()).await
    }
}

/// A typed write behind [`WriteJob`]: the body, the after-commit callback and the
/// caller's answer channel.
struct QueuedWrite<T, B, A> {
    body: Option<B>,
    after_commit: Option<A>,
    value: Option<T>,
    reply: Option<tokio::sync::oneshot::Sender<Result<T>>>,
}

impl<T, B, A> WriteJob for QueuedWrite<T, B, A>
where
    T: Send + 'static,
    B: FnOnce(&mut dyn Tx) -> Result<T> + Send + 'static,
    A: FnOnce(&T) + Send + 'static,
{
    fn run(&mut self, tx: &mut dyn Tx) -> bool {
        let Some(body) = self.body.take() else {
            return false;
        };
        match body(tx) {
            Ok(value) => {
                self.value = Some(value);
                true
            }
            Err(e) => {
                if let Some(reply) = self.reply.take() {
                    let _ = reply.send(Err(e));
                }
                false
            }
        }
    }

    fn finish(mut self: Box<Self>, outcome: Result<()>) {
        let Some(reply) = self.reply.take() else {
            return;
        };
        let answer = match (outcome, self.value.take()) {
            (Ok(()), Some(value)) => {
                if let Some(after_commit) = self.after_commit.take() {
                    after_commit(&value);
                }
                Ok(value)
            }
            (Ok(()), None) => Err(Error::Internal("the write did not run".into())),
            (Err(e), _) => Err(e),
        };
        let _ = reply.send(answer);
    }
}

/// Runs blocking work off the async runtime, turning a panic into an internal error.
pub(crate) async fn spawn_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::failed("running a blocking store task", e))?
}
