//! SQL text of every statement. Values, including field names of queries, travel as bind
//! parameters; the only text assembled at run time is parameter numbers and sort keywords.

use tokio_postgres::types::ToSql;

use crate::query::{Query, SortDirection};

// A new ETag is a random UUID, so it never returns to an earlier value. gen_random_uuid() is
// built into PostgreSQL 13 and later.

pub const CREATE_CONTAINER: &str = "
INSERT INTO dbagent_store.containers (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";

pub const CONTAINER_EXISTS: &str = "
SELECT EXISTS (SELECT 1 FROM dbagent_store.containers WHERE name = $1)";

pub const INSERT: &str = "
INSERT INTO dbagent_store.documents (container, partition_key, id, body, etag)
VALUES ($1, $2, $3, $4, gen_random_uuid()::text)
ON CONFLICT (container, partition_key, id) DO NOTHING
RETURNING etag";

pub const UPSERT: &str = "
INSERT INTO dbagent_store.documents (container, partition_key, id, body, etag)
VALUES ($1, $2, $3, $4, gen_random_uuid()::text)
ON CONFLICT (container, partition_key, id)
DO UPDATE SET body = EXCLUDED.body, etag = EXCLUDED.etag, updated_at = now()
RETURNING etag";

/// One row if the container exists, with null body and etag if the document does not, so one
/// round trip distinguishes `ContainerNotFound` from `NotFound`.
pub const READ: &str = "
SELECT d.body, d.etag
FROM dbagent_store.containers AS c
LEFT JOIN dbagent_store.documents AS d
    ON d.container = c.name AND d.partition_key = $2 AND d.id = $3
WHERE c.name = $1";

/// A conditional write in one statement. A concurrent writer that updated the row first makes
/// PostgreSQL re-check the WHERE clause against the new version, whose etag no longer matches,
/// so of several replaces with the same ETag exactly one updates the row.
pub const REPLACE: &str = "
UPDATE dbagent_store.documents
SET body = $4, etag = gen_random_uuid()::text, updated_at = now()
WHERE container = $1 AND partition_key = $2 AND id = $3 AND etag = $5
RETURNING etag";

/// Deletes unconditionally when `$4` is null.
pub const DELETE: &str = "
DELETE FROM dbagent_store.documents
WHERE container = $1 AND partition_key = $2 AND id = $3 AND ($4::text IS NULL OR etag = $4::text)
RETURNING etag";

/// A SELECT built for one [`Query`], with the parameters it binds.
pub struct Select {
    pub text: String,
    pub params: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Select {
    pub fn param_refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params
            .iter()
            .map(|param| param.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

/// Builds the statement for `query` within one partition. Rows have the columns id, body and
/// etag.
pub fn select(container: &str, partition_key: &str, query: &Query) -> Select {
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![
        Box::new(container.to_owned()),
        Box::new(partition_key.to_owned()),
    ];
    let mut text = String::from(
        "SELECT id, body, etag FROM dbagent_store.documents \
         WHERE container = $1 AND partition_key = $2",
    );

    for filter in &query.filters {
        params.push(Box::new(filter.field.clone()));
        params.push(Box::new(filter.value.clone()));
        let (field, value) = (params.len() - 1, params.len());
        text.push_str(&format!(" AND body -> ${field}::text = ${value}::jsonb"));
    }

    // The id comes last in every ORDER BY so that equal sort values come back in a stable order.
    match &query.order {
        Some(order) => {
            params.push(Box::new(order.field.clone()));
            let direction = match order.direction {
                SortDirection::Ascending => "ASC",
                SortDirection::Descending => "DESC",
            };
            let field = params.len();
            text.push_str(&format!(
                " ORDER BY body -> ${field}::text {direction} NULLS LAST, id"
            ));
        }
        None => text.push_str(" ORDER BY id"),
    }

    let limit = query.limit.map(i64::from);
    params.push(Box::new(limit));
    text.push_str(&format!(" LIMIT ${}::bigint", params.len()));

    Select { text, params }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_without_conditions_orders_by_id() {
        let select = select("runs", "p", &Query::new());

        assert!(
            select.text.ends_with("ORDER BY id LIMIT $3::bigint"),
            "{}",
            select.text
        );
        assert_eq!(select.params.len(), 3);
    }

    #[test]
    fn select_numbers_filter_parameters_in_order() {
        let query = Query::new().filter_eq("state", "queued").filter_eq("n", 1);

        let select = select("runs", "p", &query);

        assert!(
            select.text.contains("body -> $3::text = $4::jsonb"),
            "{}",
            select.text
        );
        assert!(
            select.text.contains("body -> $5::text = $6::jsonb"),
            "{}",
            select.text
        );
        assert_eq!(select.params.len(), 7);
    }

    #[test]
    fn select_binds_field_names_instead_of_pasting_them() {
        let field = "x'; DROP TABLE dbagent_store.documents; --";
        let query = Query::new()
            .filter_eq(field, 1)
            .order_by(field, SortDirection::Ascending);

        let select = select("runs", "p", &query);

        assert!(!select.text.contains("DROP"), "{}", select.text);
    }

    #[test]
    fn select_sorts_descending_with_missing_fields_last() {
        let query = Query::new().order_by("created_at", SortDirection::Descending);

        let select = select("runs", "p", &query);

        assert!(
            select
                .text
                .contains("ORDER BY body -> $3::text DESC NULLS LAST, id"),
            "{}",
            select.text
        );
    }
}
