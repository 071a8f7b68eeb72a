//! The [`DocumentStore`] operations of [`PgStore`].

use async_trait::async_trait;
use serde_json::Value;
use tokio_postgres::types::ToSql;
use tracing::instrument;

use super::statements::{
    Lookup, checked_key, container_exists, container_not_found, etag_of, explain_no_match,
    query_opt, read_row, run, select_documents, write_error,
};
use super::{PgStore, errors, sql};
use crate::document::{Document, ETag};
use crate::error::Error;
use crate::query::Query;
use crate::store::DocumentStore;
use crate::validate;

#[async_trait]
impl DocumentStore for PgStore {
    #[instrument(level = "debug", skip_all, fields(container = container), err(level = "debug"))]
    async fn create_container(&self, container: &str) -> Result<(), Error> {
        validate::container_name(container)?;
        let context = || format!("creating container {container:?}");
        let client = self.client(context).await?;

        run(&client, sql::CREATE_CONTAINER, &[&container])
            .await
            .map_err(|error| errors::from_pg(context(), error))?;
        Ok(())
    }

    #[instrument(
        level = "debug",
        skip_all,
        fields(container = container, partition_key = partition_key, id = id),
        err(level = "debug")
    )]
    async fn create(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
        body: &Value,
    ) -> Result<ETag, Error> {
        let key = checked_key(container, partition_key, id, Some(body))?;
        let context = || format!("creating {key}");
        let client = self.client(context).await?;

        let row = query_opt(
            &client,
            sql::INSERT,
            &[&container, &partition_key, &id, body],
        )
        .await
        .map_err(|error| write_error(context(), container, error))?;
        match row {
            Some(row) => etag_of(&row).map_err(|error| errors::from_pg(context(), error)),
            None => Err(Error::Conflict { key }),
        }
    }

    #[instrument(
        level = "debug",
        skip_all,
        fields(container = container, partition_key = partition_key, id = id),
        err(level = "debug")
    )]
    async fn read(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
    ) -> Result<Document, Error> {
        let key = checked_key(container, partition_key, id, None)?;
        let context = || format!("reading {key}");
        let client = self.client(context).await?;

        let found = read_row(&client, &key)
            .await
            .map_err(|error| errors::from_pg(context(), error))?;
        match found {
            Lookup::ContainerMissing => Err(container_not_found(container)),
            Lookup::DocumentMissing => Err(Error::NotFound { key }),
            Lookup::Found { body, etag } => Ok(Document {
                id: key.id,
                partition_key: key.partition_key,
                body,
                etag,
            }),
        }
    }

    #[instrument(
        level = "debug",
        skip_all,
        fields(container = container, partition_key = partition_key, id = id),
        err(level = "debug")
    )]
    async fn replace(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
        body: &Value,
        if_match: &ETag,
    ) -> Result<ETag, Error> {
        let key = checked_key(container, partition_key, id, Some(body))?;
        let context = || format!("replacing {key}");
        let client = self.client(context).await?;

        let expected = if_match.as_str();
        let params: [&(dyn ToSql + Sync); 5] = [&container, &partition_key, &id, body, &expected];
        let row = query_opt(&client, sql::REPLACE, &params)
            .await
            .map_err(|error| errors::from_pg(context(), error))?;
        match row {
            Some(row) => etag_of(&row).map_err(|error| errors::from_pg(context(), error)),
            None => Err(explain_no_match(&client, &key, Some(if_match), context).await),
        }
    }

    #[instrument(
        level = "debug",
        skip_all,
        fields(container = container, partition_key = partition_key, id = id),
        err(level = "debug")
    )]
    async fn upsert(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
        body: &Value,
    ) -> Result<ETag, Error> {
        let key = checked_key(container, partition_key, id, Some(body))?;
        let context = || format!("upserting {key}");
        let client = self.client(context).await?;

        let row = query_opt(
            &client,
            sql::UPSERT,
            &[&container, &partition_key, &id, body],
        )
        .await
        .map_err(|error| write_error(context(), container, error))?;
        let row = row.expect("an upsert always returns the written row");
        etag_of(&row).map_err(|error| errors::from_pg(context(), error))
    }

    #[instrument(
        level = "debug",
        skip_all,
        fields(container = container, partition_key = partition_key, id = id),
        err(level = "debug")
    )]
    async fn delete(
        &self,
        container: &str,
        partition_key: &str,
        id: &str,
        if_match: Option<&ETag>,
    ) -> Result<(), Error> {
        let key = checked_key(container, partition_key, id, None)?;
        let context = || format!("deleting {key}");
        let client = self.client(context).await?;

        let expected = if_match.map(ETag::as_str);
        let params: [&(dyn ToSql + Sync); 4] = [&container, &partition_key, &id, &expected];
        let row = query_opt(&client, sql::DELETE, &params)
            .await
            .map_err(|error| errors::from_pg(context(), error))?;
        match row {
            Some(_) => Ok(()),
            None => Err(explain_no_match(&client, &key, if_match, context).await),
        }
    }

    #[instrument(
        level = "debug",
        skip_all,
        fields(container = container, partition_key = partition_key),
        err(level = "debug")
    )]
    async fn query(
        &self,
        container: &str,
        partition_key: &str,
        query: &Query,
    ) -> Result<Vec<Document>, Error> {
        validate::container_name(container)?;
        validate::partition_key(partition_key)?;
        let context = || format!("querying partition {partition_key:?} of container {container:?}");
        let client = self.client(context).await?;

        let documents = select_documents(&client, container, partition_key, query)
            .await
            .map_err(|error| errors::from_pg(context(), error))?;

        // An empty result may come from a missing container, which must not pass silently.
        if documents.is_empty() {
            let exists = container_exists(&client, container)
                .await
                .map_err(|error| errors::from_pg(context(), error))?;
            if !exists {
                return Err(container_not_found(container));
            }
        }
        Ok(documents)
    }
}
