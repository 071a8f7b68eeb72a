use async_trait::async_trait;
use serde_json::Value;

use crate::document::{Document, ETag};
use crate::error::Error;
use crate::query::Query;

/// A partitioned JSON document store with optimistic concurrency, shaped after Cosmos DB.
///
/// Documents live in containers. Within a container a document is addressed by its partition
/// key and its id, so the same id in two partitions names two documents. Every write gives the
/// document a new [`ETag`]; [`replace`](DocumentStore::replace) and
/// [`delete`](DocumentStore::delete) can require that the stored ETag still matches, so that
/// two writers cannot overwrite each other's changes unnoticed.
///
/// Bodies are JSON objects, and a body's `id` field, if present, must equal the document id.
/// Ids and container names must not contain `/`, `\`, `?` or `#`. Ids and partition keys are
/// non-empty and at most 1023 bytes long, container names at most 255 bytes. Requests that break
/// these rules fail with [`Error::InvalidArgument`].
///
/// Every operation on a container that was never created fails with
/// [`Error::ContainerNotFound`].
#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// Creates a container; creating an existing container succeeds and changes nothing.
    async fn create_container(&self, container: &str) -> Result<(), Error>;

    /// Stores a new document, failing with [`Error::Conflict`] if the id is taken in that
    /// partition.
    async fn create(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
        body: &Value,
    ) -> Result<ETag, Error>;

    /// Reads a document with its current ETag, or fails with [`Error::NotFound`].
    async fn read(&self, container: &str, partition_key: &str, id: &str)
    -> Result<Document, Error>;

    /// Overwrites a document if its stored ETag equals `if_match`.
    ///
    /// Fails with [`Error::PreconditionFailed`] if the document was written since, and with
    /// [`Error::NotFound`] if it no longer exists. The check and the write are one atomic step.
    async fn replace(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
        body: &Value,
        if_match: &ETag,
    ) -> Result<ETag, Error>;

    /// Creates or overwrites a document without any condition.
    async fn upsert(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
        body: &Value,
    ) -> Result<ETag, Error>;

    /// Removes a document. With `if_match`, removes it only while its stored ETag equals that value.
    ///
    /// Fails with [`Error::NotFound`] if the document does not exist and with
    /// [`Error::PreconditionFailed`] if the ETag does not match.
    async fn delete(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
        if_match: Option<&ETag>,
    ) -> Result<(), Error>;

    /// Returns the documents of one partition that match `query`.
    ///
    /// Without [`Query::order`] the order of the result is unspecified.
    async fn query(
        &self,
        container: &str,
        partition_key: &str,
        query: &Query,
    ) -> Result<Vec<Document>, Error>;
}
