//! Paged listings, written once: [`Sql`] fragments that carry their own binds, a
//! [`Filter`] built condition by condition (the keyword search, `LIKE` with its
//! escaping, among them), and [`Listing::page`], which counts the rows the
//! filter keeps and reads one page of them. Every paged list the services offer
//! goes through it, so the count and the page can never filter differently, and
//! no `?` depends on where another fragment put its value.

use crate::error::Result;
use crate::model::{Page, PageRequest};
use crate::store::portable::contains_pattern;
use crate::store::{Row, Tx, Value};

/// A piece of SQL and the values its `?`s bind, in order. Fragments are
/// appended together with their binds, so no query relies on another part
/// having put its values in front (a study select's viewer, a filter's
/// keyword): each `?` travels with its value.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sql {
    text: String,
    binds: Vec<Value>,
}

impl Sql {
    /// `text`, binding `binds` for its `?`s.
    pub(crate) fn new(text: impl Into<String>, binds: impl IntoIterator<Item = Value>) -> Self {
        Self {
            text: text.into(),
            binds: binds.into_iter().collect(),
        }
    }

    /// This SQL followed by `text`, which binds `binds`.
    pub(crate) fn then(mut self, text: &str, binds: impl IntoIterator<Item = Value>) -> Self {
        self.text.push_str(text);
        self.binds.extend(binds);
        self
    }

    /// This SQL followed by `other` and its binds.
    fn followed_by(&self, other: &Sql) -> Sql {
        self.clone().then(&other.text, other.binds.iter().cloned())
    }

    /// The statement's text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The values of its `?`s, in order.
    pub(crate) fn binds(&self) -> &[Value] {
        &self.binds
    }
}

/// A `WHERE` clause and the values it binds, built condition by condition.
#[derive(Debug, Clone)]
pub(crate) struct Filter(Sql);

impl Filter {
    /// `WHERE condition`, binding `binds` for its `?`s.
    pub(crate) fn new(condition: &str, binds: impl IntoIterator<Item = Value>) -> Self {
        Self(Sql::new(format!(" WHERE {condition}"), binds))
    }

    /// Every row.
    pub(crate) fn all() -> Self {
        Self::new("1 = 1", [])
    }

    /// And `condition`, binding `binds`.
    pub(crate) fn and(&mut self, condition: &str, binds: impl IntoIterator<Item = Value>) {
        self.0.text.push_str(" AND ");
        self.0.text.push_str(condition);
        self.0.binds.extend(binds);
    }

    /// And `condition` with `value` bound, when there is a value.
    pub(crate) fn and_some<T: Into<Value>>(&mut self, condition: &str, value: Option<T>) {
        if let Some(value) = value {
            self.and(condition, [value.into()]);
        }
    }

    /// And one of `columns` contains `keyword`, case folded as both stores fold
    /// it (see [`contains_pattern`]).
    pub(crate) fn and_contains(&mut self, columns: &[&str], keyword: &str) {
        let pattern = Value::from(contains_pattern(keyword));
        let any = columns
            .iter()
            .map(|column| format!("LOWER({column}) LIKE ? ESCAPE '\\'"))
            .collect::<Vec<_>>()
            .join(" OR ");
        self.and(&format!("({any})"), columns.iter().map(|_| pattern.clone()));
    }
}

/// The queries of one list.
pub(crate) struct Listing {
    /// Counts the rows, up to the filter: `SELECT COUNT(*) FROM studies s`.
    pub count: Sql,
    /// Reads the rows, up to the filter (with its own binds, such as the viewer
    /// a study select joins on for their role).
    pub select: Sql,
    /// The `ORDER BY` terms; they end with a unique column, so pages never
    /// overlap.
    pub order: &'static str,
}

impl Listing {
    /// The rows `filter` keeps, counted, and the page `page` of them, read by
    /// `load` from the page's SQL and binds.
    pub(crate) fn page<T>(
        &self,
        tx: &mut dyn Tx,
        filter: &Filter,
        page: PageRequest,
        load: impl FnOnce(&mut dyn Tx, &str, &[Value]) -> Result<Vec<T>>,
    ) -> Result<Page<T>> {
        let count = self.count.followed_by(&filter.0);
        let total = tx.count(count.text(), count.binds())?;
        let select = self.select.followed_by(&filter.0).then(
            &format!(" ORDER BY {} LIMIT ? OFFSET ?", self.order),
            [Value::from(page.limit()), Value::from(page.offset())],
        );
        let items = load(tx, select.text(), select.binds())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_carry_their_own_binds() {
        let mut filter = Filter::new("s.category = ?", [Value::from("math")]);
        filter.and_some("s.is_recruiting = ?", None::<bool>);
        filter.and_contains(&["s.name", "s.description"], "50%");
        let select = Sql::new(
            "SELECT s.id FROM studies s JOIN memberships m ON m.user_id = ?",
            [Value::from("me")],
        )
        .followed_by(&filter.0);
        assert_eq!(
            select.text(),
            "SELECT s.id FROM studies s JOIN memberships m ON m.user_id = ? WHERE s.category = ? AND \
             (LOWER(s.name) LIKE ? ESCAPE '\\' OR LOWER(s.description) LIKE ? ESCAPE '\\')"
        );
        assert_eq!(
            select.binds(),
            [
                Value::from("me"),
                Value::from("math"),
                Value::from("%50\\%%"),
                Value::from("%50\\%%"),
            ]
        );
        crate::store::portable::check(select.text(), select.binds().len()).expect("portable");
    }
}
