//! The server's schema migrations: the numbered SQL files in `migrations/`, one
//! list ([`MIGRATIONS`]) that every backend applies — SQLite and PostgreSQL run
//! the same services' queries, so they run the same schema. Applied in order
//! inside one transaction and recorded in the `schema_migrations` table;
//! applying again is a no-op. The runner speaks only [`Tx`], so every backend
//! records its migrations the same way.

use chrono::Utc;

use super::{StoreError, Tx};
use crate::error::Result;
pub use crate::migration::Migration;
use crate::migration::migrations;
use crate::params;

/// The schema history, for every backend.
pub const MIGRATIONS: &[Migration] = migrations!("migrations":
    "0001_init",
    "0002_task_client_ids",
    "0003_study_listing_order",
    "0004_chat_change_feed",
);

/// Applies the migrations `tx` has not recorded yet and returns their versions.
pub fn apply(tx: &mut dyn Tx, migrations: &[Migration]) -> Result<Vec<i64>> {
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )?;
    let mut applied = Vec::new();
    for m in migrations {
        if tx.exists(
            "SELECT 1 FROM schema_migrations WHERE version = ?",
            params![m.version],
        )? {
            continue;
        }
        tx.execute_batch(m.sql).map_err(|e| StoreError::Migration {
            version: m.version,
            name: m.name,
            source: Box::new(e),
        })?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            params![m.version, m.name, Utc::now()],
        )?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        applied.push(m.version);
    }
    Ok(applied)
}

/// The versions recorded as applied, in order.
pub fn applied(tx: &mut dyn Tx) -> Result<Vec<i64>> {
    tx.query(
        "SELECT version FROM schema_migrations ORDER BY version",
        &[],
    )?
    .iter()
    .map(|r| r.int("version").map_err(Into::into))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn migrations_apply_once_and_are_recorded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested").join("coup.db");
        let store = Store::open_sqlite(&path).expect("first open migrates");
        let versions = store.read_blocking(applied).expect("read");
        assert_eq!(versions, vec![1, 2, 3, 4]);
        drop(store);
        let store = Store::open_sqlite(&path).expect("second open");
        let again = store
            .write_blocking(|tx| apply(tx, MIGRATIONS))
            .expect("re-apply");
        assert!(again.is_empty(), "re-running is a no-op");
        assert_eq!(
            store.read_blocking(applied).expect("read"),
            vec![1, 2, 3, 4]
        );
    }

    /// One folder, one list: every file in `migrations/` is in [`MIGRATIONS`]
    /// and nothing else is; no per-backend folder has come back beside it.
    #[test]
    fn the_list_is_the_folder() {
        crate::migration::assert_matches_folder("migrations", MIGRATIONS, &["client-cache"]);
    }

    #[test]
    fn a_failing_migration_names_itself_and_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_sqlite(dir.path().join("coup.db")).expect("open");
        let broken = [Migration {
            version: 99,
            name: "broken",
            sql: "CREATE TABLE half_done (x INTEGER); THIS IS NOT SQL;",
        }];
        let err = store
            .write_blocking(|tx| apply(tx, &broken))
            .expect_err("fails");
        assert!(err.to_string().contains("migration 99 (broken)"), "{err}");
        let tables = store
            .read_blocking(|tx| {
                tx.count(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_done'",
                    &[],
                )
            })
            .expect("read");
        assert_eq!(tables, 0);
        assert_eq!(
            store.read_blocking(applied).expect("read"),
            vec![1, 2, 3, 4]
        );
    }
}
