use serde::Serialize;
use serde::de::DeserializeOwned;
use store::{DocumentStore, DocumentStoreExt, ETag};

use crate::{Error, Result};

/// Attempts of a read-modify-write before giving up on a record that keeps changing.
const MAX_ATTEMPTS: u32 = 8;

/// A record as read, with the ETag that a conditional replace must match.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub etag: ETag,
}

/// The container, partition and id of one record.
pub(crate) struct Location<'a> {
    pub kind: &'static str,
    pub container: &'static str,
    pub partition_key: &'a str,
    pub id: &'a str,
}

impl Location<'_> {
    pub(crate) async fn read<T: DeserializeOwned>(
        &self,
        store: &dyn DocumentStore,
    ) -> Result<Versioned<T>> {
        match store
            .read_typed(self.container, self.partition_key, self.id)
            .await
        {
            Ok(document) => Ok(Versioned {
                value: document.value,
                etag: document.etag,
            }),
            Err(store::Error::NotFound { .. }) => Err(self.not_found()),
            Err(error) => Err(error.into()),
        }
    }

    pub(crate) async fn read_optional<T: DeserializeOwned>(
        &self,
        store: &dyn DocumentStore,
    ) -> Result<Option<Versioned<T>>> {
        match self.read(store).await {
            Ok(versioned) => Ok(Some(versioned)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Applies `change` to the current value and writes it back if no other writer changed it in between,
    /// re-reading and re-applying on a lost race. `change` returns `false` to leave the record
    /// unchanged, which makes repeated handling of one message a no-op.
    pub(crate) async fn update<T, F>(&self, store: &dyn DocumentStore, mut change: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned + Sync,
        F: FnMut(&mut T) -> bool,
    {
        for _ in 0..MAX_ATTEMPTS {
            let mut current: Versioned<T> = self.read(store).await?;
            if !change(&mut current.value) {
                return Ok(current.value);
            }
            let replaced = store
                .replace_typed(
                    self.container,
                    self.partition_key,
                    self.id,
                    &current.value,
                    &current.etag,
                )
                .await;
            match replaced {
                Ok(_) => return Ok(current.value),
                Err(store::Error::PreconditionFailed { .. }) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(Error::Contended {
            kind: self.kind,
            id: self.id.to_string(),
            attempts: MAX_ATTEMPTS,
        })
    }

    fn not_found(&self) -> Error {
        Error::NotFound {
            kind: self.kind,
            id: self.id.to_string(),
        }
    }
}
