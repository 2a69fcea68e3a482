//! Test fixtures shared by the integration tests: a real SQLite file in a temp
//! directory, and users created without paying for argon2 each time.

#![allow(dead_code)]

use std::sync::LazyLock;

use coup_core::ids::*;
use coup_core::model::*;
use coup_core::service::accounts::{self, ValidSignup};
use coup_core::service::{membership, studies};
use coup_core::store::Tx;
use coup_core::{Core, Outcome, Result};

/// One argon2 hash of "study-together-42", computed once per test binary.
pub static PASSWORD_HASH: LazyLock<String> =
    LazyLock::new(|| coup_core::auth::hash_password("study-together-42").expect("hash"));

/// Where a test's store lives; dropping it removes the store.
pub enum Scratch {
    /// A temp directory holding a SQLite file.
    Dir(tempfile::TempDir),
    /// A PostgreSQL schema of its own.
    #[cfg(feature = "postgres")]
    Schema(coup_core::store::postgres::ScratchSchema),
}

pub struct TestCore {
    pub core: Core,
    _scratch: Scratch,
}

impl std::ops::Deref for TestCore {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

/// A fresh, empty, migrated store. The same tests run on every backend: SQLite in a
/// temp directory by default, or PostgreSQL in a schema of their own when
/// `COUP_TEST_POSTGRES_URL` is set (and the `postgres` feature is on).
pub fn store() -> (coup_core::store::Store, Scratch) {
    // CI names PostgreSQL so that these tests run on it; built without the
    // store, they would quietly pass on SQLite alone.
    #[cfg(not(feature = "postgres"))]
    assert!(
        std::env::var_os("CI").is_none() || std::env::var_os("COUP_TEST_POSTGRES_URL").is_none(),
        "COUP_TEST_POSTGRES_URL is set in CI, but these tests were built without the `postgres` feature"
    );
    #[cfg(feature = "postgres")]
    if let Ok(url) = std::env::var("COUP_TEST_POSTGRES_URL") {
        let schema =
            coup_core::store::postgres::ScratchSchema::create(&url).expect("create schema");
        let store = coup_core::store::Store::open_postgres(&url, Some(&schema.name))
            .expect("open postgres store");
        return (store, Scratch::Schema(schema));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store =
        coup_core::store::Store::open_sqlite(dir.path().join("coup.db")).expect("open store");
    (store, Scratch::Dir(dir))
}

pub fn core() -> TestCore {
    let (store, scratch) = store();
    TestCore {
        core: Core::new(store, Default::default()),
        _scratch: scratch,
    }
}

impl TestCore {
    /// Wraps a core whose store lives in `scratch`.
    pub fn wrap(core: Core, scratch: Scratch) -> Self {
        Self {
            core,
            _scratch: scratch,
        }
    }

    /// A user named `name` (email `name@example.com`) with the given platform role.
    pub fn user_with_role(&self, name: &str, role: PlatformRole) -> UserId {
        let signup = ValidSignup {
            email: format!("{name}@example.com"),
            name: name.into(),
        };
        self.write_blocking(|tx| accounts::create_user(tx, &signup, &PASSWORD_HASH, role))
            .expect("create user")
            .value
            .id
    }

    pub fn user(&self, name: &str) -> UserId {
        self.user_with_role(name, PlatformRole::User)
    }

    pub fn study(&self, owner: UserId, name: &str, is_public: bool, policy: JoinPolicy) -> StudyId {
        self.write_blocking(|tx| {
            studies::create(tx, Some(owner), new_study(name, is_public, policy))
        })
        .expect("create study")
        .value
        .id
    }

    /// Makes `user` an active member of `study` (joining, and approving if needed).
    pub fn member(&self, study: StudyId, owner: UserId, user: UserId) {
        let joined = self
            .write_blocking(|tx| membership::join(tx, Some(user), study, Default::default()))
            .expect("join");
        if joined.value.status == MemberStatus::Pending {
            self.write_blocking(|tx| membership::approve(tx, Some(owner), study, user))
                .expect("approve");
        }
    }

    pub fn w<T>(&self, op: impl FnOnce(&mut dyn Tx) -> Result<Outcome<T>>) -> Result<T> {
        self.write_blocking(op).map(|o| o.value)
    }

    pub fn r<T>(&self, op: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        self.read_blocking(op)
    }

    /// Every row of every table, as text: equal snapshots mean nothing changed.
    pub fn snapshot(&self) -> String {
        self.read_blocking(|tx| {
            let mut out = String::new();
            for table in [
                "users",
                "sessions",
                "studies",
                "study_tags",
                "memberships",
                "notices",
                "calendar_events",
                "tasks",
                "files",
                "messages",
                "notifications",
                "reports",
                "audit_log",
            ] {
                for row in tx.query(&format!("SELECT * FROM {table} ORDER BY 1, 2"), &[])? {
                    out.push_str(&format!("{table}: {row:?}\n"));
                }
            }
            Ok(out)
        })
        .expect("snapshot")
    }
}

pub fn new_study(name: &str, is_public: bool, policy: JoinPolicy) -> studies::NewStudy {
    studies::NewStudy {
        name: name.into(),
        description: format!("{name} study"),
        category: "프로그래밍".into(),
        tags: vec!["rust".into()],
        max_members: 10,
        is_public,
        join_policy: policy,
        is_recruiting: true,
    }
}

/// The error code of a result, or "OK".
pub fn code<T>(r: &Result<T>) -> String {
    match r {
        Ok(_) => "OK".into(),
        Err(e) => e.code().to_string(),
    }
}
