//! Portable parameter and column values, and typed access to result rows.

use std::str::FromStr;

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

/// One result row, read by column index.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn value(&self, i: usize) -> Result<&Value, StoreError> {
        self.0.get(i).ok_or_else(|| decode(i, "no such column"))
    }

    /// A non-null integer.
    pub fn int(&self, i: usize) -> Result<i64, StoreError> {
        match self.value(i)? {
            Value::Int(v) => Ok(*v),
            Value::Bool(b) => Ok(i64::from(*b)),
            other => Err(decode(i, format!("expected an integer, found {other:?}"))),
        }
    }

    /// A nullable integer.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        match self.value(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    /// A non-negative count.
    pub fn count(&self, i: usize) -> Result<u64, StoreError> {
        let v = self.int(i)?;
        u64::try_from(v).map_err(|_| decode(i, format!("negative count {v}")))
    }

    /// A non-negative count that fits in 32 bits.
    pub fn small_count(&self, i: usize) -> Result<u32, StoreError> {
        let v = self.int(i)?;
        u32::try_from(v).map_err(|_| decode(i, format!("count {v} out of range")))
    }

    /// A flag (stored as a boolean or as 0/1).
    pub fn bool(&self, i: usize) -> Result<bool, StoreError> {
        match self.value(i)? {
            Value::Bool(b) => Ok(*b),
            Value::Int(v) => Ok(*v != 0),
            other => Err(decode(i, format!("expected a flag, found {other:?}"))),
        }
    }

    /// Non-null text.
    pub fn text(&self, i: usize) -> Result<String, StoreError> {
        match self.value(i)? {
            Value::Text(s) => Ok(s.clone()),
            other => Err(decode(i, format!("expected text, found {other:?}"))),
        }
    }

    /// Nullable text.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        match self.value(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// A value parsed from text: an id or an enum.
    pub fn parse<T: FromStr>(&self, i: usize) -> Result<T, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        let text = self.text(i)?;
        text.parse().map_err(|e: T::Err| decode(i, e.to_string()))
    }

    /// A nullable value parsed from text.
    pub fn opt_parse<T: FromStr>(&self, i: usize) -> Result<Option<T>, StoreError>
    where
        T::Err: std::fmt::Display,
    {
        match self.value(i)? {
            Value::Null => Ok(None),
            _ => self.parse(i).map(Some),
        }
    }

    /// A time stored as milliseconds since the epoch.
    pub fn time(&self, i: usize) -> Result<DateTime<Utc>, StoreError> {
        let ms = self.int(i)?;
        DateTime::from_timestamp_millis(ms).ok_or_else(|| decode(i, format!("bad time {ms}")))
    }

    /// A nullable time.
    pub fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.value(i)? {
            Value::Null => Ok(None),
            _ => self.time(i).map(Some),
        }
    }
}

fn decode(column: usize, message: impl Into<String>) -> StoreError {
    StoreError::Decode {
        column,
        message: message.into(),
        source: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_decode_typed_values_and_refuse_wrong_ones() {
        let id = StudyId::new();
        let now = DateTime::from_timestamp_millis(1_700_000_000_123).expect("time");
        let row = Row(vec![
            Value::from(id),
            Value::from(now),
            Value::Int(1),
            Value::Null,
            Value::from(StudyRole::Owner),
            Value::Int(-1),
        ]);
        assert_eq!(row.parse::<StudyId>(0).expect("id"), id);
        assert_eq!(row.time(1).expect("time"), now);
        assert!(row.bool(2).expect("flag"));
        assert_eq!(row.opt_text(3).expect("null"), None);
        assert_eq!(row.parse::<StudyRole>(4).expect("enum"), StudyRole::Owner);
        assert!(row.count(5).is_err());
        assert!(row.text(2).is_err());
        assert!(row.parse::<UserId>(4).is_err());
        assert!(row.int(9).is_err());
    }
}
