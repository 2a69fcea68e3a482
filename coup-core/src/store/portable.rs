//! The rules of the services' portable SQL, in one place: what a statement may
//! contain so that every backend runs it alike, the `?` → `$n` rewrite that
//! PostgreSQL needs, and LIKE patterns.
//!
//! The rewrite understands single-quoted strings and nothing else. A `?` inside
//! a comment or a double-quoted identifier would be numbered too and shift every
//! later bind by one, silently; so portable SQL has neither, and [`check`]
//! (run on every statement in debug builds — that is, in every test, on both
//! stores) refuses a statement that does, or whose `?`s do not match its binds.

/// Why `sql` is not portable SQL with `binds` values bound, if it is not.
pub(crate) fn check(sql: &str, binds: usize) -> Result<(), String> {
    let mut placeholders = 0;
    let mut quoted = false;
    let mut previous = ' ';
    for c in sql.chars() {
        if c == '\'' {
            quoted = !quoted;
        } else if !quoted {
            match (previous, c) {
                (_, '?') => placeholders += 1,
                (_, '"') => return Err("a double-quoted identifier".into()),
                (_, '$') => return Err("a `$` (numbered placeholders are the backend's)".into()),
                ('-', '-') => return Err("a `--` comment".into()),
                ('/', '*') => return Err("a `/* */` comment".into()),
                _ => {}
            }
        }
        previous = c;
    }
    if quoted {
        return Err("an unterminated string".into());
    }
    if placeholders != binds {
        return Err(format!("{placeholders} placeholders for {binds} values"));
    }
    Ok(())
}

/// Panics, in debug builds, when `sql` is not portable (see [`check`]); the
/// backends call it on every statement they prepare.
#[track_caller]
pub(crate) fn debug_check(sql: &str, binds: usize) {
    if cfg!(debug_assertions)
        && let Err(why) = check(sql, binds)
    {
        panic!("not portable SQL ({why}): {sql}");
    }
}

/// `?` → `$1, $2, …`, leaving quoted text alone (PostgreSQL's placeholders).
#[cfg(feature = "postgres")]
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let (mut n, mut quoted) = (0, false);
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// A LIKE pattern matching text that contains `keyword`, case-folded as the
/// stores fold with `LOWER()` (Unicode lower case on both), for
/// `LOWER(column) LIKE ? ESCAPE '\'`.
pub(crate) fn contains_pattern(keyword: &str) -> String {
    let escaped = keyword
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_sql_is_checked() {
        assert_eq!(check("SELECT ? , '?' , ?", 2), Ok(()));
        assert_eq!(check("LIKE ? ESCAPE '\\'", 1), Ok(()));
        assert_eq!(check("SELECT 'it''s' WHERE a = ?", 1), Ok(()));
        assert_eq!(check("SELECT 1 - -1", 0), Ok(()));
        for bad in [
            "SELECT ? -- why?",
            "SELECT ? /* why? */",
            "SELECT \"odd?\" FROM t WHERE a = ?",
            "SELECT $1",
            "SELECT 'open",
        ] {
            assert!(check(bad, 1).is_err(), "{bad}");
        }
        assert!(check("SELECT ?, ?", 1).is_err(), "binds must match");
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(numbered("SELECT ? , '?' , ?"), "SELECT $1 , '?' , $2");
        assert_eq!(numbered("LIKE ? ESCAPE '\\\\'"), "LIKE $1 ESCAPE '\\\\'");
        assert_eq!(numbered("no params"), "no params");
    }

    #[test]
    fn like_patterns_escape_and_fold() {
        assert_eq!(contains_pattern("Ab_%\\"), "%ab\\_\\%\\\\%");
        assert_eq!(contains_pattern("ÉCLAIR Привет"), "%éclair привет%");
    }
}
