//! The PostgreSQL backend (feature `postgres`): the same services and queries as the
//! SQLite store, over `tokio-postgres` with a `deadpool` pool.
//!
//! The services speak the synchronous [`Tx`] contract, so this backend drives the
//! async driver on a small runtime of its own, from the blocking threads the store
//! already runs transactions on. Queries are the services' portable SQL with one
//! shim: `?` placeholders become `$1, $2, …`.
//!
//! Writes take a transaction-scoped advisory lock, so writes are serialized across
//! every node sharing the database just as SQLite serializes them in one process;
//! chat sequences and capacity checks stay exact. Reads run on read-only
//! repeatable-read snapshots and never wait for writes.

use std::error::Error as StdError;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use postgres_types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

use super::migrate::{self, MIGRATIONS};
use super::portable::{debug_check, numbered};
use super::{Backend, Row, StoreError, Tx, TxBody, Value};
use crate::error::{Error, Result};

/// Any number that names CoUp's write lock among the database's advisory locks.
const WRITE_LOCK_KEY: i64 = 0x436f_5570_5772_6974;
const POOL_SIZE: usize = 16;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The driver's runtime: lives for the whole process, so dropping a backend from
/// async code never drops a runtime.
static DRIVER: LazyLock<std::result::Result<tokio::runtime::Runtime, Arc<std::io::Error>>> =
    LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("coup-postgres")
            .enable_all()
            .build()
            .map_err(Arc::new)
    });

/// Runs a driver future to completion from synchronous code, wherever that code
/// runs: a plain thread, a blocking-pool thread, or (in tests and embedders) a
/// thread that is itself driving an async runtime.
fn block_on<F>(future: F) -> Result<F::Output, StoreError>
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    use tokio::runtime::{Handle, RuntimeFlavor};
    let runtime = DRIVER.as_ref().map_err(|e| {
        StoreError::unavailable("starting the PostgreSQL driver's runtime", e.clone())
    })?;
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => Ok(runtime.block_on(future)),
        Ok(RuntimeFlavor::CurrentThread) => {
            std::thread::scope(|scope| scope.spawn(|| runtime.block_on(future)).join()).map_err(
                |_| StoreError::unavailable("driving PostgreSQL", "the driver's thread panicked"),
            )
        }
        Ok(_) => Ok(tokio::task::block_in_place(|| runtime.block_on(future))),
    }
}

/// The PostgreSQL store.
pub struct PostgresBackend {
    pool: Pool,
    /// Orders this process's writes (and their after-commit hooks) like SQLite's.
    local_writes: Mutex<()>,
}

impl PostgresBackend {
    /// Connects to `url` (`postgres://user@host:port/db`), optionally with every
    /// table in `schema`, and applies pending migrations.
    pub fn connect(url: &str, schema: Option<&str>) -> Result<Self> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::unavailable("reading the PostgreSQL URL", e))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        if let Some(schema) = schema {
            config.options(format!("-c search_path={schema}"));
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = block_on(async {
            Pool::builder(manager)
                .max_size(POOL_SIZE)
                .wait_timeout(Some(CONNECT_TIMEOUT))
                .create_timeout(Some(CONNECT_TIMEOUT))
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .build()
        })?
        .map_err(|e| StoreError::unavailable("building the PostgreSQL pool", e))?;
        let backend = Self {
            pool,
            local_writes: Mutex::new(()),
        };
        backend.write(
            &mut |tx| {
                migrate::apply(tx, MIGRATIONS)?;
                Ok(())
            },
            &mut || {},
        )?;
        Ok(backend)
    }

    fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        block_on(self.pool.get())?
            .map_err(|e| StoreError::unavailable("taking a PostgreSQL connection", e))
    }
}

impl Backend for PostgresBackend {
    fn write(&self, body: TxBody<'_>, after_commit: &mut dyn FnMut()) -> Result<()> {
        let _order = self.local_writes.lock().unwrap_or_else(|p| p.into_inner());
        let mut client = self.client()?;
        let tx = block_on(client.transaction())?.map_err(map_err)?;
        block_on(tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK_KEY]))?
            .map_err(map_err)?;
        body(&mut PgTx(&tx))?;
        block_on(tx.commit())?.map_err(map_err)?;
        after_commit();
        Ok(())
    }

    fn read(&self, body: TxBody<'_>) -> Result<()> {
        let mut client = self.client()?;
        let tx = block_on(
            client
                .build_transaction()
                .read_only(true)
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .start(),
        )?
        .map_err(map_err)?;
        body(&mut PgTx(&tx))
    }

    fn ping(&self) -> Result<()> {
        self.read(&mut |tx| {
            tx.query("SELECT 1", &[])?;
            Ok(())
        })
    }
}

struct PgTx<'t>(&'t deadpool_postgres::Transaction<'t>);

fn sql_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Tx for PgTx<'_> {
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        debug_check(sql, params.len());
        let rows = block_on(async {
            let statement = self.0.prepare_cached(&numbered(sql)).await?;
            self.0.query(&statement, &sql_params(params)).await
        })?
        .map_err(map_err)?;
        let columns: Arc<[String]> = rows
            .first()
            .map(|row| {
                row.columns()
                    .iter()
                    .map(|column| column.name().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        rows.iter().map(|row| row_values(&columns, row)).collect()
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        debug_check(sql, params.len());
        block_on(async {
            let statement = self.0.prepare_cached(&numbered(sql)).await?;
            self.0.execute(&statement, &sql_params(params)).await
        })?
        .map_err(map_err)
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError> {
        block_on(self.0.batch_execute(sql))?.map_err(map_err)
    }
}

fn row_values(columns: &Arc<[String]>, row: &tokio_postgres::Row) -> Result<Row, StoreError> {
    let decode = |i: usize, e: tokio_postgres::Error| StoreError::Decode {
        column: columns[i].clone(),
        message: "the driver cannot read it".into(),
        source: Some(e.into()),
    };
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let value = match *column.type_() {
            Type::INT8 => row
                .try_get::<_, Option<i64>>(i)
                .map_err(|e| decode(i, e))?
                .map(Value::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)
                .map_err(|e| decode(i, e))?
                .map(|v| Value::Int(v.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)
                .map_err(|e| decode(i, e))?
                .map(|v| Value::Int(v.into())),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)
                .map_err(|e| decode(i, e))?
                .map(Value::Bool),
            Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => row
                .try_get::<_, Option<String>>(i)
                .map_err(|e| decode(i, e))?
                .map(Value::Text),
            ref other => {
                return Err(StoreError::Decode {
                    column: column.name().to_owned(),
                    message: format!("unsupported column type {other}"),
                    source: None,
                });
            }
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row::new(columns.clone(), values))
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::Text(s) => s.to_sql(ty, out),
            Value::Bool(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT8
                | Type::INT4
                | Type::INT2
                | Type::TEXT
                | Type::VARCHAR
                | Type::BOOL
                | Type::NAME
                | Type::BPCHAR
        )
    }

    to_sql_checked!();
}

fn map_err(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(code) if *code == SqlState::UNIQUE_VIOLATION => StoreError::UniqueViolation(e.into()),
        Some(code) if code.code().starts_with("08") || *code == SqlState::ADMIN_SHUTDOWN => {
            StoreError::unavailable("running a statement", e)
        }
        None if e.is_closed() => StoreError::unavailable("running a statement", e),
        // The driver's own Display says only "db error"; the server's message
        // (kept in the source as well) is what says what went wrong.
        _ => StoreError::Query(match e.as_db_error() {
            Some(db) => Box::new(QueryFailed {
                message: db.message().to_owned(),
                source: e,
            }),
            None => e.into(),
        }),
    }
}

/// A statement PostgreSQL refused: its message, and the driver's error.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct QueryFailed {
    message: String,
    #[source]
    source: tokio_postgres::Error,
}

/// A schema of its own for one test run, dropped with everything in it on drop.
pub struct ScratchSchema {
    url: String,
    /// The schema's name.
    pub name: String,
}

impl ScratchSchema {
    /// Creates `coup_test_<random>` in the database at `url`.
    pub fn create(url: &str) -> Result<Self> {
        let name = format!("coup_test_{}", uuid::Uuid::new_v4().simple());
        admin_statement(url, &format!("CREATE SCHEMA {name}"))?;
        Ok(Self {
            url: url.to_owned(),
            name,
        })
    }
}

impl Drop for ScratchSchema {
    fn drop(&mut self) {
        if let Err(e) = admin_statement(
            &self.url,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        ) {
            tracing::warn!(error = %e, schema = self.name, "could not drop a scratch schema");
        }
    }
}

fn admin_statement(url: &str, sql: &str) -> Result<()> {
    let sql = sql.to_owned();
    let url = url.to_owned();
    // A thread of its own: the caller may be inside an async runtime.
    std::thread::spawn(move || -> Result<()> {
        block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, NoTls)
                .await
                .map_err(map_err)?;
            let driver = tokio::spawn(connection);
            let result = client.batch_execute(&sql).await.map_err(map_err);
            drop(client);
            let _ = driver.await;
            result
        })?
        .map_err(Error::from)
    })
    .join()
    .map_err(|_| Error::Internal("scratch schema thread panicked".into()))?
}
