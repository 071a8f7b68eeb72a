use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::document::{Document, DocumentKey, ETag};
use crate::error::Error;
use crate::query::Query;
use crate::store::DocumentStore;

/// A stored document whose body was deserialized into `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedDocument<T> {
    pub id: String,
    pub partition_key: String,
    pub value: T,
    pub etag: ETag,
}

impl<T: DeserializeOwned> TypedDocument<T> {
    /// Deserializes the body of `document`, naming it in the error if the body does not fit `T`.
    pub fn from_document(container: &str, document: Document) -> Result<Self, Error> {
        let value =
            serde_json::from_value(document.body).map_err(|source| Error::Serialization {
                key: DocumentKey::new(container, &document.partition_key, &document.id),
                source,
            })?;
        Ok(TypedDocument {
            id: document.id,
            partition_key: document.partition_key,
            value,
            etag: document.etag,
        })
    }
}

/// Operations of [`DocumentStore`] that take and return the caller's own types.
///
/// Implemented for every store, including `dyn DocumentStore`, so `use store::DocumentStoreExt`
/// is all a caller needs. Values must serialize to JSON objects.
#[async_trait]
pub trait DocumentStoreExt: DocumentStore {
    async fn create_typed<T: Serialize + Sync>(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
        value: &T,
    ) -> Result<ETag, Error> {
        let body = to_body(container, partition_key, id, value)?;
        self.create(container, partition_key, id, &body).await
    }

    async fn read_typed<T: DeserializeOwned>(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
    ) -> Result<TypedDocument<T>, Error> {
        let document = self.read(container, partition_key, id).await?;
        TypedDocument::from_document(container, document)
    }

    async fn replace_typed<T: Serialize + Sync>(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
        value: &T,
        if_match: &ETag,
    ) -> Result<ETag, Error> {
        let body = to_body(container, partition_key, id, value)?;
        self.replace(container, partition_key, id, &body, if_match)
            .await
    }

    async fn upsert_typed<T: Serialize + Sync>(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
        value: &T,
    ) -> Result<ETag, Error> {
        let body = to_body(container, partition_key, id, value)?;
        self.upsert(container, partition_key, id, &body).await
    }

    async fn query_typed<T: DeserializeOwned>(
        &self,
        container: &str,
        partition_key: &str,
        query: &Query,
    ) -> Result<Vec<TypedDocument<T>>, Error> {
        let documents = self.query(container, partition_key, query).await?;
        documents
            .into_iter()
            .map(|document| TypedDocument::from_document(container, document))
            .collect()
    }
}

impl<S: DocumentStore + ?Sized> DocumentStoreExt for S {}

fn to_body<T: Serialize>(
    container: &str,
    partition_key: &str,
    id: &str,
    value: &T,
) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|source| Error::Serialization {
        key: DocumentKey::new(container, partition_key, id),
        source,
    })
}
