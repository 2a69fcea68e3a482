//! Schema migrations: numbered SQL files under `migrations/<backend>/`, embedded at
//! build time, applied in order inside one transaction and recorded in the
//! `schema_migrations` table. Applying again is a no-op. The runner speaks only
//! [`Tx`], so every backend records its migrations the same way.

use chrono::Utc;

use super::{StoreError, Tx};
use crate::error::Result;
use crate::params;

/// One schema change.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number; migrations apply in increasing order.
    pub version: i64,
    /// A short name.
    pub name: &'static str,
    /// The SQL to run.
    pub sql: &'static str,
}

/// The SQLite schema history.
pub const SQLITE_MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../../../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "task_client_ids",
        sql: include_str!("../../../migrations/sqlite/0002_task_client_ids.sql"),
    },
    Migration {
        version: 3,
        name: "study_listing_order",
        sql: include_str!("../../../migrations/sqlite/0003_study_listing_order.sql"),
    },
    Migration {
        version: 4,
        name: "chat_change_feed",
        sql: include_str!("../../../migrations/sqlite/0004_chat_change_feed.sql"),
    },
];

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
            message: e.to_string(),
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
    .map(|r| r.int(0).map_err(Into::into))
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
            .write_blocking(|tx| apply(tx, SQLITE_MIGRATIONS))
            .expect("re-apply");
        assert!(again.is_empty(), "re-running is a no-op");
        assert_eq!(
            store.read_blocking(applied).expect("read"),
            vec![1, 2, 3, 4]
        );
    }

    #[test]
    fn the_postgres_schema_stays_equal_to_the_sqlite_one() {
        // One set of queries serves both, so the schemas may differ only in the header.
        let body = |sql: &'static str| sql.lines().skip(1).collect::<Vec<_>>();
        let postgres = [
            include_str!("../../../migrations/postgres/0001_init.sql"),
            include_str!("../../../migrations/postgres/0002_task_client_ids.sql"),
            include_str!("../../../migrations/postgres/0003_study_listing_order.sql"),
            include_str!("../../../migrations/postgres/0004_chat_change_feed.sql"),
        ];
        assert_eq!(SQLITE_MIGRATIONS.len(), postgres.len());
        for (sqlite, postgres) in SQLITE_MIGRATIONS.iter().zip(postgres) {
            assert_eq!(
                body(sqlite.sql),
                body(postgres),
                "migration {}",
                sqlite.version
            );
        }
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
