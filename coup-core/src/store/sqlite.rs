//! The embedded SQLite backend (rusqlite, WAL).
//!
//! One writer connection behind a mutex serializes writes (`BEGIN IMMEDIATE`), and a
//! pool of read-only connections serves reads from WAL snapshots, so readers never
//! wait for the writer. Foreign keys are on and a busy timeout covers the rare
//! checkpoint contention.
//!
//! Async writes are group-committed: a writer thread takes every write queued
//! while the previous transaction ran (up to `MAX_BATCH`) and runs them in one
//! transaction, each in its own savepoint, so a refused write undoes only its own
//! changes and the others still commit. Under load this turns a commit (and a
//! thread hand-off) per write into one per batch; alone, a write commits at once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::config::DbConfig;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, ToSql, TransactionBehavior};

use super::migrate::{self, MIGRATIONS};
use super::portable::debug_check;
use super::{Backend, Row, StoreError, Tx, TxBody, Value, WriteJob};
use crate::error::{Error, Result};

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const STATEMENT_CACHE: usize = 256;
const READERS: u32 = 8;
/// Most writes committed in one transaction by the writer thread.
const MAX_BATCH: usize = 128;

/// The SQLite store: one writer, a pool of readers.
pub struct SqliteBackend {
    writer: Arc<Mutex<Connection>>,
    /// Jobs for the writer thread; taken when the backend is dropped.
    queue: Option<mpsc::Sender<Box<dyn WriteJob>>>,
    writer_thread: Option<std::thread::JoinHandle<()>>,
    readers: r2d2::Pool<SqliteConnectionManager>,
}

impl Drop for SqliteBackend {
    /// Stops the writer thread after the writes it has taken, then folds the WAL
    /// back into the database (connections close without checkpointing, see
    /// `configure`).
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.writer_thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
        if let Err(e) = self
            .writer()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        {
            tracing::debug!("no checkpoint on close: {e}");
        }
    }
}

impl SqliteBackend {
    /// Opens or creates the database at `path`, creating its directory, and applies
    /// pending migrations.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::unavailable(format!("creating {}", dir.display()), e))?;
        }
        let mut writer = Connection::open(path).map_err(map_err)?;
        configure(&writer).map_err(map_err)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(map_err)?;
        writer
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(map_err)?;
        {
            let tx = writer
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(map_err)?;
            let mut wrapped = SqliteTx(&tx);
            migrate::apply(&mut wrapped, MIGRATIONS)?;
            tx.commit().map_err(map_err)?;
        }
        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(|c| configure(c));
        let readers = r2d2::Pool::builder()
            .max_size(READERS)
            .min_idle(Some(1))
            .build(manager)
            .map_err(|e| StoreError::unavailable("opening the reader pool", e))?;
        let writer = Arc::new(Mutex::new(writer));
        let (queue, jobs) = mpsc::channel();
        let batch_writer = writer.clone();
        let writer_thread = std::thread::Builder::new()
            .name("coup-sqlite-writer".into())
            .spawn(move || write_batches(&batch_writer, &jobs))
            .map_err(|e| StoreError::unavailable("starting the writer thread", e))?;
        Ok(Self {
            writer,
            queue: Some(queue),
            writer_thread: Some(writer_thread),
            readers,
        })
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        lock_writer(&self.writer)
    }
}

fn lock_writer(writer: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic inside a transaction rolled it back when the guard dropped, so the
    // connection itself is sound even if the mutex was poisoned.
    writer.lock().unwrap_or_else(|p| p.into_inner())
}

/// The writer thread: until the backend is dropped, runs what is queued in
/// batches.
fn write_batches(writer: &Mutex<Connection>, jobs: &mpsc::Receiver<Box<dyn WriteJob>>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let conn = lock_writer(writer);
        // Shared, so that every job of the batch keeps the one cause.
        let outcome = run_batch(&conn, &mut batch).map_err(Arc::new);
        // Finished while the writer is still held: callbacks see commits in order.
        for job in batch {
            let outcome = match &outcome {
                Ok(()) => Ok(()),
                Err(e) if e.is_unavailable() => {
                    Err(StoreError::unavailable("committing a batch of writes", e.clone()).into())
                }
                Err(e) => Err(Error::failed("committing a batch of writes", e.clone())),
            };
            // A panicking after-commit callback must not stop the writer for
            // everyone; its caller sees the write abandoned.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.finish(outcome)));
        }
    }
}

/// Runs the jobs in one transaction, each in a savepoint, and commits.
fn run_batch(
    conn: &Connection,
    batch: &mut [Box<dyn WriteJob>],
) -> std::result::Result<(), StoreError> {
    let tx = Scope::begin(conn, Scope::WRITE).map_err(map_err)?;
    for job in batch.iter_mut() {
        let savepoint = Scope::begin(conn, Scope::SAVEPOINT).map_err(map_err)?;
        // A panicking body counts as a failed one: its caller sees the write
        // abandoned, the others go on.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            job.run(&mut SqliteTx(conn))
        }))
        .unwrap_or(false);
        if ran {
            savepoint.finish().map_err(map_err)?;
        } else {
            // Dropping a savepoint rolls it back.
            drop(savepoint);
        }
    }
    tx.finish().map_err(map_err)?;
    Ok(())
}

/// A transaction or savepoint begun and ended with statements from the
/// connection's statement cache. rusqlite's `Transaction` and `Savepoint` send
/// their `BEGIN`/`COMMIT`/`SAVEPOINT` text through `execute_batch`, which
/// parses it again every time: a `rest-list` profile showed SQLite's parser on
/// every request for those two words. Dropped unfinished, it is undone.
struct Scope<'c> {
    conn: &'c Connection,
    kind: &'static ScopeKind,
    open: bool,
}

/// The statements that begin, finish and undo one kind of [`Scope`].
struct ScopeKind {
    begin: &'static str,
    finish: &'static str,
    undo: &'static [&'static str],
}

impl<'c> Scope<'c> {
    /// A read snapshot: `BEGIN` is deferred, so the snapshot starts at the
    /// first read; finishing or undoing it is the same for a reader.
    const READ: &'static ScopeKind = &ScopeKind {
        begin: "BEGIN",
        finish: "COMMIT",
        undo: &["ROLLBACK"],
    };
    /// A write transaction, holding the write lock from its start.
    const WRITE: &'static ScopeKind = &ScopeKind {
        begin: "BEGIN IMMEDIATE",
        finish: "COMMIT",
        undo: &["ROLLBACK"],
    };
    /// One write of a batch inside the batch's transaction.
    const SAVEPOINT: &'static ScopeKind = &ScopeKind {
        begin: "SAVEPOINT coup_write",
        finish: "RELEASE coup_write",
        undo: &["ROLLBACK TO coup_write", "RELEASE coup_write"],
    };

    fn begin(conn: &'c Connection, kind: &'static ScopeKind) -> rusqlite::Result<Self> {
        run_cached(conn, kind.begin)?;
        Ok(Self {
            conn,
            kind,
            open: true,
        })
    }

    fn finish(mut self) -> rusqlite::Result<()> {
        self.open = false;
        run_cached(self.conn, self.kind.finish)
    }
}

impl Drop for Scope<'_> {
    fn drop(&mut self) {
        // SQLite may have ended the transaction itself (some errors roll it
        // back): then there is nothing left to undo.
        if !self.open || self.conn.is_autocommit() {
            return;
        }
        for sql in self.kind.undo {
            if let Err(e) = run_cached(self.conn, sql) {
                tracing::warn!(error = %e, "undoing {}", self.kind.begin);
            }
        }
    }
}

/// Runs a statement that returns no rows, prepared once per connection.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // No checkpoint when a connection closes (the backend checkpoints once when
    // it is dropped). Closing with a checkpoint takes an exclusive lock through a
    // path of SQLite 3.51's unix VFS that holds a file's lock mutex while taking
    // the VFS-wide mutex, the reverse of opening and closing files: connections
    // to one database closing on one thread (r2d2's workers close readers) while
    // another opens or closes can deadlock.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    // Plans that do not depend on bound values. Without this SQLite
    // (built with STAT4) marks statements whose plan could use a bound value
    // and compiles them again on the first step after a new binding: the
    // study listing was parsed afresh on every request (`sqlite3Reprepare` in
    // a `rest-list` profile) although it came from the statement cache.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // SQLite's own lower() folds ASCII only, PostgreSQL's folds Unicode: a search
    // for "éclair" found "Éclair" on one store and not on the other. Here the
    // services' LOWER() is Rust's Unicode lower case, the rule the patterns they
    // bind are folded by (`portable::contains_pattern`).
    conn.create_scalar_function(
        "lower",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(match ctx.get_raw(0) {
                ValueRef::Null => None,
                ValueRef::Text(t) => Some(String::from_utf8_lossy(t).to_lowercase()),
                ValueRef::Integer(v) => Some(v.to_string()),
                ValueRef::Real(v) => Some(v.to_string()),
                ValueRef::Blob(b) => Some(String::from_utf8_lossy(b).to_lowercase()),
            })
        },
    )?;
    Ok(())
}

impl Backend for SqliteBackend {
    fn submit(&self, job: Box<dyn WriteJob>) -> std::result::Result<(), Box<dyn WriteJob>> {
        match &self.queue {
            Some(queue) => queue.send(job).map_err(|mpsc::SendError(job)| job),
            None => Err(job),
        }
    }

    fn write(&self, body: TxBody<'_>, after_commit: &mut dyn FnMut()) -> Result<()> {
        let conn = self.writer();
        let tx = Scope::begin(&conn, Scope::WRITE).map_err(map_err)?;
        body(&mut SqliteTx(&conn))?;
        tx.finish().map_err(map_err)?;
        after_commit();
        Ok(())
    }

    fn read(&self, body: TxBody<'_>) -> Result<()> {
        let conn = self
            .readers
            .get()
            .map_err(|e| StoreError::unavailable("taking a reader connection", e))?;
        let tx = Scope::begin(&conn, Scope::READ).map_err(map_err)?;
        body(&mut SqliteTx(&conn))?;
        tx.finish().map_err(map_err)?;
        Ok(())
    }

    fn ping(&self) -> Result<()> {
        self.read(&mut |tx| {
            tx.query("SELECT 1", &[])?;
            Ok(())
        })
    }
}

thread_local! {
    /// The column names of each statement text run on this thread, shared by
    /// every query of it: read from the statement each time, they cost an
    /// allocation per column per query. Bounded: a thread that has seen more
    /// texts than the services have statements starts over.
    static COLUMNS: RefCell<HashMap<Box<str>, Arc<[String]>>> = RefCell::default();
}

/// Most statement texts whose column names a thread keeps.
const COLUMN_CACHE: usize = 512;

fn column_names(sql: &str, stmt: &rusqlite::Statement<'_>) -> Arc<[String]> {
    COLUMNS.with_borrow_mut(|cache| {
        if let Some(columns) = cache.get(sql) {
            // The text decides the names while no statement selects `*`
            // (a migration could then change them under the same text).
            debug_assert!(
                columns.iter().map(String::as_str).eq(stmt.column_names()),
                "the columns of {sql} changed"
            );
            return columns.clone();
        }
        if cache.len() >= COLUMN_CACHE {
            cache.clear();
        }
        let columns: Arc<[String]> = stmt.column_names().into_iter().map(str::to_owned).collect();
        cache.insert(sql.into(), columns.clone());
        columns
    })
}

/// Statements on one SQLite connection, inside a transaction or savepoint.
struct SqliteTx<'c>(&'c Connection);

impl Tx for SqliteTx<'_> {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        // SQLite would run SQL the PostgreSQL rewrite cannot; refuse it here too.
        debug_check(sql, params.len());
        let mut stmt = self.0.prepare_cached(sql).map_err(map_err)?;
        let columns = column_names(sql, &stmt);
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(map_err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(map_err)? {
            let mut values = Vec::with_capacity(columns.len());
            for (i, column) in columns.iter().enumerate() {
                values.push(match row.get_ref(i).map_err(map_err)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Real(_) | ValueRef::Blob(_) => {
                        return Err(StoreError::Decode {
                            column: column.clone(),
                            message: "unexpected REAL or BLOB column".into(),
                            source: None,
                        });
                    }
                });
            }
            out.push(Row::new(columns.clone(), values));
        }
        Ok(out)
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        debug_check(sql, params.len());
        let mut stmt = self.0.prepare_cached(sql).map_err(map_err)?;
        let changed = stmt
            .execute(rusqlite::params_from_iter(params.iter()))
            .map_err(map_err)?;
        Ok(changed as u64)
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.0.execute_batch(sql).map_err(map_err)
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ToSqlOutput;
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            Value::Int(v) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*v)),
            Value::Bool(b) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(i64::from(*b))),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

fn map_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::UniqueViolation(e.into())
        }
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::CannotOpen
                    | rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::ReadOnly
            ) =>
        {
            StoreError::unavailable("running a statement", e)
        }
        _ => StoreError::Query(e.into()),
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Store(map_err(e))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, mpsc};
    use std::time::{Duration, Instant};

    use crate::Error;
    use crate::params;
    use crate::store::{Backend, Store};

    /// Many writes queued at once while the writer is busy: they share
    /// transactions, yet a refused or panicking write undoes only itself, each
    /// caller gets its own answer, and every committed write gets its after-commit
    /// callback exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_writes_share_transactions_but_fail_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_sqlite(dir.path().join("coup.db")).expect("open");
        let (hold_tx, hold) = mpsc::channel::<()>();
        let (held_tx, held) = mpsc::channel();
        let holder = {
            let store = store.clone();
            std::thread::spawn(move || {
                store.write_blocking(|_| {
                    held_tx.send(()).expect("signal");
                    hold.recv_timeout(Duration::from_secs(10)).ok();
                    Ok(())
                })
            })
        };
        held.recv().expect("writer held");
        let committed = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut writes = tokio::task::JoinSet::new();
        for i in 0..40_i64 {
            let (store, reader, committed) = (store.clone(), store.clone(), committed.clone());
            writes.spawn(async move {
                let answer = store
                    .write_then(
                        move |tx| {
                            tx.execute(
                                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                params![2000 + i, "queued", 0_i64],
                            )?;
                            match i % 10 {
                                3 => Err(Error::Conflict(format!("refused {i}"))),
                                7 => panic!("body {i} panicked"),
                                _ => Ok(i),
                            }
                        },
                        // Runs after its transaction committed and before the
                        // next one began, so the rows it sees name its
                        // transaction: writes that shared one see the same count.
                        move |value: &i64| {
                            let visible = reader
                                .read_blocking(|tx| Ok(tx.query(QUEUED, &[])?[0].single_int()?))
                                .expect("count committed rows");
                            committed.lock().expect("lock").push((*value, visible));
                        },
                    )
                    .await;
                (i, answer)
            });
            tokio::task::yield_now().await;
        }
        // Let every write queue up behind the held writer, then release it.
        tokio::time::sleep(Duration::from_millis(200)).await;
        hold_tx.send(()).expect("release");
        holder.join().expect("holder").expect("held write");
        while let Some(done) = writes.join_next().await {
            let (i, answer) = done.expect("task");
            match i % 10 {
                3 => assert!(matches!(answer, Err(Error::Conflict(_))), "{i}: {answer:?}"),
                7 => assert!(matches!(answer, Err(Error::Internal(_))), "{i}: {answer:?}"),
                _ => assert_eq!(answer.expect("committed"), i),
            }
        }
        let stored: Vec<i64> = store
            .read_blocking(|tx| {
                tx.query(
                    "SELECT version FROM schema_migrations WHERE version >= 2000 ORDER BY version",
                    &[],
                )?
                .iter()
                .map(|r| Ok(r.int("version")?))
                .collect()
            })
            .expect("read");
        let expected: Vec<i64> = (0..40)
            .filter(|i| i % 10 != 3 && i % 10 != 7)
            .map(|i| 2000 + i)
            .collect();
        assert_eq!(stored, expected);
        let reports = committed.lock().expect("lock").clone();
        assert_eq!(
            reports.len(),
            expected.len(),
            "one callback per committed write"
        );
        let mut seen: Vec<i64> = reports.iter().map(|(i, _)| *i).collect();
        seen.sort_unstable();
        assert_eq!(seen.iter().map(|i| 2000 + i).collect::<Vec<_>>(), expected);
        // Group the writes by the transaction they committed in: each
        // transaction added exactly the rows of the writes that report it.
        let mut transactions = std::collections::BTreeMap::<i64, usize>::new();
        for (_, visible) in &reports {
            *transactions.entry(*visible).or_default() += 1;
        }
        let mut before = 0;
        for (visible, writes) in &transactions {
            assert_eq!(
                usize::try_from(visible - before).expect("grows"),
                *writes,
                "{transactions:?}"
            );
            before = *visible;
        }
        assert!(
            transactions.len() < reports.len() && transactions.values().any(|w| *w > 1),
            "queued writes shared transactions: {transactions:?}"
        );
    }

    const QUEUED: &str = "SELECT count(*) FROM schema_migrations WHERE version >= 2000";

    /// A job for the writer thread that reports how it finished, and can panic
    /// while finishing.
    struct Probe {
        finished: mpsc::Sender<bool>,
        panic_when_finishing: bool,
    }

    impl crate::store::WriteJob for Probe {
        fn run(&mut self, _: &mut dyn crate::store::Tx) -> bool {
            true
        }

        fn finish(self: Box<Self>, outcome: crate::Result<()>) {
            self.finished.send(outcome.is_ok()).expect("report");
            assert!(!self.panic_when_finishing, "finishing panicked");
        }
    }

    /// A job whose finishing (its caller's after-commit callback) panics does
    /// not stop the writer thread: the next job is still taken and committed.
    #[test]
    fn a_panicking_callback_does_not_stop_the_writer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let backend = super::SqliteBackend::open(&dir.path().join("coup.db")).expect("open");
        let (finished_tx, finished) = mpsc::channel();
        let probe = |panic_when_finishing| {
            Box::new(Probe {
                finished: finished_tx.clone(),
                panic_when_finishing,
            })
        };
        assert!(backend.submit(probe(true)).is_ok());
        assert_eq!(finished.recv_timeout(Duration::from_secs(10)), Ok(true));
        // Give a dying thread time to drop its queue.
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            backend.submit(probe(false)).is_ok(),
            "the writer thread is gone"
        );
        assert_eq!(finished.recv_timeout(Duration::from_secs(10)), Ok(true));
    }

    /// Stores opened, written and dropped on several threads at once: closing
    /// must not deadlock (no connection checkpoints on close, see `configure`).
    #[test]
    fn stores_close_cleanly_while_others_close() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (done_tx, done) = mpsc::channel();
        for t in 0..4 {
            let (path, done_tx) = (dir.path().join(format!("t{t}.db")), done_tx.clone());
            std::thread::spawn(move || {
                for i in 0..25_i64 {
                    let store = Store::open_sqlite(&path).expect("open");
                    store
                        .write_blocking(|tx| {
                            tx.execute(
                                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                                params![3000 + i, "close", 0_i64],
                            )?;
                            Ok(())
                        })
                        .expect("write");
                    store
                        .read_blocking(|tx| tx.count("SELECT COUNT(*) FROM schema_migrations", &[]))
                        .expect("read");
                }
                done_tx.send(()).expect("done");
            });
        }
        for _ in 0..4 {
            done.recv_timeout(Duration::from_secs(60))
                .expect("every thread finished (no deadlock on close)");
        }
    }

    #[test]
    fn reads_do_not_wait_for_an_open_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_sqlite(dir.path().join("coup.db")).expect("open");
        let (started_tx, started) = mpsc::channel();
        let (release_tx, release) = mpsc::channel::<()>();
        let writer = {
            let store = store.clone();
            std::thread::spawn(move || {
                store.write_blocking(|tx| {
                    tx.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        params![1000_i64, "held", 0_i64],
                    )?;
                    started_tx.send(()).expect("signal");
                    release.recv_timeout(Duration::from_secs(10)).ok();
                    Ok(())
                })
            })
        };
        started.recv().expect("writer started");
        let begun = Instant::now();
        let seen = store
            .read_blocking(|tx| {
                tx.count(
                    "SELECT COUNT(*) FROM schema_migrations WHERE version = 1000",
                    &[],
                )
            })
            .expect("read during write");
        assert_eq!(seen, 0, "the read sees the last committed snapshot");
        assert!(
            begun.elapsed() < Duration::from_secs(2),
            "the read did not wait for the writer"
        );
        release_tx.send(()).expect("release");
        writer
            .join()
            .expect("writer thread")
            .expect("write commits");
        let after = store
            .read_blocking(|tx| {
                tx.count(
                    "SELECT COUNT(*) FROM schema_migrations WHERE version = 1000",
                    &[],
                )
            })
            .expect("read after");
        assert_eq!(after, 1);
    }

    #[test]
    fn a_failed_write_rolls_back_everything_it_did() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_sqlite(dir.path().join("coup.db")).expect("open");
        let result: crate::Result<()> = store.write_blocking(|tx| {
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                params![2000_i64, "doomed", 0_i64],
            )?;
            Err(crate::Error::Conflict("refused after writing".into()))
        });
        assert!(result.is_err());
        let count = store
            .read_blocking(|tx| {
                tx.count(
                    "SELECT COUNT(*) FROM schema_migrations WHERE version = 2000",
                    &[],
                )
            })
            .expect("read");
        assert_eq!(count, 0);
    }

    /// Transactions and savepoints begun from the statement cache: finished
    /// they commit, dropped they undo only their own changes, and a
    /// transaction SQLite already ended is not undone twice.
    #[test]
    fn scopes_commit_when_finished_and_undo_when_dropped() {
        use super::Scope;
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE t (v INTEGER)")
            .expect("table");
        let count = |conn: &rusqlite::Connection| -> i64 {
            conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
                .expect("count")
        };
        let tx = Scope::begin(&conn, Scope::WRITE).expect("begin");
        conn.execute("INSERT INTO t VALUES (1)", [])
            .expect("insert");
        let kept = Scope::begin(&conn, Scope::SAVEPOINT).expect("savepoint");
        conn.execute("INSERT INTO t VALUES (2)", [])
            .expect("insert");
        kept.finish().expect("release");
        let undone = Scope::begin(&conn, Scope::SAVEPOINT).expect("savepoint");
        conn.execute("INSERT INTO t VALUES (3)", [])
            .expect("insert");
        drop(undone);
        assert!(!conn.is_autocommit(), "the transaction goes on");
        tx.finish().expect("commit");
        assert!(conn.is_autocommit());
        assert_eq!(count(&conn), 2, "rows 1 and 2 committed, 3 undone");

        let tx = Scope::begin(&conn, Scope::WRITE).expect("begin");
        conn.execute("INSERT INTO t VALUES (4)", [])
            .expect("insert");
        drop(tx);
        assert!(conn.is_autocommit());
        assert_eq!(count(&conn), 2, "a dropped transaction is undone");

        let tx = Scope::begin(&conn, Scope::READ).expect("begin");
        conn.execute_batch("ROLLBACK")
            .expect("ended by SQLite's side");
        drop(tx);
        assert!(conn.is_autocommit());
        let again = Scope::begin(&conn, Scope::READ).expect("a new snapshot");
        assert_eq!(count(&conn), 2);
        again.finish().expect("end");
    }

    #[test]
    fn pragmas_are_set() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_sqlite(dir.path().join("coup.db")).expect("open");
        store
            .write_blocking(|tx| {
                let mode = tx.query("PRAGMA journal_mode", &[])?;
                assert_eq!(mode[0].text("journal_mode")?, "wal");
                let fk = tx.query("PRAGMA foreign_keys", &[])?;
                assert_eq!(fk[0].int("foreign_keys")?, 1);
                let unique = tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'dup', 0)",
                    &[],
                );
                assert!(matches!(unique, Err(crate::store::StoreError::UniqueViolation(_))));
                Ok(())
            })
            .expect("pragmas");
    }
}
