//! Portable parameter and column values, and typed access to result rows.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::ids::*;
use crate::model::*;

/// A parameter or column value every backend can carry.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (counts, sequence numbers, times in ms since the epoch).
    Int(i64),
    /// Text (ids, enums, user content).
    Text(String),
    /// A boolean flag.
    Bool(bool),
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Self::Int(i64::from(v))
    }
}
impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Self::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Self::Int(v.timestamp_millis())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

macro_rules! text_values {
    (display: $($id:ty),+; enums: $($e:ty),+) => {
        $(impl From<$id> for Value {
            fn from(v: $id) -> Self { Self::Text(v.to_string()) }
        })+
        $(impl From<$e> for Value {
            fn from(v: $e) -> Self { Self::Text(v.as_str().to_owned()) }
        })+
    };
}

text_values!(
    display: UserId, StudyId, NoticeId, EventId, TaskId, MessageId, FileId, NotificationId,
        ReportId, AuditId;
    enums: PlatformRole, UserStatus, StudyRole, MemberStatus, JoinPolicy, Priority,
        NotificationKind, ReportTarget, ReportStatus, ReportAction, AuditAction
);

/// Builds a parameter slice: `params![a, b]` is `&[Value::from(a), Value::from(b)]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[$crate::store::Value] };
    ($($v:expr),+ $(,)?) => { &[$($crate::store::Value::from($v)),+] as &[$crate::store::Value] };
}

/// A record read from a row, each field from the column of its own name:
/// `read_row!(r => Task { id: parse, title: text, due_at: opt_time })` is
/// `Ok(Task { id: r.parse("id")?, title: r.text("title")?, due_at: r.opt_time("due_at")? })`.
/// A field names its column only where they differ (`name: text("file_name")`),
/// and a field that is not a column says what it is in braces (`tags: { Vec::new() }`),
/// so the field list is the one place that says which column fills what.
macro_rules! read_row {
    ($r:ident => $record:ident { $($field:ident: $how:tt $(($column:literal))?),* $(,)? }) => {
        Ok($record { $($field: read_row!(@value $r, $field, $how $(($column))?)),* })
    };
    (@value $r:ident, $field:ident, { $($value:tt)* }) => { { $($value)* } };
    (@value $r:ident, $field:ident, $read:ident) => { $r.$read(stringify!($field))? };
    (@value $r:ident, $field:ident, $read:ident ($column:literal)) => { $r.$read($column)? };
}
pub(crate) use read_row;

/// One result row, read by column name: its values and the names of its
/// columns, as the query's `SELECT` list (or its `AS` aliases) gave them. A
/// reader names what it reads, so a reordered `SELECT` cannot hand it another
/// column; a name the row lacks, or has twice, is a [`StoreError::Decode`].
/// Names compare ignoring ASCII case, since PostgreSQL folds unquoted aliases
/// to lower case and SQLite keeps them as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// A row of `values`, named by `columns` in the same order (one list shared
    /// by every row of a query).
    pub fn new(columns: Arc<[String]>, values: Vec<Value>) -> Self {
        debug_assert_eq!(columns.len(), values.len(), "a name for every value");
        Self { columns, values }
    }

    fn value(&self, name: &str) -> Result<&Value, StoreError> {
        Ok(&self.values[self.position(name)?])
    }

    fn position(&self, name: &str) -> Result<usize, StoreError> {
        let mut named = self
            .columns
            .iter()
            .enumerate()
            .filter(|(_, column)| column.eq_ignore_ascii_case(name));
        match (named.next(), named.next()) {
            (Some((at, _)), None) => Ok(at),
            (None, _) => Err(decode(name, "no such column")),
            (Some(_), Some(_)) => Err(decode(name, "two columns have this name")),
        }
    }

    /// The integer of a row with a single column, whatever its name: a
    /// `COUNT(*)`, which each store names its own way.
    pub fn single_int(&self) -> Result<i64, StoreError> {
        match self.columns.as_ref() {
            [only] => self.int(only),
            _ => Err(decode(&self.columns.join(", "), "expected a single column")),
        }
    }

    /// A non-null integer.
    pub fn int(&self, name: &str) -> Result<i64, StoreError> {
        match self.value(name)? {
            Value::Int(v) => Ok(*v),
            Value::Bool(b) => Ok(i64::from(*b)),
            other => Err(decode(
                name,
                format!("expected an integer, found {other:?}"),
            )),
        }
    }

    /// A nullable integer.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.value(name)? {
            Value::Null => Ok(None),
            _ => self.int(name).map(Some),
        }
    }

    /// A non-negative count.
    pub fn count(&self, name: &str) -> Result<u64, StoreError> {
        let v = self.int(name)?;
        u64::try_from(v).map_err(|_| decode(name, format!("negative count {v}")))
    }

    /// A non-negative count that fits in 32 bits.
    pub fn small_count(&self, name: &str) -> Result<u32, StoreError> {
        let v = self.int(name)?;
        u32::try_from(v).map_err(|_| decode(name, format!("count {v} out of range")))
    }

    /// A flag (stored as a boolean or as 0/1).
    pub fn bool(&self, name: &str) -> Result<bool, StoreError> {
        match self.value(name)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(v) => Ok(*v != 0),
            other => Err(decode(name, format!("expected a flag, found {other:?}"))),
        }
    }

    /// Non-null text.
    pub fn text(&self, name: &str) -> Result<String, StoreError> {
        self.str(name).map(str::to_owned)
    }

    /// Non-null text moved out of the row, which then holds NULL in its place:
    /// a hot reader takes each text once instead of copying it.
    pub fn take_text(&mut self, name: &str) -> Result<String, StoreError> {
        let at = self.position(name)?;
        match std::mem::replace(&mut self.values[at], Value::Null) {
            Value::Text(s) => Ok(s),
            other => {
                let message = format!("expected text, found {other:?}");
                self.values[at] = other;
                Err(decode(name, message))
            }
        }
    }

    /// Non-null text, borrowed from the row (what is parsed needs no copy).
    fn str(&self, name: &str) -> Result<&str, StoreError> {
        match self.value(name)? {
            Value::Text(s) => Ok(s),
            other => Err(decode(name, format!("expected text, found {other:?}"))),
        }
    }

    /// Nullable text.
    pub fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.value(name)? {
            Value::Null => Ok(None),
            _ => self.text(name).map(Some),
        }
    }

    /// A value parsed from text: an id or an enum.
    pub fn parse<T: FromStr>(&self, name: &str) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        self.str(name)?
            .parse()
            .map_err(|e: T::Err| decode(name, e.to_string()))
    }

    /// A nullable value parsed from text.
    pub fn opt_parse<T: FromStr>(&self, name: &str) -> Result<Option<T>, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        match self.value(name)? {
            Value::Null => Ok(None),
            _ => self.parse(name).map(Some),
        }
    }

    /// A time stored as milliseconds since the epoch.
    pub fn time(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        let ms = self.int(name)?;
        DateTime::from_timestamp_millis(ms).ok_or_else(|| decode(name, format!("bad time {ms}")))
    }

    /// A nullable time.
    pub fn opt_time(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.value(name)? {
            Value::Null => Ok(None),
            _ => self.time(name).map(Some),
        }
    }
}

fn decode(column: &str, message: impl Into<String>) -> StoreError {
    StoreError::Decode {
        column: column.to_owned(),
        message: message.into(),
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_decode_typed_values_by_name_and_refuse_wrong_ones() {
        let id = StudyId::new();
        let now = DateTime::from_timestamp_millis(1_700_000_000_123).expect("time");
        let columns: Arc<[String]> = [
            "id",
            "created_at",
            "is_public",
            "bio",
            "role",
            "delta",
            "ID2",
        ]
        .map(String::from)
        .into();
        let row = Row::new(
            columns,
            vec![
                Value::from(id),
                Value::from(now),
                Value::Int(1),
                Value::Null,
                Value::from(StudyRole::Owner),
                Value::Int(-1),
                Value::Int(2),
            ],
        );
        assert_eq!(row.parse::<StudyId>("id").expect("id"), id);
        assert_eq!(row.time("created_at").expect("time"), now);
        assert!(row.bool("is_public").expect("flag"));
        assert_eq!(row.opt_text("bio").expect("null"), None);
        assert_eq!(
            row.parse::<StudyRole>("role").expect("enum"),
            StudyRole::Owner
        );
        // PostgreSQL folds unquoted aliases to lower case.
        assert_eq!(row.int("id2").expect("any case"), 2);
        assert!(row.count("delta").is_err());
        assert!(row.text("is_public").is_err());
        assert!(row.parse::<UserId>("role").is_err());
        assert!(row.int("missing").is_err());
        assert!(row.single_int().is_err(), "more than one column");
    }

    #[test]
    fn taken_text_leaves_null_and_a_wrong_type_is_kept() {
        let columns: Arc<[String]> = ["name", "count"].map(String::from).into();
        let mut row = Row::new(columns, vec![Value::from("Rust Study"), Value::Int(3)]);
        assert_eq!(row.take_text("NAME").expect("text"), "Rust Study");
        assert_eq!(row.opt_text("name").expect("null"), None, "moved out");
        assert!(row.take_text("name").is_err(), "taken twice");
        assert!(row.take_text("count").is_err(), "not text");
        assert_eq!(
            row.int("count").expect("kept"),
            3,
            "a refused take changes nothing"
        );
        assert!(row.take_text("missing").is_err());
    }

    #[test]
    fn a_name_two_columns_share_is_refused_not_guessed() {
        let columns: Arc<[String]> = ["name", "name"].map(String::from).into();
        let row = Row::new(columns, vec![Value::from("study"), Value::from("owner")]);
        let error = row.text("name").expect_err("ambiguous");
        assert!(error.to_string().contains("two columns"), "{error}");
        let count = Row::new(["COUNT(*)".to_owned()].into(), vec![Value::Int(3)]);
        assert_eq!(count.single_int().expect("count"), 3);
    }
}
