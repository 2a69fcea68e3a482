//! Numbered SQL migrations, one definition each: a file `NNNN_name.sql` in a
//! migrations folder, named once in that folder's list ([`migrations!`]), which
//! embeds it at build time and takes its version and name from the file name.
//!
//! Two schemas use it: the server's (`migrations/`, applied by
//! `store::migrate` on SQLite and PostgreSQL alike — the services' one set of
//! queries needs one schema) and the client's offline cache
//! (`migrations/client-cache/`, applied by `client::cache` through
//! `PRAGMA user_version`). Each list has a test that compares it with its
//! folder, so a file added, renamed or copied per backend without the list (or
//! the other way round) fails the build's tests.

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

impl Migration {
    /// The migration in the file `stem`.sql: `NNNN_name`, four digits (its
    /// version), an underscore and its name. Evaluated at compile time by
    /// `migrations!`, so a malformed name does not build.
    pub const fn new(stem: &'static str, sql: &'static str) -> Self {
        let bytes = stem.as_bytes();
        assert!(
            bytes.len() > 5 && bytes[4] == b'_',
            "a migration file is named NNNN_name.sql"
        );
        let mut version = 0;
        let mut i = 0;
        while i < 4 {
            assert!(
                bytes[i].is_ascii_digit(),
                "a migration file starts with four digits"
            );
            version = version * 10 + (bytes[i] - b'0') as i64;
            i += 1;
        }
        let (_, name) = stem.split_at(5);
        Self { version, name, sql }
    }
}

/// The migrations of a folder below the workspace root, in order:
/// `migrations!("migrations": "0001_init", "0002_more")`.
macro_rules! migrations {
    ($dir:literal: $($stem:literal),+ $(,)?) => {
        &[$($crate::migration::Migration::new(
            $stem,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../", $dir, "/", $stem, ".sql")),
        )),+]
    };
}
pub(crate) use migrations;

/// Checks a list against its folder: the same `.sql` files, in order, numbered
/// 1, 2, 3, …, with the same text; no other files but `README.md`, and no folders
/// but those in `nested` (a per-backend copy would be one).
#[cfg(test)]
pub(crate) fn assert_matches_folder(dir: &str, list: &[Migration], nested: &[&str]) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(dir);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&root).expect("the migrations folder") {
        let entry = entry.expect("entry");
        let name = entry.file_name().into_string().expect("utf-8 name");
        if entry.file_type().expect("type").is_dir() {
            assert!(
                nested.contains(&name.as_str()),
                "{dir}/{name}/: one folder per schema, a file per migration"
            );
        } else if let Some(stem) = name.strip_suffix(".sql") {
            let sql = std::fs::read_to_string(entry.path()).expect("read");
            files.push((stem.to_owned(), sql));
        } else {
            assert_eq!(name, "README.md", "{dir}/{name}: not a migration");
        }
    }
    files.sort();
    let listed: Vec<(String, String)> = list
        .iter()
        .map(|m| (format!("{:04}_{}", m.version, m.name), m.sql.to_owned()))
        .collect();
    let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&listed),
        names(&files),
        "{dir}: the list and the folder"
    );
    assert_eq!(listed, files, "{dir}: the embedded text");
    for (i, m) in list.iter().enumerate() {
        assert_eq!(m.version, i as i64 + 1, "{dir}: numbered without gaps");
    }
}
