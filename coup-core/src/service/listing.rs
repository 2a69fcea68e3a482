//! Paged listings, written once: a [`Filter`] built condition by condition, and
//! [`Listing::page`], which counts the rows the filter keeps and reads one page
//! of them. Every list the services offer goes through it, so the count and the
//! page can never filter differently, and a query's own binds (the viewer a
//! select joins on) are named apart from the filter's instead of being put in
//! front of them by position.

use crate::error::Result;
use crate::model::{Page, PageRequest};
use crate::store::{Row, Tx, Value};

/// A `WHERE` clause and the values it binds, in order.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    sql: String,
    binds: Vec<Value>,
}

impl Filter {
    /// `WHERE condition`, binding `binds` for its `?`s.
    pub(crate) fn new(condition: &str, binds: impl IntoIterator<Item = Value>) -> Self {
        Self {
            sql: format!(" WHERE {condition}"),
            binds: binds.into_iter().collect(),
        }
    }

    /// Every row.
    pub(crate) fn all() -> Self {
        Self::new("1 = 1", [])
    }

    /// And `condition`, binding `binds`.
    pub(crate) fn and(&mut self, condition: &str, binds: impl IntoIterator<Item = Value>) {
        self.sql.push_str(" AND ");
        self.sql.push_str(condition);
        self.binds.extend(binds);
    }

    /// And `condition` with `value` bound, when there is a value.
    pub(crate) fn and_some<T: Into<Value>>(&mut self, condition: &str, value: Option<T>) {
        if let Some(value) = value {
            self.and(condition, [value.into()]);
        }
    }
}

/// The queries of one list.
pub(crate) struct Listing<'a> {
    /// Counts the rows, up to the filter: `SELECT COUNT(*) FROM studies s`.
    pub count: &'a str,
    /// What `count` binds itself, ahead of the filter's values.
    pub count_binds: &'a [Value],
    /// Reads the rows, up to the filter.
    pub select: &'a str,
    /// What `select` binds itself, ahead of the filter's values (the viewer a
    /// study select joins on, for their role).
    pub select_binds: &'a [Value],
    /// The `ORDER BY` terms; they end with a unique column, so pages never
    /// overlap.
    pub order: &'a str,
}

impl Listing<'_> {
    /// The rows `filter` keeps, counted, and the page `page` of them, read by
    /// `load` from the page's SQL and binds.
    pub(crate) fn page<T>(
        &self,
        tx: &mut dyn Tx,
        filter: &Filter,
        page: PageRequest,
        load: impl FnOnce(&mut dyn Tx, &str, &[Value]) -> Result<Vec<T>>,
    ) -> Result<Page<T>> {
        let binds =
            |own: &[Value]| -> Vec<Value> { own.iter().chain(&filter.binds).cloned().collect() };
        let total = tx.count(
            &format!("{}{}", self.count, filter.sql),
            &binds(self.count_binds),
        )?;
        let mut args = binds(self.select_binds);
        args.push(Value::from(page.limit()));
        args.push(Value::from(page.offset()));
        let items = load(
            tx,
            &format!(
                "{}{} ORDER BY {} LIMIT ? OFFSET ?",
                self.select, filter.sql, self.order
            ),
            &args,
        )?;
        Ok(Page {
            items,
            total,
            page: page.page(),
            limit: page.limit(),
        })
    }
}

/// A `load` for [`Listing::page`] that reads each row with `read`.
pub(crate) fn rows<T>(
    read: impl Fn(&Row) -> Result<T>,
) -> impl FnOnce(&mut dyn Tx, &str, &[Value]) -> Result<Vec<T>> {
    move |tx, sql, args| tx.query(sql, args)?.iter().map(read).collect()
}
