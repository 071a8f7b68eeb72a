//! Statement execution and row decoding shared by the operations in `documents`.

use deadpool_postgres::Object;
use serde_json::Value;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use super::{PgStore, errors, sql};
use crate::document::{Document, DocumentKey, ETag};
use crate::error::Error;
use crate::query::Query;
use crate::validate;

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl PgStore {
    /// Takes a connection from the pool. `context` names the operation for the error message.
    pub(super) async fn client(&self, context: impl FnOnce() -> String) -> Result<Object, Error> {
        self.pool
            .get()
            .await
            .map_err(|error| errors::from_pool(context(), error))
    }
}

/// Outcome of the READ statement.
pub(super) enum Lookup {
    ContainerMissing,
    DocumentMissing,
    Found { body: Value, etag: ETag },
}

/// Validates the address and, for writes, the body, and returns the key for error messages.
pub(super) fn checked_key(
    container: &str,
    partition_key: &str,
    id: &str,
    body: Option<&Value>,
) -> Result<DocumentKey, Error> {
    validate::document_key(container, partition_key, id)?;
    let key = DocumentKey::new(container, partition_key, id);
    if let Some(body) = body {
        validate::body(&key, body)?;
    }
    Ok(key)
}

pub(super) fn container_not_found(container: &str) -> Error {
    Error::ContainerNotFound {
        container: container.to_owned(),
    }
}

/// Maps a failed INSERT: a foreign key violation means the container does not exist.
pub(super) fn write_error(context: String, container: &str, error: tokio_postgres::Error) -> Error {
    if error.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) {
        return container_not_found(container);
    }
    errors::from_pg(context, error)
}

// Statements go through the connection's prepared statement cache, which saves the parse
// round trip on every later use of the same text.

pub(super) async fn run(
    client: &Object,
    text: &str,
    params: Params<'_>,
) -> Result<u64, tokio_postgres::Error> {
    let statement = client.prepare_cached(text).await?;
    client.execute(&statement, params).await
}

pub(super) async fn query_opt(
    client: &Object,
    text: &str,
    params: Params<'_>,
) -> Result<Option<Row>, tokio_postgres::Error> {
    let statement = client.prepare_cached(text).await?;
    client.query_opt(&statement, params).await
}

pub(super) async fn read_row(
    client: &Object,
    key: &DocumentKey,
) -> Result<Lookup, tokio_postgres::Error> {
    let params: [&(dyn ToSql + Sync); 3] = [&key.container, &key.partition_key, &key.id];
    let Some(row) = query_opt(client, sql::READ, &params).await? else {
        return Ok(Lookup::ContainerMissing);
    };
    let body: Option<Value> = row.try_get("body")?;
    let etag: Option<String> = row.try_get("etag")?;
    Ok(match (body, etag) {
        (Some(body), Some(etag)) => Lookup::Found {
            body,
            etag: ETag::new(etag),
        },
        _ => Lookup::DocumentMissing,
    })
}

/// Finds out why a conditional UPDATE or DELETE matched no row and returns the error to report.
pub(super) async fn explain_no_match(
    client: &Object,
    key: &DocumentKey,
    if_match: Option<&ETag>,
    context: impl FnOnce() -> String,
) -> Error {
    let key = key.clone();
    match read_row(client, &key).await {
        Err(error) => errors::from_pg(context(), error),
        Ok(Lookup::ContainerMissing) => container_not_found(&key.container),
        Ok(Lookup::Found { .. }) if if_match.is_some() => Error::PreconditionFailed {
            key,
            expected: if_match.cloned().expect("checked by the guard"),
        },
        // Without an ETag a document found now was created after the DELETE ran, so the
        // DELETE itself saw nothing to remove.
        Ok(Lookup::Found { .. } | Lookup::DocumentMissing) => Error::NotFound { key },
    }
}

pub(super) async fn container_exists(
    client: &Object,
    container: &str,
) -> Result<bool, tokio_postgres::Error> {
    let row = query_opt(client, sql::CONTAINER_EXISTS, &[&container]).await?;
    let row = row.expect("SELECT EXISTS returns one row");
    row.try_get(0)
}

pub(super) async fn select_documents(
    client: &Object,
    container: &str,
    partition_key: &str,
    query: &Query,
) -> Result<Vec<Document>, tokio_postgres::Error> {
    let select = sql::select(container, partition_key, query);
    let statement = client.prepare_cached(&select.text).await?;
    let rows = client.query(&statement, &select.param_refs()).await?;
    rows.iter()
        .map(|row| {
            Ok(Document {
                id: row.try_get("id")?,
                partition_key: partition_key.to_owned(),
                body: row.try_get("body")?,
                etag: ETag::new(row.try_get::<_, String>("etag")?),
            })
        })
        .collect()
}

pub(super) fn etag_of(row: &Row) -> Result<ETag, tokio_postgres::Error> {
    row.try_get::<_, String>("etag").map(ETag::new)
}
