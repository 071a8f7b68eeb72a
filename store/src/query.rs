use serde_json::Value;

/// A query within one partition: equality filters on top-level body fields, an optional sort
/// on one top-level field and an optional row limit.
///
/// ```
/// use store::{Query, SortDirection};
///
/// let query = Query::new()
///     .filter_eq("state", "queued")
///     .order_by("created_at", SortDirection::Descending)
///     .limit(10);
/// assert_eq!(query.filters.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Conditions that must all hold.
    pub filters: Vec<Filter>,
    pub order: Option<OrderBy>,
    /// Maximum number of documents to return.
    pub limit: Option<u32>,
}

/// A condition that a top-level body field equals a JSON value.
///
/// Equality is JSON equality: `1` equals `1.0`, objects and arrays must match as a whole, and a
/// `null` value matches only a field that is present and null, not a missing field.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: String,
    pub value: Value,
}

/// Sort on a top-level body field.
///
/// Numbers sort by value and strings as text (`PgStore` uses the database's default collation).
/// How values of different JSON types sort against each other depends on the backend. In
/// `PgStore`, documents without the field come last in either direction.
// NOTE: Cosmos DB leaves documents without the field out of an ORDER BY result, so portable
// callers sort only on fields that every document of the container has.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub field: String,
    pub direction: SortDirection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDirection {
    Ascending,
    Descending,
}

impl Query {
    /// Starts a query that returns every document of the partition.
    pub fn new() -> Query {
        Query::default()
    }

    /// Adds the condition that `field` equals `value`.
    pub fn filter_eq(mut self, field: impl Into<String>, value: impl Into<Value>) -> Query {
        self.filters.push(Filter {
            field: field.into(),
            value: value.into(),
        });
        self
    }

    /// Sorts by `field`, replacing any earlier sort.
    pub fn order_by(mut self, field: impl Into<String>, direction: SortDirection) -> Query {
        self.order = Some(OrderBy {
            field: field.into(),
            direction,
        });
        self
    }

    /// Returns at most `limit` documents.
    pub fn limit(mut self, limit: u32) -> Query {
        self.limit = Some(limit);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_accumulate_in_order() {
        let query = Query::new().filter_eq("a", 1).filter_eq("b", "x");

        assert_eq!(query.filters[0].field, "a");
        assert_eq!(query.filters[1].value, Value::from("x"));
    }

    #[test]
    fn later_order_by_replaces_earlier() {
        let query = Query::new()
            .order_by("a", SortDirection::Ascending)
            .order_by("b", SortDirection::Descending);

        let order = query.order.unwrap();
        assert_eq!(order.field, "b");
        assert_eq!(order.direction, SortDirection::Descending);
    }

    #[test]
    fn new_query_has_no_limit() {
        assert_eq!(Query::new().limit, None);
    }
}
